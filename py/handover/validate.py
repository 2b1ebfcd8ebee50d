"""Check the project's functions: they parse, each exports a handler, generated files match templates."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import generate

# Loads each function module and reports whether it exports a handler, as the runtime would call it.
_EXPORTS_CHECK = """
const results = {};
for (const file of JSON.parse(process.argv[1])) {
  try {
    const loaded = require(file);
    results[file] = typeof loaded.handler === 'function' ? null : 'does not export a handler function (exports.handler = async (context, event, callback) => …)';
  } catch (error) {
    results[file] = `cannot be loaded: ${error.message.split('\\n')[0]}`;
  }
}
process.stdout.write(JSON.stringify(results));
"""


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def _javascript_files(project_dir: Path) -> list[Path]:
    return sorted(path for directory in generate.GENERATED_DIRS for path in (project_dir / directory).rglob("*.js"))


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("node is not on PATH: install Node.js 20 or later.")
    return node


def check(project_dir: Path) -> list[Problem]:
    node = _node()
    problems = []
    parsed = []
    for path in _javascript_files(project_dir):
        relative = path.relative_to(project_dir).as_posix()
        result = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            first_error = next((line for line in result.stderr.splitlines() if "Error" in line), result.stderr.strip())
            problems.append(Problem(relative, f"does not parse: {first_error}"))
        elif relative.startswith("functions/") and not relative.endswith(".private.js"):
            parsed.append(path)
    if parsed:
        result = subprocess.run(
            [node, "-e", _EXPORTS_CHECK, json.dumps([str(path) for path in parsed])], capture_output=True, text=True, cwd=project_dir
        )
        for file, message in json.loads(result.stdout or "{}").items():
            if message:
                problems.append(Problem(Path(file).relative_to(project_dir).as_posix(), message))
    problems += [
        Problem(output, "differs from its template: run `handover generate` (edit the template, not the generated file)")
        for output in generate.differing(project_dir)
    ]
    return problems
