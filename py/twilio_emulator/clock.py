"""The emulator's time: the account's clock, which a test moves on, and the real time a request waits.

Both live here so that a test can replace either on one object (`Emulator.clock`) without sleeping.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class Clock:
    """The account's time (the wall clock plus what `advance` added) and the real seconds a request takes."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> datetime:
        """The account's time: TTLs expire by it."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        """Move the account's time forward, so that a test can let a TTL pass without sleeping."""
        self._offset += seconds

    def set_back(self) -> None:
        """Back to the wall clock: what `advance` added is forgotten."""
        self._offset = 0.0

    def monotonic(self) -> float:
        """Real seconds, for when a request started and finished."""
        return time.monotonic()

    def wait(self, seconds: float) -> None:
        """Wait real seconds: the latency of a round trip, a fault's delay."""
        time.sleep(seconds)
