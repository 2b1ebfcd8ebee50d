"""The hand-back to Twilio Agent Connect: at the end of a task TAC's flow made, TAC gets its conversation back.

Through the real runtime against the emulator, with TAC's own code on both sides: TAC (twilio-agent-connect 2.5.0,
tests/tac_agent.py) escalates with its own handoff tool (the Orchestrator conversation INACTIVE, its status
callbacks cleared, the handoff flow's Execution); the flow `handover tac setup` deploys runs as Studio runs it and
its Send to Flex makes the task; a Flex agent is played; the workspace's events reach functions/lifecycle/task-events
signed. Afterwards TAC's own ConversationClient finds the conversation ACTIVE, and its status callbacks are TAC's
webhook again, so that TAC's next turn reaches it.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from handover import contract
from handover.studio.render import FlowParameters, definition
from tests.functions.lifecycle.test_hand_back import hand_back
from tests.functions.lifecycle.test_task_events import (
    HANDBACK,
    ended_twice_in_reverse,
    ending_of,
    event_answers,
    signed_event,
)
from tests.tac_agent import TacSetup, hand_off_with_tac, point_tac_at, tac_of
from twilio_emulator import (
    Fault,
    add_configuration,
    add_flow,
    add_orchestrated_conversation,
    add_participant,
    conversation_attributes,
    customer_writes,
    messages_of,
    orchestrated_conversation,
    orchestrator_configuration,
    set_orchestrated_status,
    sync_map_items,
)
from twilio_emulator.agents import accept, complete, leave, offer, time_out, wrap_up
from twilio_emulator.products import conversations, taskrouter
from twilio_emulator.products.iam import issue_flex_token

NUMBER = "+15005550006"
CUSTOMER = "+15551230002"
TAC_WEBHOOK_PATH = "/tac/webhook"
PATCH_CONVERSATION = "PATCH /v2/Conversations/{id}"


@pytest.fixture(scope="module")
def runtime(runtimes):
    # test_task_events.py's configuration: the same runtime, where both modules run in one worker.
    return runtimes(HANDBACK_MESSAGE=HANDBACK, HANDOVER_DEADLINE_MS="1500", HANDOVER_ATTEMPT_TIMEOUT_MS="250")


@pytest.fixture(scope="module")
def tac_webhooks(webhook_server) -> list[dict]:
    """TAC's webhook (its server's COMMUNICATION_CREATED route), on loopback: the configuration's status callback."""
    return [{"url": f"{webhook_server.base}{TAC_WEBHOOK_PATH}", "method": "POST"}]


@pytest.fixture(scope="module")
def tac_setup(twilio, tac_webhooks) -> TacSetup:
    """What `handover tac setup` leaves, made directly for speed (tests/handover/tac/test_tac_client.py runs the
    command): TAC's configuration bridged to a Conversations service of this module's own, its status callback
    TAC's webhook, and the handoff flow the command renders; removed after the module."""
    emulator = twilio.emulator
    with emulator.lock:
        service = conversations.add_service(emulator, "TAC hand-back tests")
        channels = {
            name: taskrouter.task_channel_named(emulator, twilio.account.workspace_sid, name)["sid"]
            for name in ("chat", "voice")
        }
    configuration = add_configuration(
        emulator,
        "Agent Connect",
        "TAC's conversations, bridged to Flex",
        conversation_grouping_type="GROUP_BY_PARTICIPANT_ADDRESSES_AND_CHANNEL_TYPE",
        status_callbacks=tac_webhooks,
        bridge_service_sid=service,
    )
    flow = definition(FlowParameters(twilio.account.workflow_sid, channels["chat"], channels["voice"], {}, "hangup"))
    flow_sid = add_flow(emulator, "Agent Handoff (TAC hand-back tests)", flow)["sid"]
    yield TacSetup(configuration["id"], NUMBER, flow_sid)
    with emulator.lock:
        del emulator.table("studio_flows")[flow_sid]
        del emulator.table("orchestrator_configurations")[configuration["id"]]


