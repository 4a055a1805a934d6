"""Finding a provider's credentials by an identifier its own systems gave them (a course, an LTI context or resource
link, a student number): who may ask, and what they find. REST's ``POST /v1/lookup/credentials`` and GraphQL's
``credentialsByIdentifier`` both answer with ``find_credentials``, so the two cannot disagree (decisions 69, 83)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from mcreg.projections.read_models import ReadModels
from mcreg.registry.application import Registry
from mcreg.registry.errors import Forbidden, InvalidInput
from mcreg.registry.schemes import IdentifierScheme, identifier_of
from mcreg.registry.stamp import Actor
from mcreg.registry.vocabulary import Role

MAX_LIMIT = 1000
"""The most credentials one page finds."""


@dataclass(frozen=True, slots=True)
class FoundCredentials:
    identifier: str  # scheme:value, the value as the scheme compares it
    provider_id: UUID
    credential_ids: list[UUID]  # in the order of their ids
    next: UUID | None  # where the next page starts (``after``); None on the last


def find_credentials(
    registry: Registry,
    read_models: ReadModels,
    actor: Actor | None,
    identifier: str,
    provider: UUID | None = None,
    *,
    after: UUID | None = None,
    limit: int = 100,
) -> FoundCredentials:
    """``provider``'s credentials that ``identifier`` (``scheme:value``) names, a page of at most ``limit`` after
    ``after``. Within one provider always: a provider's own by default, anyone else names it (``InvalidInput``).
    Only whoever may read that provider's learners may ask (``Forbidden``): the provider, the operator, its
    country's national authority. A student number is looked up by its keyed digest, and finds nothing once its
    learner is forgotten, even before the read model has heard of it."""
    scheme, value = identifier_of("identifier", identifier, "credential")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"must be from 1 to {MAX_LIMIT}")
    if provider is None and actor is not None:
        if actor.role != Role.PROVIDER:
            raise InvalidInput("provider", "must name the provider whose identifier it is")
        provider = actor.org
    if actor is None or provider is None:
        raise Forbidden("only a provider, the operator or a national authority may look credentials up", rule="private")
    registry.check_reads_credentials_of(actor, provider)
    student = scheme == IdentifierScheme.SIS_STUDENT
    key = registry.student_digest(provider, value) if student else value
    found = read_models.credential_identifiers.find(provider, scheme, key, after=after, limit=limit)
    following = found[-1].credential_id if len(found) == limit else None
    if student:  # a learner forgotten a moment ago, before the read model heard of it
        remembered = registry.learners_remembered({c.learner_id for c in found if c.learner_id})
        found = [c for c in found if c.learner_id in remembered]
    return FoundCredentials(f"{scheme.value}:{value}", provider, [c.credential_id for c in found], following)
