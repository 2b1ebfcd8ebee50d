"""TaskRouter's task lifecycle: a task's transitions and its reservations, each sending its documented events.

As TaskRouter documents it (https://www.twilio.com/docs/taskrouter/lifecycle-task-state, the Task and
Reservation resources): a task is pending until a reservation reserves it for a worker (reserved); the reservation
accepted, the task is assigned; rejected, pending again. A task update's AssignmentStatus may be `canceled` (a
pending or reserved task), `wrapping` (an assigned one) or `completed` (an assigned or wrapping one), its Reason
kept as the task's reason; a reservation update's ReservationStatus may be `accepted` or `rejected` (a pending
reservation, WorkerActivitySid moving the worker when it rejects), `wrapping` (an accepted one) or `completed`
(an accepted or wrapping one), and the task follows. If-Match other than the resource's ETag is 412, code 20412.
A transition from the wrong status is 400, code 20001, with TaskRouter's words where they are known:
"Cannot complete task WT… in workspace WS… for account AC… because it is not currently assigned." (an answer of
Twilio's as nyaruka/mailroom's tests record it), "Cannot wrap up a task … because it's not currently assigned."
and "Cannot cancel task … because it is not pending or reserved." (as Flex plugins' issues quote them).

Where Twilio documents nothing, the emulator assumes:

- Another AssignmentStatus (pending, reserved, assigned) is 400, code 20001: TaskRouter sets those itself. A
  reservation updated from the wrong status is 400, code 20001, "Cannot accept reservation WR… because it is
  rejected" and the like; a reservation update with anything but ReservationStatus and WorkerActivitySid
  (instructions, conference and call parameters) is outside the emulator, 400 saying so.
- Reason is not required; a canceled or completed task is kept (Twilio deletes it later). Attributes must be JSON
  text of an object, else 400 with code 20001.
- The events of a transition, in this order: a task update's Attributes first (task.updated), then its
  transition; canceled: task.canceled, then reservation.canceled for a pending reservation; wrapping:
  task.wrapup, reservation.wrapup; completed: task.completed, reservation.completed.
- Nothing happens by itself: TaskRouter's own moves (offering a task to a worker, a workflow's timeout, which
  cancels the task with the reason "Task canceled on Workflow timeout" as TaskRouter gives it) are played by
  agents.py through `reserve` and `cancel`.
"""

from __future__ import annotations

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import taskrouter_events as events
from .taskrouter import (
    BASE,
    check_attributes,
    check_version,
    current,
    in_workspace,
    outside_emulator,
    versioned,
)
from .taskrouter_workers import set_worker_activity, workspace_activity

TABLES = declare_tables(__name__, "reservations")

# TaskRouter's reason for a task its workflow timed out (what live tests of TaskRouter read back).
WORKFLOW_TIMEOUT_REASON = "Task canceled on Workflow timeout"
# A task's statuses from which an update may move it to each status, and TaskRouter's refusal otherwise.
TASK_TRANSITIONS = {
    "canceled": (
        ("pending", "reserved"),
        "Cannot cancel task {task} in {where} because it is not pending or reserved.",
    ),
    "wrapping": (("assigned",), "Cannot wrap up a task {task} in {where} because it's not currently assigned."),
    "completed": (
        ("assigned", "wrapping"),
        "Cannot complete task {task} in {where} because it is not currently assigned.",
    ),
}
# A reservation's statuses from which an update may move it to each status, and the verb that names the move.
RESERVATION_TRANSITIONS = {
    "accepted": (("pending",), "accept"),
    "rejected": (("pending",), "reject"),
    "wrapping": (("accepted",), "wrap up"),
    "completed": (("accepted", "wrapping"), "complete"),
}
# The statuses of a reservation that still holds its task.
HOLDING = ("pending", "accepted", "wrapping")


# Transitions -----------------------------------------------------------------------------------------------


def check_task_transition(emulator: AccountState, task: dict, status: str) -> None:
    """TaskRouter's 400 unless a task update may move the task to `status`."""
    if status not in TASK_TRANSITIONS:
        raise TwilioError(
            400, 20001, f"Invalid AssignmentStatus {status!r}: a task may be updated to canceled, wrapping or completed"
        )
    allowed, refusal = TASK_TRANSITIONS[status]
    if task["assignment_status"] not in allowed:
        where = f"workspace {task['workspace_sid']} for account {emulator.account.sid}"
        raise TwilioError(400, 20001, refusal.format(task=task["sid"], where=where))


