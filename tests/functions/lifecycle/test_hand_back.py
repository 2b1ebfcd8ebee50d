"""The agent's Return to AI: functions/lifecycle/hand-back, called with the agent's Flex token, hands the customer back.

Through the real runtime against the emulator: the customer's conversation is handed off by the flex-handover tool,
a Flex agent accepts the task, and the agent's browser (a Flex plugin) posts its Flex token (one the emulator's IAM
issued, `issue_flex_token`) and the task's SID. twilio-flex-token-validator checks the token with a request of its
own through Node's https.globalAgent, which Node 20 does not send through a proxy: every local runtime loads the
emulator's preload first (twilio_emulator/node_https_proxy.js says why; production is unchanged). The workspace's
events are wired to task-events too, so that the task's end after the agent's hand-back shows it once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from handover import contract
from handover.local.stack import start_runtime
from tests.conftest import HANDOVER_TOKEN, PROJECT_DIR
from tests.functions.lifecycle.test_task_events import (
    CREATE_WEBHOOK,
    HANDBACK,
    assert_handed_back,
    bot_messages,
    ending_of,
    event_answers,
    handed_off,
    signed_event,
    webhooks_of,
)
from twilio_emulator import Fault, conversation_attributes, customer_writes, messages_of, sync_map_items
from twilio_emulator.agents import accept, complete, offer, wrap_up
from twilio_emulator.products import taskrouter
from twilio_emulator.products.iam import issue_flex_token

PATH = "/lifecycle/hand-back"
VALIDATE = "POST /v1/Accounts/{AccountSid}/Tokens/validate"
FETCH_TASK = "GET /v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}"
LIST_RESERVATIONS = "GET /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations"
INVALID_TOKEN = "The Flex token is not valid: sign in to Flex again, then try again."
FORBIDDEN = "Only the agent who accepted this task, or a supervisor or an admin, can hand it back to the AI."
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture(scope="module")
def runtime(twilio):
    """The real twilio-run, its validator's HTTPS through the emulator's proxy; timings short enough for a 503."""
    started = start_runtime(
        PROJECT_DIR,
        twilio.emulator,
        twilio.proxy,
        twilio.account,
        HANDOVER_TOKEN=HANDOVER_TOKEN,
        HANDBACK_MESSAGE=HANDBACK,
        HANDOVER_DEADLINE_MS="3000",
        HANDOVER_ATTEMPT_TIMEOUT_MS="1000",
    )
    yield started
    started.stop()


class Reply:
    def __init__(self, status: int, body: dict, headers):
        self.status, self.body, self.headers = status, body, headers


def hand_back(runtime, fields: dict, *, form: bool = False) -> Reply:
    """POST to the function as a Flex plugin does: JSON (or a form) with Token and TaskSid in the body."""
    if form:
        data, content_type = urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"
    else:
        data, content_type = json.dumps(fields).encode(), "application/json"
    request = urllib.request.Request(
        runtime.url(PATH), data=data, headers={"Content-Type": content_type}, method="POST"
    )
    try:
        with _LOOPBACK.open(request, timeout=30) as response:
            return Reply(response.status, json.loads(response.read()), response.headers)
    except urllib.error.HTTPError as error:
        return Reply(error.code, json.loads(error.read()), error.headers)


def accepted(emulator, twilio, call_tool, runtime, bot, worker: dict) -> tuple[str, dict]:
    """A conversation handed off by the tool, its task accepted by `worker`: the conversation's SID and the task."""
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    accept(emulator, offer(emulator, task["sid"], worker["sid"])["sid"])
    return conversation, task


def requests_made(emulator) -> list[tuple[str, str, int | None]]:
    return sorted((r.host, r.operation, r.status) for r in emulator.requests)


def still_handed_off(emulator, conversation: str, task: dict) -> None:
    """Nothing of the hand-back happened: the bot still silent, the handoff still recorded, no hand-back claim."""
    assert webhooks_of(emulator, conversation) == []
    attributes = conversation_attributes(emulator, conversation)
    assert attributes["handedOff"] is True and "handedBack" not in attributes
    assert task["sid"] not in sync_map_items(emulator, contract.claim_map_of(conversation))


