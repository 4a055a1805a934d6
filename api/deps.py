"""What handlers depend on, as ``Annotated`` aliases: who calls, and the registry, stores and services they use.

Each alias names what a handler gets, so a handler's signature documents
itself: ``actor: Caller, registry: Registered``. Everything comes from the
application's state, which ``create_app`` fills from the composition root.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from mcreg.api.auth import caller, role, visitor
from mcreg.api.observability import Metrics
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


def _settings(request: Request) -> Settings:
    return _services(request).settings


def _registry(request: Request) -> Registry:
    return _services(request).registry


def _api_keys(request: Request) -> ApiKeys:
    return _services(request).keys


def _issuer_keys(request: Request) -> IssuerKeyStore:
    return _services(request).issuer_keys


def _identity(request: Request) -> RegistryIdentity:
    return _services(request).identity


def _read_models(request: Request) -> ReadModels:
    read_models: ReadModels = request.app.state.read_models
    return read_models


def _transparency_log(request: Request) -> TransparencyLog:
    log: TransparencyLog = request.app.state.transparency_log
    return log


def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


def _exports(request: Request) -> CredentialExports:
    exports: CredentialExports = request.app.state.exports
    return exports


def _verifier(request: Request) -> CredentialVerifier:
    verifier: CredentialVerifier = request.app.state.verifier
    return verifier


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
Exports = Annotated[CredentialExports, Depends(_exports)]
Verifier = Annotated[CredentialVerifier, Depends(_verifier)]
