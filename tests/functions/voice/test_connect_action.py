"""The voice path's <Connect action>: Twilio's request at the end of a ConversationRelay session, on the real runtime.

Signed as Twilio signs it, over the deployed https:// URL, with the parameters Twilio sends (ConversationRelay's
action request: AccountSid, CallSid, CallStatus, From, To, Direction, SessionId, SessionStatus, SessionDuration and,
when the AI ended the session with an `end` message carrying it, HandoffData). The answer is TwiML, parsed here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest
from twilio.request_validator import RequestValidator

from handover import contract
from twilio_emulator import Fault, sync_map_items

ACTION_PATH = "/voice/connect-action"
CLAIM = "POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items"
READ_CLAIM = "GET /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}"
CALLER, CALLED = "+15557654321", "+15551230000"
TAC_HANDOFF = {
    "conversationId": "conv_conversation_01jx8y5n1ffe0t3hxq1kbpzfyh",
    "storeId": "mem_store_01",
    "profileId": "",
    "attributes": {"department": "billing", "reason": "The caller disputes a charge", "summary": "Charged twice."},
}
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_calls = iter(range(1, 10**6))


@dataclass
class Answer:
    status: int
    content_type: str
    text: str

    @property
    def twiml(self) -> ET.Element:
        assert self.content_type.startswith("text/xml"), self.content_type
        return ET.fromstring(self.text)

    @property
    def task(self) -> dict:
        """The attributes of the <Enqueue><Task> the answer holds."""
        (enqueue,) = self.twiml.findall("Enqueue")
        return json.loads(enqueue.find("Task").text)


def new_call_sid() -> str:
    return f"CA{next(_calls):032x}"


def session_end(call_sid: str, handoff_data: str | None, **overrides: str) -> dict[str, str]:
    """The parameters of ConversationRelay's action request, as Twilio sends them for an inbound call."""
    params = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": call_sid,
        "CallStatus": "in-progress",
        "From": CALLER,
        "To": CALLED,
        "Direction": "inbound",
        "SessionId": "VX" + call_sid[2:],
        "SessionStatus": "completed",
        "SessionDuration": "42",
    }
    if handoff_data is not None:
        params["HandoffData"] = handoff_data
    return params | overrides


def action_url(runtime) -> str:
    return f"https://localhost:{runtime.port}{ACTION_PATH}"


