"""Twilio Agent Connect 2.5.0's own voice pieces against the emulator and the kit: a client nobody here wrote.

TAC's ConversationRelay TwiML (tac/channels/voice/conversation_relay/twiml.py: the <Connect action> it resolves, the
Studio flow's incomingCall webhook when TWILIO_STUDIO_HANDOFF_FLOW_SID is set) answers the number; TAC's `end`
message (tac/models/handoff.py PendingHandoffData, as provider.py sends it, its handoffData built by
tac/tools/handoff.py build_handoff_payload) ends the session. On the Studio path the rendered handoff flow enqueues the
caller; on the direct path TAC's action is pointed at the kit's /voice/connect-action. The task carries TAC's summary.
"""

from __future__ import annotations

import json

import pytest

from handover import contract
from twilio_emulator import add_phone_number, callers

CALLER = "+15557654321"
RELAY = "wss://tac-voice.example.com/ws"
SUMMARY = "Caller was charged twice for order 1234 and wants a refund."


@pytest.fixture(autouse=True)
def _no_analytics(monkeypatch):
    # TAC sends usage analytics to Segment unless told not to: nothing may leave this machine.
    monkeypatch.setenv("TAC_ANALYTICS_DISABLED", "true")


def tac_config(emulator, flow_sid: str | None):
    from tac.core.config import TACConfig

    return TACConfig(
        account_sid=emulator.account.sid,
        auth_token=emulator.account.auth_token,
        api_key="SK" + "1" * 32,
        api_secret="tac-test-secret",
        phone_number="+15551230000",
        studio_handoff_flow_sid=flow_sid,
        conversation_configuration_id="conv_configuration_01jx8y5n1ffe0t3hxq1kbpzfyh",
    )


def tac_twiml(emulator, flow_sid: str | None, action_url: str | None = None) -> str:
    """The TwiML TAC's ConversationRelay channel answers an incoming call with."""
    from tac.channels.voice.conversation_relay.config import ConversationRelayProviderConfig
    from tac.channels.voice.conversation_relay.twiml import TwiMLBuilderConversationRelay
    from tac.models.voice import VoiceTwiMLOptionsConversationRelay

    options = VoiceTwiMLOptionsConversationRelay(action_url=action_url) if action_url else None
    channel = ConversationRelayProviderConfig(default_twiml_options=options)
    return TwiMLBuilderConversationRelay(tac_config(emulator, flow_sid), channel).build("test", websocket_url=RELAY)


def tac_end_message(reason: str) -> str:
    """The WebSocket `end` message TAC's voice provider sends after a handoff, as its handoff tool prepares it."""
    from tac.models.handoff import PendingHandoffData
    from tac.models.session import ConversationSession
    from tac.tools.handoff import build_handoff_payload

    session = ConversationSession(conversation_id="conv_conversation_tac1", channel="VOICE", profile_id="mem_profile_1")
    payload = build_handoff_payload(
        session, "mem_store_1", {"department": "billing", "summary": SUMMARY, "reason": reason}
    )
    return PendingHandoffData(handoff_data=payload.model_dump_json(by_alias=True)).model_dump_json(by_alias=True)


def call_answered_by(emulator, webhook_receiver, twiml: str, number: str):
    webhook_receiver.twiml["/tac/incoming"] = twiml
    with emulator.lock:
        add_phone_number(emulator, number, f"{webhook_receiver.base}/tac/incoming")
    return callers.incoming_call(emulator, number, CALLER)


def test_tacs_voice_handoff_through_the_studio_flow_reaches_flex_with_its_summary(
    twilio, emulator, webhook_receiver, studio_flow_sid
):
    call = call_answered_by(emulator, webhook_receiver, tac_twiml(emulator, studio_flow_sid), "+15554440001")
    assert call.unsupported == []
    assert call.relay["action"] == (
        f"https://webhooks.twilio.com/v1/Accounts/{emulator.account.sid}/Flows/{studio_flow_sid}?Trigger=incomingCall"
    )
    end = json.loads(tac_end_message("wants a refund"))
    assert end["type"] == "end"
    callers.end_session(emulator, call.sid, end["handoffData"])

    assert call.status == "queued"
    attributes = json.loads(emulator.table("tasks")[call.task_sid]["attributes"])
    assert attributes["handoffData"]["attributes"] == {
        "department": "billing",
        "summary": SUMMARY,
        "reason": "wants a refund",
    }
    assert attributes["handoffData"]["conversationId"] == "conv_conversation_tac1"


def test_tacs_voice_handoff_to_the_kits_connect_action_reaches_flex_with_its_summary(
    twilio, emulator, webhook_receiver, runtimes
):
    runtime = runtimes()
    action = f"https://localhost:{runtime.port}/voice/{contract.CONNECT_ACTION}"
    call = call_answered_by(emulator, webhook_receiver, tac_twiml(emulator, None, action), "+15554440002")
    assert call.relay["action"] == action
    callers.end_session(emulator, call.sid, json.loads(tac_end_message("wants a refund"))["handoffData"])

    assert (call.status, call.unsupported) == ("queued", [])
    attributes = json.loads(emulator.table("tasks")[call.task_sid]["attributes"])
    assert (attributes["handoff"]["reason"], attributes["handoff"]["summary"]) == ("wants a refund", SUMMARY)
    assert attributes["callSid"] == call.sid
