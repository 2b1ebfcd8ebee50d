"""`handover bench`: the handoff measured through the local runtime and the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .base import command, echo_note, find_project, json_option, require_extra


@command(short_help="Measure round trips, latency, cold start, a burst and a spike at Twilio's limits.")
@click.option("--quick", is_flag=True, help="Tiny counts (5 calls, a burst of 5): a smoke test, not figures to quote.")
@click.option(
    "--latency-ms",
    type=click.IntRange(0, 1000),
    metavar="MS",
    help="The emulated time of one Twilio round trip (default 50).",
)
@click.option(
    "--calls",
    type=click.IntRange(1, 1000),
    metavar="N",
    help="Handoffs per latency series (default 200; 5 with --quick).",
)
@click.option(
    "--burst",
    type=click.IntRange(1, 300),
    metavar="N",
    help="Conversations in the burst, 3 calls each (default 100; 5 with --quick).",
)
@click.option(
    "--spike",
    type=click.IntRange(1, 5000),
    metavar="N",
    help="Conversations in the spike at Twilio's limits, 3 calls each (default 1000; 20 with --quick).",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(1, 100),
    metavar="T",
    help="Run the spike T times slower than Twilio's time, limits scaled alike (default 6; 1 with --quick).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Where results.json, report.md and latency.png go (default: bench/ in the project).",
)
@json_option("Print the results as JSON instead of the summary.")
@click.pass_context
def bench(
    ctx: click.Context,
    quick: bool,
    latency_ms: int | None,
    calls: int | None,
    burst: int | None,
    spike: int | None,
    time_scale: float | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Benchmark the handoff through the real local runtime and the emulator, on loopback only.

    Round trips to Twilio per outcome against their floor, handoff latency in-process and forked (and the
    overhead above Twilio's time), the function's cold start, a burst of concurrent duplicate calls (exactly
    once), the sustained rate Twilio's documented limits allow and a spike at those limits, and the Python
    commands. Writes results.json, report.md and latency.png. Exit 1 when a check fails (a wrong answer, a
    conversation with no task or with two, a spec violation), never because the machine was slow.

    Example: handover bench --quick --out /tmp/bench
    """
    require_extra(ctx, "bench", ("twilio_emulator", "matplotlib"))
    from ..bench import runner
    from ..bench.report import summary_lines
    from ..bench.settings import settings_for

    project_dir = find_project(ctx)
    settings = settings_for(quick, latency_ms, calls, burst, spike, time_scale)
    results = runner.run(project_dir, settings, echo_note)
    paths = runner.write(results, Path(out) if out else project_dir / "bench")
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for line in summary_lines(results):
            click.echo(line)
    echo_note("Wrote " + ", ".join(str(path) for path in paths.values()) + ".")
    for problem in results["problems"]:
        echo_note(f"Problem: {problem}")
    if results["problems"]:
        ctx.exit(1)
