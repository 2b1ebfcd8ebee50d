"""The latency chart: the distribution of each scenario's calls, as a PNG (matplotlib, Agg backend)."""

from __future__ import annotations

from pathlib import Path

WIDTH_INCHES, HEIGHT_INCHES, DPI = 11, 4.2, 110


def write(results: dict, path: Path) -> None:
    """Box plots (whiskers at p1 and p99) of wall latency per scenario, and of the overhead above Twilio."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    latency, burst = results["latency"], results["burst"]
    walls = {f"handoff, {mode.replace('_', '-')}": latency[mode]["samples"]["wall_ms"] for mode in latency}
    walls[f"burst, {burst['conversations']}×{burst['calls_per_conversation']} calls"] = burst["samples"]["wall_ms"]
    spike = results["scale"]["spike"]
    walls[f"spike, {spike['conversations']}×{spike['calls_per_conversation']} at the limits (Twilio time)"] = spike[
        "samples"
    ]["wall_ms"]
    handback = results["handback_burst"]
    handback_label = f"hand-back, {handback['conversations']}×2 events at the limits (Twilio time)"
    walls[handback_label] = handback["samples"]["wall_ms"]
    overheads = {f"handoff, {mode.replace('_', '-')}": latency[mode]["samples"]["overhead_ms"] for mode in latency}
    emulated = results["settings"]["latency_ms"]

    figure, (left, right) = plt.subplots(1, 2, figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, width_ratios=(3, 2))
    _boxes(left, walls, "Wall latency per call at the caller (ms, log scale)")
    # The floor of exactly once (a claim, then the delivery), not this design's own rounds.
    floor_rounds = next(row["floor_rounds"] for row in results["round_trips"] if row["key"] == "first_handoff_phone")
    floor = floor_rounds * emulated
    if floor:
        label = f"floor of a first handoff: {floor_rounds} sequential rounds × {emulated:g} ms = {floor:g} ms"
        left.axvline(floor, color="tab:red", linestyle="--", linewidth=1, label=label)
        left.legend(loc="lower right", fontsize=8)
        smallest = min((min(values) for values in walls.values() if values), default=floor)
        left.set_xlim(left=min(floor, smallest) * 0.8)  # the floor's line inside the plot, not on its edge
    _boxes(right, overheads, "Overhead above Twilio's time (ms, log)")
    figure.suptitle(
        f"Handover tool, real local runtime against the emulator ({emulated:g} ms per Twilio round trip)", fontsize=11
    )
    figure.tight_layout()
    figure.savefig(path, format="png")
    plt.close(figure)


def _boxes(axes, series: dict[str, list[float]], title: str) -> None:
    from matplotlib import ticker

    shown = {label: values for label, values in series.items() if values}
    if shown:
        axes.boxplot(
            list(shown.values()),
            orientation="horizontal",
            whis=(1, 99),
            tick_labels=list(shown),
            flierprops={"markersize": 2},
        )
        axes.set_xscale("log")
        # Plain numbers at 1, 2, 5 × 10^n: easier to read than powers of ten.
        axes.xaxis.set_major_locator(ticker.LogLocator(subs=(1, 2, 5)))
        axes.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axes.xaxis.set_minor_formatter(ticker.NullFormatter())
    axes.set_title(title, fontsize=9)
    axes.grid(axis="x", which="both", alpha=0.3)
    axes.tick_params(labelsize=8)
