"""Liveness, readiness and metrics, for the platform that runs mcreg."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import Field

from mcreg.api.deps import Hooks, Log, Measured, ReadSide, Registered, Visitor
from mcreg.api.problems import MEDIA_TYPE, PROBLEMS, Kind, Problem, ProblemError
from mcreg.api.rest.common import PROBLEM_RESPONSES, PROBLEM_SCHEMA, Output
from mcreg.registry.errors import NotFound

router = APIRouter(
    tags=["operations"],
    responses={
        401: PROBLEM_RESPONSES[401],
        404: PROBLEM_RESPONSES[404],
        503: {"model": Problem, "description": "Not ready", "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}},
    },
)


class Health(Output):
    status: str = Field(examples=["ok"])


class WebhookReadiness(Output):
    lag: int = Field(description="Events recorded that the webhook outbox has not yet owed to anyone")
    owed: int = Field(description="Deliveries owed to enabled webhooks")
    behind: int = Field(
        description="Events from the earliest one still owed to an enabled webhook to the head (0: all delivered)"
    )
    retrying: int = Field(description="Enabled webhooks whose receiver failed the last attempt, waiting to retry")
    disabled: int = Field(description="Webhooks disabled after failing too often; their owners see why")


class Readiness(Output):
    status: str = Field(
        examples=["ready"],
        description="`ready`, or `degraded` while a read model is stopped before an event it cannot apply",
    )
    head: int = Field(description="The highest position in the event log")
    lag: dict[str, int] = Field(description="Events each read model has still to apply")
    stopped: dict[str, int] = Field(
        default_factory=dict,
        description="The read models stopped before an event they cannot apply, and that event's position: "
        "held in quarantine until an operator has it skipped or retried (`mcreg project --skip` / `--retry`)",
    )
    webhooks: WebhookReadiness | None = Field(
        default=None,
        description="How webhook deliveries fare, in counts only: which webhooks, whose and where is for their "
        "owners (`GET /v1/webhooks`). A receiver that fails does not make the registry unready",
    )


@router.get("/healthz", summary="The process is up and answers")
async def healthz(_: Visitor) -> Health:
    return Health(status="ok")


@router.get("/readyz", summary="The database answers; how far behind each read model is, and which are stopped")
def readyz(_: Visitor, registry: Registered, read_models: ReadSide, log: Log, webhooks: Hooks) -> Readiness:
    """200 while the database answers: `degraded`, still 200, while a read model is stopped before a poison event,
    since writes and the other read models still work (decision 55); 503 when the database does not answer."""
    try:
        head = registry.recorder.max_notification_id() or 0
        lag = read_models.lag() | {log.name: log.lag()}
        stopped = read_models.stopped()
        deliveries = WebhookReadiness(**asdict(webhooks.health()))
    except Exception as error:  # any failure to reach the database means not ready
        raise ProblemError("not-ready", f"the database does not answer: {type(error).__name__}") from None
    return Readiness(
        status="degraded" if stopped else "ready", head=head, lag=lag, stopped=stopped, webhooks=deliveries
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics: requests, latency, events appended, projection lag",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(_: Visitor, measured: Measured) -> Response:
    return Response(generate_latest(measured.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/problems/{slug}", summary="What a problem type means")
def describe_problem(slug: str, _: Visitor) -> Kind:
    if slug not in PROBLEMS:
        raise NotFound("problem type", slug)
    return PROBLEMS[slug]
