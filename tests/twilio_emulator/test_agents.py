"""agents.py: a Flex agent and TaskRouter's clock played in-process, each move sending its events to a loopback
receiver and changing Conversations and Flex as Flex does."""

from __future__ import annotations

import pytest

from tests.twilio_emulator.test_taskrouter import seed_task
from twilio_emulator import FlexAccount, TwilioError, agents, participants_of, seed_flex_account
from twilio_emulator.products import taskrouter_workers

TIMED_OUT = "Task canceled on Workflow timeout"


@pytest.fixture
def flex(emulator) -> FlexAccount:
    return seed_flex_account(emulator)


@pytest.fixture
def events(emulator, flex, webhook_receiver, one_sender):
    """The event types the workspace sends to the receiver, in order: call it once the moves are made."""
    with emulator.lock:
        emulator.table("workspaces")[flex.workspace_sid]["event_callback_url"] = webhook_receiver.base + "/events"

    def sent() -> list[dict]:
        assert emulator.outbox.wait_idle(10)
        return [callback["params"] for callback in webhook_receiver.received]

    return sent


def conversation_task(emulator, flex: FlexAccount, **fields) -> dict:
    """A pending task of the seeded conversation, in the Everyone queue, as Flex's interaction makes one."""
    return seed_task(emulator, flex, {"conversationSid": flex.conversation_sid}, **fields)


# Workers and activities ------------------------------------------------------------------------------------------


def test_a_worker_is_a_flex_agent_in_the_activity_asked_for(emulator, flex, events):
    alice = agents.add_worker(emulator, "alice")
    bob = agents.add_worker(emulator, "bob", activity="Break", attributes={"skills": ["billing"]})
    assert (alice["activity_name"], alice["available"], alice["attributes"]) == (
        "Available",
        True,
        '{"contact_uri":"client:alice","full_name":"alice"}',
    )
    assert (bob["activity_name"], bob["available"], bob["attributes"]) == ("Break", False, '{"skills":["billing"]}')
    assert [(p["EventType"], p["WorkerName"]) for p in events()] == [
        ("worker.created", "alice"),
        ("worker.created", "bob"),
    ]


def test_an_unknown_activity_is_named_with_the_ones_there_are(emulator, flex):
    with pytest.raises(LookupError, match="no activity 'Lunch' in workspace WS[0-9a-f]+: it has Offline, Available, "):
        agents.add_worker(emulator, "alice", activity="Lunch")


def test_an_account_without_flex_has_no_agents(emulator):
    with pytest.raises(LookupError, match="the account has no Flex"):
        agents.add_worker(emulator, "alice")


def test_set_activity_moves_the_worker_and_sends_worker_activity_update(emulator, flex, events):
    worker = agents.add_worker(emulator, "alice")
    agents.set_activity(emulator, worker["sid"], "Offline")
    assert (worker["activity_name"], worker["available"]) == ("Offline", False)
    update = events()[-1]
    assert (update["EventType"], update["WorkerActivityName"]) == ("worker.activity.update", "Offline")


# TaskRouter's offer ------------------------------------------------------------------------------------------------


def test_offer_reserves_the_task_for_the_first_available_worker(emulator, flex, events):
    agents.add_worker(emulator, "bob", activity="Offline")
    alice = agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    assert (reservation["worker_sid"], reservation["worker_name"], reservation["reservation_status"]) == (
        alice["sid"],
        "alice",
        "pending",
    )
    assert task["assignment_status"] == "reserved"
    assert events()[-1]["EventType"] == "reservation.created"


def test_offer_passes_over_workers_the_tasks_queue_does_not_target(emulator, flex):
    agents.add_worker(emulator, "alice")
    carol = agents.add_worker(emulator, "carol", attributes={"team": "billing"})
    billing = taskrouter_workers.add_task_queue(emulator, flex.workspace_sid, "Billing", 'team == "billing"')
    task = conversation_task(emulator, flex, task_queue_sid=billing["sid"])
    assert agents.offer(emulator, task["sid"])["worker_sid"] == carol["sid"]


