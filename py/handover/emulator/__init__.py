"""A local stand-in for the Twilio REST API, checked against Twilio's OpenAPI description."""

from __future__ import annotations

import os
from pathlib import Path

from .core import Account, Emulator, Fault, RecordedRequest, TwilioError
from .proxy import EmulatorProxy
from .scenario import FlexAccount, add_conversation, new_account, seed_flex_account
from .spec import SPEC_PACKAGE_PATH, SpecNotFound, Violation

__all__ = [
    "Account",
    "Emulator",
    "EmulatorProxy",
    "Fault",
    "FlexAccount",
    "RecordedRequest",
    "SpecNotFound",
    "TwilioError",
    "Violation",
    "add_conversation",
    "new_account",
    "seed_flex_account",
    "spec_directory",
]


def spec_directory(project_dir: Path) -> Path:
    """Where Twilio's OpenAPI description is: HANDOVER_OPENAPI_DIR, else the npm package in the project."""
    configured = os.environ.get("HANDOVER_OPENAPI_DIR")
    return Path(configured) if configured else project_dir / SPEC_PACKAGE_PATH
