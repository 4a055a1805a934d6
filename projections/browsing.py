"""Browsing the catalogue: micro-credentials and providers filtered, counted per facet, and read a page at a time.

Both are ``FacetedList`` declarations (``mcreg.projections.faceted``), which
count every facet in one statement and read keyset pages.

QA status is worked out at query time, on the date asked, from the provider
standing tables (decision 2's rule: a positive review of the micro-credential
in force, else an accreditation of its provider in force that covers it, the
deciding agency in good standing either way); a read model still never reads
another's tables while projecting (decision 15), and both are swapped in
whole by a rebuild (decision 11), so a query reads consistent tables.
``MicroCredentialFilters`` and ``ProviderFilters`` are what a page, REST or
GraphQL hands in; they check nothing themselves beyond their types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Literal

from mcreg.projections.catalogue import CatalogueRow, like_prefix, title_query
from mcreg.projections.faceted import Facet, FacetedList, FacetedQueries, Facets
from mcreg.projections.listing import DEFAULT_PAGE_SIZE, Page
from mcreg.projections.provider_standing_queries import ProviderRow
from mcreg.registry.vocabulary import QA_COVER


class MicroCredentialQA(StrEnum):
    """Where a micro-credential's quality assurance stands on a date."""

    PROGRAMME_REVIEWED = "programme_reviewed"  # a positive review of it is in force
    INSTITUTION_ACCREDITED = "institution_accredited"  # its provider's accreditation in force covers it
    NOT_QUALITY_ASSURED = "not_quality_assured"


class ProviderQA(StrEnum):
    """Where a provider's accreditation stands on a date."""

    ACCREDITED = "accredited"  # an accreditation in force, from an agency in good standing or an authority
    NOT_ACCREDITED = "not_accredited"
    CLOSED = "closed"


ECTS_BANDS: tuple[tuple[Decimal, Decimal | None], ...] = tuple(
    (Decimal(low), Decimal(high) if high is not None else None)
    for low, high in ((0, 1), (1, 3), (3, 6), (6, 10), (10, 15), (15, None))
)
"""ECTS bands, each from its first value up to (not including) the next band's."""


@dataclass(frozen=True, slots=True)
class MicroCredentialFilters:
    """What to list: every filter given must hold. ``ects_below`` is exclusive; ``isced_field`` a code's start."""

    text: str | None = None
    country: str | None = None
    eqf_level: int | None = None
    isced_field: str | None = None
    ects_min: Decimal | None = None
    ects_below: Decimal | None = None
    language: str | None = None
    qa_status: MicroCredentialQA | None = None
    retired: bool | None = False
    ects_max: Decimal | None = None  # inclusive, as REST and GraphQL take it
    provider_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class ProviderFilters:
    """Which providers to list: ``text`` is a part of one of their names, in any language."""

    text: str | None = None
    country: str | None = None
    provider_type: str | None = None
    qa_status: ProviderQA | None = None


@dataclass(frozen=True, slots=True)
class MicroCredentialEntry:
    """A micro-credential as the catalogue lists it: its entry, its provider's names and its QA status."""

    entry: CatalogueRow
    provider_names: dict[str, str]
    qa_status: MicroCredentialQA


@dataclass(frozen=True, slots=True)
class ProviderEntry:
    """A provider as the catalogue lists it, with its accreditation status."""

    provider: ProviderRow
    qa_status: ProviderQA


IN_FORCE = """
agencies_in_standing AS (
  SELECT agency_id FROM {schema}.standing_agencies
  WHERE registered_on <= %(today)s AND (deregistered_on IS NULL OR deregistered_on > %(today)s)
    AND (suspended_since IS NULL OR suspended_since > %(today)s)
),
accreditations_in_force AS (
  SELECT x.provider_id, x.eqf_levels, x.isced_fields, x.jurisdictions, x.micro_credentials
  FROM {schema}.standing_accreditations AS x
  WHERE x.outcome = ANY(%(cover)s) AND x.valid_from <= %(today)s AND x.valid_to >= %(today)s
    AND (x.withdrawn_on IS NULL OR x.withdrawn_on > %(today)s)
    AND (x.suspended_since IS NULL OR x.suspended_since > %(today)s)
    AND (x.agency_id IS NULL OR x.agency_id IN (TABLE agencies_in_standing))
)"""
"""Common table expressions of the agencies in good standing and the accreditations in force on ``today``.
(A national authority's grant has no agency and is always in standing.)"""

