"""`handover plugin build`: the plugin's dependencies installed when they are not (`npm ci`), then `npm run build`.

npm's own output goes to stderr as it comes (stdout stays the command's data); a step that fails stops the build
with its exit status and what to do. Node.js and npm must be on PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import HandoverError, InputError
from .bundle import NotBuilt, PluginPackage, read_bundle

LOCK_FILE = "package-lock.json"
NODE_MODULES = "node_modules"
# What npm ci writes last; older than the lock file means the lock file changed since the install.
INSTALLED_LOCK = Path(NODE_MODULES) / ".package-lock.json"


class ToolMissing(InputError):
    """Node.js or npm is not on PATH."""


class BuildFailed(HandoverError):
    """A step of the build exited with an error; its output went to stderr before this."""


@dataclass(frozen=True)
class BuildResult:
    package: PluginPackage
    steps: list[str] = field(default_factory=list)  # the commands run, in order
    sha256: str = ""
    size: int = 0

    def as_json(self) -> dict:
        return {
            "plugin": self.package.name,
            "version": self.package.version,
            "folder": str(self.package.folder),
            "steps": self.steps,
            "bundle": {"path": str(self.package.bundle_path), "sha256": self.sha256, "bytes": self.size},
        }


def needs_install(folder: Path) -> bool:
    """Whether `npm ci` must run: no node_modules yet, or a lock file newer than the one npm last installed."""
    installed = folder / INSTALLED_LOCK
    if not (folder / NODE_MODULES).is_dir() or not installed.is_file():
        return True
    lock = folder / LOCK_FILE
    return lock.is_file() and lock.stat().st_mtime > installed.stat().st_mtime


def _npm() -> str:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise ToolMissing(
                f"{tool} is not on PATH: building the Flex plugin needs Node.js 20 or later with npm. Install it "
                "(https://nodejs.org), then run again."
            )
    return shutil.which("npm")


def _run(npm: str, arguments: list[str], folder: Path) -> None:
    """Run npm in the folder, its output copied to stderr line by line as it comes (whatever stderr is)."""
    command = " ".join(["npm", *arguments])
    with subprocess.Popen(
        [npm, *arguments], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace"
    ) as process:
        for line in process.stdout:
            sys.stderr.write(line)
    if process.returncode != 0:
        raise BuildFailed(
            f"`{command}` in {folder} exited with status {process.returncode} (its output is above). Fix what it "
            "reports, then run again."
        )


def build(package: PluginPackage, install: bool | None = None) -> BuildResult:
    """`npm ci` when needed (or when `install` says so), then `npm run build`; the bundle it left."""
    if "build" not in package.scripts:
        raise InputError(
            f"{package.folder / 'package.json'} has no `build` script: add one (flex-plugin build) and run again."
        )
    npm = _npm()
    steps = []
    should_install = needs_install(package.folder) if install is None else install
    if should_install:
        if not (package.folder / LOCK_FILE).is_file():
            raise InputError(
                f"{package.folder} has no {LOCK_FILE}, which `npm ci` installs from: run `npm install` there once "
                "and commit the lock file, then run again."
            )
        _run(npm, ["ci", "--no-audit", "--no-fund"], package.folder)
        steps.append("npm ci")
    _run(npm, ["run", "build"], package.folder)
    steps.append("npm run build")
    try:
        built = read_bundle(package)
    except NotBuilt as error:
        raise BuildFailed(
            f"`npm run build` succeeded but left no bundle at {package.bundle_path}: the build script must write "
            "build/<package name>.js (flex-plugin build does)."
        ) from error
    return BuildResult(package, steps, built.sha256, len(built.content))
