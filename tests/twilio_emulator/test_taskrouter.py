"""The emulated TaskRouter task search, through the real proxy with the real twilio Python SDK."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from requests.exceptions import ConnectionError as DroppedByServer

from twilio_emulator import Fault, FlexAccount, add_conversation, seed_flex_account
from twilio_emulator.products import taskrouter

UNKNOWN_WORKSPACE = "WS" + "0" * 32
OUTSIDE_SUBSET = (
    "the emulator understands only comparisons `key == constant` joined by AND "
    "(a constant is a quoted string, a number, true or false)"
)


@pytest.fixture
def flex(emulator) -> FlexAccount:
    return seed_flex_account(emulator)


@pytest.fixture
def tasks(twilio, flex):
    return twilio.taskrouter.v1.workspaces(flex.workspace_sid).tasks


def hand_over(twilio, flex: FlexAccount, conversation_sid: str, attributes: dict | None = None):
    """An inbound interaction on the conversation, as the handover function creates it: Flex makes its task."""
    return twilio.flex_api.v1.interaction.create(
        channel={"type": "web", "initiated_by": "customer", "properties": {"media_channel_sid": conversation_sid}},
        routing={
            "properties": {
                "workspace_sid": flex.workspace_sid,
                "workflow_sid": flex.workflow_sid,
                "task_channel_unique_name": "chat",
                "attributes": attributes or {},
            }
        },
    )


def seed_task(emulator, flex: FlexAccount, attributes: dict, **fields) -> dict:
    """A task made directly in the account, with fields (assignment_status, priority, …) set as a test needs them."""
    workflow = emulator.table("workflows")[flex.workflow_sid]
    channel = taskrouter.task_channel_named(emulator, flex.workspace_sid, "chat")
    task = taskrouter.create_task(emulator, workflow, channel, attributes)
    task.update(fields)
    return task


def listed(emulator) -> list[dict]:
    """The tasks of the last answer, as the emulator sent them."""
    return emulator.requests[-1].response["tasks"]


# The handover's search ------------------------------------------------------------------------------------


def test_the_task_of_a_conversation_is_found_by_its_conversation_sid(twilio, emulator, flex, tasks):
    other_conversation = add_conversation(emulator, flex)
    interaction = hand_over(twilio, flex, flex.conversation_sid, {"customerName": "Ada"})
    hand_over(twilio, flex, other_conversation)
    task_sid = interaction.routing["properties"]["sid"]

    found = tasks.list(evaluate_task_attributes=f'conversationSid == "{flex.conversation_sid}"')

    assert [task.sid for task in found] == [task_sid]
    assert listed(emulator) == [emulator.table("tasks")[task_sid]]
    assert json.loads(found[0].attributes)["flexInteractionSid"] == interaction.sid
    assert emulator.requests[-1].operation == "GET /v1/Workspaces/{WorkspaceSid}/Tasks"
    assert emulator.requests[-1].response["meta"]["key"] == "tasks"


def test_an_interaction_whose_answer_was_lost_is_found_by_its_task(twilio, emulator, flex, tasks):
    """Twilio created the interaction, but the connection dropped before the answer: the task shows it was made."""
    emulator.inject(Fault("POST", "/v1/Interactions", drop=True, after=True))
    with pytest.raises(DroppedByServer):
        hand_over(twilio, flex, flex.conversation_sid)
    (interaction,) = emulator.table("interactions").values()
    assert emulator.requests[-1].withheld == (200, interaction)

    (task,) = tasks.list(evaluate_task_attributes=f"conversationSid == '{flex.conversation_sid}'")
    assert json.loads(task.attributes)["flexInteractionSid"] == interaction["sid"]
    assert len(emulator.calls(operation="POST /v1/Interactions")) == 1  # the SDK did not retry


def test_a_conversation_without_a_task_finds_nothing(tasks, emulator, flex):
    assert tasks.list(evaluate_task_attributes=f'conversationSid == "{flex.conversation_sid}"') == []
    assert emulator.requests[-1].status == 200


# The expression subset --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "matched"),
    [
        ('handoff.reason == "refund"', ["refund"]),
        ("handoff.reason == 'refund'", ["refund"]),
        ('"refund" == handoff.reason', ["refund"]),
        ("score == 5", ["refund"]),
        ("score == 5.0", ["refund"]),
        ("score == 7.5", ["question"]),
        ('score == "5"', []),  # a string is not a number
        ("vip == true", ["refund"]),
        ("vip == 1", []),  # true is not 1
        ("vip == false", ["question"]),
        ('handoff.reason == "refund" AND vip == true', ["refund"]),
        ('handoff.reason == "refund" and score == 7.5', []),
        ('handoff.missing == "refund"', []),  # a key the attributes lack is NULL
        ('handoff.reason.deeper == "refund"', []),
        ('channel == "web" AND handoff.reason == "question"', ["question"]),
        ('channel == "web"', ["refund", "question"]),
    ],
)
def test_the_expression_subset(tasks, emulator, flex, expression, matched):
    seed_task(emulator, flex, {"channel": "web", "vip": True, "score": 5, "handoff": {"reason": "refund"}})
    seed_task(emulator, flex, {"channel": "web", "vip": False, "score": 7.5, "handoff": {"reason": "question"}})
    found = tasks.list(evaluate_task_attributes=expression)
    assert [json.loads(task.attributes)["handoff"]["reason"] for task in found] == matched


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ('a == "x" OR b == "y"', "'OR' is not supported"),
        ('skills HAS "support"', "'HAS' is not supported"),
        ('language IN ["en", "es"]', "'IN' is not supported"),
        ('a != "x"', "cannot read '!= \"x\"'"),
        ('a = "x"', "cannot read '= \"x\"'"),
        ('(a == "x")', "cannot read '(a == \"x\")'"),
        ('list[0] == "x"', "cannot read '[0] == \"x\"'"),
        ("score > 1", "cannot read '> 1'"),
        ('a == "x" AND', "expected `operand == operand`, got ''"),
        ("a == b == c", "expected `operand == operand`, got 'a == b == c'"),
        ("customer", "expected `operand == operand`, got 'customer'"),
    ],
)
def test_an_expression_outside_the_subset_is_400(tasks, emulator, refused, flex, expression, reason):
    """Valid TaskRouter or not, the emulator refuses rather than guess; the message says so."""
    seed_task(emulator, flex, {"a": "x"})
    answer = refused(lambda: tasks.list(evaluate_task_attributes=expression))
    assert answer == (400, 20001, f"Invalid EvaluateTaskAttributes {expression!r}: {reason}; {OUTSIDE_SUBSET}")


# The other filters, ordering and paging ---------------------------------------------------------------------


def test_assignment_status_filters_and_repeats(tasks, emulator, flex):
    pending = seed_task(emulator, flex, {"n": 1})
    assigned = seed_task(emulator, flex, {"n": 2}, assignment_status="assigned")
    seed_task(emulator, flex, {"n": 3}, assignment_status="completed")
    assert [t.sid for t in tasks.list(assignment_status=["pending"])] == [pending["sid"]]
    assert [t.sid for t in tasks.list(assignment_status=["pending", "assigned"])] == [pending["sid"], assigned["sid"]]
    assert parse_qs(emulator.requests[-1].query)["AssignmentStatus"] == ["pending", "assigned"]  # sent as repeated keys
    assert [t.sid for t in tasks.list(assignment_status=["pending,assigned"])] == [pending["sid"], assigned["sid"]]
    assert len(tasks.list()) == 3


def test_workflow_and_expression_filters_combine(tasks, emulator, flex):
    other_workflow = taskrouter.add_workflow(emulator, flex.workspace_sid, "Escalations")
    on_default = seed_task(emulator, flex, {"team": "billing"})
    on_other = seed_task(
        emulator, flex, {"team": "billing"}, workflow_sid=other_workflow["sid"], workflow_friendly_name="Escalations"
    )
    assert [
        t.sid for t in tasks.list(workflow_sid=other_workflow["sid"], evaluate_task_attributes='team == "billing"')
    ] == [on_other["sid"]]
    assert [t.sid for t in tasks.list(workflow_name="Assign to Anyone")] == [on_default["sid"]]
    assert [t.sid for t in tasks.list(priority=3)] == []


def test_tasks_of_another_workspace_are_not_listed(twilio, emulator, flex):
    seed_task(emulator, flex, {"team": "billing"})
    other = taskrouter.add_workspace(emulator, "Another workspace")
    assert twilio.taskrouter.v1.workspaces(other["sid"]).tasks.list() == []


def test_ordering(tasks, emulator, flex, refused):
    low = seed_task(emulator, flex, {"n": 1}, priority=1)
    high = seed_task(emulator, flex, {"n": 2}, priority=9)
    also_low = seed_task(emulator, flex, {"n": 3}, priority=1)
    assert [t.sid for t in tasks.list()] == [low["sid"], high["sid"], also_low["sid"]]  # oldest first
    assert [t.sid for t in tasks.list(ordering="Priority:desc")] == [high["sid"], low["sid"], also_low["sid"]]
    assert [t.sid for t in tasks.list(ordering="Priority:asc,DateCreated:desc")] == [
        also_low["sid"],
        low["sid"],
        high["sid"],
    ]
    for invalid in ("Priority", "Age:asc", "Priority:up", "DateCreated:asc,VirtualStartTime:desc"):
        status, code, message = refused(lambda ordering=invalid: tasks.list(ordering=ordering))
        assert (status, code) == (400, 20001) and message.startswith(f"Invalid Ordering {invalid!r}")


def test_pages_keep_the_filters(tasks, emulator, flex):
    """The SDK follows next_page_url; it must read on in the filtered list, as with Twilio."""
    matching = [seed_task(emulator, flex, {"team": "billing", "n": n})["sid"] for n in range(3)]
    seed_task(emulator, flex, {"team": "sales"})
    found = tasks.list(
        evaluate_task_attributes='team == "billing"', assignment_status=["pending", "reserved"], page_size=2
    )
    assert [t.sid for t in found] == matching
    first_page = emulator.calls(operation="GET /v1/Workspaces/{WorkspaceSid}/Tasks")[0].response["meta"]
    next_query = parse_qs(urlsplit(first_page["next_page_url"]).query)
    assert next_query == {
        "EvaluateTaskAttributes": ['team == "billing"'],
        "AssignmentStatus": ["pending", "reserved"],
        "PageSize": ["2"],
        "Page": ["1"],
    }
    assert len(emulator.calls(operation="GET /v1/Workspaces/{WorkspaceSid}/Tasks")) == 2


def test_an_unknown_workspace_is_404(twilio, emulator, refused):
    answer = refused(lambda: twilio.taskrouter.v1.workspaces(UNKNOWN_WORKSPACE).tasks.list())
    assert answer == (404, 20404, f"The requested resource /v1/Workspaces/{UNKNOWN_WORKSPACE}/Tasks was not found")
