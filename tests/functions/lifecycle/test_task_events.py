"""The hand-back: TaskRouter's events at the end of a task the kit created give the conversation back to the AI.

Through the real runtime against the emulator: the customer's conversation is handed off by the flex-handover tool
(the bot's webhook removed), a Flex agent is played (offer, accept, wrap-up, completion, Leave, a workflow timeout),
and the workspace's event callbacks reach functions/lifecycle/task-events signed, as TaskRouter sends them.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from twilio.request_validator import RequestValidator

from handover import contract
from tests.conftest import Answer
from tests.functions.lifecycle.conftest import TASK_EVENTS_PATH, callback_url
from tests.functions.tools.test_flex_handover_claim import headers_for
from twilio_emulator import (
    Fault,
    add_conversation,
    add_participant,
    conversation_attributes,
    customer_writes,
    messages_of,
    sync_map_items,
)
from twilio_emulator.agents import accept, complete, leave, offer, time_out, wrap_up

HANDBACK = "You are back with our assistant. Ask me anything."
LIST_WEBHOOKS = "GET /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks"
CREATE_WEBHOOK = "POST /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks"
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def runtime(runtimes):
    # Short timings, so that a hand-back failing for good answers within 1.5 s, not the production 8 s.
    return runtimes(HANDBACK_MESSAGE=HANDBACK, HANDOVER_DEADLINE_MS="1500", HANDOVER_ATTEMPT_TIMEOUT_MS="250")


def add_bot_webhook(emulator, twilio, conversation_sid: str, url: str) -> dict:
    """The bot's conversation-scoped webhook, made through the API as the bot's setup makes it."""
    path = f"/v1/Services/{twilio.account.service_sid}/Conversations/{conversation_sid}/Webhooks"
    body = urllib.parse.urlencode(
        {"Target": "webhook", "Configuration.Url": url, "Configuration.Method": "post"}
        | {"Configuration.Filters": "onMessageAdded"}
    ).encode()
    answer = emulator.respond("POST", "conversations.twilio.com", path, basic_auth(twilio), body)
    assert answer.status == 201, answer.body
    return answer.body


def basic_auth(twilio) -> dict[str, str]:
    account = twilio.emulator.account
    token = base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
    return {"authorization": f"Basic {token}", "content-type": "application/x-www-form-urlencoded"}


def webhooks_of(emulator, conversation_sid: str) -> list[dict]:
    with emulator.lock:
        return [
            w
            for w in emulator.table("conversation_scoped_webhooks").values()
            if w["conversation_sid"] == conversation_sid
        ]


def handed_off(emulator, twilio, call_tool, runtime, bot) -> tuple[str, dict]:
    """A customer's conversation with the bot, handed off by the tool: its SID and its task."""
    conversation = add_conversation(emulator, twilio.account)
    add_participant(emulator, conversation, address="+15551234567")
    add_bot_webhook(emulator, twilio, conversation, f"{bot.base}/bot/{conversation}")
    answer = call_tool(runtime, headers_for(twilio, conversation), {"reason": "refund"})
    assert answer.status == 200, answer.body
    assert webhooks_of(emulator, conversation) == []
    interaction = emulator.table("interactions")[answer.body["interactionSid"]]
    task = emulator.table("tasks")[interaction["routing"]["properties"]["sid"]]
    return conversation, task


def assert_handed_back(emulator, conversation: str, task: dict, reason: str, worker: dict) -> None:
    """The conversation's handoff record taken away, and the hand-back recorded for the AI: the bot made again."""
    attributes = conversation_attributes(emulator, conversation)
    assert not {"handedOff", "handedOffAt", "handoffClaimId", "handoffBotWebhooks"} & set(attributes)
    assert attributes["handedBack"] == {
        "at": attributes["handedBack"]["at"],
        "taskSid": task["sid"],
        "reason": reason,
        "worker": {"sid": worker["sid"], "name": worker["friendly_name"]},
        "outcome": None,
        "botRestored": True,
    }


def bot_messages(bot, conversation: str) -> list[str]:
    return [r["params"]["Body"] for r in bot.received if r["path"] == f"/bot/{conversation}"]


def event_answers(emulator) -> list[tuple[str, int | None]]:
    emulator.outbox.wait_idle()
    return [(c.params["EventType"], c.status) for c in emulator.outbox.sent if c.source == "taskrouter.event"]


