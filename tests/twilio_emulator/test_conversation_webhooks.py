"""Conversations webhooks, through the real proxy with the real twilio Python SDK: conversation-scoped webhooks and the
service's and account's configuration as Twilio answers them, and the signed onMessageAdded webhooks a message
delivers to a loopback receiver."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from twilio.request_validator import RequestValidator

from tests.webhook_receiver import Receiver
from twilio_emulator import FlexAccount, TwilioError, add_participant, customer_writes, seed_flex_account
from twilio_emulator.products import (
    conversation_messages,
    conversation_participants,
    conversation_webhooks,
    conversations,
)

CREATED = "2026-01-02T03:04:05Z"
UPDATED = "2026-01-02T03:09:05Z"
SERVICES = "https://conversations.twilio.com/v1/Services"
CUSTOMER = "+15551230001"
FLOW_SID = "FW" + "1" * 32
UNKNOWN_WEBHOOK = "WH" + "0" * 32


@pytest.fixture
def clock(monkeypatch) -> list[str]:
    """The Conversations clock: set `clock[0]` to move it."""
    now = [CREATED]
    for module in (conversations, conversation_participants, conversation_messages, conversation_webhooks):
        monkeypatch.setattr(module, "now_iso", lambda: now[0])
    return now


@pytest.fixture
def flex(emulator, clock) -> FlexAccount:
    return seed_flex_account(emulator)


@pytest.fixture
def receiver(webhook_receiver) -> Receiver:
    return webhook_receiver


@pytest.fixture
def conversation(twilio, flex):
    return twilio.conversations.v1.services(flex.service_sid).conversations(flex.conversation_sid)


@pytest.fixture
def customer(emulator, flex) -> dict:
    """The customer, on SMS: the conversation's first participant."""
    return add_participant(emulator, flex.conversation_sid, address=CUSTOMER)


def conversation_url(flex: FlexAccount) -> str:
    return f"{SERVICES}/{flex.service_sid}/Conversations/{flex.conversation_sid}"


def last_answer(emulator) -> tuple[int, object]:
    recorded = emulator.requests[-1]
    return recorded.status, recorded.response


def delivered(emulator, receiver: Receiver) -> list[dict]:
    """What the receiver got once the emulator has sent everything, each checked to be signed by the account."""
    assert emulator.outbox.wait_idle(10)
    validator = RequestValidator(emulator.account.auth_token)
    for got in receiver.received:
        if got["method"] == "GET":
            assert validator.validate(receiver.base + got["path"], {}, got["signature"])
        else:
            assert validator.validate(receiver.base + got["path"], got["params"], got["signature"])
    return list(receiver.received)


def message_added(emulator, flex: FlexAccount, message: dict, source: str, **more: str) -> dict:
    """The onMessageAdded parameters Twilio documents for this message."""
    conversation = emulator.table("conversations")[flex.conversation_sid]
    parameters = {
        "EventType": "onMessageAdded",
        "AccountSid": emulator.account.sid,
        "ChatServiceSid": flex.service_sid,
        "ConversationSid": flex.conversation_sid,
        "MessagingServiceSid": conversation["messaging_service_sid"],
        "MessageSid": message["sid"],
        "Index": str(message["index"]),
        "DateCreated": "2026-01-02T03:04:05.000Z",
        "Author": message["author"],
        "Body": message["body"],
        "Attributes": message["attributes"],
        "Source": source,
        "RetryCount": "0",
    }
    if message["participant_sid"]:
        parameters["ParticipantSid"] = message["participant_sid"]
    return parameters | more


def scoped_webhook(conversation, url: str, method: str = "post", filters=("onMessageAdded",), **configuration):
    return conversation.webhooks.create(
        target="webhook",
        configuration_url=url,
        configuration_method=method,
        configuration_filters=list(filters),
        **configuration,
    )


# Conversation-scoped webhooks: create, fetch, list, update, delete ----------------------------------------------


def expected_webhook(emulator, flex: FlexAccount, sid: str, target: str, configuration: dict, **fields) -> dict:
    return {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "chat_service_sid": flex.service_sid,
        "conversation_sid": flex.conversation_sid,
        "target": target,
        "url": f"{conversation_url(flex)}/Webhooks/{sid}",
        "configuration": configuration,
        "date_created": CREATED,
        "date_updated": CREATED,
        **fields,
    }


