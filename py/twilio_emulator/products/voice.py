"""Programmable Voice: the account's phone numbers, and the TwiML a call runs.

Served: IncomingPhoneNumbers (list, with the `PhoneNumber` filter; fetch; update of the voice fields). A number is
seeded with `add_phone_number`; the emulator buys none. The calls themselves are played by `twilio_emulator.callers`
(a caller dials a number, the voice AI ends its ConversationRelay session), which runs the TwiML answered here.

TwiML, as Twilio documents its verbs: `<Say>` is recorded as said, `<Hangup/>` ends the call, `<Dial>` records the
number dialled and ends the emulated call there, `<Connect><ConversationRelay url=…/></Connect>` starts a session the
test helper plays (the Connect's `action` kept, for the session's end), `<Enqueue workflowSid=…><Task>{json}</Task>
</Enqueue>` creates the TaskRouter task of the call on the workspace's `voice` task channel, waiting there for an
agent. Any other verb or noun, or one of these with an attribute the emulator does not honour, is recorded in the
call's `unsupported` list (and skipped), never silently taken as done.

Assumed, where Twilio documents nothing precise: an enqueued call's task attributes are the `<Task>` JSON with
Twilio's call fields beside it (`call_sid`, `account_sid`, `from`, `to`, `direction`, `caller`, `called`; Twilio's win
over the same keys); a `<Task>` over 16 KB of attributes (MAX_TASK_ATTRIBUTES_BYTES), or that is not a JSON object,
or a workflow the account lacks, fails to enqueue and the call goes on to the next verb, as Twilio's does.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime

from ..errors import TwilioError, not_found
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import taskrouter

TABLES = declare_tables(__name__, "incoming_phone_numbers", "calls")

API = "/2010-04-01/Accounts"
MAX_TASK_ATTRIBUTES_BYTES = 16384
# Update parameters that set one field of the number as given; any other is outside the emulator.
NUMBER_FIELDS = {
    "FriendlyName": "friendly_name",
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
}
# The attributes of each verb the emulator honours.
HONOURED = {
    "Say": {"voice", "language", "loop"},
    "Hangup": set(),
    "Dial": set(),
    "Connect": {"action", "method"},
    "ConversationRelay": {
        "url",
        "welcomeGreeting",
        "welcomeGreetingInterruptible",
        "conversationConfiguration",
        "language",
        "ttsProvider",
        "transcriptionProvider",
        "voice",
        "interruptible",
        "dtmfDetection",
    },
    "Enqueue": {"workflowSid"},
    "Task": {"priority", "timeout"},
}


@dataclass
class PlayedCall:
    """What one call did, in order: what it heard, where it went."""

    sid: str
    from_: str
    to: str
    status: str = "ringing"  # ringing, in-progress, queued (in a TaskRouter queue), completed
    said: list[str] = field(default_factory=list)
    dialed: list[str] = field(default_factory=list)
    relay: dict | None = None  # the ConversationRelay session under way: url, action, session_id
    task_sid: str | None = None
    unsupported: list[str] = field(default_factory=list)
    webhooks: list[dict] = field(default_factory=list)  # each request Twilio made for the call, and its answer


def now_rfc2822() -> str:
    """Now, as the 2010 API writes its dates."""
    return format_datetime(datetime.now(UTC))


def add_phone_number(emulator: AccountState, phone_number: str, voice_url: str | None = None) -> dict:
    """A number of the account, as Twilio's example of one has it (voice and SMS), its voice URL as given."""
    sid = emulator.new_sid("PN")
    created = now_rfc2822()
    number = {
        "account_sid": emulator.account.sid,
        "address_requirements": "none",
        "address_sid": None,
        "api_version": "2010-04-01",
        "beta": False,
        "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
        "date_created": created,
        "date_updated": created,
        "emergency_status": "Inactive",
        "emergency_address_sid": None,
        "emergency_address_status": "unregistered",
        "friendly_name": phone_number,
        "identity_sid": None,
        "origin": "twilio",
        "phone_number": phone_number,
        "sid": sid,
        "sms_application_sid": None,
        "sms_fallback_method": "POST",
        "sms_fallback_url": "",
        "sms_method": "POST",
        "sms_url": "",
        "status_callback": "",
        "status_callback_method": "POST",
        "trunk_sid": None,
        "uri": f"{API}/{emulator.account.sid}/IncomingPhoneNumbers/{sid}.json",
        "voice_application_sid": None,
        "voice_caller_id_lookup": False,
        "voice_fallback_method": "POST",
        "voice_fallback_url": None,
        "voice_method": "POST",
        "voice_url": voice_url,
        "voice_receive_mode": "voice",
        "status": "in-use",
        "bundle_sid": None,
        "type": "local",
    }
    emulator.table("incoming_phone_numbers")[sid] = number
    return number


