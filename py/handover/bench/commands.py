"""The Python commands: how fast `handover --help` answers in a fresh process (and that it leaves the
twilio SDK unimported), and the API calls `env set` and `tool register` make on a first and second run.

The commands run as a user runs them, each in a fresh process, against the emulator through its proxy,
on a throwaway copy of the project (env set writes .env).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twilio_emulator import Emulator, EmulatorProxy, FlexAccount, add_assistant

from ..local.stack import seed_deployment
from ..project import MARKER
from . import stats

COMMAND_TIMEOUT = 120.0
# What the `handover` console script runs.
ENTRY_POINT = "from handover.cli import main; main()"
# The same, with --help, then the top-level packages it imported, on the last line of stdout.
HELP_PROBE = """
import contextlib, io, json, sys
sys.argv = ["handover", "--help"]
with contextlib.redirect_stdout(io.StringIO()):
    try:
        from handover.cli import main
        main()
    except SystemExit:
        pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""
# Imports `--help` has no use for: each is loaded only by the command that needs it.
HEAVY_PACKAGES = ("twilio", "requests", "jinja2", "matplotlib", "openapi_schema_validator", "trustme")
PROJECT_FILES = (MARKER, "package.json", "functions", "assets")


def help_startup(runs: int) -> dict:
    """`runs` fresh `handover --help` processes: their wall time, and what the last one imported."""
    walls, imported = [], []
    for _ in range(runs):
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=True
        )
        walls.append((time.monotonic() - started) * 1000)
        imported = json.loads(done.stdout.splitlines()[-1])
    return {
        "runs": runs,
        "wall_ms": stats.summary(walls),
        "imports_twilio": "twilio" in imported,
        "heavy_packages_imported": [name for name in HEAVY_PACKAGES if name in imported],
        "top_level_packages_imported": len(imported),
    }


def _project_copy(project_dir: Path, into: Path) -> Path:
    copy = into / "project"
    copy.mkdir()
    for name in PROJECT_FILES:
        source = project_dir / name
        if source.is_dir():
            shutil.copytree(source, copy / name)
        elif source.is_file():
            shutil.copy2(source, copy / name)
    return copy


def _account_environment(emulator: Emulator, proxy: EmulatorProxy) -> dict[str, str]:
    """A user's shell pointed at the emulator: the proxy and the account's credentials, nothing else of ours."""
    kept = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    return {
        **kept,
        **proxy.client_environment(),
        "TWILIO_ACCOUNT_SID": emulator.account.sid,
        "TWILIO_AUTH_TOKEN": emulator.account.auth_token,
    }


def account_commands(project_dir: Path, emulator: Emulator, proxy: EmulatorProxy, account: FlexAccount) -> list[dict]:
    """`env set` then `tool register`, each run twice on a new deployment: the requests the emulator counted."""
    with tempfile.TemporaryDirectory(prefix="handover-bench-") as directory:
        project = _project_copy(project_dir, Path(directory))
        deployed = seed_deployment(emulator, project, unique_name="flex-handover-bench")
        assistant = add_assistant(emulator, "Benchmark Assistant")["id"]
        commands = {
            "env set": ["env", "set", "--workspace-sid", account.workspace_sid, "--workflow-sid", account.workflow_sid],
            "tool register": ["tool", "register", "--assistant-id", assistant],
        }
        environment = _account_environment(emulator, proxy)
        rows = []
        for name, args in commands.items():
            for run in ("first", "second"):
                before = len(emulator.requests)
                started = time.monotonic()
                done = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        ENTRY_POINT,
                        "--project-dir",
                        str(project),
                        *args,
                        "--service-sid",
                        deployed.service_sid,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=COMMAND_TIMEOUT,
                    env=environment,
                    cwd=project,
                )
                wall_ms = (time.monotonic() - started) * 1000
                made = emulator.requests[before:]
                reads = sum(1 for request in made if request.method == "GET")
                rows.append(
                    {
                        "command": f"handover {name}",
                        "run": run,
                        "exit_code": done.returncode,
                        "requests": len(made),
                        "reads": reads,
                        "writes": len(made) - reads,
                        "wall_ms": round(wall_ms, 1),
                        # The commands never print a secret without --show-secrets, so their last word can be kept.
                        "error": done.stderr.strip().splitlines()[-1]
                        if done.returncode and done.stderr.strip()
                        else None,
                    }
                )
        return rows
