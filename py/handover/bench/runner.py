"""`handover bench`: every scenario in turn, on loopback, bounded in count and time; the results as a dict."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from twilio_emulator import Limits

from ..account import tokens
from ..errors import HandoverError
from ..local.stack import emulated_account, start_runtime
from ..project import read_package_json
from . import chart, commands, handbacks, handoffs, node, report, scale, voice
from .calls import Caller
from .settings import STALL_FREE_LATENCY_MS, Settings

# How long a latency series may issue calls (it reports how many it made), and a burst may take.
SERIES_BUDGET_SECONDS = 110.0
BURST_TIMEOUT_SECONDS = 120.0
SPIKE_TIMEOUT_SECONDS = 60.0  # after the last arrival
HANDBACK_TIMEOUT_SECONDS = 120.0  # for the events to be answered, after the last task's end
OVERHEAD_GOAL_MS = 5.0


class BenchStopped(HandoverError):
    """A scenario could not run (no emulator, no runtime, a Node script failed, a timeout); the message says which."""


def machine(project_dir: Path) -> dict:
    """What the figures were taken on."""
    node_version = subprocess.run(
        [shutil.which("node") or "node", "--version"], capture_output=True, text=True, timeout=30
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "node": node_version.removeprefix("v"),
        "twilio_node": read_package_json(project_dir / "node_modules/twilio").get("version"),
        "twilio_run": read_package_json(project_dir / "node_modules/twilio-run").get("version"),
    }


def _cpu_model() -> str | None:
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return platform.processor() or None
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), None)


def run(project_dir: Path, settings: Settings, note: Callable[[str], None]) -> dict:
    """Run every scenario; `note` hears the progress. The results say what went wrong in `problems`.

    A scenario that cannot run at all (no emulator, no runtime, a failed Node script, a timeout) raises BenchStopped.
    """
    try:
        return _run(project_dir, settings, note)
    except (HandoverError, subprocess.SubprocessError, TimeoutError) as error:
        raise BenchStopped(f"The benchmark stopped: {error}") from error


def _run(project_dir: Path, settings: Settings, note: Callable[[str], None]) -> dict:
    started = time.monotonic()
    results: dict = {
        "schema_version": 1,
        "taken_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(project_dir),
        "settings": asdict(settings),
    }
    if settings.latency_ms < STALL_FREE_LATENCY_MS:
        note(
            f"Below {STALL_FREE_LATENCY_MS} ms, the emulator's proxy adds a TCP delayed-ACK stall to each request: the "
            "overhead figures will include it."
        )
    note(f"Cold start: {settings.cold_start_runs} fresh Node process(es) loading the function…")
    results["cold_start"] = node.cold_start(project_dir, settings.cold_start_runs)
    note(f"`handover --help`: {settings.help_runs} fresh process(es)…")
    results["commands"] = {"help": commands.help_startup(settings.help_runs)}
    with emulated_account(project_dir) as (emulator, proxy, account):
        # `handover env set` (run first, below) makes the claim Maps the handoffs use.
        emulator.latency = settings.latency_ms / 1000
        note("`handover env set` and `handover tool register`, twice each, against the emulator…")
        results["commands"]["account"] = commands.account_commands(project_dir, emulator, proxy, account)
        note(f"The twilio client alone: {settings.client_requests} sequential requests…")
        results["client_request"] = node.client_request_cost(
            project_dir, emulator, proxy, account, settings.client_requests
        )
        token = tokens.new()
        series = partial(
            handoffs.latency,
            calls=settings.calls,
            refused_calls=settings.refused_calls,
            latency_ms=settings.latency_ms,
            budget_seconds=SERIES_BUDGET_SECONDS,
        )
        with _serving(project_dir, emulator, proxy, account, token, False, note) as stage:
            note("Round trips per outcome…")
            results["round_trips"] = handoffs.round_trips(stage)
            note(f"Latency (in-process): {settings.calls} handoffs, one at a time…")
            results["latency"] = {"in_process": series(stage)}
            note(
                f"Burst: {settings.burst_conversations} conversations "
                f"× {settings.calls_per_conversation} calls at once…"
            )
            results["burst"] = handoffs.burst(
                stage, settings.burst_conversations, settings.calls_per_conversation, BURST_TIMEOUT_SECONDS
            )
            results["scale"] = _scale(stage, settings, results["round_trips"], note)
        with _serving(project_dir, emulator, proxy, account, token, True, note) as stage:
            note(f"Latency (forked): {settings.calls} handoffs, one at a time…")
            results["latency"]["forked"] = series(stage)
        # Last, on a runtime of its own (in-process), so that the scenarios above are measured as without it: with
        # HANDBACK_MESSAGE, so that a customer told it twice can be seen.
        told = {"HANDBACK_MESSAGE": handbacks.HANDBACK_MESSAGE}
        with _serving(project_dir, emulator, proxy, account, token, False, note, **told) as stage:
            results["handback_burst"] = _handback_burst(stage, settings, note)
        results["violations"] = [str(violation) for violation in emulator.violations]
        results["unserved"] = [str(operation) for operation in emulator.unserved]
    # The voice path, on an emulated account and a runtime of its own (its numbers, its claims), after the rest.
    voice_plan = voice.VoicePlan(
        latency_ms=settings.latency_ms,
        calls=settings.calls,
        burst_calls=settings.voice_calls,
        window_seconds=settings.handback_window_seconds,
        time_scale=settings.time_scale,
    )
    results["voice"] = voice.run(project_dir, voice_plan, note)
    results["violations"] += results["voice"]["violations"]
    results["unserved"] += results["voice"]["unserved"]
    results["overhead"] = overhead_breakdown(results)
    results["problems"] = problems(results)
    results["ok"] = not results["problems"]
    results["wall_seconds"] = round(time.monotonic() - started, 1)
    return results


def _scale(stage: handoffs.Stage, settings: Settings, round_trips: list[dict], note: Callable[[str], None]) -> dict:
    """The sustained rate the documented limits allow, and the spike at those limits."""
    plan = scale.Spike(
        conversations=settings.spike_conversations,
        calls_each=settings.calls_per_conversation,
        window_seconds=settings.spike_window_seconds,
        time_scale=settings.time_scale,
        latency_ms=settings.latency_ms,
        workers=settings.spike_workers,
        timeout_seconds=SPIKE_TIMEOUT_SECONDS,
    )
    note(
        f"Spike: {plan.conversations} conversations × {plan.calls_each} calls within {plan.window_seconds:g} s at "
        f"Twilio's limits, time-scaled ×{plan.time_scale:g} ({plan.window_seconds * plan.time_scale:g} s here)…"
    )
    return {
        "limits": asdict(Limits()),
        "sustained": scale.sustained_rate(Limits(), round_trips, settings.latency_ms, settings.calls_per_conversation),
        "spike": scale.spike(stage, plan),
    }


def _handback_burst(stage: handoffs.Stage, settings: Settings, note: Callable[[str], None]) -> dict:
    """Many tasks ending at once: the hand-back at Twilio's limits, time-scaled as the spike."""
    plan = handbacks.HandbackBurst(
        conversations=settings.handback_conversations,
        window_seconds=settings.handback_window_seconds,
        time_scale=settings.time_scale,
        latency_ms=settings.latency_ms,
        senders=settings.handback_senders,
        timeout_seconds=HANDBACK_TIMEOUT_SECONDS,
    )
    note(
        f"Hand-back burst: {plan.conversations} conversations handed off, then their tasks wrapped up and completed "
        f"within {plan.window_seconds:g} s at Twilio's limits, time-scaled ×{plan.time_scale:g} "
        f"({plan.window_seconds * plan.time_scale:g} s here), TaskRouter's events by {plan.senders} senders…"
    )
    return handbacks.handback_burst(stage, plan)


