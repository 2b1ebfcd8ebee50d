"""Arithmetic of the benchmark: percentiles, and what a call's Twilio requests cost in time.

Times are `time.monotonic()` seconds, the clock the emulator records `started`/`finished` with, so a
call's timings and its requests' timings compare directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from itertools import pairwise

Interval = tuple[float, float]
PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], rank: float) -> float:
    """The nearest-rank percentile: a value that was measured, never one interpolated between two."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(rank / 100 * len(ordered)) - 1)]


def summary(values: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99, mean and max, rounded to 0.01 (milliseconds in, milliseconds out); empty for no values."""
    if not values:
        return {"count": 0}
    figures = {f"p{rank}": percentile(values, rank) for rank in PERCENTILES}
    figures |= {"mean": sum(values) / len(values), "max": max(values)}
    return {"count": len(values), **{name: round(value, 2) for name, value in figures.items()}}


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """The intervals with every overlap joined: the time at least one of them was running."""
    joined: list[Interval] = []
    for start, end in sorted(intervals):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def busy(intervals: Iterable[Interval]) -> float:
    """How long at least one request was in Twilio's hands (the union of the intervals)."""
    return sum(end - start for start, end in merged(intervals))


def sequential_rounds(intervals: Sequence[Interval]) -> int:
    """The longest chain of requests each sent after the one before it was answered: the round trips a
    caller waits for one after the other. Requests that overlap were sent side by side and count once."""
    ordered = sorted(intervals)
    longest = [1] * len(ordered)
    for index, (start, _) in enumerate(ordered):
        earlier = [longest[j] for j in range(index) if ordered[j][1] <= start]
        longest[index] += max(earlier, default=0)
    return max(longest, default=0)


def peak_overlap(intervals: Iterable[Interval]) -> int:
    """The most intervals open at one moment (an interval ending as another starts does not overlap it)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = open_now = 0
    for _, change in events:
        open_now += change
        peak = max(peak, open_now)
    return peak


def idle_parts(call: Interval, intervals: Sequence[Interval]) -> dict[str, float]:
    """Where a call's time outside Twilio went: before its first request, between requests, after its last.

    The three add up to the call's wall time minus `busy(intervals)`.
    """
    joined = merged(intervals)
    if not joined:
        return {"before_first": call[1] - call[0], "between": 0.0, "after_last": 0.0}
    between = sum(later[0] - earlier[1] for earlier, later in pairwise(joined))
    return {"before_first": joined[0][0] - call[0], "between": between, "after_last": call[1] - joined[-1][1]}
