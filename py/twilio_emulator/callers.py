"""A caller and a voice AI, played for tests: what a person on the phone and a ConversationRelay server do.

- `incoming_call`: a caller dials one of the account's numbers (products/voice.py `add_phone_number`); Twilio requests
  the number's voice URL, signed, with the parameters of an inbound call, and runs the TwiML answered.
- `end_session`: the voice AI ends its ConversationRelay session with an `end` message, with `handoffData` or without;
  Twilio requests the <Connect action> URL, signed, with ConversationRelay's parameters (the call's, and SessionId,
  SessionStatus `completed`, SessionDuration, HandoffData), and runs the TwiML answered: a caller enqueued with
  <Enqueue workflowSid> waits as a TaskRouter task that the agent helpers (agents.py) offer and accept.
- `hang_up`: the caller hangs up during the session: the action URL is requested with SessionStatus `ended` and
  CallStatus `completed`, and what it answers is not run (there is no one left to hear it).

An action URL that is a Studio flow's webhook (`https://webhooks.twilio.com/v1/Accounts/{AC}/Flows/{FW}`, TAC's
`?Trigger=incomingCall`) runs the flow's incomingCall branch here (studio_flow.run_call, the request's parameters as
`trigger.call`): its Send to Flex enqueues the call. Any other URL is reached over loopback only, like every callback
(callbacks.py: `https://` loopback URLs over plain HTTP, signed over the URL as given).

Twilio retries a webhook on a connection failure or a read timeout when the URL asks it to (its `#rc=` connection
override); `end_session(attempts=2)` plays such a retry: the first answer is lost, the second is run. The request
parameters are those Twilio documents for voice webhooks and ConversationRelay's action (and Twilio Agent Connect's
model of them: AccountSid, CallSid, CallStatus, From, To, Direction, SessionId, SessionStatus, SessionDuration); a
GET voice URL is not played (VoiceMethod POST only).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

from . import studio_flow
from .callbacks import _plain_http, is_loopback_url, signature
from .pipeline import Emulator
from .products import voice
from .products.voice import PlayedCall

TIMEOUT_SECONDS = 15.0
# What `_action` answers for a Studio flow it ran: no TwiML to run, the flow has placed the call itself.
FLOW_RAN = ""
STUDIO_WEBHOOK = re.compile(r"^https://webhooks\.twilio\.com/v1/Accounts/(AC[0-9a-f]{32})/Flows/(FW[0-9a-f]{32})$")
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def incoming_call(emulator: Emulator, to: str, from_: str = "+15557654321") -> PlayedCall:
    """A caller dials `to`: its voice URL is requested and its TwiML run; the call as it stands then."""
    with emulator.lock:
        number = voice.number_called(emulator, to)
        played = PlayedCall(emulator.new_sid("CA"), from_, to)
        emulator.table("calls")[played.sid] = played
        url = number["voice_url"]
    if not url:
        with emulator.lock:
            played.unsupported.append(f"{to} has no voice URL: Twilio answers the caller with an error")
            played.status = "completed"
        return played
    answer = _request(emulator, played, url, _call_parameters(emulator, played, "ringing"))
    with emulator.lock:
        if answer is not None:
            voice.run_twiml(emulator, played, answer)
        else:  # Twilio plays its application error and hangs up
            played.unsupported.append(
                f"the voice URL answered no TwiML: {played.webhooks[-1].get('error') or 'not 2xx'}"
            )
            played.status = "completed"
        return played


def end_session(
    emulator: Emulator, call_sid: str, handoff_data: str | dict | None = None, attempts: int = 1
) -> PlayedCall:
    """The AI's `end` message (with `handoffData`, a JSON text: a dict is sent as its JSON): the action URL is requested
    (`attempts` times, the last answer run) and its TwiML run; the call as it stands then."""
    played, action = _in_session(emulator, call_sid)
    params = _session_parameters(emulator, played, "completed", "in-progress")
    if handoff_data is not None:
        params["HandoffData"] = handoff_data if isinstance(handoff_data, str) else json.dumps(handoff_data)
    answer = None
    for _ in range(attempts):
        answer = _action(emulator, played, action, params)
    with emulator.lock:
        played.relay = None
        if answer:
            voice.run_twiml(emulator, played, answer)
        elif answer is None:
            played.status = "completed"  # no TwiML: Twilio says an application error occurred and hangs up
        return played


def hang_up(emulator: Emulator, call_sid: str) -> PlayedCall:
    """The caller hangs up during the session: the action URL still hears of it; nothing it answers is run."""
    played, action = _in_session(emulator, call_sid)
    params = _session_parameters(emulator, played, "ended", "completed")
    with emulator.lock:
        played.status = "completed"
        played.relay = None
    _action(emulator, played, action, params, caller_left=True)
    return played


def played_call(emulator: Emulator, call_sid: str) -> PlayedCall:
    with emulator.lock:
        return emulator.table("calls")[call_sid]


def _in_session(emulator: Emulator, call_sid: str) -> tuple[PlayedCall, str | None]:
    with emulator.lock:
        played = emulator.table("calls")[call_sid]
        if played.relay is None:
            raise ValueError(f"call {call_sid} is {played.status}, not in a ConversationRelay session")
        return played, played.relay["action"]


def _call_parameters(emulator: Emulator, played: PlayedCall, status: str) -> dict[str, str]:
    return {
        "AccountSid": emulator.account.sid,
        "ApiVersion": "2010-04-01",
        "CallSid": played.sid,
        "CallStatus": status,
        "Called": played.to,
        "Caller": played.from_,
        "Direction": "inbound",
        "From": played.from_,
        "To": played.to,
    }


def _session_parameters(emulator: Emulator, played: PlayedCall, session_status: str, call_status: str) -> dict:
    params = _call_parameters(emulator, played, call_status)
    params |= {"SessionId": played.relay["session_id"], "SessionStatus": session_status, "SessionDuration": "42"}
    return params


def _action(
    emulator: Emulator, played: PlayedCall, action: str | None, params: dict, caller_left: bool = False
) -> str | None:
    """The action's TwiML: the Studio flow's when it is a flow's webhook, else the URL's answer; None for none. A flow
    is not run for a caller who left (its Send to Flex would have no call to enqueue)."""
    if action is None:
        return None  # no action: the call ends with the session, as Twilio's does
    base, _, query = action.partition("?")
    flow = STUDIO_WEBHOOK.match(base)
    if flow is not None and caller_left:
        return None
    if flow is not None:
        return _run_flow(emulator, played, action, flow.group(1), flow.group(2), parse_qs(query), params)
    return _request(emulator, played, action, params)


def _run_flow(
    emulator: Emulator, played: PlayedCall, url: str, account_sid: str, flow_sid: str, query: dict, params: dict
):
    """The flow's incomingCall branch, run on the call: what its widgets did, as TwiML is not what Studio answers.
    Its exchange has no status (no HTTP request is made) and the path the flow took."""
    with emulator.lock:
        flow = emulator.table("studio_flows").get(flow_sid)
        played.webhooks.append({"url": url, "params": dict(params), "status": None})
        if account_sid != emulator.account.sid or flow is None or query.get("Trigger") != ["incomingCall"]:
            played.unsupported.append(f"a Studio webhook this account has no incomingCall flow for: {flow_sid}")
            return None
        definition = flow["definition"]
    run = studio_flow.run_call(emulator, definition, params)
    with emulator.lock:
        played.said += run.said
        played.webhooks[-1]["flow_path"] = run.path
        if run.flex is not None:
            voice.enqueue_flow_handoff(emulator, played, run.flex)
        else:
            played.status = "completed"
    return FLOW_RAN


def _request(emulator: Emulator, played: PlayedCall, url: str, params: dict[str, str]) -> str | None:
    """POST the webhook signed, as Twilio does; its TwiML, or None when it did not answer 2xx with any."""
    exchange = {"url": url, "params": dict(params), "status": None, "body": None}
    with emulator.lock:
        played.webhooks.append(exchange)
    if not is_loopback_url(url) or urlsplit(url).scheme not in ("http", "https"):
        exchange["error"] = "not requested: the emulator sends webhooks to loopback addresses only"
        return None
    headers = {
        "X-Twilio-Signature": signature(emulator.account.auth_token, url, params),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "User-Agent": "TwilioProxy/1.1 (twilio-emulator)",
    }
    request = urllib.request.Request(_plain_http(url), data=urlencode(params).encode(), headers=headers, method="POST")
    try:
        with _DIRECT.open(request, timeout=TIMEOUT_SECONDS) as response:
            exchange["status"], exchange["body"] = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        exchange["status"], exchange["body"] = error.code, error.read().decode("utf-8", "replace")
    except OSError as error:
        exchange["error"] = f"not answered: {error}"
    ok = exchange["status"] is not None and 200 <= exchange["status"] < 300
    return exchange["body"] if ok else None
