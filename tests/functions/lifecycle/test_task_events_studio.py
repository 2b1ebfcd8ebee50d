"""The hand-back of the studio-handover tool's handoff: at the end of the task the kit's Studio flow made for it, the
conversation is the AI's again.

Through the real runtime against the emulator: the tool starts the flow `handover studio deploy` renders, the
emulator's Studio runs the execution to Send to Flex (the task carries the tool's account of the handoff among
TAC's HandoffData), a Flex agent is played, and the workspace's events reach functions/lifecycle/task-events signed.
The handoff's record on the conversation is taken away (a bot on a service-level webhook, which the guards let
answer again, and the AI read `handedBack`), its claim given back (the AI may hand off again), the customer told.
"""

from __future__ import annotations

import pytest

from handover import contract
from handover.studio.render import FlowParameters, definition
from tests.functions.lifecycle.test_hand_back import hand_back
from tests.functions.lifecycle.test_task_events import HANDBACK, event_answers, headers_for
from twilio_emulator import (
    add_conversation,
    add_flow,
    add_participant,
    conversation_attributes,
    messages_of,
    run_execution,
    studio_executions,
    sync_map_items,
)
from twilio_emulator.agents import accept, offer, wrap_up
from twilio_emulator.products import taskrouter
from twilio_emulator.products.iam import issue_flex_token

FROM = "+15005550006"
CUSTOMER = "+15551230004"


@pytest.fixture(scope="module")
def kit_flow(twilio) -> str:
    """The handoff flow `handover studio deploy` publishes, made directly; removed after the module."""
    emulator = twilio.emulator
    with emulator.lock:
        chat, voice = (
            taskrouter.task_channel_named(emulator, twilio.account.workspace_sid, name)["sid"]
            for name in ("chat", "voice")
        )
    flow = definition(FlowParameters(twilio.account.workflow_sid, chat, voice, {}, "hangup"))
    flow_sid = add_flow(emulator, "Agent Handoff (studio hand-back tests)", flow)["sid"]
    yield flow_sid
    with emulator.lock:
        del emulator.table("studio_flows")[flow_sid]


@pytest.fixture(scope="module")
def runtime(runtimes, kit_flow):
    return runtimes(
        HANDBACK_MESSAGE=HANDBACK,
        **{contract.STUDIO_FLOW.name: kit_flow, contract.STUDIO_FROM.name: FROM},
    )


def handed_off_through_studio(emulator, twilio, call_tool, runtime, flow_sid: str) -> tuple[str, dict]:
    """A customer's conversation handed off by the studio-handover tool, the flow run to Send to Flex: the
    conversation's SID and the task."""
    conversation = add_conversation(emulator, twilio.account)
    add_participant(emulator, conversation, address=CUSTOMER)
    before = {execution["sid"] for execution in studio_executions(emulator, flow_sid)}
    answer = call_tool(
        runtime,
        headers_for(twilio, conversation),
        {"reason": "invoice", "summary": "Needs it in the company's name."},
        path="/tools/studio-handover",
    )
    assert (answer.status, answer.body["status"]) == (200, "handed_off"), answer.body
    (execution,) = [e for e in studio_executions(emulator, flow_sid) if e["sid"] not in before]
    run = run_execution(emulator, execution)
    assert run.task_sid is not None, run.path
    return conversation, emulator.table("tasks")[run.task_sid]


def test_at_the_end_of_its_task_the_studio_tools_conversation_is_the_ais_again(
    twilio, emulator, runtime, call_tool, kit_flow, wired, agent
):
    conversation, task = handed_off_through_studio(emulator, twilio, call_tool, runtime, kit_flow)
    assert conversation_attributes(emulator, conversation)["handedOff"] is True
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    wrap_up(emulator, task["sid"])
    assert event_answers(emulator) == [("task.wrapup", 200)]

    attributes = conversation_attributes(emulator, conversation)
    assert "handedOff" not in attributes and "handedOffAt" not in attributes
    handed_back = attributes["handedBack"]
    assert (handed_back["taskSid"], handed_back["reason"], handed_back["worker"]) == (
        task["sid"],
        "wrapup",
        {"sid": agent["sid"], "name": "Alice"},
    )
    assert [m["body"] for m in messages_of(emulator, conversation)] == [HANDBACK]
    claims = sync_map_items(emulator, contract.claim_map_of(conversation))
    assert conversation not in claims and task["sid"] in claims  # the handoff's claim given back, the task's held

    # The AI may hand off again: a new handoff, not the day's first one answered again.
    again = call_tool(runtime, headers_for(twilio, conversation), {"reason": "again"}, path="/tools/studio-handover")
    assert (again.status, again.body["status"]) == (200, "handed_off")


def test_the_agents_return_to_ai_hands_the_studio_tools_conversation_back_once_with_the_tasks_end(
    twilio, emulator, runtime, call_tool, kit_flow, wired, agent
):
    conversation, task = handed_off_through_studio(emulator, twilio, call_tool, runtime, kit_flow)
    accept(emulator, offer(emulator, task["sid"], agent["sid"])["sid"])
    answer = hand_back(runtime, {"Token": issue_flex_token(emulator, agent["sid"]), "TaskSid": task["sid"]})
    assert (answer.status, answer.body["status"], answer.body["conversationSid"]) == (200, "handed_back", conversation)
    assert conversation_attributes(emulator, conversation)["handedBack"]["reason"] == "agent"
    wrap_up(emulator, task["sid"])
    assert event_answers(emulator) == [("task.wrapup", 200)]
    assert [m["body"] for m in messages_of(emulator, conversation)] == [HANDBACK]  # told once
