"""The transparency log over HTTP: signed checkpoints, leaves, inclusion and consistency proofs.

Checkpoints, the key and proofs are public; a leaf names its event's
aggregate and type, as the event feed does, so leaves are for auditors and
the operator, like the feed (decision 21).

A client keeps the checkpoint it last saw, asks for a consistency proof from
it to today's, and for inclusion proofs of the events it cares about; it
checks all of them with RFC 9162's verification and the log's public key
(``GET /v1/log/key``), trusting nothing the registry says otherwise. A log
key replaced by a rotation signed a note announcing its successor: ``GET
/v1/log/keys`` lists every key with that note, for an auditor to follow.
Hashes are lowercase hex; the checkpoint's own root line is base64, as
C2SP's checkpoint format has it.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from mcreg.api.deps import Auditor, Log, Visitor
from mcreg.api.rest.common import PROBLEM_RESPONSES
from mcreg.registry.errors import InvalidInput

router = APIRouter(prefix="/v1/log", tags=["transparency log"], responses=PROBLEM_RESPONSES)

TEXT: dict[int | str, dict[str, Any]] = {200: {"content": {"text/plain": {}}}}
EXAMPLE = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", examples=[EXAMPLE])]
BIGINT = 2**63 - 1
"""Sizes, indexes and positions are PostgreSQL bigints."""


class LogKey(BaseModel):
    number: int = Field(description="1 for the log's first key; the highest signs the log's checkpoints now")
    key: str = Field(
        description="The key as a signed-note verifier key: origin+key ID+base64(0x01 || Ed25519 public key)"
    )
    announcement: str | None = Field(
        description="The C2SP signed note, signed by the key before, that announces this key and the last tree size "
        "the key before signs (text: mcreg/log-key-rotation/v1, origin, size, verifier key); null for the first key"
    )


class Leaf(BaseModel):
    index: int = Field(description="The leaf's index in the tree (0-based, dense)")
    position: int = Field(description="The event's position in the event log (its notification id)")
    aggregate_id: UUID | None = Field(description="The event's aggregate, as stored now; null if it is gone")
    aggregate_version: int | None
    type: str | None = Field(examples=["Credential.Issued"])
    topic: str | None = Field(examples=["registry.credential:Credential.Issued"])
    hash: Hash = Field(description="The logged leaf hash: SHA-256(0x00 || leaf data)")


class InclusionProof(BaseModel):
    index: int
    position: int
    tree_size: int
    leaf_hash: Hash
    hashes: list[Hash] = Field(description="The audit path, leaf end first (RFC 9162 §2.1.3)")
    root: Hash = Field(description="The root of the tree of `tree_size` leaves")


class ConsistencyProof(BaseModel):
    from_size: int
    to_size: int
    from_root: Hash
    to_root: Hash
    hashes: list[Hash] = Field(description="The consistency proof (RFC 9162 §2.1.4)")


@router.get(
    "/checkpoint",
    summary="The latest signed checkpoint (C2SP signed note)",
    response_class=PlainTextResponse,
    responses=TEXT,
)
def get_checkpoint(_: Visitor, log: Log) -> PlainTextResponse:
    return PlainTextResponse(log.checkpoint(), media_type="text/plain; charset=utf-8")


@router.get(
    "/key",
    summary="The log's public key, as a signed-note verifier key",
    response_class=PlainTextResponse,
    responses=TEXT,
)
def get_log_key(_: Visitor, log: Log) -> PlainTextResponse:
    return PlainTextResponse(log.verifier.key() + "\n", media_type="text/plain; charset=utf-8")


@router.get("/keys", summary="Every key the log has had, each after the first with the note announcing it")
def get_log_keys(_: Visitor, log: Log) -> list[LogKey]:
    """A checkpoint verifies under the key that signed it, up to the size that key handed over at."""
    return [
        LogKey(number=number, key=announced.key.key(), announcement=announced.announcement)
        for number, announced in enumerate(log.announced(), start=1)
    ]


@router.get("/leaves/{index}", summary="A leaf of the log and the event it stands for, for auditors and the operator")
def get_leaf(_: Auditor, log: Log, index: Annotated[int, Path(ge=0, le=BIGINT, description="The leaf index")]) -> Leaf:
    found = log.leaf(index)
    return Leaf(
        index=found.index,
        position=found.position,
        aggregate_id=found.aggregate_id,
        aggregate_version=found.aggregate_version,
        type=found.topic.split(":", 1)[-1] if found.topic else None,
        topic=found.topic,
        hash=found.hash.hex(),
    )


@router.get("/proof/inclusion", summary="Proof that an event is in the tree of a given size")
def prove_inclusion(
    _: Visitor,
    log: Log,
    index: Annotated[int | None, Query(ge=0, le=BIGINT, description="The leaf index")] = None,
    position: Annotated[
        int | None, Query(ge=1, le=BIGINT, description="Or the event's position in the event log")
    ] = None,
    size: Annotated[
        int | None, Query(ge=1, le=BIGINT, description="The tree size; the latest checkpoint's by default")
    ] = None,
) -> InclusionProof:
    if (index is None) == (position is None):
        raise InvalidInput("index", "give either index or position")
    proof = log.inclusion_proof(index, size, position=position)
    return InclusionProof(
        index=proof.index,
        position=proof.position,
        tree_size=proof.tree_size,
        leaf_hash=proof.leaf_hash.hex(),
        hashes=[h.hex() for h in proof.hashes],
        root=proof.root.hex(),
    )


@router.get(
    "/proof/consistency",
    summary="Proof that the tree of one size extends the tree of a smaller one",
)
def prove_consistency(
    _: Visitor,
    log: Log,
    from_size: Annotated[
        int,
        Query(
            alias="from",
            ge=1,
            le=BIGINT,
            description="The older tree size; at least 1, as every tree extends the empty one (RFC 9162 §2.1.4)",
        ),
    ],
    to_size: Annotated[
        int | None, Query(alias="to", ge=1, le=BIGINT, description="The newer, at least `from`; the latest by default")
    ] = None,
) -> ConsistencyProof:
    """Equal sizes answer an empty proof between equal roots; `from` above `to` is refused."""
    proof = log.consistency_proof(from_size, to_size)
    return ConsistencyProof(
        from_size=proof.from_size,
        to_size=proof.to_size,
        from_root=proof.from_root.hex(),
        to_root=proof.to_root.hex(),
        hashes=[h.hex() for h in proof.hashes],
    )