@pytest.fixture
def tac(twilio, emulator, tac_setup, monkeypatch):
    point_tac_at(twilio.proxy, monkeypatch)
    return tac_of(emulator, tac_setup)


def handed_off_by_tac(emulator, tac, tac_setup) -> tuple[dict, str, dict]:
    """A customer's SMS conversation with TAC, handed off by TAC's own tool: the Orchestrator conversation, the
    Classic conversation's SID and the task."""
    with emulator.lock:
        service = emulator.table("orchestrator_configurations")[tac_setup.configuration_id]["conversationsV1Bridge"]
        classic = conversations.add_conversation(emulator, service["serviceId"], "A TAC customer")["sid"]
    add_participant(emulator, classic, address=CUSTOMER)
    orchestrated = add_orchestrated_conversation(
        emulator,
        service["serviceId"],
        classic,
        CUSTOMER,
        agent_address=NUMBER,
        configuration_id=tac_setup.configuration_id,
    )
    _, run = hand_off_with_tac(emulator, tac, tac_setup, orchestrated)
    assert orchestrated_conversation(emulator, orchestrated["id"])["configuration"]["statusCallbacks"] == []
    return orchestrated, classic, emulator.table("tasks")[run.task_sid]


def tac_statuses(tac, conversation_id: str) -> list[str]:
    """The statuses under which TAC's own ConversationClient lists the conversation."""
    client = tac.conversation_orchestrator_client
    return [
        status
        for status in ("ACTIVE", "INACTIVE", "CLOSED")
        if conversation_id in [c.id for c in asyncio.run(client.list_conversations(status=[status]))]
    ]


def tac_can_take_its_turn(emulator, tac, conversation_id: str) -> bool:
    """What TAC's next turn needs of its conversation: ACTIVE, and its status callbacks TAC's webhook again."""
    callbacks = orchestrated_conversation(emulator, conversation_id)["configuration"]["statusCallbacks"]
    webhooks = orchestrator_configuration(emulator, tac.config.conversation_configuration_id)["statusCallbacks"]
    return tac_statuses(tac, conversation_id) == ["ACTIVE"] and callbacks == webhooks != []


def patches(emulator) -> list[dict]:
    return [r.body for r in emulator.requests if r.operation == PATCH_CONVERSATION]


def handed_back_to_tac(task: dict, classic: str, orchestrated: dict) -> dict:
    """The answer of a hand-back that gave TAC its conversation back: its one status callback on, the customer told
    and the hand-back recorded."""
    return {
        "status": "handed_back",
        "taskSid": task["sid"],
        "conversationSid": classic,
        "orchestratorConversationId": orchestrated["id"],
        "statusCallbacks": 1,
        "told": True,
        "recorded": True,
    }


def tac_received(webhook_server) -> list[dict]:
    return [r for r in webhook_server.received if r["path"].startswith(TAC_WEBHOOK_PATH)]


def test_tacs_own_messaging_channel_takes_the_customers_next_message_after_the_agent(
    emulator, runtime, tac, tac_setup, wired, agent, webhook_server
):
    from tac.channels.sms import SMSChannel

    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    webhook_server.received.clear()
    customer_writes(emulator, classic, "Are you a person?")
    emulator.outbox.wait_idle()
    assert tac_received(webhook_server) == []  # the agent's, not TAC's
    wrap_up(emulator, task["sid"])
    assert event_answers(emulator)[-1] == ("task.wrapup", 200)

    customer_writes(emulator, classic, "Thanks! One more question for the assistant")
    emulator.outbox.wait_idle()
    (received,) = tac_received(webhook_server)
    url = f"{webhook_server.base}{received['path']}"
    assert RequestValidator(emulator.account.auth_token).validate(url, received["body"], received["signature"])
    # TAC's own SMS channel, as its server hands it the webhook: the message reaches TAC's callback, its next turn.
    turns = []
    tac.on_message_ready(lambda message, session, memory: turns.append((message, session.conversation_id)))
    asyncio.run(SMSChannel(tac).process_webhook(json.loads(received["body"])))
    assert turns == [("Thanks! One more question for the assistant", orchestrated["id"])]


