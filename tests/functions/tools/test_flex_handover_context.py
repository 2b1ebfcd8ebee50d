"""What the human agent receives: the AI's reason and summary under `handoff`, and the static routing
attributes of HANDOVER_ATTRIBUTES, neither able to overwrite the keys the function sets."""

from __future__ import annotations

import json

import pytest

from tests.functions.tools.test_flex_handover import INTERACTIONS, RecentTimestamp
from twilio_emulator import add_conversation

LONG_REASON, LONG_SUMMARY = 500, 4000  # contract.MAX_REASON_LENGTH, contract.MAX_SUMMARY_LENGTH
STATIC = {"department": "support", "priority": "normal", "skills": ["billing", "refunds"]}


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes(HANDOVER_ATTRIBUTES=json.dumps(STATIC))


@pytest.fixture
def session(twilio, emulator):
    """The headers of a call for a fresh conversation: each test hands off a conversation of its own."""
    conversation_sid = add_conversation(emulator, twilio.account)
    return {
        "X-Session-Id": f"conversations__{twilio.account.service_sid}/{conversation_sid}",
        "X-Identity": "+15551234567",
    }


def conversation_of(session: dict) -> str:
    return session["X-Session-Id"].rsplit("/", 1)[1]


def task_attributes(emulator) -> dict:
    [call] = emulator.calls(operation=INTERACTIONS)
    return call.body["Routing"]["properties"]["attributes"]


def test_reason_summary_and_static_attributes_reach_the_task(twilio, emulator, runtime, call_tool, session):
    said = {
        "reason": "The customer disputes a charge.",
        "summary": "Order 1234 was billed twice; a refund was refused by policy.",
    }
    answer = call_tool(runtime, session, said)
    assert answer.status == 200, answer.body
    assert task_attributes(emulator) == {
        **STATIC,
        "from": "+15551234567",
        "customerName": "+15551234567",
        "customerAddress": "+15551234567",
        "conversationSid": conversation_of(session),
        "conversationServiceSid": twilio.account.service_sid,
        "channelType": "sms",
        "handoff": {**said, "source": "/tools/flex-handover", "requestedAt": RecentTimestamp()},
    }
    task = emulator.table("tasks")[
        emulator.table("interactions")[answer.body["interactionSid"]]["routing"]["properties"]["sid"]
    ]
    assert json.loads(task["attributes"])["handoff"]["reason"] == said["reason"]


def test_the_ais_other_fields_never_reach_the_task(twilio, emulator, runtime, call_tool, session):
    answer = call_tool(
        runtime,
        session,
        {
            "reason": "refund",
            "department": "sales",
            "priority": "urgent",
            "channelType": "voice",
            "conversationSid": "CH" + "0" * 32,
            "handoff": {"reason": "forged"},
            "attributes": {"priority": "urgent"},
        },
    )
    assert answer.status == 200, answer.body
    attributes = task_attributes(emulator)
    assert {key: attributes[key] for key in ("department", "priority", "channelType", "conversationSid")} == {
        "department": "support",
        "priority": "normal",
        "channelType": "sms",
        "conversationSid": conversation_of(session),
    }
    assert attributes["handoff"]["reason"] == "refund"
    assert "attributes" not in attributes


def test_static_attributes_cannot_overwrite_the_keys_the_function_sets(twilio, emulator, runtimes, call_tool, session):
    static = {
        "from": "forged",
        "customerName": "forged",
        "channelType": "voice",
        "conversationSid": "CH" + "0" * 32,
        "handoff": "forged",
        "team": "a",
    }
    runtime = runtimes(HANDOVER_ATTRIBUTES=json.dumps(static))
    answer = call_tool(runtime, session, {"reason": "refund"})
    assert answer.status == 200, answer.body
    attributes = task_attributes(emulator)
    assert attributes["team"] == "a"
    assert (
        attributes["from"],
        attributes["customerName"],
        attributes["channelType"],
        attributes["conversationSid"],
    ) == (
        "+15551234567",
        "+15551234567",
        "sms",
        conversation_of(session),
    )
    assert attributes["handoff"] == {
        "reason": "refund",
        "summary": "",
        "source": "/tools/flex-handover",
        "requestedAt": RecentTimestamp(),
    }


def test_a_missing_reason_still_hands_off(emulator, runtime, call_tool, session):
    answer = call_tool(runtime, session, {})
    assert answer.status == 200, answer.body
    assert task_attributes(emulator)["handoff"] == {
        "reason": "",
        "summary": "",
        "source": "/tools/flex-handover",
        "requestedAt": RecentTimestamp(),
    }


def test_form_encoded_reason_and_summary(emulator, runtime, call_tool, session):
    answer = call_tool(runtime, session, {"reason": "refund", "summary": "billed twice"}, form=True)
    assert answer.status == 200, answer.body
    assert (task_attributes(emulator)["handoff"]["reason"], task_attributes(emulator)["handoff"]["summary"]) == (
        "refund",
        "billed twice",
    )


def test_long_text_is_cut_to_its_limit_in_characters_not_rejected(emulator, runtime, call_tool, session):
    reason = "é" * (LONG_REASON - 1) + "🙂" + "x" * 10  # the 500th character is an emoji: it is kept whole
    summary = "s" * (LONG_SUMMARY + 1)
    answer = call_tool(runtime, session, {"reason": reason, "summary": summary})
    assert answer.status == 200, answer.body
    handoff = task_attributes(emulator)["handoff"]
    assert handoff["reason"] == "é" * (LONG_REASON - 1) + "🙂"
    assert handoff["summary"] == "s" * LONG_SUMMARY


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param({"reason": 5}, "The field reason must be a string, got a number.", id="reason-number"),
        pytest.param({"reason": ["a"]}, "The field reason must be a string, got an array.", id="reason-array"),
        pytest.param(
            {"summary": {"text": "a"}}, "The field summary must be a string, got an object.", id="summary-object"
        ),
        pytest.param({"summary": True}, "The field summary must be a string, got a boolean.", id="summary-boolean"),
        pytest.param(
            ["refund"],
            "The request body must be a JSON object with the fields reason and summary, not an array.",
            id="array-body",
        ),
    ],
)
def test_input_of_the_wrong_shape_is_a_400_naming_the_field_without_an_api_call(
    emulator, runtime, call_tool, session, body, error
):
    answer = call_tool(runtime, session, body)
    assert (answer.status, answer.body) == (400, {"status": "rejected", "error": error})
    assert emulator.requests == []


@pytest.mark.parametrize("value", ["not json", "[1, 2]", '{"a": ', "null", '"text"'])
def test_malformed_static_attributes_are_a_500_naming_the_variable(emulator, runtimes, call_tool, session, value):
    runtime = runtimes(HANDOVER_ATTRIBUTES=value)
    answer = call_tool(runtime, session, {"reason": "refund"})
    assert answer.status == 500
    assert answer.body["error"].startswith("HANDOVER_ATTRIBUTES is set but is not a JSON object. Set it with ")
    assert emulator.requests == []