@contextmanager
def _serving(
    project_dir: Path,
    emulator,
    proxy,
    account,
    token: str,
    fork: bool,
    note: Callable[[str], None],
    **config: str,
) -> Iterator[handoffs.Stage]:
    """twilio-run (forked per call, or in-process) against the emulated account, stopped at the end."""
    note(f"Starting twilio-run ({'forked' if fork else 'in-process'})…")
    runtime = start_runtime(project_dir, emulator, proxy, account, fork=fork, HANDOVER_TOKEN=token, **config)
    try:
        yield handoffs.Stage(emulator, account, Caller(runtime.port, token, account.service_sid))
    finally:
        runtime.stop()


def overhead_breakdown(results: dict) -> dict:
    """The in-process overhead per handoff against its goal, and where it goes (p50s of separate measurements)."""
    series, client = results["latency"]["in_process"], results["client_request"]
    measured = series["overhead_ms"].get("p50", 0.0)
    runtime_hop = series["refused_call_ms"].get("p50", 0.0)
    per_request, tunnel = client["twilio_client_ms"].get("p50", 0.0), client["bare_https_ms"].get("p50", 0.0)
    rounds = series["sequential_rounds"]
    return {
        "goal_ms": OVERHEAD_GOAL_MS,
        "p50_ms": measured,
        "p95_ms": series["overhead_ms"].get("p95", 0.0),
        "met": measured < OVERHEAD_GOAL_MS,
        "missed_by_ms": round(max(0.0, measured - OVERHEAD_GOAL_MS), 2),
        "runtime_hop_ms": runtime_hop,
        "sequential_requests": rounds,
        "tunnel_per_request_ms": tunnel,
        "twilio_client_per_request_ms": round(per_request - tunnel, 2),
        "function_code_ms": round(measured - runtime_hop - rounds * per_request, 2),
    }


