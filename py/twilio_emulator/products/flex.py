"""Flex: the account's configuration, and Interactions (an inbound one on a conversation becomes a TaskRouter task).

An interaction's channel has participants (`…/Channels/{ChannelSid}/Participants`: list, create, update): the
customer from the start, and an agent once the agent accepts the task in Flex (`join_agent`, which agents.py
plays), with routing properties `{task_sid, worker_sid, reservation_sid}`; the agent then also joins the task's
conversation (`conversationSid` of the task's attributes) as a participant named by the worker's `contact_uri`
without its `client:` (Flex's identity of the worker), else the worker's friendly name. As Flex documents it
("Park an Interaction"), updating the agent's Status to `closed` completes its task and removes the agent from
the conversation, which stays active; `wrapup` does the same with the task moved to wrapping instead (Flex's
Leave, `agent_leaves`).

Where Flex documents nothing, the emulator assumes: a participant created through the API is recorded and joins
no conversation, changes no task; a Status update of a participant that is not an agent with a task is 400,
code 20001; a task completed by `closed` gets no Reason; a reservation accepted through TaskRouter's API (not
in Flex) adds no participant.
"""

from __future__ import annotations

import json

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import fetched, page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import taskrouter, taskrouter_lifecycle
from .conversation_participants import add_participant, remove_participant

# Configurations by account SID; an agent's Conversations participant by the reservation that made it join.
TABLES = declare_tables(
    __name__, "flex_configurations", "interactions", "interaction_participants", "flex_agent_members"
)

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
    interaction = open_interaction(
        emulator, channel["type"], channel["initiated_by"], media_channel_sid, workflow, task_channel, attributes
    )
    # The newest description answers a create with 200 (older ones said 201); Twilio's SDKs take any 2xx.
    return 200, interaction


def open_interaction(
    emulator: AccountState,
    channel_type: str,
    initiated_by: str,
    media_channel_sid: str,
    workflow: dict,
    task_channel: dict,
    attributes: dict,
) -> dict:
    """An inbound interaction on the conversation, routed to a new task of the workflow; the interaction. What
    `POST /v1/Interactions` makes once its request is checked, and what Studio's Send to Flex makes for a
    conversation (studio_flow.py)."""
    sid, channel_sid = emulator.new_sid("KD"), emulator.new_sid("UO")
    channel = {"type": channel_type, "initiated_by": initiated_by}
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
    _add_participant(emulator, interaction, "customer", None)
    return interaction


@route("flex-api", "GET", "/v1/Interactions/{Sid}")
def fetch_interaction(call: Call):
    return fetched(call, "interactions")


# Participants -------------------------------------------------------------------------------------------------


def _add_participant(emulator: AccountState, interaction: dict, kind: str, routing_properties: object) -> dict:
    sid, channel_sid = emulator.new_sid("UT"), interaction["channel"]["sid"]
    participant = {
        "sid": sid,
        "type": kind,
        "interaction_sid": interaction["sid"],
        "channel_sid": channel_sid,
        "url": f"{interaction['url']}/Channels/{channel_sid}/Participants/{sid}",
        "routing_properties": routing_properties,
    }
    emulator.table("interaction_participants")[sid] = participant
    return participant


def join_agent(emulator: AccountState, reservation: dict) -> None:
    """What Flex does when an agent accepts a reservation: the agent joins the task's interaction channel and its
    conversation."""
    with emulator.lock:
        task = taskrouter_lifecycle.task_of(emulator, reservation)
        attributes = json.loads(task["attributes"])
        worker = emulator.table("workers")[reservation["worker_sid"]]
        interaction = emulator.table("interactions").get(attributes.get("flexInteractionSid"))
        if interaction is not None:
            routing = {"task_sid": task["sid"], "worker_sid": worker["sid"], "reservation_sid": reservation["sid"]}
            _add_participant(emulator, interaction, "agent", routing)
        conversation_sid = attributes.get("conversationSid")
        if conversation_sid in emulator.table("conversations"):
            member = add_participant(emulator, conversation_sid, identity=agent_identity(worker))
            emulator.table("flex_agent_members")[reservation["sid"]] = {
                "conversation_sid": conversation_sid,
                "participant_sid": member["sid"],
            }


def agent_identity(worker: dict) -> str:
    """The identity a Flex agent has in Conversations: its worker's contact_uri without `client:`, else its name."""
    contact_uri = json.loads(worker["attributes"]).get("contact_uri")
    if isinstance(contact_uri, str) and contact_uri.startswith("client:"):
        return contact_uri.removeprefix("client:")
    return worker["friendly_name"]


def agent_leaves(emulator: AccountState, task: dict) -> None:
    """Flex's Leave (an agent participant's `wrapup`): the agent leaves the conversation, the task wraps up."""
    with emulator.lock:
        taskrouter_lifecycle.check_task_transition(emulator, task, "wrapping")
        _leave_conversation(emulator, task)
        taskrouter_lifecycle.wrap_up(emulator, task)


def agent_closes(emulator: AccountState, task: dict) -> None:
    """An agent participant's `closed`: the agent leaves the conversation, the task is completed."""
    with emulator.lock:
        taskrouter_lifecycle.check_task_transition(emulator, task, "completed")
        _leave_conversation(emulator, task)
        taskrouter_lifecycle.complete(emulator, task, None)


def _leave_conversation(emulator: AccountState, task: dict) -> None:
    """The task's agent, if it joined the conversation, leaves it; the conversation stays as it is."""
    reservation = taskrouter_lifecycle.holding_reservation(emulator, task)
    member = emulator.table("flex_agent_members").pop(reservation["sid"], None) if reservation else None
    if member is not None:
        remove_participant(emulator, member["conversation_sid"], member["participant_sid"])


def _channel(call: Call) -> dict:
    """The path's interaction, if the path's channel is its channel; else Twilio's 404."""
    interaction = call.emulator.table("interactions").get(call.params["InteractionSid"])
    if interaction is None or interaction["channel"]["sid"] != call.params["ChannelSid"]:
        raise not_found(call.path)
    return interaction


@route("flex-api", "GET", "/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Participants")
def list_interaction_channel_participants(call: Call):
    interaction = _channel(call)
    participants = [
        p
        for p in call.emulator.table("interaction_participants").values()
        if p["interaction_sid"] == interaction["sid"]
    ]
    return page(call, "participants", participants)


@route("flex-api", "POST", "/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Participants")
def create_interaction_channel_participant(call: Call):
    interaction = _channel(call)
    return 200, _add_participant(call.emulator, interaction, call.body["Type"], call.body.get("RoutingProperties"))


# What an agent participant's Status does to its task.
STATUS_EFFECTS = {"wrapup": agent_leaves, "closed": agent_closes}


@route("flex-api", "POST", "/v1/Interactions/{InteractionSid}/Channels/{ChannelSid}/Participants/{Sid}")
def update_interaction_channel_participant(call: Call):
    interaction = _channel(call)
    participant = call.emulator.table("interaction_participants").get(call.params["Sid"])
    if participant is None or participant["interaction_sid"] != interaction["sid"]:
        raise not_found(call.path)
    routing = participant["routing_properties"]
    task = call.emulator.table("tasks").get(routing.get("task_sid")) if isinstance(routing, dict) else None
    if participant["type"] != "agent" or task is None:
        raise _invalid(f"Participant {participant['sid']} is not an agent with a task: its Status cannot change")
    STATUS_EFFECTS[call.body["Status"]](call.emulator, task)
    return 200, participant
