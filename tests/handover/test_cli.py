"""The `handover` command through click's CliRunner."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from handover import __version__
from handover.cli import cli
from handover.functions import generate
from tests.handover.commands.test_help import NEWCOMER_ORDER

REPO = Path(__file__).resolve().parents[2]
FUNCTION = "functions/tools/flex-handover.js"
CONTRACT = "assets/tools/contract.private.js"  # the one generated file
# Every command a user runs, as typed after `handover`.
COMMANDS = (
    "generate",
    "validate",
    "demo",
    "bench",
    "env set",
    "tool export",
    "tool register",
    "tool show",
    "doctor",
    "studio generate",
    "studio validate",
    "studio deploy",
    "tac addresses",
    "tac orchestrator",
    "tac summaries",
    "tac studio",
    "tac setup",
    "handback wire",
    "voice wire",
    "plugin build",
    "plugin deploy",
)
GROUPS = ("env", "tool", "studio", "tac", "handback", "voice", "plugin")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def hand_edit(project: Path) -> Path:
    path = project / CONTRACT
    path.write_text(path.read_text(encoding="utf-8").replace("CLAIM_SHARDS: 16,", "CLAIM_SHARDS: 8,"), encoding="utf-8")
    return path


def invoke(runner: CliRunner, project: Path, *args: str):
    return runner.invoke(cli, ["--project-dir", str(project), *args], catch_exceptions=False)


# generate


def test_generate_check_passes_on_the_real_project(runner):
    result = invoke(runner, REPO, "generate", "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "0 file(s) differ; 2 generated in all.\n"  # the contract asset and the plugin's copy


def test_generate_check_passes_on_a_clean_copy(runner, project):
    result = invoke(runner, project, "generate", "--check")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_generate_check_fails_naming_the_hand_edited_file(runner, project):
    edited = hand_edit(project)
    text = edited.read_text(encoding="utf-8")
    result = invoke(runner, project, "generate", "--check")
    assert result.exit_code == 1
    assert result.stdout == f"{CONTRACT}\n"
    assert result.stderr == f"{CONTRACT}: differs from its template; run `handover generate`\n"
    assert edited.read_text(encoding="utf-8") == text, "--check must write nothing"


def test_generate_check_names_a_missing_file(runner, project):
    (project / CONTRACT).unlink()
    result = invoke(runner, project, "generate", "--check")
    assert result.exit_code == 1
    assert result.stdout == f"{CONTRACT}\n"
    assert not (project / CONTRACT).exists()


def test_generate_rewrites_the_hand_edited_file_then_check_passes(runner, project):
    edited = hand_edit(project)
    result = invoke(runner, project, "generate")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{CONTRACT}\n"
    assert result.stderr == "1 file(s) written; 1 generated in all.\n"
    assert edited.read_text(encoding="utf-8") == generate.render_all()[CONTRACT]
    assert invoke(runner, project, "generate", "--check").exit_code == 0


def test_generate_twice_writes_nothing_the_second_time(runner, project):
    hand_edit(project)
    assert invoke(runner, project, "generate").exit_code == 0
    result = invoke(runner, project, "generate")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "0 file(s) written; 1 generated in all.\n"


def test_generate_json_lists_the_written_files(runner, project):
    (project / CONTRACT).unlink()
    result = invoke(runner, project, "generate", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"check": False, "written": [CONTRACT]}
    assert generate.differing(project) == []


def test_generate_check_json_on_a_clean_project(runner, project):
    result = invoke(runner, project, "generate", "--check", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"check": True, "differing": []}


def test_generate_check_json_lists_the_differing_files(runner, project):
    hand_edit(project)
    result = invoke(runner, project, "generate", "--check", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {"check": True, "differing": [CONTRACT]}


# validate


def test_validate_passes_on_the_real_project(runner):
    result = invoke(runner, REPO, "validate")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == "All functions and assets are valid.\n"


def test_validate_fails_with_one_line_per_problem(runner, project):
    function = project / FUNCTION
    function.write_text(
        function.read_text(encoding="utf-8").replace("exports.handler", "exports.handle"), encoding="utf-8"
    )
    hand_edit(project)
    result = invoke(runner, project, "validate")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{FUNCTION}: does not export a handler function (exports.handler = async (context, event, callback) => …)",
        f"{CONTRACT}: differs from its template: run `handover generate` (edit the template, not the generated file)",
    ]
    assert result.stderr == "2 problem(s) found.\n"


def test_validate_json_on_a_clean_project(runner, project):
    result = invoke(runner, project, "validate", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_validate_json_lists_path_and_problem(runner, project):
    (project / "functions/x").mkdir()
    (project / "functions/x/broken.js").write_text("exports.handler = (;\n", encoding="utf-8")
    result = invoke(runner, project, "validate", "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert [sorted(problem) for problem in problems] == [["path", "problem"]] * 2
    assert [problem["path"] for problem in problems] == ["functions/x/broken.js"] * 2
    assert problems[0]["problem"].startswith("does not parse: ")
    assert problems[1]["problem"].startswith(
        "would be deployed (public) at /x/broken, which the project does not serve"
    )


def test_validate_without_node_is_a_clear_error(runner, project, monkeypatch):
    monkeypatch.setattr("handover.functions.validate.shutil.which", lambda name: None)
    result = invoke(runner, project, "validate")
    assert result.exit_code == 1
    assert result.stderr == "Error: node is not on PATH: install Node.js 20 or later.\n"


# finding the project


@pytest.mark.parametrize("command", [["generate"], ["generate", "--check"], ["validate"], ["demo"]])
def test_a_directory_without_twilioserverlessrc_is_a_usage_error(runner, tmp_path, command):
    result = invoke(runner, tmp_path, *command)
    assert result.exit_code == 2
    assert "No Serverless project" in result.stderr
    assert str(tmp_path.resolve()) in result.stderr
    assert "Error: No Serverless project at" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_project_is_found_above_the_working_directory(runner, project, monkeypatch):
    monkeypatch.chdir(project / "functions" / "tools")
    hand_edit(project)
    result = runner.invoke(cli, ["generate", "--check"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout == f"{CONTRACT}\n"


def test_project_dir_may_be_a_subdirectory_of_the_project(runner, project):
    hand_edit(project)
    result = invoke(runner, project / "assets", "generate", "--check")
    assert result.exit_code == 1
    assert result.stdout == f"{CONTRACT}\n"


def test_a_nonexistent_project_dir_is_a_usage_error(runner, tmp_path):
    result = invoke(runner, tmp_path / "missing", "validate")
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# help and version


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_cli_answers_help(runner, flag):
    result = runner.invoke(cli, [flag], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: cli [OPTIONS] COMMAND [ARGS]...")
    assert "Hand a customer's conversation from an AI agent to a human agent in Twilio Flex." in " ".join(
        result.stdout.split()
    )
    assert "--project-dir" in result.stdout
    for name in NEWCOMER_ORDER:
        # One line each in the command list: the short help fits, so click does not cut it with "...".
        line = re.search(rf"^  {name} +(.*)$", result.stdout, re.MULTILINE)
        assert line and not line.group(1).endswith("..."), name


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("command", COMMANDS + GROUPS)
def test_every_command_answers_help_with_an_example(runner, command, flag):
    result = runner.invoke(cli, [*command.split(), flag], catch_exceptions=False)
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: cli {command} ")
    assert f"Example: handover {command}" in result.stdout
    assert "-h, --help" in result.stdout


def test_help_needs_no_project(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for command in COMMANDS + GROUPS:
        result = runner.invoke(cli, [*command.split(), "--help"], catch_exceptions=False)
        assert result.exit_code == 0, command


def _leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in group.commands.items():
        found += (
            _leaf_commands(command, f"{prefix}{name} ") if isinstance(command, click.Group) else [f"{prefix}{name}"]
        )
    return found


def test_the_commands_are_the_documented_ones():
    assert sorted(_leaf_commands(cli)) == sorted(COMMANDS)


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version(runner, flag):
    result = runner.invoke(cli, [flag], catch_exceptions=False)
    assert result.exit_code == 0
    # click's version option keeps the program name of its first use in this process: cli or handover.
    assert re.fullmatch(rf"(cli|handover), version {re.escape(__version__)}\n", result.stdout)
    assert __version__ == "0.1.0"


@pytest.mark.parametrize("flag", ["--version", "-V", "-h"])
def test_the_entry_point_is_named_handover(flag):
    result = subprocess.run(
        [sys.executable, "-c", "from handover.cli import main; main()", flag],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    if flag == "-h":
        assert result.stdout.startswith("Usage: handover [OPTIONS] COMMAND [ARGS]...")
    else:
        assert result.stdout == f"handover, version {__version__}\n"


def test_every_command_is_documented_in_the_command_page_with_an_example():
    page = (REPO / "docs/commands.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        assert re.search(rf"^\| `handover {command}` \|.*\| `handover {command}[ `]", page, re.MULTILINE), (
            f"docs/commands.md's command table has no row with an example for `handover {command}`"
        )
