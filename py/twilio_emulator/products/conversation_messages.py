"""Conversations messages (`/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages`): create (201),
list (`Order` asc or desc) and fetch; update and delete are not served.

A message added delivers onMessageAdded (conversation_webhooks.py) when it comes from a participant's channel
(`customer_writes`: the customer's SMS, WhatsApp or chat) or from the REST API with `X-Twilio-Webhook-Enabled: true`;
without that header a REST message triggers no webhook, as Twilio's description of the header and its webhooks page
say, so that a bot answering through the REST API is not sent its own messages. Twilio's refusals: a closed or
initializing conversation (conversations.py: 50377, 50386) and Attributes that are not JSON (50304).

The emulator assumes: `Author` defaults to `system`; `participant_sid` is the participant whose identity or
messaging address the author is (else null); `index` counts from 0 in the conversation; `delivery` and `media` are
null and `content_sid` is the ContentSid given (no channel delivers anything here, no Rich Content template is
rendered, Subject and ContentVariables are taken and kept nowhere); a MediaSid is refused (400, 20001): the emulator
keeps no media. A message to an `inactive` conversation is taken and leaves it inactive. A customer's message
reaches Conversation Orchestrator too, where a configuration bridges the service (orchestrator.py). Stored messages
keep their Source (SDK, SMS, WHATSAPP or API) beside the resource, for the webhooks a ReplayAfter replays.
"""

from __future__ import annotations

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import orchestrator
from .conversation_participants import participant_writing_as, participants_of
from .conversation_webhooks import deliver_message_added
from .conversations import check_attributes, check_usable, conversation_of

TABLES = declare_tables(__name__, "conversation_messages")

MESSAGES = "/v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages"
# Kept beside a stored message, not answered.
PRIVATE_FIELDS = ("source",)


def customer_writes(emulator: AccountState, conversation_sid: str, body: str, author: str | None = None) -> dict:
    """Add a message as a participant's channel delivers it (the conversation's first participant, the customer,
    unless `author` names another by identity or address), with its webhooks; the message, as Twilio answers it.

    KeyError if there is no such conversation, ValueError if no participant writes as `author`, TwilioError where
    Twilio would refuse the message.
    """
    with emulator.lock:
        conversation = emulator.table("conversations")[conversation_sid]
        if author is None:
            writer = next(iter(participants_of(emulator, conversation_sid)), None)
        else:
            writer = participant_writing_as(emulator, conversation_sid, author)
        if writer is None:
            raise ValueError(
                f"no participant of {conversation_sid} writes as {author or 'the customer'}: add_participant first"
            )
        binding = writer["messaging_binding"]
        source = binding["type"].upper() if binding else "SDK"
        author = binding["address"] if binding and "address" in binding else writer["identity"]
        message = _add(emulator, conversation, {"Author": author, "Body": body}, source, deliver=True)
        orchestrator.bridge_customer_message(emulator, conversation, message)
        return message


def messages_of(emulator: AccountState, conversation_sid: str) -> list[dict]:
    """The conversation's messages in the order they were added, as Twilio answers them."""
    with emulator.lock:
        stored = emulator.table("conversation_messages").values()
        return [_answer(m) for m in stored if m["conversation_sid"] == conversation_sid]


def _add(emulator: AccountState, conversation: dict, body: dict, source: str, deliver: bool) -> dict:
    """Add the message the (REST-shaped) body describes, once checked; with its webhooks if `deliver`."""
    check_usable(conversation)
    attributes = body.get("Attributes", "{}")
    check_attributes(attributes)
    if "MediaSid" in body:
        raise TwilioError(400, 20001, "Invalid MediaSid: the Twilio emulator keeps no media")
    author = body.get("Author", "system")
    writer = participant_writing_as(emulator, conversation["sid"], author)
    sid = emulator.new_sid("IM")
    url = f"{conversation['url']}/Messages/{sid}"
    stored = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "chat_service_sid": conversation["chat_service_sid"],
        "conversation_sid": conversation["sid"],
        "body": body.get("Body"),
        "media": None,
        "author": author,
        "participant_sid": writer["sid"] if writer else None,
        "attributes": attributes,
        "date_created": body.get("DateCreated", now_iso()),
        "date_updated": body.get("DateUpdated", body.get("DateCreated", now_iso())),
        "index": len(messages_of(emulator, conversation["sid"])),
        "delivery": None,
        "content_sid": body.get("ContentSid"),
        "url": url,
        "links": {"delivery_receipts": f"{url}/Receipts", "channel_metadata": f"{url}/ChannelMetadata"},
        "source": source,
    }
    emulator.table("conversation_messages")[sid] = stored
    message = _answer(stored)
    if deliver:
        deliver_message_added(emulator, conversation, message, source)
    return message


def _answer(stored: dict) -> dict:
    return {key: value for key, value in stored.items() if key not in PRIVATE_FIELDS}


# Routes ---------------------------------------------------------------------------------------------------------


@route("conversations", "GET", MESSAGES)
def list_messages(call: Call):
    messages = messages_of(call.emulator, conversation_of(call, "ConversationSid")["sid"])
    if call.query.get("Order") == "desc":
        messages.reverse()
    return page(call, "messages", messages)


@route("conversations", "POST", MESSAGES)
def create_message(call: Call):
    """From the REST API: its webhooks only with X-Twilio-Webhook-Enabled: true."""
    webhooks_enabled = call.headers.get("x-twilio-webhook-enabled") == "true"
    return 201, _add(call.emulator, conversation_of(call, "ConversationSid"), call.body, "API", webhooks_enabled)


@route("conversations", "GET", MESSAGES + "/{Sid}")
def fetch_message(call: Call):
    conversation = conversation_of(call, "ConversationSid")
    stored = call.emulator.table("conversation_messages").get(call.params["Sid"])
    if stored is None or stored["conversation_sid"] != conversation["sid"]:
        raise not_found(call.path)
    return 200, _answer(stored)
