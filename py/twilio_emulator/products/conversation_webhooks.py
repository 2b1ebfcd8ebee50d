"""Conversations webhooks: conversation-scoped webhooks, the service's and the account's webhook configuration, and the
onMessageAdded webhooks they are sent.

Served, as twilio_conversations_v1.json describes them:

- `/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks` and `/{Sid}`: list (5 a page by default,
  as described), create (201), fetch, update, delete (204). Twilio's documented rules: at most five a conversation
  (50361); `webhook` and `trigger` need Configuration.Url (50369), at most 512 characters long (50372); `webhook` needs
  Configuration.Filters (50370), each a post-event (only post-event webhooks are supported on a conversation: 50365);
  `trigger` needs Configuration.Triggers (50371), at most five (50362), each 1 to 248 characters (50366); an unknown
  webhook is 404 with 50360. A Target outside webhook, trigger and studio never reaches the handler: the
  description's enum refuses it (400, 20001) before Twilio's own 50364 could be answered.
- `/v1/Services/{ChatServiceSid}/Configuration/Webhooks` (fetch, update: PreWebhookUrl, PostWebhookUrl, Filters,
  Method) and `/v1/Configuration/Webhooks`, the account's (fetch, update, with Target `webhook` or `flex`).

`configuration` is answered with each Configuration.* parameter given, by its snake_case name (`url`, `method`,
`filters`, `triggers`, `flow_sid`, `replay_after`), as Twilio's examples show them per target (`studio`:
`{flow_sid}`). Assumed where Twilio documents nothing: a `studio` webhook without Configuration.FlowSid is 400 with
50367 (Twilio's code for an invalid flow SID); a `webhook` or `trigger` one without Configuration.Method answers and
is sent with `post`; every refusal above is 400 but 50360's 404; an update checks the configuration it leaves as
a create would. A webhook or account configuration never set answers `method` POST (and the account's `target`
`webhook`), not the null of the description's example, which its own schema forbids; its URLs and filters are
null. A Method other than GET or POST, in either case, or a filter the description does not list, is 400 (20001).

What is sent (`deliver_message_added`), after the request that added the message is answered, signed
(callbacks.py), by GET or POST as each is configured: onMessageAdded to every conversation-scoped webhook of
target `webhook` whose filters name it, and to the service's PostWebhookUrl when the service's filters name it.
Their parameters are those of Twilio's Conversations Webhooks page for onMessageAdded and its common ones:
EventType, AccountSid, ChatServiceSid, ConversationSid, MessagingServiceSid, MessageSid, Index, DateCreated (with
milliseconds, as Twilio sends it), Author, Body (if any), Attributes, ParticipantSid (when the author is a
participant), Source (`SDK`, `SMS`, `WHATSAPP` or `API`), ClientIdentity (the author, for `SDK`) and RetryCount
(0: the emulator tries once); a scoped webhook's also WebhookSid and WebhookType (`webhook`). A scoped webhook
created with Configuration.ReplayAfter is sent onMessageAdded at once for each message of the conversation whose
index is at least that. Nothing else is sent: no pre-event webhook (PreWebhookUrl is kept, never called), no event
but onMessageAdded, nothing from the account's configuration, and nothing to `studio` and `trigger` targets: Studio
flows run only when a test runs them (studio_flow.py), and how a trigger keyword matches a message Twilio does not
document.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from .conversations import conversation_of

TABLES = declare_tables(
    __name__, "conversation_scoped_webhooks", "conversation_service_webhooks", "conversation_account_webhooks"
)

WEBHOOKS = "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks"
SERVICE_CONFIGURATION = "/v1/Services/{ChatServiceSid}/Configuration/Webhooks"
ACCOUNT_CONFIGURATION = "/v1/Configuration/Webhooks"
BASE = "https://conversations.twilio.com"
MESSAGE_ADDED = "onMessageAdded"
MOST_SCOPED_WEBHOOKS = 5
MOST_TRIGGERS = 5
LONGEST_TRIGGER = 248
LONGEST_URL = 512
SCOPED_PAGE_SIZE = "5"  # the description's default page size for a conversation's webhooks
# Configuration.* body parameter → its key in the answered `configuration`.
CONFIGURATION = {
    "Configuration.Url": "url",
    "Configuration.Method": "method",
    "Configuration.Filters": "filters",
    "Configuration.Triggers": "triggers",
    "Configuration.FlowSid": "flow_sid",
    "Configuration.ReplayAfter": "replay_after",
}
# The post-event webhooks of Twilio's Conversations Webhooks page: the only filters a conversation-scoped one takes.
POST_EVENTS = frozenset(
    {
        "onConversationAdded",
        "onConversationRemoved",
        "onConversationUpdated",
        "onConversationStateUpdated",
        "onMessageAdded",
        "onMessageRemoved",
        "onMessageUpdated",
        "onParticipantAdded",
        "onParticipantRemoved",
        "onParticipantUpdated",
        "onDeliveryUpdated",
        "onUserAdded",
        "onUserUpdated",
    }
)
# The filters the description lists for the service's and the account's configuration: post-events and pre-events.
CONFIGURATION_FILTERS = POST_EVENTS | {
    "onConversationAdd",
    "onConversationRemove",
    "onConversationUpdate",
    "onMessageAdd",
    "onMessageRemove",
    "onMessageUpdate",
    "onParticipantAdd",
    "onParticipantRemove",
    "onParticipantUpdate",
    "onUserUpdate",
}
METHODS = ("GET", "POST")
# Service and account configuration: body parameter → its stored field.
CONFIGURATION_FIELDS = {
    "PreWebhookUrl": "pre_webhook_url",
    "PostWebhookUrl": "post_webhook_url",
    "Filters": "filters",
    "Method": "method",
    "Target": "target",
}


# What is sent ---------------------------------------------------------------------------------------------------


def deliver_message_added(emulator: AccountState, conversation: dict, message: dict, source: str) -> None:
    """Queue onMessageAdded for a message just added to the conversation, to every webhook that takes it."""
    parameters = _message_added_parameters(emulator, conversation, message, source)
    for webhook in _scoped_webhooks(emulator, conversation["sid"]):
        if _takes_message_added(webhook):
            _send_to_scoped(emulator, webhook, parameters)
    service = _service_configuration(emulator, conversation["chat_service_sid"])
    if service["post_webhook_url"] and MESSAGE_ADDED in (service["filters"] or []):
        emulator.outbox.send(
            f"conversations.{MESSAGE_ADDED}", service["post_webhook_url"], parameters, service["method"] or "POST"
        )


def _message_added_parameters(emulator: AccountState, conversation: dict, message: dict, source: str) -> dict:
    """The onMessageAdded parameters every target is sent (a scoped webhook's two more are added when it is sent)."""
    parameters = {
        "EventType": MESSAGE_ADDED,
        "AccountSid": emulator.account.sid,
        "ChatServiceSid": conversation["chat_service_sid"],
        "ConversationSid": conversation["sid"],
        "MessagingServiceSid": conversation["messaging_service_sid"],
        "MessageSid": message["sid"],
        "Index": str(message["index"]),
        # Twilio's webhooks give the time to the millisecond, its resources to the second.
        "DateCreated": message["date_created"].removesuffix("Z") + ".000Z",
        "Author": message["author"],
        "Attributes": message["attributes"],
        "Source": source,
        "RetryCount": "0",
    }
    optional = {
        "Body": message["body"],
        "ParticipantSid": message["participant_sid"],
        "ClientIdentity": message["author"] if source == "SDK" else None,
    }
    return parameters | {name: value for name, value in optional.items() if value is not None}


def _send_to_scoped(emulator: AccountState, webhook: dict, parameters: dict) -> None:
    configuration = webhook["configuration"]
    emulator.outbox.send(
        f"conversations.{MESSAGE_ADDED}",
        configuration["url"],
        {**parameters, "WebhookSid": webhook["sid"], "WebhookType": webhook["target"]},
        configuration["method"],
    )


def _takes_message_added(webhook: dict) -> bool:
    return webhook["target"] == "webhook" and MESSAGE_ADDED in webhook["configuration"].get("filters", [])


def _replay(emulator: AccountState, conversation: dict, webhook: dict) -> None:
    """onMessageAdded for each message from the index ReplayAfter names, as if each had just been added.

    The messages are conversation_messages.py's, read from its table: that module sends through this one.
    """
    first = webhook["configuration"]["replay_after"]
    for stored in emulator.table("conversation_messages").values():
        if stored["conversation_sid"] == conversation["sid"] and stored["index"] >= first:
            parameters = _message_added_parameters(emulator, conversation, stored, stored["source"])
            _send_to_scoped(emulator, webhook, parameters)


# Conversation-scoped webhooks -----------------------------------------------------------------------------------


def _scoped_webhooks(emulator: AccountState, conversation_sid: str) -> list[dict]:
    table = emulator.table("conversation_scoped_webhooks")
    return [w for w in table.values() if w["conversation_sid"] == conversation_sid]


def _scoped_webhook(call: Call) -> dict:
    conversation = conversation_of(call, "ConversationSid")
    webhook = call.emulator.table("conversation_scoped_webhooks").get(call.params["Sid"])
    if webhook is None or webhook["conversation_sid"] != conversation["sid"]:
        raise TwilioError(404, 50360, "Conversation webhook not found")
    return webhook


def _configuration_given(body: dict) -> dict:
    return {key: body[parameter] for parameter, key in CONFIGURATION.items() if parameter in body}


def _check_configuration(target: str, configuration: dict) -> None:
    """Twilio's documented rules for a scoped webhook's configuration, by target."""
    if target == "studio":
        if "flow_sid" not in configuration:
            raise _invalid(50367, "Invalid conversation webhook flow SID: Configuration.FlowSid is required")
        return
    url = configuration.get("url")
    if not url:
        raise _invalid(50369, "Conversation webhook URL not provided")
    if len(url) > LONGEST_URL:
        raise _invalid(50372, "Conversation webhook URL is too long")
    if target == "webhook":
        filters = configuration.get("filters")
        if not filters:
            raise _invalid(50370, "Conversation webhook filter not provided")
        unknown = [name for name in filters if name not in POST_EVENTS]
        if unknown:
            raise _invalid(50365, f"Invalid conversation webhook filter: {', '.join(unknown)}")
    else:
        triggers = configuration.get("triggers")
        if not triggers:
            raise _invalid(50371, "Conversation webhook trigger not provided")
        if len(triggers) > MOST_TRIGGERS:
            raise _invalid(50362, "Too many conversation webhook triggers")
        if any(not 0 < len(keyword) <= LONGEST_TRIGGER for keyword in triggers):
            raise _invalid(50366, "Invalid conversation webhook trigger")


def _invalid(code: int, message: str) -> TwilioError:
    return TwilioError(400, code, message)


@route("conversations", "GET", WEBHOOKS)
def list_scoped_webhooks(call: Call):
    conversation = conversation_of(call, "ConversationSid")
    paged = replace(call, query={"PageSize": SCOPED_PAGE_SIZE, **call.query})
    return page(paged, "webhooks", _scoped_webhooks(call.emulator, conversation["sid"]))


@route("conversations", "POST", WEBHOOKS)
def create_scoped_webhook(call: Call):
    emulator, conversation, body = call.emulator, conversation_of(call, "ConversationSid"), call.body
    if len(_scoped_webhooks(emulator, conversation["sid"])) >= MOST_SCOPED_WEBHOOKS:
        raise _invalid(50361, "Too many conversation webhooks")
    target, configuration = body["Target"], _configuration_given(body)
    _check_configuration(target, configuration)
    if target != "studio":
        configuration.setdefault("method", "post")
    sid = emulator.new_sid("WH")
    webhook = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "chat_service_sid": conversation["chat_service_sid"],
        "conversation_sid": conversation["sid"],
        "target": target,
        "url": f"{conversation['url']}/Webhooks/{sid}",
        "configuration": configuration,
        "date_created": now_iso(),
        "date_updated": now_iso(),
    }
    emulator.table("conversation_scoped_webhooks")[sid] = webhook
    if "replay_after" in configuration and _takes_message_added(webhook):
        _replay(emulator, conversation, webhook)
    return 201, webhook


