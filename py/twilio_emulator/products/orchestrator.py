"""Conversation Orchestrator (`conversations.twilio.com/v2`): configurations, their operations, and conversations.

Described by twilio_conversations_v2.json and checked against it like every other product.

**Configurations** (`/v2/ControlPlane/Configurations`): list, create, fetch, PUT, PATCH and DELETE. A write is
checked when it arrives (the schema; a bridged Conversations service that exists; intelligence configurations
that exist; channel keys among VOICE, SMS, RCS, WHATSAPP, CHAT; one configuration per Conversations service,
else 409 with the other configuration's id in `X-Conflicting-Resource-Id`) and answered 202 with an operation
(`statusUrl`, `related.configurationId`; headers Operation-Id, Location, Retry-After). The write takes effect
when its operation completes, in the order the writes were accepted; until then reads show the configuration
as it was (a created one is 404).

**Operations** (`/v2/ControlPlane/Operations/{id}`) answer PENDING to their first `pending_polls` fetches, then
COMPLETED, or COMPLETED on any Orchestrator request once `pending_seconds` of the account's time have passed
(`OperationTiming`, `set_operation_timing`). `fail_next_operation` makes the next write's operation end FAILED
with the given reason (an RFC 9457 `error`) and apply nothing.

**Idempotency-Key**: a key seen in the last 24 hours of the account's time answers the original 202 again, the
same operation and no second write, whatever the request (keys are scoped to the account, as described). Only
202 answers are kept: a refused request may be sent again with the same key.

**Conversations** (`/v2/Conversations`, `/v2/Conversations/{id}` and its Participants): a conversation answers its
configuration as it is now (so a bridge set later shows), without the configuration's id, which is
`configurationId`; a participant's `profileId` only for a CUSTOMER. The list filters by `status` (repeatable) and
`channelId` (an address's channelId), oldest first, token-paged. TAC's handoff (tac/tools/handoff.py, through
tac/context/conversation.py) sends two writes: `PUT /v2/Conversations/{id}` `{"status": "INACTIVE"}`
(`update_conversation`), then `PATCH` `{"configuration": {"statusCallbacks": []}}` (`clear_status_callbacks`).
PUT sets the status and the name (assumed, as TAC says of Orchestrator's PUTs: a full replacement, so a name it
leaves out is null); PATCH sets what the body names (a null leaves it as it is), `configuration.statusCallbacks`
(the only configuration field a conversation may change) becoming the conversation's own, shown in its
`configuration` over the configuration's. Both answer 200 with the conversation. CLOSED is final ("Finalized and
immutable", Orchestrator's lifecycle page): a write to a CLOSED conversation is refused, 400 with code 20001
(Twilio documents no code: assumed), and changes nothing.

**The Conversations (Classic) bridge and status callbacks**: a customer's message on a Classic conversation
(`customer_writes`) of a bridged service reaches the Orchestrator conversation whose CUSTOMER address has that
conversation as its `channelId`: an INACTIVE conversation returns to ACTIVE (the lifecycle page: new traffic reopens
it), a CLOSED one takes nothing (new traffic would start a new conversation, which is not modeled), and each POST
status callback of the conversation (its own, else its configuration's) is sent `{"eventType":
"COMMUNICATION_CREATED", "data": <communication>}` as JSON, signed with `bodySHA256` (callbacks.py). Twilio's
description has the communication's schema but not the callback's envelope: it is the one TAC's messaging channel
reads (tac/channels/messaging.py `process_webhook`), assumed. The communication's `channelId` is the Classic
conversation, its `resourceId` the message; nothing else is sent (no CONVERSATION_UPDATED), communications are
not kept (their list stays unserved), and the agent's messages are not bridged.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import timedelta

from ..errors import TwilioError, not_found
from ..formats import iso, new_ttid
from ..responses import token_page
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(
    __name__,
    "orchestrator_configurations",
    "orchestrator_operations",
    "orchestrator_idempotency_keys",
    "orchestrator_conversations",
    "orchestrator_settings",
)

BASE = "https://conversations.twilio.com/v2"
OPERATIONS_URL = f"{BASE}/ControlPlane/Operations"
CHANNELS = ("VOICE", "SMS", "RCS", "WHATSAPP", "CHAT")
IDEMPOTENCY_TTL = timedelta(hours=24)
# The fields of a configuration a write sets, and what a configuration without them answers.
DEFAULTS = {
    "channelSettings": {},
    "statusCallbacks": [],
    "intelligenceConfigurationIds": [],
    "memoryExtractionEnabled": False,
}
WRITABLE = (
    "displayName",
    "description",
    "conversationGroupingType",
    "memoryStoreId",
    *DEFAULTS,
    "conversationsV1Bridge",
)


@dataclass(frozen=True)
class OperationTiming:
    """How long an operation stays PENDING: `pending_polls` fetches, or `pending_seconds` of the account's time."""

    pending_polls: int = 1
    pending_seconds: float | None = 2.0  # None: only polls complete it
    retry_after: int = 1  # the Retry-After header of a 202, in seconds


