"""Issuer keys: recorded in the log, sealed at rest, rotated, reported compromised, published in DID documents.

Rotation keeps what the old key signed verifiable; a key reported compromised since before a proof's date makes
that credential invalid, while credentials it signed (and the registry recorded) earlier stay valid; private keys
never enter the event store, and the key table holds none in the clear.
"""

from __future__ import annotations

import base64
import os
import stat
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.projections.status_lists import StatusListsProjection
from mcreg.registry.aggregates.issuer_keys import REGISTRY_ISSUER_ID, IssuerKeys, KeyStatus
from mcreg.registry.errors import Forbidden, InvalidInput, NotFound, StateConflict
from mcreg.registry.stamp import Actor
from mcreg.registry.trust.data_integrity import add_proof, encode_private_multikey, encode_public_multikey
from mcreg.registry.vocabulary import Role
from mcreg.settings import Settings
from mcreg.stores.issuer_keys import KEK_FILE, KeyEncryptionKey, KeyUnavailable, SealedIssuerKeys, load_kek
from tests.api.rest import As, caller
from tests.world import OPERATOR, World

STATUS = StatusListsProjection.name


def exported(provider: As, read_models: ReadModels, credential_id: UUID) -> dict[str, Any]:
    read_models.catch_up([STATUS])
    response = provider.get(f"/v1/credentials/{credential_id}/vc")
    assert response.status_code == 200, response.text
    return response.json()


def verdict(public: As, vc: dict[str, Any]) -> dict[str, Any]:
    response = public.post("/v1/verify", vc)
    assert response.status_code == 200, response.text
    return response.json()


def outcome(answer: dict[str, Any], check: str) -> tuple[str, str | None]:
    (found,) = [c for c in answer["checks"] if c["check"] == check]
    return found["outcome"], found["code"]


def wait_until(moment: datetime) -> None:
    """Sleep until the clock has passed ``moment`` (keys change at whole seconds)."""
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 0.02)


def did_document(public: As, issuer_id: UUID) -> dict[str, Any]:
    response = public.get(f"/issuers/{issuer_id}/did.json")
    assert response.status_code == 200, response.text
    return response.json()


def sealed_rows(services: Services) -> list[tuple[Any, ...]]:
    with psycopg.connect(services.database.conninfo) as conn:
        table = f"{services.settings.postgres_schema}.issuer_private_keys"
        return conn.execute(f"SELECT issuer_id, public_key, kek_id, nonce, sealed, made_for FROM {table}").fetchall()


def unkeyed(world: World) -> tuple[UUID, Actor]:
    """A provider registered, neither accredited nor issuing yet: it has no key."""
    issuer = world.register_provider("BE", "Université Exemple")
    return issuer, Actor(issuer, Role.PROVIDER, key_id="test-provider")


# --- the domain ----------------------------------------------------------------------------------------------------


def test_rotation_records_public_keys_and_retires_the_key_in_use(services: Services, world: World):
    store, registry = services.issuer_keys, services.registry
    issuer, actor = unkeyed(world)
    first = store.rotate(actor, issuer)
    second = store.rotate(actor, issuer)
    assert (first.key_id, second.key_id) == ("key-1", "key-2")

    keys = registry.issuer_keys(issuer)
    one, two = keys.keys
    assert one.public_key_multibase == first.public_key_multibase
    assert one.retired_on == two.valid_from > one.valid_from
    assert two.valid_from.microsecond == 0 and two.valid_from > datetime.now(UTC) - timedelta(seconds=1)
    assert one.status_at(two.valid_from - timedelta(seconds=1)) == KeyStatus.VALID
    assert one.status_at(two.valid_from) == KeyStatus.RETIRED
    assert keys.current(two.valid_from) == two

    events = list(registry.events.get(IssuerKeys.create_id(issuer)))
    assert [type(e).__name__ for e in events] == ["Opened", "KeyAdded", "KeyAdded"]
    assert events[2].retiring == ["key-1"] and events[2].stamp.actor == actor


