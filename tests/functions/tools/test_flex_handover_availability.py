"""No one to take the handoff: outside the opening hours (HANDOVER_HOURS), or with no available worker in a queue
(HANDOVER_QUEUE_SID) under HANDOVER_WHEN_NO_AGENT=answer, flex-handover creates no task and answers 200
`no_agent_available`; the claim taken beside the check is given back and nothing else is written (the bot keeps its
webhooks, the conversation has no record). The checks run beside the claim, so a first handoff still takes 2 rounds;
a failing queue check hands off as without it.

Through the real runtime against the emulator, whose TaskRouter answers a queue's RealTimeStatistics from its
workers' activities: the queue here is one of the tests' own (TargetWorkers of a team no other test's worker is in),
and its workers (twilio_emulator.agents) are gone after each test.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.parse
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handover import contract
from handover.bench.stats import sequential_rounds
from tests.functions.tools.test_flex_handover import (
    CLAIM,
    HANDOFF_REQUESTS,
    INTERACTIONS,
    LIST_WEBHOOKS,
    MARK_CONVERSATION,
    READ_CONVERSATION,
    assert_handed_off,
    handoff_requests,
)
from tests.functions.tools.test_flex_handover_claim import (
    FIND_TASK,
    READ_CLAIM,
    RELEASE,
    STRANDED,
    TAKE_OVER,
    claim_of,
    headers_for,
    interactions_for,
    leave_claim,
)
from twilio_emulator import Fault, add_conversation, conversation_attributes
from twilio_emulator.agents import add_worker, set_activity
from twilio_emulator.products import taskrouter, taskrouter_workers

STATISTICS = "GET /v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/RealTimeStatistics"
DELETE_WEBHOOK = "DELETE /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks/{Sid}"
MESSAGE = contract.UNAVAILABLE_MESSAGE.default
# The team of the tests' queue: no other test's worker has it.
TEAM = f"availability-{secrets.token_hex(4)}"
WAITED = 95  # seconds: the age of the task waiting in the queue
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Closed for sure whenever the tests run: every day 09:00 to 18:00 in Paris, but yesterday, today and tomorrow
# closed, so that the next opening is the day after tomorrow at 09:00 (also when midnight passes meanwhile).
PARIS = ZoneInfo("Europe/Paris")
TODAY = datetime.now(PARIS).date()
CLOSED_HOURS = {
    "timeZone": "Europe/Paris",
    "weekly": {day: [["09:00", "18:00"]] for day in EVERY_DAY},
    "closed": [(TODAY + timedelta(days=days)).isoformat() for days in (-1, 0, 1)],
}
NEXT_OPENING = datetime.combine(TODAY + timedelta(days=2), time(9), PARIS).astimezone(UTC)
NEXT_OPENING_TEXT = NEXT_OPENING.strftime("%Y-%m-%dT%H:%M:%S.000Z")
# Open whenever the tests run.
OPEN_HOURS = {"timeZone": "America/New_York", "weekly": {day: [["00:00", "24:00"]] for day in EVERY_DAY}}


@pytest.fixture(scope="module")
def queue(twilio):
    """The tests' queue in the Flex workspace, with a chat task waiting in it for WAITED seconds; gone after."""
    emulator, workspace_sid = twilio.emulator, twilio.account.workspace_sid
    with emulator.lock:
        made = taskrouter_workers.add_task_queue(emulator, workspace_sid, "Availability", f'team == "{TEAM}"')
        workflow = taskrouter.add_workflow(emulator, workspace_sid, "Availability")
        workflow["configuration"] = json.dumps(
            {"task_routing": {"filters": [], "default_filter": {"queue": made["sid"]}}}
        )
        channel = taskrouter.task_channel_named(emulator, workspace_sid, "chat")
        waiting = taskrouter.create_task(emulator, workflow, channel, {"team": TEAM})
        emulator.table("taskrouter_records")[waiting["sid"]]["created_at"] = emulator.now() - timedelta(seconds=WAITED)
    yield made
    with emulator.lock:
        emulator.table("tasks").pop(waiting["sid"], None)
        emulator.table("workflows").pop(workflow["sid"], None)
        emulator.table("task_queues").pop(made["sid"], None)


@pytest.fixture
def agent(emulator, queue):
    """A worker of the queue's team, Offline until a test makes it Available; gone after the test."""
    worker = add_worker(
        emulator,
        f"agent-{secrets.token_hex(4)}",
        activity="Offline",
        attributes={"contact_uri": "client:agent", "full_name": "Agent", "team": TEAM},
    )
    yield worker
    with emulator.lock:
        emulator.table("workers").pop(worker["sid"], None)


@pytest.fixture(scope="module")
def closed_runtime(runtimes, queue):
    return runtimes(
        HANDOVER_HOURS=json.dumps(CLOSED_HOURS), HANDOVER_QUEUE_SID=queue["sid"], HANDOVER_WHEN_NO_AGENT="answer"
    )


