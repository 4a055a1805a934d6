"""Settings as the composition root reads them: the public URL a server's links are built on."""

from __future__ import annotations

import pytest

from mcreg.settings import Settings


@pytest.mark.parametrize(
    ("host", "port", "public_url"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("0.0.0.0", 8080, "http://127.0.0.1:8080"),  # every interface: the link names the loopback address
        ("::", 8080, "http://[::1]:8080"),
        ("registry.local", 80, "http://registry.local:80"),
    ],
)
def test_unless_set_the_public_url_names_the_address_served(
    monkeypatch: pytest.MonkeyPatch, host: str, port: int, public_url: str
) -> None:
    monkeypatch.delenv("MCREG_PUBLIC_URL", raising=False)
    assert Settings().public_url == "http://127.0.0.1:8000"
    assert Settings().served_at(host, port).public_url == public_url


def test_a_public_url_set_in_the_environment_wins_over_the_address_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCREG_PUBLIC_URL", "https://registry.example")
    assert Settings().served_at("0.0.0.0", 8080).public_url == "https://registry.example"