@dataclass(frozen=True)
class OperationFailure:
    """Why an operation fails: its `error` (RFC 9457), with Twilio's error code as the problem type."""

    detail: str
    status: int = 400
    code: int = 20001
    title: str = "Bad request"

    def problem(self) -> dict:
        return {
            "type": f"https://www.twilio.com/docs/errors/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }


# Seeding and test controls ----------------------------------------------------------------------------------


def set_operation_timing(emulator: AccountState, timing: OperationTiming) -> None:
    """How operations accepted from now on complete (a reset brings back the default)."""
    with emulator.lock:
        emulator.table("orchestrator_settings")["timing"] = {"timing": timing}


def fail_next_operation(
    emulator: AccountState, detail: str, status: int = 400, code: int = 20001, title: str = "Bad request"
):
    """Make the next configuration write's operation end FAILED with this reason, applying nothing."""
    with emulator.lock:
        failures = emulator.table("orchestrator_settings").setdefault("failures", {"queue": []})
        failures["queue"].append(OperationFailure(detail, status, code, title))


def add_configuration(
    emulator: AccountState,
    display_name: str,
    description: str,
    memory_store_id: str | None = None,
    conversation_grouping_type: str = "GROUP_BY_PROFILE",
    channel_settings: dict | None = None,
    status_callbacks: list | None = None,
    bridge_service_sid: str | None = None,
) -> dict:
    """A configuration as a completed create leaves it (no operation); its answer."""
    with emulator.lock:
        fields = {
            "displayName": display_name,
            "description": description,
            "conversationGroupingType": conversation_grouping_type,
            "memoryStoreId": memory_store_id or new_ttid(emulator, "mem_store"),
            "channelSettings": copy.deepcopy(channel_settings or {}),
            "statusCallbacks": copy.deepcopy(status_callbacks or []),
        }
        if bridge_service_sid:
            fields["conversationsV1Bridge"] = {"serviceId": bridge_service_sid}
        configuration = _created(emulator, new_ttid(emulator, "conv_configuration"), fields)
        return copy.deepcopy(configuration)


def orchestrator_configuration(emulator: AccountState, configuration_id: str) -> dict:
    """A configuration as it is now (a copy); KeyError if there is none."""
    with emulator.lock:
        _settle(emulator)
        return copy.deepcopy(emulator.table("orchestrator_configurations")[configuration_id])


def orchestrator_operations(emulator: AccountState) -> list[dict]:
    """Every operation's answer as it is now, oldest first, without counting as a poll."""
    with emulator.lock:
        _settle(emulator)
        return [copy.deepcopy(operation["answer"]) for operation in emulator.table("orchestrator_operations").values()]


def add_orchestrated_conversation(
    emulator: AccountState,
    classic_service_sid: str,
    classic_conversation_sid: str,
    customer_address: str,
    channel: str = "SMS",
    agent_address: str = "+15005550001",
    configuration_id: str | None = None,
) -> dict:
    """A conversation bridged to a Conversations (Classic) one, with a CUSTOMER and an AI_AGENT, as TAC leaves it.

    The customer's address carries the classic conversation's SID as `channelId`; the customer is named by its
    address (the description allows a null name, but TAC's ParticipantResponse requires a string: assumed). Its
    configuration is the given one, else the account's configuration bridged to the classic service (made if
    there is none).
    Returns the conversation as `GET /v2/Conversations/{id}` answers it.
    """
    with emulator.lock:
        if configuration_id is None:
            bridged = _bridging(emulator, classic_service_sid)
            configuration_id = (
                bridged
                or add_configuration(
                    emulator,
                    "Agent handoff",
                    "Messaging traffic bridged to Conversations (Classic)",
                    conversation_grouping_type="GROUP_BY_PARTICIPANT_ADDRESSES_AND_CHANNEL_TYPE",
                    bridge_service_sid=classic_service_sid,
                )["id"]
            )
        conversation_id, created = new_ttid(emulator, "conv_conversation"), iso(emulator.now())
        customer = {"channel": channel, "address": customer_address, "channelId": classic_conversation_sid}
        participants = [
            _participant(emulator, conversation_id, "CUSTOMER", customer_address, customer, created),
            _participant(
                emulator,
                conversation_id,
                "AI_AGENT",
                "AI agent",
                {"channel": channel, "address": agent_address},
                created,
            ),
        ]
        emulator.table("orchestrator_conversations")[conversation_id] = {
            "id": conversation_id,
            "accountId": emulator.account.sid,
            "configurationId": configuration_id,
            "status": "ACTIVE",
            "name": None,
            "createdAt": created,
            "updatedAt": created,
            "participants": participants,
        }
        return _conversation_answer(emulator, conversation_id)


def _participant(
    emulator: AccountState, conversation_id: str, kind: str, name: str | None, address: dict, created: str
) -> dict:
    participant = {
        "id": new_ttid(emulator, "conv_participant"),
        "conversationId": conversation_id,
        "accountId": emulator.account.sid,
        "name": name,
        "type": kind,
        "addresses": [address],
        "createdAt": created,
        "updatedAt": created,
    }
    if kind == "CUSTOMER":  # resolved for customers only, as the description says
        participant["profileId"] = new_ttid(emulator, "mem_profile")
    return participant


# Operations --------------------------------------------------------------------------------------------------


def _timing(emulator: AccountState) -> OperationTiming:
    return emulator.table("orchestrator_settings").get("timing", {}).get("timing", OperationTiming())


def _next_failure(emulator: AccountState) -> OperationFailure | None:
    queue = emulator.table("orchestrator_settings").get("failures", {}).get("queue", [])
    return queue.pop(0) if queue else None


def _accept(call: Call, kind: str, configuration_id: str, body: dict | None) -> tuple[int, dict]:
    """Queue a write as a PENDING operation; Twilio's 202 for it."""
    emulator = call.emulator
    operation_id = new_ttid(emulator, "proc_job")
    status_url = f"{OPERATIONS_URL}/{operation_id}"
    answer = {
        "operationId": operation_id,
        "status": "PENDING",
        "createdAt": iso(emulator.now()),
        "statusUrl": status_url,
        "related": {"configurationId": configuration_id},
    }
    emulator.table("orchestrator_operations")[operation_id] = {
        "answer": answer,
        "kind": kind,
        "configurationId": configuration_id,
        "body": copy.deepcopy(body),
        "polls": 0,
        "accepted": emulator.now(),
        "failure": _next_failure(emulator),
    }
    call.response_headers.update(
        {"Operation-Id": operation_id, "Location": status_url, "Retry-After": str(_timing(emulator).retry_after)}
    )
    return 202, {"statusUrl": status_url, "related": {"configurationId": configuration_id}}


def _settle(emulator: AccountState) -> None:
    """Complete every pending operation whose time has passed."""
    seconds = _timing(emulator).pending_seconds
    if seconds is None:
        return
    window = timedelta(seconds=seconds)
    for operation_id, operation in list(emulator.table("orchestrator_operations").items()):
        if operation["answer"]["status"] == "PENDING" and emulator.now() - operation["accepted"] >= window:
            _complete(emulator, operation_id)


def _complete(emulator: AccountState, operation_id: str) -> None:
    """Complete the operation, and first every operation accepted before it: writes apply in order."""
    operations = emulator.table("orchestrator_operations")
    for earlier_id in list(operations):
        operation = operations[earlier_id]
        if operation["answer"]["status"] == "PENDING":
            _finish(emulator, operation)
        if earlier_id == operation_id:
            return


def _finish(emulator: AccountState, operation: dict) -> None:
    failure = operation["failure"] or _apply(emulator, operation)
    answer = operation["answer"]
    answer.update(status="FAILED" if failure else "COMPLETED", completedAt=iso(emulator.now()))
    answer["error"] = failure.problem() if failure else None


def _apply(emulator: AccountState, operation: dict) -> OperationFailure | None:
    """Make the operation's write; why it cannot be made, if it cannot."""
    configurations = emulator.table("orchestrator_configurations")
    configuration_id, body = operation["configurationId"], operation["body"]
    if operation["kind"] == "create":
        _created(emulator, configuration_id, body)
        return None
    configuration = configurations.get(configuration_id)
    if configuration is None:
        return OperationFailure(f"Configuration {configuration_id} no longer exists", 404, 20404, "Not found")
    if operation["kind"] == "delete":
        del configurations[configuration_id]
        return None
    fields = _replaced(configuration, body) if operation["kind"] == "replace" else _patched(configuration, body)
    configurations[configuration_id] = {
        "id": configuration_id,
        **{key: value for key, value in fields.items() if value is not None},
        "createdAt": configuration["createdAt"],
        "updatedAt": iso(emulator.now()),
        "version": configuration["version"] + 1,
    }
    return None


def _created(emulator: AccountState, configuration_id: str, body: dict) -> dict:
    now = iso(emulator.now())
    fields = {
        **copy.deepcopy(DEFAULTS),
        **{key: copy.deepcopy(body[key]) for key in WRITABLE if body.get(key) is not None},
    }
    configuration = {"id": configuration_id, **fields, "createdAt": now, "updatedAt": now, "version": 1}
    emulator.table("orchestrator_configurations")[configuration_id] = configuration
    return configuration


def _replaced(configuration: dict, body: dict) -> dict:
    """PUT replaces the whole object: what the body leaves out is back to its default (the bridge removed);
    the display name, which a configuration must have, stays unless given."""
    kept = {"displayName": configuration["displayName"]}
    return {
        **kept,
        **copy.deepcopy(DEFAULTS),
        **{key: copy.deepcopy(body[key]) for key in WRITABLE if body.get(key) is not None},
    }


def _patched(configuration: dict, body: dict) -> dict:
    """PATCH changes what the body names: a channel key replaces that channel's settings, null removes it, an
    omitted one is kept; any other field given null is left as it is (the SDKs send null for what is unset)."""
    fields = {key: copy.deepcopy(configuration.get(key)) for key in WRITABLE}
    for key in WRITABLE:
        value = body.get(key)
        if value is None:
            continue
        if key == "channelSettings":
            channels = fields["channelSettings"] or {}
            for channel, settings in value.items():
                if settings is None:
                    channels.pop(channel, None)
                else:
                    channels[channel] = copy.deepcopy(settings)
            fields["channelSettings"] = channels
        else:
            fields[key] = copy.deepcopy(value)
    return fields


# Checks ------------------------------------------------------------------------------------------------------


def _bridging(emulator: AccountState, service_sid: str, ignoring: str | None = None) -> str | None:
    """The configuration bridged to the Conversations service, pending writes included; None if none is."""
    projected = {
        key: value.get("conversationsV1Bridge") for key, value in emulator.table("orchestrator_configurations").items()
    }
    for operation in emulator.table("orchestrator_operations").values():
        if operation["answer"]["status"] != "PENDING" or operation["failure"]:
            continue
        configuration_id, body = operation["configurationId"], operation["body"] or {}
        if operation["kind"] == "delete":
            projected.pop(configuration_id, None)
        elif operation["kind"] in ("create", "replace") or body.get("conversationsV1Bridge") is not None:
            projected[configuration_id] = body.get("conversationsV1Bridge")
    return next(
        (
            key
            for key, bridge in projected.items()
            if key != ignoring and bridge and bridge.get("serviceId") == service_sid
        ),
        None,
    )


def _check_write(call: Call, body: dict, configuration_id: str | None) -> None:
    """Twilio's refusal of a write the schema allows but the account does not: 400, or 409 for a taken service."""
    emulator = call.emulator
    unknown_channels = sorted(set(body.get("channelSettings") or {}) - set(CHANNELS))
    if unknown_channels:
        raise TwilioError(
            400, 20001, f"Invalid channelSettings keys {unknown_channels}: expected {', '.join(CHANNELS)}"
        )
    known = emulator.table("intelligence_configurations")
    missing = [item for item in body.get("intelligenceConfigurationIds") or [] if item not in known]
    if missing:
        raise TwilioError(400, 20001, f"Unknown intelligence configuration {missing[0]}")
    bridge = body.get("conversationsV1Bridge")
    if not bridge:
        return
    service_sid = bridge["serviceId"]
    if service_sid not in emulator.table("conversation_services"):
        raise TwilioError(
            400, 20001, f"conversationsV1Bridge.serviceId {service_sid} is not a Conversations service of this account"
        )
    holder = _bridging(emulator, service_sid, ignoring=configuration_id)
    if holder is not None:
        raise TwilioError(
            409,
            20409,
            f"Conversations service {service_sid} is already bridged by configuration {holder}: "
            "one configuration per Conversations (Classic) service",
            headers={"X-Conflicting-Resource-Id": holder},
        )


def _write(call: Call, kind: str, body: dict | None) -> tuple[int, dict]:
    """A write's answer: the original one for an Idempotency-Key seen before, else checked and accepted."""
    emulator = call.emulator
    keys = emulator.table("orchestrator_idempotency_keys")
    for seen, kept in list(keys.items()):
        if emulator.now() - kept["at"] >= IDEMPOTENCY_TTL:
            del keys[seen]
    key = call.headers.get("idempotency-key")
    if key in keys:
        call.response_headers.update(keys[key]["headers"])
        return keys[key]["status"], copy.deepcopy(keys[key]["body"])
    configuration_id = new_ttid(emulator, "conv_configuration") if kind == "create" else _configuration(call)["id"]
    if body is not None:
        _check_write(call, body, None if kind == "create" else configuration_id)
    status, answer = _accept(call, kind, configuration_id, body)
    if key is not None:
        keys[key] = {
            "at": emulator.now(),
            "status": status,
            "body": copy.deepcopy(answer),
            "headers": dict(call.response_headers),
        }
    return status, answer


def _configuration(call: Call) -> dict:
    configuration = call.emulator.table("orchestrator_configurations").get(call.params["id"])
    if configuration is None:
        raise not_found(call.path)
    return configuration


# Routes: configurations and operations ----------------------------------------------------------------------


@route("conversations", "GET", "/v2/ControlPlane/Configurations")
def list_configurations(call: Call):
    _settle(call.emulator)
    items = list(call.emulator.table("orchestrator_configurations").values())
    if "memoryStoreId" in call.query:
        items = [item for item in items if item["memoryStoreId"] == call.query["memoryStoreId"]]
    return token_page(call, "configurations", items)


@route("conversations", "POST", "/v2/ControlPlane/Configurations")
def create_configuration(call: Call):
    _settle(call.emulator)
    return _write(call, "create", call.body)


@route("conversations", "GET", "/v2/ControlPlane/Configurations/{id}")
def fetch_configuration(call: Call):
    _settle(call.emulator)
    return 200, _configuration(call)


@route("conversations", "PUT", "/v2/ControlPlane/Configurations/{id}")
def replace_configuration(call: Call):
    _settle(call.emulator)
    return _write(call, "replace", call.body)


@route("conversations", "PATCH", "/v2/ControlPlane/Configurations/{id}")
def patch_configuration(call: Call):
    _settle(call.emulator)
    return _write(call, "patch", call.body)


@route("conversations", "DELETE", "/v2/ControlPlane/Configurations/{id}")
def delete_configuration(call: Call):
    _settle(call.emulator)
    return _write(call, "delete", None)


@route("conversations", "GET", "/v2/ControlPlane/Operations/{id}")
def fetch_operation(call: Call):
    emulator = call.emulator
    _settle(emulator)
    operation = emulator.table("orchestrator_operations").get(call.params["id"])
    if operation is None:
        raise not_found(call.path)
    if operation["answer"]["status"] == "PENDING":
        if operation["polls"] >= _timing(emulator).pending_polls:
            _complete(emulator, call.params["id"])
        else:
            operation["polls"] += 1
            call.response_headers["Retry-After"] = str(_timing(emulator).retry_after)
    return 200, operation["answer"]


# The Conversations (Classic) bridge ----------------------------------------------------------------------------


def bridge_customer_message(emulator: AccountState, classic: dict, message: dict) -> None:
    """A customer's message on a Classic conversation, as the bridge passes it to Orchestrator (module docstring)."""
    configurations = emulator.table("orchestrator_configurations")
    for conversation_id, conversation in emulator.table("orchestrator_conversations").items():
        configuration = configurations.get(conversation["configurationId"]) or {}
        if (configuration.get("conversationsV1Bridge") or {}).get("serviceId") != classic["chat_service_sid"]:
            continue
        customer = next(
            (
                (participant, address)
                for participant in conversation["participants"]
                if participant["type"] == "CUSTOMER"
                for address in participant["addresses"]
                if address.get("channelId") == classic["sid"]
            ),
            None,
        )
        if customer is None or conversation["status"] == "CLOSED":
            continue
        now = iso(emulator.now())
        if conversation["status"] == "INACTIVE":
            conversation.update(status="ACTIVE", updatedAt=now)
        participant, address = customer
        communication = {
            "id": new_ttid(emulator, "conv_communication"),
            "conversationId": conversation_id,
            "accountId": emulator.account.sid,
            "author": {
                "address": address["address"],
                "channel": address["channel"],
                "participantId": participant["id"],
            },
            "content": {"type": "TEXT", "text": message["body"]},
            "channelId": classic["sid"],
            "resourceId": message["sid"],
            "recipients": [
                {"address": other["address"], "channel": other["channel"], "participantId": recipient["id"]}
                for recipient in conversation["participants"]
                if recipient is not participant
                for other in recipient["addresses"][:1]
            ],
            "createdAt": now,
            "updatedAt": now,
        }
        callbacks = _conversation_answer(emulator, conversation_id)["configuration"].get("statusCallbacks") or []
        for callback in callbacks:
            if (callback.get("method") or "POST").upper() == "POST":
                emulator.outbox.send_json(
                    "orchestrator.COMMUNICATION_CREATED",
                    callback["url"],
                    {"eventType": "COMMUNICATION_CREATED", "data": communication},
                )


# Routes: conversations ---------------------------------------------------------------------------------------


def _conversation_answer(emulator: AccountState, conversation_id: str) -> dict:
    """The conversation with its configuration as it is now: every field but the id (`configurationId` names it)."""
    conversation = copy.deepcopy(emulator.table("orchestrator_conversations")[conversation_id])
    configuration = emulator.table("orchestrator_configurations").get(conversation["configurationId"], {})
    embedded = {key: copy.deepcopy(value) for key, value in configuration.items() if key in WRITABLE}
    if "statusCallbacks" in conversation:  # the conversation's own, set by a PATCH
        embedded["statusCallbacks"] = conversation.pop("statusCallbacks")
    participants = conversation.pop("participants")
    return {**conversation, "configuration": embedded, "participants": participants}


def _conversation_id(call: Call, parameter: str) -> str:
    conversation_id = call.params[parameter]
    if conversation_id not in call.emulator.table("orchestrator_conversations"):
        raise not_found(call.path)
    return conversation_id


def orchestrated_conversation(emulator: AccountState, conversation_id: str) -> dict:
    """The conversation as `GET /v2/Conversations/{id}` answers it now (a copy); KeyError if there is none."""
    with emulator.lock:
        _settle(emulator)
        if conversation_id not in emulator.table("orchestrator_conversations"):
            raise KeyError(conversation_id)
        return _conversation_answer(emulator, conversation_id)


def set_orchestrated_status(emulator: AccountState, conversation_id: str, status: str) -> None:
    """The conversation moves to the status by itself (its timeouts, or a hang-up), as no request does it."""
    with emulator.lock:
        conversation = emulator.table("orchestrator_conversations")[conversation_id]
        conversation.update(status=status, updatedAt=iso(emulator.now()))


@route("conversations", "GET", "/v2/Conversations")
def list_conversations(call: Call):
    _settle(call.emulator)
    statuses = set(call.query_values("status"))
    channel_id = call.query.get("channelId")
    listed = [
        _conversation_answer(call.emulator, conversation_id)
        for conversation_id, conversation in call.emulator.table("orchestrator_conversations").items()
        if (not statuses or conversation["status"] in statuses)
        and (
            channel_id is None
            or any(
                address.get("channelId") == channel_id
                for participant in conversation["participants"]
                for address in participant["addresses"]
            )
        )
    ]
    return token_page(call, "conversations", listed)


@route("conversations", "GET", "/v2/Conversations/{id}")
def fetch_conversation(call: Call):
    _settle(call.emulator)
    return 200, _conversation_answer(call.emulator, _conversation_id(call, "id"))


@route("conversations", "GET", "/v2/Conversations/{ConversationId}/Participants")
def list_participants(call: Call):
    _settle(call.emulator)
    conversation = call.emulator.table("orchestrator_conversations")[_conversation_id(call, "ConversationId")]
    return token_page(call, "participants", copy.deepcopy(conversation["participants"]))


def _writable_conversation(call: Call) -> tuple[str, dict]:
    """The path's conversation, if a write may change it: 404 if there is none, 400 if it is CLOSED."""
    _settle(call.emulator)
    conversation_id = _conversation_id(call, "id")
    conversation = call.emulator.table("orchestrator_conversations")[conversation_id]
    if conversation["status"] == "CLOSED":
        raise TwilioError(400, 20001, f"Conversation {conversation_id} is CLOSED: a closed conversation cannot change")
    return conversation_id, conversation


@route("conversations", "PUT", "/v2/Conversations/{id}")
def update_conversation(call: Call):
    """The status and the name, as given (TAC's `update_conversation`: the status alone, the name then null)."""
    emulator = call.emulator
    conversation_id, conversation = _writable_conversation(call)
    conversation.update(status=call.body["status"], name=call.body.get("name"), updatedAt=iso(emulator.now()))
    return 200, _conversation_answer(emulator, conversation_id)


@route("conversations", "PATCH", "/v2/Conversations/{id}")
def patch_conversation(call: Call):
    """What the body names changes (a null leaves it as it is); `configuration.statusCallbacks` becomes the
    conversation's own, `[]` stopping its callbacks."""
    emulator = call.emulator
    conversation_id, conversation = _writable_conversation(call)
    body = call.body or {}
    for key in ("status", "name"):
        if body.get(key) is not None:
            conversation[key] = body[key]
    callbacks = (body.get("configuration") or {}).get("statusCallbacks")
    if callbacks is not None:
        conversation["statusCallbacks"] = copy.deepcopy(callbacks)
    conversation["updatedAt"] = iso(emulator.now())
    return 200, _conversation_answer(emulator, conversation_id)