@pytest.fixture(scope="module")
def open_runtime(runtimes):
    return runtimes(HANDOVER_HOURS=json.dumps(OPEN_HOURS))


@pytest.fixture(scope="module")
def answer_runtime(runtimes, queue):
    """Both checks: open hours, and the queue's workers with the policy answer."""
    return runtimes(
        HANDOVER_HOURS=json.dumps(OPEN_HOURS), HANDOVER_QUEUE_SID=queue["sid"], HANDOVER_WHEN_NO_AGENT="answer"
    )


@pytest.fixture(scope="module")
def queue_runtime(runtimes, queue):
    """The queue's workers with the default policy, queue: hand off anyway."""
    return runtimes(HANDOVER_QUEUE_SID=queue["sid"])


@pytest.fixture
def conversation(twilio, emulator) -> str:
    return add_conversation(emulator, twilio.account)


def add_bot_webhook(emulator, twilio, conversation_sid: str) -> dict:
    """The bot's webhook on the conversation, made through the API."""
    account = emulator.account
    path = f"/v1/Services/{twilio.account.service_sid}/Conversations/{conversation_sid}/Webhooks"
    body = urllib.parse.urlencode(
        {
            "Target": "webhook",
            "Configuration.Url": "https://bot.example.com/messages",
            "Configuration.Method": "post",
            "Configuration.Filters": "onMessageAdded",
        }
    ).encode()
    token = base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
    headers = {"authorization": f"Basic {token}", "content-type": "application/x-www-form-urlencoded"}
    answer = emulator.respond("POST", "conversations.twilio.com", path, headers, body)
    assert answer.status == 201, answer.body
    return answer.body


def webhooks_of(emulator, conversation_sid: str) -> list[str]:
    with emulator.lock:
        stored = emulator.table("conversation_scoped_webhooks").values()
        return [w["sid"] for w in stored if w["conversation_sid"] == conversation_sid]


def operations(emulator) -> list[tuple[str, int | None]]:
    return sorted((r.operation, r.status) for r in emulator.requests)


def nothing_written(emulator, conversation_sid: str) -> None:
    """No interaction, no task, the claim given back, no record on the conversation."""
    assert interactions_for(emulator, conversation_sid) == []
    tasks = emulator.table("tasks").values()
    assert [t for t in tasks if json.loads(t["attributes"]).get("conversationSid") == conversation_sid] == []
    assert claim_of(emulator, conversation_sid) is None
    assert conversation_attributes(emulator, conversation_sid) == {}


# Outside the opening hours ------------------------------------------------------------------------------------


def test_outside_the_opening_hours_nothing_is_handed_off_and_the_ai_hears_when_they_open(
    twilio, emulator, closed_runtime, call_tool, conversation
):
    webhook = add_bot_webhook(emulator, twilio, conversation)
    emulator.clear_traffic()

    answer = call_tool(closed_runtime, headers_for(twilio, conversation), {"reason": "refund"})

    assert (answer.status, answer.body) == (
        200,
        {"status": "no_agent_available", "reason": "closed", "message": MESSAGE, "nextOpening": NEXT_OPENING_TEXT},
    )
    assert MESSAGE == "No one from our team is available right now."
    nothing_written(emulator, conversation)
    assert webhooks_of(emulator, conversation) == [webhook["sid"]]  # the bot keeps it
    # The claim beside the conversation's read and the list of its webhooks, then the claim given back: the hours
    # need no request, and the queue's statistics could not change the answer, so they are not asked.
    assert operations(emulator) == sorted(
        [(CLAIM, 201), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200), (RELEASE, 204)]
    )
    [release] = emulator.calls(operation=RELEASE)
    assert all(r.finished <= release.started for r in emulator.requests if r is not release)
    assert emulator.calls(operation=DELETE_WEBHOOK) == []


def test_outside_the_opening_hours_a_conversation_handed_off_already_is_said_so(
    twilio, emulator, runtimes, closed_runtime, call_tool, conversation
):
    first = call_tool(runtimes(), headers_for(twilio, conversation))
    assert first.body["status"] == "handed_off", first.body
    emulator.clear_traffic()

    answer = call_tool(closed_runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["status"]) == (200, "already_handed_off")
    assert emulator.calls(operation=RELEASE) == []
    assert claim_of(emulator, conversation) is not None


def test_outside_the_opening_hours_a_stranded_claim_is_left_for_a_call_that_can_hand_off(
    twilio, emulator, closed_runtime, call_tool, conversation
):
    left = leave_claim(emulator, conversation, STRANDED)

    answer = call_tool(closed_runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["reason"]) == (200, "closed")
    assert operations(emulator) == sorted(
        [(CLAIM, 409), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200), (READ_CLAIM, 200), (FIND_TASK, 200)]
    )
    assert emulator.calls(operation=TAKE_OVER) == []
    assert claim_of(emulator, conversation)["data"] == left["data"]
    assert interactions_for(emulator, conversation) == []