def reserve(emulator: AccountState, task: dict, worker: dict) -> dict:
    """TaskRouter offers a pending task to a worker: a pending reservation, the task reserved (reservation.created)."""
    if task["assignment_status"] != "pending":
        raise ValueError(f"task {task['sid']} is {task['assignment_status']}: TaskRouter reserves pending tasks only")
    sid, workspace_sid = emulator.new_sid("WR"), task["workspace_sid"]
    reservation = {
        "account_sid": emulator.account.sid,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "reservation_status": "pending",
        "sid": sid,
        "task_sid": task["sid"],
        "worker_name": worker["friendly_name"],
        "worker_sid": worker["sid"],
        "workspace_sid": workspace_sid,
        "url": f"{task['url']}/Reservations/{sid}",
        "links": {
            "task": task["url"],
            "worker": f"{BASE}/{workspace_sid}/Workers/{worker['sid']}",
            "workspace": f"{BASE}/{workspace_sid}",
        },
    }
    emulator.table("reservations")[sid] = reservation
    events.start_record(emulator, sid)
    _set_task_status(emulator, task, "reserved")
    _send(emulator, "reservation.created", reservation)
    return reservation


def accept(emulator: AccountState, reservation: dict) -> None:
    """The worker accepts: the reservation accepted, its task assigned (reservation.accepted)."""
    _check_reservation_transition(reservation, "accepted")
    _set_reservation_status(emulator, reservation, "accepted")
    _set_task_status(emulator, task_of(emulator, reservation), "assigned")
    _send(emulator, "reservation.accepted", reservation)


def reject(emulator: AccountState, reservation: dict, activity: dict | None = None) -> None:
    """The worker rejects: the task pending again (reservation.rejected), the worker moved to `activity` if given."""
    _check_reservation_transition(reservation, "rejected")
    _set_reservation_status(emulator, reservation, "rejected")
    _set_task_status(emulator, task_of(emulator, reservation), "pending")
    _send(emulator, "reservation.rejected", reservation)
    if activity is not None:
        set_worker_activity(emulator, emulator.table("workers")[reservation["worker_sid"]], activity)


def cancel(emulator: AccountState, task: dict, reason: str | None) -> None:
    """The task canceled (task.canceled), and a pending reservation with it (reservation.canceled)."""
    check_task_transition(emulator, task, "canceled")
    reservation = holding_reservation(emulator, task)
    _set_task_status(emulator, task, "canceled", reason)
    events.task_event(emulator, "task.canceled", task)
    if reservation is not None:
        _set_reservation_status(emulator, reservation, "canceled")
        _send(emulator, "reservation.canceled", reservation)


def wrap_up(emulator: AccountState, task: dict) -> None:
    """The task wrapping, and its accepted reservation (task.wrapup, reservation.wrapup)."""
    check_task_transition(emulator, task, "wrapping")
    _finish(emulator, task, "wrapping", None, "wrapup")


def complete(emulator: AccountState, task: dict, reason: str | None) -> None:
    """The task completed, and its reservation (task.completed, reservation.completed)."""
    check_task_transition(emulator, task, "completed")
    _finish(emulator, task, "completed", reason, "completed")


def _finish(emulator: AccountState, task: dict, status: str, reason: str | None, event: str) -> None:
    reservation = holding_reservation(emulator, task)
    _set_task_status(emulator, task, status, reason)
    events.task_event(emulator, f"task.{event}", task)
    if reservation is not None:
        _set_reservation_status(emulator, reservation, status)
        _send(emulator, f"reservation.{event}", reservation)


def set_task_attributes(emulator: AccountState, task: dict, attributes: str) -> None:
    """The task's attributes replaced whole (task.updated)."""
    check_attributes(attributes)
    task.update(attributes=attributes, date_updated=now_iso())
    events.changed(emulator, task["sid"])
    events.task_event(emulator, "task.updated", task)


def task_of(emulator: AccountState, reservation: dict) -> dict:
    return emulator.table("tasks")[reservation["task_sid"]]


def holding_reservation(emulator: AccountState, task: dict) -> dict | None:
    """The task's reservation that is pending, accepted or wrapping; None if it has none."""
    return next(
        (
            reservation
            for reservation in emulator.table("reservations").values()
            if reservation["task_sid"] == task["sid"] and reservation["reservation_status"] in HOLDING
        ),
        None,
    )


def _check_reservation_transition(reservation: dict, status: str) -> None:
    allowed, verb = RESERVATION_TRANSITIONS[status]
    if reservation["reservation_status"] not in allowed:
        raise TwilioError(
            400,
            20001,
            f"Cannot {verb} reservation {reservation['sid']} because it is {reservation['reservation_status']}",
        )


