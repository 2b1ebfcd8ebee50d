"""The voice path measured: the <Connect action> function's round trips and latency, and a burst of calls ending.

Round trips and latency, like the messaging handoff's (handoffs.py): Twilio's action request (signed, with
ConversationRelay's parameters) POSTed to the local runtime's /voice/connect-action, one at a time, with the
emulator's round trip (`latency_ms`): a first handoff of a session (one round: the session's Sync claim), Twilio's
retry of it (two: the claim refused 409, then read for the first request's moment), and a session that ended
without a handoff (none).

The burst: `calls` callers already talking to the voice AI (setup, not measured: through /voice/incoming-call, no
emulated latency or limits), whose sessions the AI ends with handoffData at random moments of a window (Twilio
time), at Twilio's documented limits and round trip, time-scaled as the spike (scale.py); every `retry_every`-th
action is requested twice, as Twilio retries one whose answer it did not get. What counts: each call enqueued with
exactly one task (0 lost, 0 doubled) and no action answered 5xx.

Run alone: python -m handover.bench.voice [--calls N] [--time-scale T]; `handover bench` runs it last.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection
from pathlib import Path

from twilio_emulator import Emulator, Limits, add_phone_number, add_sync_map, callers
from twilio_emulator.callbacks import signature

from .. import contract
from ..local.stack import emulated_account, start_runtime
from . import stats
from .calls import CALL_TIMEOUT
from .scale import SYNC_RATE_LIMITED

ACTION_PATH = f"/voice/{contract.CONNECT_ACTION}"
INCOMING_PATH = f"/voice/{contract.INCOMING_CALL}"
RELAY = "wss://voice-ai.example.com/relay"
HANDOFF = {"attributes": {"reason": "The caller disputes a charge.", "summary": "Charged twice for order 1042."}}
ENDINGS_SEED = 20261207
SETUP_CALLERS = 32
BURST_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class VoicePlan:
    latency_ms: float = 50
    calls: int = 200  # sequential action requests per outcome of the latency series
    burst_calls: int = 500
    window_seconds: float = 10.0
    time_scale: float = 6.0
    workers: int = 128
    retry_every: int = 5


def _action_params(emulator: Emulator, call_sid: str, handoff: dict | None, session: str = "") -> dict[str, str]:
    params = {
        "AccountSid": emulator.account.sid,
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "From": "+15557654321",
        "To": "+15551230000",
        "Direction": "inbound",
        "SessionId": session or f"VX{call_sid[2:]}",
        "SessionStatus": "completed",
        "SessionDuration": "42",
    }
    if handoff is not None:
        params["HandoffData"] = json.dumps(handoff)
    return params


def post_action(emulator: Emulator, port: int, params: dict[str, str]) -> tuple[int, float, float]:
    """Twilio's request of the action URL, signed over its https URL: (status, started, finished)."""
    url = f"https://localhost:{port}{ACTION_PATH}"
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature(emulator.account.auth_token, url, params),
    }
    connection = HTTPConnection("127.0.0.1", port, timeout=CALL_TIMEOUT)
    started = time.monotonic()
    try:
        connection.request("POST", ACTION_PATH, body=urllib.parse.urlencode(params), headers=headers)
        response = connection.getresponse()
        response.read()
    finally:
        connection.close()
    return response.status, started, time.monotonic()


def _measured(emulator: Emulator, port: int, params: dict[str, str]) -> dict:
    before = len(emulator.requests)
    status, started, finished = post_action(emulator, port, params)
    requests = emulator.requests[before:]
    return {
        "status": status,
        "wall_ms": (finished - started) * 1000,
        "requests": len(requests),
        "rounds": stats.sequential_rounds([(r.started, r.finished) for r in requests]),
        "operations": [r.operation for r in requests],
    }


def round_trips_and_latency(emulator: Emulator, port: int, calls: int) -> dict:
    """Each outcome `calls` times, one at a time, on fresh sessions: its requests, rounds and wall time."""
    outcomes: dict[str, list[dict]] = {"first_handoff": [], "twilio_retry": [], "ended_without_handoff": []}
    for number in range(calls):
        call_sid = f"CA{number + 1:032x}"
        first = _action_params(emulator, call_sid, HANDOFF)
        outcomes["first_handoff"].append(_measured(emulator, port, first))
        outcomes["twilio_retry"].append(_measured(emulator, port, first))
        ended = _action_params(emulator, f"CA{number + 1 + 10**6:032x}", None)
        outcomes["ended_without_handoff"].append(_measured(emulator, port, ended))
    return {
        key: {
            "calls": len(rows),
            "statuses": dict(Counter(str(row["status"]) for row in rows)),
            "requests": sorted({row["requests"] for row in rows}),
            "sequential_rounds": sorted({row["rounds"] for row in rows}),
            "operations": rows[0]["operations"],
            "wall_ms": stats.summary([row["wall_ms"] for row in rows]),
        }
        for key, rows in outcomes.items()
    }


