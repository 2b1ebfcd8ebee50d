"""A caller of a voice AI's number reaches a Flex agent, on both paths, through the real runtime and the emulator.

The number's voice URL is the deployed /voice/incoming-call; the emulator's caller (callers.py) is connected to the
voice AI over ConversationRelay, the AI ends the session with handoffData as Twilio Agent Connect sends it, and the
<Connect action> leads to /voice/connect-action (direct) or to the Studio handoff flow `handover studio` renders
(studio), whose Send to Flex enqueues the call. The task that results is offered to an agent, who accepts it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from handover import contract
from twilio_emulator import add_phone_number, agents, callers

NUMBER, CALLER = "+15551239000", "+15557654321"
RELAY = "wss://voice-ai.example.com/relay"
TAC_HANDOFF = {
    "conversationId": "conv_conversation_01jx8y5n1ffe0t3hxq1kbpzfyh",
    "storeId": "mem_store_01",
    "profileId": "mem_profile_01",
    "attributes": {"department": "billing", "reason": "The caller disputes a charge", "summary": "Charged twice."},
}


@pytest.fixture(scope="module")
def direct(runtimes):
    return runtimes(HANDOVER_VOICE_RELAY_URL=RELAY)


@pytest.fixture(scope="module")
def studio(runtimes, studio_flow_sid):
    return runtimes(
        HANDOVER_VOICE_RELAY_URL=RELAY, HANDOVER_VOICE_PATH="studio", TWILIO_STUDIO_HANDOFF_FLOW_SID=studio_flow_sid
    )


def number_for(emulator, runtime) -> str:
    """A new number of the account whose voice URL is the runtime's incoming-call (as `handover voice wire` sets)."""
    with emulator.lock:
        number = f"+1555{len(emulator.table('incoming_phone_numbers')):07d}"
        add_phone_number(emulator, number, f"https://localhost:{runtime.port}/voice/{contract.INCOMING_CALL}")
    return number


def test_direct_path_the_caller_reaches_an_agent_with_the_ais_reason_and_summary(twilio, emulator, direct):
    call = callers.incoming_call(emulator, number_for(emulator, direct), CALLER)
    assert (call.status, call.unsupported) == ("in-progress", [])
    assert call.relay["url"] == RELAY
    assert call.relay["action"] == f"https://localhost:{direct.port}/voice/{contract.CONNECT_ACTION}"

    callers.end_session(emulator, call.sid, TAC_HANDOFF)
    assert (call.status, call.unsupported) == ("queued", [])
    task = emulator.table("tasks")[call.task_sid]
    attributes = json.loads(task["attributes"])
    assert task["task_channel_unique_name"] == "voice"
    assert (attributes["callSid"], attributes["call_sid"], attributes["from"]) == (call.sid, call.sid, CALLER)
    assert attributes["handoff"]["reason"] == "The caller disputes a charge"
    assert attributes["handoff"]["summary"] == "Charged twice."
    assert [w["status"] for w in call.webhooks] == [200, 200]

    worker = agents.add_worker(emulator, "Voice Agent")
    try:
        agents.accept(emulator, agents.offer(emulator, task["sid"], worker["sid"])["sid"])
        assert emulator.table("tasks")[task["sid"]]["assignment_status"] == "assigned"
    finally:
        with emulator.lock:
            emulator.table("workers").pop(worker["sid"])


def test_direct_path_twilios_retry_makes_one_task(twilio, emulator, direct):
    call = callers.incoming_call(emulator, number_for(emulator, direct), CALLER)
    before = len(emulator.table("tasks"))
    callers.end_session(emulator, call.sid, TAC_HANDOFF, attempts=2)
    assert len(emulator.table("tasks")) == before + 1
    assert [w["status"] for w in call.webhooks] == [200, 200, 200]


def test_direct_path_a_hang_up_makes_no_task(twilio, emulator, direct):
    call = callers.incoming_call(emulator, number_for(emulator, direct), CALLER)
    before = len(emulator.table("tasks"))
    callers.hang_up(emulator, call.sid)
    assert (call.status, len(emulator.table("tasks"))) == ("completed", before)
    assert call.webhooks[-1]["body"] == contract.VOICE_ENDED_TWIML.default


def test_studio_path_the_flows_voice_branch_enqueues_the_caller_with_taccs_handoff_data(
    twilio, emulator, studio, studio_flow_sid
):
    call = callers.incoming_call(emulator, number_for(emulator, studio), CALLER)
    assert call.relay["action"] == (
        f"https://webhooks.twilio.com/v1/Accounts/{emulator.account.sid}/Flows/{studio_flow_sid}?Trigger=incomingCall"
    )
    callers.end_session(emulator, call.sid, TAC_HANDOFF)

    assert (call.status, call.unsupported) == ("queued", [])
    assert call.webhooks[-1]["flow_path"] == ["Trigger", "call_has_handoff_data", "call_handoff_data", "call_to_flex"]
    task = emulator.table("tasks")[call.task_sid]
    attributes = json.loads(task["attributes"])
    assert task["task_channel_unique_name"] == "voice"
    assert attributes["handoffData"] == TAC_HANDOFF  # the summary where the messaging path's Studio task has it
    assert (attributes["callSid"], attributes["channelType"], attributes["team"]) == (call.sid, "voice", "voice")


def test_a_call_without_a_relay_url_hears_the_fallback_and_the_log_says_why(twilio, emulator, runtimes):
    runtime = runtimes()
    call = callers.incoming_call(emulator, number_for(emulator, runtime), CALLER)
    assert call.said == ["Sorry, we cannot connect you to our team right now. Please call again later."]
    assert call.status == "completed"
    assert f"incoming-call: call {call.sid}: HANDOVER_VOICE_RELAY_URL is not set" in runtime.log()


def test_an_unsigned_request_of_the_voice_url_is_401_with_no_twilio_request(twilio, emulator, direct):
    request = urllib.request.Request(
        direct.url(f"/voice/{contract.INCOMING_CALL}"),
        data=urllib.parse.urlencode({"CallSid": "CA" + "1" * 32}).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=30)
    assert refused.value.code == 401
    assert json.loads(refused.value.read())["error"].startswith("This function answers Twilio only")
    assert emulator.requests == []