@route("conversations", "GET", WEBHOOKS + "/{Sid}")
def fetch_scoped_webhook(call: Call):
    return 200, _scoped_webhook(call)


@route("conversations", "POST", WEBHOOKS + "/{Sid}")
def update_scoped_webhook(call: Call):
    webhook = _scoped_webhook(call)
    configuration = {**webhook["configuration"], **_configuration_given(call.body)}
    _check_configuration(webhook["target"], configuration)
    webhook["configuration"], webhook["date_updated"] = configuration, now_iso()
    return 200, webhook


@route("conversations", "DELETE", WEBHOOKS + "/{Sid}")
def delete_scoped_webhook(call: Call):
    del call.emulator.table("conversation_scoped_webhooks")[_scoped_webhook(call)["sid"]]
    return 204, None


# The service's and the account's configuration ------------------------------------------------------------------


# What a service's or the account's configuration is until first updated.
UNSET_CONFIGURATION = {"pre_webhook_url": None, "post_webhook_url": None, "filters": None, "method": None}


def _service_configuration(emulator: AccountState, service_sid: str) -> dict:
    return emulator.table("conversation_service_webhooks").get(service_sid, UNSET_CONFIGURATION)


def _account_configuration(emulator: AccountState) -> dict:
    unset = {**UNSET_CONFIGURATION, "target": None}
    return emulator.table("conversation_account_webhooks").get(emulator.account.sid, unset)


