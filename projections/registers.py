"""The registers as faceted lists: agencies, accreditations, reviews, credentials and recognitions.

Each is a ``FacetedList`` declaration over its read model's table, joined at
query time with the provider standing and catalogue tables where a filter
needs the provider's country or the micro-credential's level and field, as the
catalogue's lists are (decision 65). Statuses that change with the date
(an accreditation in force, expired or suspended) are worked out on
``today``. Filters are the parameters named in each declaration; the
``scope_*`` ones are set by the caller's permissions, never by the request.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from enum import StrEnum
from typing import Any

from psycopg.sql import SQL

from mcreg.projections.credential_status import CredentialStatusRow
from mcreg.projections.faceted import Facet, FacetedList, Listed, facet, listed, of_columns
from mcreg.projections.provider_standing_queries import AccreditationRow, AgencyRow, ConditionRow, ReviewRow
from mcreg.projections.recognitions import RecognitionRow
from mcreg.registry.vocabulary import Standing


class AgencyStatus(StrEnum):
    """Where an agency's registration stands, as last recorded."""

    REGISTERED = "registered"
    SUSPENDED = "suspended"
    DEREGISTERED = "deregistered"


ACCREDITATION_STATUSES = tuple(
    s for s in Standing if s not in (Standing.NEGATIVE, Standing.AGENCY_NOT_IN_GOOD_STANDING)
)
"""Where an accreditation stands on a date: the standings ``Accreditation.standing`` gives (an accreditation is
granted only on a positive outcome, and its agency's standing is set aside)."""


class ReviewStatus(StrEnum):
    """Where a review stands on a date."""

    OPEN = "open"  # not decided yet
    DECIDED = "decided"
    APPEALED = "appealed"  # its decision appealed, the appeal pending
    WITHDRAWN = "withdrawn"


def names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


AGENCIES: FacetedList[AgencyRow] = FacetedList(
    base="WITH base AS (SELECT a.*, CASE WHEN a.deregistered_on IS NOT NULL THEN 'deregistered'"
    " WHEN a.suspended_since IS NOT NULL THEN 'suspended' ELSE 'registered' END AS status"
    " FROM {schema}.standing_agencies AS a{where})",
    shared={"name_like": SQL("(a.name ILIKE %(name_like)s OR a.acronym ILIKE %(name_like)s)")},
    conditions={
        "country": SQL("country = %(country)s"),
        "status": SQL("status = %(status)s"),
        "esg_activity": SQL("esg_activities @> ARRAY[%(esg_activity)s::text]"),
    },
    facets=(facet("country"), facet("status"), Facet("esg_activity", SQL("esg_activities"), ("esg_activity",), True)),
    key="agency_id",
    row=of_columns(AgencyRow, names(AgencyRow)),
)
"""QA agencies, with where their registration stands as last recorded (``AgencyRow.status``)."""

ACCREDITATION_STATUS = """CASE
    WHEN x.withdrawn_on <= %(today)s THEN 'withdrawn'
    WHEN %(today)s < x.valid_from THEN 'not_yet_valid'
    WHEN %(today)s > x.valid_to THEN 'expired'
    WHEN x.suspended_since <= %(today)s THEN 'suspended'
    ELSE 'in_force' END"""
"""Where an accreditation ``x`` stands on ``today``: ``Accreditation.standing``, in its order (tests hold the two
together). Exact for any day on or after the last effective date recorded (effective dates are never in the
future): by then every suspension that has ended lies in the past, so only an open one counts."""


def accreditation(row: dict[str, Any]) -> AccreditationRow:
    conditions = tuple(
        ConditionRow(c["number"], c["text"], date.fromisoformat(c["deadline"]), fulfilled(c["fulfilled_on"]))
        for c in row.pop("conditions")
    )
    return AccreditationRow(
        **{name: row[name] for name in names(AccreditationRow) if name != "conditions"}, conditions=conditions
    )


