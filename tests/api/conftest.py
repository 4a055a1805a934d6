"""What API tests share beside tests/conftest.py's world, provider and public: a network that is not there."""

from __future__ import annotations

import socket
from typing import Any

import pytest


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """No name but the database's is looked up: a context, a DID or a status list in a document is never fetched."""
    asked: list[str] = []
    resolve = socket.getaddrinfo

    def local_only(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in ("localhost", "127.0.0.1", "::1", None):
            asked.append(str(host))
            raise OSError(f"the tests are offline: {host} was looked up")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    return asked
