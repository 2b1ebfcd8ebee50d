"""The handoff silences the bot: the conversation's webhooks that give its messages to the bot (target `webhook`, a URL
not of Twilio's) are listed beside the claim, removed beside the delivery and recorded whole in the conversation's
attributes (`handoffBotWebhooks`), so that the agent talks to the customer alone; a handoff that fails makes them
again, so that the customer keeps the bot.

Each test seeds the conversation's webhooks with the real twilio SDK through the emulator's proxy (spec-checked),
calls the real function through twilio-run, and lets the customer write (`customer_writes`) to a loopback receiver
that plays the bot: the onMessageAdded webhooks it gets, signed, are what the bot would answer.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from handover import contract
from handover.bench.stats import sequential_rounds
from tests.functions.tools.test_flex_handover import (
    CLAIM,
    HANDED_OFF_MESSAGE,
    INTERACTIONS,
    LIST_WEBHOOKS,
    MARK_CONVERSATION,
    READ_CONVERSATION,
)
from tests.functions.tools.test_flex_handover_claim import FIND_TASK, READ_CLAIM, RELEASE, claim_of, leave_claim
from tests.functions.tools.test_flex_handover_faults import ATTEMPT_TIMEOUT_MS, DEADLINE_MS, FaultAt
from tests.webhook_receiver import Receiver
from twilio_emulator import Fault, add_conversation, add_participant, conversation_attributes, customer_writes

DELETE_WEBHOOK = "DELETE /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks/{Sid}"
CREATE_WEBHOOK = "POST /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks"
CUSTOMER = "+15551234567"
FAILED_MESSAGE = contract.FAILED_MESSAGE
TRY_AGAIN = contract.TRY_AGAIN_MESSAGE
# What the bot's webhook is made with, and what Twilio answers as its configuration.
BOT = {"method": "post", "filters": ["onMessageAdded"]}
# Settings of the surrounding shell that would stand between the SDK and the emulator's proxy.
FOREIGN_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ALL_PROXY", "no_proxy", "CURL_CA_BUNDLE")


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes()


@pytest.fixture(scope="module")
def short_runtime(runtimes):
    """A runtime with test_flex_handover_faults.py's short deadline and attempt timeout, for faults that use it up."""
    return runtimes(HANDOVER_DEADLINE_MS=str(DEADLINE_MS), HANDOVER_ATTEMPT_TIMEOUT_MS=str(ATTEMPT_TIMEOUT_MS))


@pytest.fixture
def bot(webhook_receiver) -> Receiver:
    """The bot: a loopback web server that keeps the webhooks it gets."""
    return webhook_receiver


@pytest.fixture
def client(twilio, emulator, monkeypatch) -> Client:
    """The real twilio SDK, reaching the emulator through its proxy, as the account's owner."""
    for name in FOREIGN_PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in twilio.proxy.client_environment().items():
        monkeypatch.setenv(name, value)
    return Client(emulator.account.sid, emulator.account.auth_token)


@dataclass
class Conversation:
    sid: str
    api: object  # the SDK's context of it


@pytest.fixture
def conversation(twilio, emulator, client) -> Conversation:
    """A fresh conversation whose first participant is the customer, on SMS."""
    sid = add_conversation(emulator, twilio.account)
    add_participant(emulator, sid, address=CUSTOMER)
    return Conversation(sid, client.conversations.v1.services(twilio.account.service_sid).conversations(sid))


def headers_for(twilio, conversation) -> dict:
    return {
        "X-Session-Id": f"webhook:conversations__{twilio.account.service_sid}/{conversation.sid}",
        "X-Identity": CUSTOMER,
    }


def bot_webhook(conversation, url: str, method: str = "post", filters=("onMessageAdded",), **configuration):
    return conversation.api.webhooks.create(
        target="webhook",
        configuration_url=url,
        configuration_method=method,
        configuration_filters=list(filters),
        **configuration,
    )


def webhooks_of(emulator, conversation) -> list[dict]:
    """The conversation's webhooks as Twilio holds them now, in the order they were made."""
    with emulator.lock:
        stored = emulator.table("conversation_scoped_webhooks").values()
        return [w for w in stored if w["conversation_sid"] == conversation.sid]


