"""TaskRouter's workspace event callbacks: every event of a workspace POSTed to its EventCallbackUrl, signed.

What is sent follows TaskRouter's Events reference (https://www.twilio.com/docs/taskrouter/api/event/reference):
every callback has EventType, AccountSid, WorkspaceSid, WorkspaceName, EventDescription, ResourceType,
ResourceSid and Timestamp, then each event type's "Field Data": `Task` (TaskSid, TaskAttributes, TaskAge,
TaskPriority, TaskAssignmentStatus, TaskCanceledReason, TaskCompletedReason), `Worker` (WorkerSid, WorkerName,
WorkerAttributes, WorkerActivitySid, WorkerActivityName, WorkerVersion; an activity change adds
WorkerTimeInPreviousActivity, WorkerTimeInPreviousActivityMs and WorkerPreviousActivitySid), TaskQueueSid,
ReservationSid and WorkflowSid as the event's row lists them. TimestampMs is in every callback since TaskRouter's
changelog of 18 Jan 2018. EventsFilter (comma-separated event types) limits what is sent; an empty or unset
EventCallbackUrl sends nothing. Callbacks go through the account's outbox (callbacks.py): signed, after the cause
is answered, loopback only.

Where the reference says nothing, the emulator assumes, and says so:

- `Sid` is the event's own SID (EV…, as the Event resource names events); a duplicate the outbox sends
  (`duplicate_next`) carries the same Sid, so a receiver can drop it. No SID is used up for an event nobody
  receives, so an account without a callback URL makes the same SIDs as before events existed.
- `Timestamp` is Unix seconds and `TimestampMs` Unix milliseconds, both of the account's clock (`Emulator.now`,
  so `advance` moves them).
- `ResourceType` is the event type's family in lower case (`task`, `reservation`, `worker`), `ResourceSid` that
  resource's SID. `EventDescription` is a sentence naming the resource and what happened to it; Twilio documents
  no wording.
- Task fields come with the task's channel (TaskChannelSid, TaskChannelUniqueName) and, beside TaskQueueSid, its
  queue's TaskQueueName, as Flex Insights reads them from task events. TaskCanceledReason is sent once the task is
  canceled, TaskCompletedReason once it is completed (both the task's Reason); OperatingUnitSid never (the
  emulator has no operating units).
- The events of one transition are queued in the order the transition lists them (e.g. task.wrapup then
  reservation.wrapup, task.completed then reservation.completed); with the outbox's several senders they may
  still arrive in another order, as Twilio's may. TaskRouter's other events (reservation.timeout, .rescinded
  and .failed, task.deleted, task.transfer-*, workflow.*, task-queue.*, task-channel.*, activity.*,
  workspace.*, worker.capacity.update, worker.channel.availability.update, worker.deleted) are not sent: nothing
  the emulator plays causes them.
"""

from __future__ import annotations

from ..state import AccountState, declare_tables

# What TaskRouter keeps of a task, reservation or worker beside its answer: its version (the ETag, raised by every
# change) and the moments (the account's clock) its ages count from.
TABLES = declare_tables(__name__, "taskrouter_records")

SOURCE = "taskrouter.event"

# Each event type the emulator sends: its documented Field Data beyond `Task` and `Worker`.
TASK_EVENT_FIELDS = {
    "task.created": ("WorkflowSid",),
    "task.updated": ("TaskQueueSid", "WorkflowSid"),
    "task.canceled": ("TaskQueueSid", "WorkflowSid"),
    "task.wrapup": ("TaskQueueSid", "WorkflowSid"),
    "task.completed": ("TaskQueueSid", "WorkflowSid"),
}
RESERVATION_EVENTS = {
    "reservation.created": "was created for",
    "reservation.accepted": "was accepted by",
    "reservation.rejected": "was rejected by",
    "reservation.canceled": "was canceled for",
    "reservation.wrapup": "is being wrapped up by",
    "reservation.completed": "was completed by",
}
TASK_DESCRIPTIONS = {
    "task.created": "was created",
    "task.updated": "was updated",
    "task.canceled": "was canceled",
    "task.wrapup": "is wrapping up",
    "task.completed": "was completed",
}
WORKER_DESCRIPTIONS = {
    "worker.created": "was created",
    "worker.activity.update": "changed activity",
    "worker.attributes.update": "changed attributes",
}


def start_record(emulator: AccountState, sid: str) -> None:
    """A new resource's record: version 1, its age and time in its status counted from now."""
    now = emulator.now()
    emulator.table("taskrouter_records")[sid] = {"version": 1, "created_at": now, "status_since": now}


def changed(emulator: AccountState, sid: str) -> None:
    """A resource changed: its version (ETag) goes up."""
    emulator.table("taskrouter_records")[sid]["version"] += 1


def version(emulator: AccountState, sid: str) -> int:
    return emulator.table("taskrouter_records")[sid]["version"]


