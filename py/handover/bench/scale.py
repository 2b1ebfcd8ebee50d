"""The handoff at contact-center scale: the rate Twilio's documented limits allow an account, and a spike at them.

The spike is time-scaled: with a time scale of T, every Twilio time runs T times slower (the emulator's
rate limits refill T times slower, each request takes T times the round trip, the calls arrive over T
times the window), so that a small machine offers the same load, relative to Twilio's limits, that
Twilio would see in real time. The function's own timers (its deadline, its retries' backoff) are not
scaled: they run at real speed, which only makes them more patient relative to Twilio than in production.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from twilio_emulator import Limits

from .. import contract
from . import stats
from .calls import Answer
from .handoffs import ALREADY_HANDED_OFF, HANDED_OFF, Stage, interactions_per_conversation, new_conversations

SYNC_RATE_LIMITED, ACCOUNT_CONCURRENCY_LIMITED = 54009, 20429
NO_ANSWER = "no_answer"
# The same arrivals every run, so that two runs differ only by the code and the machine.
ARRIVALS_SEED = 20261201


@dataclass(frozen=True)
class Spike:
    conversations: int
    calls_each: int
    window_seconds: float  # Twilio time over which the calls arrive
    time_scale: float
    latency_ms: float  # Twilio's round trip, in Twilio time
    workers: int  # the callers' threads: calls in flight at most
    timeout_seconds: float  # for the whole spike, after its last arrival


def sustained_rate(limits: Limits, round_trips: list[dict], latency_ms: float, calls_each: int) -> dict:
    """The handoffs per second an account can sustain under the documented limits, with `calls_each` calls each.

    Sync: each call's claim create is a write on its conversation's claim Map (a refused create counts too);
    a duplicate may read the claim once. The claims spread over CLAIM_SHARDS Maps, each allowed the
    documented writes (and reads) per second. REST concurrency: the account keeps at most
    `account_concurrency` requests in flight; a handoff keeps its requests (a first call's, and its
    duplicates') in flight for a round trip each.
    """
    by_key = {row["key"]: row for row in round_trips}
    first, duplicate = by_key["first_handoff_phone"]["requests"], by_key["duplicate"]["requests"]
    sync_writes_per_handoff = calls_each
    sync_reads_per_handoff = (
        calls_each - 1
    )  # at most: a duplicate reads the claim only while the first call is under way
    by_sync_writes = contract.CLAIM_SHARDS * limits.sync_object_writes_per_second / sync_writes_per_handoff
    by_sync_reads = contract.CLAIM_SHARDS * limits.sync_object_reads_per_second / max(1, sync_reads_per_handoff)
    request_seconds = (first + (calls_each - 1) * duplicate) * latency_ms / 1000
    by_concurrency = limits.account_concurrency / request_seconds
    bounds = {"sync_writes": by_sync_writes, "sync_reads": by_sync_reads, "rest_concurrency": by_concurrency}
    binding = min(bounds, key=bounds.get)
    return {
        "calls_per_handoff": calls_each,
        "claim_maps": contract.CLAIM_SHARDS,
        "sync_writes_per_handoff": sync_writes_per_handoff,
        "sync_reads_per_handoff_at_most": sync_reads_per_handoff,
        "requests_per_handoff": first + (calls_each - 1) * duplicate,
        "latency_ms": latency_ms,
        "bounds_per_second": {name: round(value, 1) for name, value in bounds.items()},
        "binding": binding,
        "handoffs_per_second": round(bounds[binding], 1),
    }


def spike(stage: Stage, plan: Spike) -> dict:
    """`plan.conversations` conversations, `plan.calls_each` calls each, at random moments of the window.

    The emulator enforces Twilio's documented limits, scaled by `plan.time_scale`, for the spike only.
    Bounded: at most `plan.workers` calls in flight, each with its own timeout, and the spike stops
    waiting `plan.timeout_seconds` after its last arrival.
    """
    emulator = stage.emulator
    sids = new_conversations(stage, plan.conversations)
    arrivals = random.Random(ARRIVALS_SEED)
    window = plan.window_seconds * plan.time_scale
    schedule = sorted((arrivals.uniform(0, window), sid) for _ in range(plan.calls_each) for sid in sids)
    latency_before, limits_before = emulator.latency, emulator.limits
    emulator.latency = plan.latency_ms * plan.time_scale / 1000
    emulator.set_limits(Limits().scaled(plan.time_scale))
    first_request = len(emulator.requests)
    try:
        answers, lateness = _arrive(stage, schedule, plan)
    finally:
        emulator.latency = latency_before
        emulator.set_limits(limits_before)
    requests = emulator.requests[first_request:]
    per_conversation = interactions_per_conversation(emulator)
    made = Counter(per_conversation[sid] for sid in sids)
    outcomes = Counter(f"{a.status} {a.outcome}" for a in answers)
    refused = Counter(
        request.response.get("code")
        for request in requests
        if request.status == 429 and isinstance(request.response, dict)
    )
    handed_off = [a.milliseconds for a in answers if a.outcome == HANDED_OFF]
    return {
        "conversations": plan.conversations,
        "calls_per_conversation": plan.calls_each,
        "calls": len(answers),
        "window_seconds": plan.window_seconds,
        "time_scale": plan.time_scale,
        "latency_ms": plan.latency_ms,
        "workers": plan.workers,
        "wall_seconds": round(max(a.finished for a in answers) - min(a.started for a in answers), 1),
        "arrival_lateness_ms": stats.summary(lateness),
        "answers": dict(outcomes),
        "server_errors": sum(count for answer, count in outcomes.items() if answer.startswith("5")),
        "unanswered": outcomes[f"0 {NO_ANSWER}"],
        "tasks": sum(per_conversation[sid] for sid in sids),
        "conversations_with_one_task": made[1],
        "lost": made[0],
        "duplicated": sum(count for tasks, count in made.items() if tasks > 1),
        "twilio_requests": len(requests),
        "sync_requests": sum(1 for request in requests if request.host.startswith("sync.")),
        "sync_rate_limited": refused[SYNC_RATE_LIMITED],
        "concurrency_limited": refused[ACCOUNT_CONCURRENCY_LIMITED],
        "peak_requests_in_flight": stats.peak_overlap([(r.started, r.finished) for r in requests]),
        # In Twilio time: what a customer would wait at Twilio's speed (the real figures divided by the scale).
        "latency_twilio_ms": {
            "all": _scaled(stats.summary([a.milliseconds for a in answers]), plan.time_scale),
            HANDED_OFF: _scaled(stats.summary(handed_off), plan.time_scale),
            ALREADY_HANDED_OFF: _scaled(
                stats.summary([a.milliseconds for a in answers if a.outcome == ALREADY_HANDED_OFF]), plan.time_scale
            ),
        },
        "samples": {"wall_ms": [round(a.milliseconds / plan.time_scale, 2) for a in answers]},
    }


def _arrive(stage: Stage, schedule: list[tuple[float, str]], plan: Spike) -> tuple[list[Answer], list[float]]:
    """Start each call at its moment (from a pool of `plan.workers` threads); the answers, and how late each started."""
    lateness: list[float] = []
    start = time.monotonic()

    def call_at(moment: float, headers: dict[str, str]) -> Answer:
        began = time.monotonic()
        lateness.append(max(0.0, began - start - moment) * 1000)
        try:
            return stage.caller.call(headers)
        except OSError:  # no answer within the call's own timeout: counted, never waited for again
            return Answer(0, {"status": NO_ANSWER}, began, time.monotonic())

    with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="spike") as pool:
        futures = []
        for moment, sid in schedule:
            time.sleep(max(0.0, start + moment - time.monotonic()))
            futures.append(pool.submit(partial(call_at, moment, stage.caller.headers(sid))))
        give_up = time.monotonic() + plan.timeout_seconds
        answers = [future.result(timeout=max(0.1, give_up - time.monotonic())) for future in futures]
    return answers, lateness


def _scaled(summary: dict, time_scale: float) -> dict:
    return {name: (value if name == "count" else round(value / time_scale, 2)) for name, value in summary.items()}