def test_within_the_opening_hours_the_handoff_is_as_without_them(
    twilio, emulator, open_runtime, call_tool, conversation
):
    answer = call_tool(open_runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert handoff_requests(emulator) == HANDOFF_REQUESTS


def test_malformed_opening_hours_are_a_500_naming_the_variable_and_what_is_wrong(
    twilio, emulator, runtimes, call_tool, conversation
):
    hours = {"timeZone": "Europe/Paris", "weekly": {"fri": [["22:00", "02:00"]]}}
    runtime = runtimes(HANDOVER_HOURS=json.dumps(hours))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (
        500,
        {
            "status": "failed",
            "error": (
                'HANDOVER_HOURS is set but its weekly.fri[0] does not close after it opens ("22:00" to "02:00"): '
                'end the day at "24:00" and go on from "00:00" the next day. '
                f"Set it with `{contract.HOURS.set_by}` (or in .env for a local run), then call again."
            ),
        },
    )
    assert emulator.requests == []


# No available worker in the queue ------------------------------------------------------------------------------


def test_with_no_available_worker_and_the_policy_answer_the_ai_hears_the_wait(
    twilio, emulator, answer_runtime, call_tool, conversation, queue, agent
):
    answer = call_tool(answer_runtime, headers_for(twilio, conversation))

    [statistics] = emulator.calls(operation=STATISTICS)
    assert (
        statistics.path == f"/v1/Workspaces/{twilio.account.workspace_sid}/TaskQueues/{queue['sid']}/RealTimeStatistics"
    )
    assert urllib.parse.parse_qs(statistics.query) == {"TaskChannel": ["chat"]}
    assert (statistics.response["total_eligible_workers"], statistics.response["total_available_workers"]) == (1, 0)
    waited = statistics.response["longest_task_waiting_age"]
    assert WAITED <= waited < WAITED + 30
    assert (answer.status, answer.body) == (
        200,
        {"status": "no_agent_available", "reason": "no_agent", "message": MESSAGE, "waitEstimateSeconds": waited},
    )
    nothing_written(emulator, conversation)
    assert operations(emulator) == sorted(
        [(CLAIM, 201), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200), (STATISTICS, 200), (RELEASE, 204)]
    )
    [release] = emulator.calls(operation=RELEASE)
    assert all(r.finished <= release.started for r in emulator.requests if r is not release)


def test_with_an_available_worker_the_conversation_is_handed_off(
    twilio, emulator, answer_runtime, call_tool, conversation, agent
):
    set_activity(emulator, agent["sid"], "Available")
    emulator.clear_traffic()

    answer = call_tool(answer_runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert emulator.calls(operation=STATISTICS)[0].response["total_available_workers"] == 1
    assert handoff_requests(emulator) == sorted([*HANDOFF_REQUESTS, STATISTICS])


def test_with_no_available_worker_and_the_policy_queue_the_conversation_is_handed_off(
    twilio, emulator, queue_runtime, call_tool, conversation, agent
):
    answer = call_tool(queue_runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    # Queued whatever the statistics would say: they are not asked.
    assert handoff_requests(emulator) == HANDOFF_REQUESTS


def test_a_failing_statistics_request_hands_off_once_tried_and_logs_one_line(
    twilio, emulator, answer_runtime, call_tool, conversation, queue, agent
):
    emulator.inject(Fault("GET", "/RealTimeStatistics", status=500, times=None))

    answer = call_tool(answer_runtime, headers_for(twilio, conversation))

    assert_handed_off(answer, emulator)
    assert [r.status for r in emulator.calls(operation=STATISTICS)] == [500]  # no retry in the first round
    assert handoff_requests(emulator) == sorted([*HANDOFF_REQUESTS, STATISTICS])
    logged = [line for line in answer_runtime.log().splitlines() if "RealTimeStatistics" in line or "real-time" in line]
    logged = [line for line in logged if conversation in line]
    assert logged == [
        f"flex-handover: Reading the real-time statistics of queue {queue['sid']} (handing off without them) failed "
        f"for conversation {conversation} (service {twilio.account.service_sid}, "
        f"workflow {twilio.account.workflow_sid}): 500 20500 Injected fault 500"
    ]


def test_a_first_handoff_with_both_checks_takes_two_sequential_rounds(
    twilio, emulator, answer_runtime, call_tool, conversation, agent
):
    set_activity(emulator, agent["sid"], "Available")
    emulator.clear_traffic()
    emulator.latency = 0.1
    try:
        answer = call_tool(answer_runtime, headers_for(twilio, conversation))
    finally:
        emulator.latency = 0.0

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert sequential_rounds([(r.started, r.finished) for r in emulator.requests]) == 2
    claim_done = emulator.calls(operation=CLAIM)[0].finished
    first_round = [r.operation for r in emulator.requests if r.started < claim_done]
    assert sorted(first_round) == sorted([CLAIM, READ_CONVERSATION, LIST_WEBHOOKS, STATISTICS])
    second_round = [r.operation for r in emulator.requests if r.started >= claim_done]
    assert sorted(second_round) == sorted([INTERACTIONS, MARK_CONVERSATION])
