"""Conversations (Classic) address configurations (`/v1/Configuration/Addresses`): what a message to an address starts.

Described by twilio_conversations_v1.json: list (filtered by `Type`), create (201), fetch, update (200) and
delete (204), the path's Sid being the configuration's SID or its address. Flex's Console sets a messaging
address up with auto-creation of type `studio`, pointing at the Flex Studio flow (`seed_flex_messaging_address`
in scenario.py); that sends every new conversation to Flex before a virtual agent can take it.

`auto_creation` is answered as Twilio's examples show it, by its type: `webhook` with `conversation_service_sid`,
`webhook_url`, `webhook_method` (upper case) and `webhook_filters`; `studio` with `conversation_service_sid`,
`studio_flow_sid` and `studio_retry_count`; `default` with neither. An update changes the AutoCreation fields it
gives and keeps the others, those of another type included (they show again if the type comes back), so that
`AutoCreation.Enabled=false` alone leaves the type and its target in place, as in Twilio's update example. An
address never given AutoCreation answers `{"enabled": false, "type": "default"}`. The emulator takes an address
as disconnected from Flex when `enabled` is false or its type is `default`; it checks neither that a flow or
webhook exists nor that one is given. A second configuration of an address already configured is answered 409
with code 20409.
"""

from __future__ import annotations

import copy

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "conversation_address_configurations")

BASE = "https://conversations.twilio.com/v1/Configuration/Addresses"
# AutoCreation.* body parameter → its field in the stored auto-creation settings.
AUTO_CREATION = {
    "AutoCreation.Enabled": "enabled",
    "AutoCreation.Type": "type",
    "AutoCreation.ConversationServiceSid": "conversation_service_sid",
    "AutoCreation.WebhookUrl": "webhook_url",
    "AutoCreation.WebhookMethod": "webhook_method",
    "AutoCreation.WebhookFilters": "webhook_filters",
    "AutoCreation.StudioFlowSid": "studio_flow_sid",
    "AutoCreation.StudioRetryCount": "studio_retry_count",
}
# What each type answers beside `enabled` and `type`.
ANSWERED_BY_TYPE = {
    "webhook": ("conversation_service_sid", "webhook_url", "webhook_method", "webhook_filters"),
    "studio": ("conversation_service_sid", "studio_flow_sid", "studio_retry_count"),
    "default": (),
}


def add_address_configuration(
    emulator: AccountState, address_type: str, address: str, friendly_name: str | None = None, **auto_creation: object
) -> dict:
    """A configuration as `POST /v1/Configuration/Addresses` creates it; `auto_creation` by field, e.g.
    `enabled=True, type="studio", studio_flow_sid="FW…"`. Its answer."""
    with emulator.lock:
        sid = emulator.new_sid("IG")
        stored = {
            "account_sid": emulator.account.sid,
            "sid": sid,
            "address": address,
            "type": address_type,
            "friendly_name": friendly_name,
            "address_country": None,
            "auto_creation_settings": {"enabled": False, "type": "default", **auto_creation},
            "date_created": now_iso(),
            "date_updated": now_iso(),
            "url": f"{BASE}/{sid}",
        }
        emulator.table("conversation_address_configurations")[sid] = stored
        return _answer(stored)


def address_configuration(emulator: AccountState, key: str) -> dict | None:
    """The configuration whose SID or address is `key`, as Twilio answers it; None if there is none."""
    with emulator.lock:
        stored = _stored(emulator, key)
        return _answer(stored) if stored else None


def _stored(emulator: AccountState, key: str) -> dict | None:
    return next(
        (c for c in emulator.table("conversation_address_configurations").values() if key in (c["sid"], c["address"])),
        None,
    )


def _answer(stored: dict) -> dict:
    settings = stored["auto_creation_settings"]
    kind = settings.get("type", "default")
    auto_creation = {"enabled": settings.get("enabled", False), "type": kind}
    for field in ANSWERED_BY_TYPE.get(kind, ()):
        auto_creation[field] = copy.deepcopy(settings.get(field))
    if auto_creation.get("webhook_method"):
        auto_creation["webhook_method"] = auto_creation["webhook_method"].upper()
    answer = {key: copy.deepcopy(value) for key, value in stored.items() if key != "auto_creation_settings"}
    return {**answer, "auto_creation": auto_creation}


def _auto_creation_given(body: dict) -> dict:
    return {field: copy.deepcopy(body[parameter]) for parameter, field in AUTO_CREATION.items() if parameter in body}


def _configuration(call: Call) -> dict:
    stored = _stored(call.emulator, call.params["Sid"])
    if stored is None:
        raise not_found(call.path)
    return stored


@route("conversations", "GET", "/v1/Configuration/Addresses")
def list_address_configurations(call: Call):
    stored = list(call.emulator.table("conversation_address_configurations").values())
    if "Type" in call.query:
        stored = [c for c in stored if c["type"] == call.query["Type"].lower()]
    return page(call, "address_configurations", [_answer(c) for c in stored])


@route("conversations", "POST", "/v1/Configuration/Addresses")
def create_address_configuration(call: Call):
    body = call.body
    if _stored(call.emulator, body["Address"]) is not None:
        raise TwilioError(409, 20409, f"An address configuration for {body['Address']} already exists")
    created = add_address_configuration(
        call.emulator, body["Type"].lower(), body["Address"], body.get("FriendlyName"), **_auto_creation_given(body)
    )
    stored = _stored(call.emulator, created["sid"])
    stored["address_country"] = body.get("AddressCountry")
    return 201, _answer(stored)


@route("conversations", "GET", "/v1/Configuration/Addresses/{Sid}")
def fetch_address_configuration(call: Call):
    return 200, _answer(_configuration(call))


@route("conversations", "POST", "/v1/Configuration/Addresses/{Sid}")
def update_address_configuration(call: Call):
    stored, body = _configuration(call), call.body
    if "FriendlyName" in body:
        stored["friendly_name"] = body["FriendlyName"]
    stored["auto_creation_settings"].update(_auto_creation_given(body))
    stored["date_updated"] = now_iso()
    return 200, _answer(stored)


@route("conversations", "DELETE", "/v1/Configuration/Addresses/{Sid}")
def delete_address_configuration(call: Call):
    del call.emulator.table("conversation_address_configurations")[_configuration(call)["sid"]]
    return 204, None