def fulfilled(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


ACCREDITATIONS: FacetedList[Listed[AccreditationRow]] = FacetedList(
    base="WITH base AS (SELECT x.*, p.country, " + ACCREDITATION_STATUS + " AS status"
    " FROM {schema}.standing_accreditations AS x JOIN {schema}.standing_providers AS p USING (provider_id){where})",
    shared={
        "provider_id": SQL("x.provider_id = %(provider_id)s"),
        "agency_id": SQL("x.agency_id = %(agency_id)s"),
        "decided_from": SQL("x.decided_on >= %(decided_from)s"),
        "decided_to": SQL("x.decided_on <= %(decided_to)s"),
    },
    conditions={
        "country": SQL("country = %(country)s"),
        "status": SQL("status = %(status)s"),
        "outcome": SQL("outcome = %(outcome)s"),
        # An empty scope sets no limit on that axis: it covers every level.
        "eqf_level": SQL("(cardinality(eqf_levels) = 0 OR %(eqf_level)s = ANY(eqf_levels))"),
    },
    facets=(facet("country"), facet("status"), facet("outcome")),
    key="accreditation_id",
    select="SELECT b.*, coalesce((SELECT jsonb_agg(jsonb_build_object('number', c.number, 'text', c.text,"
    " 'deadline', c.deadline, 'fulfilled_on', c.fulfilled_on) ORDER BY c.number)"
    " FROM {schema}.standing_conditions AS c WHERE c.accreditation_id = b.accreditation_id), '[]') AS conditions"
    " FROM base AS b",
    row=listed(accreditation, "country", "status"),
)
"""Accreditations with their conditions, their provider's country, and where each stands on ``today``."""

REVIEWS: FacetedList[Listed[ReviewRow]] = FacetedList(
    base="WITH base AS (SELECT r.*, p.country, c.eqf_level, CASE"
    " WHEN r.withdrawn_on IS NOT NULL AND r.withdrawn_on <= %(today)s THEN 'withdrawn'"
    " WHEN r.decision IS NULL THEN 'open'"
    " WHEN r.appeal_lodged_on IS NOT NULL AND r.appeal_outcome IS NULL THEN 'appealed'"
    " ELSE 'decided' END AS status"
    " FROM {schema}.standing_reviews AS r JOIN {schema}.standing_providers AS p ON p.provider_id = r.provider_id"
    " LEFT JOIN {schema}.catalogue AS c ON c.microcredential_id = r.microcredential_id{where})",
    shared={
        "provider_id": SQL("r.provider_id = %(provider_id)s"),
        "agency_id": SQL("r.agency_id = %(agency_id)s"),
        "microcredential_id": SQL("r.microcredential_id = %(microcredential_id)s"),
        "opened_from": SQL("r.opened_on >= %(opened_from)s"),
        "opened_to": SQL("r.opened_on <= %(opened_to)s"),
    },
    conditions={
        "country": SQL("country = %(country)s"),
        "status": SQL("status = %(status)s"),
        "decision": SQL("decision = %(decision)s"),
        "eqf_level": SQL("eqf_level = %(eqf_level)s"),
    },
    facets=(facet("country"), facet("status"), facet("decision"), facet("eqf_level")),
    key="review_id",
    row=listed(of_columns(ReviewRow, names(ReviewRow)), "country", "status", "eqf_level"),
)
"""Reviews, with their provider's country, the micro-credential's EQF level, and where each stands on ``today``:
open, decided, appealed (pending) or withdrawn."""

CREDENTIALS: FacetedList[Listed[CredentialStatusRow]] = FacetedList(
    base="WITH base AS (SELECT s.*, p.country, c.eqf_level, c.isced_field"
    " FROM {schema}.credential_status AS s JOIN {schema}.standing_providers AS p ON p.provider_id = s.provider_id"
    " LEFT JOIN {schema}.catalogue AS c ON c.microcredential_id = s.microcredential_id{where})",
    shared={
        "scope_provider": SQL("s.provider_id = %(scope_provider)s"),
        "scope_country": SQL("p.country = %(scope_country)s"),
        "provider_id": SQL("s.provider_id = %(provider_id)s"),
        "microcredential_id": SQL("s.microcredential_id = %(microcredential_id)s"),
        "hide_revoked": SQL("s.status <> 'revoked'"),
        "issued_from": SQL("s.issued_on >= %(issued_from)s"),
        "issued_to": SQL("s.issued_on <= %(issued_to)s"),
    },
    conditions={
        "country": SQL("country = %(country)s"),
        "status": SQL("status = %(status)s"),
        "eqf_level": SQL("eqf_level = %(eqf_level)s"),
        "isced_prefix": SQL("isced_field LIKE %(isced_prefix)s"),
    },
    facets=(
        facet("country"),
        facet("status"),
        facet("eqf_level"),
        Facet("isced_field", SQL("left(isced_field, 2)"), ("isced_prefix",)),
    ),
    key="credential_id",
    row=listed(of_columns(CredentialStatusRow, names(CredentialStatusRow)), "country", "eqf_level", "isced_field"),
)
"""Credentials as last recorded, with their provider's country and the micro-credential's level and field as
currently specified. Never public: ``scope_provider`` / ``scope_country`` narrow them to what the caller may list."""

RECOGNITIONS: FacetedList[RecognitionRow] = FacetedList(
    base="WITH base AS (SELECT * FROM {schema}.recognitions{where})",
    shared={
        "scope_institution": SQL("institution_id = %(scope_institution)s"),
        "scope_country": SQL("(institution_country = %(scope_country)s OR issuer_country = %(scope_country)s)"),
        "credential_id": SQL("credential_id = %(credential_id)s"),
        "institution_id": SQL("institution_id = %(institution_id)s"),
        "issuer_id": SQL("issuer_id = %(issuer_id)s"),
        "requested_from": SQL("requested_on >= %(requested_from)s"),
        "requested_to": SQL("requested_on <= %(requested_to)s"),
    },
    conditions={
        "status": SQL("status = %(status)s"),
        "outcome": SQL("outcome = %(outcome)s"),
        "purpose": SQL("purpose = %(purpose)s"),
        "institution_country": SQL("institution_country = %(institution_country)s"),
        "issuer_country": SQL("issuer_country = %(issuer_country)s"),
    },
    facets=tuple(facet(name) for name in ("status", "outcome", "purpose", "institution_country", "issuer_country")),
    key="requested_at_position",
    key_type=int,
    row=of_columns(RecognitionRow, names(RecognitionRow)),
)
"""Recognitions in the order they were requested. Never public: the ``scope_*`` filters narrow them to what the
caller may read."""
