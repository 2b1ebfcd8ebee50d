"""TaskRouter's handoff lifecycle through the real proxy with the real twilio Python SDK: the workspace's signed event
callbacks to a loopback receiver, a task's and a reservation's transitions and their errors, workers, activities,
queues and their real-time statistics, and Flex's interaction participants."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from twilio.request_validator import RequestValidator

from tests.twilio_emulator.test_taskrouter import hand_over
from twilio_emulator import FlexAccount, agents, participants_of, seed_flex_account
from twilio_emulator.products import taskrouter, taskrouter_workers

EVENTS_PATH = "/taskrouter-events"
UNKNOWN_ACTIVITY = "WA" + "0" * 32


@pytest.fixture
def flex(emulator) -> FlexAccount:
    return seed_flex_account(emulator)


@pytest.fixture
def events_url(twilio, flex, webhook_receiver, one_sender) -> str:
    """The workspace's EventCallbackUrl, set through the API: the receiver's."""
    url = webhook_receiver.base + EVENTS_PATH
    twilio.taskrouter.v1.workspaces(flex.workspace_sid).update(event_callback_url=url)
    return url


def received(emulator, receiver) -> list[dict]:
    """The parameters of every callback the receiver got, in the order it got them, once the outbox is idle."""
    assert emulator.outbox.wait_idle(10)
    return [callback["params"] for callback in receiver.received]


def event_types(emulator, receiver) -> list[str]:
    return [params["EventType"] for params in received(emulator, receiver)]


def handed_over_task(twilio, emulator, flex: FlexAccount) -> dict:
    """The task an inbound interaction on the seeded conversation makes."""
    interaction = hand_over(twilio, flex, flex.conversation_sid, {"customerName": "Ada"})
    return emulator.table("tasks")[interaction.routing["properties"]["sid"]]


def workspace(twilio, flex: FlexAccount):
    return twilio.taskrouter.v1.workspaces(flex.workspace_sid)


# The workspace's events ---------------------------------------------------------------------------------------


def test_the_workspace_update_sets_its_event_callbacks_and_names(twilio, emulator, flex, webhook_receiver):
    url = webhook_receiver.base + EVENTS_PATH
    available = next(a for a in emulator.table("activities").values() if a["friendly_name"] == "Available")
    updated = workspace(twilio, flex).update(
        event_callback_url=url,
        events_filter="task.created,task.completed",
        friendly_name="Support",
        timeout_activity_sid=available["sid"],
    )
    assert (updated.timeout_activity_sid, updated.timeout_activity_name) == (available["sid"], "Available")
    assert (updated.event_callback_url, updated.events_filter, updated.friendly_name) == (
        url,
        "task.created,task.completed",
        "Support",
    )
    assert workspace(twilio, flex).fetch().event_callback_url == url
    assert emulator.requests[-1].response == emulator.table("workspaces")[flex.workspace_sid]


def test_a_task_created_sends_task_created_signed_with_the_documented_parameters(
    twilio, emulator, flex, webhook_receiver, events_url, account
):
    task = handed_over_task(twilio, emulator, flex)

    assert emulator.outbox.wait_idle(10)
    (got,) = webhook_receiver.received
    params = got["params"]
    assert got["path"] == EVENTS_PATH
    assert RequestValidator(account.auth_token).validate(events_url, params, got["signature"])
    assert re.fullmatch(r"EV[0-9a-f]{32}", params.pop("Sid"))
    timestamp, timestamp_ms = int(params.pop("Timestamp")), int(params.pop("TimestampMs"))
    assert timestamp == timestamp_ms // 1000 and abs(timestamp - emulator.now().timestamp()) < 5
    chat = taskrouter.task_channel_named(emulator, flex.workspace_sid, "chat")
    assert params == {
        "EventType": "task.created",
        "EventDescription": f"Task {task['sid']} was created",
        "AccountSid": account.sid,
        "WorkspaceSid": flex.workspace_sid,
        "WorkspaceName": "Flex Task Assignment",
        "ResourceType": "task",
        "ResourceSid": task["sid"],
        "TaskSid": task["sid"],
        "TaskAttributes": task["attributes"],
        "TaskAge": "0",
        "TaskPriority": "0",
        "TaskAssignmentStatus": "pending",
        "TaskChannelSid": chat["sid"],
        "TaskChannelUniqueName": "chat",
        "WorkflowSid": flex.workflow_sid,
    }


def test_the_handoff_sends_each_transitions_events_in_order(twilio, emulator, flex, webhook_receiver, events_url):
    worker = agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    agents.accept(emulator, reservation["sid"])
    workspace(twilio, flex).tasks(task["sid"]).update(assignment_status="wrapping")
    workspace(twilio, flex).tasks(task["sid"]).update(assignment_status="completed", reason="handed back to the AI")

    sent = received(emulator, webhook_receiver)
    assert [(p["EventType"], p.get("TaskAssignmentStatus"), p.get("ReservationSid")) for p in sent] == [
        ("worker.created", None, None),
        ("task.created", "pending", None),
        ("reservation.created", "reserved", reservation["sid"]),
        ("reservation.accepted", "assigned", reservation["sid"]),
        ("task.wrapup", "wrapping", None),
        ("reservation.wrapup", "wrapping", reservation["sid"]),
        ("task.completed", "completed", None),
        ("reservation.completed", "completed", reservation["sid"]),
    ]
    accepted, completed = sent[3], sent[7]
    assert (accepted["ResourceType"], accepted["ResourceSid"]) == ("reservation", reservation["sid"])
    assert (accepted["WorkerSid"], accepted["WorkerName"], accepted["WorkerActivityName"]) == (
        worker["sid"],
        "alice",
        "Available",
    )
    queue = workspace(twilio, flex).task_queues.list()[0]
    assert (accepted["TaskQueueSid"], accepted["TaskQueueName"], accepted["WorkflowSid"]) == (
        queue.sid,
        "Everyone",
        flex.workflow_sid,
    )
    assert completed["TaskCompletedReason"] == "handed back to the AI" and "TaskCanceledReason" not in completed
    assert len({params["Sid"] for params in sent}) == len(sent)


def test_the_events_filter_sends_only_the_listed_event_types(twilio, emulator, flex, webhook_receiver, events_url):
    workspace(twilio, flex).update(events_filter="reservation.accepted, task.completed")
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    agents.complete(emulator, task["sid"], "resolved")
    assert event_types(emulator, webhook_receiver) == ["reservation.accepted", "task.completed"]


def test_without_a_callback_url_nothing_is_sent(twilio, emulator, flex, webhook_receiver, one_sender):
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    assert workspace(twilio, flex).fetch().event_callback_url is None
    assert received(emulator, webhook_receiver) == [] and one_sender.sent == []


def test_an_event_nobody_receives_uses_no_sid(twilio, emulator, webhook_receiver):
    """The account makes the same SIDs whether or not events are filtered out: none is spent on an unsent event."""

    def second_interaction_sid(events_filter: str | None) -> str:
        emulator.reset()
        flex = seed_flex_account(emulator)
        if events_filter is not None:
            workspace(twilio, flex).update(event_callback_url=webhook_receiver.base, events_filter=events_filter)
        hand_over(twilio, flex, flex.conversation_sid)
        return hand_over(twilio, flex, flex.conversation_sid).sid

    assert second_interaction_sid("worker.created") == second_interaction_sid(None)
    assert emulator.outbox.wait_idle(10) and webhook_receiver.received == []


def test_reordered_and_duplicated_events_keep_their_sids(twilio, emulator, flex, webhook_receiver, events_url):
    """TaskRouter may send an event twice or out of order: the outbox plays both, and each event keeps its Sid."""
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    assert emulator.outbox.wait_idle(10)
    webhook_receiver.received.clear()
    emulator.outbox.pause()
    reservation = agents.offer(emulator, task["sid"])
    emulator.outbox.duplicate_next()
    agents.accept(emulator, reservation["sid"])
    emulator.outbox.release(reversed)

    sent = received(emulator, webhook_receiver)
    assert [params["EventType"] for params in sent] == [
        "reservation.accepted",
        "reservation.accepted",
        "reservation.created",
    ]
    assert sent[0] == sent[1] and sent[0]["Sid"] != sent[2]["Sid"]
    assert sent[2]["TaskAssignmentStatus"] == "reserved"  # as it was when the event was queued


# A task's transitions ------------------------------------------------------------------------------------------


def assigned_task(twilio, emulator, flex: FlexAccount) -> tuple[dict, dict]:
    """A handed-over task an agent accepted, and its reservation."""
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    return task, reservation


def cannot(verb: str, task: dict, flex: FlexAccount, account, why: str) -> tuple[int, int, str]:
    return 400, 20001, f"Cannot {verb} {task['sid']} in workspace {flex.workspace_sid} for account {account.sid} {why}"


def test_a_task_may_be_completed_only_once_assigned(twilio, emulator, flex, refused, account):
    task = handed_over_task(twilio, emulator, flex)
    update = workspace(twilio, flex).tasks(task["sid"]).update
    not_assigned = "because it is not currently assigned."
    assert refused(lambda: update(assignment_status="completed")) == cannot(
        "complete task", task, flex, account, not_assigned
    )
    assert refused(lambda: update(assignment_status="wrapping")) == cannot(
        "wrap up a task", task, flex, account, "because it's not currently assigned."
    )
    assert task["assignment_status"] == "pending"


def test_an_assigned_task_cannot_be_canceled(twilio, emulator, flex, refused, account):
    task, _ = assigned_task(twilio, emulator, flex)
    answer = refused(lambda: workspace(twilio, flex).tasks(task["sid"]).update(assignment_status="canceled"))
    assert answer == cannot("cancel task", task, flex, account, "because it is not pending or reserved.")


@pytest.mark.parametrize("status", ["pending", "reserved", "assigned"])
def test_only_canceled_wrapping_and_completed_may_be_asked_for(twilio, emulator, flex, refused, status):
    task = handed_over_task(twilio, emulator, flex)
    answer = refused(lambda: workspace(twilio, flex).tasks(task["sid"]).update(assignment_status=status))
    assert answer == (
        400,
        20001,
        f"Invalid AssignmentStatus {status!r}: a task may be updated to canceled, wrapping or completed",
    )


def test_a_completed_task_is_final(twilio, emulator, flex, refused, account):
    task, _ = assigned_task(twilio, emulator, flex)
    tasks = workspace(twilio, flex).tasks(task["sid"])
    assert tasks.update(assignment_status="completed", reason="resolved").assignment_status == "completed"
    assert refused(lambda: tasks.update(assignment_status="completed")) == cannot(
        "complete task", task, flex, account, "because it is not currently assigned."
    )
    assert tasks.fetch().reason == "resolved"


def test_canceling_a_reserved_task_cancels_its_reservation(twilio, emulator, flex, webhook_receiver, events_url):
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    canceled = workspace(twilio, flex).tasks(task["sid"]).update(assignment_status="canceled", reason="customer left")
    assert (canceled.assignment_status, canceled.reason) == ("canceled", "customer left")
    fetched = workspace(twilio, flex).tasks(task["sid"]).reservations(reservation["sid"]).fetch()
    assert fetched.reservation_status == "canceled"
    sent = received(emulator, webhook_receiver)[-2:]
    assert [(p["EventType"], p["TaskCanceledReason"]) for p in sent] == [
        ("task.canceled", "customer left"),
        ("reservation.canceled", "customer left"),
    ]


def test_new_attributes_send_task_updated_before_the_transition(twilio, emulator, flex, webhook_receiver, events_url):
    task, _ = assigned_task(twilio, emulator, flex)
    attributes = json.dumps({**json.loads(task["attributes"]), "handedBack": True})
    workspace(twilio, flex).tasks(task["sid"]).update(attributes=attributes, assignment_status="wrapping")
    sent = received(emulator, webhook_receiver)[-3:]
    assert [(p["EventType"], p["TaskAssignmentStatus"]) for p in sent] == [
        ("task.updated", "assigned"),
        ("task.wrapup", "wrapping"),
        ("reservation.wrapup", "wrapping"),
    ]
    assert sent[0]["TaskAttributes"] == attributes == task["attributes"]


def test_attributes_that_are_not_a_json_object_are_400_and_change_nothing(twilio, emulator, flex, refused):
    task = handed_over_task(twilio, emulator, flex)
    before = task["attributes"]
    answer = refused(lambda: workspace(twilio, flex).tasks(task["sid"]).update(attributes="[1, 2]"))
    assert answer == (400, 20001, "Invalid Attributes '[1, 2]': expected a JSON object")
    assert task["attributes"] == before


def test_a_tasks_age_is_counted_by_the_accounts_clock(twilio, emulator, flex):
    task = handed_over_task(twilio, emulator, flex)
    emulator.advance(45)
    assert workspace(twilio, flex).tasks(task["sid"]).fetch().age == 45
    assert [t.age for t in workspace(twilio, flex).tasks.list()] == [45]


def test_priority_and_virtual_start_time_are_set_as_given(twilio, emulator, flex):
    task = handed_over_task(twilio, emulator, flex)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    updated = workspace(twilio, flex).tasks(task["sid"]).update(priority=7, virtual_start_time=moment)
    assert (updated.priority, updated.virtual_start_time) == (7, moment)


def test_if_match_is_the_tasks_etag(twilio, emulator, flex, refused):
    task = handed_over_task(twilio, emulator, flex)
    tasks = workspace(twilio, flex).tasks(task["sid"])
    tasks.fetch()
    etag = emulator.requests[-1].response_headers["ETag"]
    answer = refused(lambda: tasks.update(priority=5, if_match=str(int(etag) + 1)))
    assert answer == (412, 20412, f"Precondition Failed: If-Match '{int(etag) + 1}' is not the ETag of {task['sid']}")
    assert tasks.update(priority=5, if_match=etag).priority == 5
    assert emulator.requests[-1].response_headers["ETag"] == str(int(etag) + 1)


# Reservations --------------------------------------------------------------------------------------------------


def test_a_reservation_accepted_through_the_api_assigns_its_task(twilio, emulator, flex, refused):
    worker = agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    reservations = workspace(twilio, flex).tasks(task["sid"]).reservations
    assert [r.sid for r in reservations.list(reservation_status="pending")] == [reservation["sid"]]
    assert reservations.list(reservation_status="accepted") == []
    assert [r.sid for r in reservations.list(worker_sid=worker["sid"])] == [reservation["sid"]]

    reservations(reservation["sid"]).fetch()
    assert emulator.requests[-1].response_headers["ETag"] == "1"
    stale = refused(lambda: reservations(reservation["sid"]).update(reservation_status="accepted", if_match="0"))
    assert stale == (412, 20412, f"Precondition Failed: If-Match '0' is not the ETag of {reservation['sid']}")
    accepted = reservations(reservation["sid"]).update(reservation_status="accepted", if_match="1")
    assert (accepted.reservation_status, accepted.worker_name) == ("accepted", "alice")
    assert workspace(twilio, flex).tasks(task["sid"]).fetch().assignment_status == "assigned"
    assert participants_of(emulator, flex.conversation_sid) == []  # only Flex adds the agent, not TaskRouter's API


def test_a_rejected_reservation_puts_the_task_back_and_may_move_the_worker(
    twilio, emulator, flex, webhook_receiver, events_url
):
    worker = agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    unavailable = next(a for a in emulator.table("activities").values() if a["friendly_name"] == "Unavailable")
    reservations = workspace(twilio, flex).tasks(task["sid"]).reservations
    reservations(reservation["sid"]).update(reservation_status="rejected", worker_activity_sid=unavailable["sid"])

    assert task["assignment_status"] == "pending"
    assert workspace(twilio, flex).workers(worker["sid"]).fetch().activity_name == "Unavailable"
    sent = received(emulator, webhook_receiver)[-2:]
    assert [p["EventType"] for p in sent] == ["reservation.rejected", "worker.activity.update"]
    assert sent[1]["WorkerPreviousActivitySid"] != unavailable["sid"] == sent[1]["WorkerActivitySid"]


@pytest.mark.parametrize(
    ("first", "then", "message"),
    [
        ("accepted", "accepted", "Cannot accept reservation {sid} because it is accepted"),
        ("accepted", "rejected", "Cannot reject reservation {sid} because it is accepted"),
        (None, "wrapping", "Cannot wrap up reservation {sid} because it is pending"),
        (None, "completed", "Cannot complete reservation {sid} because it is pending"),
        (None, "canceled", "Invalid ReservationStatus 'canceled': a reservation may be updated to accepted, "),
    ],
)
def test_a_reservation_moves_only_as_documented(twilio, emulator, flex, refused, first, then, message):
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    context = workspace(twilio, flex).tasks(task["sid"]).reservations(reservation["sid"])
    if first:
        context.update(reservation_status=first)
    status, code, answered = refused(lambda: context.update(reservation_status=then))
    assert (status, code) == (400, 20001) and answered.startswith(message.format(sid=reservation["sid"]))


def test_a_reservation_instruction_is_outside_the_emulator(twilio, emulator, flex, refused):
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    context = workspace(twilio, flex).tasks(task["sid"]).reservations(reservation["sid"])
    answer = refused(lambda: context.update(instruction="conference", reservation_status="accepted"))
    assert answer == (
        400,
        20001,
        "Instruction of a reservation update is outside the Twilio emulator: see twilio_emulator's README",
    )
    assert reservation["reservation_status"] == "pending"


def test_a_reservation_of_another_task_is_404(twilio, emulator, flex, refused):
    agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    other = handed_over_task(twilio, emulator, flex)
    reservation = agents.offer(emulator, task["sid"])
    answer = refused(lambda: workspace(twilio, flex).tasks(other["sid"]).reservations(reservation["sid"]).fetch())
    path = f"/v1/Workspaces/{flex.workspace_sid}/Tasks/{other['sid']}/Reservations/{reservation['sid']}"
    assert answer == (404, 20404, f"The requested resource {path} was not found")


# Workers and activities ----------------------------------------------------------------------------------------


def test_the_flex_workspace_has_flexs_activities_and_everyone_queue(twilio, emulator, flex):
    workspace_sid = flex.workspace_sid
    seeded = emulator.table("workspaces")[workspace_sid]
    offline = workspace(twilio, flex).activities(seeded["default_activity_sid"]).fetch()
    assert (offline.friendly_name, offline.available) == ("Offline", False)
    assert seeded["timeout_activity_sid"] == offline.sid
    activities = [(a["friendly_name"], a["available"]) for a in emulator.table("activities").values()]
    assert activities == [("Offline", False), ("Available", True), ("Unavailable", False), ("Break", False)]
    (queue,) = workspace(twilio, flex).task_queues.list()
    assert (queue.friendly_name, queue.target_workers) == ("Everyone", "1==1")
    workflow = emulator.table("workflows")[flex.workflow_sid]
    assert queue.sid == json.loads(workflow["configuration"])["task_routing"]["default_filter"]["queue"]
    assert workspace(twilio, flex).task_queues(queue.sid).fetch().friendly_name == "Everyone"


def test_a_task_of_the_flex_workflow_is_in_the_everyone_queue(twilio, emulator, flex):
    task = handed_over_task(twilio, emulator, flex)
    (queue,) = workspace(twilio, flex).task_queues.list()
    fetched = workspace(twilio, flex).tasks(task["sid"]).fetch()
    assert (fetched.task_queue_sid, fetched.task_queue_friendly_name) == (queue.sid, "Everyone")
    assert [t.sid for t in workspace(twilio, flex).tasks.list(task_queue_name="Everyone")] == [task["sid"]]


def test_a_worker_is_created_in_the_default_activity_and_sends_worker_created(
    twilio, emulator, flex, webhook_receiver, events_url
):
    created = workspace(twilio, flex).workers.create(friendly_name="bob", attributes='{"languages": ["en"]}')
    assert emulator.requests[-1].status == 201
    assert (created.activity_name, created.available, created.attributes) == ("Offline", False, '{"languages": ["en"]}')
    assert workspace(twilio, flex).workers(created.sid).fetch().sid == created.sid
    assert emulator.requests[-1].response_headers["ETag"] == "1"
    (params,) = received(emulator, webhook_receiver)
    assert (params["EventType"], params["WorkerSid"], params["WorkerVersion"]) == ("worker.created", created.sid, "1")


def test_a_workers_name_is_unique_whatever_its_case(twilio, emulator, flex, refused):
    workers = workspace(twilio, flex).workers
    workers.create(friendly_name="Alice")
    answer = refused(lambda: workers.create(friendly_name="alice"))
    assert answer == (400, 20001, "Worker with friendly name 'alice' already exists")
    bob = workers.create(friendly_name="bob")
    assert refused(lambda: workers(bob.sid).update(friendly_name="ALICE"))[2] == (
        "Worker with friendly name 'ALICE' already exists"
    )
    assert workers(bob.sid).update(friendly_name="Bob").friendly_name == "Bob"


def test_an_activity_of_no_workspace_is_400(twilio, emulator, flex, refused):
    answer = refused(lambda: workspace(twilio, flex).workers.create(friendly_name="bob", activity_sid=UNKNOWN_ACTIVITY))
    message = f"Invalid ActivitySid {UNKNOWN_ACTIVITY}: not an activity of workspace {flex.workspace_sid}"
    assert answer == (400, 20001, message)
    assert refused(lambda: workspace(twilio, flex).update(default_activity_sid=UNKNOWN_ACTIVITY)) == (
        400,
        20001,
        message,
    )


def test_a_workers_activity_change_sends_the_time_in_the_previous_one(
    twilio, emulator, flex, webhook_receiver, events_url, refused
):
    worker = agents.add_worker(emulator, "alice", activity="Offline")
    available = next(a for a in emulator.table("activities").values() if a["friendly_name"] == "Available")
    emulator.advance(90)
    updated = workspace(twilio, flex).workers(worker["sid"]).update(activity_sid=available["sid"])
    assert (updated.activity_name, updated.available) == ("Available", True)
    params = received(emulator, webhook_receiver)[-1]
    assert params["EventType"] == "worker.activity.update"
    assert (
        params["WorkerPreviousActivitySid"] == emulator.table("workspaces")[flex.workspace_sid]["default_activity_sid"]
    )
    assert params["WorkerTimeInPreviousActivity"] == "90"
    assert 90_000 <= int(params["WorkerTimeInPreviousActivityMs"]) < 91_000
    assert params["WorkerVersion"] == "2"
    stale = refused(lambda: workspace(twilio, flex).workers(worker["sid"]).update(attributes="{}", if_match="1"))
    assert stale == (412, 20412, f"Precondition Failed: If-Match '1' is not the ETag of {worker['sid']}")


def test_the_same_activity_again_changes_nothing(twilio, emulator, flex, webhook_receiver, events_url):
    worker = agents.add_worker(emulator, "alice")
    workspace(twilio, flex).workers(worker["sid"]).update(activity_sid=worker["activity_sid"])
    assert event_types(emulator, webhook_receiver) == ["worker.created"]


def test_a_workers_attributes_change_sends_worker_attributes_update(
    twilio, emulator, flex, webhook_receiver, events_url
):
    worker = agents.add_worker(emulator, "alice")
    workspace(twilio, flex).workers(worker["sid"]).update(attributes='{"skills": ["billing"]}')
    params = received(emulator, webhook_receiver)[-1]
    assert (params["EventType"], params["WorkerAttributes"]) == ("worker.attributes.update", '{"skills": ["billing"]}')


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({}, ["alice", "bob", "carol"]),
        ({"activity_name": "Available"}, ["alice", "carol"]),
        ({"available": "false"}, ["bob"]),
        ({"available": "1"}, ["alice", "carol"]),
        ({"friendly_name": "bob"}, ["bob"]),
        ({"target_workers_expression": 'team == "billing"'}, ["carol"]),
        ({"task_queue_name": "Everyone"}, ["alice", "bob", "carol"]),
        ({"task_queue_name": "Nobody"}, []),
    ],
)
def test_workers_are_listed_by_the_filters_given(twilio, emulator, flex, query, names):
    agents.add_worker(emulator, "alice")
    agents.add_worker(emulator, "bob", activity="Offline")
    agents.add_worker(emulator, "carol", attributes={"team": "billing"})
    assert [w.friendly_name for w in workspace(twilio, flex).workers.list(**query)] == names


def test_ordering_and_rejecting_pending_reservations_are_outside_the_emulator(twilio, emulator, flex, refused):
    worker = agents.add_worker(emulator, "alice")
    answer = refused(lambda: workspace(twilio, flex).workers.list(ordering="DateStatusChanged:desc"))
    outside = "is outside the Twilio emulator: see twilio_emulator's README"
    assert answer == (400, 20001, f"Ordering 'DateStatusChanged:desc' {outside}")
    reject = workspace(twilio, flex).workers(worker["sid"]).update
    assert refused(lambda: reject(reject_pending_reservations=True)) == (
        400,
        20001,
        f"RejectPendingReservations {outside}",
    )


def test_queues_are_listed_by_the_workers_eligible_for_them(twilio, emulator, flex):
    everyone = taskrouter.routed_queue(emulator, emulator.table("workflows")[flex.workflow_sid])
    taskrouter_workers.add_task_queue(emulator, flex.workspace_sid, "Billing", 'team == "billing"')
    alice = agents.add_worker(emulator, "alice")
    carol = agents.add_worker(emulator, "carol", attributes={"team": "billing"})
    queues = workspace(twilio, flex).task_queues
    assert [q.friendly_name for q in queues.list(worker_sid=alice["sid"])] == ["Everyone"]
    assert [q.friendly_name for q in queues.list(worker_sid=carol["sid"])] == ["Everyone", "Billing"]
    assert [q.friendly_name for q in queues.list(evaluate_worker_attributes='{"team": "billing"}')] == [
        "Everyone",
        "Billing",
    ]
    assert [q.sid for q in queues.list(friendly_name="Everyone")] == [everyone["sid"]]


# Real-time statistics ------------------------------------------------------------------------------------------


def test_real_time_statistics_follow_the_workers_and_the_waiting_tasks(twilio, emulator, flex, account):
    (queue,) = workspace(twilio, flex).task_queues.list()
    statistics = workspace(twilio, flex).task_queues(queue.sid).real_time_statistics()
    alice = agents.add_worker(emulator, "alice")
    bob = agents.add_worker(emulator, "bob", activity="Offline")
    first = handed_over_task(twilio, emulator, flex)
    emulator.advance(30)
    second = handed_over_task(twilio, emulator, flex)
    activity_sids = {a["friendly_name"]: a["sid"] for a in emulator.table("activities").values()}

    def expected(available: int, by_activity: dict, by_status: dict, longest: dict | None, age: int) -> dict:
        return {
            "account_sid": account.sid,
            "activity_statistics": [
                {"friendly_name": name, "sid": sid, "workers": by_activity.get(name, 0)}
                for name, sid in activity_sids.items()
            ],
            "longest_task_waiting_age": age,
            "longest_task_waiting_sid": longest["sid"] if longest else None,
            "longest_relative_task_age_in_queue": age,
            "longest_relative_task_sid_in_queue": longest["sid"] if longest else None,
            "task_queue_sid": queue.sid,
            "tasks_by_priority": {"0": sum(by_status.values())} if by_status else {},
            "tasks_by_status": {"pending": 0, "reserved": 0, "assigned": 0, "wrapping": 0} | by_status,
            "total_available_workers": available,
            "total_eligible_workers": 2,
            "total_tasks": sum(by_status.values()),
            "workspace_sid": flex.workspace_sid,
            "url": f"{queue.url}/RealTimeStatistics",
        }

    statistics.fetch()
    assert emulator.requests[-1].response == expected(1, {"Available": 1, "Offline": 1}, {"pending": 2}, first, 30)

    agents.set_activity(emulator, bob["sid"], "Available")
    agents.accept(emulator, agents.offer(emulator, first["sid"], alice["sid"])["sid"])
    emulator.advance(15)
    statistics.fetch()
    assert emulator.requests[-1].response == expected(2, {"Available": 2}, {"pending": 1, "assigned": 1}, second, 15)

    agents.complete(emulator, first["sid"])
    agents.time_out(emulator, second["sid"])
    statistics.fetch()
    assert emulator.requests[-1].response == expected(2, {"Available": 2}, {}, None, 0)


def test_real_time_statistics_of_one_channel(twilio, emulator, flex):
    handed_over_task(twilio, emulator, flex)
    (queue,) = workspace(twilio, flex).task_queues.list()
    statistics = workspace(twilio, flex).task_queues(queue.sid).real_time_statistics()
    assert statistics.fetch(task_channel="chat").total_tasks == 1
    assert statistics.fetch(task_channel="voice").total_tasks == 0


# Flex's interaction participants -------------------------------------------------------------------------------


def interaction_of(twilio, task: dict):
    attributes = json.loads(task["attributes"])
    return twilio.flex_api.v1.interaction(attributes["flexInteractionSid"]).channels(
        attributes["flexInteractionChannelSid"]
    )


def test_an_interaction_has_its_customer_and_then_the_agent_who_accepted(twilio, emulator, flex):
    worker = agents.add_worker(emulator, "alice")
    task = handed_over_task(twilio, emulator, flex)
    channel = interaction_of(twilio, task)
    assert [(p.type, p.routing_properties) for p in channel.participants.list()] == [("customer", None)]

    reservation = agents.accept(emulator, agents.offer(emulator, task["sid"])["sid"])
    routing = {"task_sid": task["sid"], "worker_sid": worker["sid"], "reservation_sid": reservation["sid"]}
    assert [(p.type, p.routing_properties) for p in channel.participants.list()] == [
        ("customer", None),
        ("agent", routing),
    ]


def test_an_agents_wrapup_removes_the_agent_and_wraps_the_task_up(twilio, emulator, flex):
    task, _ = assigned_task(twilio, emulator, flex)
    channel = interaction_of(twilio, task)
    agent = channel.participants.list()[1]
    assert [p["identity"] for p in participants_of(emulator, flex.conversation_sid)] == ["alice"]

    channel.participants(agent.sid).update(status="wrapup")
    assert task["assignment_status"] == "wrapping"
    assert participants_of(emulator, flex.conversation_sid) == []
    assert emulator.table("conversations")[flex.conversation_sid]["state"] == "active"

    channel.participants(agent.sid).update(status="closed")
    assert task["assignment_status"] == "completed"


def test_an_agent_closed_while_assigned_completes_the_task(twilio, emulator, flex):
    task, reservation = assigned_task(twilio, emulator, flex)
    channel = interaction_of(twilio, task)
    channel.participants(channel.participants.list()[1].sid).update(status="closed")
    assert (task["assignment_status"], reservation["reservation_status"]) == ("completed", "completed")
    assert participants_of(emulator, flex.conversation_sid) == []


def test_the_customers_status_cannot_change(twilio, emulator, flex, refused):
    task = handed_over_task(twilio, emulator, flex)
    channel = interaction_of(twilio, task)
    customer = channel.participants.list()[0]
    answer = refused(lambda: channel.participants(customer.sid).update(status="closed"))
    assert answer == (400, 20001, f"Participant {customer.sid} is not an agent with a task: its Status cannot change")
    assert task["assignment_status"] == "pending"


def test_a_participant_created_through_the_api_is_listed(twilio, emulator, flex):
    task = handed_over_task(twilio, emulator, flex)
    channel = interaction_of(twilio, task)
    created = channel.participants.create(type="external", media_properties={"identity": "supervisor-bot"})
    assert emulator.requests[-1].status == 200
    assert [p.sid for p in channel.participants.list()][-1] == created.sid
    assert created.type == "external" and task["assignment_status"] == "pending"
