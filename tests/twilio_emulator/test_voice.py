"""products/voice.py and callers.py: the account's numbers over the real twilio SDK, and a call played through its
TwiML: the voice URL requested signed, a ConversationRelay session ended by the AI, the action URL requested signed
with ConversationRelay's parameters, <Enqueue> making a voice task the agent helpers accept, unsupported TwiML
recorded."""

from __future__ import annotations

import json

import pytest

from twilio_emulator import agents, callers, seed_flex_account
from twilio_emulator.callbacks import signature
from twilio_emulator.products import studio
from twilio_emulator.products.voice import add_phone_number

NUMBER = "+15551230000"
CALLER = "+15557654321"


@pytest.fixture
def flex(emulator):
    return seed_flex_account(emulator)


@pytest.fixture
def relay_number(emulator, flex, webhook_receiver):
    """A number whose voice URL answers <Connect action=/action><ConversationRelay/>."""
    webhook_receiver.twiml["/incoming"] = (
        f'<Response><Connect action="{webhook_receiver.base}/action">'
        '<ConversationRelay url="wss://ai.example.com/relay" welcomeGreeting="Hi"/></Connect></Response>'
    )
    with emulator.lock:
        return add_phone_number(emulator, NUMBER, f"{webhook_receiver.base}/incoming")


def test_numbers_are_listed_fetched_and_pointed_through_the_sdk(twilio, emulator, flex):
    with emulator.lock:
        number = add_phone_number(emulator, NUMBER)
    (listed,) = twilio.incoming_phone_numbers.list(phone_number=NUMBER)
    assert (listed.sid, listed.voice_url) == (number["sid"], None)
    assert twilio.incoming_phone_numbers.list(phone_number="+15550000000") == []
    updated = twilio.incoming_phone_numbers(number["sid"]).update(
        voice_url="https://x.example.com/v", voice_method="POST"
    )
    assert updated.voice_url == "https://x.example.com/v"
    assert twilio.incoming_phone_numbers(number["sid"]).fetch().voice_url == "https://x.example.com/v"


def test_a_call_requests_the_voice_url_signed_and_starts_the_relay_session(emulator, relay_number, webhook_receiver):
    call = callers.incoming_call(emulator, NUMBER, CALLER)

    (request,) = webhook_receiver.received
    assert request["path"] == "/incoming"
    assert request["params"] == {
        "AccountSid": emulator.account.sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call.sid,
        "CallStatus": "ringing",
        "Called": NUMBER,
        "Caller": CALLER,
        "Direction": "inbound",
        "From": CALLER,
        "To": NUMBER,
    }
    url = f"{webhook_receiver.base}/incoming"
    assert request["signature"] == signature(emulator.account.auth_token, url, request["params"])
    assert call.status == "in-progress"
    assert (
        call.relay["url"] == "wss://ai.example.com/relay" and call.relay["action"] == f"{webhook_receiver.base}/action"
    )
    assert call.unsupported == []


def test_the_ais_end_with_handoff_data_requests_the_action_and_enqueue_makes_a_voice_task(
    emulator, flex, relay_number, webhook_receiver
):
    call = callers.incoming_call(emulator, NUMBER, CALLER)
    webhook_receiver.twiml["/action"] = (
        f'<Response><Enqueue workflowSid="{flex.workflow_sid}"><Task>{{"handoff": {{"reason": "refund"}}}}</Task>'
        "</Enqueue></Response>"
    )
    session_id = call.relay["session_id"]
    callers.end_session(emulator, call.sid, {"attributes": {"reason": "refund"}})

    action = webhook_receiver.received[-1]
    assert action["params"] | {"HandoffData": "…"} == {
        "AccountSid": emulator.account.sid,
        "ApiVersion": "2010-04-01",
        "CallSid": call.sid,
        "CallStatus": "in-progress",
        "Called": NUMBER,
        "Caller": CALLER,
        "Direction": "inbound",
        "From": CALLER,
        "To": NUMBER,
        "SessionId": session_id,
        "SessionStatus": "completed",
        "SessionDuration": "42",
        "HandoffData": "…",
    }
    assert json.loads(action["params"]["HandoffData"]) == {"attributes": {"reason": "refund"}}
    assert action["signature"] == signature(
        emulator.account.auth_token, f"{webhook_receiver.base}/action", action["params"]
    )
    assert call.status == "queued"
    task = emulator.table("tasks")[call.task_sid]
    assert task["task_channel_unique_name"] == "voice"
    assert json.loads(task["attributes"]) == {
        "handoff": {"reason": "refund"},
        "call_sid": call.sid,
        "account_sid": emulator.account.sid,
        "from": CALLER,
        "to": NUMBER,
        "caller": CALLER,
        "called": NUMBER,
        "direction": "inbound",
    }
    worker = agents.add_worker(emulator, "Alice")
    agents.accept(emulator, agents.offer(emulator, task["sid"], worker["sid"])["sid"])
    assert emulator.table("tasks")[task["sid"]]["assignment_status"] == "assigned"