def test_after_the_agent_wraps_up_the_bot_is_back_and_the_ai_can_read_the_hand_back(
    twilio, emulator, runtime, call_tool, bot, wired, agent
):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    customer_writes(emulator, conversation, "Is anyone there?")
    emulator.outbox.wait_idle()
    assert bot_messages(bot, conversation) == []  # the agent's now, not the bot's

    reservation = offer(emulator, task["sid"], agent["sid"])
    accept(emulator, reservation["sid"])
    wrap_up(emulator, task["sid"])
    assert event_answers(emulator) == [("task.wrapup", 200)]

    (restored,) = webhooks_of(emulator, conversation)
    assert (restored["target"], restored["configuration"]["url"]) == ("webhook", f"{bot.base}/bot/{conversation}")
    assert restored["configuration"]["filters"] == ["onMessageAdded"]
    assert_handed_back(emulator, conversation, task, "wrapup", agent)
    assert [m["body"] for m in messages_of(emulator, conversation)][-1] == HANDBACK
    # The handoff's claim is given back: the AI may hand the conversation off again.
    claims = sync_map_items(emulator, contract.claim_map_of(conversation))
    assert conversation not in claims and task["sid"] in claims

    customer_writes(emulator, conversation, "Thanks, one more question")
    emulator.outbox.wait_idle()
    assert bot_messages(bot, conversation) == ["Thanks, one more question"]


def test_the_completion_after_the_wrap_up_hands_back_nothing_twice(
    twilio, emulator, runtime, call_tool, bot, wired, agent
):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    wrap_up(emulator, task["sid"])
    emulator.outbox.wait_idle()
    emulator.clear_traffic()
    complete(emulator, task["sid"], reason="resolved")
    assert event_answers(emulator) == [("task.completed", 200)]
    assert len(webhooks_of(emulator, conversation)) == 1
    # The hand-back's claim answered it: its create refused beside the conversation's and the agent's reads,
    # nothing written.
    assert sorted((r.operation, r.status) for r in emulator.requests) == [
        ("GET /v1/Services/{ChatServiceSid}/Conversations/{Sid}", 200),
        ("GET /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations", 200),
        ("POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items", 409),
    ]


def ended_twice_in_reverse(emulator, task_sid: str, wrap=wrap_up) -> list[tuple[str, int | None]]:
    """The accepted task wrapped up (by `wrap`) and completed, each event sent twice and all of them in reverse
    order; the events' answers."""
    emulator.clear_traffic()
    emulator.outbox.pause()
    emulator.outbox.duplicate_next(2)
    wrap(emulator, task_sid)
    complete(emulator, task_sid)
    emulator.outbox.release(reversed)
    return event_answers(emulator)


def test_duplicated_and_reordered_events_hand_back_once(twilio, emulator, runtime, call_tool, bot, wired, agent):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    answers = ended_twice_in_reverse(emulator, task["sid"])
    assert sorted(answers) == [("task.completed", 200)] * 2 + [("task.wrapup", 200)] * 2
    assert len(webhooks_of(emulator, conversation)) == 1
    creates = [r for r in emulator.requests if r.operation == CREATE_WEBHOOK]
    assert len(creates) == 1
    assert bot_messages(bot, conversation) == []
    customer_writes(emulator, conversation, "Back?")
    emulator.outbox.wait_idle()
    assert bot_messages(bot, conversation) == ["Back?"]


def test_no_agent_in_time_tells_the_customer_and_the_bot_is_back(twilio, emulator, runtime, call_tool, bot, wired):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    time_out(emulator, task["sid"])
    assert event_answers(emulator) == [("task.canceled", 200)]
    assert messages_of(emulator, conversation)[-1]["body"] == contract.NO_AGENT_MESSAGE.default
    assert len(webhooks_of(emulator, conversation)) == 1
    handed_back = conversation_attributes(emulator, conversation)["handedBack"]
    assert (handed_back["reason"], handed_back["outcome"], handed_back["worker"]) == (
        "canceled",
        "Task canceled on Workflow timeout",
        None,
    )


def test_leave_keeps_the_conversation_open_and_the_bot_takes_it_back(
    twilio, emulator, runtime, call_tool, bot, wired, agent
):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    leave(emulator, task["sid"])
    assert ("task.wrapup", 200) in event_answers(emulator)
    assert len(webhooks_of(emulator, conversation)) == 1
    assert emulator.table("conversations")[conversation]["state"] == "active"


def test_a_closed_conversation_is_recorded_and_changed_no_further(
    twilio, emulator, runtime, call_tool, bot, wired, agent
):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    with emulator.lock:
        emulator.table("conversations")[conversation]["state"] = "closed"
    before = len(messages_of(emulator, conversation))
    emulator.clear_traffic()
    complete(emulator, task["sid"])
    assert event_answers(emulator) == [("task.completed", 200)]
    assert webhooks_of(emulator, conversation) == []
    assert len(messages_of(emulator, conversation)) == before
    assert not [r for r in emulator.requests if r.operation in (LIST_WEBHOOKS, CREATE_WEBHOOK)]


