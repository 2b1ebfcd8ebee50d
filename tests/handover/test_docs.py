"""The README and docs/ are the project's map, kept true: the README stays short, every relative link of theirs
leads to a file and heading that exist, every `handover` command has a row in docs/commands.md, every package,
module and folder a place in docs/architecture.md, and every variable of the contract a row in
docs/configuration.md."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import click

from handover import contract
from handover.cli import cli

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "py/handover"


DOCS = REPO / "docs"
README_LIMIT = 12_000  # characters: what a newcomer reads; the reference is in docs/


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def page(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "handover") -> list[str]:
    """Every command a user runs, as typed: `handover env set`, `handover studio deploy`, … (groups are walked)."""
    found = []
    for name, command in sorted(group.commands.items()):
        typed = f"{prefix} {name}"
        found += commands(command, typed) if isinstance(command, click.Group) else [typed]
    return found


def command_rows(text: str) -> set[str]:
    """The commands the rows of the command table (docs/commands.md) are about."""
    return set(re.findall(r"^\| `(handover [a-z ]+)` \|", text, re.MULTILINE))


def missing_commands(text: str) -> list[str]:
    rows = command_rows(text)
    return [command for command in commands(cli) if command not in rows]


def layout_rows(text: str) -> dict[str, str]:
    """Path → what the Layout table (docs/architecture.md) says is there, a row naming several paths (`a`, `b`)
    counted for each."""
    rows = {}
    for line in text.splitlines():
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) >= 2:
            for path in re.findall(r"`([^`]+)`", cells[0]):
                rows[path] = cells[1]
    return rows


def test_every_command_has_a_row_in_the_command_table():
    assert missing_commands(page("commands.md")) == []


def test_the_command_tree_is_walked_to_its_leaves():
    found = commands(cli)
    assert {"handover env set", "handover studio deploy", "handover tool register", "handover doctor"} <= set(found)
    assert "handover env" not in found and "handover studio" not in found


def test_a_command_without_a_row_is_named():
    text = page("commands.md")
    row = next(line for line in text.splitlines() if line.startswith("| `handover studio deploy` |"))
    assert missing_commands(text.replace(row + "\n", "")) == ["handover studio deploy"]


def test_every_package_of_handover_has_a_layout_row_naming_each_of_its_modules():
    rows = layout_rows(page("architecture.md"))
    for package in sorted(path.parent for path in PACKAGE.rglob("__init__.py")):
        relative = package.relative_to(REPO).as_posix() + "/"
        parent = relative if relative in rows else relative.rsplit("/", 2)[0] + "/"
        assert parent in rows, f"docs/architecture.md's Layout table has no row for {relative}"
        if parent != relative:  # a subpackage (emulator/products/) is named in its parent's row
            assert f"`{package.name}/`" in rows[parent], f"the Layout row of {parent} does not name {package.name}/"
        for module in sorted(package.glob("*.py")):
            if module.name != "__init__.py" and parent == relative:
                assert f"`{module.name}`" in rows[relative], f"the Layout row of {relative} does not name {module.name}"


def project_files() -> list[str]:
    """The project's files as git sees them, committed or not (what .gitignore ignores left out)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return [path for path in listed.stdout.splitlines() if (REPO / path).exists()]


def test_every_folder_of_the_project_and_of_its_tests_has_a_layout_row():
    rows = layout_rows(page("architecture.md"))
    files = project_files()
    # The project's folders (py/ and tests/ by their own folders), then the folders under tests/ and tests/handover/.
    folders = {path.split("/")[0] + "/" for path in files if "/" in path and not path.startswith(".")} - {
        "py/",
        "tests/",
    }
    folders |= {
        "/".join(path.split("/")[:2]) + "/" for path in files if path.startswith("tests/") and path.count("/") >= 2
    }
    for folder in sorted(folders):
        assert folder in rows, f"docs/architecture.md's Layout table has no row for {folder}"
    for folder in sorted(
        {path.split("/")[2] for path in files if path.startswith("tests/handover/") and path.count("/") >= 3}
    ):
        assert f"`{folder}/`" in rows["tests/handover/"], f"the Layout row of tests/handover/ does not name {folder}/"