def test_after_the_agent_wraps_up_tac_has_its_conversation_back(emulator, runtime, tac, tac_setup, wired, agent):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    assert tac_statuses(tac, orchestrated["id"]) == ["INACTIVE"]  # as TAC's escalation left it
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    emulator.clear_traffic()
    wrap_up(emulator, task["sid"])
    assert event_answers(emulator) == [("task.wrapup", 200)]

    webhooks = orchestrator_configuration(emulator, tac_setup.configuration_id)["statusCallbacks"]
    assert patches(emulator) == [{"status": "ACTIVE", "configuration": {"statusCallbacks": webhooks}}]
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])
    handed_back = conversation_attributes(emulator, classic)["handedBack"]
    assert handed_back == {
        "at": handed_back["at"],
        "taskSid": task["sid"],
        "reason": "wrapup",
        "worker": {"sid": agent["sid"], "name": "Alice"},
        "outcome": None,
        "botRestored": True,
        "ai": "Twilio Agent Connect",
        "orchestratorConversationId": orchestrated["id"],
    }
    assert [m["body"] for m in messages_of(emulator, classic)] == [HANDBACK]
    assert task["sid"] in sync_map_items(emulator, contract.claim_map_of(classic))


def test_the_completion_after_the_wrap_up_gives_nothing_back_twice(emulator, runtime, tac, tac_setup, wired, agent):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    wrap_up(emulator, task["sid"])
    emulator.outbox.wait_idle()
    emulator.clear_traffic()
    complete(emulator, task["sid"], reason="resolved")
    assert event_answers(emulator) == [("task.completed", 200)]
    # The claim answered it, beside the first round's reads; nothing written, nobody told twice.
    assert sorted((r.operation, r.status) for r in emulator.requests) == [
        ("GET /v1/Workspaces/{WorkspaceSid}/Tasks", 200),
        ("GET /v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations", 200),
        ("GET /v2/Conversations/{id}", 200),
        ("POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items", 409),
    ]
    assert [m["body"] for m in messages_of(emulator, classic)] == [HANDBACK]


def test_duplicated_and_reordered_events_give_the_conversation_back_once(
    emulator, runtime, tac, tac_setup, wired, agent
):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    answers = ended_twice_in_reverse(emulator, task["sid"], wrap=leave)
    assert sorted(answers) == [("task.completed", 200)] * 2 + [("task.wrapup", 200)] * 2
    assert len(patches(emulator)) == 1
    assert [m["body"] for m in messages_of(emulator, classic)] == [HANDBACK]
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])


def test_no_agent_in_time_tells_the_customer_and_tac_is_back(emulator, runtime, tac, tac_setup, wired):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    time_out(emulator, task["sid"])
    assert event_answers(emulator) == [("task.canceled", 200)]
    assert [m["body"] for m in messages_of(emulator, classic)] == [contract.NO_AGENT_MESSAGE.default]
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])
    handed_back = conversation_attributes(emulator, classic)["handedBack"]
    assert (handed_back["reason"], handed_back["outcome"], handed_back["worker"]) == (
        "canceled",
        "Task canceled on Workflow timeout",
        None,
    )


def test_the_answers_of_a_hand_back_to_tac_and_of_its_repeat(twilio, emulator, runtime, tac, tac_setup):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    first = signed_event(twilio, runtime, ending_of(task, "task.wrapup"))
    assert (first.status, first.body) == (200, handed_back_to_tac(task, classic, orchestrated))
    again = signed_event(twilio, runtime, ending_of(task))
    assert (again.status, again.body) == (200, {"status": "already_handed_back", "taskSid": task["sid"]})