def test_a_key_published_ahead_signs_from_its_moment_and_a_later_rotation_supersedes_it(
    services: Services, world: World
):
    store, registry = services.issuer_keys, services.registry
    ahead = datetime.now(UTC) + timedelta(days=7)
    assert store.rotate(world.provider, world.provider_id, valid_from=ahead).key_id == "key-2"
    keys = registry.issuer_keys(world.provider_id)
    one, two = keys.keys  # key-1 came with the accreditation
    assert two.valid_from == ahead.replace(microsecond=0) + timedelta(seconds=1) == one.retired_on
    assert store.signing_key(world.provider_id).key.key_id == "key-1"  # until key-2's moment
    assert keys.current(two.valid_from).key_id == "key-2"

    store.rotate(world.provider, world.provider_id)  # rotating now supersedes the key published ahead
    one, two, three = registry.issuer_keys(world.provider_id).keys
    assert one.retired_on == two.retired_on == three.valid_from < two.valid_from
    assert {two.status_at(m) for m in (three.valid_from, two.valid_from)} == {
        KeyStatus.NOT_YET_VALID,
        KeyStatus.RETIRED,
    }


def test_private_keys_never_enter_the_event_store(services: Services, world: World):
    store = services.issuer_keys
    made = store.rotate(world.provider, world.provider_id)
    private = store.vault.private_key(world.provider_id, made.public_key_multibase)
    secrets = secret_forms(private)
    recorder: Any = services.registry.recorder
    stored = recorder.select_notifications(start=1, limit=10_000)
    assert stored and not any(secret in n.state for n in stored for secret in secrets)


def secret_forms(private: Ed25519PrivateKey) -> list[bytes]:
    seed = private.private_bytes_raw()
    return [
        seed,
        seed.hex().encode(),
        base64.b64encode(seed),
        base64.urlsafe_b64encode(seed).rstrip(b"="),
        encode_private_multikey(private).encode(),
    ]


def test_who_may_manage_an_issuers_keys(services: Services, world: World):
    store, registry = services.issuer_keys, services.registry
    other = world.register_provider("BE", "Université Exemple")
    refused = [
        (Actor(other, Role.PROVIDER), world.provider_id, Forbidden),
        (Actor(uuid4(), Role.NATIONAL_AUTHORITY, country="NL"), world.provider_id, Forbidden),
        (world.agency, world.provider_id, Forbidden),
        (world.provider, REGISTRY_ISSUER_ID, Forbidden),
        (OPERATOR, uuid4(), NotFound),
    ]
    sealed = sealed_rows(services)
    for actor, issuer, error in refused:
        with pytest.raises(error):
            store.rotate(actor, issuer)
        with pytest.raises(error):
            registry.report_key_compromised(actor, issuer, key_id="key-1", since=datetime.now(UTC))
    assert sealed_rows(services) == sealed  # a refused caller leaves no key pair behind

    assert store.rotate(world.provider, world.provider_id).key_id == "key-2"  # key-1 came with the accreditation
    assert store.rotate(OPERATOR, world.provider_id).key_id == "key-3"  # the custodian, e.g. after a leak
    assert store.rotate(OPERATOR, REGISTRY_ISSUER_ID).key_id == "key-1"
    assert registry.report_key_compromised(OPERATOR, world.provider_id, key_id="key-1", since=datetime.now(UTC))


def test_bad_key_commands_are_refused(services: Services, world: World):
    registry = services.registry
    issuer, provider = unkeyed(world)
    public_key = encode_public_multikey(Ed25519PrivateKey.generate().public_key())
    now = datetime.now(UTC)
    for bad, field in (
        ({"public_key_multibase": "z6MkNotAKey"}, "public_key_multibase"),
        ({"public_key_multibase": "u" + public_key}, "public_key_multibase"),
        ({"public_key_multibase": public_key, "valid_from": now - timedelta(minutes=1)}, "valid_from"),
        ({"public_key_multibase": public_key, "valid_from": now + timedelta(days=91)}, "valid_from"),
    ):
        with pytest.raises(InvalidInput) as refused:
            registry.rotate_issuer_key(provider, issuer, **bad)
        assert refused.value.field == field
    assert registry.rotate_issuer_key(provider, issuer, public_key_multibase=public_key) == "key-1"
    with pytest.raises(StateConflict):
        registry.rotate_issuer_key(provider, issuer, public_key_multibase=public_key)

    with pytest.raises(InvalidInput):
        registry.report_key_compromised(provider, issuer, key_id="key-1", since=now + timedelta(hours=1))
    with pytest.raises(NotFound):
        registry.report_key_compromised(provider, issuer, key_id="key-2", since=now)
    registry.report_key_compromised(provider, issuer, key_id="key-1", since=now)
    with pytest.raises(StateConflict):  # only an earlier date moves a compromise
        registry.report_key_compromised(provider, issuer, key_id="key-1", since=now)
    registry.report_key_compromised(provider, issuer, key_id="key-1", since=now - timedelta(days=3))
    key = registry.issuer_keys(issuer).key("key-1")
    assert key.compromised_since == (now - timedelta(days=3)).replace(microsecond=0)


