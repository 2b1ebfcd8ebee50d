"""Conversations: the service, conversations and users a handoff reads."""

from __future__ import annotations

from ..core import Call, Emulator, not_found, now_iso, route

BASE = "https://conversations.twilio.com/v1/Services"


def add_service(emulator: Emulator, friendly_name: str) -> str:
    sid = emulator.new_sid("IS")
    emulator.table("conversation_services")[sid] = {"sid": sid, "friendly_name": friendly_name}
    return sid


def add_conversation(emulator: Emulator, service_sid: str, friendly_name: str, attributes: str = "{}") -> dict:
    sid = emulator.new_sid("CH")
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
        "url": f"{BASE}/{service_sid}/Conversations/{sid}",
        "links": {name.lower(): f"{BASE}/{service_sid}/Conversations/{sid}/{name}" for name in ("Participants", "Messages", "Webhooks")},
        "bindings": None,
    }
    emulator.table("conversations")[sid] = conversation
    return conversation


def add_user(emulator: Emulator, service_sid: str, identity: str, friendly_name: str | None) -> dict:
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


def conversation_in_service(emulator: Emulator, service_sid: str, sid: str) -> dict | None:
    conversation = emulator.table("conversations").get(sid)
    return conversation if conversation and conversation["chat_service_sid"] == service_sid else None


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
    conversation = conversation_in_service(call.emulator, call.params["ChatServiceSid"], call.params["Sid"])
    if conversation is None:
        raise not_found(call.path)
    return 200, conversation