REVIEW_IN_FORCE = (
    "r.decision = ANY(%(cover)s) AND r.valid_from <= %(today)s AND r.valid_to >= %(today)s"
    " AND (r.withdrawn_on IS NULL OR r.withdrawn_on > %(today)s) AND r.agency_id IN (TABLE agencies_in_standing)"
)
"""A review ``r`` whose positive decision is in force, by an agency in good standing."""
COVERS = (
    "a.micro_credentials"
    " AND (cardinality(a.jurisdictions) = 0 OR c.provider_country = ANY(a.jurisdictions))"
    " AND (cardinality(a.eqf_levels) = 0 OR c.eqf_level = ANY(a.eqf_levels))"
    # A broad, narrow or detailed code covers the fields it starts: one of the entry's field's prefixes.
    " AND (cardinality(a.isced_fields) = 0"
    " OR ARRAY[left(c.isced_field, 2), left(c.isced_field, 3), c.isced_field] && a.isced_fields)"
)
"""An accreditation ``a`` in force whose scope covers the catalogue entry ``c`` (``Scope.covers``)."""


def microcredentials_base(per_row: bool) -> str:
    """The catalogue's entries that pass the filters every facet shares, each with its QA status on ``today``.

    Counting every entry, the reviews and accreditations are joined whole, once (hashed); reading a page, each
    entry looks its own up by index (``per_row``), so a page costs its rows, not the catalogue.
    """
    if per_row:
        ctes = ""
        reviewed = (
            "EXISTS (SELECT FROM {schema}.standing_reviews AS r"
            f" WHERE r.microcredential_id = c.microcredential_id AND {REVIEW_IN_FORCE})"
        )
        covered = f"EXISTS (SELECT FROM accreditations_in_force AS a WHERE a.provider_id = c.provider_id AND {COVERS})"
    else:
        ctes = (
            ",\nreviewed AS (SELECT r.microcredential_id FROM {schema}.standing_reviews AS r"
            f" WHERE {REVIEW_IN_FORCE})"
            ",\ncovered AS (SELECT c.microcredential_id FROM {schema}.catalogue AS c"
            f" JOIN accreditations_in_force AS a USING (provider_id) WHERE {COVERS}{{and_where}})"
        )
        reviewed, covered = "c.microcredential_id IN (TABLE reviewed)", "c.microcredential_id IN (TABLE covered)"
    return (
        f"WITH{IN_FORCE}{ctes},\nbase AS (SELECT c.*, CASE WHEN {reviewed} THEN 'programme_reviewed'"
        f" WHEN {covered} THEN 'institution_accredited' ELSE 'not_quality_assured' END AS qa_status"
        " FROM {schema}.catalogue AS c{where})"
    )


PROVIDERS = (
    "WITH"
    + IN_FORCE
    + """,
base AS (
  SELECT p.*, CASE
    WHEN p.closed_on IS NOT NULL AND p.closed_on <= %(today)s THEN 'closed'
    WHEN EXISTS (SELECT FROM accreditations_in_force AS a WHERE a.provider_id = p.provider_id) THEN 'accredited'
    ELSE 'not_accredited' END AS qa_status
  FROM {schema}.standing_providers AS p{where}
)"""
)
"""The providers whose names match, each with its accreditation status on ``today``."""

MICROCREDENTIAL_CONDITIONS = {
    "country": SQL("provider_country = %(country)s"),
    "eqf_level": SQL("eqf_level = %(eqf_level)s"),
    "isced_prefix": SQL("isced_field LIKE %(isced_prefix)s"),
    "ects_min": SQL("ects >= %(ects_min)s"),
    "ects_below": SQL("ects < %(ects_below)s"),
    "ects_max": SQL("ects <= %(ects_max)s"),
    "language": SQL("languages @> ARRAY[%(language)s::text]"),
    "qa_status": SQL("qa_status = %(qa_status)s"),
}
MICROCREDENTIAL_SHARED = {
    "words": SQL("title_search @@ to_tsquery('simple', %(words)s)"),
    "retired": SQL("(retired_on IS NOT NULL) = %(retired)s"),
    "provider_id": SQL("provider_id = %(provider_id)s"),
}
ECTS_BAND = (
    SQL("CASE ")
    + SQL(" ").join(
        SQL("WHEN ects < {0} THEN {1}").format(Literal(high), Literal(str(low))) for low, high in ECTS_BANDS if high
    )
    + SQL(" ELSE {0} END").format(Literal(str(ECTS_BANDS[-1][0])))
)
MICROCREDENTIAL_FACETS = (
    Facet("country", SQL("provider_country"), ("country",)),
    Facet("eqf_level", SQL("eqf_level"), ("eqf_level",)),
    Facet("isced_field", SQL("left(isced_field, 2)"), ("isced_prefix",)),
    Facet("ects", ECTS_BAND, ("ects_min", "ects_below", "ects_max")),
    Facet("language", SQL("languages"), ("language",), array=True),
    Facet("qa_status", SQL("qa_status"), ("qa_status",)),
)
PROVIDER_CONDITIONS = {
    "country": SQL("country = %(country)s"),
    "provider_type": SQL("provider_type = %(provider_type)s"),
    "qa_status": SQL("qa_status = %(qa_status)s"),
}
PROVIDER_SHARED = {
    "name_like": SQL("EXISTS (SELECT FROM jsonb_each_text(p.names) AS n WHERE n.value ILIKE %(name_like)s)"),
}
PROVIDER_FACETS = (
    Facet("country", SQL("country"), ("country",)),
    Facet("provider_type", SQL("provider_type"), ("provider_type",)),
    Facet("qa_status", SQL("qa_status"), ("qa_status",)),
)


