"""Check the project's JavaScript: it parses, each function loads and exports a handler, each private module
loads in plain Node (as the unit tests and the runtime require it), generated files match their templates."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import HandoverError
from . import generate

# Loads one module as the runtime would (without its `Runtime` global, which a module may use only once
# called) and writes what is wrong with it to a result file (not stdout, which the module may write to),
# then exits, so timers the module starts cannot hold it. A function must export a handler.
_LOAD_CHECK = """
const [file, resultPath, needsHandler] = process.argv.slice(1);
let problem = null;
try {
  const loaded = require(file);
  if (needsHandler === 'handler' && typeof loaded.handler !== 'function') {
    problem = 'does not export a handler function (exports.handler = async (context, event, callback) => …)';
  }
} catch (error) {
  problem = `cannot be loaded: ${String(error && error.message).split('\\n')[0]}`;
}
require('fs').writeFileSync(resultPath, JSON.stringify({ problem }));
process.exit(0);
"""
LOAD_TIMEOUT = 20.0
# The folders `twilio serverless:deploy` uploads.
SOURCE_DIRS = ("functions", "assets")


class NodeNotFound(HandoverError, FileNotFoundError):
    """node is not on PATH; the message says what to install."""


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _javascript_files(project_dir: Path) -> list[Path]:
    return sorted(path for directory in SOURCE_DIRS for path in (project_dir / directory).rglob("*.js"))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise NodeNotFound("node is not on PATH: install Node.js 20 or later.")
    return node


def _load_problem(node: str, project_dir: Path, path: Path, needs_handler: bool) -> Problem | None:
    relative = path.relative_to(project_dir).as_posix()
    with tempfile.TemporaryDirectory(prefix="handover-validate-") as directory:
        result_path = Path(directory) / "result.json"
        try:
            subprocess.run(
                [node, "-e", _LOAD_CHECK, str(path), str(result_path), "handler" if needs_handler else "module"],
                cwd=project_dir,
                capture_output=True,
                timeout=LOAD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return Problem(relative, f"loading it did not finish within {LOAD_TIMEOUT:.0f} s")
        if not result_path.is_file():
            return Problem(
                relative,
                "stops the process when loaded (process.exit or a crash); a function must only define its handler",
            )
        problem = json.loads(result_path.read_text(encoding="utf-8"))["problem"]
    return Problem(relative, problem) if problem else None


def check(project_dir: Path) -> list[Problem]:
    node = _node()
    problems = []
    loaded = []  # (path, whether it is a function that must export a handler)
    for path in _javascript_files(project_dir):
        relative = path.relative_to(project_dir).as_posix()
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            first_error = next((line for line in result.stderr.splitlines() if "Error" in line), result.stderr.strip())
            problems.append(Problem(relative, f"does not parse: {first_error}"))
        elif relative.startswith("functions/") and not relative.endswith(".private.js"):
            loaded.append((path, True))
        elif relative.endswith(".private.js"):
            loaded.append((path, False))
    problems += [
        problem for path, is_function in loaded if (problem := _load_problem(node, project_dir, path, is_function))
    ]
    problems += [
        Problem(
            output, "differs from its template: run `handover generate` (edit the template, not the generated file)"
        )
        for output in generate.differing(project_dir)
    ]
    return problems
