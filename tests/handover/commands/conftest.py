"""A `handover` process in which the kit's extras cannot be imported, as after a plain `pip install .`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The emulator and bench extras' modules, and what they bring (matplotlib needs numpy; the emulator liquid, trustme
# and openapi_schema_validator).
EXTRAS = ("twilio_emulator", "matplotlib", "numpy", "liquid", "trustme", "openapi_schema_validator")
ENTRY_POINT = "from handover.cli import main; main()"
_BLOCKED_VARIABLE = "HANDOVER_TESTS_BLOCKED_MODULES"
# Python imports sitecustomize at startup from the path: first on PYTHONPATH, this one comes before site-packages.
_SITECUSTOMIZE = f'''
import os
import sys


class _Blocked:
    """Refuses the named modules and their submodules, before any other finder can find them."""

    def __init__(self, names):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _Blocked(set(os.environ["{_BLOCKED_VARIABLE}"].split(","))))
'''


@pytest.fixture(scope="session")
def _blocker(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("blocker")
    (folder / "sitecustomize.py").write_text(_SITECUSTOMIZE, encoding="utf-8")
    return folder


@pytest.fixture
def python_without(_blocker):
    """Runs `python -c CODE ARGS…` where the `missing` modules (default: every extra's) cannot be imported."""

    def run(code: str, *args: str, missing: tuple[str, ...] = EXTRAS, cwd: Path | None = None):
        path = os.pathsep.join(filter(None, [str(_blocker), os.environ.get("PYTHONPATH")]))
        environment = {**os.environ, "PYTHONPATH": path, _BLOCKED_VARIABLE: ",".join(missing)}
        return subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, cwd=cwd, env=environment
        )

    return run