def burst(emulator: Emulator, port: int, plan: VoicePlan) -> dict:
    """`plan.burst_calls` sessions ended within the window at Twilio's limits: what came of each call."""
    number = "+15551230000"
    with emulator.lock:
        add_phone_number(emulator, number, f"https://localhost:{port}{INCOMING_PATH}")
    latency_before, limits_before = emulator.latency, emulator.limits
    emulator.latency = 0.0
    emulator.set_limits(None)
    setup_started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=SETUP_CALLERS, thread_name_prefix="voice-setup") as pool:
            calls = list(pool.map(lambda _: callers.incoming_call(emulator, number), range(plan.burst_calls)))
    finally:
        emulator.latency = latency_before
        emulator.set_limits(limits_before)
    setup_seconds = time.monotonic() - setup_started
    not_in_session = [c.sid for c in calls if c.relay is None]
    moments = random.Random(ENDINGS_SEED)
    window = plan.window_seconds * plan.time_scale
    schedule = sorted((moments.uniform(0, window), index, c.sid) for index, c in enumerate(calls) if c.relay)
    first_request = len(emulator.requests)
    emulator.latency = plan.latency_ms * plan.time_scale / 1000
    emulator.set_limits(Limits().scaled(plan.time_scale))
    started = time.monotonic()

    def end(moment: float, index: int, call_sid: str) -> None:
        time.sleep(max(0.0, started + moment - time.monotonic()))
        attempts = 2 if index % plan.retry_every == 0 else 1
        callers.end_session(emulator, call_sid, HANDOFF, attempts=attempts)

    try:
        with ThreadPoolExecutor(max_workers=plan.workers, thread_name_prefix="voice-burst") as pool:
            futures = [pool.submit(end, *scheduled) for scheduled in schedule]
            for future in futures:
                future.result(timeout=BURST_TIMEOUT_SECONDS)
    finally:
        emulator.latency = latency_before
        emulator.set_limits(limits_before)
    wall = time.monotonic() - started
    requests = emulator.requests[first_request:]
    with emulator.lock:
        tasks = Counter(json.loads(t["attributes"]).get("call_sid") for t in emulator.table("tasks").values())
    actions = [w for c in calls for w in c.webhooks if w["url"].endswith(ACTION_PATH)]
    refused = Counter(r.response.get("code") for r in requests if r.status == 429 and isinstance(r.response, dict))
    return {
        "calls": plan.burst_calls,
        "window_seconds": plan.window_seconds,
        "time_scale": plan.time_scale,
        "latency_ms": plan.latency_ms,
        "retried_every": plan.retry_every,
        "setup_seconds": round(setup_seconds, 1),
        "wall_seconds": round(wall, 1),
        "not_in_session": len(not_in_session),
        "enqueued": sum(1 for c in calls if tasks[c.sid] == 1 and c.status == "queued"),
        "lost": sum(1 for c in calls if tasks[c.sid] == 0),
        "doubled": sum(1 for c in calls if tasks[c.sid] > 1),
        "action_requests": len(actions),
        "action_answers": dict(Counter(str(w["status"]) for w in actions)),
        "server_errors": sum(1 for w in actions if w["status"] is None or w["status"] >= 500),
        "twilio_requests": len(requests),
        "sync_rate_limited": refused[SYNC_RATE_LIMITED],
        "peak_requests_in_flight": stats.peak_overlap([(r.started, r.finished) for r in requests]),
    }


def run(project_dir: Path, plan: VoicePlan, note=print) -> dict:
    """Both measurements on an emulated account of their own, with a runtime of the voice path."""
    with emulated_account(project_dir) as (emulator, proxy, account):
        for claim_map in contract.CLAIM_MAPS:  # as `handover env set` leaves a deployment
            add_sync_map(emulator, claim_map)
        runtime = start_runtime(project_dir, emulator, proxy, account, HANDOVER_VOICE_RELAY_URL=RELAY)
        try:
            emulator.latency = plan.latency_ms / 1000
            note(f"Voice action: {plan.calls} calls per outcome, one at a time, {plan.latency_ms:g} ms round trip…")
            results = {"round_trips": round_trips_and_latency(emulator, runtime.port, plan.calls)}
            emulator.latency = 0.0
            note(
                f"Voice burst: {plan.burst_calls} calls ending within {plan.window_seconds:g} s at Twilio's limits, "
                f"time-scaled ×{plan.time_scale:g}…"
            )
            results["burst"] = burst(emulator, runtime.port, plan)
        finally:
            runtime.stop()
        results["violations"] = [str(v) for v in emulator.violations]
        results["unserved"] = [str(u) for u in emulator.unserved]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m handover.bench.voice", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=VoicePlan.calls, help="action requests per outcome")
    parser.add_argument("--burst", type=int, default=VoicePlan.burst_calls, help="calls in the burst")
    parser.add_argument("--time-scale", type=float, default=VoicePlan.time_scale)
    parser.add_argument("--project-dir", default=".")
    args = parser.parse_args()
    plan = VoicePlan(calls=args.calls, burst_calls=args.burst, time_scale=args.time_scale)
    print(
        json.dumps(
            run(
                Path(args.project_dir).resolve(), plan, note=lambda message: print(message, file=sys.stderr, flush=True)
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
