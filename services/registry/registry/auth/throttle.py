"""Sign-in throttling: failed attempts counted per username and per client address.

Counting uses the ``limits`` library (moving windows, in this process's memory;
its Redis/Memcached storages take over unchanged when several registry replicas
must share the counts). Only failures count, so a person who types their
password right is never slowed down; a success clears their username's count.
A sixth failure for one username within 15 minutes, or a 31st from one address
(an office behind one NAT signs in many people), is answered 429 with
``Retry-After`` — before the password is even checked.
"""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from shared.errors import TooManyRequests

FAILURES_PER_USERNAME = parse("5/15 minutes")
FAILURES_PER_ADDRESS = parse("30/15 minutes")


class SignInThrottle:
    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def _keys(self, username: str, address: str):
        return (
            (FAILURES_PER_USERNAME, "user", username.casefold()),
            (FAILURES_PER_ADDRESS, "address", address),
        )

    async def check(self, username: str, address: str) -> None:
        """429 with Retry-After when the username or the address has used up its failures."""
        for limit, kind, key in self._keys(username, address):
            if not await self._limiter.test(limit, kind, key):
                stats = await self._limiter.get_window_stats(limit, kind, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyRequests(
                    "Too many failed sign-ins; wait before trying again.",
                    retry_after=retry_after,
                )

    async def failed(self, username: str, address: str) -> None:
        for limit, kind, key in self._keys(username, address):
            await self._limiter.hit(limit, kind, key)

    async def succeeded(self, username: str) -> None:
        await self._limiter.clear(FAILURES_PER_USERNAME, "user", username.casefold())
