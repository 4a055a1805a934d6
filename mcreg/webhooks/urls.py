"""Which URLs a webhook may name, and where a delivery may connect: no server-side request forgery.

HTTPS only, except loopback HTTP in development (a receiver on the developer's machine). In production a URL whose
host resolves to an address that is not global (private, loopback, link-local, shared, reserved, multicast) is
refused, when subscribing and again before every delivery: a name may resolve elsewhere later (DNS rebinding), so
a delivery connects to the address it checked (``Destination.address``), not to a second lookup's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from mcreg.registry.errors import InvalidInput

MAX_URL_LENGTH = 2000

Resolver = Callable[[str, int], list[str]]
"""The addresses a host name resolves to for a port."""

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str, port: int) -> list[str]:
    """The host's addresses, as the system resolver answers."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeUrl(f"does not resolve ({error})") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class UnsafeUrl(InvalidInput):
    """The webhook URL is one the registry will not call."""

    def __init__(self, rule: str) -> None:
        super().__init__("url", rule)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a delivery connects: the URL as the subscriber gave it, and the address checked for its host."""

    url: str
    host: str
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address (TLS still names and checks ``host``)."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = literal if parts.port is None else f"{literal}:{parts.port}"
        return parts._replace(netloc=netloc).geturl()


class UrlPolicy:
    """The URL rules of one environment; ``resolver`` is the system's unless a test gives its own."""

    def __init__(self, development: bool, resolver: Resolver = resolve) -> None:
        self.development = development
        self.resolver = resolver

    def check(self, url: str) -> Destination:
        """The destination ``url`` may be delivered to now; ``UnsafeUrl`` saying why not."""
        parts = self._shape(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = _address(host)
        addresses = [str(literal)] if literal is not None else self.resolver(host, port)
        if not addresses:
            raise UnsafeUrl("does not resolve")
        if parts.scheme == "http" and not all(_loopback(a) for a in addresses):
            raise UnsafeUrl("must be https (plain http only to a loopback address, in development)")
        if not self.development:
            for address in addresses:
                if not _ip(address).is_global:
                    raise UnsafeUrl(f"resolves to {address}, which is not a public address")
        return Destination(url, host, addresses[0])

    def _shape(self, url: str) -> SplitResult:
        if len(url) > MAX_URL_LENGTH:
            raise UnsafeUrl(f"must be at most {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError as error:
            raise UnsafeUrl(f"is not a URL ({error})") from error
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise UnsafeUrl("must be an https URL with a host")
        if parts.scheme == "http" and not self.development:
            raise UnsafeUrl("must be https")
        if parts.username is not None or parts.password is not None:
            raise UnsafeUrl("must not carry credentials")
        if parts.fragment:
            raise UnsafeUrl("must not have a fragment")
        return parts


def _address(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _ip(address: str) -> IpAddress:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone does not change what it is
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _loopback(address: str) -> bool:
    return _ip(address).is_loopback