def microcredential_entry(row: Mapping[str, Any]) -> MicroCredentialEntry:
    return MicroCredentialEntry(
        CatalogueRow(**{f.name: row[f.name] for f in fields(CatalogueRow)}),
        row["provider_names"] or {},
        MicroCredentialQA(row["qa_status"]),
    )


def provider_entry(row: Mapping[str, Any]) -> ProviderEntry:
    return ProviderEntry(
        ProviderRow(**{f.name: row[f.name] for f in fields(ProviderRow)}), ProviderQA(row["qa_status"])
    )


MICROCREDENTIALS = FacetedList(
    base=microcredentials_base(per_row=False),
    page_base=microcredentials_base(per_row=True),
    shared=MICROCREDENTIAL_SHARED,
    conditions=MICROCREDENTIAL_CONDITIONS,
    facets=MICROCREDENTIAL_FACETS,
    key="microcredential_id",
    # The row's own columns only: not the title search vector, which a page does not show.
    select="SELECT "
    + ", ".join(f"b.{f.name}" for f in fields(CatalogueRow))
    + ", b.qa_status, p.names AS provider_names FROM base AS b"
    " LEFT JOIN {schema}.standing_providers AS p USING (provider_id)",
    row=microcredential_entry,
)
"""The catalogue's micro-credentials, each with its QA status on ``today`` and its provider's names."""
PROVIDER_LIST = FacetedList(
    base=PROVIDERS,
    shared=PROVIDER_SHARED,
    conditions=PROVIDER_CONDITIONS,
    facets=PROVIDER_FACETS,
    key="provider_id",
    row=provider_entry,
)
"""The providers, each with its accreditation status on ``today``."""


def on(today: date) -> dict[str, Any]:
    """The parameters every list that works QA out on a date takes: the date, and the decisions that cover."""
    return {"today": today, "cover": [str(decision) for decision in QA_COVER]}


def microcredential_params(filters: MicroCredentialFilters, today: date) -> dict[str, Any]:
    """``MICROCREDENTIALS``' parameters for ``filters`` on ``today``."""
    return on(today) | {
        "words": title_query(filters.text),
        "retired": filters.retired,
        "provider_id": filters.provider_id,
        "country": filters.country,
        "eqf_level": filters.eqf_level,
        "isced_prefix": like_prefix(filters.isced_field) if filters.isced_field is not None else None,
        "ects_min": filters.ects_min,
        "ects_below": filters.ects_below,
        "ects_max": filters.ects_max,
        "language": filters.language,
        "qa_status": filters.qa_status.value if filters.qa_status else None,
    }


def provider_params(filters: ProviderFilters, today: date) -> dict[str, Any]:
    """``PROVIDER_LIST``'s parameters for ``filters`` on ``today``."""
    text = filters.text.strip() if filters.text else ""
    return on(today) | {
        "name_like": "%" + like_prefix(text) if text else None,
        "country": filters.country,
        "provider_type": filters.provider_type,
        "qa_status": filters.qa_status.value if filters.qa_status else None,
    }


class CatalogueBrowser(FacetedQueries):
    """Faceted lists of micro-credentials (the ``catalogue`` table) and providers (``standing_providers``)."""

    def microcredential_facets(self, filters: MicroCredentialFilters, today: date) -> Facets:
        """The total matching ``filters`` on ``today``, and each facet's counts given the other filters."""
        return self.facets(MICROCREDENTIALS, microcredential_params(filters, today))

    def microcredentials(
        self,
        filters: MicroCredentialFilters,
        today: date,
        *,
        after: UUID | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[MicroCredentialEntry]:
        """The micro-credentials matching ``filters`` on ``today``, in the order of their ids, after ``after``."""
        return self.page(MICROCREDENTIALS, microcredential_params(filters, today), after=after, limit=limit)

    def provider_facets(self, filters: ProviderFilters, today: date) -> Facets:
        """The total of providers matching ``filters`` on ``today``, and each facet's counts given the others."""
        return self.facets(PROVIDER_LIST, provider_params(filters, today))

    def providers(
        self, filters: ProviderFilters, today: date, *, after: UUID | None = None, limit: int = DEFAULT_PAGE_SIZE
    ) -> Page[ProviderEntry]:
        """The providers matching ``filters`` on ``today``, in the order of their ids, after ``after``."""
        return self.page(PROVIDER_LIST, provider_params(filters, today), after=after, limit=limit)