def test_a_late_event_of_an_earlier_handoff_leaves_the_later_one_with_flex(twilio, emulator, runtime, tac, tac_setup):
    orchestrated, classic, earlier = handed_off_by_tac(emulator, tac, tac_setup)
    _, run = hand_off_with_tac(emulator, tac, tac_setup, orchestrated)  # TAC hands the customer off again
    with emulator.lock:
        emulator.table("tasks")[earlier["sid"]]["assignment_status"] = "completed"  # as it ended, long ago
    emulator.clear_traffic()
    answer = signed_event(twilio, runtime, ending_of(earlier))
    assert (answer.status, answer.body) == (
        200,
        {"status": "ignored", "reason": f"a later handoff of the conversation is with Flex (task {run.task_sid})"},
    )
    search = next(r for r in emulator.requests if r.operation == "GET /v1/Workspaces/{WorkspaceSid}/Tasks")
    assert urllib.parse.parse_qs(search.query) == {
        "EvaluateTaskAttributes": [f'conversationSid == "{classic}"'],
        "AssignmentStatus": ["pending", "reserved", "assigned"],
        "PageSize": ["20"],
    }
    assert patches(emulator) == [] and messages_of(emulator, classic) == []
    assert tac_statuses(tac, orchestrated["id"]) == ["INACTIVE"]
    # The later task's own end gives the conversation back.
    later = signed_event(twilio, runtime, ending_of(emulator.table("tasks")[run.task_sid]))
    assert (later.status, later.body["status"]) == (200, "handed_back")
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        # A 500 is retried until the deadline (1.5 s here); a 400 fails at once, which keeps the reads' cases short.
        ("GET", "/v2/Conversations/", 400, "Could not read TAC's Orchestrator conversation"),
        ("GET", "/v2/ControlPlane/Configurations/", 400, "Could not read TAC's Orchestrator configuration"),
        ("GET", "/Conversations/CH", 500, "Could not read the conversation"),
        ("PATCH", "/v2/Conversations/", 500, "Could not give the conversation back to Twilio Agent Connect"),
    ],
    ids=["conversation", "configuration", "classic-conversation", "patch"],
)
def test_a_hand_back_that_fails_half_way_is_retryable_and_the_next_event_finishes_it(
    twilio, emulator, runtime, tac, tac_setup, method, path, status, error
):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    emulator.inject(Fault(method, path, status=status, times=None))
    failed = signed_event(twilio, runtime, ending_of(task, "task.wrapup"))
    assert (failed.status, failed.body) == (
        503,
        {"status": "retryable", "error": f"{error}; TaskRouter may send the event again."},
    )
    assert tac_statuses(tac, orchestrated["id"]) == ["INACTIVE"]  # still the agent's
    assert messages_of(emulator, classic) == []  # told nothing yet
    assert task["sid"] not in sync_map_items(emulator, contract.claim_map_of(classic))  # given back
    emulator.clear_traffic()
    finished = signed_event(twilio, runtime, ending_of(task))
    assert (finished.status, finished.body["status"]) == (200, "handed_back")
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])
    assert [m["body"] for m in messages_of(emulator, classic)] == [HANDBACK]  # told once


@pytest.mark.parametrize(("closed", "recordable"), [("classic", False), ("orchestrator", True)])
def test_a_closed_conversation_is_recorded_and_changed_no_further(
    twilio, emulator, runtime, tac, tac_setup, closed, recordable
):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    if closed == "classic":  # the agent ended the chat
        with emulator.lock:
            emulator.table("conversations")[classic]["state"] = "closed"
    else:  # its timeouts closed it: final
        set_orchestrated_status(emulator, orchestrated["id"], "CLOSED")
    before = orchestrated_conversation(emulator, orchestrated["id"])
    emulator.clear_traffic()
    answer = signed_event(twilio, runtime, ending_of(task))
    assert (answer.status, answer.body) == (
        200,
        {
            "status": "recorded",
            "taskSid": task["sid"],
            "conversationSid": classic,
            "orchestratorConversationId": orchestrated["id"],
            "recorded": recordable,
        },
    )
    assert patches(emulator) == [] and messages_of(emulator, classic) == []
    assert orchestrated_conversation(emulator, orchestrated["id"]) == before
    # A closed Classic conversation takes no change (Twilio's 50377): nothing is tried on it.
    handed_back = conversation_attributes(emulator, classic).get("handedBack")
    assert (
        (handed_back["taskSid"], handed_back["botRestored"]) == (task["sid"], False) if recordable else not handed_back
    )
    writes = [r.operation for r in emulator.requests if r.method != "GET"]
    assert writes == ["POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items"] + (
        ["POST /v1/Services/{ChatServiceSid}/Conversations/{Sid}"] if recordable else []
    )