def age(emulator: AccountState, sid: str) -> int:
    """Whole seconds since the resource was created, by the account's clock."""
    return int((emulator.now() - emulator.table("taskrouter_records")[sid]["created_at"]).total_seconds())


def status_changed(emulator: AccountState, sid: str) -> float:
    """A worker's activity changed now: the seconds it spent in the previous one."""
    record = emulator.table("taskrouter_records")[sid]
    spent = (emulator.now() - record["status_since"]).total_seconds()
    record["status_since"] = emulator.now()
    return spent


def task_event(emulator: AccountState, event_type: str, task: dict) -> None:
    """Send a task.* event of the task's workspace."""
    fields = {**_task_fields(emulator, task), **_routing_fields(emulator, task, TASK_EVENT_FIELDS[event_type])}
    description = f"Task {task['sid']} {TASK_DESCRIPTIONS[event_type]}"
    _send(emulator, task["workspace_sid"], event_type, "task", task["sid"], description, fields)


def reservation_event(emulator: AccountState, event_type: str, reservation: dict, task: dict, worker: dict) -> None:
    """Send a reservation.* event: its task, worker, queue, reservation and workflow, as the reference lists."""
    fields = {
        **_task_fields(emulator, task),
        **worker_fields(emulator, worker),
        **_routing_fields(emulator, task, ("TaskQueueSid", "WorkflowSid")),
        "ReservationSid": reservation["sid"],
    }
    description = f"Reservation {reservation['sid']} {RESERVATION_EVENTS[event_type]} worker {worker['sid']}"
    _send(emulator, task["workspace_sid"], event_type, "reservation", reservation["sid"], description, fields)


def worker_event(emulator: AccountState, event_type: str, worker: dict, extra: dict | None = None) -> None:
    """Send a worker.* event; `extra` is what the event type adds (an activity change's previous activity)."""
    description = f"Worker {worker['friendly_name']} {WORKER_DESCRIPTIONS[event_type]}"
    fields = {**worker_fields(emulator, worker), **(extra or {})}
    _send(emulator, worker["workspace_sid"], event_type, "worker", worker["sid"], description, fields)


def worker_fields(emulator: AccountState, worker: dict) -> dict:
    return {
        "WorkerSid": worker["sid"],
        "WorkerName": worker["friendly_name"],
        "WorkerAttributes": worker["attributes"],
        "WorkerActivitySid": worker["activity_sid"],
        "WorkerActivityName": worker["activity_name"],
        "WorkerVersion": version(emulator, worker["sid"]),
    }


def _task_fields(emulator: AccountState, task: dict) -> dict:
    fields = {
        "TaskSid": task["sid"],
        "TaskAttributes": task["attributes"],
        "TaskAge": age(emulator, task["sid"]),
        "TaskPriority": task["priority"],
        "TaskAssignmentStatus": task["assignment_status"],
        "TaskChannelSid": task["task_channel_sid"],
        "TaskChannelUniqueName": task["task_channel_unique_name"],
    }
    if task["assignment_status"] == "canceled":
        fields["TaskCanceledReason"] = task["reason"]
    if task["assignment_status"] == "completed":
        fields["TaskCompletedReason"] = task["reason"]
    return {name: value for name, value in fields.items() if value is not None}


def _routing_fields(emulator: AccountState, task: dict, names: tuple[str, ...]) -> dict:
    fields = {}
    if "WorkflowSid" in names:
        fields["WorkflowSid"] = task["workflow_sid"]
    if "TaskQueueSid" in names and task["task_queue_sid"] is not None:
        fields |= {"TaskQueueSid": task["task_queue_sid"], "TaskQueueName": task["task_queue_friendly_name"]}
    return fields


def _wanted(workspace: dict, event_type: str) -> bool:
    if not workspace["event_callback_url"]:
        return False
    events_filter = workspace["events_filter"]
    return not events_filter or event_type in {name.strip() for name in events_filter.split(",")}


def _send(
    emulator: AccountState,
    workspace_sid: str,
    event_type: str,
    resource_type: str,
    resource_sid: str,
    description: str,
    fields: dict,
) -> None:
    workspace = emulator.table("workspaces")[workspace_sid]
    if not _wanted(workspace, event_type):
        return
    moment = emulator.now().timestamp()
    params = {
        "EventType": event_type,
        "EventDescription": description,
        "AccountSid": emulator.account.sid,
        "WorkspaceSid": workspace_sid,
        "WorkspaceName": workspace["friendly_name"],
        "ResourceType": resource_type,
        "ResourceSid": resource_sid,
        "Sid": emulator.new_sid("EV"),
        "Timestamp": int(moment),
        "TimestampMs": int(moment * 1000),
        **fields,
    }
    emulator.outbox.send(SOURCE, workspace["event_callback_url"], params)
