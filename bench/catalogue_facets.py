"""The catalogue's faceted browsing at scale: facet counts and a page of entries over many micro-credentials.

    python bench/catalogue_facets.py [--microcredentials 100000] [--providers 5000] [--credentials 300000]
                                     [--runs 5] [--explain]

Starts its own embedded PostgreSQL (or uses MCREG_DATABASE_URL / DATABASE_URL), opens the read models in a
fresh schema and fills the tables browsing reads (``catalogue``, ``standing_providers``, ``standing_agencies``,
``standing_accreditations``, ``standing_reviews``) directly with generated rows: the queries are measured, not
the projections; ``credential_status`` too, for the credentials list (``GET /v1/credentials``). Prints the
median time of each query over ``--runs`` runs, with no filter, with three filters, and with a text search, and
for the credentials list as a provider, a national authority and the operator see it; each as a ratio to a
baseline measured in the same run (a plain ``count(*)`` of the credentials), since timings on a shared machine
are noisy. ``--explain`` prints the plan of each credentials statement.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from psycopg.sql import SQL, Literal
from scaffold import fresh_schema, settings

from mcreg.bootstrap import bootstrap, open_read_models
from mcreg.projections.browsing import (
    CatalogueBrowser,
    MicroCredentialFilters,
    MicroCredentialQA,
    ProviderFilters,
    on,
)
from mcreg.projections.registers import CREDENTIALS

TODAY = date(2025, 6, 1)
FILL = [
    """INSERT INTO {0}.standing_agencies (agency_id, name, country, esg_activities, registered_on)
       SELECT gen_random_uuid(), 'Agency ' || n, (ARRAY['NL','BE','DE','FR','IT'])[1 + n % 5], '{{}}', '2010-01-01'
       FROM generate_series(1, 40) AS n""",
    """INSERT INTO {0}.standing_providers (provider_id, names, country, provider_type, registered_on)
       SELECT gen_random_uuid(), jsonb_build_object('en', 'Provider ' || n),
              (ARRAY['NL','BE','DE','FR','IT','ES','PL','SE'])[1 + n % 8],
              (ARRAY['higher_education','vocational','adult_learning','private'])[1 + n % 4], '2010-01-01'
       FROM generate_series(1, {providers}) AS n""",
    """INSERT INTO {0}.catalogue_providers (provider_id, country)
       SELECT provider_id, country FROM {0}.standing_providers""",
    """INSERT INTO {0}.standing_accreditations (accreditation_id, provider_id, granted_by, agency_id, outcome,
         eqf_levels, isced_fields, jurisdictions, micro_credentials, valid_from, valid_to, decided_on)
       SELECT gen_random_uuid(), p.provider_id, a.agency_id, a.agency_id, 'positive',
              CASE WHEN random() < 0.5 THEN '{{}}'::int4[] ELSE ARRAY[5, 6, 7] END,
              CASE WHEN random() < 0.5 THEN '{{}}'::text[] ELSE ARRAY['06', '04'] END, '{{}}', true,
              '2020-01-01', CASE WHEN random() < 0.8 THEN date '2030-01-01' ELSE date '2024-01-01' END, '2019-12-01'
       FROM {0}.standing_providers AS p
       CROSS JOIN LATERAL (SELECT agency_id FROM {0}.standing_agencies ORDER BY random() + length(p.provider_id::text)
                           LIMIT 1) AS a
       WHERE random() < 0.7""",
    """INSERT INTO {0}.catalogue (microcredential_id, provider_id, provider_country, specified_on, spec_version,
         in_force_from, retired_on, title, learning_outcomes, esco_uris, ects, eqf_level, isced_field, assessment,
         participation, qa_type, languages, stackability)
       WITH p AS (SELECT array_agg(provider_id ORDER BY provider_id) AS ids,
                         array_agg(country ORDER BY provider_id) AS countries FROM {0}.standing_providers)
       SELECT gen_random_uuid(), p.ids[1 + n % {providers}], p.countries[1 + n % {providers}], '2022-01-01', 1,
              '2022-01-01', CASE WHEN n % 20 = 0 THEN date '2024-01-01' END,
              jsonb_build_object('en', (ARRAY['Data analysis','Cybersecurity','Project management','Welding',
                'Nursing care','Accounting'])[1 + n % 6] || ' ' || n),
              '[{{"text": "An outcome of some length, as specifications have them", "esco_uri": null}}]', '{{}}',
              (ARRAY[1, 2, 3, 4, 5, 6, 10, 15, 30])[1 + n % 9], 3 + n % 6,
              (ARRAY['0613','0612','0413','0715','0913','0411'])[1 + n % 6], 'exam', 'online', 'internal',
              CASE WHEN n % 3 = 0 THEN ARRAY['en', 'fr'] ELSE ARRAY['en'] END, 'stand_alone'
       FROM generate_series(1, {microcredentials}) AS n, p""",
    """INSERT INTO {0}.standing_reviews (review_id, agency_id, microcredential_id, provider_id, spec_version,
         opened_on, decision, valid_from, valid_to, decided_on)
       SELECT gen_random_uuid(), (SELECT agency_id FROM {0}.standing_agencies LIMIT 1), c.microcredential_id,
              c.provider_id, 1, '2022-02-01', 'positive', '2022-03-01', '2028-03-01', '2022-03-01'
       FROM {0}.catalogue AS c WHERE random() < 0.1""",
    # Half the credentials are of one entry in a hundred, as popular courses issue most.
    """INSERT INTO {0}.credential_status (credential_id, provider_id, microcredential_id, spec_version, issued_on,
         qa_basis_kind, qa_basis_id, qa_basis_version, learner_id, status, revoked_on, updated_at_position)
       WITH c AS (SELECT array_agg(microcredential_id ORDER BY microcredential_id) AS ids,
                         array_agg(provider_id ORDER BY microcredential_id) AS providers,
                         count(*)::int AS entries FROM {0}.catalogue),
       picked AS (SELECT n, 1 + (n::int8 * 7919) % (CASE WHEN n % 2 = 0 THEN greatest(c.entries / 100, 1)
                                                   ELSE c.entries END) AS i
                  FROM generate_series(1, {credentials}) AS n, c)
       SELECT gen_random_uuid(), c.providers[i], c.ids[i], 1,
              date '2023-01-01' + n % 800, 'accreditation', gen_random_uuid(), 1, gen_random_uuid(),
              CASE WHEN n % 20 = 0 THEN 'revoked' WHEN n % 20 = 1 THEN 'suspended' ELSE 'active' END,
              CASE WHEN n % 20 = 0 THEN date '2025-01-01' END, n
       FROM picked, c""",
]


def timed(runs: int, query: Callable[[], Any]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        query()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--microcredentials", type=int, default=100_000)
    parser.add_argument("--providers", type=int, default=5_000)
    parser.add_argument("--credentials", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print the plan of each credentials statement")
    args = parser.parse_args()
    with fresh_schema(settings()) as schema_settings:
        services = bootstrap(schema_settings)
        read_models = open_read_models(services)
        try:
            view = read_models.catalogue
            sizes = {
                "microcredentials": args.microcredentials,
                "providers": args.providers,
                "credentials": args.credentials,
            }
            counts = (
                f"{args.microcredentials:,} micro-credentials, {args.providers:,} providers, "
                f"{args.credentials:,} credentials"
            )
            print(f"filling the read tables: {counts} …")
            with view.datastore.transaction(commit=True) as curs:
                for statement in FILL:
                    curs.execute(SQL(statement).format(view.schema, **{k: Literal(n) for k, n in sizes.items()}))
                curs.execute("ANALYZE")
            measure(read_models.browsing, args.runs)
            measure_credentials(read_models.browsing, args.runs, args.explain)
        finally:
            read_models.close()
            services.close()


def measure(browsing: CatalogueBrowser, runs: int) -> None:
    everything = MicroCredentialFilters()
    narrowed = MicroCredentialFilters(country="NL", eqf_level=6, qa_status=MicroCredentialQA.INSTITUTION_ACCREDITED)
    searched = MicroCredentialFilters(text="cyber")
    cases = {
        "micro-credential facets, no filter": lambda: browsing.microcredential_facets(everything, TODAY),
        "micro-credential facets, country + EQF + QA": lambda: browsing.microcredential_facets(narrowed, TODAY),
        "micro-credential facets, title search": lambda: browsing.microcredential_facets(searched, TODAY),
        "first page of 25, no filter": lambda: browsing.microcredentials(everything, TODAY, limit=25),
        "first page of 25, country + EQF + QA": lambda: browsing.microcredentials(narrowed, TODAY, limit=25),
        "provider facets, no filter": lambda: browsing.provider_facets(ProviderFilters(), TODAY),
        "first page of 25 providers": lambda: browsing.providers(ProviderFilters(), TODAY, limit=25),
    }
    print(f"total: {browsing.microcredential_facets(everything, TODAY).total:,} micro-credentials offered")
    for name, query in cases.items():
        print(f"{name}: median {timed(runs, query):.1f} ms over {runs} runs")


def measure_credentials(browsing: CatalogueBrowser, runs: int, explain: bool) -> None:
    """The credentials list with its facets, as the busiest provider, the national authority of NL and the operator
    see it; each a ratio to ``count(*)`` of every credential, measured in the same run."""
    with browsing.datastore.transaction() as curs:
        curs.execute(
            SQL(
                "SELECT provider_id, count(*) AS n FROM {0}.credential_status GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
            ).format(browsing.schema)
        )
        busiest = curs.fetchone()
    assert busiest is not None
    shown = on(TODAY) | {"hide_revoked": True}
    scopes = {
        f"a provider's own ({busiest['n']:,})": shown | {"scope_provider": busiest["provider_id"]},
        "a national authority's (NL)": shown | {"scope_country": "NL"},
        "the operator's (all)": shown,
    }

    def count_all() -> None:
        with browsing.datastore.transaction() as curs:
            curs.execute(SQL("SELECT count(*) FROM {0}.credential_status").format(browsing.schema))

    baseline = timed(runs, count_all)
    print(f"baseline, count(*) of every credential: median {baseline:.1f} ms")
    for scope, params in scopes.items():
        facets = timed(runs, lambda p=params: browsing.facets(CREDENTIALS, p))
        first = timed(runs, lambda p=params: browsing.page(CREDENTIALS, p, limit=50))
        print(
            f"credentials list, {scope}: facets {facets:.1f} ms ({facets / baseline:.2f}× baseline), "
            f"a page of 50 {first:.1f} ms ({first / baseline:.2f}× baseline)"
        )
        if explain:
            explained(browsing, params)


def explained(browsing: CatalogueBrowser, params: dict[str, Any]) -> None:
    """The plan of a page of the credentials list, as PostgreSQL ran it."""
    statement = browsing.page_statement(CREDENTIALS, params)
    with browsing.datastore.transaction() as curs:
        curs.execute(SQL("EXPLAIN (ANALYZE, COSTS OFF) ") + statement, {**params, "after": None, "limit": 51})
        print("\n".join(f"    {row['QUERY PLAN']}" for row in curs.fetchall()))


if __name__ == "__main__":
    main()
