"""The micro-credential catalogue: each micro-credential's current standard elements, searchable and filterable.

One row per micro-credential holds the elements of its current specification
(Annex I of the Council Recommendation), its provider and the provider's
country, how many specifications it has had, and when it was retired. Titles
in every language are searched together, with PostgreSQL's full text search
under the ``simple`` configuration (core PostgreSQL: no stemming, so a word
matches in any language; no accent folding, which needs an extension).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from mcreg.projections.countries import ProviderCountries, countries_table
from mcreg.projections.engine import Projection, View, event_class
from mcreg.projections.listing import DEFAULT_PAGE_SIZE, Page, fetch_size, page, where
from mcreg.projections.tables import Rows, Table, TableWriter
from mcreg.registry.aggregates.microcredential import MicroCredential, Specification
from mcreg.registry.aggregates.provider import Provider

PROVIDERS = countries_table("catalogue_providers")
SPECIFICATION = (
    ("title", "jsonb NOT NULL"),
    ("learning_outcomes", "jsonb NOT NULL"),
    ("esco_uris", "text[] NOT NULL"),
    ("ects", "numeric NOT NULL"),
    ("eqf_level", "int4"),
    ("isced_field", "text NOT NULL"),
    ("assessment", "text NOT NULL"),
    ("participation", "text NOT NULL"),
    ("qa_type", "text NOT NULL"),
    ("languages", "text[] NOT NULL"),
    ("prerequisites", "text"),
    ("supervision", "text"),
    ("stackability", "text NOT NULL"),
    ("stackable_towards", "text"),
    ("further_information", "text"),
)
"""The columns a specification fills, which a revision replaces whole."""
CATALOGUE = Table(
    "catalogue",
    columns=(
        ("microcredential_id", "uuid"),
        ("provider_id", "uuid NOT NULL"),
        ("provider_country", "text NOT NULL"),
        ("specified_on", "date NOT NULL"),
        ("spec_version", "int4 NOT NULL"),
        ("in_force_from", "date NOT NULL"),
        ("retired_on", "date"),
        *SPECIFICATION,
    ),
    key=("microcredential_id",),
    settable=("retired_on",),
    # Every title's words, whatever its language: 'simple' neither stems nor drops stop words.
    computed=(
        (
            "title_search",
            """tsvector GENERATED ALWAYS AS (jsonb_to_tsvector('simple'::regconfig, title, '["string"]')) STORED""",
        ),
    ),
)
CARRIED = ("microcredential_id", "provider_id", "provider_country", "specified_on", "spec_version", "retired_on")
"""The columns a revision keeps from the row it replaces."""

WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class CatalogueRow:
    """A micro-credential as its current specification describes it."""

    microcredential_id: UUID
    provider_id: UUID
    provider_country: str
    specified_on: date
    spec_version: int  # the number of specifications it has had
    in_force_from: date  # when the current specification took effect
    retired_on: date | None
    title: dict[str, str]  # ISO 639-1 → title
    learning_outcomes: list[dict[str, str | None]]  # {"text": …, "esco_uri": … or None}
    esco_uris: list[str]
    ects: Decimal
    eqf_level: int | None
    isced_field: str
    assessment: str
    participation: str
    qa_type: str
    languages: list[str]
    prerequisites: str | None
    supervision: str | None
    stackability: str
    stackable_towards: str | None
    further_information: str | None


@dataclass
class PageRevisions:
    """A page's revisions of a micro-credential specified in an earlier page: the last one, and how many."""

    in_force_from: date
    specification: dict[str, Any]
    count: int = 1


@dataclass
class CatalogueChanges:
    """A page's changes: providers' countries, new and retired entries, and revisions of older ones."""

    providers: Rows = field(default_factory=PROVIDERS.changes)
    microcredentials: Rows = field(default_factory=CATALOGUE.changes)
    revisions: dict[UUID, PageRevisions] = field(default_factory=dict)