def test_a_webhook_target_is_created_fetched_listed_updated_and_deleted(conversation, emulator, flex, clock, refused):
    created = scoped_webhook(conversation, "http://127.0.0.1:9/bot", filters=["onMessageAdded", "onMessageUpdated"])
    configuration = {
        "url": "http://127.0.0.1:9/bot",
        "method": "post",
        "filters": ["onMessageAdded", "onMessageUpdated"],
    }
    expected = expected_webhook(emulator, flex, created.sid, "webhook", configuration)
    assert last_answer(emulator) == (201, expected)
    assert created.sid.startswith("WH") and created.configuration == configuration

    conversation.webhooks(created.sid).fetch()
    assert last_answer(emulator) == (200, expected)

    assert [w.sid for w in conversation.webhooks.list()] == [created.sid]
    listing = f"{conversation_url(flex)}/Webhooks?PageSize=5&Page=0"
    meta = {
        "page": 0,
        "page_size": 5,
        "first_page_url": listing,
        "previous_page_url": None,
        "url": listing,
        "next_page_url": None,
        "key": "webhooks",
    }
    assert last_answer(emulator) == (200, {"webhooks": [expected], "meta": meta})

    clock[0] = UPDATED
    conversation.webhooks(created.sid).update(configuration_filters=["onMessageAdded"], configuration_method="get")
    updated = {**configuration, "method": "get", "filters": ["onMessageAdded"]}
    assert last_answer(emulator) == (
        200,
        expected_webhook(emulator, flex, created.sid, "webhook", updated, date_updated=UPDATED),
    )

    assert conversation.webhooks(created.sid).delete() is True
    assert last_answer(emulator) == (204, None)
    assert refused(conversation.webhooks(created.sid).fetch) == (404, 50360, "Conversation webhook not found")
    assert conversation.webhooks.list() == []


def test_a_studio_target_answers_its_flow_and_a_trigger_target_its_keywords(conversation, emulator, flex):
    studio = conversation.webhooks.create(target="studio", configuration_flow_sid=FLOW_SID)
    assert last_answer(emulator) == (
        201,
        expected_webhook(emulator, flex, studio.sid, "studio", {"flow_sid": FLOW_SID}),
    )
    trigger = conversation.webhooks.create(
        target="trigger", configuration_url="http://127.0.0.1:9/keywords", configuration_triggers=["agent", "human"]
    )
    configuration = {"url": "http://127.0.0.1:9/keywords", "method": "post", "triggers": ["agent", "human"]}
    assert last_answer(emulator) == (201, expected_webhook(emulator, flex, trigger.sid, "trigger", configuration))


def test_replay_after_is_answered_in_the_configuration(conversation, emulator, flex):
    scoped_webhook(conversation, "http://127.0.0.1:9/bot", configuration_replay_after=0)
    assert last_answer(emulator)[1]["configuration"] == {
        "url": "http://127.0.0.1:9/bot",
        "method": "post",
        "filters": ["onMessageAdded"],
        "replay_after": 0,
    }


# Refusals, with Twilio's documented codes -----------------------------------------------------------------------

LONG_URL = "http://127.0.0.1:9/" + "x" * 494  # 513 characters


@pytest.mark.parametrize(
    ("configuration", "code", "message"),
    [
        (
            {"target": "webhook", "configuration_filters": ["onMessageAdded"]},
            50369,
            "Conversation webhook URL not provided",
        ),
        ({"target": "trigger", "configuration_triggers": ["agent"]}, 50369, "Conversation webhook URL not provided"),
        (
            {"target": "webhook", "configuration_url": LONG_URL, "configuration_filters": ["onMessageAdded"]},
            50372,
            "Conversation webhook URL is too long",
        ),
        (
            {"target": "webhook", "configuration_url": "http://127.0.0.1:9/bot"},
            50370,
            "Conversation webhook filter not provided",
        ),
        (
            {
                "target": "webhook",
                "configuration_url": "http://127.0.0.1:9/bot",
                "configuration_filters": ["onMessageAdd"],
            },
            50365,
            "Invalid conversation webhook filter: onMessageAdd",
        ),
        (
            {"target": "trigger", "configuration_url": "http://127.0.0.1:9/bot"},
            50371,
            "Conversation webhook trigger not provided",
        ),
        (
            {
                "target": "trigger",
                "configuration_url": "http://127.0.0.1:9/bot",
                "configuration_triggers": list("abcdef"),
            },
            50362,
            "Too many conversation webhook triggers",
        ),
        (
            {"target": "trigger", "configuration_url": "http://127.0.0.1:9/bot", "configuration_triggers": ["k" * 249]},
            50366,
            "Invalid conversation webhook trigger",
        ),
        (
            {"target": "studio"},
            50367,
            "Invalid conversation webhook flow SID: Configuration.FlowSid is required",
        ),
    ],
)
def test_a_webhook_that_breaks_twilios_rules_is_refused(conversation, emulator, refused, configuration, code, message):
    assert refused(lambda: conversation.webhooks.create(**configuration)) == (400, code, message)
    assert emulator.table("conversation_scoped_webhooks") == {}