def test_a_hang_up_tells_the_action_and_runs_nothing_it_answers(emulator, flex, relay_number, webhook_receiver):
    call = callers.incoming_call(emulator, NUMBER, CALLER)
    webhook_receiver.twiml["/action"] = (
        f'<Response><Enqueue workflowSid="{flex.workflow_sid}"><Task>{{}}</Task></Enqueue></Response>'
    )
    callers.hang_up(emulator, call.sid)
    action = webhook_receiver.received[-1]["params"]
    assert (action["SessionStatus"], action["CallStatus"]) == ("ended", "completed")
    assert (call.status, call.task_sid, emulator.table("tasks")) == ("completed", None, {})


def test_unsupported_twiml_is_recorded_not_ignored(emulator, flex, relay_number, webhook_receiver):
    call = callers.incoming_call(emulator, NUMBER, CALLER)
    webhook_receiver.twiml["/action"] = (
        '<Response><Say>One moment.</Say><Gather input="speech"/><Enqueue>support</Enqueue><Hangup/></Response>'
    )
    callers.end_session(emulator, call.sid)
    assert call.said == ["One moment."]
    assert call.unsupported == ["<Gather>", "<Enqueue> without a workflowSid of the account and one <Task>"]
    assert call.status == "completed"


def test_an_oversized_task_is_not_enqueued_and_the_call_goes_on(emulator, flex, relay_number, webhook_receiver):
    call = callers.incoming_call(emulator, NUMBER, CALLER)
    big = json.dumps({"summary": "x" * 17000})
    webhook_receiver.twiml["/action"] = (
        f'<Response><Enqueue workflowSid="{flex.workflow_sid}"><Task>{big}</Task></Enqueue><Say>Sorry.</Say></Response>'
    )
    callers.end_session(emulator, call.sid)
    assert (call.task_sid, call.said) == (None, ["Sorry."])
    assert call.unsupported == ["<Task> whose attributes are not a JSON object within 16 KB: not enqueued"]


def test_a_retried_action_runs_only_the_last_answer(emulator, flex, relay_number, webhook_receiver):
    call = callers.incoming_call(emulator, NUMBER, CALLER)
    webhook_receiver.twiml["/action"] = (
        f'<Response><Enqueue workflowSid="{flex.workflow_sid}"><Task>{{}}</Task></Enqueue></Response>'
    )
    callers.end_session(emulator, call.sid, "{}", attempts=2)
    assert [r["path"] for r in webhook_receiver.received] == ["/incoming", "/action", "/action"]
    assert len(emulator.table("tasks")) == 1


def test_a_studio_webhook_action_runs_the_flows_incoming_call_branch(emulator, flex, webhook_receiver):
    with emulator.lock:
        voice_channel = next(c for c in emulator.table("task_channels").values() if c["unique_name"] == "voice")
    definition = {
        "description": "voice",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [
            {
                "name": "Trigger",
                "type": "trigger",
                "properties": {},
                "transitions": [{"event": "incomingCall", "next": "to_flex"}],
            },
            {
                "name": "to_flex",
                "type": "send-to-flex",
                "properties": {
                    "workflow": flex.workflow_sid,
                    "channel": voice_channel["sid"],
                    "attributes": '{"handoffData": {{trigger.call.HandoffData}}}',
                },
                "transitions": [{"event": "callComplete"}],
            },
        ],
    }
    flow = studio.add_flow(emulator, "Agent Handoff", definition)
    webhook_receiver.twiml["/incoming"] = (
        f'<Response><Connect action="{flow["webhook_url"]}?Trigger=incomingCall">'
        '<ConversationRelay url="wss://ai.example.com/relay"/></Connect></Response>'
    )
    with emulator.lock:
        add_phone_number(emulator, NUMBER, f"{webhook_receiver.base}/incoming")
    call = callers.incoming_call(emulator, NUMBER, CALLER)
    callers.end_session(emulator, call.sid, {"attributes": {"summary": "Charged twice."}})

    task = emulator.table("tasks")[call.task_sid]
    assert json.loads(task["attributes"])["handoffData"] == {"attributes": {"summary": "Charged twice."}}
    assert task["task_channel_unique_name"] == "voice"
    assert call.status == "queued"