def test_without_the_bridge_tac_is_back_and_nothing_is_told_or_recorded(twilio, emulator, runtime, tac, tac_setup):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    with emulator.lock:
        configuration = emulator.table("orchestrator_configurations")[tac_setup.configuration_id]
        bridge = configuration.pop("conversationsV1Bridge")
    try:
        answer = signed_event(twilio, runtime, ending_of(task))
    finally:
        with emulator.lock:
            configuration["conversationsV1Bridge"] = bridge
    assert (answer.status, answer.body["status"], answer.body["told"], answer.body["recorded"]) == (
        200,
        "handed_back",
        False,
        False,
    )
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])
    assert messages_of(emulator, classic) == [] and "handedBack" not in conversation_attributes(emulator, classic)


def test_a_task_of_the_kits_own_handoff_or_of_no_handoff_is_not_tacs(twilio, emulator, runtime):
    """TAC's tasks carry handoffData with an Orchestrator conversation, and no `handoff` record of the kit's."""
    emulator.clear_traffic()
    for attributes in (
        {"conversationSid": "CH" + "1" * 32, "handoffData": {"conversationId": "CH" + "1" * 32}},
        {"conversationSid": "CH" + "1" * 32, "handoffData": None},
        {"handoffData": {"conversationId": "conv_conversation_01k6fc25s7epm9qtk8rszbv3q6"}},
    ):
        event = {"EventType": "task.completed", "TaskSid": "WT" + "1" * 32, "TaskAttributes": json.dumps(attributes)}
        answer = signed_event(twilio, runtime, event)
        assert (answer.status, answer.body) == (
            200,
            {"status": "ignored", "reason": "the task was not created by a handover tool"},
        )
    assert emulator.requests == []


def test_the_agents_return_to_ai_gives_tac_its_conversation_back_once_with_the_tasks_end(
    twilio, emulator, runtime, tac, tac_setup, wired, agent
):
    orchestrated, classic, task = handed_off_by_tac(emulator, tac, tac_setup)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    emulator.clear_traffic()
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, agent["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body) == (200, handed_back_to_tac(task, classic, orchestrated))
    assert tac_can_take_its_turn(emulator, tac, orchestrated["id"])
    handed_back = conversation_attributes(emulator, classic)["handedBack"]
    assert (handed_back["reason"], handed_back["worker"]) == ("agent", {"sid": agent["sid"], "name": "Alice"})
    # Flex then wraps the agent's side up: the task's end finds it handed back, and gives nothing back twice.
    wrap_up(emulator, task["sid"])
    assert event_answers(emulator) == [("task.wrapup", 200)]
    assert len(patches(emulator)) == 1
    assert [m["body"] for m in messages_of(emulator, classic)] == [HANDBACK]


def test_another_agent_cannot_return_tacs_customer(twilio, emulator, runtime, tac, tac_setup, agent, workers):
    orchestrated, _, task = handed_off_by_tac(emulator, tac, tac_setup)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    emulator.clear_traffic()
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, workers("Bob")["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body["status"]) == (403, "rejected")
    assert patches(emulator) == [] and tac_statuses(tac, orchestrated["id"]) == ["INACTIVE"]