def post_action(twilio, runtime, params: dict, signature: str | None = "sign") -> Answer:
    """POST to the action URL as Twilio does: form-encoded, signed over the deployed URL unless told otherwise."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = RequestValidator(twilio.emulator.account.auth_token).compute_signature(action_url(runtime), params)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    data = urllib.parse.urlencode(params).encode()
    request = urllib.request.Request(runtime.url(ACTION_PATH), data=data, headers=headers, method="POST")
    try:
        with _LOOPBACK.open(request, timeout=30) as response:
            return Answer(response.status, response.headers.get("Content-Type", ""), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers.get("Content-Type", ""), error.read().decode())


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes(HANDOVER_ATTRIBUTES='{"department": "support", "priority": "high"}')


@pytest.fixture(scope="module")
def unconfigured(runtimes):
    """A deployment without FLEX_WORKFLOW_SID, whose caller hears its own fallback and goodbye."""
    return runtimes(
        FLEX_WORKFLOW_SID=None,
        HANDOVER_VOICE_FALLBACK_TWIML="<Response><Dial>+15550009999</Dial></Response>",
        HANDOVER_VOICE_ENDED_TWIML="<Response><Say>Bye now.</Say></Response>",
    )


def claims_of(emulator, call_sid: str) -> list[dict]:
    """The Sync claims of the call's session (session_end's SessionId)."""
    key = f"{call_sid}.VX{call_sid[2:]}"
    return [item for k, item in sync_map_items(emulator, contract.claim_map_of(key)).items() if k == key]


def test_a_handed_off_caller_is_enqueued_with_the_ais_reason_and_summary(twilio, emulator, runtime):
    call_sid = new_call_sid()
    answer = post_action(twilio, runtime, session_end(call_sid, json.dumps(TAC_HANDOFF)))

    assert answer.status == 200
    (enqueue,) = answer.twiml
    assert (enqueue.tag, enqueue.attrib) == ("Enqueue", {"workflowSid": twilio.account.workflow_sid})
    task = answer.task
    requested_at = task["handoff"].pop("requestedAt")
    assert task == {
        "department": "support",
        "priority": "high",
        "from": CALLER,
        "customerName": CALLER,
        "customerAddress": CALLER,
        "callSid": call_sid,
        "calledNumber": CALLED,
        "channelType": "voice",
        "handoff": {"reason": "The caller disputes a charge", "summary": "Charged twice.", "source": ACTION_PATH},
    }
    assert set(task) - {"department", "priority", "handoff"} == set(contract.VOICE_TASK_ATTRIBUTES)
    assert set(task["handoff"]) | {"requestedAt"} == set(contract.HANDOFF_FIELDS)
    # One round: the session's claim, the messaging path's claim keyed by the call and its session.
    assert [r.operation for r in emulator.requests] == [CLAIM]
    (claim,) = claims_of(emulator, call_sid)
    assert claim["data"]["requestedAt"] == requested_at


def test_a_flat_handoff_data_of_another_ai_is_read_too(twilio, emulator, runtime):
    answer = post_action(
        twilio, runtime, session_end(new_call_sid(), '{"reason": "angry", "summary": "Wants a manager"}')
    )
    assert (answer.task["handoff"]["reason"], answer.task["handoff"]["summary"]) == ("angry", "Wants a manager")


def test_twilios_retry_of_one_session_answers_the_same_task_with_one_claim(twilio, emulator, runtime):
    call_sid = new_call_sid()
    params = session_end(call_sid, json.dumps(TAC_HANDOFF))
    first = post_action(twilio, runtime, params)
    emulator.clear_traffic()
    retried = post_action(twilio, runtime, params)

    assert retried.task == first.task  # the first request's moment, not the retry's
    assert [r.operation for r in emulator.requests] == [CLAIM, READ_CLAIM]  # two rounds
    assert emulator.requests[0].status == 409
    assert len(claims_of(emulator, call_sid)) == 1


@pytest.mark.parametrize(
    ("overrides", "handoff_data"),
    [
        ({"SessionStatus": "completed"}, None),
        ({"SessionStatus": "failed"}, None),
        ({"SessionStatus": "ended", "CallStatus": "completed"}, json.dumps(TAC_HANDOFF)),
    ],
    ids=["ai-ended-without-handoff", "session-failed", "caller-hung-up"],
)
def test_other_endings_hear_the_goodbye_with_no_request(twilio, emulator, runtime, overrides, handoff_data):
    answer = post_action(twilio, runtime, session_end(new_call_sid(), handoff_data, **overrides))
    assert (answer.status, answer.text) == (200, contract.VOICE_ENDED_TWIML.default)
    assert emulator.requests == []


def test_the_configured_goodbye_and_without_a_workflow_the_configured_fallback(twilio, emulator, unconfigured):
    ended = post_action(twilio, unconfigured, session_end(new_call_sid(), None))
    assert ended.text == "<Response><Say>Bye now.</Say></Response>"

    handed_off = post_action(twilio, unconfigured, session_end(new_call_sid(), json.dumps(TAC_HANDOFF)))
    assert (handed_off.status, handed_off.text) == (200, "<Response><Dial>+15550009999</Dial></Response>")
    assert emulator.requests == []
    assert "FLEX_WORKFLOW_SID is not set on this Functions environment" in unconfigured.log()


@pytest.mark.parametrize(
    ("handoff_data", "problem"),
    [("{not json", "HandoffData is not a JSON object"), ('{"reason": ["a"]}', "the reason or summary in HandoffData")],
    ids=["not-json", "reason-not-text"],
)
def test_unreadable_handoff_data_still_enqueues_with_a_marked_summary(twilio, emulator, runtime, handoff_data, problem):
    call_sid = new_call_sid()
    answer = post_action(twilio, runtime, session_end(call_sid, handoff_data))
    handoff = answer.task["handoff"]
    assert handoff["reason"] == ""
    assert handoff["summary"] == f"{contract.UNREADABLE_HANDOFF_SUMMARY} {handoff_data}"
    assert f"call {call_sid}: {problem}" in runtime.log()


def test_an_oversized_summary_is_cut_with_the_marker_inside_taskrouters_limit(twilio, emulator, runtime):
    long = dict(TAC_HANDOFF, attributes={"reason": "r" * 900, "summary": "é" * 50_000})
    answer = post_action(twilio, runtime, session_end(new_call_sid(), json.dumps(long)))
    handoff = answer.task["handoff"]
    assert handoff["reason"] == "r" * (contract.MAX_REASON_LENGTH - len(contract.CUT_MARKER)) + contract.CUT_MARKER
    assert len(handoff["summary"]) == contract.MAX_SUMMARY_LENGTH and handoff["summary"].endswith(contract.CUT_MARKER)
    assert size_of(answer.task) <= contract.MAX_TASK_ATTRIBUTES_BYTES


def size_of(attributes: dict) -> int:
    """The bytes of the attributes as TaskRouter keeps them: compact JSON text, UTF-8."""
    return len(json.dumps(attributes, ensure_ascii=False, separators=(",", ":")).encode())


def test_a_summary_over_taskrouters_size_limit_is_cut_further_and_logged(twilio, emulator, runtime):
    call_sid = new_call_sid()
    wide = dict(
        TAC_HANDOFF, attributes={"reason": "\U0001f600" * 600, "summary": "\U0001f600" * 5000}
    )  # 4 bytes a character
    answer = post_action(twilio, runtime, session_end(call_sid, json.dumps(wide)))
    summary = answer.task["handoff"]["summary"]
    assert summary.endswith(contract.CUT_MARKER) and len(summary) < contract.MAX_SUMMARY_LENGTH
    assert contract.MAX_TASK_ATTRIBUTES_BYTES - 1000 < size_of(answer.task) <= contract.MAX_TASK_ATTRIBUTES_BYTES
    assert f"call {call_sid}: the task's attributes were over TaskRouter's limit" in runtime.log()


@pytest.mark.parametrize(("status", "code"), [(400, 20001), (503, 20503)], ids=["refused", "unavailable"])
def test_a_sync_fault_still_enqueues_the_caller_and_logs_it(twilio, emulator, runtime, status, code):
    # A 503 is retried until the claim's budget is spent, then the caller is enqueued all the same.
    emulator.inject(Fault("POST", "/Items", status=status, code=code, times=None))
    call_sid = new_call_sid()
    answer = post_action(twilio, runtime, session_end(call_sid, json.dumps(TAC_HANDOFF)))
    emulator.clear_traffic()
    assert answer.task["handoff"]["summary"] == "Charged twice."
    assert f"claiming call {call_sid} in Sync failed (enqueued all the same): {status} {code}" in runtime.log()


@pytest.mark.parametrize(
    ("signature", "error"),
    [
        (None, "This function answers Twilio only: the request has no X-Twilio-Signature."),
        ("d3Jvbmc=", "The X-Twilio-Signature is not valid for this URL and these parameters."),
    ],
    ids=["unsigned", "wrongly-signed"],
)
def test_an_unauthenticated_request_is_401_with_no_twilio_request(twilio, emulator, runtime, signature, error):
    answer = post_action(twilio, runtime, session_end(new_call_sid(), json.dumps(TAC_HANDOFF)), signature)
    assert (answer.status, json.loads(answer.text)) == (401, {"status": "rejected", "error": error})
    assert emulator.requests == []
