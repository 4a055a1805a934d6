"""Who is calling: an organisation in a role, from an API key or an OAuth2 bearer token.

Every route depends on exactly one of ``caller`` (a key or token is required)
or ``visitor`` (anyone; a presented key must still be valid). What the caller
may do to which object is decided by the registry, not here. A key the process found
valid less than a second ago is answered without a lookup (decision 73).

Bearer tokens are JWTs from the configured issuer (client-credentials grant),
signed with a key in the configured JWKS; they carry the organisation in
``sub`` and the role (and a national authority's country) in ``mcreg_role``
and ``mcreg_country``.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated
from uuid import UUID

import jwt
import structlog
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from mcreg.api.problems import ProblemError
from mcreg.api.throttle import FailedAuthentications
from mcreg.registry.permissions import require_role
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings
from mcreg.stores.api_keys import ApiKeys, KeyRefused

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An mcreg API key (`mcreg_…`, from `mcreg keys create` or `POST /v1/keys`) or an OAuth2 access token.",
)

CHALLENGE = {"WWW-Authenticate": "Bearer"}

log = structlog.get_logger(__name__)


class TokenVerifier:
    """JWT access tokens from one OAuth2 issuer, checked against its published keys."""

    algorithms = ("EdDSA", "ES256", "RS256", "PS256")

    def __init__(self, issuer: str, audience: str, jwks: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = jwt.PyJWKSet.from_json(jwks)

    def actor(self, token: str) -> Actor:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self.keys[kid] if kid else self.keys.keys[0]
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
            role = Role(claims["mcreg_role"])
            return Actor(UUID(claims["sub"]), role, claims.get("jti"), claims.get("mcreg_country"))
        except (jwt.PyJWTError, KeyError, ValueError) as error:
            raise KeyRefused(f"bearer token refused: {error}") from None


class Authenticator:
    def __init__(self, keys: ApiKeys, tokens: TokenVerifier | None, clock: Callable[[], datetime]) -> None:
        self.keys = keys
        self.tokens = tokens
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, keys: ApiKeys, clock: Callable[[], datetime]) -> Authenticator:
        tokens = None
        if settings.jwt_issuer and settings.jwt_jwks:
            jwks = settings.jwt_jwks.read_text()
            json.loads(jwks)  # a broken file stops the process at start, not at the first request
            tokens = TokenVerifier(settings.jwt_issuer, settings.jwt_audience, jwks)
        return cls(keys, tokens, clock)

    def actor(self, token: str) -> Actor:
        if token.startswith("mcreg_"):
            return self.keys.authenticate(token, self.clock()).actor
        if self.tokens is None:
            raise KeyRefused("not an mcreg API key, and no token issuer is configured")
        return self.tokens.actor(token)

    def known(self, token: str) -> Actor | None:
        """The caller behind an API key this process found valid a moment ago, with no lookup; None if ``actor``
        must look it (or a bearer token) up."""
        if not token.startswith("mcreg_"):
            return None
        key = self.keys.known(token, self.clock())
        return key.actor if key is not None else None


async def _identify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor | None:
    if credentials is None:
        return None
    authenticator: Authenticator = request.app.state.authenticator
    failures: FailedAuthentications = request.app.state.failed_authentications
    address = request.client.host if request.client else ""
    wait = failures.retry_after(address)
    if wait is not None:
        log.warning("auth.throttled", address=address, retry_after=wait)
        raise ProblemError(
            "too-many-failed-authentications",
            f"too many keys or tokens from this address were refused; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    try:
        # a key found valid a moment ago answers on the event loop; a lookup or a token's signature in a thread
        known = authenticator.known(credentials.credentials)
        actor = known if known is not None else await run_in_threadpool(authenticator.actor, credentials.credentials)
    except KeyRefused as refusal:
        failures.failed(address)
        log.info("auth.refused", why=str(refusal), address=address)
        raise ProblemError("unauthenticated", "the API key or token is not valid", headers=CHALLENGE) from None
    request.state.actor = actor
    structlog.contextvars.bind_contextvars(org=str(actor.org), role=actor.role.value, key=actor.key_id)
    return actor


Presented = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def caller(request: Request, credentials: Presented) -> Actor:
    """The authenticated organisation; 401 without a valid key or token."""
    actor = await _identify(request, credentials)
    if actor is None:
        raise ProblemError("unauthenticated", "this needs an API key or bearer token", headers=CHALLENGE)
    return actor


async def visitor(request: Request, credentials: Presented) -> Actor | None:
    """Anyone: the public (None), or the organisation behind a valid key or token."""
    return await _identify(request, credentials)


def role(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency: the authenticated caller, in one of ``roles``."""

    async def in_role(actor: Annotated[Actor, Depends(caller)]) -> Actor:
        require_role(actor, *roles)
        return actor

    return in_role