# --- private keys at rest -------------------------------------------------------------------------------------------


def test_private_keys_are_sealed_at_rest_and_open_only_under_their_kek(services: Services, world: World):
    store = services.issuer_keys
    other = world.register_provider("BE", "Université Exemple")
    made = [store.rotate(world.provider, world.provider_id), store.rotate(OPERATOR, other)]
    accredited = store.keys(world.provider_id)[0]  # key-1, made when the provider was accredited
    privates = [store.vault.private_key(world.provider_id, made[0].public_key_multibase)]
    privates.append(store.vault.private_key(other, made[1].public_key_multibase))

    rows = sealed_rows(services)
    assert len(rows) == 3
    blob = b"".join(str(value).encode() if not isinstance(value, bytes) else value for row in rows for value in row)
    for private in privates:
        assert not any(secret in blob for secret in secret_forms(private))
    assert {row[2] for row in rows} == {store.vault.kek.id}
    assert {row[1] for row in rows} == {m.public_key_multibase for m in made} | {accredited.public_key_multibase}

    # Another process with another KEK refuses to sign rather than sign with garbage.
    stranger = SealedIssuerKeys(
        services.pool, services.settings.postgres_schema, lambda: KeyEncryptionKey(os.urandom(32))
    )
    with pytest.raises(KeyUnavailable, match="sealed under KEK"):
        stranger.private_key(world.provider_id, made[0].public_key_multibase)
    # A sealed key copied onto another issuer's row does not open: it is bound to its issuer and public key.
    kek = store.vault.kek
    (_, _, _, nonce, sealed, _) = next(r for r in rows if r[1] == made[0].public_key_multibase)
    with pytest.raises(KeyUnavailable):
        kek.open(other, made[1].public_key_multibase, bytes(nonce), bytes(sealed))


def test_the_key_encryption_key_comes_from_the_environment_or_a_development_file(tmp_path: Any):
    raw = os.urandom(32)
    configured = SecretStr(base64.b64encode(raw).decode())
    development = Settings(data_dir=tmp_path, env="development")
    assert load_kek(development, configured).key == raw
    with pytest.raises(KeyUnavailable, match="base64 of 32"):
        load_kek(development, SecretStr("not base64!"))
    with pytest.raises(KeyUnavailable):
        load_kek(development, SecretStr(base64.b64encode(b"short").decode()))
    with pytest.raises(KeyUnavailable, match="MCREG_KEY_ENCRYPTION_KEY"):
        load_kek(Settings(data_dir=tmp_path, env="production"), None)

    made = load_kek(development, None)
    path = tmp_path / KEK_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_kek(development, None) == made  # made once, then read
    assert [p.name for p in tmp_path.iterdir()] == [KEK_FILE]


# --- rotation and compromise, end to end ----------------------------------------------------------------------------