def test_the_agent_hands_back_at_once_and_the_end_of_the_task_after_it_hands_back_nothing_twice(
    twilio, emulator, runtime, call_tool, bot, wired, workers
):
    alice = workers("Alice")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    token = issue_flex_token(emulator, alice["sid"])
    emulator.outbox.wait_idle()
    emulator.clear_traffic()

    answer = hand_back(runtime, {"Token": token, "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (
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
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"  # readable by the plugin, on Flex's page
    # The token validated first (as the validator sends it: JSON {token}, the account's Basic auth), then the task
    # and its reservations, then the hand-back the events make.
    validation = emulator.requests[0]
    assert (validation.host, validation.operation, validation.auth_user) == (
        "iam.twilio.com",
        VALIDATE,
        twilio.emulator.account.sid,
    )
    assert (validation.content_type, validation.body) == ("application/json", {"token": token})
    assert requests_made(emulator) == [
        ("conversations.twilio.com", "GET /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks", 200),
        ("conversations.twilio.com", "GET /v1/Services/{ChatServiceSid}/Conversations/{Sid}", 200),
        (
            "conversations.twilio.com",
            "POST /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Messages",
            201,
        ),
        ("conversations.twilio.com", CREATE_WEBHOOK, 201),
        ("conversations.twilio.com", "POST /v1/Services/{ChatServiceSid}/Conversations/{Sid}", 200),
        ("iam.twilio.com", VALIDATE, 200),
        ("sync.twilio.com", "DELETE /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}", 204),
        ("sync.twilio.com", "POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items", 201),
        ("taskrouter.twilio.com", FETCH_TASK, 200),
        ("taskrouter.twilio.com", LIST_RESERVATIONS, 200),
    ]
    (restored,) = webhooks_of(emulator, conversation)
    assert (restored["target"], restored["configuration"]["url"]) == ("webhook", f"{bot.base}/bot/{conversation}")
    assert_handed_back(emulator, conversation, task, "agent", alice)
    claims = sync_map_items(emulator, contract.claim_map_of(conversation))
    assert conversation not in claims and task["sid"] in claims  # the AI may hand off again; the task is done
    customer_writes(emulator, conversation, "Back with the bot?")
    emulator.outbox.wait_idle()
    assert bot_messages(bot, conversation) == ["Back with the bot?"]

    # The plugin then wraps the task up and completes it: TaskRouter's events find the hand-back made. Each takes
    # the task's claim (refused) beside its reads, and writes nothing.
    emulator.clear_traffic()
    wrap_up(emulator, task["sid"])
    complete(emulator, task["sid"])
    assert sorted(event_answers(emulator)) == [("task.completed", 200), ("task.wrapup", 200)]
    assert sorted((r.operation, r.status) for r in emulator.requests) == sorted(
        [
            ("GET /v1/Services/{ChatServiceSid}/Conversations/{Sid}", 200),
            ("GET /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations", 200),
            ("POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items", 409),
        ]
        * 2
    )
    again = signed_event(twilio, runtime, ending_of(task, "task.wrapup"))
    assert (again.status, again.body) == (200, {"status": "already_handed_back", "taskSid": task["sid"]})
    assert len(webhooks_of(emulator, conversation)) == 1
    assert [m["body"] for m in messages_of(emulator, conversation)].count(HANDBACK) == 1  # told once


def test_the_agent_after_the_end_of_the_task_finds_it_handed_back(
    twilio, emulator, runtime, call_tool, bot, wired, workers
):
    alice = workers("Alice")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    wrap_up(emulator, task["sid"])
    assert ("task.wrapup", 200) in event_answers(emulator)
    emulator.clear_traffic()
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, alice["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (200, {"status": "already_handed_back", "taskSid": task["sid"]})
    writes = [r for r in emulator.requests if r.method in ("POST", "DELETE") and r.status and r.status < 300]
    assert [(r.host, r.operation) for r in writes] == [("iam.twilio.com", VALIDATE)]  # the validation only
    assert conversation_attributes(emulator, conversation)["handedBack"]["reason"] == "wrapup"


def test_without_a_token_nothing_is_asked_of_twilio(twilio, emulator, runtime, call_tool, bot, workers):
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, workers("Alice"))
    emulator.clear_traffic()
    for fields in ({"TaskSid": task["sid"]}, {"Token": "", "TaskSid": task["sid"]}):
        answer = hand_back(runtime, fields)
        assert (answer.status, answer.body) == (
            401,
            {
                "status": "rejected",
                "error": "This function needs the agent's Flex token: send it as Token in the body.",
            },
        )
        assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert emulator.requests == []
    still_handed_off(emulator, conversation, task)


def test_a_browsers_preflight_from_flexs_page_is_answered_before_the_function_with_no_request(emulator, runtime):
    # The plugin posts a form (a simple request: no preflight); one that posts JSON is preflighted. The runtime answers
    # OPTIONS itself (the function never sees it): any origin, POST, Content-Type allowed.
    request = urllib.request.Request(
        runtime.url(PATH),
        headers={
            "Origin": "https://flex.twilio.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        method="OPTIONS",
    )
    with _LOOPBACK.open(request, timeout=30) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "POST" in response.headers["Access-Control-Allow-Methods"].split(", ")
        assert "Content-Type" in response.headers["Access-Control-Allow-Headers"].split(", ")
    assert emulator.requests == []


@pytest.mark.parametrize(
    "failure",
    [None, Fault("POST", "/Tokens/validate", status=503)],
    ids=["unknown-token", "iam-failing"],
)
def test_a_token_twilio_does_not_validate_is_401_after_the_validation_only(
    twilio, emulator, runtime, call_tool, bot, workers, failure
):
    alice = workers("Alice")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    emulator.clear_traffic()
    if failure:  # fails closed: the validator tells IAM's failure from a refusal by no more than its message
        emulator.inject(failure)
    token = issue_flex_token(emulator, alice["sid"]) if failure else "not-a-token-the-emulator-issued"
    answer = hand_back(runtime, {"Token": token, "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (401, {"status": "rejected", "error": INVALID_TOKEN})
    assert requests_made(emulator) == [("iam.twilio.com", VALIDATE, 503 if failure else 200)]
    if not failure:
        assert emulator.requests[0].response["valid"] is False
    still_handed_off(emulator, conversation, task)


def test_another_agents_token_is_403_after_reading_the_task(twilio, emulator, runtime, call_tool, bot, workers):
    alice, bob = workers("Alice"), workers("Bob")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    emulator.clear_traffic()
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, bob["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (403, {"status": "rejected", "error": FORBIDDEN})
    assert requests_made(emulator) == [
        ("iam.twilio.com", VALIDATE, 200),
        ("taskrouter.twilio.com", FETCH_TASK, 200),
        ("taskrouter.twilio.com", LIST_RESERVATIONS, 200),
    ]
    still_handed_off(emulator, conversation, task)


def test_a_task_no_one_accepted_is_only_a_supervisors(twilio, emulator, runtime, call_tool, bot, workers):
    alice = workers("Alice")
    conversation, task = handed_off(emulator, twilio, call_tool, runtime, bot)
    offer(emulator, task["sid"], alice["sid"])  # reserved for Alice, not accepted
    emulator.clear_traffic()
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, alice["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (403, {"status": "rejected", "error": FORBIDDEN})
    still_handed_off(emulator, conversation, task)


def test_a_supervisor_hands_back_another_agents_task_by_form(twilio, emulator, runtime, call_tool, bot, workers):
    alice, carol = workers("Alice"), workers("Carol")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    token = issue_flex_token(emulator, carol["sid"], roles=("agent", "supervisor"))
    answer = hand_back(runtime, {"Token": token, "TaskSid": task["sid"]}, form=True)
    assert (answer.status, answer.body["status"]) == (200, "handed_back")
    handed_back = conversation_attributes(emulator, conversation)["handedBack"]
    # The worker who asked is recorded, not the task's agent; the token names no name, so none is recorded.
    assert (handed_back["reason"], handed_back["worker"]) == ("agent", {"sid": carol["sid"], "name": None})
    assert len(webhooks_of(emulator, conversation)) == 1


def test_an_admin_hands_back_too(twilio, emulator, runtime, call_tool, bot, workers):
    alice, dana = workers("Alice"), workers("Dana")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    answer = hand_back(
        runtime, {"Token": issue_flex_token(emulator, dana["sid"], roles=("admin",)), "TaskSid": task["sid"]}
    )
    assert (answer.status, answer.body["status"]) == (200, "handed_back")
    assert conversation_attributes(emulator, conversation)["handedBack"]["worker"]["sid"] == dana["sid"]


@pytest.mark.parametrize(
    "task_sid",
    [None, "", "WT123", "WK" + "a" * 32, "WT" + "g" * 32, 12, ["WT" + "a" * 32]],
    ids=["missing", "empty", "short", "a-worker-sid", "not-hex", "a-number", "a-list"],
)
def test_a_task_sid_that_is_not_one_is_400_with_no_request(emulator, runtime, workers, task_sid):
    token = issue_flex_token(emulator, workers("Alice")["sid"])
    emulator.clear_traffic()
    fields = {"Token": token} | ({} if task_sid is None else {"TaskSid": task_sid})
    answer = hand_back(runtime, fields)
    assert (answer.status, answer.body) == (
        400,
        {"status": "rejected", "error": "TaskSid must be the SID of the Flex task: WT followed by 32 hex characters."},
    )
    assert emulator.requests == []


def test_a_task_the_workspace_lacks_is_404(emulator, runtime, workers):
    token = issue_flex_token(emulator, workers("Alice")["sid"])
    emulator.clear_traffic()
    missing = "WT" + "0" * 32
    answer = hand_back(runtime, {"Token": token, "TaskSid": missing})
    assert (answer.status, answer.body) == (
        404,
        {"status": "rejected", "error": f"The Flex workspace has no task {missing}."},
    )
    assert requests_made(emulator) == [
        ("iam.twilio.com", VALIDATE, 200),
        ("taskrouter.twilio.com", FETCH_TASK, 404),
        ("taskrouter.twilio.com", LIST_RESERVATIONS, 404),
    ]


def test_a_task_no_handover_tool_created_is_ignored(twilio, emulator, runtime, workers):
    alice = workers("Alice")
    with emulator.lock:
        workflow = emulator.table("workflows")[twilio.account.workflow_sid]
        channel = next(
            c
            for c in emulator.table("task_channels").values()
            if c["workspace_sid"] == twilio.account.workspace_sid and c["unique_name"] == "chat"
        )
        task = taskrouter.create_task(emulator, workflow, channel, {"from": "+15551234567"})
    accept(emulator, offer(emulator, task["sid"], alice["sid"])["sid"])
    emulator.clear_traffic()
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, alice["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (
        200,
        {"status": "ignored", "reason": "the task was not created by a handover tool"},
    )
    assert requests_made(emulator) == [
        ("iam.twilio.com", VALIDATE, 200),
        ("taskrouter.twilio.com", FETCH_TASK, 200),
        ("taskrouter.twilio.com", LIST_RESERVATIONS, 200),
    ]


def test_a_validation_that_does_not_answer_in_time_is_503_and_nothing_else_is_asked(
    twilio, emulator, runtime, call_tool, bot, workers
):
    alice = workers("Alice")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    emulator.clear_traffic()
    emulator.inject(Fault("POST", "/Tokens/validate", delay=1.5))  # beyond the attempt timeout of 1 s
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, alice["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (
        503,
        {"status": "retryable", "error": "Could not validate the Flex token in time; try again."},
    )
    assert [(r.host, r.operation) for r in emulator.requests] == [("iam.twilio.com", VALIDATE)]
    still_handed_off(emulator, conversation, task)


def test_a_hand_back_that_cannot_restore_the_bot_is_503_and_the_next_click_finishes_it(
    twilio, emulator, runtime, call_tool, bot, workers
):
    alice = workers("Alice")
    conversation, task = accepted(emulator, twilio, call_tool, runtime, bot, alice)
    token = issue_flex_token(emulator, alice["sid"])
    emulator.inject(Fault("POST", "/Webhooks", status=500, times=None))
    failed = hand_back(runtime, {"Token": token, "TaskSid": task["sid"]})
    assert (failed.status, failed.body) == (
        503,
        {"status": "retryable", "error": "Could not make the bot's webhooks again; try again."},
    )
    assert task["sid"] not in sync_map_items(emulator, contract.claim_map_of(conversation))  # given back
    assert HANDBACK not in [m["body"] for m in messages_of(emulator, conversation)]
    emulator.clear_traffic()
    finished = hand_back(runtime, {"Token": token, "TaskSid": task["sid"]})
    assert (finished.status, finished.body["status"]) == (200, "handed_back")
    assert len(webhooks_of(emulator, conversation)) == 1
    assert [m["body"] for m in messages_of(emulator, conversation)].count(HANDBACK) == 1
