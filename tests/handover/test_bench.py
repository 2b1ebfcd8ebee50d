"""`handover bench`: a smoke test of a quick run (no timing thresholds: the benchmark is not a test), and
the arithmetic under it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from handover.bench import runner, stats
from handover.cli import cli
from tests.functions.tools.test_flex_handover import CLAIM, HANDOFF_REQUESTS, INTERACTIONS, USER_LOOKUP

REPO = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TOP_LEVEL_KEYS = {
    "schema_version", "taken_at", "machine", "settings", "cold_start", "commands", "client_request", "latency",
    "round_trips", "burst", "violations", "overhead", "problems", "ok", "wall_seconds",
}
PERCENTILE_KEYS = {"count", "p50", "p95", "p99", "mean", "max"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple:
    """One `handover bench --quick --json` run on the real project: (the CLI result, the output directory)."""
    out = tmp_path_factory.mktemp("bench")
    result = CliRunner().invoke(cli, ["--project-dir", str(REPO), "bench", "--quick", "--out", str(out), "--json"], catch_exceptions=False)
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
    assert (results["ok"], results["problems"], results["violations"]) == (True, [], [])


def test_the_results_are_well_formed(results):
    assert set(results) == TOP_LEVEL_KEYS
    assert results["settings"] == {**vars(runner.QUICK)}
    assert isinstance(results["machine"]["cpus"], int) and results["machine"]["node"]
    for mode in ("in_process", "forked"):
        series = results["latency"][mode]
        assert series["completed"] == series["calls"] == runner.QUICK.calls
        assert series["sequential_rounds"] == 4
        assert series["rounds_times_latency_ms"] == 4 * runner.QUICK.latency_ms
        for figures in (series["wall_ms"], series["twilio_busy_ms"], series["overhead_ms"], series["refused_call_ms"]):
            assert set(figures) == PERCENTILE_KEYS and all(isinstance(value, (int, float)) for value in figures.values())
        assert len(series["samples"]["wall_ms"]) == len(series["samples"]["overhead_ms"]) == series["completed"]
    assert isinstance(results["overhead"]["p50_ms"], float) and isinstance(results["overhead"]["met"], bool)
    cold = results["cold_start"]
    assert cold["exports_handler"] is True and cold["modules_loaded"] > 0
    assert "twilio" in [package["name"] for package in cold["largest_packages"]]


def test_the_burst_makes_exactly_one_interaction_per_conversation(results):
    burst = results["burst"]
    conversations = runner.QUICK.burst_conversations
    assert (burst["conversations"], burst["calls"]) == (conversations, conversations * runner.QUICK.calls_per_conversation)
    assert burst["interactions"] == burst["conversations_with_one_interaction"] == conversations
    assert burst["exactly_once"] is True
    assert burst["answers"] == {"200 handed_off": conversations, "200 already_handed_off": 2 * conversations}


def test_the_round_trips_are_the_ones_the_emulator_counted(results):
    rows = {row["key"]: row for row in results["round_trips"]}
    assert all(row["requests"] == len(row["operations"]) for row in rows.values())
    phone = rows["first_handoff_phone"]["operations"]
    assert (phone[:2], sorted(phone[2:])) == HANDOFF_REQUESTS
    webchat = rows["first_handoff_webchat"]["operations"]
    assert (webchat[:3], sorted(webchat[3:])) == ([CLAIM, USER_LOOKUP, INTERACTIONS], HANDOFF_REQUESTS[1])
    assert rows["duplicate"]["operations"] == [CLAIM]
    assert rows["rejected_input"]["operations"] == rows["unauthenticated"]["operations"] == []
    assert {key: (row["http_status"], row["sequential_rounds"], row["floor_requests"]) for key, row in rows.items()} == {
        "first_handoff_phone": (200, 4, 2),
        "first_handoff_webchat": (200, 5, 3),
        "duplicate": (200, 1, 1),
        "rejected_input": (400, 0, 0),
        "unauthenticated": (401, 0, 0),
    }


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
    for heading in ("# Handover benchmark", "## Round trips to Twilio per outcome", "## Latency of a handoff", "## In-function overhead",
                    "## Cold start", "## Burst", "## The Python commands"):
        assert heading in report
    assert "**Quick run**" in report and "**Exactly once holds**" in report and "](latency.png)" in report
    assert (out / "latency.png").read_bytes().startswith(PNG_SIGNATURE)


def test_a_broken_exactly_once_is_a_problem(results):
    broken = json.loads(json.dumps(results))
    broken["burst"] |= {"exactly_once": False, "interactions": 6, "conversations_with_one_interaction": 4}
    assert runner.problems(broken) == ["burst: exactly once broken: 6 interactions for 5 conversations (4 with exactly one)"]


def test_quick_and_given_counts_make_the_settings():
    assert runner.settings_for(quick=False) == runner.FULL
    assert (runner.FULL.latency_ms, runner.FULL.calls, runner.FULL.burst_conversations) == (50, 200, 100)
    given = runner.settings_for(quick=True, latency_ms=80, burst=7)
    assert (given.quick, given.latency_ms, given.calls, given.burst_conversations) == (True, 80, runner.QUICK.calls, 7)


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


def test_idle_parts_add_up_to_the_overhead():
    call, requests = (0.0, 10.0), [(1.0, 3.0), (2.0, 4.0), (6.0, 9.0)]
    parts = stats.idle_parts(call, requests)
    assert parts == {"before_first": 1.0, "between": 2.0, "after_last": 1.0}
    assert sum(parts.values()) == (call[1] - call[0]) - stats.busy(requests)
    assert stats.idle_parts(call, []) == {"before_first": 10.0, "between": 0.0, "after_last": 0.0}
