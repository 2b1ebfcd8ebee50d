"""`handover bench`: a smoke test of a quick run (no timing thresholds:
the benchmark is not a test), and the arithmetic under it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from handover.bench import handbacks, runner, settings, stats
from handover.cli import cli
from tests.functions.tools.test_flex_handover import (
    CLAIM,
    HANDOFF_REQUESTS,
    LIST_WEBHOOKS,
    READ_CONVERSATION,
    USER_LOOKUP,
)
from twilio_emulator.callbacks import Callback

REPO = Path(__file__).resolve().parents[3]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TOP_LEVEL_KEYS = {
    "schema_version",
    "taken_at",
    "machine",
    "settings",
    "cold_start",
    "commands",
    "client_request",
    "latency",
    "round_trips",
    "burst",
    "scale",
    "handback_burst",
    "voice",
    "violations",
    "unserved",
    "overhead",
    "problems",
    "ok",
    "wall_seconds",
}
PERCENTILE_KEYS = {"count", "p50", "p95", "p99", "mean", "max"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple:
    """One `handover bench --quick --json` run on the real project: (the CLI result, the output directory)."""
    out = tmp_path_factory.mktemp("bench")
    result = CliRunner().invoke(
        cli, ["--project-dir", str(REPO), "bench", "--quick", "--out", str(out), "--json"], catch_exceptions=False
    )
    return result, out


@pytest.fixture(scope="module")
def results(quick_run) -> dict:
    _, out = quick_run
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def test_a_quick_run_exits_0_and_prints_what_it_wrote(quick_run, results):
    result, out = quick_run
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == results
    assert f"Wrote {out / 'results.json'}, {out / 'report.md'}, {out / 'latency.png'}." in result.stderr
    assert (results["ok"], results["problems"], results["violations"], results["unserved"]) == (True, [], [], [])


def test_the_results_are_well_formed(results):
    assert set(results) == TOP_LEVEL_KEYS
    assert results["settings"] == {**vars(settings.QUICK)}
    assert isinstance(results["machine"]["cpus"], int) and results["machine"]["node"]
    for mode in ("in_process", "forked"):
        series = results["latency"][mode]
        assert series["completed"] == series["calls"] == settings.QUICK.calls
        assert series["sequential_rounds"] == 2
        assert series["rounds_times_latency_ms"] == 2 * settings.QUICK.latency_ms
        for figures in (series["wall_ms"], series["twilio_busy_ms"], series["overhead_ms"], series["refused_call_ms"]):
            assert set(figures) == PERCENTILE_KEYS and all(
                isinstance(value, (int, float)) for value in figures.values()
            )
        assert len(series["samples"]["wall_ms"]) == len(series["samples"]["overhead_ms"]) == series["completed"]
    assert isinstance(results["overhead"]["p50_ms"], float) and isinstance(results["overhead"]["met"], bool)
    cold = results["cold_start"]
    assert cold["exports_handler"] is True and cold["modules_loaded"] > 0
    assert "twilio" in [package["name"] for package in cold["largest_packages"]]


def test_the_burst_makes_exactly_one_interaction_per_conversation(results):
    burst = results["burst"]
    conversations = settings.QUICK.burst_conversations
    assert (burst["conversations"], burst["calls"]) == (
        conversations,
        conversations * settings.QUICK.calls_per_conversation,
    )
    assert burst["interactions"] == burst["conversations_with_one_interaction"] == conversations
    assert burst["exactly_once"] is True
    assert burst["answers"] == {"200 handed_off": conversations, "200 already_handed_off": 2 * conversations}


def test_the_round_trips_are_the_ones_the_emulator_counted(results):
    rows = {row["key"]: row for row in results["round_trips"]}
    assert all(row["requests"] == len(row["operations"]) for row in rows.values())
    assert sorted(rows["first_handoff_phone"]["operations"]) == HANDOFF_REQUESTS
    assert sorted(rows["first_handoff_webchat"]["operations"]) == sorted([*HANDOFF_REQUESTS, USER_LOOKUP])
    assert sorted(rows["duplicate"]["operations"]) == sorted([CLAIM, READ_CONVERSATION, LIST_WEBHOOKS])
    assert rows["rejected_input"]["operations"] == rows["unauthenticated"]["operations"] == []
    assert {
        key: (row["http_status"], row["sequential_rounds"], row["floor_requests"], row["floor_rounds"])
        for key, row in rows.items()
    } == {
        "first_handoff_phone": (200, 2, 2, 2),
        "first_handoff_webchat": (200, 2, 3, 2),
        "duplicate": (200, 1, 1, 1),
        "rejected_input": (400, 0, 0, 0),
        "unauthenticated": (401, 0, 0, 0),
    }


def test_the_spike_runs_at_twilios_limits_and_hands_off_every_conversation_once(results):
    scale = results["scale"]
    assert scale["limits"] == {
        "sync_object_reads_per_second": 20.0,
        "sync_object_writes_per_second": 20.0,
        "sync_burst_window_seconds": 10.0,
        "sync_creations_per_second": 20.0,
        "account_concurrency": 100,
        "time_scale": 1.0,
    }
    spike = scale["spike"]
    conversations = settings.QUICK.spike_conversations
    assert (spike["conversations"], spike["calls"], spike["time_scale"]) == (
        conversations,
        3 * conversations,
        settings.QUICK.time_scale,
    )
    assert (spike["tasks"], spike["conversations_with_one_task"], spike["lost"], spike["duplicated"]) == (
        conversations,
        conversations,
        0,
        0,
    )
    assert spike["answers"].get("200 handed_off") == conversations
    assert spike["sync_requests"] >= spike["calls"]  # every call claims in Sync


def test_the_hand_back_burst_hands_every_conversation_back_once(results):
    handback = results["handback_burst"]
    conversations = settings.QUICK.handback_conversations
    assert {
        key: handback[key]
        for key in ("conversations", "window_seconds", "time_scale", "senders", "settled_in_time", "events")
    } == {
        "conversations": conversations,
        "window_seconds": settings.QUICK.handback_window_seconds,
        "time_scale": settings.QUICK.time_scale,
        "senders": 32,
        "settled_in_time": True,
        "events": 2 * conversations,
    }
    assert handback["events_by_type"] == {"task.wrapup": conversations, "task.completed": conversations}
    assert {
        key: handback[key]
        for key in ("handed_back", "lost", "doubled", "told_once", "unsettled", "unfinished_server_errors")
    } == {
        "handed_back": conversations,
        "lost": 0,
        "doubled": 0,
        "told_once": conversations,
        "unsettled": 0,
        "unfinished_server_errors": 0,
    }
    assert handback["unfinished_examples"] == []
    # Each task: its hand-back's claim, the handoff's claim given back, the duplicate's claim refused: 3 Sync writes.
    assert handback["sync_requests"] >= 3 * conversations
    assert handback["wrapup_lateness_ms"]["count"] == conversations
    for figures in handback["event_latency_twilio_ms"].values():
        assert set(figures) == PERCENTILE_KEYS
    assert (
        handback["event_latency_twilio_ms"]["all"]["count"] == len(handback["samples"]["wall_ms"]) == 2 * conversations
    )


def test_the_sustained_rate_follows_from_the_documented_limits(results):
    sustained = results["scale"]["sustained"]
    # 16 claim Maps × 20 writes/s, 3 claim creates per handoff; 5 + 2 × 3 requests of 50 ms each (the webhook list in
    # every call's first round) under 100 in flight.
    assert sustained["bounds_per_second"] == {
        "sync_writes": round(16 * 20 / 3, 1),
        "sync_reads": 160.0,
        "rest_concurrency": round(100 / ((5 + 2 * 3) * 0.05), 1),
    }
    assert (sustained["binding"], sustained["handoffs_per_second"]) == ("sync_writes", round(16 * 20 / 3, 1))


def test_the_python_commands_are_measured(results):
    assert results["commands"]["help"]["imports_twilio"] is False
    runs = [(row["command"], row["run"], row["exit_code"], row["writes"] > 0) for row in results["commands"]["account"]]
    assert runs == [
        ("handover env set", "first", 0, True),
        ("handover env set", "second", 0, False),
        ("handover tool register", "first", 0, True),
        ("handover tool register", "second", 0, False),
    ]
    assert all(row["reads"] + row["writes"] == row["requests"] for row in results["commands"]["account"])


def test_the_report_and_the_chart_are_written(quick_run, results):
    _, out = quick_run
    report = (out / "report.md").read_text(encoding="utf-8")
    for heading in (
        "# Handover benchmark",
        "## Round trips to Twilio per outcome",
        "## Latency of a handoff",
        "## In-function overhead",
        "## Cold start",
        "## Burst",
        "## At contact-center scale: Twilio's documented limits",
        "## Hand-back burst: every task ending at once",
        "## The Python commands",
    ):
        assert heading in report
    assert "**Quick run**" in report and "**Exactly once holds**" in report and "](latency.png)" in report
    assert "**Every conversation got exactly one task**" in report
    assert "**Every conversation was handed back once**: 10 of 10" in report
    assert "**32 concurrent senders**" in report
    assert (out / "latency.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_broken_exactly_once_is_a_problem(results):
    broken = json.loads(json.dumps(results))
    broken["burst"] |= {"exactly_once": False, "interactions": 6, "conversations_with_one_interaction": 4}
    assert runner.problems(broken) == [
        "burst: exactly once broken: 6 interactions for 5 conversations (4 with exactly one)"
    ]


@pytest.mark.parametrize(("lost", "duplicated"), [(1, 0), (0, 2)])
def test_a_lost_or_duplicated_handoff_in_the_spike_is_a_problem(results, lost, duplicated):
    broken = json.loads(json.dumps(results))
    broken["scale"]["spike"] |= {"lost": lost, "duplicated": duplicated, "tasks": 20 - lost + duplicated}
    assert runner.problems(broken) == [
        f"spike: {lost} conversation(s) without a task, {duplicated} with more than one ({20 - lost + duplicated} "
        "tasks for 20 conversations)"
    ]


@pytest.mark.parametrize(("lost", "doubled"), [(1, 0), (0, 1), (2, 3)])
def test_a_lost_or_doubled_hand_back_is_a_problem(results, lost, doubled):
    broken = json.loads(json.dumps(results))
    broken["handback_burst"] |= {"lost": lost, "doubled": doubled, "handed_back": 10 - lost - doubled}
    assert runner.problems(broken) == [
        f"hand-back burst: {lost} conversation(s) lost (no bot webhook, or no hand-back recorded), {doubled} doubled "
        f"(two bot webhooks, or the message told twice) ({10 - lost - doubled} of 10 handed back once)"
    ]


def test_an_event_answered_5xx_that_no_later_event_finished_is_a_problem(results):
    broken = json.loads(json.dumps(results))
    examples = [f"task.completed of WT{index:032d} answered 503" for index in range(5)]
    broken["handback_burst"] |= {"server_errors": 7, "unfinished_server_errors": 6, "unfinished_examples": examples}
    assert runner.problems(broken) == [
        f"hand-back burst: 6 event(s) answered 5xx with no later event of the same task answered 2xx: "
        f"{', '.join(examples)} and 1 more"
    ]


def test_a_slow_hand_back_burst_is_no_problem(results):
    """Retryable 503s that a later event finished, events still on their way when the wait ended, and late answers
    are figures, not a broken guarantee."""
    slow = json.loads(json.dumps(results))
    slow["handback_burst"] |= {
        "server_errors": 4,
        "answers": {"200": 16, "503": 4},
        "unsettled": 2,
        "handed_back": 8,
        "settled_in_time": False,
        "event_latency_twilio_ms": {"all": {"p99": 9000.0}},
    }
    assert runner.problems(slow) == []


def event(task: str, kind: str, status: int | None, finished_at: float) -> Callback:
    """TaskRouter's ending event of `task` as the outbox keeps it once answered."""
    return Callback(
        "taskrouter.event",
        "https://localhost:1/lifecycle/task-events",
        {"EventType": kind, "TaskSid": task},
        status=status,
        queued_at=0.0,
        finished_at=finished_at,
    )


