"""Twilio's documented load limits, as the emulator enforces them.

Sync (twilio.com/docs/sync/limits, error 54009): reads and writes of one object (a Map, with its Items)
up to 20 per second each, with a ten-second burst window; new objects in a service up to 20 per second.
The REST API: at most 100 requests of an account in flight (error 20429).

Each rate is a token bucket: it holds `rate × window` tokens, refills at `rate` per second, and a request
that finds it empty is refused without taking anything. New objects get no burst window (Twilio names
one only for reads and writes), so their bucket holds one second's worth. The buckets run on Twilio time:
the monotonic clock divided by `time_scale`, plus what `Throttle.advance` added.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from enum import Enum


class SyncLimit(Enum):
    """A Sync rate a request counts against; the value names what is counted, before the SID it is counted for."""

    OBJECT_READS = "reads of Sync object"
    OBJECT_WRITES = "writes to Sync object"
    CREATIONS = "new objects in Sync service"


@dataclass(frozen=True)
class Limits:
    """The load limits of one account; the defaults are Twilio's documented values."""

    sync_object_reads_per_second: float = 20.0
    sync_object_writes_per_second: float = 20.0
    sync_burst_window_seconds: float = 10.0
    sync_creations_per_second: float = 20.0  # per service, with no burst window
    account_concurrency: int = 100
    # How many real seconds one Twilio second lasts: refills are that much slower, capacities and concurrency unchanged.
    time_scale: float = 1.0

    def __post_init__(self) -> None:
        for limit in fields(self):
            if not getattr(self, limit.name) > 0:
                raise ValueError(f"{limit.name} must be above 0, not {getattr(self, limit.name)!r}")

    def scaled(self, time_scale: float) -> Limits:
        """The same limits with one Twilio second lasting `time_scale` real seconds."""
        return replace(self, time_scale=time_scale)

    def rate(self, limit: SyncLimit) -> float:
        """Tokens per Twilio second."""
        return {
            SyncLimit.OBJECT_READS: self.sync_object_reads_per_second,
            SyncLimit.OBJECT_WRITES: self.sync_object_writes_per_second,
            SyncLimit.CREATIONS: self.sync_creations_per_second,
        }[limit]

    def capacity(self, limit: SyncLimit) -> float:
        """The burst: a full bucket's tokens."""
        window = 1.0 if limit is SyncLimit.CREATIONS else self.sync_burst_window_seconds
        return self.rate(limit) * window


@dataclass
class _Bucket:
    capacity: float
    rate: float
    tokens: float
    updated: float  # Twilio seconds

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Throttle:
    """One account's buckets and requests in flight under `limits` (None: counted, never refused). Thread-safe."""

    def __init__(self, limits: Limits | None):
        self.limits = limits
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._advanced = 0.0
        self._buckets: dict[tuple[SyncLimit, str], _Bucket] = {}
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def advance(self, seconds: float) -> None:
        """Let `seconds` of Twilio time pass: the buckets refill by them."""
        with self._lock:
            self._advanced += seconds

    @contextmanager
    def request(self) -> Iterator[bool]:
        """Count a request in flight while it is served; yields False,
        counting nothing, when the account has all it may have."""
        with self._lock:
            admitted = self.limits is None or self._in_flight < self.limits.account_concurrency
            if admitted:
                self._in_flight += 1
        try:
            yield admitted
        finally:
            if admitted:
                with self._lock:
                    self._in_flight -= 1

    def take(self, limit: SyncLimit, sid: str) -> bool:
        """Take a token from the bucket of `limit` for `sid` (a full
        one the first time); False, taking nothing, if it is empty."""
        if self.limits is None:
            return True
        with self._lock:
            now = self._now()
            bucket = self._buckets.get((limit, sid))
            if bucket is None:
                capacity = self.limits.capacity(limit)
                bucket = self._buckets[(limit, sid)] = _Bucket(capacity, self.limits.rate(limit), capacity, now)
            return bucket.take(now)

    def _now(self) -> float:
        """Twilio seconds since the throttle started."""
        return (time.monotonic() - self._started) / self.limits.time_scale + self._advanced