def test_what_taskrouter_never_does_is_refused(emulator, flex):
    bob = agents.add_worker(emulator, "bob", activity="Offline")
    task = conversation_task(emulator, flex)
    with pytest.raises(LookupError, match=f"no available worker for task {task['sid']}"):
        agents.offer(emulator, task["sid"])
    with pytest.raises(ValueError, match=f"worker {bob['sid']} is Offline: TaskRouter reserves available ones"):
        agents.offer(emulator, task["sid"], bob["sid"])
    alice = agents.add_worker(emulator, "alice")
    agents.offer(emulator, task["sid"], alice["sid"])
    with pytest.raises(ValueError, match="is reserved: TaskRouter reserves pending tasks only"):
        agents.offer(emulator, task["sid"], alice["sid"])


# The agent in Flex -----------------------------------------------------------------------------------------------


def test_accept_assigns_the_task_and_the_agent_joins_its_conversation(emulator, flex, events):
    agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    reservation = agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    assert (reservation["reservation_status"], task["assignment_status"]) == ("accepted", "assigned")
    assert [p["identity"] for p in participants_of(emulator, flex.conversation_sid)] == ["alice"]
    assert events()[-1]["EventType"] == "reservation.accepted"


def test_an_agent_without_a_contact_uri_joins_by_its_name(emulator, flex):
    agents.add_worker(emulator, "Grace Hopper", attributes={"email": "grace@example.com"})
    task = conversation_task(emulator, flex)
    agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    assert [p["identity"] for p in participants_of(emulator, flex.conversation_sid)] == ["Grace Hopper"]


def test_a_task_without_a_conversation_joins_none(emulator, flex):
    agents.add_worker(emulator, "alice")
    task = seed_task(emulator, flex, {"channel": "email"})
    agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    assert task["assignment_status"] == "assigned"
    assert participants_of(emulator, flex.conversation_sid) == []


def test_leave_removes_the_agent_keeps_the_conversation_and_wraps_the_task_up(emulator, flex, events):
    agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    reservation = agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    agents.leave(emulator, task["sid"])
    assert (task["assignment_status"], reservation["reservation_status"]) == ("wrapping", "wrapping")
    assert participants_of(emulator, flex.conversation_sid) == []
    assert emulator.table("conversations")[flex.conversation_sid]["state"] == "active"
    assert [p["EventType"] for p in events()[-2:]] == ["task.wrapup", "reservation.wrapup"]


def test_leave_of_a_task_not_assigned_changes_nothing(emulator, flex):
    agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    agents.wrap_up(emulator, task["sid"])
    with pytest.raises(TwilioError, match="because it's not currently assigned"):
        agents.leave(emulator, task["sid"])
    assert [p["identity"] for p in participants_of(emulator, flex.conversation_sid)] == ["alice"]


def test_wrap_up_then_complete_with_a_reason(emulator, flex, events):
    agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    reservation = agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    agents.wrap_up(emulator, task["sid"])
    agents.complete(emulator, task["sid"], reason="back to the AI")
    assert (task["assignment_status"], task["reason"], reservation["reservation_status"]) == (
        "completed",
        "back to the AI",
        "completed",
    )
    assert [(p["EventType"], p.get("TaskCompletedReason")) for p in events()[-4:]] == [
        ("task.wrapup", None),
        ("reservation.wrapup", None),
        ("task.completed", "back to the AI"),
        ("reservation.completed", "back to the AI"),
    ]


# The workflow's timeout ------------------------------------------------------------------------------------------


def test_a_waiting_task_times_out_canceled_with_taskrouters_reason(emulator, flex, events):
    task = conversation_task(emulator, flex)
    agents.time_out(emulator, task["sid"])
    assert (task["assignment_status"], task["reason"]) == ("canceled", TIMED_OUT)
    (canceled,) = [p for p in events() if p["EventType"] == "task.canceled"]
    assert canceled["TaskCanceledReason"] == TIMED_OUT and "TaskCompletedReason" not in canceled


def test_a_reserved_task_times_out_with_its_reservation(emulator, flex, events):
    agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    agents.time_out(emulator, task["sid"])
    assert reservation["reservation_status"] == "canceled"
    assert [p["EventType"] for p in events()[-2:]] == ["task.canceled", "reservation.canceled"]


def test_an_assigned_task_does_not_time_out(emulator, flex):
    agents.add_worker(emulator, "alice")
    task = conversation_task(emulator, flex)
    agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    with pytest.raises(ValueError, match="is assigned: a workflow times out waiting tasks only"):
        agents.time_out(emulator, task["sid"])
    assert task["assignment_status"] == "assigned"
