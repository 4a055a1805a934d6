"""Data Integrity signing and verification rates of each cryptosuite, on an Open Badges 3.0 credential.

    python bench/cryptosuites.py [--credentials 300] [--repeats 5]

Signs ``--credentials`` credentials (each with its own id) with each cryptosuite,
then verifies them, ``--repeats`` times, and prints the median rates per second:
eddsa-rdfc-2022 (JSON-LD expansion and RDF canonicalization with the shipped
contexts) beside eddsa-jcs-2022 (JSON canonicalization). Needs no database;
``bench/suite.py`` reports the same figures among the others.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mcreg.registry.trust.data_integrity import Cryptosuite, add_proof, verify_proof

ISSUER = "did:web:registry.example:issuers:7f1c0a52-0d1e-4b8e-9a57-3d7d7f5b2a10"
CREDENTIAL: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Data analysis with Python",
    "issuer": {"id": ISSUER, "type": ["Profile"], "name": "Universiteit Voorbeeld", "url": "https://uv.example"},
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {
        "type": ["AchievementSubject"],
        "identifier": [
            {"type": "IdentityObject", "identityHash": "Ada Lovelace", "identityType": "name", "hashed": False}
        ],
        "creditsEarned": 5,
        "achievement": {
            "id": "https://registry.example/v1/microcredentials/1",
            "type": ["Achievement"],
            "achievementType": "MicroCredential",
            "name": "Data analysis with Python",
            "description": "Cleaning, exploring and modelling tabular data with pandas and scikit-learn.",
            "criteria": {"narrative": "Passed the supervised final assessment."},
            "creditsAvailable": 5,
            "fieldOfStudy": "Statistics",
        },
    },
}
"""Shaped like an export, with only terms the shipped contexts define (rdfc signs only what they define)."""


def rates(suite: Cryptosuite, credentials: int) -> tuple[float, float]:
    """(signed per second, verified per second) over ``credentials`` credentials, once."""
    key = Ed25519PrivateKey.generate()
    documents = [CREDENTIAL | {"id": f"urn:uuid:{uuid.uuid4()}"} for _ in range(credentials)]
    began = time.perf_counter()
    signed = [
        add_proof(document, key, f"{ISSUER}#key-1", cryptosuite=suite, created="2026-01-01T00:00:00Z")
        for document in documents
    ]
    sign_rate = credentials / (time.perf_counter() - began)
    began = time.perf_counter()
    for credential in signed:
        verify_proof(credential, key.public_key())
    return sign_rate, credentials / (time.perf_counter() - began)


def median_rates(suite: Cryptosuite, credentials: int, repeats: int) -> tuple[float, float]:
    """The medians of ``repeats`` runs of :func:`rates`."""
    runs = [rates(suite, credentials) for _ in range(repeats)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{args.credentials} credentials, median of {args.repeats} runs")
    print("| cryptosuite | signed/s | verified/s |\n| --- | ---: | ---: |")
    for suite in Cryptosuite:
        sign_rate, verify_rate = median_rates(suite, args.credentials, args.repeats)
        print(f"| {suite} | {sign_rate:,.1f} | {verify_rate:,.1f} |")


if __name__ == "__main__":
    main()