def signed_event(twilio, runtime, params: dict, signature: str | None = "sign") -> Answer:
    """POST an event to the hand-back as TaskRouter does: form-encoded, signed over its deployed URL."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature == "sign":
        signature = RequestValidator(twilio.emulator.account.auth_token).compute_signature(
            callback_url(runtime), params
        )
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    request = urllib.request.Request(
        runtime.url(TASK_EVENTS_PATH), data=urllib.parse.urlencode(params).encode(), headers=headers, method="POST"
    )
    try:
        with _LOOPBACK.open(request, timeout=30) as response:
            return Answer(response.status, json.loads(response.read()), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()), error.headers.get("Content-Type", ""))


def ending_of(task: dict, event_type: str = "task.completed") -> dict:
    """The parameters of a task event that the hand-back reads, as TaskRouter sends them."""
    fields = {"EventType": event_type, "TaskSid": task["sid"], "TaskAttributes": task["attributes"]}
    return fields | {"WorkspaceSid": task["workspace_sid"]}


@pytest.mark.parametrize(
    ("signature", "error"),
    [
        (None, "This function answers Twilio only: the request has no X-Twilio-Signature."),
        ("d3Jvbmc=", "The X-Twilio-Signature is not valid for this URL and these parameters."),
    ],
    ids=["unsigned", "wrongly-signed"],
)
def test_an_unauthenticated_event_is_401_with_no_twilio_request(
    twilio, emulator, runtime, call_tool, bot, signature, error
):
    _, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    emulator.clear_traffic()
    answer = signed_event(twilio, runtime, ending_of(task), signature)
    assert (answer.status, answer.body) == (401, {"status": "rejected", "error": error})
    assert emulator.requests == []


def test_a_signature_over_other_parameters_is_refused(twilio, emulator, runtime, call_tool, bot):
    _, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    emulator.clear_traffic()
    forged = RequestValidator(twilio.emulator.account.auth_token).compute_signature(
        callback_url(runtime), {**ending_of(task), "TaskSid": "WT" + "0" * 32}
    )
    answer = signed_event(twilio, runtime, ending_of(task), forged)
    assert answer.status == 401 and emulator.requests == []


def test_events_that_end_no_task_and_tasks_of_others_are_ignored_without_a_request(twilio, emulator, runtime):
    emulator.clear_traffic()
    created = signed_event(twilio, runtime, {"EventType": "task.created", "TaskSid": "WT" + "1" * 32})
    assert (created.status, created.body) == (200, {"status": "ignored", "reason": "task.created does not end a task"})
    foreign = signed_event(
        twilio,
        runtime,
        {"EventType": "task.completed", "TaskSid": "WT" + "1" * 32, "TaskAttributes": '{"from": "+1555"}'},
    )
    assert (foreign.status, foreign.body) == (
        200,
        {"status": "ignored", "reason": "the task was not created by a handover tool"},
    )
    broken = signed_event(
        twilio, runtime, {"EventType": "task.completed", "TaskSid": "WT" + "1" * 32, "TaskAttributes": "{"}
    )
    assert (broken.status, broken.body) == (400, {"status": "failed", "error": "TaskAttributes is not JSON."})
    assert emulator.requests == []


def test_the_answers_of_a_hand_back_and_of_its_repeat(twilio, emulator, runtime, call_tool, bot):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    first = signed_event(twilio, runtime, ending_of(task, "task.wrapup"))
    assert (first.status, first.body) == (
        200,
        {
            "status": "handed_back",
            "taskSid": task["sid"],
            "conversationSid": conversation,
            "restoredWebhooks": 1,
            "told": True,
            "recorded": True,
        },
    )
    again = signed_event(twilio, runtime, ending_of(task))
    assert (again.status, again.body) == (200, {"status": "already_handed_back", "taskSid": task["sid"]})


def test_a_stale_event_of_an_earlier_handoff_leaves_the_current_one_alone(twilio, emulator, runtime, call_tool, bot):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    earlier = json.loads(task["attributes"])
    earlier["handoff"]["requestedAt"] = "2026-01-01T00:00:00.000Z"
    before = conversation_attributes(emulator, conversation)
    answer = signed_event(twilio, runtime, {**ending_of(task), "TaskAttributes": json.dumps(earlier)})
    assert (answer.status, answer.body) == (
        200,
        {"status": "ignored", "reason": "the conversation does not record this task's handoff"},
    )
    assert webhooks_of(emulator, conversation) == []
    assert conversation_attributes(emulator, conversation) == before


def test_a_hand_back_that_cannot_restore_the_bot_is_retryable_and_the_next_event_finishes_it(
    twilio, emulator, runtime, call_tool, bot
):
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    emulator.inject(Fault("POST", "/Webhooks", status=500, times=None))
    failed = signed_event(twilio, runtime, ending_of(task, "task.wrapup"))
    assert (failed.status, failed.body) == (
        503,
        {
            "status": "retryable",
            "error": "Could not make the bot's webhooks again; TaskRouter may send the event again.",
        },
    )
    assert webhooks_of(emulator, conversation) == []
    assert HANDBACK not in [m["body"] for m in messages_of(emulator, conversation)]  # told nothing yet
    assert task["sid"] not in sync_map_items(emulator, contract.claim_map_of(conversation))  # given back
    emulator.clear_traffic()
    finished = signed_event(twilio, runtime, ending_of(task))
    assert (finished.status, finished.body["status"]) == (200, "handed_back")
    assert len(webhooks_of(emulator, conversation)) == 1
    assert [m["body"] for m in messages_of(emulator, conversation)].count(HANDBACK) == 1  # told once