def number_called(emulator: AccountState, phone_number: str) -> dict:
    """The account's number `phone_number`; LookupError when the account has none such (Twilio would not route it)."""
    for number in emulator.table("incoming_phone_numbers").values():
        if number["phone_number"] == phone_number:
            return number
    raise LookupError(f"the account has no phone number {phone_number}: seed it with add_phone_number")


def _own(call: Call) -> None:
    if call.params["AccountSid"] != call.emulator.account.sid:
        raise not_found(call.path)


def _number(call: Call) -> dict:
    _own(call)
    number = call.emulator.table("incoming_phone_numbers").get(call.params["Sid"])
    if number is None:
        raise not_found(call.path)
    return number


@route("api", "GET", "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json")
def list_incoming_phone_numbers(call: Call):
    """The account's numbers, `PhoneNumber` matching exactly when given; one page (the 2010 API's paging)."""
    _own(call)
    wanted = call.query.get("PhoneNumber")
    numbers = [n for n in call.emulator.table("incoming_phone_numbers").values() if wanted in (None, n["phone_number"])]
    size = int(call.query.get("PageSize", 50))
    uri = f"{API}/{call.emulator.account.sid}/IncomingPhoneNumbers.json"
    return 200, {
        "incoming_phone_numbers": numbers[:size],
        "end": max(min(size, len(numbers)) - 1, 0),
        "first_page_uri": f"{uri}?PageSize={size}&Page=0",
        "next_page_uri": None if len(numbers) <= size else f"{uri}?PageSize={size}&Page=1",
        "page": 0,
        "page_size": size,
        "previous_page_uri": None,
        "start": 0,
        "uri": f"{uri}?PageSize={size}&Page=0",
    }


@route("api", "GET", "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json")
def fetch_incoming_phone_number(call: Call):
    return 200, _number(call)


@route("api", "POST", "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json")
def update_incoming_phone_number(call: Call):
    """The voice fields and the friendly name, as given; any other field is outside the emulator (400)."""
    number = _number(call)
    body = call.body
    other = sorted(set(body) - set(NUMBER_FIELDS))
    if other:
        raise taskrouter.outside_emulator(f"Updating {', '.join(other)} of a phone number")
    number.update({field_name: body[parameter] for parameter, field_name in NUMBER_FIELDS.items() if parameter in body})
    number["date_updated"] = now_rfc2822()
    return 200, number


# TwiML ---------------------------------------------------------------------------------------------------------


def run_twiml(emulator: AccountState, played: PlayedCall, text: str) -> None:
    """Run a TwiML document on the call, verb after verb, until one hands the call on (a session, a queue, a hang-up).
    The caller holds the account's lock."""
    try:
        document = ET.fromstring(text)
    except ET.ParseError as error:
        played.unsupported.append(f"the answer is not TwiML: {error}")
        return
    if document.tag != "Response":
        played.unsupported.append(f"the answer's root is <{document.tag}>, not <Response>")
        return
    for verb in document:
        _check_attributes(played, verb)
        if verb.tag == "Say":
            played.said += [(verb.text or "").strip()] * int(verb.get("loop", "1") or "1")
        elif verb.tag == "Hangup":
            played.status = "completed"
        elif verb.tag == "Dial":
            played.dialed.append((verb.text or "").strip())
            played.status = "completed"
        elif verb.tag == "Connect" and _connect(emulator, played, verb):
            return
        elif verb.tag == "Enqueue" and _enqueue(emulator, played, verb):
            return
        elif verb.tag not in ("Connect", "Enqueue"):
            played.unsupported.append(f"<{verb.tag}>")
        if played.status == "completed":
            return
    played.status = "completed"  # a document that runs out hangs up, as Twilio does


