"""The README and docs/ are the project's map, kept true: the README stays short, every relative link of theirs
leads to a file and heading that exist, every `handover` command has a row in docs/commands.md, every package,
module and folder a place in docs/architecture.md, and every variable of the contract a row in
docs/configuration.md."""

from __future__ import annotations

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