def shapes(webhooks: list[dict]) -> list[tuple[str, dict]]:
    return [(w["target"], w["configuration"]) for w in webhooks]


def saved(webhook) -> dict:
    """How the handoff records a webhook: its SID, target and configuration, whole."""
    return {"sid": webhook.sid, "target": webhook.target, "configuration": webhook.configuration}


def operations(emulator) -> list[tuple[str, int | None]]:
    return sorted((r.operation, r.status) for r in emulator.requests)


def record_of(emulator, conversation_sid: str) -> dict:
    """The attributes a first handoff records: its claim."""
    data = claim_of(emulator, conversation_sid)["data"]
    return {"handedOff": True, "handedOffAt": data["requestedAt"], "handoffClaimId": data["claimId"]}


def got_by_bot(emulator, bot: Receiver) -> list[dict]:
    """The onMessageAdded webhooks the bot got once the emulator has sent everything, each signed by the account."""
    assert emulator.outbox.wait_idle(10)
    validator = RequestValidator(emulator.account.auth_token)
    for got in bot.received:
        assert validator.validate(bot.base + got["path"], got["params"], got["signature"])
    return [got for got in bot.received if got["params"].get("EventType") == "onMessageAdded"]


def assert_handed_off(answer, emulator) -> None:
    [interaction] = [r for r in emulator.calls(operation=INTERACTIONS) if r.status == 200]
    assert (answer.status, answer.body) == (
        200,
        {"status": "handed_off", "interactionSid": interaction.response["sid"], "message": HANDED_OFF_MESSAGE},
    )


def bot_copies(emulator, url: str, before: list[str]) -> list[int]:
    """How many webhooks to `url` the conversation had after each create or delete of one, in the order they were
    served, starting from the SIDs of `before`: the webhook's history over the recorded requests."""
    present, history = set(before), []
    for request in sorted(emulator.requests, key=lambda r: r.finished):
        done = request.withheld[0] if request.withheld else request.status
        if request.operation == CREATE_WEBHOOK and done == 201:
            answered = request.withheld[1] if request.withheld else request.response
            if answered["configuration"].get("url") == url:
                present.add(answered["sid"])
                history.append(len(present))
        elif request.operation == DELETE_WEBHOOK and done == 204:
            sid = request.path.rsplit("/", 1)[1]
            if sid in present:
                present.discard(sid)
                history.append(len(present))
    return history


# The handoff removes the bot's webhooks, and only the bot's -------------------------------------------------------


def test_the_handoff_removes_the_bots_webhook_keeps_studios_and_records_the_bots_whole(
    twilio, emulator, runtime, call_tool, bot, conversation, studio_flow
):
    conversation.api.update(attributes=json.dumps({"topic": "billing"}))
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    studio = conversation.api.webhooks.create(target="studio", configuration_flow_sid=studio_flow)
    emulator.clear_traffic()
    emulator.latency = 0.1  # a round trip that dwarfs the runtime's own time: the timings show the rounds
    try:
        answer = call_tool(runtime, headers_for(twilio, conversation), {"reason": "refund"})
    finally:
        emulator.latency = 0.0

    assert_handed_off(answer, emulator)
    assert operations(emulator) == sorted(
        [
            (CLAIM, 201),
            (READ_CONVERSATION, 200),
            (LIST_WEBHOOKS, 200),
            (INTERACTIONS, 200),
            (MARK_CONVERSATION, 200),
            (DELETE_WEBHOOK, 204),
        ]
    )
    [listed], [deleted] = emulator.calls(operation=LIST_WEBHOOKS), emulator.calls(operation=DELETE_WEBHOOK)
    assert listed.path == f"/v1/Services/{twilio.account.service_sid}/Conversations/{conversation.sid}/Webhooks"
    assert deleted.path == f"{listed.path}/{bots.sid}"
    # Two rounds: the list beside the claim and the read, the delete beside the interaction and the record.
    assert sequential_rounds([(r.started, r.finished) for r in emulator.requests]) == 2
    claim_answered = emulator.calls(operation=CLAIM)[0].finished
    first_round = sorted(r.operation for r in emulator.requests if r.started < claim_answered)
    assert first_round == sorted([CLAIM, READ_CONVERSATION, LIST_WEBHOOKS])
    assert deleted.started >= listed.finished
    # The bot's webhook is gone, Studio's stays as it was; the record keeps the bot's as Twilio answered it.
    assert shapes(webhooks_of(emulator, conversation)) == [("studio", {"flow_sid": studio_flow})]
    assert webhooks_of(emulator, conversation)[0]["sid"] == studio.sid
    bots_answered = next(w for w in listed.response["webhooks"] if w["sid"] == bots.sid)
    assert bots_answered["configuration"] == {"url": f"{bot.base}/bot", **BOT}
    assert conversation_attributes(emulator, conversation.sid) == {
        "topic": "billing",
        **record_of(emulator, conversation.sid),
        "handoffBotWebhooks": [{"sid": bots.sid, "target": "webhook", "configuration": bots_answered["configuration"]}],
    }


