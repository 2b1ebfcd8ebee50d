"""`handover --help` and every command's: they need none of the extras, and list the commands in a newcomer's order."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
from click.testing import CliRunner

from handover.cli import cli
from tests.handover.commands.conftest import ENTRY_POINT

NEWCOMER_ORDER = [
    "demo",
    "env",
    "tool",
    "studio",
    "tac",
    "handback",
    "voice",
    "plugin",
    "doctor",
    "validate",
    "generate",
    "bench",
]
# What only running a command may import: the twilio SDK, jinja2, and the extras.
HEAVY = {"twilio", "jinja2", "twilio_emulator", "matplotlib", "liquid"}


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The group and every group and command under it, as typed after `handover`."""
    found = [prefix]
    for name, command in group.commands.items():
        path = (*prefix, name)
        found += command_paths(command, path) if isinstance(command, click.Group) else [path]
    return found


PATHS = command_paths(cli)


def test_the_walk_reaches_the_root_every_group_and_every_command():
    assert len(PATHS) == 29
    assert {(), ("env",), ("env", "set"), ("tool", "export"), ("tac", "setup"), ("demo",), ("bench",)} <= set(PATHS)


def test_every_help_answers_without_the_extras(python_without, tmp_path):
    for path in PATHS:
        result = python_without(ENTRY_POINT, *path, "--help", cwd=tmp_path)
        assert result.returncode == 0, (path, result.stderr)
        assert result.stdout.startswith(f"Usage: {' '.join(('handover', *path))} "), path
    assert list(tmp_path.iterdir()) == []


def test_help_imports_neither_the_twilio_sdk_nor_jinja2_nor_the_extras():
    code = (
        "import json, sys\n"
        "from handover.cli import cli\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        cli.main([*path, '--help'], prog_name='handover')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(json.dumps(sorted({name.partition('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(PATHS)], capture_output=True, text=True, timeout=60, check=True
    )
    imported = set(json.loads(result.stdout.splitlines()[-1]))
    assert {"click", "handover"} <= imported
    assert imported & HEAVY == set()


def test_help_lists_the_commands_in_the_order_a_newcomer_uses_them():
    result = CliRunner().invoke(cli, ["--help"], catch_exceptions=False)
    assert result.exit_code == 0
    listed = result.stdout.split("\nCommands:\n")[1]
    assert re.findall(r"^  (\S+)", listed, re.MULTILINE) == NEWCOMER_ORDER
