"""A Flex account as a contact center has it: a workspace, a workflow, task channels, a conversation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from .core import Account, Emulator
from .products import conversations, taskrouter

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
    return FlexAccount(workspace["sid"], workflow["sid"], service_sid, conversation["sid"], identity, "Ada Lovelace")


def add_conversation(emulator: Emulator, account: FlexAccount, friendly_name: str = "Another customer") -> str:
    """Another conversation in the account's service: tests that need a fresh one use this."""
    with emulator.lock:
        return conversations.add_conversation(emulator, account.service_sid, friendly_name)["sid"]
