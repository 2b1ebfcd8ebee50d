"""Conversation Orchestrator (`conversations.twilio.com/v2/Conversations`): the two reads of the Studio handoff flow.
ASSUMED.

Twilio's OpenAPI description installed with @twilio-alpha/mcp has no Conversations v2 (only
twilio_conversations_v1.json), yet Twilio Agent Connect names its conversation by an Orchestrator id
and the handoff flow reads the conversation and its participants to find the Conversations (Classic)
conversation behind it. So these operations are assumed (`assumed_route`): their shapes follow
Twilio's newer description, twilio_conversations_v2.json, as far as the flow reads them — a list of
participants `{participants, meta}`, a participant's `type` and `addresses[].channelId`, a
conversation's `configuration.conversationsV1Bridge.serviceId` — and nothing checks them against a
schema. Ids are a type prefix and 26 lowercase base32 characters (`conv_conversation_01…`); that a
customer's profileId is a Memory profile id (`mem_profile_…`) is a guess the flow does not depend on.
"""

from __future__ import annotations

from ..errors import not_found
from ..formats import now_iso
from ..routes import Call, assumed_route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "orchestrator_conversations")

# Crockford's base32, lower case, as Twilio's v2 ids spell it: 128 bits in 26 characters, the first 0-7.
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 26
PAGE_SIZE = 50


def new_id(emulator: AccountState, prefix: str) -> str:
    """A deterministic v2 id: the prefix (e.g. `conv_conversation`), an underscore, 26 base32 characters."""
    number = int(emulator.new_sid("")[:32], 16)
    digits = "".join(ID_ALPHABET[(number >> (5 * place)) & 31] for place in reversed(range(ID_LENGTH)))
    return f"{prefix}_{digits}"


def add_orchestrated_conversation(
    emulator: AccountState,
    classic_service_sid: str,
    classic_conversation_sid: str,
    customer_address: str,
    channel: str = "SMS",
    agent_address: str = "+15005550001",
) -> dict:
    """A v2 conversation bridged to a Conversations (Classic) one, with its CUSTOMER and AI_AGENT participants, as TAC
    leaves it.

    The customer's address carries the classic conversation's SID as `channelId`; the configuration's
    `conversationsV1Bridge.serviceId` names the classic service.
    """
    with emulator.lock:
        conversation_id, created = new_id(emulator, "conv_conversation"), now_iso()
        configuration = {
            "id": new_id(emulator, "conv_configuration"),
            "displayName": "Agent handoff",
            "description": "Messaging traffic bridged to Conversations (Classic)",
            "conversationGroupingType": "GROUP_BY_PARTICIPANT_ADDRESSES_AND_CHANNEL_TYPE",
            "conversationsV1Bridge": {"serviceId": classic_service_sid},
        }
        participants = [
            _participant(
                emulator,
                conversation_id,
                "CUSTOMER",
                None,
                {"channel": channel, "address": customer_address, "channelId": classic_conversation_sid},
            ),
            _participant(
                emulator, conversation_id, "AI_AGENT", "AI agent", {"channel": channel, "address": agent_address}
            ),
        ]
        conversation = {
            "id": conversation_id,
            "accountId": emulator.account.sid,
            "configurationId": configuration["id"],
            "status": "ACTIVE",
            "name": None,
            "createdAt": created,
            "updatedAt": created,
            "metadata": {},
            "participants": participants,
            "configuration": configuration,
        }
        emulator.table("orchestrator_conversations")[conversation_id] = conversation
        return conversation


def _participant(emulator: AccountState, conversation_id: str, kind: str, name: str | None, address: dict) -> dict:
    created = now_iso()
    return {
        "id": new_id(emulator, "conv_participant"),
        "conversationId": conversation_id,
        "accountId": emulator.account.sid,
        "name": name,
        "type": kind,
        "profileId": new_id(emulator, "mem_profile") if kind == "CUSTOMER" else None,
        "addresses": [address],
        "createdAt": created,
        "updatedAt": created,
    }


def _conversation(call: Call) -> dict:
    conversation = call.emulator.table("orchestrator_conversations").get(call.params["ConversationId"])
    if conversation is None:
        raise not_found(call.path)
    return conversation


@assumed_route("conversations", "GET", "/v2/Conversations/{ConversationId}")
def fetch_conversation(call: Call):
    return 200, _conversation(call)


@assumed_route("conversations", "GET", "/v2/Conversations/{ConversationId}/Participants")
def list_participants(call: Call):
    """One page holds them all: a conversation has a handful of participants, so no token leads on."""
    participants = _conversation(call)["participants"]
    return 200, {
        "participants": participants,
        "meta": {"key": "participants", "pageSize": PAGE_SIZE, "previousToken": None, "nextToken": None},
    }
