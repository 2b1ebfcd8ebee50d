"""Conversations: the service, conversations and users a handoff reads, and the conversation it updates.

A conversation's `attributes` is JSON text, kept and answered exactly as the client wrote it ("{}" when
never set); an update's Attributes replaces it whole, as Twilio does: there is no merge. A path's
conversation Sid may also be its unique name. A `closed` conversation is final, as Twilio's error 50377
says ("Can't update conversation as it's in final closed state"): an update of it is refused with that code,
and so are a new message and a new participant; an `initializing` one likewise with 50386. Twilio documents no
status for either: 400 is assumed.
Its participants, messages and webhooks are in conversation_participants.py, conversation_messages.py and
conversation_webhooks.py.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from ..errors import TwilioError, not_found
from ..formats import iso, now_iso, parse_iso, to_json_text
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "conversation_services", "conversations", "conversation_users")

BASE = "https://conversations.twilio.com/v1/Services"
CONVERSATION_SID = re.compile(r"CH[0-9a-fA-F]{32}")
# ISO 8601 durations as the timers take them, e.g. PT1M, PT10M, P1DT12H.
DURATION = re.compile(r"P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?")
# Timers.* parameter → (its date in `timers`, the fewest minutes the description allows).
TIMERS = {"Timers.Inactive": ("date_inactive", 1), "Timers.Closed": ("date_closed", 10)}
# Update parameters that set one field as given.
PLAIN_FIELDS = {
    "FriendlyName": "friendly_name",
    "Attributes": "attributes",
    "MessagingServiceSid": "messaging_service_sid",
    "State": "state",
    "UniqueName": "unique_name",
    "DateCreated": "date_created",
}


def add_service(emulator: AccountState, friendly_name: str) -> str:
    sid = emulator.new_sid("IS")
    emulator.table("conversation_services")[sid] = {"sid": sid, "friendly_name": friendly_name}
    return sid


def add_conversation(emulator: AccountState, service_sid: str, friendly_name: str, attributes: str = "{}") -> dict:
    sid = emulator.new_sid("CH")
    url = f"{BASE}/{service_sid}/Conversations/{sid}"
    conversation = {
        "account_sid": emulator.account.sid,
        "chat_service_sid": service_sid,
        "messaging_service_sid": emulator.new_sid("MG"),
        "sid": sid,
        "friendly_name": friendly_name,
        "unique_name": None,
        "attributes": attributes,
        "state": "active",
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "timers": {},
        "url": url,
        "links": {name.lower(): f"{url}/{name}" for name in ("Participants", "Messages", "Webhooks", "Export")},
        "bindings": None,
    }
    emulator.table("conversations")[sid] = conversation
    return conversation


def set_conversation_attributes(emulator: AccountState, conversation_sid: str, attributes: dict) -> dict:
    """Seed a conversation's attributes (as JSON text, like every
    client sends them); KeyError if there is no such conversation."""
    with emulator.lock:
        conversation = emulator.table("conversations")[conversation_sid]
        conversation["attributes"] = to_json_text(attributes)
        return conversation


def conversation_attributes(emulator: AccountState, conversation_sid: str) -> dict:
    """A conversation's attributes, parsed: what a test checks after the code under test updated them."""
    with emulator.lock:
        return json.loads(emulator.table("conversations")[conversation_sid]["attributes"])


def add_user(emulator: AccountState, service_sid: str, identity: str, friendly_name: str | None) -> dict:
    sid = emulator.new_sid("US")
    user = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "chat_service_sid": service_sid,
        "role_sid": emulator.new_sid("RL"),
        "identity": identity,
        "friendly_name": friendly_name,
        "attributes": "{}",
        "is_online": True,
        "is_notifiable": None,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": f"{BASE}/{service_sid}/Users/{sid}",
        "links": {"user_conversations": f"{BASE}/{service_sid}/Users/{sid}/Conversations"},
    }
    emulator.table("conversation_users")[sid] = user
    return user


def conversation_in_service(emulator: AccountState, service_sid: str, key: str) -> dict | None:
    """The service's conversation whose SID or unique name is `key`."""
    return next(
        (
            c
            for c in emulator.table("conversations").values()
            if c["chat_service_sid"] == service_sid and key in (c["sid"], c["unique_name"])
        ),
        None,
    )