def test_after_the_handoff_the_customers_messages_reach_no_bot(twilio, emulator, runtime, call_tool, bot, conversation):
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    customer_writes(emulator, conversation.sid, "I want a human")
    [before] = got_by_bot(emulator, bot)
    assert (before["params"]["Body"], before["params"]["WebhookSid"]) == ("I want a human", bots.sid)
    emulator.clear_traffic()
    bot.received.clear()

    assert_handed_off(call_tool(runtime, headers_for(twilio, conversation)), emulator)
    customer_writes(emulator, conversation.sid, "Hello? Is anyone there?")

    assert got_by_bot(emulator, bot) == []
    assert [c for c in emulator.outbox.sent if c.source == "conversations.onMessageAdded"] == []


def test_two_bot_webhooks_are_both_removed_and_both_recorded(twilio, emulator, runtime, call_tool, bot, conversation):
    first = bot_webhook(conversation, f"{bot.base}/bot")
    second = bot_webhook(
        conversation, f"{bot.base}/audit", method="get", filters=["onMessageUpdated", "onMessageAdded"]
    )
    emulator.clear_traffic()

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    deletes = emulator.calls(operation=DELETE_WEBHOOK)
    assert sorted((r.path.rsplit("/", 1)[1], r.status) for r in deletes) == sorted(
        [(first.sid, 204), (second.sid, 204)]
    )
    assert webhooks_of(emulator, conversation) == []
    assert conversation_attributes(emulator, conversation.sid)["handoffBotWebhooks"] == [
        {"sid": first.sid, "target": "webhook", "configuration": {"url": f"{bot.base}/bot", **BOT}},
        {
            "sid": second.sid,
            "target": "webhook",
            "configuration": {
                "url": f"{bot.base}/audit",
                "method": "get",
                "filters": ["onMessageUpdated", "onMessageAdded"],
            },
        },
    ]
    customer_writes(emulator, conversation.sid, "Hello?")
    assert got_by_bot(emulator, bot) == []


def test_only_webhooks_to_a_twilio_host_are_kept(twilio, emulator, runtime, call_tool, bot, conversation):
    """Flex's and Studio's own webhooks are on twilio.com hosts; a host that only looks like one is the bot's."""
    flex = bot_webhook(conversation, f"https://webhooks.twilio.com/v1/Accounts/{emulator.account.sid}/Flex/Webhook")
    apex = bot_webhook(conversation, "https://twilio.com/webhooks/conversations")
    lookalike = bot_webhook(conversation, "https://bot.example-twilio.com/hook")
    suffixed = bot_webhook(conversation, "https://twilio.com.bot.example/hook")
    emulator.clear_traffic()

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    deleted = sorted(r.path.rsplit("/", 1)[1] for r in emulator.calls(operation=DELETE_WEBHOOK))
    assert deleted == sorted([lookalike.sid, suffixed.sid])
    assert [w["sid"] for w in webhooks_of(emulator, conversation)] == [flex.sid, apex.sid]
    assert conversation_attributes(emulator, conversation.sid)["handoffBotWebhooks"] == [
        saved(lookalike),
        saved(suffixed),
    ]