def _check_attributes(played: PlayedCall, element: ET.Element) -> None:
    honoured = HONOURED.get(element.tag)
    if honoured is None:
        return
    for name in sorted(set(element.attrib) - honoured):
        played.unsupported.append(f"<{element.tag} {name}>")


def _connect(emulator: AccountState, played: PlayedCall, verb: ET.Element) -> bool:
    """<Connect><ConversationRelay>: a session starts; whether it did."""
    nouns = list(verb)
    relays = [noun for noun in nouns if noun.tag == "ConversationRelay"]
    for noun in nouns:
        if noun.tag != "ConversationRelay":
            played.unsupported.append(f"<Connect><{noun.tag}>")
    if len(relays) != 1 or not relays[0].get("url"):
        played.unsupported.append("<Connect> without one <ConversationRelay url=…>")
        return False
    _check_attributes(played, relays[0])
    for child in relays[0]:
        if child.tag not in ("Language", "Parameter"):
            played.unsupported.append(f"<ConversationRelay><{child.tag}>")
    played.relay = {"url": relays[0].get("url"), "action": verb.get("action"), "session_id": emulator.new_sid("VX")}
    played.status = "in-progress"
    return True


def _enqueue(emulator: AccountState, played: PlayedCall, verb: ET.Element) -> bool:
    """<Enqueue workflowSid><Task>: the call's TaskRouter task; whether it was made (else the next verb runs)."""
    workflow = emulator.table("workflows").get(verb.get("workflowSid") or "")
    tasks = verb.findall("Task")
    if workflow is None or len(tasks) != 1:
        played.unsupported.append("<Enqueue> without a workflowSid of the account and one <Task>")
        return False
    _check_attributes(played, tasks[0])
    text = tasks[0].text or "{}"
    try:
        given = json.loads(text)
    except ValueError:
        given = None
    if not isinstance(given, dict) or len(text.encode()) > MAX_TASK_ATTRIBUTES_BYTES:
        played.unsupported.append("<Task> whose attributes are not a JSON object within 16 KB: not enqueued")
        return False
    channel = taskrouter.task_channel_named(emulator, workflow["workspace_sid"], "voice")
    if channel is None:
        raise TwilioError(400, 20001, f"workspace {workflow['workspace_sid']} has no voice task channel")
    call_fields = {
        "call_sid": played.sid,
        "account_sid": emulator.account.sid,
        "from": played.from_,
        "to": played.to,
        "caller": played.from_,
        "called": played.to,
        "direction": "inbound",
    }
    task = taskrouter.create_task(emulator, workflow, channel, {**given, **call_fields})
    played.task_sid, played.status = task["sid"], "queued"
    return True


def enqueue_flow_handoff(emulator: AccountState, played: PlayedCall, handoff) -> None:
    """A Studio flow's Send to Flex on the call (studio_flow.FlexHandoff): the call enqueued to its workflow and
    channel, with Twilio's call fields beside its attributes."""
    workflow = emulator.table("workflows")[handoff.workflow_sid]
    channel = emulator.table("task_channels")[handoff.channel_sid]
    fields = {"call_sid": played.sid, "account_sid": emulator.account.sid, "from": played.from_, "to": played.to}
    task = taskrouter.create_task(emulator, workflow, channel, {**handoff.attributes, **fields})
    played.task_sid, played.status = task["sid"], "queued"