WT1, WT2 = "WT" + "1" * 32, "WT" + "2" * 32


@pytest.mark.parametrize(
    ("events", "unfinished"),
    [
        # A retryable 503, then the task's next event answered 200: finished.
        ([event(WT1, "task.wrapup", 503, 1.0), event(WT1, "task.completed", 200, 2.0)], []),
        # The 200 came first (it found the hand-back claimed by the event that then failed): nothing finished it.
        (
            [event(WT1, "task.wrapup", 503, 2.0), event(WT1, "task.completed", 200, 1.0)],
            [f"task.wrapup of {WT1} answered 503"],
        ),
        # Both answered 5xx, or the later one not answered at all.
        (
            [event(WT1, "task.wrapup", 503, 1.0), event(WT1, "task.completed", 500, 2.0)],
            [f"task.completed of {WT1} answered 500", f"task.wrapup of {WT1} answered 503"],
        ),
        (
            [event(WT1, "task.wrapup", 503, 1.0), event(WT1, "task.completed", None, 2.0)],
            [f"task.wrapup of {WT1} answered 503"],
        ),
        # Another task's 200 finishes nothing of this one.
        (
            [event(WT1, "task.wrapup", 503, 1.0), event(WT2, "task.wrapup", 200, 2.0)],
            [f"task.wrapup of {WT1} answered 503"],
        ),
        ([event(WT1, "task.wrapup", 200, 1.0), event(WT1, "task.completed", 200, 2.0)], []),
    ],
    ids=["503-then-200", "200-then-503", "two-5xx", "503-then-no-answer", "another-task", "all-200"],
)
def test_a_5xx_is_unfinished_unless_a_later_event_of_its_task_was_answered_2xx(events, unfinished):
    assert handbacks.unfinished_server_errors(events) == unfinished