@pytest.mark.parametrize("studio_only", [False, True], ids=["no-webhook", "studio-only"])
def test_without_a_bot_webhook_nothing_is_deleted_and_nothing_recorded_of_one(
    twilio, emulator, runtime, call_tool, conversation, studio_flow, studio_only
):
    if studio_only:
        conversation.api.webhooks.create(target="studio", configuration_flow_sid=studio_flow)
    emulator.clear_traffic()

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert operations(emulator) == sorted(
        [(CLAIM, 201), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200), (INTERACTIONS, 200), (MARK_CONVERSATION, 200)]
    )
    assert conversation_attributes(emulator, conversation.sid) == record_of(emulator, conversation.sid)
    [mark] = emulator.calls(operation=MARK_CONVERSATION)
    assert "handoffBotWebhooks" not in json.loads(mark.body["Attributes"])
    assert len(webhooks_of(emulator, conversation)) == (1 if studio_only else 0)


# Duplicates delete nothing ---------------------------------------------------------------------------------------


def test_a_second_call_deletes_nothing_and_leaves_the_record(twilio, emulator, runtime, call_tool, bot, conversation):
    removed = bot_webhook(conversation, f"{bot.base}/bot")
    first = call_tool(runtime, headers_for(twilio, conversation))
    assert_handed_off(first, emulator)
    recorded = conversation_attributes(emulator, conversation.sid)
    assert recorded["handoffBotWebhooks"] == [saved(removed)]
    # The bot registers again meanwhile: a duplicate call sees its webhook, and leaves it to whoever handed off.
    again = bot_webhook(conversation, f"{bot.base}/bot")
    emulator.clear_traffic()

    second = call_tool(runtime, headers_for(twilio, conversation))

    assert (second.status, second.body) == (
        200,
        {
            "status": "already_handed_off",
            "interactionSid": first.body["interactionSid"],
            "message": contract.ALREADY_HANDED_OFF_MESSAGE,
        },
    )
    assert operations(emulator) == sorted([(CLAIM, 409), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200)])
    assert [w["sid"] for w in webhooks_of(emulator, conversation)] == [again.sid]
    assert conversation_attributes(emulator, conversation.sid) == recorded


def test_a_call_while_another_holds_the_claim_deletes_nothing(twilio, emulator, runtime, call_tool, bot, conversation):
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    leave_claim(emulator, conversation.sid, timedelta(seconds=5))  # the call under way that holds it
    emulator.clear_traffic()

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (
        200,
        {"status": "already_handed_off", "message": contract.ALREADY_HANDED_OFF_MESSAGE},
    )
    assert operations(emulator) == sorted(
        [(CLAIM, 409), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200), (READ_CLAIM, 200)]
    )
    assert [w["sid"] for w in webhooks_of(emulator, conversation)] == [bots.sid]
    assert conversation_attributes(emulator, conversation.sid) == {}


