"""Flex: the account's configuration, and Interactions (an inbound one on a conversation becomes a TaskRouter task)."""

from __future__ import annotations

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import fetched
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import taskrouter

TABLES = declare_tables(__name__, "flex_configurations", "interactions")  # configurations by account SID

BASE = "https://flex-api.twilio.com/v1/Interactions"
CONFIGURATION_URL = "https://flex-api.twilio.com/v1/Configuration"
CHANNEL_TYPES = {"sms", "whatsapp", "web", "chat", "email", "messenger", "gbm", "voice"}
INITIATORS = {"customer", "agent", "api"}


def enable_flex(emulator: AccountState, workspace_sid: str) -> dict:
    """Flex on the account: the configuration onboarding leaves, routing through the given workspace."""
    workspace = emulator.table("workspaces")[workspace_sid]
    configuration = {
        "account_sid": emulator.account.sid,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "attributes": {},
        "status": "ok",
        "taskrouter_workspace_sid": workspace_sid,
        "taskrouter_offline_activity_sid": workspace["default_activity_sid"],  # the workspace's "Offline"
        "ui_language": "en",
        "url": CONFIGURATION_URL,
    }
    emulator.table("flex_configurations")[emulator.account.sid] = configuration
    return configuration


@route("flex-api", "GET", "/v1/Configuration")
def fetch_configuration(call: Call):
    """An account where Flex was never set up has no configuration: Twilio answers 404."""
    configuration = call.emulator.table("flex_configurations").get(call.emulator.account.sid)
    if configuration is None:
        raise not_found(call.path)
    return 200, configuration


def _invalid(message: str) -> TwilioError:
    return TwilioError(400, 20001, message)


def _text(value: object) -> str | None:
    """A routing field's value when it is a string; Channel and Routing are free-form JSON."""
    return value if isinstance(value, str) else None


@route("flex-api", "POST", "/v1/Interactions")
def create_interaction(call: Call):
    emulator = call.emulator
    channel, routing = call.body.get("Channel"), call.body.get("Routing")
    if not isinstance(channel, dict):
        raise _invalid("Channel must be a JSON object")
    if _text(channel.get("type")) not in CHANNEL_TYPES:
        raise _invalid(
            f"Invalid channel type {channel.get('type')!r}; expected one of {', '.join(sorted(CHANNEL_TYPES))}"
        )
    if _text(channel.get("initiated_by")) not in INITIATORS:
        raise _invalid(f"Invalid initiated_by {channel.get('initiated_by')!r}")
    channel_properties = channel.get("properties")
    media_channel_sid = (
        _text(channel_properties.get("media_channel_sid")) if isinstance(channel_properties, dict) else None
    )
    if media_channel_sid not in emulator.table("conversations"):
        raise _invalid(f"Invalid media_channel_sid: conversation {media_channel_sid} not found")
    properties = (routing or {}).get("properties") if isinstance(routing, dict) else None
    if not isinstance(properties, dict):
        raise _invalid("Routing.properties must be a JSON object")
    attributes = properties.get("attributes", {})
    if not isinstance(attributes, dict):
        raise _invalid("Routing.properties.attributes must be a JSON object")
    workflow, task_channel = taskrouter.require_routing(
        emulator,
        _text(properties.get("workspace_sid")),
        _text(properties.get("workflow_sid")),
        _text(properties.get("task_channel_unique_name", "default")),
    )
    sid, channel_sid = emulator.new_sid("KD"), emulator.new_sid("UO")
    # Routing attributes reach the task as given; Flex adds its own keys beside them.
    task = taskrouter.create_task(
        emulator,
        workflow,
        task_channel,
        {
            **attributes,
            "conversationSid": media_channel_sid,
            "channelType": channel["type"],
            "initiatedBy": channel["initiated_by"],
            "direction": "inbound",
            "flexInteractionSid": sid,
            "flexInteractionChannelSid": channel_sid,
            "conversations": {
                "initiated_by": channel["initiated_by"],
                "conversation_id": sid,
                "media": [{"type": "ChatTranscript", "sid": media_channel_sid}],
            },
        },
    )
    interaction = {
        "sid": sid,
        "channel": {"type": channel["type"], "sid": channel_sid},
        "routing": {
            "reservation": None,
            "properties": {
                key: task[key]
                for key in (
                    "sid",
                    "workspace_sid",
                    "workflow_sid",
                    "task_channel_sid",
                    "task_channel_unique_name",
                    "assignment_status",
                    "attributes",
                    "priority",
                    "age",
                    "account_sid",
                )
            },
        },
        "url": f"{BASE}/{sid}",
        "links": {"channels": f"{BASE}/{sid}/Channels"},
        "interaction_context_sid": None,
        "webhook_ttid": None,
    }
    emulator.table("interactions")[sid] = interaction
    # The newest description answers a create with 200 (older ones said 201); Twilio's SDKs take any 2xx.
    return 200, interaction


@route("flex-api", "GET", "/v1/Interactions/{Sid}")
def fetch_interaction(call: Call):
    return fetched(call, "interactions")