def test_rotation_keeps_what_the_old_key_signed_verifiable(
    services: Services, world: World, provider: As, public: As, read_models: ReadModels
):
    first = world.issue()
    old_vc = exported(provider, read_models, first)
    assert old_vc["proof"]["verificationMethod"].endswith("#key-1")

    response = provider.post(f"/v1/issuers/{world.provider_id}/keys", key="rotate-1")
    assert response.status_code == 201, response.text
    rotated = response.json()
    assert (rotated["key_id"], rotated["status"]) == ("key-2", "not_yet_valid")
    assert response.headers["location"] == f"/v1/issuers/{world.provider_id}/keys"
    again = provider.post(f"/v1/issuers/{world.provider_id}/keys", key="rotate-1")  # a retry: the same key
    assert (again.status_code, again.json()["public_key_multibase"]) == (201, rotated["public_key_multibase"])
    wait_until(datetime.fromisoformat(rotated["valid_from"]))

    second = world.issue()
    new_vc = exported(provider, read_models, second)
    assert new_vc["proof"]["verificationMethod"] == rotated["verification_method"]
    answer = verdict(public, old_vc)
    assert answer["valid"] is True, answer["checks"]
    assert answer["proof"]["key_status_at_signing"] == "valid" and answer["proof"]["key"]["status"] == "retired"
    # Rotated, not compromised: what it signed stays valid, with a warning that a fresh export has a new key.
    assert (answer["verdict"], [w["check"] for w in answer["warnings"]]) == ("valid_with_warnings", ["key"])
    assert outcome(answer, "key") == ("warning", None)
    assert verdict(public, new_vc)["verdict"] == "valid"

    again = exported(provider, read_models, first)  # a new export is signed with the new key
    assert again["proof"]["verificationMethod"].endswith("#key-2") and again != old_vc
    assert verdict(public, again)["valid"] is True

    document = did_document(public, world.provider_id)
    ids = [m["id"] for m in document["verificationMethod"]]
    assert ids == [f"{document['id']}#key-1", f"{document['id']}#key-2"]
    assert document["assertionMethod"] == ids
    keys = public.get(f"/v1/issuers/{world.provider_id}/keys").json()
    assert [(k["key_id"], k["status"]) for k in keys["keys"]] == [("key-1", "retired"), ("key-2", "valid")]
    listed = public.get(f"/v1/status/{world.provider_id}/revocation-0").json()
    assert listed["proof"]["verificationMethod"].endswith("#key-2")