def conversation_of(call: Call, parameter: str = "Sid") -> dict:
    """The conversation the path names (its SID or unique name in the path's `parameter`), or Twilio's 404."""
    conversation = conversation_in_service(call.emulator, call.params["ChatServiceSid"], call.params[parameter])
    if conversation is None:
        raise not_found(call.path)
    return conversation


def check_usable(conversation: dict) -> None:
    """Twilio's refusal of a change to a conversation that cannot take one: `closed` (final, 50377) or `initializing`
    (50386)."""
    if conversation["state"] == "closed":
        raise TwilioError(400, 50377, "Can't update conversation as it's in final closed state")
    if conversation["state"] == "initializing":
        raise TwilioError(
            400, 50386, "Conversation in 'initializing' state may not be updated or used for message sending"
        )


# Update rules -------------------------------------------------------------------------------------------------


def check_attributes(text: str) -> None:
    """Attributes must be JSON text (Twilio's 50304), for conversations, participants and messages alike."""
    try:
        json.loads(text)
    except ValueError:
        raise TwilioError(400, 50304, "Attributes not valid JSON") from None


def _check_unique_name(call: Call, conversation: dict, unique_name: str) -> None:
    """A unique name must not look like a conversation SID, nor name another conversation of the service."""
    if CONVERSATION_SID.fullmatch(unique_name):
        raise TwilioError(400, 50390, "Unique name should not match conversation sid pattern")
    holder = conversation_in_service(call.emulator, conversation["chat_service_sid"], unique_name)
    if holder is not None and holder is not conversation:
        raise TwilioError(409, 50353, "Conversation with provided unique name already exists")


def _timer_dates(body: dict) -> dict[str, str]:
    """The dates the Timers.* durations given set, counted from now."""
    start = parse_iso(now_iso())
    dates = {}
    for parameter, (date_field, fewest_minutes) in TIMERS.items():
        if parameter not in body:
            continue
        match = DURATION.fullmatch(body[parameter])
        duration = timedelta(**{unit: int(value or 0) for unit, value in match.groupdict().items()}) if match else None
        if duration is None or duration < timedelta(minutes=fewest_minutes):
            raise TwilioError(
                400,
                20001,
                f"Invalid {parameter} {body[parameter]!r}: expected "
                f"an ISO 8601 duration of at least {fewest_minutes} min",
            )
        dates[date_field] = iso(start + duration)
    return dates


# Routes ---------------------------------------------------------------------------------------------------------


@route("conversations", "GET", "/v1/Services/{ChatServiceSid}/Users/{Sid}")
def fetch_user(call: Call):
    """The Sid may be the user's SID or identity, as Twilio allows."""
    service_sid, key = call.params["ChatServiceSid"], call.params["Sid"]
    for user in call.emulator.table("conversation_users").values():
        if user["chat_service_sid"] == service_sid and key in (user["sid"], user["identity"]):
            return 200, user
    raise not_found(call.path)


@route("conversations", "GET", "/v1/Services/{ChatServiceSid}/Conversations/{Sid}")
def fetch_conversation(call: Call):
    return 200, conversation_of(call)


@route("conversations", "POST", "/v1/Services/{ChatServiceSid}/Conversations/{Sid}")
def update_conversation(call: Call):
    """Each field given replaces the conversation's (Attributes whole, as JSON text); date_updated moves to now unless
    given.

    Everything is checked before anything changes; a closed or initializing conversation is refused.
    X-Twilio-Webhook-Enabled is accepted and changes nothing here: of the Conversations webhooks the emulator sends
    onMessageAdded only.
    """
    conversation, body = conversation_of(call), call.body
    check_usable(conversation)
    if "Attributes" in body:
        check_attributes(body["Attributes"])
    if "UniqueName" in body:
        _check_unique_name(call, conversation, body["UniqueName"])
    timers = _timer_dates(body)
    conversation.update({field: body[parameter] for parameter, field in PLAIN_FIELDS.items() if parameter in body})
    conversation["date_updated"] = body.get("DateUpdated", now_iso())
    if timers:
        conversation["timers"] = {**(conversation["timers"] or {}), **timers}
    email = {
        part.lower(): body[f"Bindings.Email.{part}"] for part in ("Address", "Name") if f"Bindings.Email.{part}" in body
    }
    if email:
        bindings = conversation["bindings"] or {}
        conversation["bindings"] = {**bindings, "email": {**bindings.get("email", {}), **email}}
    return 200, conversation
