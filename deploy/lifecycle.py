"""Play a micro-credential's whole life over the REST API, each step as the organisation that owns it.

    python deploy/lifecycle.py --url http://127.0.0.1:8000 --operator-key mcreg_…

The operator key comes from ``mcreg keys create --role operator --name lifecycle``;
every other organisation gets its key over HTTP. The script checks each answer
and exits non-zero on the first surprise, so it doubles as a deployment smoke test.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx


class Surprise(Exception):
    pass


class Lifecycle:
    def __init__(self, client: httpx.Client, operator_key: str, say: Any = print) -> None:
        self.client = client
        self.operator_key = operator_key
        self.say = say
        self.run = uuid.uuid4().hex[:8]  # a fresh run never collides with an earlier one
        self.calls = 0

    def call(self, method: str, path: str, key: str | None, expect: int, body: Any = None) -> Any:
        self.calls += 1
        headers = {"Idempotency-Key": f"lifecycle-{self.run}-{self.calls}"} if method == "POST" else {}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        response = self.client.request(method, path, json=body, headers=headers)
        if response.status_code != expect:
            raise Surprise(f"{method} {path}: expected {expect}, got {response.status_code}: {response.text}")
        return response.json()

    def key(self, role: str, name: str, *, org: str | None = None, country: str | None = None) -> str:
        body = {"role": role, "name": f"lifecycle {name}", "org": org, "country": country}
        made = self.call("POST", "/v1/keys", self.operator_key, 201, body)
        return made["token"]

    def play(self) -> dict[str, Any]:
        today = date.today()
        start = today - timedelta(days=400)
        founded = start - timedelta(days=365)
        authority = self.key("national_authority", "NL ministry", country="NL")
        self.say("national authority of NL has a key")
        agency = self.call(
            "POST",
            "/v1/agencies",
            authority,
            201,
            {"name": f"Quality Agency {self.run}", "acronym": "LQA", "country": "NL", "registered_on": str(founded)},
        )["id"]
        provider = self.call(
            "POST",
            "/v1/providers",
            authority,
            201,
            {"names": {"nl": f"Hogeschool {self.run}"}, "country": "NL", "registered_on": str(founded)},
        )["id"]
        institution = self.call(
            "POST",
            "/v1/providers",
            self.operator_key,
            201,
            {"names": {"fr": f"Université {self.run}"}, "country": "BE", "registered_on": str(founded)},
        )["id"]
        self.say(f"registered agency {agency}, provider {provider} (NL), institution {institution} (BE)")
        agency_key = self.key("qa_agency", "agency", org=agency)
        provider_key = self.key("provider", "provider", org=provider)
        institution_key = self.key("institution", "institution", org=institution)

        accreditation = self.call(
            "POST",
            "/v1/accreditations",
            agency_key,
            201,
            {
                "provider_id": provider,
                "outcome": "positive",
                "valid_from": str(start),
                "eqf_levels": [5, 6],
                "isced_fields": ["06"],
                "local_identifier": f"LQA-{self.run}",
                "decided_on": str(start),
            },
        )["id"]
        self.say(f"agency accredited the provider: {accreditation}")
        microcredential = self.call(
            "POST",
            "/v1/microcredentials",
            provider_key,
            201,
            {
                "provider_id": provider,
                "title": {"en": "Data analysis with Python", "nl": "Data-analyse met Python"},
                "learning_outcomes": [{"text": "Clean and analyse tabular data"}],
                "ects": "5",
                "eqf_level": 6,
                "isced_field": "0613",
                "assessment": "project",
                "participation": "online",
                "qa_type": "external_programme",
                "languages": ["en"],
                "specified_on": str(start),
            },
        )["id"]
        review = self.call(
            "POST", "/v1/reviews", agency_key, 201, {"microcredential_id": microcredential, "opened_on": str(start)}
        )["id"]
        self.call("POST", f"/v1/reviews/{review}/report", agency_key, 200, {"summary": "Outcomes are assessed well"})
        self.call("POST", f"/v1/reviews/{review}/decision", agency_key, 200, {"decision": "positive"})
        self.say(f"micro-credential {microcredential} reviewed positively ({review})")

        issued_on = today - timedelta(days=30)
        credential = self.call(
            "POST",
            "/v1/credentials",
            provider_key,
            201,
            {"microcredential_id": microcredential, "learner": {"name": "Ana Kovač"}, "issued_on": str(issued_on)},
        )["id"]
        self.say(f"provider issued credential {credential}")
        recognition = self.call(
            "POST",
            "/v1/recognitions",
            institution_key,
            201,
            {"credential_id": credential, "institution_id": institution, "purpose": "credit_transfer"},
        )["id"]
        self.call(
            "POST",
            f"/v1/recognitions/{recognition}/decision",
            institution_key,
            200,
            {"outcome": "recognised", "ects_recognised": "5"},
        )
        self.say(f"institution recognised it in full ({recognition})")
        before = self.wait_for_recognition(credential)
        if not before["valid"] or before["status"] != "active":
            raise Surprise(f"an issued, quality-assured credential should verify as valid: {before}")

        self.call("POST", f"/v1/credentials/{credential}/revoke", provider_key, 200, {"reason": "assessment_annulled"})
        after = self.call("GET", f"/v1/credentials/{credential}/verify", None, 200)
        if after["status"] != "revoked" or after["valid"]:
            raise Surprise(f"a revoked credential should verify as revoked and not valid: {after}")
        self.say(f"provider revoked it; verify now says {after['status']}, verdict {after['verdict']}")
        return after

    def wait_for_recognition(self, credential: str, timeout: float = 10.0) -> Any:
        """Verify, once the read model has seen the recognition (it follows the log within milliseconds)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.call("GET", f"/v1/credentials/{credential}/verify", None, 200)
            if answer["recognitions"].get("recognised") or time.monotonic() > deadline:
                if not answer["recognitions"].get("recognised"):
                    raise Surprise(f"the recognition did not reach the read model in {timeout} s: {answer}")
                return answer
            time.sleep(0.05)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--operator-key", required=True)
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=30) as client:
        try:
            Lifecycle(client, args.operator_key).play()
        except Surprise as surprise:
            print(f"FAILED: {surprise}", file=sys.stderr)
            return 1
    print(
        "lifecycle played: agency → provider → accreditation → micro-credential → review → credential →"
        " recognition → revocation → verify shows revoked"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