def _set_task_status(emulator: AccountState, task: dict, status: str, reason: str | None = None) -> None:
    task.update(assignment_status=status, date_updated=now_iso())
    if reason is not None:
        task["reason"] = reason
    events.changed(emulator, task["sid"])


def _set_reservation_status(emulator: AccountState, reservation: dict, status: str) -> None:
    reservation.update(reservation_status=status, date_updated=now_iso())
    events.changed(emulator, reservation["sid"])


def _send(emulator: AccountState, event_type: str, reservation: dict) -> None:
    worker = emulator.table("workers")[reservation["worker_sid"]]
    events.reservation_event(emulator, event_type, reservation, task_of(emulator, reservation), worker)


# Routes ----------------------------------------------------------------------------------------------------


@route("taskrouter", "POST", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def update_task(call: Call):
    """Everything is checked before anything changes; then Attributes (task.updated), Priority and
    VirtualStartTime, then the AssignmentStatus transition. TaskChannel selects the task's channel when
    multitasking; a task has one channel, so it selects nothing more."""
    emulator, body = call.emulator, call.body
    task = in_workspace(call, "tasks")
    check_version(call, task["sid"])
    status = body.get("AssignmentStatus")
    if status is not None:
        check_task_transition(emulator, task, status)
    if "Attributes" in body:
        set_task_attributes(emulator, task, body["Attributes"])
    fields = {field: body[parameter] for parameter, field in TASK_FIELDS.items() if parameter in body}
    if fields:
        task.update(fields, date_updated=now_iso())
        events.changed(emulator, task["sid"])
    if status == "canceled":
        cancel(emulator, task, body.get("Reason"))
    elif status == "wrapping":
        wrap_up(emulator, task)
    elif status == "completed":
        complete(emulator, task, body.get("Reason"))
    versioned(call, task["sid"])
    return 200, current(emulator, task)


# Update parameters that set one field of the task as given.
TASK_FIELDS = {"Priority": "priority", "VirtualStartTime": "virtual_start_time"}


def _reservation(call: Call) -> dict:
    task = in_workspace(call, "tasks", "TaskSid")
    reservation = call.emulator.table("reservations").get(call.params["Sid"])
    if reservation is None or reservation["task_sid"] != task["sid"]:
        raise not_found(call.path)
    return reservation


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations")
def list_task_reservations(call: Call):
    """The task's reservations, oldest first, by ReservationStatus and WorkerSid when given."""
    task = in_workspace(call, "tasks", "TaskSid")
    wanted = {"ReservationStatus": "reservation_status", "WorkerSid": "worker_sid"}
    reservations = [
        reservation
        for reservation in call.emulator.table("reservations").values()
        if reservation["task_sid"] == task["sid"]
        and all(
            call.query.get(parameter, reservation[field]) == reservation[field] for parameter, field in wanted.items()
        )
    ]
    return page(call, "reservations", reservations)


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}")
def fetch_task_reservation(call: Call):
    reservation = _reservation(call)
    versioned(call, reservation["sid"])
    return 200, reservation


# What a reservation update may carry in the emulator; anything else (instructions, call and conference settings).
RESERVATION_PARAMETERS = {"ReservationStatus", "WorkerActivitySid"}


@route("taskrouter", "POST", "/v1/Workspaces/{WorkspaceSid}/Tasks/{TaskSid}/Reservations/{Sid}")
def update_task_reservation(call: Call):
    emulator, body = call.emulator, call.body
    reservation = _reservation(call)
    check_version(call, reservation["sid"])
    outside = sorted(set(body) - RESERVATION_PARAMETERS)
    if outside:
        raise outside_emulator(f"{', '.join(outside)} of a reservation update")
    status = body.get("ReservationStatus")
    if status not in RESERVATION_TRANSITIONS:
        raise TwilioError(
            400,
            20001,
            f"Invalid ReservationStatus {status!r}: a reservation may be updated to accepted, rejected, wrapping or "
            "completed",
        )
    _check_reservation_transition(reservation, status)
    task = task_of(emulator, reservation)
    if status == "accepted":
        accept(emulator, reservation)
    elif status == "rejected":
        activity_sid = body.get("WorkerActivitySid")
        reject(
            emulator,
            reservation,
            workspace_activity(emulator, task["workspace_sid"], activity_sid) if activity_sid else None,
        )
    elif status == "wrapping":
        wrap_up(emulator, task)
    else:
        complete(emulator, task, None)
    versioned(call, reservation["sid"])
    return 200, reservation
