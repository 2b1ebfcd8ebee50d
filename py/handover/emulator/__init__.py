"""A local stand-in for the Twilio REST API, checked against Twilio's OpenAPI description."""

from __future__ import annotations

import os
from pathlib import Path

# The products first: importing them registers their routes and declares their tables, before any Emulator exists.
from . import products  # noqa: F401
from .errors import TwilioError
from .faults import Fault
from .limits import Limits
from .pipeline import Emulator
from .products.assistants import add_assistant
from .products.conversations import conversation_attributes, set_conversation_attributes
from .products.orchestrator import add_orchestrated_conversation
from .products.serverless import set_variable
from .products.studio import add_flow, studio_executions
from .products.sync import add_sync_map, add_sync_map_item, default_sync_service, sync_map_items
from .proxy import EmulatorProxy
from .recording import RecordedRequest
from .scenario import (
    DeployedService,
    FlexAccount,
    add_conversation,
    new_account,
    seed_deployed_service,
    seed_flex_account,
)
from .spec import SPEC_PACKAGE_PATH, SpecNotFound, Violation
from .state import Account
from .studio_flow import FlowRun, FlowRunError, run_call, run_execution, run_rest

__all__ = [
    "Account",
    "DeployedService",
    "Emulator",
    "EmulatorProxy",
    "Fault",
    "FlexAccount",
    "FlowRun",
    "FlowRunError",
    "Limits",
    "RecordedRequest",
    "SpecNotFound",
    "TwilioError",
    "Violation",
    "add_assistant",
    "add_conversation",
    "add_flow",
    "add_orchestrated_conversation",
    "add_sync_map",
    "add_sync_map_item",
    "conversation_attributes",
    "default_sync_service",
    "new_account",
    "run_call",
    "run_execution",
    "run_rest",
    "seed_deployed_service",
    "seed_flex_account",
    "set_conversation_attributes",
    "set_variable",
    "spec_directory",
    "studio_executions",
    "sync_map_items",
]


def spec_directory(project_dir: Path) -> Path:
    """Where Twilio's OpenAPI description is: HANDOVER_OPENAPI_DIR, else the npm package in the project."""
    configured = os.environ.get("HANDOVER_OPENAPI_DIR")
    return Path(configured) if configured else project_dir / SPEC_PACKAGE_PATH
