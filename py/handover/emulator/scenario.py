"""A Flex account as a contact center has it (a workspace, a workflow, task channels, a conversation),
and the project as `twilio serverless:deploy` leaves it deployed."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from ..project import deployed_files, read_package_json
from .pipeline import Emulator
from .products import conversations, flex, serverless, taskrouter
from .state import Account

TASK_CHANNELS = ("default", "chat", "sms", "voice")


def new_account() -> Account:
    """Random credentials of the shape `context.getTwilioClient()` demands (AC + 32 hex, 32-character token)."""
    return Account(sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16))


@dataclass(frozen=True)
class FlexAccount:
    workspace_sid: str
    workflow_sid: str
    service_sid: str
    conversation_sid: str
    webchat_identity: str
    webchat_name: str

    @property
    def session_id(self) -> str:
        """The X-Session-Id an AI Assistant sends for this conversation."""
        return f"webhook:conversations__{self.service_sid}/{self.conversation_sid}"


def seed_flex_account(emulator: Emulator) -> FlexAccount:
    with emulator.lock:
        workspace = taskrouter.add_workspace(emulator, "Flex Task Assignment")
        workflow = taskrouter.add_workflow(emulator, workspace["sid"], "Assign to Anyone")
        for name in TASK_CHANNELS:
            taskrouter.add_task_channel(emulator, workspace["sid"], name)
        service_sid = conversations.add_service(emulator, "Flex Conversations Service")
        conversation = conversations.add_conversation(emulator, service_sid, "Customer chat with the AI Assistant")
        identity = "FX" + emulator.new_sid("")[:32]
        conversations.add_user(emulator, service_sid, identity, "Ada Lovelace")
        flex.enable_flex(emulator, workspace["sid"])
    return FlexAccount(workspace["sid"], workflow["sid"], service_sid, conversation["sid"], identity, "Ada Lovelace")


def add_conversation(emulator: Emulator, account: FlexAccount, friendly_name: str = "Another customer") -> str:
    """Another conversation in the account's service: tests that need a fresh one use this."""
    with emulator.lock:
        return conversations.add_conversation(emulator, account.service_sid, friendly_name)["sid"]


@dataclass(frozen=True)
class DeployedService:
    service_sid: str
    environment_sid: str
    domain_name: str
    build_sid: str


def seed_deployed_service(emulator: Emulator, project_dir: Path, unique_name: str = "flex-handover") -> DeployedService:
    """A new service whose dev environment runs a build of the project's functions and assets."""
    dependencies = read_package_json(project_dir).get("dependencies", {})
    with emulator.lock:
        service = serverless.add_service(emulator, unique_name)
        environment = serverless.add_environment(emulator, service["sid"])
        build = serverless.deploy_build(
            emulator, service["sid"], environment["sid"], deployed_files(project_dir), dependencies
        )
    return DeployedService(service["sid"], environment["sid"], environment["domain_name"], build["sid"])
