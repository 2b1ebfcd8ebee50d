"""The emulated Conversations conversation (fetch and update),
through the real proxy with the real twilio Python SDK."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from twilio_emulator import FlexAccount, conversation_attributes, seed_flex_account, set_conversation_attributes
from twilio_emulator.products import conversations

CREATED = "2026-01-02T03:04:05Z"
UPDATED = "2026-01-02T03:09:05Z"
SERVICES = "https://conversations.twilio.com/v1/Services"
UNKNOWN_CONVERSATION = "CH" + "0" * 32


@pytest.fixture
def clock(monkeypatch) -> list[str]:
    """The Conversations clock: set `clock[0]` to move it."""
    now = [CREATED]
    monkeypatch.setattr(conversations, "now_iso", lambda: now[0])
    return now


@pytest.fixture
def flex(emulator, clock) -> FlexAccount:
    return seed_flex_account(emulator)


@pytest.fixture
def conversation(twilio, flex):
    return twilio.conversations.v1.services(flex.service_sid).conversations(flex.conversation_sid)


def expected_conversation(emulator, flex: FlexAccount, **fields) -> dict:
    url = f"{SERVICES}/{flex.service_sid}/Conversations/{flex.conversation_sid}"
    return {
        "account_sid": emulator.account.sid,
        "chat_service_sid": flex.service_sid,
        "messaging_service_sid": emulator.table("conversations")[flex.conversation_sid]["messaging_service_sid"],
        "sid": flex.conversation_sid,
        "friendly_name": "Customer chat with the AI Assistant",
        "unique_name": None,
        "attributes": "{}",
        "state": "active",
        "date_created": CREATED,
        "date_updated": CREATED,
        "timers": {},
        "url": url,
        "links": {name.lower(): f"{url}/{name}" for name in ("Participants", "Messages", "Webhooks", "Export")},
        "bindings": None,
        **fields,
    }


def last_answer(emulator) -> tuple[int, object]:
    recorded = emulator.requests[-1]
    return recorded.status, recorded.response


# Fetch --------------------------------------------------------------------------------------------------------


def test_a_conversation_answers_its_attributes_as_json_text(conversation, emulator, flex):
    set_conversation_attributes(emulator, flex.conversation_sid, {"handoff": {"claimed_by": "flex"}, "customer": "Ada"})
    fetched = conversation.fetch()
    text = '{"handoff":{"claimed_by":"flex"},"customer":"Ada"}'
    assert last_answer(emulator) == (200, expected_conversation(emulator, flex, attributes=text))
    assert fetched.attributes == text  # the SDK hands the text on; the caller parses it
    assert conversation_attributes(emulator, flex.conversation_sid) == {
        "handoff": {"claimed_by": "flex"},
        "customer": "Ada",
    }


def test_a_conversation_never_given_attributes_has_an_empty_object(conversation, emulator, flex):
    assert conversation.fetch().attributes == "{}"
    assert conversation_attributes(emulator, flex.conversation_sid) == {}


def test_the_seeding_helpers_know_only_existing_conversations(emulator, flex):
    with pytest.raises(KeyError):
        set_conversation_attributes(emulator, UNKNOWN_CONVERSATION, {})
    with pytest.raises(KeyError):
        conversation_attributes(emulator, UNKNOWN_CONVERSATION)


# Update -------------------------------------------------------------------------------------------------------


def test_attributes_are_replaced_whole_and_date_updated_moves(conversation, emulator, flex, clock):
    set_conversation_attributes(emulator, flex.conversation_sid, {"customer": "Ada", "handoff": {"claimed_by": "flex"}})
    clock[0] = UPDATED
    text = json.dumps({"handoff": {"task_sid": "WT" + "1" * 32}})

    updated = conversation.update(attributes=text)

    assert last_answer(emulator) == (200, expected_conversation(emulator, flex, attributes=text, date_updated=UPDATED))
    assert emulator.requests[-1].operation == "POST /v1/Services/{ChatServiceSid}/Conversations/{Sid}"
    assert updated.attributes == text  # kept exactly as the client wrote it, spaces and all
    assert conversation_attributes(emulator, flex.conversation_sid) == {
        "handoff": {"task_sid": "WT" + "1" * 32}
    }  # no merge
    assert updated.date_updated == datetime(2026, 1, 2, 3, 9, 5, tzinfo=UTC)
    assert conversation.fetch().attributes == text


@pytest.mark.parametrize("webhooks", ["true", "false"])
def test_the_webhook_header_is_accepted(conversation, emulator, flex, webhooks):
    conversation.update(attributes='{"step": 1}', x_twilio_webhook_enabled=webhooks)
    assert last_answer(emulator)[0] == 200
    assert conversation_attributes(emulator, flex.conversation_sid) == {"step": 1}


def test_every_described_field_is_updated(twilio, conversation, emulator, flex, clock):
    clock[0] = UPDATED
    messaging_service = "MG" + "2" * 32
    conversation.update(
        friendly_name="Ada's refund",
        unique_name="refund-ada",
        state="inactive",
        messaging_service_sid=messaging_service,
        timers_inactive="PT5M",
        timers_closed="P1DT1H",
        bindings_email_address="support@example.com",
        bindings_email_name="Support",
        date_created=datetime(2025, 12, 31, 23, 0, 0, tzinfo=UTC),
    )
    assert last_answer(emulator) == (
        200,
        expected_conversation(
            emulator,
            flex,
            friendly_name="Ada's refund",
            unique_name="refund-ada",
            state="inactive",
            messaging_service_sid=messaging_service,
            timers={"date_inactive": "2026-01-02T03:14:05Z", "date_closed": "2026-01-03T04:09:05Z"},
            bindings={"email": {"address": "support@example.com", "name": "Support"}},
            date_created="2025-12-31T23:00:00Z",
            date_updated=UPDATED,
        ),
    )
    updated = emulator.requests[-1].response
    by_name = twilio.conversations.v1.services(flex.service_sid).conversations(
        "refund-ada"
    )  # the unique name addresses it now
    assert by_name.fetch().sid == flex.conversation_sid
    assert last_answer(emulator) == (200, updated)
    assert by_name.update(friendly_name="Ada").friendly_name == "Ada"


def test_date_updated_may_be_given(conversation, emulator, flex):
    conversation.update(date_updated=datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC))
    assert last_answer(emulator)[1]["date_updated"] == "2026-02-01T00:00:00Z"


# Refusals -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["unknown", "another service"])
def test_an_unknown_conversation_is_404(twilio, emulator, refused, flex, which):
    if which == "unknown":
        service_sid, sid = flex.service_sid, UNKNOWN_CONVERSATION
    else:
        service_sid, sid = conversations.add_service(emulator, "Other service"), flex.conversation_sid
    conversation = twilio.conversations.v1.services(service_sid).conversations(sid)
    message = f"The requested resource /v1/Services/{service_sid}/Conversations/{sid} was not found"
    assert refused(conversation.fetch) == (404, 20404, message)
    assert refused(lambda: conversation.update(attributes="{}")) == (404, 20404, message)


def test_attributes_that_are_not_json_are_400_50304(conversation, emulator, refused, flex):
    before = dict(emulator.table("conversations")[flex.conversation_sid])
    assert refused(lambda: conversation.update(attributes="{not json", friendly_name="changed")) == (
        400,
        50304,
        "Attributes not valid JSON",
    )
    assert emulator.table("conversations")[flex.conversation_sid] == before  # nothing changed


def test_unique_name_rules(twilio, conversation, emulator, refused, flex):
    other = conversations.add_conversation(emulator, flex.service_sid, "Another customer")
    twilio.conversations.v1.services(flex.service_sid).conversations(other["sid"]).update(unique_name="taken")
    assert refused(lambda: conversation.update(unique_name="taken")) == (
        409,
        50353,
        "Conversation with provided unique name already exists",
    )
    assert refused(lambda: conversation.update(unique_name="CH" + "a" * 32)) == (
        400,
        50390,
        "Unique name should not match conversation sid pattern",
    )
    assert conversation.update(unique_name="mine").unique_name == "mine"
    assert conversation.update(unique_name="mine").unique_name == "mine"  # its own name is no conflict


@pytest.mark.parametrize(
    ("parameter", "value"), [("timers_inactive", "PT30S"), ("timers_closed", "PT9M"), ("timers_inactive", "5 minutes")]
)
def test_a_timer_that_is_not_a_long_enough_duration_is_400(conversation, emulator, refused, flex, parameter, value):
    status, code, message = refused(lambda: conversation.update(**{parameter: value}))
    assert (status, code) == (400, 20001)
    assert message.startswith(f"Invalid Timers.{parameter.split('_')[1].title()} {value!r}")
    assert emulator.table("conversations")[flex.conversation_sid]["timers"] == {}
