"""A local stand-in for the Twilio REST API, checked against Twilio's OpenAPI description."""

from __future__ import annotations

import os
from pathlib import Path

# The products first: importing them registers their routes and declares their tables, before any Emulator exists.
from . import products  # noqa: F401
from .coverage import CoveredOperation, ProductCoverage, coverage_by_product
from .errors import NOT_SERVED_SECTION, TwilioError
from .faults import Fault
from .limits import Limits
from .pipeline import Emulator, Response
from .products.assistants import add_assistant
from .products.conversation_addresses import add_address_configuration, address_configuration
from .products.conversation_messages import customer_writes, messages_of
from .products.conversation_participants import add_participant, participants_of, remove_participant
from .products.conversations import conversation_attributes, set_conversation_attributes
from .products.intelligence import add_intelligence_configuration, summary_operator, twilio_operators
from .products.orchestrator import (
    OperationFailure,
    OperationTiming,
    add_configuration,
    add_orchestrated_conversation,
    fail_next_operation,
    orchestrated_conversation,
    orchestrator_configuration,
    orchestrator_operations,
    set_operation_timing,
    set_orchestrated_status,
)
from .products.serverless import set_variable
from .products.studio import add_flow, studio_executions
from .products.sync import add_sync_map, add_sync_map_item, default_sync_service, sync_map_items
from .products.voice import PlayedCall, add_phone_number
from .proxy import EmulatorProxy
from .recording import RecordedRequest, UnservedOperation
from .scenario import (
    DeployedService,
    FlexAccount,
    add_conversation,
    new_account,
    seed_deployed_service,
    seed_flex_account,
    seed_flex_messaging_address,
    seed_tac_configuration,
)
from .spec import SPEC_PACKAGE_PATH, SpecNotFound, Violation
from .state import Account
from .studio_flow import FlowRun, FlowRunError, run_call, run_execution, run_rest

__all__ = [
    "NOT_SERVED_SECTION",
    "PlayedCall",
    "Account",
    "CoveredOperation",
    "DeployedService",
    "Emulator",
    "EmulatorProxy",
    "Fault",
    "FlexAccount",
    "FlowRun",
    "FlowRunError",
    "Limits",
    "OperationFailure",
    "OperationTiming",
    "ProductCoverage",
    "RecordedRequest",
    "Response",
    "SpecNotFound",
    "TwilioError",
    "UnservedOperation",
    "Violation",
    "add_address_configuration",
    "add_assistant",
    "add_configuration",
    "add_conversation",
    "add_flow",
    "add_phone_number",
    "add_intelligence_configuration",
    "add_orchestrated_conversation",
    "add_participant",
    "add_sync_map",
    "add_sync_map_item",
    "address_configuration",
    "conversation_attributes",
    "coverage_by_product",
    "customer_writes",
    "default_sync_service",
    "fail_next_operation",
    "messages_of",
    "new_account",
    "orchestrated_conversation",
    "orchestrator_configuration",
    "orchestrator_operations",
    "participants_of",
    "remove_participant",
    "run_call",
    "run_execution",
    "run_rest",
    "seed_deployed_service",
    "seed_flex_account",
    "seed_flex_messaging_address",
    "seed_tac_configuration",
    "set_conversation_attributes",
    "set_orchestrated_status",
    "set_operation_timing",
    "set_variable",
    "spec_directory",
    "studio_executions",
    "summary_operator",
    "sync_map_items",
    "twilio_operators",
]


def spec_directory(project_dir: Path) -> Path:
    """Where Twilio's OpenAPI description is: TWILIO_EMULATOR_OPENAPI_DIR, else the cache under project_dir.

    The cache is `.cache/twilio-oai/cli-core-<version>/`, the twilio-oai files of the pinned `@twilio/cli-core`
    (spec_files.py).
    """
    configured = os.environ.get("TWILIO_EMULATOR_OPENAPI_DIR")
    return Path(configured) if configured else project_dir / SPEC_PACKAGE_PATH