def test_a_compromised_key_invalidates_what_it_signed_since_and_not_before(
    services: Services, world: World, provider: As, public: As, read_models: ReadModels
):
    earlier = world.issue()
    earlier_vc = exported(provider, read_models, earlier)
    signed_at = datetime.fromisoformat(earlier_vc["proof"]["created"])
    wait_until(signed_at + timedelta(seconds=1))  # proofs are dated to the second
    later = world.issue()
    later_vc = exported(provider, read_models, later)
    since = datetime.fromisoformat(later_vc["proof"]["created"])
    assert since > signed_at

    response = provider.post(
        f"/v1/issuers/{world.provider_id}/keys/key-1/compromised", {"since": since.isoformat()}, key="leak"
    )
    assert response.status_code == 200, response.text
    reported = response.json()
    assert (reported["status"], datetime.fromisoformat(reported["compromised_since"])) == ("compromised", since)

    answer = verdict(public, later_vc)
    assert (answer["valid"], answer["failed"]) == (False, ["key"])
    assert outcome(answer, "key") == ("failed", "INVALID_VERIFICATION_METHOD")
    assert (answer["verdict"], answer["verified"]) == ("not_valid", False)
    assert answer["errors"][0]["type"] == "https://w3id.org/security#INVALID_VERIFICATION_METHOD"
    assert answer["proof"]["key_status_at_signing"] == "compromised"
    answer = verdict(public, earlier_vc)
    assert answer["valid"] is True, answer["checks"]
    assert (answer["verdict"], outcome(answer, "key")) == ("valid_with_warnings", ("warning", None))
    assert datetime.fromisoformat(answer["proof"]["key"]["compromised_since"]) == since

    # The next export (and the status lists) are signed with the replacement the report made.
    fresh = exported(provider, read_models, later)
    assert fresh["proof"]["verificationMethod"].endswith("#key-2")
    assert verdict(public, fresh)["valid"] is True
    document = did_document(public, world.provider_id)
    compromised = document["verificationMethod"][0]
    assert compromised["id"].endswith("#key-1") and compromised["revoked"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert document["assertionMethod"] == [f"{document['id']}#key-2"]


def test_a_backdated_proof_by_a_compromised_key_is_refused(
    services: Services, world: World, provider: As, public: As, read_models: ReadModels
):
    genuine = exported(provider, read_models, world.issue())
    key_1 = services.registry.issuer_keys(world.provider_id).key("key-1")
    stolen = services.issuer_keys.vault.private_key(world.provider_id, key_1.public_key_multibase)
    services.registry.report_key_compromised(
        world.provider, world.provider_id, key_id="key-1", since=datetime.now(UTC) - timedelta(seconds=1)
    )
    wait_until(datetime.now(UTC) + timedelta(seconds=1))
    recorded_later = world.issue()  # recorded after the compromise
    read_models.catch_up([STATUS])

    def forged(credential_id: UUID) -> dict[str, Any]:
        document = {k: v for k, v in genuine.items() if k != "proof"}
        document["id"] = f"urn:uuid:{credential_id}"
        proof = genuine["proof"]  # its created claims to predate the compromise
        return add_proof(
            document, stolen, proof["verificationMethod"], cryptosuite=proof["cryptosuite"], created=proof["created"]
        )

    for credential_id in (recorded_later, uuid4()):
        answer = verdict(public, forged(credential_id))
        assert answer["valid"] is False
        assert outcome(answer, "proof") == ("passed", None)  # the signature is the stolen key's
        assert outcome(answer, "key") == ("failed", "INVALID_VERIFICATION_METHOD"), answer["checks"]


# --- DID documents and the key routes -------------------------------------------------------------------------------


def test_did_documents_list_each_issuers_keys(services: Services, world: World, public: As, client: TestClient):
    issuer, actor = unkeyed(world)
    document = did_document(public, issuer)
    assert document["id"] == services.issuer_keys.did(issuer)
    assert (document["verificationMethod"], document["assertionMethod"]) == ([], [])  # not accredited: no key
    assert public.get(f"/issuers/{uuid4()}/did.json").status_code == 404
    assert public.get(f"/issuers/{REGISTRY_ISSUER_ID}/did.json").status_code == 404
    assert public.get(f"/issuers/{world.agency_id}/did.json").status_code == 404

    made = services.issuer_keys.rotate(actor, issuer)
    document = did_document(public, issuer)
    (method,) = document["verificationMethod"]
    assert method == {
        "id": f"{document['id']}#key-1",
        "type": "Multikey",
        "controller": document["id"],
        "publicKeyMultibase": made.public_key_multibase,
    }
    assert document["@context"] == ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
    first = public.get(f"/issuers/{issuer}/did.json")
    assert first.headers["cache-control"] == "public, max-age=300"
    unchanged = client.get(f"/issuers/{issuer}/did.json", headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304

    operator = caller(services, client, Role.OPERATOR, uuid4())
    response = operator.post(f"/v1/issuers/{REGISTRY_ISSUER_ID}/keys")
    assert response.status_code == 201, response.text
    registry_document = public.get("/.well-known/did.json").json()
    assert [m["id"].rsplit("#", 1)[1] for m in registry_document["verificationMethod"]] == ["log", "key-1"]
    listed = public.get(f"/v1/issuers/{REGISTRY_ISSUER_ID}/keys").json()
    assert listed["did"] == services.identity.did and [k["key_id"] for k in listed["keys"]] == ["key-1"]


def test_key_routes_refuse_bad_requests_with_problems(
    services: Services, world: World, provider: As, client: TestClient
):
    route = f"/v1/issuers/{world.provider_id}/keys"
    other = caller(services, client, Role.PROVIDER, world.register_provider("BE", "Université Exemple"))
    assert provider.post(route, {"valid_from": "2020-01-01T00:00:00Z"}).status_code == 422
    assert provider.post(route, {"color": "blue"}).status_code == 422
    assert other.post(route).status_code == 403
    assert As(client, None).post(route).status_code == 401
    assert provider.post(f"/v1/issuers/{uuid4()}/keys").status_code == 404
    assert provider.post(route).status_code == 201

    compromised = f"{route}/key-1/compromised"
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert provider.post(compromised, {"since": future}).json()["field"] == "since"
    assert provider.post(compromised, {}).status_code == 422
    assert provider.post(f"{route}/key-7/compromised", {"since": "2024-01-01T00:00:00Z"}).status_code == 404
    assert provider.post(f"{route}/primary/compromised", {"since": "2024-01-01T00:00:00Z"}).status_code == 422
    assert other.post(compromised, {"since": "2024-01-01T00:00:00Z"}).status_code == 403
    assert provider.post(compromised, {"since": "2024-01-01T00:00:00Z"}).status_code == 200
    assert provider.post(compromised, {"since": "2024-06-01T00:00:00Z"}).status_code == 409
    assert As(client, None).get(f"/v1/issuers/{uuid4()}/keys").status_code == 404
