"""A read table's columns are declared once, in its ``Table``: what else lists them is derived, or checked here."""

from __future__ import annotations

from dataclasses import fields

import pytest
from psycopg.sql import Identifier

from mcreg.projections import audit_timeline, catalogue, credential_status, provider_standing, recognitions
from mcreg.projections import provider_standing_queries as standing
from mcreg.projections.tables import Table


def test_create_table_is_derived_from_the_columns_and_the_key():
    table = Table(
        "things",
        columns=(("thing_id", "uuid"), ("number", "int4"), ("name", "text NOT NULL"), ("tags", "text[]")),
        key=("thing_id", "number"),
        settable=("name",),
        computed=(("upper_name", "text GENERATED ALWAYS AS (upper(name)) STORED"),),
    )

    assert table.create_statement(Identifier("s")).as_string(None) == (
        'CREATE TABLE IF NOT EXISTS "s"."things" ("thing_id" uuid, "number" int4, "name" text NOT NULL, '
        '"tags" text[], "upper_name" text GENERATED ALWAYS AS (upper(name)) STORED, '
        'PRIMARY KEY ("thing_id", "number"))'
    )
    assert table.types == {"thing_id": "uuid", "number": "int4", "name": "text", "tags": "text[]"}
    assert table.names == ("thing_id", "number", "name", "tags")  # what COPY writes: not the computed column


@pytest.mark.parametrize(
    ("table", "row", "beyond"),
    [
        (audit_timeline.TIMELINE, audit_timeline.TimelineEntry, ()),
        (credential_status.CREDENTIALS, credential_status.CredentialStatusRow, ()),
        (catalogue.CATALOGUE, catalogue.CatalogueRow, ()),
        (recognitions.RECOGNITIONS, recognitions.RecognitionRow, ()),
        (provider_standing.AGENCIES, standing.AgencyRow, ()),
        (provider_standing.PROVIDERS, standing.ProviderRow, ()),
        (provider_standing.REVIEWS, standing.ReviewRow, ()),
        (provider_standing.ACCREDITATIONS, standing.AccreditationRow, ("conditions",)),
    ],
    ids=lambda value: value.name if isinstance(value, Table) else None,
)
def test_each_typed_row_has_its_tables_columns_in_order(table: Table, row: type, beyond: tuple[str, ...]):
    assert tuple(f.name for f in fields(row)) == (*table.names, *beyond)


def test_a_counters_table_adds_to_the_counts_of_a_row_with_the_same_key():
    counters = Table(
        "counts",
        columns=(("country", "text NOT NULL"), ("level", "int4"), ("seen", "int4 NOT NULL")),
        key=("country", "level"),
        primary=False,  # a unique index where NULL levels are equal, created apart
    )

    assert counters.create_statement(Identifier("s")).as_string(None) == (
        'CREATE TABLE IF NOT EXISTS "s"."counts" ("country" text NOT NULL, "level" int4, "seen" int4 NOT NULL)'
    )
    assert counters.add_statement(Identifier("s"), ("seen",)).as_string(None) == (
        'INSERT INTO "s"."counts" AS t ("country", "level", "seen") SELECT * FROM unnest(%s::text[], %s::int4[], '
        '%s::int4[]) ON CONFLICT ("country", "level") DO UPDATE SET "seen" = t."seen" + excluded."seen"'
    )