def test_an_operation_the_emulator_does_not_serve_is_a_problem(results):
    gap = json.loads(json.dumps(results))
    gap["unserved"] = [
        "ListActivity (GET /v1/Workspaces/{WorkspaceSid}/Activities): GET https://taskrouter.twilio.com/…"
    ]
    assert runner.problems(gap) == [
        "an operation the emulator does not serve (501): ListActivity (GET /v1/Workspaces/{WorkspaceSid}/Activities): "
        "GET https://taskrouter.twilio.com/…"
    ]


def test_a_slow_spike_is_no_problem(results):
    """Answers that came late, or 503s of a machine too slow for its time scale, are figures, not a broken guarantee."""
    slow = json.loads(json.dumps(results))
    slow["scale"]["spike"] |= {"server_errors": 3, "unanswered": 1, "latency_twilio_ms": {"all": {"p99": 9000.0}}}
    assert runner.problems(slow) == []


def test_quick_and_given_counts_make_the_settings():
    assert settings.settings_for(quick=False) == settings.FULL
    assert (settings.FULL.latency_ms, settings.FULL.calls, settings.FULL.burst_conversations) == (50, 200, 100)
    assert (
        settings.FULL.handback_conversations,
        settings.FULL.handback_window_seconds,
        settings.FULL.handback_senders,
        settings.QUICK.handback_conversations,
    ) == (1000, 10.0, 32, 10)
    given = settings.settings_for(quick=True, latency_ms=80, burst=7, spike=30, time_scale=2.5)
    assert (given.quick, given.latency_ms, given.calls, given.burst_conversations) == (
        True,
        80,
        settings.QUICK.calls,
        7,
    )
    assert (
        given.spike_conversations,
        given.time_scale,
        settings.FULL.spike_conversations,
        settings.FULL.spike_window_seconds,
    ) == (30, 2.5, 1000, 10.0)