def problems(results: dict) -> list[str]:
    """Everything that makes the run fail: a wrong answer, a lost exactly-once, a hand-back lost or doubled or left
    answered 5xx, an eager import, a spec violation, a 501. A slow machine is none of them: a series cut short by its
    time budget reports how many calls it made, a retryable 503 that a later event of its task finished is a figure."""
    found = [
        f"{row['outcome']}: HTTP {row['http_status']}, expected {row['expected_status']}"
        for row in results["round_trips"]
        if row["http_status"] != row["expected_status"]
    ]
    for mode, series in results["latency"].items():
        if series["unexpected_answers"]:
            found.append(f"latency ({mode}): unexpected answers {series['unexpected_answers']}")
    burst = results["burst"]
    if not burst["exactly_once"]:
        found.append(
            f"burst: exactly once broken: {burst['interactions']} interactions for {burst['conversations']} "
            f"conversations ({burst['conversations_with_one_interaction']} with exactly one)"
        )
    spike = results["scale"]["spike"]
    if spike["lost"] or spike["duplicated"]:
        found.append(
            f"spike: {spike['lost']} conversation(s) without a task, {spike['duplicated']} with more than one "
            f"({spike['tasks']} tasks for {spike['conversations']} conversations)"
        )
    handback = results["handback_burst"]
    if handback["lost"] or handback["doubled"]:
        found.append(
            f"hand-back burst: {handback['lost']} conversation(s) lost (no bot webhook, or no hand-back recorded), "
            f"{handback['doubled']} doubled (two bot webhooks, or the message told twice) "
            f"({handback['handed_back']} of {handback['conversations']} handed back once)"
        )
    if handback["unfinished_server_errors"]:
        shown = ", ".join(handback["unfinished_examples"])
        more = handback["unfinished_server_errors"] - len(handback["unfinished_examples"])
        found.append(
            f"hand-back burst: {handback['unfinished_server_errors']} event(s) answered 5xx with no later event of "
            f"the same task answered 2xx: {shown}" + (f" and {more} more" if more > 0 else "")
        )
    found += voice_problems(results.get("voice"))
    if results["commands"]["help"]["imports_twilio"]:
        found.append("`handover --help` imported the twilio SDK: an import is not lazy")
    for row in results["commands"]["account"]:
        if row["exit_code"]:
            found.append(f"{row['command']} ({row['run']} run) exited {row['exit_code']}: {row['error']}")
        elif row["run"] == "second" and row["writes"]:
            found.append(f"{row['command']}: the second run wrote {row['writes']} time(s); it should write nothing")
    found += [f"Twilio OpenAPI violation: {violation}" for violation in results["violations"]]
    # A 501 is the emulator's gap: whatever the run measured there, it is not what Twilio would have answered.
    found += [f"an operation the emulator does not serve (501): {operation}" for operation in results["unserved"]]
    return found


def voice_problems(measured: dict | None) -> list[str]:
    """The voice path's: an action answered other than 200, a call enqueued twice or not at all, an answer 5xx."""
    if measured is None:
        return []
    found = [
        f"voice action ({outcome}): answers {row['statuses']}, expected 200 only"
        for outcome, row in measured["round_trips"].items()
        if set(row["statuses"]) != {"200"}
    ]
    burst = measured["burst"]
    if burst["lost"] or burst["doubled"] or burst["server_errors"] or burst["not_in_session"]:
        found.append(
            f"voice burst: {burst['lost']} call(s) without a task, {burst['doubled']} with two, "
            f"{burst['server_errors']} action answer(s) 5xx, {burst['not_in_session']} never in session "
            f"({burst['enqueued']} of {burst['calls']} enqueued once)"
        )
    return found


def write(results: dict, out: Path) -> dict[str, Path]:
    """results.json, report.md and latency.png in `out`; their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.json", "report": out / "report.md", "chart": out / "latency.png"}
    paths["results"].write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    paths["report"].write_text(report.markdown(results, paths["chart"].name), encoding="utf-8")
    chart.write(results, paths["chart"])
    return paths
