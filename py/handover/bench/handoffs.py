"""The handoff through the real runtime and the emulator: round trips per outcome, latency, and a burst.

Every Twilio request the function makes is counted and timed by the emulator (`RecordedRequest.started`
and `finished`), so that the time a call spent outside Twilio can be told from the time Twilio took.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from twilio_emulator import Emulator, FlexAccount, RecordedRequest, add_conversation

from . import stats
from .calls import WRONG_TOKEN, Answer, Caller, call_together

HANDED_OFF, ALREADY_HANDED_OFF = "handed_off", "already_handed_off"


@dataclass(frozen=True)
class Stage:
    """A running runtime against the emulated account, and who calls it."""

    emulator: Emulator
    account: FlexAccount
    caller: Caller


def new_conversations(stage: Stage, count: int) -> list[str]:
    return [add_conversation(stage.emulator, stage.account, f"Benchmark customer {index}") for index in range(count)]


def measured(stage: Stage, headers: dict[str, str]) -> tuple[Answer, list[RecordedRequest]]:
    """One call, and the Twilio requests it made (calls are made one at a time, so they are its own)."""
    before = len(stage.emulator.requests)
    answer = stage.caller.call(headers)
    return answer, stage.emulator.requests[before:]


def intervals(requests: list[RecordedRequest]) -> list[stats.Interval]:
    return [(request.started, request.finished) for request in requests]


# Round trips per outcome -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    key: str
    title: str
    status: int  # the HTTP status the outcome is answered with
    floor_requests: int
    floor_rounds: int
    floor_reason: str
    beyond_floor: str  # what this implementation does beyond the floor, and why


OUTCOMES = (
    Outcome(
        "first_handoff_phone",
        "First handoff (phone identity)",
        200,
        2,
        2,
        "exactly once needs an atomic claim before the interaction (Sync's create fails on an existing key); "
        "the Interactions API has no idempotency key, so no fewer than claim + interaction, one after the other",
        "beside the claim, the conversation read; beside the interaction, the handoff recorded on the conversation "
        "(Conversations has no partial update of attributes, so the record needs the read): no round added",
    ),
    Outcome(
        "first_handoff_webchat",
        "First handoff (web chat identity)",
        200,
        3,
        2,
        "claim + interaction, plus the customer's name lookup beside the claim",
        "the conversation read and its record, beside the claim "
        "and the interaction as for a phone identity: no round added",
    ),
    Outcome(
        "duplicate",
        "Duplicate (same conversation again)",
        200,
        1,
        1,
        "a call cannot know that another one holds the conversation without asking: the claim's create, answered 409",
        "the conversation read sent beside the claim (a first call needs it, and a call cannot know it is not the "
        "first): its record of the handoff answers without reading the claim",
    ),
    Outcome("rejected_input", "Rejected input (no X-Session-Id)", 400, 0, 0, "refused before any Twilio call", "none"),
    Outcome("unauthenticated", "Unauthenticated (wrong token)", 401, 0, 0, "refused before any Twilio call", "none"),
)


def round_trips(stage: Stage) -> list[dict]:
    """Each outcome once, on fresh conversations: the requests the emulator counted, beside the floor."""
    phone, webchat = new_conversations(stage, 2)
    caller = stage.caller
    headers = {
        "first_handoff_phone": caller.headers(phone),
        "first_handoff_webchat": caller.headers(webchat, identity=f"flex_participant:{stage.account.webchat_identity}"),
        "duplicate": caller.headers(phone),  # after the first handoff of `phone`
        "rejected_input": caller.headers(None),
        "unauthenticated": caller.headers(phone, token=WRONG_TOKEN),
    }
    rows = []
    for outcome in OUTCOMES:
        answer, requests = measured(stage, headers[outcome.key])
        rows.append(
            {
                "key": outcome.key,
                "outcome": outcome.title,
                "http_status": answer.status,
                "answer": answer.outcome,
                "expected_status": outcome.status,
                "requests": len(requests),
                "sequential_rounds": stats.sequential_rounds(intervals(requests)),
                "operations": [request.operation or f"{request.method} {request.path}" for request in requests],
                "floor_requests": outcome.floor_requests,
                "floor_rounds": outcome.floor_rounds,
                "floor_reason": outcome.floor_reason,
                "beyond_floor": outcome.beyond_floor,
            }
        )
    return rows


# Latency of a handoff --------------------------------------------------------------------------------


def latency(stage: Stage, calls: int, refused_calls: int, latency_ms: float, budget_seconds: float) -> dict:
    """`calls` first handoffs on distinct conversations, one at a time, and `refused_calls` refused ones.

    Per handoff: its wall time at the caller, the time Twilio was busy with it (the union of its
    requests' intervals), the difference (the overhead), where that went, and its sequential rounds.
    The refused calls (401: no Twilio request) give the cost of the runtime alone. Stops making calls once
    `budget_seconds` have passed (`completed` says how many handoffs were made).
    """
    deadline = time.monotonic() + budget_seconds
    caller = stage.caller
    wall, twilio, overhead, rounds, unexpected = [], [], [], [], Counter()
    parts: dict[str, list[float]] = {"before_first": [], "between": [], "after_last": []}
    for conversation in new_conversations(stage, calls):
        if time.monotonic() > deadline:
            break
        answer, requests = measured(stage, caller.headers(conversation))
        if (answer.status, answer.outcome) != (200, HANDED_OFF):
            unexpected[f"{answer.status} {answer.outcome}"] += 1
            continue
        spans = intervals(requests)
        wall.append(answer.milliseconds)
        twilio.append(stats.busy(spans) * 1000)
        overhead.append(wall[-1] - twilio[-1])
        rounds.append(stats.sequential_rounds(spans))
        for name, seconds in stats.idle_parts((answer.started, answer.finished), spans).items():
            parts[name].append(seconds * 1000)
    refused = []
    for _ in range(refused_calls):
        if time.monotonic() > deadline:
            break
        refused.append(caller.call(caller.headers(None, token=WRONG_TOKEN)).milliseconds)
    usual_rounds = Counter(rounds).most_common(1)[0][0] if rounds else 0
    floor_ms = usual_rounds * latency_ms
    return {
        "calls": calls,
        "completed": len(wall),
        "unexpected_answers": dict(unexpected),
        "sequential_rounds": usual_rounds,
        "rounds_times_latency_ms": floor_ms,
        "wall_ms": stats.summary(wall),
        "twilio_busy_ms": stats.summary(twilio),
        "overhead_ms": stats.summary(overhead),
        "above_rounds_times_latency_ms": stats.summary([value - floor_ms for value in wall]),
        "overhead_parts_ms": {name: stats.summary(values) for name, values in parts.items()},
        "refused_call_ms": stats.summary(refused),
        "samples": {"wall_ms": _rounded(wall), "overhead_ms": _rounded(overhead)},
    }


def _rounded(values: list[float]) -> list[float]:
    return [round(value, 2) for value in values]


# Burst -----------------------------------------------------------------------------------------------


def interactions_per_conversation(emulator: Emulator) -> Counter:
    """How many Flex interactions each conversation has (the routing attributes name it)."""
    with emulator.lock:
        interactions = list(emulator.table("interactions").values())
    return Counter(json.loads(i["routing"]["properties"]["attributes"])["conversationSid"] for i in interactions)


def burst(stage: Stage, conversations: int, calls_each: int, timeout: float) -> dict:
    """`conversations` conversations, `calls_each` calls each, interleaved and all released at once."""
    sids = new_conversations(stage, conversations)
    calls = [partial(stage.caller.call, stage.caller.headers(sid)) for _ in range(calls_each) for sid in sids]
    first_request = len(stage.emulator.requests)
    cpu_before, runtime_cpu_before = time.process_time(), children_cpu_seconds()
    answers = call_together(calls, timeout)
    cpu_seconds, runtime_cpu_after = time.process_time() - cpu_before, children_cpu_seconds()
    seconds = max(a.finished for a in answers) - min(a.started for a in answers)
    per_conversation = interactions_per_conversation(stage.emulator)
    made = [per_conversation[sid] for sid in sids]
    outcomes = Counter(f"{a.status} {a.outcome}" for a in answers)
    return {
        "conversations": conversations,
        "calls_per_conversation": calls_each,
        "calls": len(answers),
        "seconds": round(seconds, 3),
        "handoffs_per_second": round(conversations / seconds, 1),
        "calls_per_second": round(len(answers) / seconds, 1),
        "answers": dict(outcomes),
        "interactions": sum(made),
        "conversations_with_one_interaction": made.count(1),
        "exactly_once": made.count(1) == conversations and sum(made) == conversations,
        # Twilio's 429s the function absorbed (retried): by error code, 20429 the account's concurrency, 54009 Sync's
        # rate.
        "rate_limited": dict(
            Counter(str(r.response["code"]) for r in stage.emulator.requests[first_request:] if r.status == 429)
        ),
        "latency_ms": {
            "all": stats.summary([a.milliseconds for a in answers]),
            HANDED_OFF: stats.summary([a.milliseconds for a in answers if a.outcome == HANDED_OFF]),
            ALREADY_HANDED_OFF: stats.summary([a.milliseconds for a in answers if a.outcome == ALREADY_HANDED_OFF]),
        },
        "bench_process_cpu_seconds": round(cpu_seconds, 2),
        "runtime_cpu_seconds": None
        if runtime_cpu_before is None or runtime_cpu_after is None
        else round(runtime_cpu_after - runtime_cpu_before, 2),
        "samples": {"wall_ms": _rounded([a.milliseconds for a in answers])},
    }


def children_cpu_seconds() -> float | None:
    """CPU time used so far by this process's running children (the runtime), from Linux's /proc; None elsewhere."""
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        stats_files = list(Path("/proc").glob("[0-9]*/stat"))
    except OSError:
        return None
    for stat_file in stats_files:
        try:
            # After the command's name in parentheses: state, ppid, … utime and stime are the 12th and 13th.
            fields = stat_file.read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended meanwhile
        if int(fields[1]) == os.getpid():
            total += int(fields[11]) + int(fields[12])
    return total / ticks_per_second if stats_files else None
