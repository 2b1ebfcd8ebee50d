"""The emulated Conversations conversation (fetch and update), its participants and its messages, through the real
proxy with the real twilio Python SDK (their webhooks: test_conversation_webhooks.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from twilio_emulator import (
    FlexAccount,
    TwilioError,
    add_participant,
    conversation_attributes,
    customer_writes,
    messages_of,
    participants_of,
    remove_participant,
    seed_flex_account,
    set_conversation_attributes,
)
from twilio_emulator.products import conversation_messages, conversation_participants, conversations

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


def test_a_closed_conversation_is_final(conversation, emulator, flex, refused):
    conversation.update(state="closed")
    assert refused(lambda: conversation.update(friendly_name="reopened?")) == (
        400,
        50377,
        "Can't update conversation as it's in final closed state",
    )
    assert (
        emulator.table("conversations")[flex.conversation_sid]["friendly_name"] == "Customer chat with the AI Assistant"
    )


# Participants -------------------------------------------------------------------------------------------------

CUSTOMER = "+15551230001"
TWILIO_NUMBER = "+15005550006"


def expected_participant(emulator, flex: FlexAccount, sid: str, **fields) -> dict:
    return {
        "account_sid": emulator.account.sid,
        "chat_service_sid": flex.service_sid,
        "conversation_sid": flex.conversation_sid,
        "sid": sid,
        "identity": None,
        "attributes": "{}",
        "messaging_binding": None,
        "role_sid": None,
        "date_created": CREATED,
        "date_updated": CREATED,
        "url": f"{SERVICES}/{flex.service_sid}/Conversations/{flex.conversation_sid}/Participants/{sid}",
        "last_read_message_index": None,
        "last_read_timestamp": None,
        **fields,
    }


@pytest.fixture
def participants_clock(monkeypatch, clock):
    monkeypatch.setattr(conversation_participants, "now_iso", lambda: clock[0])
    monkeypatch.setattr(conversation_messages, "now_iso", lambda: clock[0])


@pytest.mark.usefixtures("participants_clock")
def test_participants_are_created_listed_fetched_and_deleted(conversation, emulator, flex, refused):
    customer = conversation.participants.create(
        messaging_binding_address=CUSTOMER,
        messaging_binding_proxy_address=TWILIO_NUMBER,
        attributes='{"role": "customer"}',
        x_twilio_webhook_enabled="true",
    )
    sms = expected_participant(
        emulator,
        flex,
        customer.sid,
        attributes='{"role": "customer"}',
        messaging_binding={"type": "sms", "address": CUSTOMER, "proxy_address": TWILIO_NUMBER},
    )
    assert last_answer(emulator) == (201, sms)
    agent = conversation.participants.create(identity="agent@example.com")
    chat = expected_participant(emulator, flex, agent.sid, identity="agent@example.com")
    assert last_answer(emulator) == (201, chat)

    assert [p.sid for p in conversation.participants.list()] == [customer.sid, agent.sid]
    conversation.participants("agent@example.com").fetch()  # by identity, as Twilio's example does
    assert last_answer(emulator) == (200, chat)

    assert conversation.participants(agent.sid).delete() is True
    assert last_answer(emulator) == (204, None)
    assert refused(conversation.participants(agent.sid).fetch) == (404, 50432, "Participant not found")
    assert [p.sid for p in conversation.participants.list()] == [customer.sid]


@pytest.mark.usefixtures("participants_clock")
def test_a_whatsapp_address_is_a_whatsapp_binding(emulator, flex):
    joined = add_participant(emulator, flex.conversation_sid, address="whatsapp:" + CUSTOMER)
    assert joined == expected_participant(
        emulator, flex, joined["sid"], messaging_binding={"type": "whatsapp", "address": "whatsapp:" + CUSTOMER}
    )


@pytest.mark.parametrize(
    ("create", "status", "code", "message"),
    [
        ({"identity": "agent@example.com"}, 409, 50433, "Participant already exists"),
        ({"messaging_binding_address": ""}, 400, 50411, "Participant address is empty"),
        (
            {"messaging_binding_address": CUSTOMER, "messaging_binding_proxy_address": CUSTOMER},
            400,
            50409,
            "Participant address equals proxy address",
        ),
        ({"attributes": "{nope", "identity": "new"}, 400, 50304, "Attributes not valid JSON"),
        ({"attributes": "{}"}, 400, 20001, "Either Identity or MessagingBinding.Address must be given"),
    ],
)
def test_a_participant_twilio_refuses(conversation, emulator, flex, refused, create, status, code, message):
    add_participant(emulator, flex.conversation_sid, identity="agent@example.com")
    assert refused(lambda: conversation.participants.create(**create)) == (status, code, message)
    assert len(participants_of(emulator, flex.conversation_sid)) == 1


def test_an_address_pair_in_another_open_conversation_is_409_50416(twilio, conversation, emulator, flex, refused):
    other = conversations.add_conversation(emulator, flex.service_sid, "Earlier chat")
    pair = {"messaging_binding_address": CUSTOMER, "messaging_binding_proxy_address": TWILIO_NUMBER}
    twilio.conversations.v1.services(flex.service_sid).conversations(other["sid"]).participants.create(**pair)
    assert refused(lambda: conversation.participants.create(**pair)) == (
        409,
        50416,
        "Participant and proxy address pair is already in use",
    )
    other["state"] = "closed"  # a closed conversation frees the pair
    assert conversation.participants.create(**pair).messaging_binding["address"] == CUSTOMER


def test_a_closed_conversation_takes_no_participant(conversation, emulator, flex, refused):
    conversation.update(state="closed")
    assert refused(lambda: conversation.participants.create(identity="late"))[:2] == (400, 50377)
    with pytest.raises(TwilioError):
        add_participant(emulator, flex.conversation_sid, identity="late")
    assert participants_of(emulator, flex.conversation_sid) == []


def test_the_participant_helpers_play_an_agent_joining_and_leaving(conversation, emulator, flex):
    agent = add_participant(emulator, flex.conversation_sid, identity="agent@example.com", attributes='{"agent": true}')
    assert (agent["identity"], agent["attributes"]) == ("agent@example.com", '{"agent": true}')
    assert conversation.participants(agent["sid"]).fetch().identity == "agent@example.com"
    remove_participant(emulator, flex.conversation_sid, agent["sid"])
    assert participants_of(emulator, flex.conversation_sid) == []
    with pytest.raises(KeyError):
        remove_participant(emulator, flex.conversation_sid, agent["sid"])
    with pytest.raises(KeyError):
        add_participant(emulator, UNKNOWN_CONVERSATION, identity="agent@example.com")


# Messages -----------------------------------------------------------------------------------------------------


def expected_message(emulator, flex: FlexAccount, sid: str, **fields) -> dict:
    url = f"{SERVICES}/{flex.service_sid}/Conversations/{flex.conversation_sid}/Messages/{sid}"
    return {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "chat_service_sid": flex.service_sid,
        "conversation_sid": flex.conversation_sid,
        "body": None,
        "media": None,
        "author": "system",
        "participant_sid": None,
        "attributes": "{}",
        "date_created": CREATED,
        "date_updated": CREATED,
        "index": 0,
        "delivery": None,
        "content_sid": None,
        "url": url,
        "links": {"delivery_receipts": f"{url}/Receipts", "channel_metadata": f"{url}/ChannelMetadata"},
        **fields,
    }


@pytest.mark.usefixtures("participants_clock")
def test_messages_are_created_listed_and_fetched(conversation, emulator, flex, refused):
    agent = add_participant(emulator, flex.conversation_sid, identity="agent@example.com")
    first = conversation.messages.create(body="Welcome", attributes='{"kind": "greeting"}')
    welcome = expected_message(emulator, flex, first.sid, body="Welcome", attributes='{"kind": "greeting"}')
    assert last_answer(emulator) == (201, welcome)
    second = conversation.messages.create(author="agent@example.com", body="I'm Grace")
    reply = expected_message(
        emulator, flex, second.sid, body="I'm Grace", author="agent@example.com", participant_sid=agent["sid"], index=1
    )
    assert last_answer(emulator) == (201, reply)

    assert [m.sid for m in conversation.messages.list()] == [first.sid, second.sid]
    assert last_answer(emulator)[1]["messages"] == [welcome, reply]
    assert [m.sid for m in conversation.messages.list(order="desc")] == [second.sid, first.sid]
    conversation.messages(second.sid).fetch()
    assert last_answer(emulator) == (200, reply)
    assert messages_of(emulator, flex.conversation_sid) == [welcome, reply]

    unknown = "IM" + "0" * 32
    path = f"/v1/Services/{flex.service_sid}/Conversations/{flex.conversation_sid}/Messages/{unknown}"
    assert refused(conversation.messages(unknown).fetch) == (404, 20404, f"The requested resource {path} was not found")


@pytest.mark.parametrize(
    ("create", "code", "message"),
    [
        ({"body": "x", "attributes": "{nope"}, 50304, "Attributes not valid JSON"),
        ({"media_sid": "ME" + "1" * 32}, 20001, "Invalid MediaSid: the Twilio emulator keeps no media"),
    ],
)
def test_a_message_twilio_or_the_emulator_refuses(conversation, emulator, flex, refused, create, code, message):
    assert refused(lambda: conversation.messages.create(**create)) == (400, code, message)
    assert messages_of(emulator, flex.conversation_sid) == []


def test_an_initializing_conversation_takes_no_message(conversation, emulator, flex, refused):
    emulator.table("conversations")[flex.conversation_sid]["state"] = "initializing"
    assert refused(lambda: conversation.messages.create(body="too early")) == (
        400,
        50386,
        "Conversation in 'initializing' state may not be updated or used for message sending",
    )


@pytest.mark.usefixtures("participants_clock")
def test_customer_writes_as_the_first_participant_or_the_one_named(emulator, flex):
    customer = add_participant(emulator, flex.conversation_sid, address=CUSTOMER)
    agent = add_participant(emulator, flex.conversation_sid, identity="agent@example.com")
    first = customer_writes(emulator, flex.conversation_sid, "I need help")
    assert first == expected_message(
        emulator, flex, first["sid"], body="I need help", author=CUSTOMER, participant_sid=customer["sid"]
    )
    second = customer_writes(emulator, flex.conversation_sid, "On it", author="agent@example.com")
    assert (second["author"], second["participant_sid"], second["index"]) == ("agent@example.com", agent["sid"], 1)
    assert messages_of(emulator, flex.conversation_sid) == [first, second]


def test_customer_writes_needs_a_participant(emulator, flex):
    with pytest.raises(ValueError, match="add_participant first"):
        customer_writes(emulator, flex.conversation_sid, "Hello?")
    add_participant(emulator, flex.conversation_sid, address=CUSTOMER)
    with pytest.raises(ValueError, match=r"writes as \+15559999999"):
        customer_writes(emulator, flex.conversation_sid, "Hello?", author="+15559999999")
    with pytest.raises(KeyError):
        customer_writes(emulator, UNKNOWN_CONVERSATION, "Hello?")
