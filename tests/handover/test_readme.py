"""The README is the project's map: every `handover` command has a row in its command table, and every package,
module and folder a place in its Layout table."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import click

from handover.cli import cli

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "py/handover"


def readme() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "handover") -> list[str]:
    """Every command a user runs, as typed: `handover env set`, `handover studio deploy`, … (groups are walked)."""
    found = []
    for name, command in sorted(group.commands.items()):
        typed = f"{prefix} {name}"
        found += commands(command, typed) if isinstance(command, click.Group) else [typed]
    return found


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    following = text.find("\n## ", start + 1)
    return text[start : following if following >= 0 else len(text)]


def command_rows(text: str) -> set[str]:
    """The commands the rows of the command table (section "The `handover` command") are about."""
    table = _section(text, "The `handover` command")
    return set(re.findall(r"^\| `(handover [a-z ]+)` \|", table, re.MULTILINE))


def missing_commands(text: str) -> list[str]:
    rows = command_rows(text)
    return [command for command in commands(cli) if command not in rows]


def layout_rows(text: str) -> dict[str, str]:
    """Path → what the Layout table says is there, a row naming several paths (`a`, `b`) counted for each."""
    rows = {}
    for line in _section(text, "Layout").splitlines():
        cells = line.split(" | ")
        if line.startswith("| `") and len(cells) >= 2:
            for path in re.findall(r"`([^`]+)`", cells[0]):
                rows[path] = cells[1]
    return rows


def test_every_command_has_a_row_in_the_command_table():
    assert missing_commands(readme()) == []


def test_the_command_tree_is_walked_to_its_leaves():
    found = commands(cli)
    assert {"handover env set", "handover studio deploy", "handover tool register", "handover doctor"} <= set(found)
    assert "handover env" not in found and "handover studio" not in found


def test_a_command_without_a_row_is_named():
    text = readme()
    row = next(line for line in text.splitlines() if line.startswith("| `handover studio deploy` |"))
    assert missing_commands(text.replace(row + "\n", "")) == ["handover studio deploy"]


def test_every_package_of_handover_has_a_layout_row_naming_each_of_its_modules():
    rows = layout_rows(readme())
    for package in sorted(path.parent for path in PACKAGE.rglob("__init__.py")):
        relative = package.relative_to(REPO).as_posix() + "/"
        parent = relative if relative in rows else relative.rsplit("/", 2)[0] + "/"
        assert parent in rows, f"README.md's Layout table has no row for {relative}"
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
    rows = layout_rows(readme())
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
        assert folder in rows, f"README.md's Layout table has no row for {folder}"
    for folder in sorted(
        {path.split("/")[2] for path in files if path.startswith("tests/handover/") and path.count("/") >= 3}
    ):
        assert f"`{folder}/`" in rows["tests/handover/"], f"the Layout row of tests/handover/ does not name {folder}/"
