"""Finding the Serverless project the commands work on, reading it as the Serverless Toolkit does, and its .env.

.env is read as python-dotenv reads it and written line by line, every other line and comment kept.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .contract import CONNECT_ACTION, INCOMING_CALL, TASK_EVENTS, TOOLS
from .errors import HandoverError, InputError

MARKER = ".twilioserverlessrc"
DEPLOY_INFO = ".twiliodeployinfo"
ENV_FILE = ".env"


class ProjectNotFound(InputError):
    """No Serverless project at or above the directory; the message says how to name one."""


class ProjectFileInvalid(HandoverError):
    """A project file the toolkit reads (.twilioserverlessrc, .twiliodeployinfo, package.json) does not parse."""


def find_project_dir(start: Path) -> Path:
    """The nearest directory at or above `start` that holds a .twilioserverlessrc."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / MARKER).is_file():
            return directory
    raise ProjectNotFound(
        f"No Serverless project at {start} or above it (no {MARKER} found). "
        "Run the command inside the project, or pass --project-dir."
    )


def _read(path: Path, parse) -> dict:
    if not path.is_file():
        return {}
    try:
        value = parse(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ProjectFileInvalid(f"{path.name} is not valid: {error}. Fix or remove it.") from error
    if not isinstance(value, dict):
        raise ProjectFileInvalid(f"{path.name} must hold a JSON object. Fix or remove it.")
    return value


def read_rc(project_dir: Path) -> dict:
    """The .twilioserverlessrc, which the toolkit reads as JSON5 (comments allowed)."""
    import json5

    return _read(project_dir / MARKER, json5.loads)


def read_deploy_info(project_dir: Path) -> dict:
    """The .twiliodeployinfo `twilio serverless:deploy` writes: {"AC…:us1": {"serviceSid", "latestBuild"}}."""
    return _read(project_dir / DEPLOY_INFO, json.loads)


def read_package_json(project_dir: Path) -> dict:
    return _read(project_dir / "package.json", json.loads)


@dataclass(frozen=True)
class DeployedFile:
    """A file of the project as `twilio serverless:deploy` uploads it."""

    kind: str  # "function" or "asset"
    path: str  # the Serverless path, e.g. /tools/flex-handover
    visibility: str  # public, protected or private
    file: Path

    @property
    def content(self) -> str:
        # Bytes decoded as they are: read_text would turn CRLF into LF, which the toolkit does not.
        return self.file.read_bytes().decode("utf-8")


def _visibility(name: str) -> tuple[str, str]:
    """(name without the access marker, visibility), e.g. handover.private.js → (handover.js, private)."""
    stem, dot, extension = name.rpartition(".")
    for visibility in ("private", "protected"):
        if stem.endswith(f".{visibility}"):
            return stem.removesuffix(f".{visibility}") + dot + extension, visibility
    return name, "public"


# What the project means `twilio serverless:deploy` to serve, and how: (kind, path) → visibility. The tools are
# public (a caller presents the handover token); the modules they load through Runtime.getAssets() are private,
# so never downloadable. The Serverless Toolkit has no ignore file: anything else under functions/ (.js) or
# assets/ would be deployed too, so nothing else belongs there.
SHARED_MODULES = (
    "/tools/contract.js",
    "/tools/handoff.js",
    "/tools/handover.js",
    "/lifecycle/handback.js",
    "/voice/relay.js",
)
INTENDED_FILES: dict[tuple[str, str], str] = {
    **{("function", f"/tools/{tool}"): "public" for tool in TOOLS},
    # Only Twilio calls it (TaskRouter's events), with its signature: protected once deployed.
    ("function", f"/lifecycle/{TASK_EVENTS}"): "protected",
    # A Flex plugin calls it from the agent's browser (Return to AI): public, the agent's Flex token protects it,
    # validated with Twilio's IAM before anything else is read.
    ("function", "/lifecycle/hand-back"): "public",
    # Only Twilio calls it (the <Connect action> of a voice AI's call), with its signature: protected once deployed.
    ("function", f"/voice/{CONNECT_ACTION}"): "protected",
    # Only Twilio calls it (a voice AI's number's voice URL), with its signature: protected once deployed.
    ("function", f"/voice/{INCOMING_CALL}"): "protected",
    **{("asset", path): "private" for path in SHARED_MODULES},
}


def _folder(rc: dict, kind: str) -> str:
    """The folder the toolkit deploys functions or assets from, as .twilioserverlessrc names it."""
    return rc.get("functionsFolder", "functions") if kind == "function" else rc.get("assetsFolder", "assets")


def source_name(rc: dict, kind: str, path: str, visibility: str) -> str:
    """The project file the toolkit serves as `path` with `visibility` (deployed_files' inverse), relative to the
    project whose .twilioserverlessrc is `rc`: e.g. assets/tools/handoff.private.js for the private
    /tools/handoff.js."""
    stem, dot, extension = (path + ".js" if kind == "function" else path).rpartition(".")
    marker = "" if visibility == "public" else f".{visibility}"
    return f"{_folder(rc, kind)}{stem}{marker}{dot}{extension}"


def deployed_files(project_dir: Path) -> list[DeployedFile]:
    """The functions (`.js`, served without the extension) and assets (served as named) the toolkit deploys."""
    rc = read_rc(project_dir)
    found = []
    for kind in ("function", "asset"):
        root = project_dir / _folder(rc, kind)
        for file in (
            sorted(p for p in root.rglob("*") if p.is_file() and p.name != ".DS_Store") if root.is_dir() else []
        ):
            if kind == "function" and file.suffix != ".js":
                continue
            name, visibility = _visibility(file.name)
            # The toolkit turns whitespace in a path into dashes.
            path = re.sub(r"\s", "-", "/" + file.relative_to(root).with_name(name).as_posix())
            found.append(DeployedFile(kind, path.removesuffix(".js") if kind == "function" else path, visibility, file))
    return found


# .env -----------------------------------------------------------------------------------------------


def read_local(path: Path) -> dict[str, str | None]:
    """The file's variables as python-dotenv reads them; none when there is no file."""
    from dotenv import dotenv_values

    return dotenv_values(path) if path.is_file() else {}


def _assignment(key: str) -> re.Pattern:
    return re.compile(rf"^(\s*(?:export\s+)?{re.escape(key)}\s*=).*$")


def _quoted(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_local(path: Path, values: dict[str, str]) -> None:
    """Set each key in the file, keeping every other line and comment; a key given twice is set everywhere."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for key, value in values.items():
        pattern, assigned = _assignment(key), False
        for index, line in enumerate(lines):
            match = pattern.match(line)
            if match:
                lines[index], assigned = f"{match.group(1)}{_quoted(value)}", True
        if not assigned:
            lines.append(f"{key}={_quoted(value)}")
    # Written whole or not at all; a new .env is private to its owner, as it holds credentials.
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".env.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