def _updated_configuration(stored: dict, body: dict) -> dict:
    """The configuration with each field the body gives replaced, once all are checked."""
    given = {field: body[parameter] for parameter, field in CONFIGURATION_FIELDS.items() if parameter in body}
    if "method" in given:
        given["method"] = given["method"].upper()
        if given["method"] not in METHODS:
            raise TwilioError(400, 20001, f"Invalid Method {body['Method']!r}: expected GET or POST")
    unknown = [name for name in given.get("filters", []) if name not in CONFIGURATION_FILTERS]
    if unknown:
        raise TwilioError(400, 20001, f"Invalid Filters: {', '.join(unknown)}")
    return {**stored, **given}


def _service_answer(call: Call) -> dict:
    service_sid = call.params["ChatServiceSid"]
    if service_sid not in call.emulator.table("conversation_services"):
        raise not_found(call.path)
    stored = _service_configuration(call.emulator, service_sid)
    return {
        "account_sid": call.emulator.account.sid,
        "chat_service_sid": service_sid,
        **stored,
        "method": stored["method"] or "POST",
        "url": f"{BASE}{call.path}",
    }


def _account_answer(call: Call) -> dict:
    stored = _account_configuration(call.emulator)
    return {
        "account_sid": call.emulator.account.sid,
        **stored,
        "method": stored["method"] or "POST",
        "target": stored["target"] or "webhook",
        "url": f"{BASE}{ACCOUNT_CONFIGURATION}",
    }


@route("conversations", "GET", SERVICE_CONFIGURATION)
def fetch_service_webhooks(call: Call):
    return 200, _service_answer(call)


@route("conversations", "POST", SERVICE_CONFIGURATION)
def update_service_webhooks(call: Call):
    _service_answer(call)  # a service the account does not have is 404 before anything is kept
    service_sid = call.params["ChatServiceSid"]
    updated = _updated_configuration(_service_configuration(call.emulator, service_sid), call.body)
    call.emulator.table("conversation_service_webhooks")[service_sid] = updated
    return 200, _service_answer(call)


@route("conversations", "GET", ACCOUNT_CONFIGURATION)
def fetch_account_webhooks(call: Call):
    return 200, _account_answer(call)


@route("conversations", "POST", ACCOUNT_CONFIGURATION)
def update_account_webhooks(call: Call):
    updated = _updated_configuration(_account_configuration(call.emulator), call.body)
    call.emulator.table("conversation_account_webhooks")[call.emulator.account.sid] = updated
    return 200, _account_answer(call)
