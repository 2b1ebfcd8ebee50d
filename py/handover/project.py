"""Finding the Serverless project the commands work on."""

from __future__ import annotations

from pathlib import Path

MARKER = ".twilioserverlessrc"


class ProjectNotFound(Exception):
    pass


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