# stats -----------------------------------------------------------------------------------------------


def test_percentiles_are_nearest_rank_values():
    values = list(range(1, 101))
    assert [stats.percentile(values, rank) for rank in (50, 95, 99)] == [50, 95, 99]
    assert stats.summary([3.0, 1.0, 2.0]) == {"count": 3, "p50": 2.0, "p95": 3.0, "p99": 3.0, "mean": 2.0, "max": 3.0}
    assert stats.summary([]) == {"count": 0}


def test_busy_time_is_the_union_of_the_intervals():
    assert stats.merged([(5, 6), (0, 2), (1, 3)]) == [(0, 3), (5, 6)]
    assert stats.busy([(0, 2), (1, 3), (5, 6)]) == 4


def test_sequential_rounds_count_side_by_side_requests_once():
    claim, interaction, confirm, read, write = (0, 1), (1, 2), (2, 3), (2, 3), (3, 4)
    assert stats.sequential_rounds([claim, interaction, confirm, read, write]) == 4
    assert stats.sequential_rounds([(0, 1)]) == 1
    assert stats.sequential_rounds([]) == 0


def test_peak_overlap_counts_the_intervals_open_at_once():
    assert stats.peak_overlap([(0, 2), (1, 3), (2, 4), (5, 6)]) == 2  # one ending as another starts does not overlap it
    assert stats.peak_overlap([(0, 10), (1, 2), (1, 3)]) == 3
    assert stats.peak_overlap([]) == 0


def test_idle_parts_add_up_to_the_overhead():
    call, requests = (0.0, 10.0), [(1.0, 3.0), (2.0, 4.0), (6.0, 9.0)]
    parts = stats.idle_parts(call, requests)
    assert parts == {"before_first": 1.0, "between": 2.0, "after_last": 1.0}
    assert sum(parts.values()) == (call[1] - call[0]) - stats.busy(requests)
    assert stats.idle_parts(call, []) == {"before_first": 10.0, "between": 0.0, "after_last": 0.0}


def test_the_voice_action_and_burst_are_measured(results):
    trips = results["voice"]["round_trips"]
    assert {key: (row["statuses"], row["sequential_rounds"]) for key, row in trips.items()} == {
        "first_handoff": ({"200": settings.QUICK.calls}, [1]),
        "twilio_retry": ({"200": settings.QUICK.calls}, [2]),
        "ended_without_handoff": ({"200": settings.QUICK.calls}, [0]),
    }
    burst = results["voice"]["burst"]
    calls = settings.QUICK.voice_calls
    assert (burst["calls"], burst["enqueued"], burst["lost"], burst["doubled"], burst["server_errors"]) == (
        calls,
        calls,
        0,
        0,
        0,
    )
    assert burst["action_requests"] == calls + len(range(0, calls, burst["retried_every"]))


def test_a_lost_or_doubled_voice_call_is_a_problem(results):
    from handover.bench.runner import voice_problems

    broken = {**results["voice"], "burst": {**results["voice"]["burst"], "lost": 1, "doubled": 2}}
    (problem,) = voice_problems(broken)
    assert problem.startswith("voice burst: 1 call(s) without a task, 2 with two")
