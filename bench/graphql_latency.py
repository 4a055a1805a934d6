"""GraphQL read latency, measured from a separate process against a running `mcreg serve`.

    python bench/graphql_latency.py [--url http://127.0.0.1:8000] [--runs 200] [--country NL]

Asks a national authority's dashboard for one country and an institution's
`credential(id)` lookup, each `--runs` times one after another, and prints the
p50 and p99 latency of each beside a baseline measured in the same run: the
`/healthz` round trip, which costs the HTTP stack and nothing else.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

DASHBOARD = """query($country: String) { dashboard(country: $country) {
  issued { total { issued revoked } byEqfLevel { eqfLevel issued } byIscedBroadField { issued } byMonth { issued } }
  qaCoverage { total positiveShare byStanding { credentials } }
  recognitionRates { country decided outcomes { recognitions } }
  crossBorder { fromCountry toCountry total } } }"""
CREDENTIAL = """query($id: ID!) { credential(id: $id) { id status issuedOn qaBasis { kind id version } } }"""
SOME_CREDENTIALS = """query($country: String) { providers(country: $country, first: 1) { edges { node { id } } } }"""
OF_PROVIDER = """query($p: ID!) { credentials(providerId: $p, first: 100) { edges { node { id } } } }"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def timed(runs: int, call: Callable[[int], object]) -> list[float]:
    samples = []
    for run in range(runs):
        began = time.perf_counter()
        call(run)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--country", default="NL")
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=30) as client:

        def graphql(query: str, **variables: object) -> Any:
            body = client.post("/graphql", json={"query": query, "variables": variables}).json()
            if body.get("errors"):
                raise SystemExit(f"the server refused the query: {body['errors']}")
            return body["data"]

        provider = graphql(SOME_CREDENTIALS, country=args.country)["providers"]["edges"][0]["node"]["id"]
        ids = [e["node"]["id"] for e in graphql(OF_PROVIDER, p=provider)["credentials"]["edges"]]
        figures = {
            "GET /healthz (baseline)": timed(args.runs, lambda _: client.get("/healthz").raise_for_status()),
            f"dashboard(country: {args.country})": timed(args.runs, lambda _: graphql(DASHBOARD, country=args.country)),
            "credential(id)": timed(args.runs, lambda run: graphql(CREDENTIAL, id=ids[run % len(ids)])),
        }
    baseline_p50, _ = percentiles(figures["GET /healthz (baseline)"])
    print(f"| query | p50 ms | p99 ms | p50 / baseline p50 ({args.runs} runs each) |")
    print("| --- | --- | --- | --- |")
    for name, samples in figures.items():
        p50, p99 = percentiles(samples)
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {p50 / baseline_p50:.1f} |")


if __name__ == "__main__":
    main()