def test_a_conversation_takes_five_webhooks_not_six(conversation, emulator, refused):
    for n in range(5):
        scoped_webhook(conversation, f"http://127.0.0.1:9/bot{n}")
    assert refused(lambda: scoped_webhook(conversation, "http://127.0.0.1:9/sixth")) == (
        400,
        50361,
        "Too many conversation webhooks",
    )
    assert len(conversation.webhooks.list()) == 5


def test_an_update_is_checked_as_a_create_and_changes_nothing_when_refused(conversation, emulator, refused):
    created = scoped_webhook(conversation, "http://127.0.0.1:9/bot")
    before = dict(emulator.table("conversation_scoped_webhooks")[created.sid])
    assert refused(lambda: conversation.webhooks(created.sid).update(configuration_url=LONG_URL)) == (
        400,
        50372,
        "Conversation webhook URL is too long",
    )
    assert emulator.table("conversation_scoped_webhooks")[created.sid] == before


def test_an_unknown_webhook_or_another_conversations_is_404_50360(twilio, conversation, emulator, flex, refused):
    other = twilio.conversations.v1.services(flex.service_sid).conversations(
        conversations.add_conversation(emulator, flex.service_sid, "Another customer")["sid"]
    )
    theirs = scoped_webhook(other, "http://127.0.0.1:9/theirs")
    for sid in (UNKNOWN_WEBHOOK, theirs.sid):
        webhook = conversation.webhooks(sid)
        expected = (404, 50360, "Conversation webhook not found")
        assert refused(webhook.fetch) == expected
        assert refused(lambda webhook=webhook: webhook.update(configuration_url="http://127.0.0.1:9/x")) == expected
        assert refused(webhook.delete) == expected
    assert other.webhooks(theirs.sid).fetch().sid == theirs.sid


def test_a_target_the_description_does_not_list_is_refused_by_its_enum(conversation, emulator, refused):
    status, code, _ = refused(
        lambda: conversation.webhooks.create(target="flex", configuration_url="http://127.0.0.1:9/bot")
    )
    assert (status, code) == (400, 20001)  # Twilio's own 50364 is never reached: the description refuses it first
    assert [v.kind for v in emulator.violations] == ["request"]
    emulator.violations.clear()


# onMessageAdded ------------------------------------------------------------------------------------------------


def test_a_customer_message_reaches_the_scoped_webhook_signed_with_twilios_parameters(
    conversation, emulator, flex, receiver, customer
):
    webhook = scoped_webhook(conversation, f"{receiver.base}/bot")

    message = customer_writes(emulator, flex.conversation_sid, "I want a human")

    (got,) = delivered(emulator, receiver)
    assert (got["method"], got["path"]) == ("POST", "/bot")
    assert got["content_type"].startswith("application/x-www-form-urlencoded")
    assert got["params"] == message_added(emulator, flex, message, "SMS", WebhookSid=webhook.sid, WebhookType="webhook")
    assert (message["author"], message["participant_sid"]) == (CUSTOMER, customer["sid"])
    assert [(c.source, c.delivered) for c in emulator.outbox.sent] == [("conversations.onMessageAdded", True)]


def test_a_get_webhook_is_sent_its_parameters_in_the_query_signed_over_the_url(
    conversation, emulator, flex, receiver, customer
):
    webhook = scoped_webhook(conversation, f"{receiver.base}/bot?tenant=1", method="get")
    message = customer_writes(emulator, flex.conversation_sid, "Hello")
    (got,) = delivered(emulator, receiver)
    query = dict(parse_qsl(urlsplit(got["path"]).query))
    assert (got["method"], urlsplit(got["path"]).path) == ("GET", "/bot")
    assert query == {
        "tenant": "1",
        **message_added(emulator, flex, message, "SMS", WebhookSid=webhook.sid, WebhookType="webhook"),
    }


def test_a_chat_customer_is_source_sdk_with_its_client_identity(conversation, emulator, flex, receiver):
    add_participant(emulator, flex.conversation_sid, identity=flex.webchat_identity)
    webhook = scoped_webhook(conversation, f"{receiver.base}/bot")
    message = customer_writes(emulator, flex.conversation_sid, "Hi from the web")
    (got,) = delivered(emulator, receiver)
    assert got["params"] == message_added(
        emulator,
        flex,
        message,
        "SDK",
        ClientIdentity=flex.webchat_identity,
        WebhookSid=webhook.sid,
        WebhookType="webhook",
    )


