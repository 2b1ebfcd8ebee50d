"""A command whose extra is not installed stops before doing anything: exit 2, naming the extra and its install."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest

from handover.commands.base import require_extra
from handover.errors import InputError
from tests.handover.commands.conftest import ENTRY_POINT, EXTRAS

REPO = Path(__file__).resolve().parents[3]


def missing_extra(command: str, extra: str, module: str) -> str:
    """What the command prints on stderr when `module` of `extra` is not installed."""
    return (
        f"Usage: handover {command} [OPTIONS]\n"
        f"Try 'handover {command} -h' for help.\n\n"
        f'Error: handover {command} needs the kit\'s "{extra}" extra, which is not installed (no module named '
        f"{module}). Install it from the project's folder: pip install ./py/twilio_emulator '.[{extra}]' "
        "(make install does this).\n"
    )


@pytest.fixture
def bare_project(tmp_path) -> Path:
    """A project folder holding only its .twilioserverlessrc, so that anything a command writes shows."""
    shutil.copy2(REPO / ".twilioserverlessrc", tmp_path / ".twilioserverlessrc")
    return tmp_path


def files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))


@pytest.mark.parametrize("module", [*EXTRAS, "twilio_emulator.scenario", "matplotlib.pyplot"])
def test_the_blocker_makes_every_extra_module_unimportable(python_without, module):
    result = python_without(f"import {module}")
    assert result.returncode == 1
    # A submodule is refused with its package, which Python imports first.
    assert f"ModuleNotFoundError: No module named '{module.partition('.')[0]}'" in result.stderr


def test_without_the_blocker_the_extras_are_installed(python_without):
    result = python_without("import " + ", ".join(EXTRAS), missing=("nothing",))
    assert result.returncode == 0, result.stderr


def test_demo_without_the_emulator_extra_exits_2_naming_it(python_without, bare_project):
    result = python_without(ENTRY_POINT, "--project-dir", str(bare_project), "demo", cwd=bare_project)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == missing_extra("demo", "emulator", "twilio_emulator")
    assert files(bare_project) == [".twilioserverlessrc"]


def test_bench_without_the_bench_extra_exits_2_naming_it(python_without, bare_project):
    result = python_without(ENTRY_POINT, "--project-dir", str(bare_project), "bench", "--quick", cwd=bare_project)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == missing_extra("bench", "bench", "twilio_emulator")
    assert files(bare_project) == [".twilioserverlessrc"]


def test_bench_with_the_emulator_but_without_matplotlib_names_matplotlib(python_without, bare_project):
    result = python_without(ENTRY_POINT, "bench", "--quick", missing=("matplotlib", "numpy"), cwd=bare_project)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == missing_extra("bench", "bench", "matplotlib")
    assert files(bare_project) == [".twilioserverlessrc"]


def test_a_module_that_is_not_installed_at_all_is_missing():
    ctx = click.Context(click.Command("demo"), info_name="demo")
    with pytest.raises(InputError, match=r"\(no module named handover_tests_not_installed\)\. Install it"):
        require_extra(ctx, "emulator", ("handover_tests_not_installed",))


def test_installed_modules_let_the_command_run():
    ctx = click.Context(click.Command("demo"), info_name="demo")
    assert require_extra(ctx, "emulator", ("twilio_emulator", "click")) is None
