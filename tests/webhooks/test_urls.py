"""The URLs a webhook may name: https, loopback http in development only, and never, in production, a name that
resolves to a private, loopback or link-local address, at subscription or (DNS rebinding) at delivery."""

from __future__ import annotations

import pytest

from mcreg.webhooks.urls import UnsafeUrl, UrlPolicy


def resolver(answers: dict[str, list[str]]) -> UrlPolicy:
    return UrlPolicy(development=False, resolver=lambda host, port: answers[host])


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.example.org/in", "must be https"),
        ("ftp://hooks.example.org/in", "must be an https URL with a host"),
        ("https:///in", "must be an https URL with a host"),
        ("https://user:pw@hooks.example.org/in", "must not carry credentials"),
        ("https://hooks.example.org:99999/in", "is not a URL (Port out of range 0-65535)"),
        ("https://10.0.0.7/in", "resolves to 10.0.0.7, which is not a public address"),
        ("https://127.0.0.1/in", "resolves to 127.0.0.1, which is not a public address"),
        ("https://[::1]/in", "resolves to ::1, which is not a public address"),
        ("https://169.254.169.254/latest/meta-data", "resolves to 169.254.169.254, which is not a public address"),
        ("https://[::ffff:192.168.1.1]/in", "resolves to ::ffff:c0a8:101, which is not a public address"),
        ("https://internal.example.org/in", "resolves to 192.168.3.4, which is not a public address"),
        ("https://mixed.example.org/in", "resolves to 172.16.0.1, which is not a public address"),
        ("https://" + "a" * 2000 + ".org/", "must be at most 2000 characters"),
    ],
)
def test_production_refuses_what_is_not_https_to_a_public_address(url: str, rule: str) -> None:
    policy = resolver({"internal.example.org": ["192.168.3.4"], "mixed.example.org": ["93.184.215.14", "172.16.0.1"]})
    with pytest.raises(UnsafeUrl) as refused:
        policy.check(url)
    assert refused.value.field == "url"
    assert refused.value.rule == rule


def test_a_public_https_url_is_delivered_to_the_address_checked() -> None:
    destination = resolver({"hooks.example.org": ["93.184.215.14"]}).check("https://hooks.example.org:8443/in?x=1")
    assert destination.pinned_url == "https://93.184.215.14:8443/in?x=1"
    assert destination.host == "hooks.example.org"


def test_a_name_that_rebinds_to_a_private_address_is_refused_at_delivery() -> None:
    answers = {"hooks.example.org": ["93.184.215.14"]}
    policy = resolver(answers)
    policy.check("https://hooks.example.org/in")  # at subscription
    answers["hooks.example.org"] = ["127.0.0.1"]
    with pytest.raises(UnsafeUrl, match=r"resolves to 127\.0\.0\.1"):
        policy.check("https://hooks.example.org/in")  # before a delivery


def test_development_allows_plain_http_to_loopback_only() -> None:
    policy = UrlPolicy(
        development=True, resolver=lambda host, port: {"localhost": ["127.0.0.1"]}.get(host, ["10.1.1.1"])
    )
    assert policy.check("http://127.0.0.1:8080/in").address == "127.0.0.1"
    assert policy.check("http://localhost:8080/in").address == "127.0.0.1"
    with pytest.raises(UnsafeUrl, match="must be https"):
        policy.check("http://intranet.example.org/in")
    assert policy.check("https://intranet.example.org/in").address == "10.1.1.1"


def test_a_name_that_does_not_resolve_is_refused() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise UnsafeUrl("does not resolve")

    with pytest.raises(UnsafeUrl, match="does not resolve"):
        UrlPolicy(development=False, resolver=nowhere).check("https://nowhere.invalid/in")
