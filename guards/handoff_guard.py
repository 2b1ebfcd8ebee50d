"""Is this conversation with a human agent? A guard for a bot on a Conversations service-level webhook.

The Flex handover kit's handoff removes a bot's conversation-scoped webhooks, but it cannot remove a service's
(the Conversations service's PostWebhookUrl): a bot reached that way asks, on each onMessageAdded, whether the
conversation is handed off, and stays silent while a human agent has it. The kit records a handoff on the
conversation's attributes as `handedOff: true` with `handedOffAt` (ISO 8601); it counts for 24 hours, and the
hand-back takes it away again (and records `handedBack`).

Copy this file into the bot: it needs nothing but the twilio package the bot already has (and only for the client it
is given). guards/handoff-guard.js is the same guard in JavaScript: both answer alike for every attributes text.

A bot's webhook handler (Flask), after its check of the X-Twilio-Signature::

    @app.post("/bot")
    def on_message_added():
        if conversation_is_handed_off(client, request.form["ChatServiceSid"], request.form["ConversationSid"]):
            return "", 200  # a human agent has the conversation: the bot stays silent
        return answer(request.form["ConversationSid"], request.form["Body"])
"""

# ruff: noqa: UP017 (timezone.utc, not datetime.UTC: the bot this file is copied into may run a Python before 3.11)
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

# How long a handoff record counts: the Flex handover kit's contract.CLAIM_TTL_SECONDS (py/handover/contract.py),
# 24 hours. Keep the two equal: the kit's tests/guards check it.
HANDOFF_WINDOW_SECONDS = 86400

# ISO 8601's extended date and time, as the kit writes it (JavaScript's toISOString()) and as isoformat() does: a
# date, optionally a time (minutes, seconds, a fraction) with an offset. No offset: UTC.
_ISO_8601 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?([Zz]|[+-]\d{2}:\d{2})?)?", re.ASCII
)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def _no_constant(name: str):
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: Python's json reads them, JSON (and JavaScript) not


def _attributes_object(attributes: str | dict | None) -> dict | None:
    """The object an attributes value holds (JSON text, or a dict already parsed), or None for anything else."""
    value = attributes
    if isinstance(attributes, str):
        try:
            value = json.loads(attributes, parse_constant=_no_constant)
        except (ValueError, RecursionError):  # json.JSONDecodeError, the constants above, nesting past the stack
            return None
    return value if isinstance(value, dict) else None


def _iso_milliseconds(text: object) -> int | None:
    """Milliseconds since the epoch of an ISO 8601 text (fraction cut to the millisecond), or None if it is none."""
    match = _ISO_8601.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups()[:6])
    fraction = int(((match[7] or "") + "000")[:3])
    offset = match[8] if match[8] and match[8].upper() != "Z" else "+00:00"
    offset_minutes = int(offset[1:3]) * 60 + int(offset[4:6])
    if int(offset[1:3]) > 23 or int(offset[4:6]) > 59:
        return None
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    except ValueError:  # no such date or time of day (year 0 included)
        return None
    sign = -1 if offset[0] == "-" else 1
    return (moment - _EPOCH) // _MILLISECOND + fraction - sign * offset_minutes * 60_000


def is_handed_off(attributes: str | dict | None, now: datetime | None = None) -> bool:
    """Whether a conversation's attributes (its JSON text as Twilio answers it, or the dict parsed) record a handoff of
    the last HANDOFF_WINDOW_SECONDS at `now` (None: this moment; a naive datetime is UTC): a human agent has the
    conversation, and the bot stays silent.

    Anything else is False, so that the bot answers: no handoff, one handed back, one older than the window, and
    attributes that are not a JSON object, or whose `handedOff` is not `true`, or whose `handedOffAt` is not an ISO
    8601 time. A `handedOffAt` ahead of `now` (the bot's clock behind the kit's) counts, as the kit counts it.
    """
    record = _attributes_object(attributes)
    if record is None or record.get("handedOff") is not True:
        return False
    handed_off_at = _iso_milliseconds(record.get("handedOffAt"))
    if handed_off_at is None:
        return False
    moment = datetime.now(timezone.utc) if now is None else now
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // _MILLISECOND - handed_off_at < HANDOFF_WINDOW_SECONDS * 1000


def conversation_is_handed_off(client, service_sid: str, conversation_sid: str, now: datetime | None = None) -> bool:
    """Whether the conversation is handed off to a human agent now: one fetch of the conversation with the bot's
    twilio client (`twilio.rest.Client`), then `is_handed_off` of its attributes.

    A failed fetch raises the client's error (twilio.base.exceptions.TwilioRestException, or the HTTP client's): the
    bot decides (to answer anyway, catch it as False).
    """
    conversation = client.conversations.v1.services(service_sid).conversations(conversation_sid).fetch()
    return is_handed_off(conversation.attributes, now)