# A failed handoff gives the customer the bot back -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "answered"),
    [
        pytest.param(
            400,
            20001,
            (
                502,
                {
                    "status": "failed",
                    "error": "Creating the Flex interaction failed: Injected fault 400",
                    "message": FAILED_MESSAGE,
                    "twilioCode": 20001,
                    "twilioStatus": 400,
                },
            ),
            id="refused-400",
        ),
        pytest.param(
            500,
            20500,
            (
                503,
                {
                    "status": "failed",
                    "retryable": True,
                    "error": "Creating the Flex interaction did not succeed in time: Injected fault 500",
                    "message": TRY_AGAIN,
                },
            ),
            id="failing-500",
        ),
    ],
)
def test_a_failed_interaction_makes_the_bots_webhook_again_and_takes_the_record_back(
    twilio, emulator, short_runtime, call_tool, bot, conversation, studio_flow, status, code, answered
):
    conversation.api.update(attributes=json.dumps({"topic": "billing"}))
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    conversation.api.webhooks.create(target="studio", configuration_flow_sid=studio_flow)
    before = shapes(webhooks_of(emulator, conversation))
    emulator.clear_traffic()
    emulator.inject(Fault("POST", "/v1/Interactions", status=status, code=code, times=None))

    answer = call_tool(short_runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == answered
    # Tried until the deadline when it may pass (each 500 looked for through its task), once when refused.
    assert {r.status for r in emulator.calls(operation=INTERACTIONS)} == {status}
    assert {r.status for r in emulator.calls(operation=FIND_TASK)} == ({200} if status == 500 else set())
    assert [r for r in operations(emulator) if r[0] not in (INTERACTIONS, FIND_TASK)] == sorted(
        [
            (CLAIM, 201),
            (READ_CONVERSATION, 200),
            (LIST_WEBHOOKS, 200),
            (MARK_CONVERSATION, 200),
            (DELETE_WEBHOOK, 204),
            # Given back: the claim, the record (read again, then written), the bot's webhook (listed, then made).
            (RELEASE, 204),
            (READ_CONVERSATION, 200),
            (MARK_CONVERSATION, 200),
            (LIST_WEBHOOKS, 200),
            (CREATE_WEBHOOK, 201),
        ]
    )
    [made] = emulator.calls(operation=CREATE_WEBHOOK)
    assert made.body == {
        "Target": "webhook",
        "Configuration.Url": f"{bot.base}/bot",
        "Configuration.Method": "post",
        "Configuration.Filters": ["onMessageAdded"],
    }
    assert made.started >= emulator.calls(operation=DELETE_WEBHOOK)[0].finished
    # The conversation is as it was: the same webhooks (the bot's with a new SID), the record taken back.
    assert shapes(webhooks_of(emulator, conversation)) == [before[1], before[0]]  # Studio's, then the bot's again
    assert made.response["sid"] != bots.sid
    recorded = json.loads(emulator.calls(operation=MARK_CONVERSATION)[0].body["Attributes"])
    assert recorded["handoffBotWebhooks"] == [saved(bots)]
    assert conversation_attributes(emulator, conversation.sid) == {"topic": "billing"}
    assert claim_of(emulator, conversation.sid) is None
    # The customer has the bot again.
    customer_writes(emulator, conversation.sid, "Still there?")
    [got] = got_by_bot(emulator, bot)
    assert (got["params"]["Body"], got["params"]["WebhookSid"]) == ("Still there?", made.response["sid"])


@pytest.mark.parametrize(
    ("status", "code", "use_short", "logged"),
    [
        pytest.param(400, 50304, False, "400 50304 Injected fault 400", id="refused-400"),
        pytest.param(500, 20500, True, "- - no time left to try again: Injected fault 500", id="failing-500"),
    ],
)
def test_a_handoff_that_cannot_be_recorded_makes_the_bots_webhook_again(
    twilio, emulator, runtime, short_runtime, call_tool, bot, conversation, status, code, use_short, logged
):
    """Delivered, but without the record nothing could give the bot back after the agent: it is given back now."""
    bot_webhook(conversation, f"{bot.base}/bot")
    emulator.clear_traffic()
    path = f"/v1/Services/{twilio.account.service_sid}/Conversations/{conversation.sid}"
    emulator.inject(FaultAt("POST", path, status=status, code=code, times=None))  # the conversation, not its webhooks

    answer = call_tool(short_runtime if use_short else runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert {r.status for r in emulator.calls(operation=MARK_CONVERSATION)} == {status}
    assert [r for r in operations(emulator) if r[0] != MARK_CONVERSATION] == sorted(
        [
            (CLAIM, 201),
            (READ_CONVERSATION, 200),
            (LIST_WEBHOOKS, 200),
            (INTERACTIONS, 200),
            (DELETE_WEBHOOK, 204),
            (LIST_WEBHOOKS, 200),
            (CREATE_WEBHOOK, 201),
        ]
    )
    assert shapes(webhooks_of(emulator, conversation)) == [("webhook", {"url": f"{bot.base}/bot", **BOT})]
    assert conversation_attributes(emulator, conversation.sid) == {}
    log = (short_runtime if use_short else runtime).log()
    assert f"could not record the handoff of conversation {conversation.sid} in its attributes: {logged}" in log
    customer_writes(emulator, conversation.sid, "Hello?")
    assert len(got_by_bot(emulator, bot)) == 1


# Failures of the webhooks' own requests ------------------------------------------------------------------------------


def test_a_failing_webhook_list_leaves_the_bot_and_the_handoff_goes_on(
    twilio, emulator, short_runtime, call_tool, bot, conversation
):
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    emulator.clear_traffic()
    emulator.inject(Fault("GET", f"/Conversations/{conversation.sid}/Webhooks", status=500, times=None))

    answer = call_tool(short_runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert {r.status for r in emulator.calls(operation=LIST_WEBHOOKS)} == {500}
    assert [r for r in operations(emulator) if r[0] != LIST_WEBHOOKS] == sorted(
        [(CLAIM, 201), (READ_CONVERSATION, 200), (INTERACTIONS, 200), (MARK_CONVERSATION, 200)]
    )
    assert [w["sid"] for w in webhooks_of(emulator, conversation)] == [bots.sid]
    assert conversation_attributes(emulator, conversation.sid) == record_of(emulator, conversation.sid)
    assert (
        f"flex-handover: Listing the conversation's webhooks (the bot keeps them) failed for conversation "
        f"{conversation.sid}" in short_runtime.log()
    )
    customer_writes(emulator, conversation.sid, "Hello?")
    assert [got["params"]["WebhookSid"] for got in got_by_bot(emulator, bot)] == [bots.sid]


@pytest.mark.parametrize(
    ("fault", "deletes"),
    [
        pytest.param({"status": 503}, [503, 204], id="503-once-retried"),
        pytest.param({"status": 503, "after": True}, [503, 404], id="503-after-the-work-then-gone"),
        pytest.param({"status": 404, "code": 50360, "after": True}, [404], id="404-gone-already"),
    ],
)
def test_a_delete_is_retried_and_one_gone_already_counts_as_removed(
    twilio, emulator, runtime, call_tool, bot, conversation, fault, deletes
):
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    emulator.clear_traffic()
    emulator.inject(Fault("DELETE", f"/Webhooks/{bots.sid}", **fault))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert [r.status for r in emulator.calls(operation=DELETE_WEBHOOK)] == deletes
    assert webhooks_of(emulator, conversation) == []
    assert emulator.calls(operation=CREATE_WEBHOOK) == []
    assert conversation_attributes(emulator, conversation.sid)["handoffBotWebhooks"] == [saved(bots)]
    assert f"Removing the bot's webhook {bots.sid}" not in runtime.log()
    customer_writes(emulator, conversation.sid, "Hello?")
    assert got_by_bot(emulator, bot) == []


def test_a_delete_refused_for_good_leaves_the_webhook_and_the_handoff_stands(
    twilio, emulator, runtime, call_tool, bot, conversation
):
    bots = bot_webhook(conversation, f"{bot.base}/bot")
    emulator.clear_traffic()
    emulator.inject(Fault("DELETE", f"/Webhooks/{bots.sid}", status=403, code=20403, times=None))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert [r.status for r in emulator.calls(operation=DELETE_WEBHOOK)] == [403]  # a refusal is not tried again
    assert [w["sid"] for w in webhooks_of(emulator, conversation)] == [bots.sid]
    assert f"flex-handover: Removing the bot's webhook {bots.sid} failed for conversation {conversation.sid}" in (
        runtime.log()
    )


# Retries and copies ----------------------------------------------------------------------------------------------


def test_a_retry_after_a_failed_handoff_removes_the_remade_webhook_once_and_never_two_copies(
    twilio, emulator, short_runtime, call_tool, bot, conversation
):
    url = f"{bot.base}/bot"
    bots = bot_webhook(conversation, url)
    emulator.clear_traffic()
    emulator.inject(Fault("POST", "/v1/Interactions", status=500, times=None))

    failed = call_tool(short_runtime, headers_for(twilio, conversation))
    assert failed.status == 503, failed.body
    [remade] = webhooks_of(emulator, conversation)
    emulator.faults.clear()  # Twilio is back
    retried = call_tool(short_runtime, headers_for(twilio, conversation))

    assert_handed_off(retried, emulator)
    assert [r.path.rsplit("/", 1)[1] for r in emulator.calls(operation=DELETE_WEBHOOK)] == [bots.sid, remade["sid"]]
    assert len(emulator.calls(operation=CREATE_WEBHOOK)) == 1
    assert bot_copies(emulator, url, [bots.sid]) == [0, 1, 0]
    assert webhooks_of(emulator, conversation) == []
    assert conversation_attributes(emulator, conversation.sid)["handoffBotWebhooks"] == [
        {"sid": remade["sid"], "target": "webhook", "configuration": {"url": url, **BOT}}
    ]
    customer_writes(emulator, conversation.sid, "Hello?")
    assert got_by_bot(emulator, bot) == []


def test_a_failed_handoff_whose_delete_failed_too_makes_no_second_copy(
    twilio, emulator, runtime, call_tool, bot, conversation
):
    url = f"{bot.base}/bot"
    bots = bot_webhook(conversation, url)
    emulator.clear_traffic()
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, times=None))
    emulator.inject(Fault("DELETE", f"/Webhooks/{bots.sid}", status=403, times=None))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 502, answer.body
    assert [r.status for r in emulator.calls(operation=LIST_WEBHOOKS)] == [200, 200]  # beside the claim, then to remake
    assert emulator.calls(operation=CREATE_WEBHOOK) == []
    assert [w["sid"] for w in webhooks_of(emulator, conversation)] == [bots.sid]
    customer_writes(emulator, conversation.sid, "Hello?")
    assert len(got_by_bot(emulator, bot)) == 1


# What looks wrong in the JavaScript (these fail: see the report) ------------------------------------------------------


def test_a_failing_webhook_list_does_not_use_up_the_time_of_the_delivery(
    twilio, emulator, short_runtime, call_tool, conversation
):
    """The list is best effort, as the read beside it (one attempt) and the name lookup are: a failing one must not
    hold the first round until the deadline and leave the interaction no retry. With a healthy list, one 500 of the
    interaction is retried and the handoff succeeds (test_flex_handover_faults.py, interaction-500-once)."""
    emulator.inject(Fault("GET", f"/Conversations/{conversation.sid}/Webhooks", status=500, times=None))
    emulator.inject(Fault("POST", "/v1/Interactions", status=500, times=1))

    answer = call_tool(short_runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body.get("status")) == (200, "handed_off"), answer.body


def test_the_bots_webhook_is_made_again_before_another_call_may_hand_off(
    twilio, emulator, runtime, call_tool, bot, conversation
):
    """A failed handoff makes the bot's webhook again before it gives the claim back: no call can claim while the bot
    is still coming back, so no webhook made after a later handoff leaves the bot talking beside the agent. (Twilio's
    create is held 2 s here: a release beside it would open the window.)"""
    url = f"{bot.base}/bot"
    bot_webhook(conversation, url)
    emulator.clear_traffic()
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, times=1))
    emulator.inject(Fault("POST", f"/Conversations/{conversation.sid}/Webhooks", delay=2.0, times=1))
    answers = {}
    first = threading.Thread(
        target=lambda: answers.setdefault("first", call_tool(runtime, headers_for(twilio, conversation)))
    )
    first.start()
    deadline = time.monotonic() + 10
    while not [r for r in emulator.calls(operation=RELEASE) if r.status == 204] and time.monotonic() < deadline:
        time.sleep(0.01)

    second = call_tool(runtime, headers_for(twilio, conversation))
    first.join(timeout=30)

    assert answers["first"].status == 502
    assert (second.status, second.body["status"]) == (200, "handed_off")
    [made] = emulator.calls(operation=CREATE_WEBHOOK)
    [release] = [r for r in emulator.calls(operation=RELEASE) if r.status == 204]
    assert made.finished <= release.started  # the bot was back before the claim was
    second_list = emulator.calls(operation=LIST_WEBHOOKS)[-1]
    assert [w["sid"] for w in second_list.response["webhooks"]] == [made.response["sid"]]
    recorded = conversation_attributes(emulator, conversation.sid)["handoffBotWebhooks"]
    assert [w["sid"] for w in recorded] == [made.response["sid"]]
    assert webhooks_of(emulator, conversation) == []  # handed off, the bot quiet


def test_making_the_bots_webhook_again_does_not_replay_the_conversation_to_it(
    twilio, emulator, runtime, call_tool, bot, conversation
):
    """A bot's webhook made with Configuration.ReplayAfter is sent the messages from that index at once: made again
    with it as saved, it is sent the whole conversation a second time, and answers messages it answered already."""
    bot_webhook(conversation, f"{bot.base}/bot", configuration_replay_after=0)
    customer_writes(emulator, conversation.sid, "I was billed twice")
    customer_writes(emulator, conversation.sid, "I want a human")
    assert len(got_by_bot(emulator, bot)) == 2
    bot.received.clear()
    emulator.clear_traffic()
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, times=None))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 502, answer.body
    assert len(webhooks_of(emulator, conversation)) == 1
    assert [got["params"]["Body"] for got in got_by_bot(emulator, bot)] == []