class CatalogueView(View[CatalogueChanges]):
    """The ``catalogue`` table, searched by title and filtered by the standard elements."""

    tables = (PROVIDERS.name, CATALOGUE.name)

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.providers = ProviderCountries(self.schema, PROVIDERS)
        self.sql_create_statements.append(self.providers.create_statement)
        self.sql_create_statements.append(CATALOGUE.create_statement(self.schema))
        self.sql_create_statements.extend(
            SQL(statement).format(self.schema)
            for statement in (
                "CREATE INDEX IF NOT EXISTS catalogue_by_title ON {0}.catalogue USING gin (title_search)",
                "CREATE INDEX IF NOT EXISTS catalogue_by_skill ON {0}.catalogue USING gin (esco_uris)",
                "CREATE INDEX IF NOT EXISTS catalogue_by_country "
                "ON {0}.catalogue (provider_country, microcredential_id)",
                "CREATE INDEX IF NOT EXISTS catalogue_by_eqf_level ON {0}.catalogue (eqf_level, microcredential_id)",
                # text_pattern_ops: an index that LIKE 'prefix%' can use whatever the database's collation.
                "CREATE INDEX IF NOT EXISTS catalogue_by_field ON {0}.catalogue (isced_field text_pattern_ops)",
                "CREATE INDEX IF NOT EXISTS catalogue_by_ects ON {0}.catalogue (ects)",
                "CREATE INDEX IF NOT EXISTS catalogue_by_provider ON {0}.catalogue (provider_id, microcredential_id)",
            )
        )
        self.microcredentials = TableWriter(self.schema, CATALOGUE)
        self.delete_revised_statement = SQL(
            "DELETE FROM {0}.catalogue WHERE microcredential_id = ANY(%s) RETURNING {1}"
        ).format(self.schema, SQL(", ").join(map(Identifier, CARRIED)))
        self.columns = SQL(", ").join(Identifier(name) for name, _ in CATALOGUE.columns)
        self.select_statement = SQL("SELECT {1} FROM {0}.catalogue WHERE microcredential_id = ANY(%s)").format(
            self.schema, self.columns
        )
        self.search_statement = SQL(
            "SELECT {columns} FROM {schema}.catalogue{where} ORDER BY microcredential_id LIMIT %(limit)s"
        )
        self.search_conditions = {
            "words": SQL("title_search @@ to_tsquery('simple', %(words)s)"),
            "country": SQL("provider_country = %(country)s"),
            "provider_id": SQL("provider_id = %(provider_id)s"),
            "eqf_level": SQL("eqf_level = %(eqf_level)s"),
            "isced_prefix": SQL("isced_field LIKE %(isced_prefix)s"),
            "ects_min": SQL("ects >= %(ects_min)s"),
            "ects_max": SQL("ects <= %(ects_max)s"),
            "esco_uri": SQL("esco_uris @> ARRAY[%(esco_uri)s::text]"),
            "retired": SQL("(retired_on IS NOT NULL) = %(retired)s"),
            "after": SQL("microcredential_id > %(after)s"),
        }

    def write(self, curs: Cursor[DictRow], changes: CatalogueChanges) -> None:
        self.providers.write(curs, changes.providers)
        created = list(changes.microcredentials.created.values())
        countries = self.providers.of(curs, (row["provider_id"] for row in created))
        rows = [row | {"provider_country": countries[row["provider_id"]]} for row in created]
        if changes.revisions:
            rows += self.revised(curs, changes.revisions)
        if rows:
            self.microcredentials.create(curs, rows)
        if changes.microcredentials.updated:
            self.microcredentials.update(curs, changes.microcredentials.updated)

    def revised(self, curs: Cursor[DictRow], revisions: dict[UUID, PageRevisions]) -> list[dict[str, Any]]:
        """Delete the rows of revised micro-credentials; their new rows, which keep what a specification does not
        say. (Replacing a row whole writes its list columns too, which an UPDATE from arrays cannot.)"""
        curs.execute(self.delete_revised_statement, [list(revisions)])
        rows = []
        for kept in curs.fetchall():
            revision = revisions[kept["microcredential_id"]]
            version = {"spec_version": kept["spec_version"] + revision.count, "in_force_from": revision.in_force_from}
            rows.append(kept | revision.specification | version)
        return rows

    def get(self, microcredential_id: UUID) -> CatalogueRow | None:
        """The micro-credential's entry, if the view has seen it specified."""
        return self.get_many([microcredential_id]).get(microcredential_id)

    def get_many(self, microcredential_ids: Iterable[UUID]) -> dict[UUID, CatalogueRow]:
        """The entries of these micro-credentials that the view has seen specified (a DataLoader's batch)."""
        with self.datastore.transaction() as curs:
            curs.execute(self.select_statement, [list(microcredential_ids)], prepare=True)
            return {row["microcredential_id"]: CatalogueRow(**row) for row in curs.fetchall()}

    def search(
        self,
        text: str | None = None,
        *,
        country: str | None = None,
        provider_id: UUID | None = None,
        eqf_level: int | None = None,
        isced_field: str | None = None,
        ects_min: Decimal | None = None,
        ects_max: Decimal | None = None,
        esco_uri: str | None = None,
        retired: bool | None = None,
        after: UUID | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
    ) -> Page[CatalogueRow]:
        """Micro-credentials matching every filter given, in the order of their ids, after ``after``.

        ``text`` matches titles in any language that contain each of its words
        (the last one may be the start of a word: ``"data anal"`` finds "Data
        analysis"); text without words matches everything. ``isced_field`` is an
        ISCED-F code or its start (``"06"`` finds 0613). ``retired`` False keeps
        the micro-credentials still offered, True the retired ones.
        """
        params = {
            "words": title_query(text),
            "country": country,
            "provider_id": provider_id,
            "eqf_level": eqf_level,
            "isced_prefix": like_prefix(isced_field) if isced_field is not None else None,
            "ects_min": ects_min,
            "ects_max": ects_max,
            "esco_uri": esco_uri,
            "retired": retired,
            "after": after,
            "limit": fetch_size(limit),
        }
        statement = self.search_statement.format(
            columns=self.columns, schema=self.schema, where=where(self.search_conditions, params)
        )
        with self.datastore.transaction() as curs:
            curs.execute(statement, params)
            return page([CatalogueRow(**row) for row in curs.fetchall()], limit, lambda r: r.microcredential_id)


