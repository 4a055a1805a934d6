"""The OpenAPI description clients generate code from: operation ids, links, and the codes the registry accepts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from mcreg.registry import validate


@pytest.fixture
def description(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def operations(description: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (method, path, operation)."""
    return {
        operation["operationId"]: (method.upper(), path, operation)
        for path, methods in description["paths"].items()
        for method, operation in methods.items()
    }


def links(description: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return description["paths"][path][method.lower()]["responses"]["201"].get("links", {})


def test_operation_ids_are_unique_and_named_after_what_they_do(description: dict[str, Any]) -> None:
    ids = [op["operationId"] for methods in description["paths"].values() for op in methods.values()]
    assert len(ids) == len(set(ids))
    by_id = operations(description)
    assert by_id["revoke_credential"][:2] == ("POST", "/v1/credentials/{credential_id}/revoke")
    assert by_id["decide_recognition"][:2] == ("POST", "/v1/recognitions/{recognition_id}/decision")
    assert by_id["decide_review"][:2] == ("POST", "/v1/reviews/{review_id}/decision")


def test_an_issued_credential_links_to_what_can_be_done_with_it(description: dict[str, Any]) -> None:
    issued = links(description, "POST", "/v1/credentials")
    for action in ("suspend_credential", "reinstate_credential", "revoke_credential", "get_credential"):
        assert issued[action]["parameters"] == {"path.credential_id": "$response.body#/id"}, action
    for export in ("verify_credential", "export_vc", "export_elm"):
        assert export in issued
    assert issued["request_recognition"]["requestBody"] == {"credential_id": "$response.body#/id"}


def test_a_provider_is_linked_as_issuer_and_as_institution(description: dict[str, Any]) -> None:
    registered = links(description, "POST", "/v1/providers")
    assert registered["grant_accreditation"]["requestBody"] == {"provider_id": "$response.body#/id"}
    assert registered["list_issuer_keys"]["parameters"] == {"path.issuer_id": "$response.body#/id"}
    assert registered["request_recognition"]["requestBody"] == {"institution_id": "$response.body#/id"}


def test_a_rotated_key_links_to_its_compromise_report_under_the_same_issuer(description: dict[str, Any]) -> None:
    rotated = links(description, "POST", "/v1/issuers/{issuer_id}/keys")
    assert rotated["report_key_compromised"]["parameters"] == {
        "path.key_id": "$response.body#/key_id",
        "path.issuer_id": "$request.path.issuer_id",
    }


def test_a_new_api_key_is_linked_by_its_prefix(description: dict[str, Any]) -> None:
    created = links(description, "POST", "/v1/keys")
    assert created["revoke_key"]["parameters"] == {"path.prefix": "$response.body#/prefix"}


def test_every_link_leads_to_an_operation_that_exists(description: dict[str, Any]) -> None:
    known = operations(description)
    targets = [
        link["operationId"]
        for methods in description["paths"].values()
        for operation in methods.values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(targets) > 40
    assert set(targets) <= set(known)


def test_codes_are_enumerated_as_the_registry_accepts_them(description: dict[str, Any]) -> None:
    schemas = description["components"]["schemas"]
    country = schemas["NewAgency"]["properties"]["country"]
    assert country["enum"] == sorted(validate.COUNTRIES)
    assert "NL" in country["enum"] and "XX" not in country["enum"]
    spec = schemas["NewMicroCredential"]["properties"]
    assert spec["languages"]["items"]["enum"] == sorted(validate.LANGUAGES)
    assert {"type": "number", "minimum": 0, "maximum": float(validate.ECTS_MAX)} in spec["ects"]["anyOf"]


def test_component_names_are_the_schemas_own_names_free_of_module_paths(description: dict[str, Any]) -> None:
    names = list(description["components"]["schemas"])
    assert [name for name in names if "__" in name or "." in name or name.startswith("mcreg")] == []
    assert {"ApiKeyOut", "IssuerKeyOut"} <= set(names)  # once both KeyOut, told apart only by their modules
