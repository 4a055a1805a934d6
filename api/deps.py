"""What handlers depend on, as ``Annotated`` aliases: who calls, and the registry, stores and services they use.

Each alias names what a handler gets, so a handler's signature documents
itself: ``actor: Caller, registry: Registered``. Everything comes from the
application's state, which ``create_app`` fills from the composition root.
The getters are ``async`` though they wait for nothing: FastAPI runs a plain
``def`` dependency in a worker thread, a hop that costs more than the getter.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mcreg.api.auth import caller, role, visitor
from mcreg.api.observability import Metrics
from mcreg.api.read_sides import ReadRouter, Served
from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.projections.transparency_log import TransparencyLog
from mcreg.registry.application import Registry
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.services.exports import CredentialExports
from mcreg.services.verification import CredentialVerifier
from mcreg.settings import Settings
from mcreg.stores.api_keys import ApiKeys
from mcreg.stores.issuer_keys import IssuerKeyStore
from mcreg.stores.signing import RegistryIdentity
from mcreg.webhooks.subscriptions import Webhooks

# --- who calls -------------------------------------------------------------------------------------------------------

Caller = Annotated[Actor, Depends(caller)]
"""The authenticated organisation (401 without a valid key or token)."""
Visitor = Annotated[Actor | None, Depends(visitor)]
"""Anyone, the public included."""
Auditor = Annotated[Actor, Depends(role(Role.AUDITOR, Role.OPERATOR))]
"""An auditor or the operator."""
Governor = Annotated[Actor, Depends(role(Role.OPERATOR, Role.NATIONAL_AUTHORITY))]
"""The operator or a national authority."""


# --- what they use ---------------------------------------------------------------------------------------------------


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _settings(request: Request) -> Settings:
    return _services(request).settings


async def _registry(request: Request) -> Registry:
    return _services(request).registry


async def _api_keys(request: Request) -> ApiKeys:
    return _services(request).keys


async def _issuer_keys(request: Request) -> IssuerKeyStore:
    return _services(request).issuer_keys


async def _identity(request: Request) -> RegistryIdentity:
    return _services(request).identity


async def _served(request: Request) -> Served:
    """The side (the primary's read models or a replica's) this request reads from; chosen once per request."""
    router: ReadRouter = request.app.state.read_router
    served = await router.choose(request)
    request.state.served = served  # for the answer's headers (PositionHeaders)
    return served


ServedFrom = Annotated[Served, Depends(_served)]
"""Where this request's reads are served from, and how far that side had got."""


async def _read_models(served: ServedFrom) -> ReadModels:
    return served.side.read_models


async def _transparency_log(served: ServedFrom) -> TransparencyLog:
    return served.side.log


async def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


async def _webhooks(request: Request) -> Webhooks:
    webhooks: Webhooks = request.app.state.webhooks
    return webhooks


def _exports(served: ServedFrom) -> CredentialExports:
    return served.side.exports


async def _verifier(served: ServedFrom) -> CredentialVerifier:
    return served.side.verifier


Configured = Annotated[Settings, Depends(_settings)]
Registered = Annotated[Registry, Depends(_registry)]
Keys = Annotated[ApiKeys, Depends(_api_keys)]
"""The API keys organisations authenticate with."""
IssuerKeyring = Annotated[IssuerKeyStore, Depends(_issuer_keys)]
"""The issuers' signing keys (the registry's own among them)."""
Identity = Annotated[RegistryIdentity, Depends(_identity)]
"""The registry's names: its DID, and its log's origin."""
ReadSide = Annotated[ReadModels, Depends(_read_models)]
Log = Annotated[TransparencyLog, Depends(_transparency_log)]
Measured = Annotated[Metrics, Depends(_metrics)]
Hooks = Annotated[Webhooks, Depends(_webhooks)]
"""Organisations' webhook subscriptions."""
Exports = Annotated[CredentialExports, Depends(_exports)]
Verifier = Annotated[CredentialVerifier, Depends(_verifier)]