def test_the_service_post_webhook_is_sent_the_message_when_its_filters_name_it(
    twilio, emulator, flex, receiver, customer
):
    twilio.conversations.v1.services(flex.service_sid).configuration.webhooks().update(
        post_webhook_url=f"{receiver.base}/service", filters=["onMessageAdded"], method="POST"
    )
    message = customer_writes(emulator, flex.conversation_sid, "Hello service")
    (got,) = delivered(emulator, receiver)
    assert (got["method"], got["path"]) == ("POST", "/service")
    assert got["params"] == message_added(emulator, flex, message, "SMS")


def test_the_service_webhook_without_onmessageadded_in_its_filters_is_sent_nothing(
    twilio, emulator, flex, receiver, customer
):
    twilio.conversations.v1.services(flex.service_sid).configuration.webhooks().update(
        post_webhook_url=f"{receiver.base}/service", filters=["onConversationUpdated"]
    )
    customer_writes(emulator, flex.conversation_sid, "Hello")
    assert delivered(emulator, receiver) == [] and emulator.outbox.sent == []


def test_both_the_scoped_and_the_service_webhook_are_sent_the_message(
    twilio, conversation, emulator, flex, receiver, customer
):
    scoped_webhook(conversation, f"{receiver.base}/bot")
    twilio.conversations.v1.services(flex.service_sid).configuration.webhooks().update(
        post_webhook_url=f"{receiver.base}/service", filters=["onMessageAdded"]
    )
    customer_writes(emulator, flex.conversation_sid, "Hello")
    assert sorted(got["path"] for got in delivered(emulator, receiver)) == ["/bot", "/service"]


def test_a_deleted_webhook_is_sent_nothing(conversation, emulator, flex, receiver, customer):
    webhook = scoped_webhook(conversation, f"{receiver.base}/bot")
    conversation.webhooks(webhook.sid).delete()
    customer_writes(emulator, flex.conversation_sid, "Anyone there?")
    assert delivered(emulator, receiver) == [] and emulator.outbox.sent == []


def test_a_webhook_whose_filters_lack_onmessageadded_is_sent_nothing(conversation, emulator, flex, receiver, customer):
    scoped_webhook(conversation, f"{receiver.base}/bot", filters=["onParticipantAdded"])
    customer_writes(emulator, flex.conversation_sid, "Hello")
    assert delivered(emulator, receiver) == [] and emulator.outbox.sent == []


def test_studio_and_trigger_targets_are_not_called(conversation, emulator, flex, receiver, customer):
    conversation.webhooks.create(target="studio", configuration_flow_sid=FLOW_SID)
    conversation.webhooks.create(
        target="trigger", configuration_url=f"{receiver.base}/keywords", configuration_triggers=["human"]
    )
    customer_writes(emulator, flex.conversation_sid, "human please")
    assert delivered(emulator, receiver) == [] and emulator.outbox.sent == []


def test_a_rest_message_triggers_webhooks_only_with_x_twilio_webhook_enabled(
    conversation, emulator, flex, receiver, customer
):
    webhook = scoped_webhook(conversation, f"{receiver.base}/bot")

    conversation.messages.create(author="bot", body="Let me check")
    conversation.messages.create(author="bot", body="Still checking", x_twilio_webhook_enabled="false")
    assert delivered(emulator, receiver) == [] and emulator.outbox.sent == []

    conversation.messages.create(author="bot", body="Done", x_twilio_webhook_enabled="true")
    message = emulator.requests[-1].response
    (got,) = delivered(emulator, receiver)
    assert got["params"] == message_added(emulator, flex, message, "API", WebhookSid=webhook.sid, WebhookType="webhook")
    assert "ParticipantSid" not in got["params"]  # the bot is no participant


def test_replay_after_sends_the_messages_from_that_index_at_once(conversation, emulator, flex, receiver, customer):
    first = customer_writes(emulator, flex.conversation_sid, "one")
    second = customer_writes(emulator, flex.conversation_sid, "two")
    assert first["index"] == 0 and second["index"] == 1

    webhook = scoped_webhook(conversation, f"{receiver.base}/bot", configuration_replay_after=1)

    (got,) = delivered(emulator, receiver)
    assert got["params"] == message_added(emulator, flex, second, "SMS", WebhookSid=webhook.sid, WebhookType="webhook")


