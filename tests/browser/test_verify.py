"""Verifying a credential in headless Chromium against ``mcreg serve`` on the demo registry.

An employer opens a credential's verification link (what its QR code encodes) and reads the same verdict as
``GET /v1/credentials/{id}/verify`` gives, for a valid, a revoked, a suspended and a QA-lapsed credential; pastes
a tampered credential into ``/verify`` and is told it is not valid, and why; pastes script tags and none runs.
The credential's public page shows its QR code, and axe finds no serious or critical violation on any of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import test_pages as pages
from tests.browser.conftest import Site, assert_accessible

VERDICT_WORDS = {"valid": "Valid", "valid_with_warnings": "Valid, with warnings", "not_valid": "Not valid"}
"""What the page says for each verdict the API gives."""

KINDS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "valid": lambda report: report["verdict"] == "valid",
    "revoked": lambda report: report["status"] == "revoked",
    "suspended": lambda report: report["status"] == "suspended",
    "qa-lapsed": lambda report: (
        report["verdict"] == "valid_with_warnings" and report["qa_as_of"]["standing"] != "in_force"
    ),
}


def exported(site: Site, credential_id: str) -> dict[str, Any]:
    """The credential as its provider hands it to the learner (the operator may export it too)."""
    document: dict[str, Any] = site.get_json(
        f"/v1/credentials/{credential_id}/vc", headers={"Authorization": f"Bearer {site.operator_key}"}
    )
    return document


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_verdict_by_link_is_what_the_api_says(site: Site, browser_page: Page, kind: str) -> None:
    credential_id = site.credential(KINDS[kind])
    report = site.verifications()[credential_id]
    page = browser_page

    response = page.goto(site.url(f"/verify/{credential_id}"))

    assert response is not None and response.status == 200
    live = page.locator(".verdict")
    expect(live).to_have_attribute("role", "alert" if report["verdict"] == "not_valid" else "status")
    expect(live.locator(".verdict-title")).to_have_text(VERDICT_WORDS[report["verdict"]])
    rows = page.locator("table.checks tbody tr")
    expect(rows).to_have_count(len(report["checks"]))
    for row, check in zip(rows.all(), report["checks"], strict=True):
        expect(row).to_have_attribute("data-check", check["check"])
        expect(row).to_have_class(f"outcome-{check['outcome']}")
    assert_accessible(page, f"verify-{kind}")


def test_a_tampered_credential_pasted_into_verify_is_not_valid(site: Site, browser_page: Page) -> None:
    tampered = exported(site, site.credential(KINDS["valid"]))
    tampered["validUntil"] = "2099-12-31T00:00:00Z"
    page = browser_page
    page.goto(site.url("/verify"))
    assert_accessible(page, "verify-form")

    page.get_by_label("The credential, as JSON").fill(json.dumps(tampered, indent=2))
    page.get_by_role("button", name="Verify").click()

    expect(page.locator(".verdict .verdict-title")).to_have_text("Not valid")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("tr[data-check='proof']")).to_have_class("outcome-failed")
    expect(page.locator("tr[data-check='proof']")).to_contain_text("does not match the document")
    assert_accessible(page, "verify-tampered")


def test_a_genuine_credential_uploaded_as_a_file_is_valid(site: Site, browser_page: Page, tmp_path: Any) -> None:
    credential_id = site.credential(KINDS["valid"])
    file = tmp_path / "credential.json"
    file.write_text(json.dumps(exported(site, credential_id)))
    page = browser_page
    page.goto(site.url("/verify"))

    page.get_by_label("Or upload its file").set_input_files(str(file))
    page.get_by_role("button", name="Verify").click()

    expect(page.locator(".verdict .verdict-title")).to_have_text(VERDICT_WORDS["valid"])


def test_pasted_script_tags_do_not_run(site: Site, browser_page: Page) -> None:
    page = browser_page
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(site.url("/verify"))
    pasted = {"@context": "<script>alert('pasted')</script>", "issuer": "<img src=x onerror=alert('img')>"}

    page.get_by_label("The credential, as JSON").fill(json.dumps(pasted))
    page.get_by_role("button", name="Verify").click()

    expect(page.get_by_role("alert")).to_contain_text("This is not a credential")
    expect(page.get_by_label("The credential, as JSON")).to_have_value(json.dumps(pasted))
    assert page.evaluate("document.scripts.length") == 0
    assert dialogs == [], "nothing pasted ran"
    assert_accessible(page, "verify-refused")


def test_the_credential_page_shows_its_facts_and_qr_code(site: Site, browser_page: Page) -> None:
    credential_id = site.credential(KINDS["revoked"])
    page = browser_page

    response = page.goto(site.url(f"/credentials/{credential_id}"))

    assert response is not None and response.status == 200
    expect(page.get_by_role("alert")).to_contain_text("This credential was revoked on")
    qr = page.get_by_role("img", name="QR code of the verification link")
    expect(qr).to_be_visible()
    assert qr.bounding_box() is not None and qr.bounding_box()["width"] >= 100  # type: ignore[index]
    page.get_by_role("link", name="Verify this credential now").click()
    expect(page).to_have_url(site.url(f"/verify/{credential_id}"))
    page.go_back()
    assert_accessible(page, "credential")


@pytest.mark.parametrize("kind", ["verify", "credentials"])
def test_a_credentials_pages_reflow_and_take_the_keyboard(site: Site, browser_page: Page, kind: str) -> None:
    """The pages of one credential (its verification, its public page) as every page: they reflow at 320 px, and
    Tab reaches every link and control, showing where the focus is (the checks of ``test_pages``)."""
    path = f"/{kind}/{site.credential(KINDS['valid'])}"
    pages.test_a_page_reflows_on_a_narrow_screen_with_no_sideways_scroll(site, browser_page, path)
    pages.test_tab_reaches_every_link_and_shows_where_the_focus_is(site, browser_page, path)
