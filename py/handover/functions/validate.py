"""Check the project's JavaScript: it parses, each function loads and exports a handler, each private module
loads in plain Node (as the unit tests and the runtime require it), generated files match their templates."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .. import runtimes
from ..errors import HandoverError
from ..project import INTENDED_FILES, MARKER, deployed_files, read_rc, source_name
from . import generate

# Checks every file in one Node process (a process per file cost ~0.1 s each) and writes the outcomes to a result
# file (not stdout, which the modules may write to). Each function and private module loads in a worker thread of
# its own, as the runtime would load it (without its `Runtime` global, which a module may use only once called):
# its process.exit, crash or endless load ends only that worker, and the worker exits once loaded, so timers the
# module starts cannot hold it.
_CHECK = r"""
const fs = require('fs');
const vm = require('vm');
const { spawnSync } = require('child_process');
const { Worker, MessageChannel, receiveMessageOnPort } = require('worker_threads');
const [resultPath, timeoutSeconds, filesJson] = process.argv.slice(1);

// A file that compiles as Node wraps a CommonJS module parses; `node --check` judges any other, as it may still
// take it for an ES module (a browser script under assets/) and words the error as users see it.
function parseError(file) {
  try {
    const source = fs.readFileSync(file, 'utf8');
    vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
    return null;
  } catch {
    const { status, stderr } = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
    return status === 0 ? null : stderr;
  }
}

// Runs in the worker (as source): a function must export a handler.
function load({ file, needsHandler, port }) {
  let problem = null;
  try {
    const loaded = require(file);
    if (needsHandler && typeof loaded.handler !== 'function') {
      problem = 'does not export a handler function (exports.handler = async (context, event, callback) => …)';
    }
  } catch (error) {
    problem = `cannot be loaded: ${String(error && error.message).split('\n')[0]}`;
  }
  port.postMessage(problem);
  process.exit(0);
}

function loadOutcome(file, needsHandler) {
  // The worker's result waits on this port, read when the worker exits: none means it stopped before the end.
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(`(${load})(require('worker_threads').workerData)`, {
    eval: true,
    workerData: { file, needsHandler, port: port2 },
    transferList: [port2],
  });
  worker.on('error', () => {}); // a crash ends the worker without a result; unheard, it would end the checker
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve({ timedOut: true });
      worker.terminate();
    }, Number(timeoutSeconds) * 1000);
    worker.on('exit', () => {
      clearTimeout(timer);
      const result = receiveMessageOnPort(port1);
      resolve(result ? { problem: result.message } : { stopped: true });
    });
  });
}

(async () => {
  const outcomes = await Promise.all(
    JSON.parse(filesJson).map(([file, kind]) => {
      const parse = parseError(file);
      if (parse !== null) return { parse };
      return kind === 'asset' ? {} : loadOutcome(file, kind === 'function');
    }),
  );
  fs.writeFileSync(resultPath, JSON.stringify(outcomes));
  // A worker stuck in a blocking call (execSync, a read) outlives terminate(), and Node's exit would wait for it.
  if (outcomes.some((outcome) => outcome.timedOut)) process.kill(process.pid, 'SIGKILL');
})();
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


def _kind(relative: str) -> str:
    """A function must export a handler, a private module must load, a public asset (browser code) only parse."""
    if relative.endswith(".private.js"):
        return "module"
    return "function" if relative.startswith("functions/") else "asset"


def _outcomes(node: str, project_dir: Path, relatives: list[str]) -> list[dict]:
    """For each file: `parse`, the stderr of a failed `node --check`, or once it loads: `problem` (or None),
    `stopped` or `timedOut`; nothing for a public asset that parses."""
    checked = [[str(project_dir.absolute() / relative), _kind(relative)] for relative in relatives]
    with tempfile.TemporaryDirectory(prefix="handover-validate-") as directory:
        result_path = Path(directory) / "result.json"
        result = subprocess.run(
            [node, "-e", _CHECK, str(result_path), str(LOAD_TIMEOUT), json.dumps(checked)],
            cwd=project_dir,
            capture_output=True,
            text=True,
        )
        if not result_path.is_file():  # a module ended the whole process (process.kill) or crashed it
            raise HandoverError(
                f"node stopped (exit status {result.returncode}) while checking the JavaScript. {result.stderr}".strip()
            )
        return json.loads(result_path.read_text(encoding="utf-8"))


def _load_message(outcome: dict) -> str | None:
    if outcome.get("timedOut"):
        return f"loading it did not finish within {LOAD_TIMEOUT:.0f} s"
    if outcome.get("stopped"):
        return "stops the process when loaded (process.exit or a crash); a function must only define its handler"
    return outcome.get("problem")


def check(project_dir: Path) -> list[Problem]:
    node = _node()
    relatives = [path.relative_to(project_dir).as_posix() for path in _javascript_files(project_dir)]
    checked = list(zip(relatives, _outcomes(node, project_dir, relatives), strict=True))
    problems = [
        Problem(relative, f"does not parse: {_first_error(outcome['parse'])}")
        for relative, outcome in checked
        if "parse" in outcome
    ]
    problems += [Problem(relative, message) for relative, outcome in checked if (message := _load_message(outcome))]
    problems += [
        Problem(
            output, "differs from its template: run `handover generate` (edit the template, not the generated file)"
        )
        for output in generate.differing(project_dir)
    ]
    return problems


def _first_error(stderr: str) -> str:
    return next((line for line in stderr.splitlines() if "Error" in line), stderr.strip())


def deployment_problems(project_dir: Path) -> list[Problem]:
    """What `twilio serverless:deploy` would serve otherwise than the project means (project.INTENDED_FILES): a file
    missing, served with another visibility, or served although nothing means it to be."""
    found = {(f.kind, f.path): f for f in deployed_files(project_dir)}
    rc = read_rc(project_dir)
    problems = []
    for (kind, path), visibility in INTENDED_FILES.items():
        file = found.get((kind, path))
        expected = source_name(rc, kind, path, visibility)
        if file is None:
            problems.append(
                Problem(expected, f"is missing: `twilio serverless:deploy` would not serve the {kind} {path}")
            )
        elif file.visibility != visibility:
            problems.append(
                Problem(
                    _relative(project_dir, file.file),
                    f"would be deployed {file.visibility} at {path}; it must be {visibility}: name it {expected}",
                )
            )
    problems += [
        Problem(
            _relative(project_dir, file.file),
            f"would be deployed ({file.visibility}) at {file.path}, which the project does not serve: the Serverless "
            "Toolkit uploads every .js file under functions/ and every file under assets/, so move it out of them",
        )
        for key, file in found.items()
        if key not in INTENDED_FILES
    ]
    return problems


def runtime_findings(project_dir: Path, on: date | None = None) -> tuple[list[Problem], list[str]]:
    """The configured runtime (.twilioserverlessrc): a problem when Twilio builds nothing on it any more, a warning
    when its retirement is announced or when no runtime is named; each with the fix."""
    configured = read_rc(project_dir).get("runtime")
    if configured is None:
        return [], [
            f"{MARKER}: names no runtime, so Twilio builds on the service's last build's runtime ({runtimes.DEPLOY_ON} "
            f"for a new service), retired or not. {runtimes.fix(runtimes.DEPLOY_ON)}"
        ]
    found = runtimes.problem(str(configured), on or runtimes.today())
    if found is None:
        return [], []
    if found.retired:
        return [Problem(MARKER, f"{found.message}. {found.fix}")], []
    return [], [f"{MARKER}: {found.message}. {found.fix}"]


def _relative(project_dir: Path, file: Path) -> str:
    return file.relative_to(project_dir).as_posix()
