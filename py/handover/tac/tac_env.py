"""TAC's own .env: the defaults the steps read from it, and TWILIO_STUDIO_HANDOFF_FLOW_SID written into it (only that
line; every other line and comment kept; written to a temporary file beside it, then renamed over it)."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..project import ENV_FILE, read_local

CONFIGURATION_ID = "TWILIO_CONVERSATION_CONFIGURATION_ID"
PHONE_NUMBER = "TWILIO_PHONE_NUMBER"
FLOW_SID = "TWILIO_STUDIO_HANDOFF_FLOW_SID"


def default(name: str, tac_env: Path | None, project_dir: Path) -> str | None:
    """A TAC setting: from --tac-env FILE, else the environment, else the project's .env."""
    if tac_env is not None and tac_env.is_file():
        value = read_local(tac_env).get(name)
        if value:
            return value
    return os.environ.get(name) or read_local(project_dir / ENV_FILE).get(name) or None


def set_line(path: Path, name: str, value: str) -> bool:
    """Put `name=value` into the file, replacing only its own line; whether the file changed."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    line = f"{name}={value}"
    pattern = re.compile(rf"^[ \t]*(export[ \t]+)?{re.escape(name)}[ \t]*=.*$", re.MULTILINE)
    if pattern.search(text):
        new = pattern.sub(lambda m: f"{m.group(1) or ''}{line}", text, count=1)
    else:
        new = text + ("" if not text or text.endswith("\n") else "\n") + line + "\n"
    if new == text:
        return False
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(new)
        if path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True