def test_the_readme_stays_short():
    assert len(readme()) < README_LIMIT, f"README.md has {len(readme())} characters: move reference to docs/"


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def heading_anchors(text: str) -> set[str]:
    """The anchors GitHub gives a Markdown file's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


def broken_links(markdown: Path) -> list[str]:
    """The relative links of a Markdown file that lead to no file, or to no heading of the file they name."""
    broken = []
    text = markdown.read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not this repository's
            continue
        path, _, anchor = target.partition("#")
        linked = (markdown.parent / path).resolve() if path else markdown
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in heading_anchors(linked.read_text(encoding="utf-8")):
            broken.append(f"{target}: no such heading")
    return broken


def documentation() -> list[Path]:
    return [REPO / path for path in project_files() if path.endswith(".md")]


def test_every_relative_link_of_the_readme_and_the_docs_leads_somewhere():
    pages = documentation()
    assert REPO / "README.md" in pages and DOCS / "contract.md" in pages
    for markdown in pages:
        assert broken_links(markdown) == [], markdown.relative_to(REPO).as_posix()


def test_a_broken_link_is_named(tmp_path):
    (tmp_path / "there.md").write_text("# A heading\n\n```sh\n# not a heading\n```\n", encoding="utf-8")
    markdown = tmp_path / "page.md"
    markdown.write_text(
        "[ok](there.md) [ok](there.md#a-heading) [ok](#mine) [gone](gone.md) [no](there.md#not-a-heading)"
        " [web](https://example.com/x.md)\n\n## Mine\n",
        encoding="utf-8",
    )
    assert broken_links(markdown) == ["gone.md: no such file", "there.md#not-a-heading: no such heading"]


def test_every_variable_of_the_contract_has_a_row_in_the_configuration_page():
    rows = set(re.findall(r"^\| `([A-Z_]+)`", page("configuration.md"), re.MULTILINE))
    missing = [variable.name for variable in contract.CONFIG_VARIABLES if variable.name not in rows]
    assert missing == []


RESULTS = REPO / "bench/results.json"


def _at(results: dict, path: str):
    """A value of the bench's results by its path (`/` between keys); a list's item by its index, or by
    `field=value` conditions joined with `&` (round_trips by key, the account commands by command and run)."""
    value = results
    for part in path.split("/"):
        if "=" in part:
            conditions = [condition.split("=") for condition in part.split("&")]
            value = next(item for item in value if all(item[field] == wanted for field, wanted in conditions))
        elif isinstance(value, list):
            value = value[int(part)]
        else:
            value = value[part]
    return value


# Each row of docs/benchmarks.md's table (by its first cell's start) and the figures it quotes: the text that must
# appear in the row, made from bench/results.json. `{:,.0f}` is a count or whole milliseconds, `{:.1f}` a tenth.
QUOTED = {
    "Round trips, first handoff": [
        (
            "{} requests in **{} sequential rounds**",
            "round_trips/key=first_handoff_phone/requests",
            "round_trips/key=first_handoff_phone/sequential_rounds",
        ),
    ],
    "Round trips, web chat": [
        (
            "{} requests in {} rounds",
            "round_trips/key=first_handoff_webchat/requests",
            "round_trips/key=first_handoff_webchat/sequential_rounds",
        ),
    ],
    "Round trips, duplicate": [
        (
            "{} requests in {} round",
            "round_trips/key=duplicate/requests",
            "round_trips/key=duplicate/sequential_rounds",
        ),
        ("/ {} / {} |", "round_trips/key=rejected_input/requests", "round_trips/key=unauthenticated/requests"),
    ],
    "Handoff latency in-process": [
        (
            "p50 {:.0f} ms, p95 {:.0f} ms, p99 {:.0f} ms",
            "latency/in_process/wall_ms/p50",
            "latency/in_process/wall_ms/p95",
            "latency/in_process/wall_ms/p99",
        ),
        ("{} rounds × {} ms", "latency/in_process/sequential_rounds", "settings/latency_ms"),
    ],
    "Overhead above Twilio's time": [
        ("p50 {:.1f} ms, p95 {:.1f} ms", "overhead/p50_ms", "overhead/p95_ms"),
        ("missed by {:.1f} ms", "overhead/missed_by_ms"),
        ("({:.1f} ms each", "overhead/tunnel_per_request_ms"),
        ("{:.1f} ms per request the twilio client's", "overhead/twilio_client_per_request_ms"),
        ("{:.1f} ms the hop", "overhead/runtime_hop_ms"),
        ("about {:.1f} ms left", "overhead/function_code_ms"),
    ],
    "Handoff latency forked": [
        (
            "p50 {:.0f} ms, p95 {:.0f} ms, p99 {:.0f} ms",
            "latency/forked/wall_ms/p50",
            "latency/forked/wall_ms/p95",
            "latency/forked/wall_ms/p99",
        ),
        ("overhead p50 {:.0f} ms", "latency/forked/overhead_ms/p50"),
    ],
    "Cold start": [
        ("{:.0f} ms to load", "cold_start/load_ms"),
        ("({} modules)", "cold_start/modules_loaded"),
        ("{:.0f} ms more", "cold_start/phases_ms/firstClientUse"),
    ],
    "Burst: 100 conversations": [
        ("{} interactions", "burst/interactions"),
        ("{:.1f} handoffs/s", "burst/handoffs_per_second"),
        ("p50 {:.0f} ms, p99 {:.0f} ms", "burst/latency_ms/all/p50", "burst/latency_ms/all/p99"),
        ("of the handoffs p50 {:.0f} ms", "burst/latency_ms/handed_off/p50"),
    ],
    "Sustained rate": [
        ("**{:.1f} handoffs/s**", "scale/sustained/handoffs_per_second"),
        ("allow {:.1f}/s", "scale/sustained/bounds_per_second/rest_concurrency"),
        ("({} requests a handoff", "scale/sustained/requests_per_handoff"),
    ],
    "Spike:": [
        (
            "**{:,} tasks: {} lost, {} duplicated, {} 5xx**",
            "scale/spike/tasks",
            "scale/spike/lost",
            "scale/spike/duplicated",
            "scale/spike/server_errors",
        ),
        ("{} Sync 429s and {} concurrency 429s", "scale/spike/sync_rate_limited", "scale/spike/concurrency_limited"),
        ("at most {} requests in flight", "scale/spike/peak_requests_in_flight"),
        (
            "p50 {:.0f} ms, p99 {:.0f} ms",
            "scale/spike/latency_twilio_ms/all/p50",
            "scale/spike/latency_twilio_ms/all/p99",
        ),
        (
            "handoffs p50 {:.0f} ms, duplicates p50 {:.0f} ms",
            "scale/spike/latency_twilio_ms/handed_off/p50",
            "scale/spike/latency_twilio_ms/already_handed_off/p50",
        ),
        ("{:.1f} s here", "scale/spike/wall_seconds"),
    ],
    "Hand-back burst": [
        (
            "**{:,} handed back once: {} lost, {} doubled, {} 5xx**",
            "handback_burst/handed_back",
            "handback_burst/lost",
            "handback_burst/doubled",
            "handback_burst/server_errors",
        ),
        ("({:,} events", "handback_burst/events"),
        ("{:,} customers told once", "handback_burst/told_once"),
        ("{} Sync and {} concurrency 429s", "handback_burst/sync_rate_limited", "handback_burst/concurrency_limited"),
        (
            "({:,} requests, {:,} to Sync, at most {} in flight",
            "handback_burst/twilio_requests",
            "handback_burst/sync_requests",
            "handback_burst/peak_requests_in_flight",
        ),
        (
            "p50 {:.0f} ms, p99 {:.0f} ms",
            "handback_burst/event_latency_twilio_ms/all/p50",
            "handback_burst/event_latency_twilio_ms/all/p99",
        ),
        (
            "task.wrapup p50 {:.0f} ms, task.completed p50 {:.0f} ms",
            "handback_burst/event_latency_twilio_ms/task.wrapup/p50",
            "handback_burst/event_latency_twilio_ms/task.completed/p50",
        ),
        ("{:.1f} s here after {:.1f} s of setup", "handback_burst/wall_seconds", "handback_burst/setup_seconds"),
    ],
    "Voice: the `<Connect action>`": [
        (
            "first handoff {} request in {} round",
            "voice/round_trips/first_handoff/requests/0",
            "voice/round_trips/first_handoff/sequential_rounds/0",
        ),
        (
            "p50 {:.0f} ms, p95 {:.0f} ms;",
            "voice/round_trips/first_handoff/wall_ms/p50",
            "voice/round_trips/first_handoff/wall_ms/p95",
        ),
        (
            "retry of it {} requests in {} rounds",
            "voice/round_trips/twilio_retry/requests/0",
            "voice/round_trips/twilio_retry/sequential_rounds/0",
        ),
        ("then its read), p50 {:.0f} ms", "voice/round_trips/twilio_retry/wall_ms/p50"),
        (
            "without a handoff {} requests, p50 {:.1f} ms",
            "voice/round_trips/ended_without_handoff/requests/0",
            "voice/round_trips/ended_without_handoff/wall_ms/p50",
        ),
    ],
    "Voice burst": [
        (
            "**{} enqueued once: {} lost, {} doubled, {} 5xx**",
            "voice/burst/enqueued",
            "voice/burst/lost",
            "voice/burst/doubled",
            "voice/burst/server_errors",
        ),
        ("({} action requests, all answered 200)", "voice/burst/action_requests"),
        ("{} Sync 429s", "voice/burst/sync_rate_limited"),
        ("{:.1f} s here", "voice/burst/wall_seconds"),
    ],
    "`handover --help`": [("{:.0f} ms in a fresh process", "commands/help/wall_ms/p50")],
    "`handover env set`": [
        (
            "{} reads + {} writes",
            "commands/account/command=handover env set&run=first/reads",
            "commands/account/command=handover env set&run=first/writes",
        ),
        ("/ {} reads, no write", "commands/account/command=handover env set&run=second/reads"),
    ],
    "`handover tool register`": [
        (
            "{} reads + {} writes",
            "commands/account/command=handover tool register&run=first/reads",
            "commands/account/command=handover tool register&run=first/writes",
        ),
        ("/ {} reads, no write", "commands/account/command=handover tool register&run=second/reads"),
    ],
}


def misquoted(text: str, results: dict) -> list[str]:
    """What docs/benchmarks.md says that bench/results.json does not: each figure of QUOTED, the run's date and
    length; a row of the table QUOTED does not check is named too."""
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| What", "| ---"))]
    wrong = [
        f"the table's row {row[:40]!r}… is not checked"
        for row in rows
        if not any(row[2:].startswith(start) for start in QUOTED)
    ]
    for start, figures in QUOTED.items():
        matching = [row for row in rows if row[2:].startswith(start)]
        if len(matching) != 1:
            wrong.append(f"{len(matching)} rows start with {start!r}")
            continue
        for template, *paths in figures:
            expected = template.format(*(_at(results, path) for path in paths))
            if expected not in matching[0]:
                wrong.append(f"{start}: bench/results.json says {expected!r}")
    for expected in (f"the whole run took {results['wall_seconds']:.0f} s", results["taken_at"][:10]):
        if expected not in text:
            wrong.append(f"bench/results.json says {expected!r}")
    return wrong


def test_every_figure_of_the_benchmark_page_is_the_one_in_the_results_file():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    assert misquoted(page("benchmarks.md"), results) == []


def test_a_figure_that_is_not_the_results_files_is_named():
    results = json.loads(RESULTS.read_text(encoding="utf-8"))
    results["handback_burst"]["lost"] = 1
    results["wall_seconds"] = 1.0
    assert misquoted(page("benchmarks.md"), results) == [
        "Hand-back burst: bench/results.json says '**1,000 handed back once: 1 lost, 0 doubled, 0 5xx**'",
        "bench/results.json says 'the whole run took 1 s'",
    ]
    assert misquoted(page("benchmarks.md") + "| An unchecked row | 12 ms |\n", json.loads(RESULTS.read_text())) == [
        "the table's row '| An unchecked row | 12 ms |'… is not checked"
    ]