class CatalogueProjection(Projection[CatalogueChanges]):
    """Keeps the catalogue from the events of micro-credentials (and the countries of their providers)."""

    name = "catalogue"
    view_class = CatalogueView

    def changes(self) -> CatalogueChanges:
        return CatalogueChanges()

    @functools.singledispatchmethod
    def process_event(self, event: Any, position: int, changes: CatalogueChanges) -> None:
        """Other events do not change the catalogue."""

    @process_event.register(event_class(Provider, "Registered"))
    def _(self, event: Any, position: int, changes: CatalogueChanges) -> None:
        changes.providers.create(provider_id=event.originator_id, country=event.country)

    @process_event.register(event_class(MicroCredential, "Specified"))
    def _(self, event: Any, position: int, changes: CatalogueChanges) -> None:
        changes.microcredentials.create(
            microcredential_id=event.originator_id,
            provider_id=event.provider_id,
            specified_on=event.stamp.effective,
            spec_version=1,
            in_force_from=event.stamp.effective,
            **elements(event.specification),
        )

    @process_event.register(event_class(MicroCredential, "Revised"))
    def _(self, event: Any, position: int, changes: CatalogueChanges) -> None:
        specification, in_force_from = elements(event.specification), event.stamp.effective
        if (row := changes.microcredentials.get(event.originator_id)) is not None:
            row.update(specification, spec_version=row["spec_version"] + 1, in_force_from=in_force_from)
        elif (revision := changes.revisions.get(event.originator_id)) is not None:
            revision.specification, revision.in_force_from = specification, in_force_from
            revision.count += 1
        else:
            changes.revisions[event.originator_id] = PageRevisions(in_force_from, specification)

    @process_event.register(event_class(MicroCredential, "Retired"))
    def _(self, event: Any, position: int, changes: CatalogueChanges) -> None:
        changes.microcredentials.set(event.originator_id, retired_on=event.stamp.effective)


def elements(spec: Specification) -> dict[str, Any]:
    """The catalogue columns of a specification."""
    return {
        "title": dict(spec.title),
        "learning_outcomes": [{"text": o.text, "esco_uri": o.esco_uri} for o in spec.learning_outcomes],
        "esco_uris": list(dict.fromkeys(o.esco_uri for o in spec.learning_outcomes if o.esco_uri)),
        "ects": spec.ects,
        "eqf_level": spec.eqf_level,
        "isced_field": spec.isced_field,
        "assessment": spec.assessment,
        "participation": spec.participation,
        "qa_type": spec.qa_type,
        "languages": list(spec.languages),
        "prerequisites": spec.prerequisites,
        "supervision": spec.supervision,
        "stackability": spec.stackability,
        "stackable_towards": spec.stackable_towards,
        "further_information": spec.further_information,
    }


def title_query(text: str | None) -> str | None:
    """The ``tsquery`` matching titles that hold each word of ``text`` (the last one may be a word's start); None
    when ``text`` has no words. Words only go in, so no tsquery operator a person types can get in."""
    words = WORD.findall(text.lower()) if text else []
    return " & ".join([*words[:-1], f"{words[-1]}:*"]) if words else None


def like_prefix(prefix: str) -> str:
    """A LIKE pattern for values starting with ``prefix``, taken literally."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
