"""Failed authentications, counted per client address: past the limit, the address is refused before any lookup.

A guessed API key costs one indexed lookup of its prefix, and the secret is 32 random bytes, so guessing cannot
succeed; what the limit stops is the load of trying, and credential stuffing with leaked tokens. Only refusals
count: a client whose keys are valid never meets the limit. Once an address is over it, every key it presents
is refused with a 429 and ``Retry-After`` until the moving window has room again, valid keys included: answering
them would tell a guesser which of its guesses was right. Requests without a key are not throttled here.

Counts live in the process, as `limits`' moving window: each API process allows the limit on its own. Behind a
reverse proxy the address is the client's from ``X-Forwarded-For``: uvicorn trusts a proxy on the same host, and
others named in ``FORWARDED_ALLOW_IPS``.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class FailedAuthentications:
    def __init__(self, limit: str) -> None:
        self.limit: RateLimitItem = parse(limit)
        self.window = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, address: str) -> int | None:
        """Seconds until ``address`` may present a key again, or None if it may now."""
        if self.window.test(self.limit, address):
            return None
        reset = self.window.get_window_stats(self.limit, address).reset_time
        return max(1, math.ceil(reset - time.time()))

    def failed(self, address: str) -> None:
        self.window.hit(self.limit, address)
