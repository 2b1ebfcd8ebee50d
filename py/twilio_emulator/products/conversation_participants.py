"""Conversations participants (`/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Participants`).

Served: list, create (201), fetch (by SID or identity, as Twilio's fetchByIdentity example) and delete (204); update
is not. A participant is a chat (SDK) one, with an `identity` and no `messaging_binding`, or a messaging one, whose
`messaging_binding` is `{type, address, proxy_address, projected_address}` as given (`type` `whatsapp` for a
`whatsapp:` address, else `sms`). `add_participant` and `remove_participant` do the same for tests and other
emulator modules, e.g. a Flex agent joining a conversation and leaving it, with the same rules.

Twilio's documented refusals: a closed or initializing conversation (conversations.py), attributes that are not
JSON (50304), an identity already in the conversation (409, 50433), an empty address (400, 50411), an address equal
to its proxy address (400, 50409), and an address and proxy address pair already in another conversation that is
not closed (409, 50416); an unknown participant is 404 with 50432. Assumed where Twilio documents nothing: a participant
given neither Identity, MessagingBinding.Address nor MessagingBinding.ProjectedAddress is 400 (20001); `role_sid` is
the RoleSid given, else null (Twilio answers the service's default role, which the emulator does not keep); the
statuses of 50433 and 50416 (409) and of the others (400, 404). X-Twilio-Webhook-Enabled is accepted and changes
nothing: the emulator sends no onParticipant* webhooks.
"""

from __future__ import annotations

from ..errors import TwilioError
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from .conversations import check_attributes, check_usable, conversation_of

TABLES = declare_tables(__name__, "conversation_participants")

PARTICIPANTS = "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Participants"
# MessagingBinding.* body parameter → its field in the answered `messaging_binding`.
BINDING_FIELDS = {
    "MessagingBinding.Address": "address",
    "MessagingBinding.ProxyAddress": "proxy_address",
    "MessagingBinding.ProjectedAddress": "projected_address",
}


def add_participant(
    emulator: AccountState,
    conversation_sid: str,
    identity: str | None = None,
    address: str | None = None,
    attributes: str = "{}",
) -> dict:
    """A participant of the conversation, as `POST …/Participants` creates one (TwilioError where that would refuse);
    KeyError if there is no such conversation. `identity` makes a chat participant; `address` (a phone number, or
    `whatsapp:` and one) a messaging one."""
    with emulator.lock:
        conversation = emulator.table("conversations")[conversation_sid]
        binding = {"address": address} if address is not None else {}
        return _join(emulator, conversation, identity, binding, attributes)


def remove_participant(emulator: AccountState, conversation_sid: str, participant_sid: str) -> None:
    """Remove a participant from the conversation, as `DELETE …/Participants/{Sid}` does; KeyError if the conversation
    has no such participant."""
    with emulator.lock:
        if participant_in_conversation(emulator, conversation_sid, participant_sid) is None:
            raise KeyError(participant_sid)
        del emulator.table("conversation_participants")[participant_sid]


def participants_of(emulator: AccountState, conversation_sid: str) -> list[dict]:
    """The conversation's participants, in the order they joined."""
    with emulator.lock:
        table = emulator.table("conversation_participants")
        return [p for p in table.values() if p["conversation_sid"] == conversation_sid]


def participant_in_conversation(emulator: AccountState, conversation_sid: str, key: str) -> dict | None:
    """The conversation's participant whose SID or identity is `key`; None if there is none."""
    return next((p for p in participants_of(emulator, conversation_sid) if key in (p["sid"], p["identity"])), None)


def participant_writing_as(emulator: AccountState, conversation_sid: str, author: str) -> dict | None:
    """The conversation's participant a message's author names: by identity, or by messaging address."""
    return next(
        (
            p
            for p in participants_of(emulator, conversation_sid)
            if author == p["identity"] or author == (p["messaging_binding"] or {}).get("address")
        ),
        None,
    )


def _join(
    emulator: AccountState,
    conversation: dict,
    identity: str | None,
    binding: dict,
    attributes: str,
    role_sid: str | None = None,
    date_created: str | None = None,
    date_updated: str | None = None,
) -> dict:
    """Add the participant once every rule is checked: nothing is kept from a refused one."""
    check_usable(conversation)
    check_attributes(attributes)
    if identity is None and not binding:
        raise TwilioError(400, 20001, "Either Identity or MessagingBinding.Address must be given")
    if identity is not None and participant_in_conversation(emulator, conversation["sid"], identity) is not None:
        raise TwilioError(409, 50433, "Participant already exists")
    if "address" in binding:
        _check_address(emulator, conversation, binding)
    sid = emulator.new_sid("MB")
    participant = {
        "account_sid": emulator.account.sid,
        "chat_service_sid": conversation["chat_service_sid"],
        "conversation_sid": conversation["sid"],
        "sid": sid,
        "identity": identity,
        "attributes": attributes,
        "messaging_binding": _messaging_binding(binding),
        "role_sid": role_sid,
        "date_created": date_created or now_iso(),
        "date_updated": date_updated or date_created or now_iso(),
        "url": f"{conversation['url']}/Participants/{sid}",
        "last_read_message_index": None,
        "last_read_timestamp": None,
    }
    emulator.table("conversation_participants")[sid] = participant
    return participant


def _check_address(emulator: AccountState, conversation: dict, binding: dict) -> None:
    address, proxy_address = binding["address"], binding.get("proxy_address")
    if not address:
        raise TwilioError(400, 50411, "Participant address is empty")
    if address == proxy_address:
        raise TwilioError(400, 50409, "Participant address equals proxy address")
    if proxy_address is None:
        return
    conversations = emulator.table("conversations")
    for other in emulator.table("conversation_participants").values():
        other_binding = other["messaging_binding"] or {}
        in_use = (other_binding.get("address"), other_binding.get("proxy_address")) == (address, proxy_address)
        if in_use and conversations[other["conversation_sid"]]["state"] != "closed":
            raise TwilioError(409, 50416, "Participant and proxy address pair is already in use")


def _messaging_binding(binding: dict) -> dict | None:
    if not binding:
        return None
    kind = "whatsapp" if binding.get("address", "").startswith("whatsapp:") else "sms"
    return {"type": kind, **binding}


def _participant(call: Call) -> dict:
    participant = participant_in_conversation(
        call.emulator, conversation_of(call, "ConversationSid")["sid"], call.params["Sid"]
    )
    if participant is None:
        raise TwilioError(404, 50432, "Participant not found")
    return participant


# Routes ---------------------------------------------------------------------------------------------------------


@route("conversations", "GET", PARTICIPANTS)
def list_participants(call: Call):
    conversation = conversation_of(call, "ConversationSid")
    return page(call, "participants", participants_of(call.emulator, conversation["sid"]))


@route("conversations", "POST", PARTICIPANTS)
def create_participant(call: Call):
    body = call.body
    binding = {field: body[parameter] for parameter, field in BINDING_FIELDS.items() if parameter in body}
    participant = _join(
        call.emulator,
        conversation_of(call, "ConversationSid"),
        body.get("Identity"),
        binding,
        body.get("Attributes", "{}"),
        body.get("RoleSid"),
        body.get("DateCreated"),
        body.get("DateUpdated"),
    )
    return 201, participant


@route("conversations", "GET", PARTICIPANTS + "/{Sid}")
def fetch_participant(call: Call):
    return 200, _participant(call)


@route("conversations", "DELETE", PARTICIPANTS + "/{Sid}")
def delete_participant(call: Call):
    del call.emulator.table("conversation_participants")[_participant(call)["sid"]]
    return 204, None
