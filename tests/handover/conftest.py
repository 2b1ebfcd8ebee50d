"""Fixtures of the command's tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's functions, assets and .twilioserverlessrc, with the real node_modules linked in."""
    copy = tmp_path / "project"
    copy.mkdir()
    for directory in ("functions", "assets"):
        shutil.copytree(REPO / directory, copy / directory)
    shutil.copy2(REPO / ".twilioserverlessrc", copy / ".twilioserverlessrc")
    (copy / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    return copy
