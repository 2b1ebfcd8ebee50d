"""A Flex account as a contact center has it (a workspace with Flex's activities and "Everyone" queue, a workflow,
task channels, a conversation), Flex's messaging address and a Conversation Orchestrator configuration as their
Consoles leave them, and the project as `twilio serverless:deploy` leaves it deployed."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .pipeline import Emulator
from .products import (
    conversation_addresses,
    conversations,
    flex,
    orchestrator,
    serverless,
    studio,
    taskrouter,
    taskrouter_workers,
)
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
        _seed_flex_routing(emulator, workspace, workflow)
    return FlexAccount(workspace["sid"], workflow["sid"], service_sid, conversation["sid"], identity, "Ada Lovelace")


def _seed_flex_routing(emulator: Emulator, workspace: dict, workflow: dict) -> None:
    """Flex's activities (Offline, the workspace's default and timeout activity, Available, Unavailable, Break) and
    its "Everyone" queue, which the workflow routes to: made after the account's other resources, whose SIDs stay
    as they were, the workspace's default activity and the workflow's queue taking the SIDs they already name."""
    for name, available in taskrouter_workers.FLEX_ACTIVITIES:
        sid = workspace["default_activity_sid"] if name == "Offline" else None
        taskrouter_workers.add_activity(emulator, workspace["sid"], name, available, sid)
    workspace["timeout_activity_sid"] = workspace["default_activity_sid"]
    queue_sid = taskrouter.routed_queue_sid(workflow)
    taskrouter_workers.add_task_queue(emulator, workspace["sid"], "Everyone", "1==1", queue_sid)


def add_conversation(emulator: Emulator, account: FlexAccount, friendly_name: str = "Another customer") -> str:
    """Another conversation in the account's service: tests that need a fresh one use this."""
    with emulator.lock:
        return conversations.add_conversation(emulator, account.service_sid, friendly_name)["sid"]


# Flex's default "Messaging Flow": a conversation's first message goes to a Send to Flex widget.
FLEX_MESSAGING_FLOW = {
    "description": "Messaging Flow",
    "initial_state": "Trigger",
    "flags": {"allow_concurrent_calls": True},
    "states": [
        {
            "name": "Trigger",
            "type": "trigger",
            "properties": {"offset": {"x": 0, "y": 0}},
            "transitions": [{"event": "incomingConversationMessage", "next": "SendToFlexAgent"}],
        },
        {
            "name": "SendToFlexAgent",
            "type": "send-to-flex",
            "properties": {
                "offset": {"x": 0, "y": 200},
                "channel": "TCchat",
                "attributes": '{"name": "{{trigger.conversation.ChannelAttributes.from}}"}',
            },
            "transitions": [{"event": "callComplete"}, {"event": "failedToEnqueue"}, {"event": "callFailure"}],
        },
    ],
}


def seed_flex_messaging_address(
    emulator: Emulator,
    account: FlexAccount,
    address: str = "+15005550006",
    address_type: str = "sms",
    flow_sid: str | None = None,
) -> dict:
    """A messaging address as Flex's Console sets it up: auto-creation of type `studio` into the account's
    Conversations service, pointing at Flex's "Messaging Flow" (made unless `flow_sid` names one). Its answer."""
    with emulator.lock:
        if flow_sid is None:
            flow_sid = studio.add_flow(emulator, "Messaging Flow", FLEX_MESSAGING_FLOW)["sid"]
        return conversation_addresses.add_address_configuration(
            emulator,
            address_type,
            address,
            f"Flex {address_type} {address}",
            enabled=True,
            type="studio",
            conversation_service_sid=account.service_sid,
            studio_flow_sid=flow_sid,
            studio_retry_count=3,
        )


# A Conversation Orchestrator configuration's lifecycle timeouts in minutes, by channel, as the emulator assumes the
# Console leaves them (the description's example values; nothing documents the Console's).
CONSOLE_DEFAULT_TIMEOUTS = {
    "SMS": {"inactive": 10, "closed": 15},
    "WHATSAPP": {"inactive": 15, "closed": 60},
    "VOICE": {"inactive": 5, "closed": 30},
}


def seed_tac_configuration(
    emulator: Emulator,
    phone_number: str = "+15005550006",
    whatsapp_number: str | None = None,
    status_callback_url: str | None = None,
) -> dict:
    """The Conversation Orchestrator configuration TAC's quickstart leaves, in its Console-default state; its answer.

    Traffic to and from the number is captured automatically on SMS, WhatsApp (`whatsapp:` the WhatsApp number,
    else the phone number) and voice; no Conversations (Classic) bridge; voice conversations close after the
    closed timeout (30 min), not on hangup; no intelligence configuration; with `status_callback_url`, one
    status callback.
    """
    whatsapp = f"whatsapp:{whatsapp_number or phone_number}"
    senders = {"SMS": phone_number, "WHATSAPP": whatsapp, "VOICE": phone_number}
    settings = {
        channel: {
            "statusTimeouts": dict(CONSOLE_DEFAULT_TIMEOUTS[channel]),
            "captureRules": [{"from": sender, "to": "*", "metadata": {}}, {"from": "*", "to": sender, "metadata": {}}],
        }
        for channel, sender in senders.items()
    }
    return orchestrator.add_configuration(
        emulator,
        "Agent Connect",
        "Conversations of the Twilio Agent Connect quickstart",
        conversation_grouping_type="GROUP_BY_PROFILE",
        channel_settings=settings,
        status_callbacks=[{"url": status_callback_url, "method": "POST"}] if status_callback_url else None,
    )


@dataclass(frozen=True)
class DeployedService:
    service_sid: str
    environment_sid: str
    domain_name: str
    build_sid: str


def seed_deployed_service(
    emulator: Emulator,
    files: Sequence,
    dependencies: Mapping[str, str],
    unique_name: str = "flex-handover",
) -> DeployedService:
    """A new service whose dev environment runs a build of these files, as a deploy of a project leaves it.

    `files` and `dependencies` are as serverless.deploy_build takes them: the caller reads them from its project.
    """
    with emulator.lock:
        service = serverless.add_service(emulator, unique_name)
        environment = serverless.add_environment(emulator, service["sid"])
        build = serverless.deploy_build(emulator, service["sid"], environment["sid"], files, dependencies)
    return DeployedService(service["sid"], environment["sid"], environment["domain_name"], build["sid"])