def test_a_closed_conversation_refuses_messages_and_sends_nothing(
    conversation, emulator, flex, receiver, customer, refused
):
    scoped_webhook(conversation, f"{receiver.base}/bot")
    conversation.update(state="closed")
    expected = (400, 50377, "Can't update conversation as it's in final closed state")

    assert refused(lambda: conversation.messages.create(body="late", x_twilio_webhook_enabled="true")) == expected
    with pytest.raises(TwilioError) as raised:
        customer_writes(emulator, flex.conversation_sid, "hello?")
    assert (raised.value.status, raised.value.code) == expected[:2]
    assert delivered(emulator, receiver) == [] and emulator.outbox.sent == []
    assert emulator.table("conversation_messages") == {}


def test_a_failed_delivery_is_recorded_not_retried(conversation, emulator, flex, receiver, customer):
    receiver.statuses["/bot"] = [500]
    scoped_webhook(conversation, f"{receiver.base}/bot")
    customer_writes(emulator, flex.conversation_sid, "Hello")
    assert len(delivered(emulator, receiver)) == 1
    (sent,) = emulator.outbox.sent
    assert (sent.delivered, sent.status, sent.attempts) == (False, 500, 1)


# The service's and the account's webhook configuration ----------------------------------------------------------


def test_a_service_configuration_never_set_and_then_updated(twilio, emulator, flex, refused):
    webhooks = twilio.conversations.v1.services(flex.service_sid).configuration.webhooks()
    url = f"{SERVICES}/{flex.service_sid}/Configuration/Webhooks"
    never_set = {
        "account_sid": emulator.account.sid,
        "chat_service_sid": flex.service_sid,
        "pre_webhook_url": None,
        "post_webhook_url": None,
        "filters": None,
        "method": "POST",
        "url": url,
    }
    webhooks.fetch()
    assert last_answer(emulator) == (200, never_set)

    webhooks.update(
        pre_webhook_url="http://127.0.0.1:9/pre",
        post_webhook_url="http://127.0.0.1:9/post",
        filters=["onMessageAdd", "onMessageAdded"],
        method="get",
    )
    updated = {
        **never_set,
        "pre_webhook_url": "http://127.0.0.1:9/pre",
        "post_webhook_url": "http://127.0.0.1:9/post",
        "filters": ["onMessageAdd", "onMessageAdded"],
        "method": "GET",
    }
    assert last_answer(emulator) == (200, updated)
    webhooks.update(filters=["onParticipantAdded"])  # what it does not give is kept
    assert last_answer(emulator) == (200, {**updated, "filters": ["onParticipantAdded"]})

    assert refused(lambda: webhooks.update(method="PUT")) == (400, 20001, "Invalid Method 'PUT': expected GET or POST")
    assert refused(lambda: webhooks.update(filters=["onMessageSent"])) == (400, 20001, "Invalid Filters: onMessageSent")
    webhooks.fetch()
    assert last_answer(emulator) == (200, {**updated, "filters": ["onParticipantAdded"]})


def test_an_unknown_service_has_no_webhook_configuration(twilio, emulator, flex, refused):
    unknown = "IS" + "0" * 32
    webhooks = twilio.conversations.v1.services(unknown).configuration.webhooks()
    message = f"The requested resource /v1/Services/{unknown}/Configuration/Webhooks was not found"
    assert refused(webhooks.fetch) == (404, 20404, message)
    assert refused(lambda: webhooks.update(post_webhook_url="http://127.0.0.1:9/post")) == (404, 20404, message)
    assert emulator.table("conversation_service_webhooks") == {}


def test_the_account_configuration_is_kept_and_sends_nothing(twilio, emulator, flex, receiver, customer):
    webhooks = twilio.conversations.v1.configuration.webhooks()
    url = "https://conversations.twilio.com/v1/Configuration/Webhooks"
    webhooks.fetch()
    never_set = {
        "account_sid": emulator.account.sid,
        "pre_webhook_url": None,
        "post_webhook_url": None,
        "filters": None,
        "method": "POST",
        "target": "webhook",
        "url": url,
    }
    assert last_answer(emulator) == (200, never_set)
    webhooks.update(post_webhook_url=f"{receiver.base}/global", filters=["onMessageAdded"], method="GET", target="flex")
    assert last_answer(emulator) == (
        200,
        {
            **never_set,
            "post_webhook_url": f"{receiver.base}/global",
            "filters": ["onMessageAdded"],
            "method": "GET",
            "target": "flex",
        },
    )
    customer_writes(emulator, flex.conversation_sid, "Hello")
    assert delivered(emulator, receiver) == []
