"""TaskRouter's activities, workers and task queues, and a queue's real-time statistics.

Served: the workspace's update (its event callbacks, names and activities; taskrouter_events.py sends the
events), an activity (fetch), workers (list, create 201, fetch, update ActivitySid, Attributes, FriendlyName, with
If-Match), task queues (list, fetch) and `GET …/TaskQueues/{TaskQueueSid}/RealTimeStatistics`. A worker's update
of its activity sends worker.activity.update (with the time spent in the previous activity), of its attributes
worker.attributes.update; a new worker sends worker.created (taskrouter_events.py).

Where Twilio documents nothing, the emulator assumes:

- A worker is eligible for a queue when the queue's TargetWorkers expression matches the worker's attributes, read
  in the emulator's subset of the expression language (taskrouter.py: `key == constant` joined by AND); Flex's
  "Everyone" queue has `1==1`, which matches every worker, and so does a queue without one. An expression outside
  the subset is refused (400) rather than matched wrongly. Worker channels and their capacity are not emulated: an
  available worker may be reserved for any number of tasks.
- Real-time statistics count the queue's tasks (those whose task_queue_sid is the queue) that are pending,
  reserved, assigned or wrapping (`tasks_by_status`, `total_tasks`, `tasks_by_priority` with the priority as
  text and the count as a number, as the description's example answers `tasks_by_status`); the waiting ones,
  pending or reserved, give `longest_task_waiting_age`/`_sid` and `longest_relative_task_age_in_queue`/
  `_sid_in_queue`, 0 and null when none waits; a task enters its queue when it is made and never moves to
  another, so its relative age in the queue is its age. `TaskChannel` (a channel's SID or unique name) counts
  only that channel's tasks. Workers: the eligible ones (`total_eligible_workers`), of them those whose activity
  is available (`total_available_workers`), and `activity_statistics` with every activity of the workspace in the
  order it was made, `{friendly_name, sid, workers}`.
- A worker's friendly name is unique in its workspace whatever its case: a taken one is answered 400 with code
  20001 (the code live tests of TaskRouter report). An ActivitySid that is not one of the workspace's activities
  is 400, code 20001, and so is a workspace's DefaultActivitySid or TimeoutActivitySid of another workspace.
  Without ActivitySid a new worker takes the workspace's default activity.
- An update to the activity the worker is in already changes nothing and sends no event.
- `Ordering` of workers or queues, and `RejectPendingReservations=true`, are outside the emulator: answered 400
  saying so, rather than ignored.
"""

from __future__ import annotations

import json

from ..errors import TwilioError
from ..formats import now_iso
from ..responses import fetched, page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import taskrouter_events as events
from .taskrouter import (
    BASE,
    check_attributes,
    check_version,
    current,
    in_workspace,
    matches_expression,
    outside_emulator,
    parse_expression,
    versioned,
    workspace_of_path,
)

TABLES = declare_tables(__name__, "activities", "workers", "task_queues")

# The activities of a Flex workspace as Flex makes them, Offline its default: (friendly name, available).
FLEX_ACTIVITIES = (("Offline", False), ("Available", True), ("Unavailable", False), ("Break", False))
# The statuses of a queue's tasks that real-time statistics count, and the ones of them that are waiting.
ACTIVE_STATUSES = ("pending", "reserved", "assigned", "wrapping")
WAITING_STATUSES = ("pending", "reserved")


# Seeding ---------------------------------------------------------------------------------------------------


def add_activity(
    emulator: AccountState, workspace_sid: str, friendly_name: str, available: bool, sid: str | None = None
) -> dict:
    """An activity of the workspace; `sid` gives one the workspace already names (its default, say)."""
    sid = sid or emulator.new_sid("WA")
    activity = {
        "account_sid": emulator.account.sid,
        "available": available,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "friendly_name": friendly_name,
        "sid": sid,
        "workspace_sid": workspace_sid,
        "url": f"{BASE}/{workspace_sid}/Activities/{sid}",
        "links": {"workspace": f"{BASE}/{workspace_sid}"},
    }
    emulator.table("activities")[sid] = activity
    return activity


def activity_named(emulator: AccountState, workspace_sid: str, friendly_name: str) -> dict:
    """The workspace's activity of that name; LookupError naming the ones it has."""
    activities = [a for a in emulator.table("activities").values() if a["workspace_sid"] == workspace_sid]
    for activity in activities:
        if activity["friendly_name"] == friendly_name:
            return activity
    names = ", ".join(a["friendly_name"] for a in activities)
    raise LookupError(f"no activity {friendly_name!r} in workspace {workspace_sid}: it has {names}")


def add_task_queue(
    emulator: AccountState, workspace_sid: str, friendly_name: str, target_workers: str = "1==1", sid: str | None = None
) -> dict:
    """A queue of the workspace; `sid` gives one a workflow already routes to. Its TargetWorkers must be in the
    emulator's subset (else TwilioError, 400)."""
    parse_expression(target_workers, "TargetWorkers")
    sid = sid or emulator.new_sid("WQ")
    url = f"{BASE}/{workspace_sid}/TaskQueues/{sid}"
    queue = {
        "account_sid": emulator.account.sid,
        "assignment_activity_sid": None,
        "assignment_activity_name": None,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "friendly_name": friendly_name,
        "max_reserved_workers": 1,
        "reservation_activity_sid": None,
        "reservation_activity_name": None,
        "sid": sid,
        "target_workers": target_workers,
        "task_order": "FIFO",
        "url": url,
        "workspace_sid": workspace_sid,
        "links": {
            "workspace": f"{BASE}/{workspace_sid}",
            "statistics": f"{url}/Statistics",
            "real_time_statistics": f"{url}/RealTimeStatistics",
            "cumulative_statistics": f"{url}/CumulativeStatistics",
        },
    }
    emulator.table("task_queues")[sid] = queue
    return queue


def add_worker(
    emulator: AccountState,
    workspace_sid: str,
    friendly_name: str,
    activity_sid: str | None = None,
    attributes: str = "{}",
) -> dict:
    """A worker as `POST …/Workers` creates it (worker.created); TwilioError as Twilio refuses one."""
    _check_unique_name(emulator, workspace_sid, friendly_name)
    check_attributes(attributes)
    workspace = emulator.table("workspaces")[workspace_sid]
    activity = workspace_activity(emulator, workspace_sid, activity_sid or workspace["default_activity_sid"])
    sid = emulator.new_sid("WK")
    url = f"{BASE}/{workspace_sid}/Workers/{sid}"
    worker = {
        "account_sid": emulator.account.sid,
        "activity_name": activity["friendly_name"],
        "activity_sid": activity["sid"],
        "attributes": attributes,
        "available": activity["available"],
        "date_created": now_iso(),
        "date_status_changed": now_iso(),
        "date_updated": now_iso(),
        "friendly_name": friendly_name,
        "sid": sid,
        "workspace_sid": workspace_sid,
        "url": url,
        "links": {
            "activity": f"{BASE}/{workspace_sid}/Activities/{activity['sid']}",
            "workspace": f"{BASE}/{workspace_sid}",
            "channels": f"{url}/Channels",
            "reservations": f"{url}/Reservations",
            "worker_statistics": f"{url}/Statistics",
        },
    }
    emulator.table("workers")[sid] = worker
    events.start_record(emulator, sid)
    events.worker_event(emulator, "worker.created", worker)
    return worker


def workspace_activity(emulator: AccountState, workspace_sid: str, activity_sid: str) -> dict:
    """The workspace's activity of that SID, or the 400 the emulator answers for any other."""
    activity = emulator.table("activities").get(activity_sid)
    if activity is None or activity["workspace_sid"] != workspace_sid:
        raise TwilioError(
            400, 20001, f"Invalid ActivitySid {activity_sid}: not an activity of workspace {workspace_sid}"
        )
    return activity


# Changes ---------------------------------------------------------------------------------------------------


def set_worker_activity(emulator: AccountState, worker: dict, activity: dict) -> None:
    """The worker moves to the activity (worker.activity.update, with the time spent in the previous one)."""
    previous = worker["activity_sid"]
    spent = events.status_changed(emulator, worker["sid"])
    worker.update(
        activity_sid=activity["sid"],
        activity_name=activity["friendly_name"],
        available=activity["available"],
        date_status_changed=now_iso(),
        date_updated=now_iso(),
    )
    worker["links"]["activity"] = f"{BASE}/{worker['workspace_sid']}/Activities/{activity['sid']}"
    events.changed(emulator, worker["sid"])
    events.worker_event(
        emulator,
        "worker.activity.update",
        worker,
        {
            "WorkerTimeInPreviousActivity": int(spent),
            "WorkerTimeInPreviousActivityMs": int(spent * 1000),
            "WorkerPreviousActivitySid": previous,
        },
    )


def set_worker_attributes(emulator: AccountState, worker: dict, attributes: str) -> None:
    """The worker's attributes replaced whole (worker.attributes.update)."""
    check_attributes(attributes)
    worker.update(attributes=attributes, date_updated=now_iso())
    events.changed(emulator, worker["sid"])
    events.worker_event(emulator, "worker.attributes.update", worker)


def _check_unique_name(
    emulator: AccountState, workspace_sid: str, friendly_name: str, worker: dict | None = None
) -> None:
    for other in emulator.table("workers").values():
        same = other["friendly_name"].casefold() == friendly_name.casefold()
        if other["workspace_sid"] == workspace_sid and same and other is not worker:
            raise TwilioError(400, 20001, f"Worker with friendly name {friendly_name!r} already exists")


# Eligibility and statistics --------------------------------------------------------------------------------


def eligible(worker: dict, queue: dict) -> bool:
    """Whether the queue's TargetWorkers match the worker's attributes (no expression: every worker)."""
    if queue["target_workers"] is None:
        return True
    comparisons = parse_expression(queue["target_workers"], "TargetWorkers")
    return matches_expression(comparisons, json.loads(worker["attributes"]))


def eligible_workers(emulator: AccountState, queue: dict) -> list[dict]:
    return [
        worker
        for worker in emulator.table("workers").values()
        if worker["workspace_sid"] == queue["workspace_sid"] and eligible(worker, queue)
    ]


def real_time_statistics(emulator: AccountState, queue: dict, task_channel: str | None = None) -> dict:
    """What `GET …/TaskQueues/{TaskQueueSid}/RealTimeStatistics` answers, from the account as it is now."""
    workspace_sid = queue["workspace_sid"]
    tasks = [
        current(emulator, task)
        for task in emulator.table("tasks").values()
        if task["task_queue_sid"] == queue["sid"]
        and task["assignment_status"] in ACTIVE_STATUSES
        and task_channel in (None, task["task_channel_sid"], task["task_channel_unique_name"])
    ]
    waiting = [task for task in tasks if task["assignment_status"] in WAITING_STATUSES]
    longest = max(waiting, key=lambda task: task["age"], default=None)
    workers = eligible_workers(emulator, queue)
    activities = [a for a in emulator.table("activities").values() if a["workspace_sid"] == workspace_sid]
    priorities = sorted({task["priority"] for task in tasks})
    return {
        "account_sid": emulator.account.sid,
        "activity_statistics": [
            {
                "friendly_name": activity["friendly_name"],
                "sid": activity["sid"],
                "workers": sum(worker["activity_sid"] == activity["sid"] for worker in workers),
            }
            for activity in activities
        ],
        "longest_task_waiting_age": longest["age"] if longest else 0,
        "longest_task_waiting_sid": longest["sid"] if longest else None,
        "longest_relative_task_age_in_queue": longest["age"] if longest else 0,
        "longest_relative_task_sid_in_queue": longest["sid"] if longest else None,
        "task_queue_sid": queue["sid"],
        "tasks_by_priority": {str(p): sum(task["priority"] == p for task in tasks) for p in priorities},
        "tasks_by_status": {status: sum(t["assignment_status"] == status for t in tasks) for status in ACTIVE_STATUSES},
        "total_available_workers": sum(worker["available"] for worker in workers),
        "total_eligible_workers": len(workers),
        "total_tasks": len(tasks),
        "workspace_sid": workspace_sid,
        "url": f"{queue['url']}/RealTimeStatistics",
    }


# Routes ----------------------------------------------------------------------------------------------------


def _refuse_ordering(call: Call) -> None:
    if "Ordering" in call.query:
        raise outside_emulator(f"Ordering {call.query['Ordering']!r}")


@route("taskrouter", "POST", "/v1/Workspaces/{Sid}")
def update_workspace(call: Call):
    """Each field given replaces the workspace's; an activity must be one of the workspace's (checked first)."""
    _, workspace = fetched(call, "workspaces")
    body = call.body
    activities = {
        role: workspace_activity(call.emulator, workspace["sid"], body[f"{role.title()}ActivitySid"])
        for role in ("default", "timeout")
        if f"{role.title()}ActivitySid" in body
    }
    workspace.update({field: body[parameter] for parameter, field in WORKSPACE_FIELDS.items() if parameter in body})
    for role, activity in activities.items():
        workspace.update({f"{role}_activity_sid": activity["sid"], f"{role}_activity_name": activity["friendly_name"]})
    workspace["date_updated"] = now_iso()
    return 200, workspace


# Update parameters that set one field of the workspace as given.
WORKSPACE_FIELDS = {
    "FriendlyName": "friendly_name",
    "EventCallbackUrl": "event_callback_url",
    "EventsFilter": "events_filter",
    "MultiTaskEnabled": "multi_task_enabled",
    "PrioritizeQueueOrder": "prioritize_queue_order",
}


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Activities/{Sid}")
def fetch_activity(call: Call):
    return 200, in_workspace(call, "activities")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Workers")
def list_workers(call: Call):
    """The workspace's workers that pass every filter the query gives, in the order they were made."""
    workspace_sid = workspace_of_path(call)
    _refuse_ordering(call)
    query = call.query
    expression = query.get("TargetWorkersExpression")
    comparisons = parse_expression(expression, "TargetWorkersExpression") if expression is not None else []
    queues = [
        queue
        for queue in call.emulator.table("task_queues").values()
        if queue["workspace_sid"] == workspace_sid
        and query.get("TaskQueueSid", queue["sid"]) == queue["sid"]
        and query.get("TaskQueueName", queue["friendly_name"]) == queue["friendly_name"]
    ]
    by_queue = "TaskQueueSid" in query or "TaskQueueName" in query
    available = query.get("Available")
    workers = [
        worker
        for worker in call.emulator.table("workers").values()
        if worker["workspace_sid"] == workspace_sid
        and all(query.get(parameter, worker[field]) == worker[field] for parameter, field in WORKER_FILTERS.items())
        and (available is None or worker["available"] == (available.lower() in ("true", "1", "yes")))
        and matches_expression(comparisons, json.loads(worker["attributes"]))
        and (not by_queue or any(eligible(worker, queue) for queue in queues))
    ]
    return page(call, "workers", workers)


# The query parameters that name one value of a worker's field: the worker must have exactly it.
WORKER_FILTERS = {"ActivityName": "activity_name", "ActivitySid": "activity_sid", "FriendlyName": "friendly_name"}


@route("taskrouter", "POST", "/v1/Workspaces/{WorkspaceSid}/Workers")
def create_worker(call: Call):
    body = call.body
    worker = add_worker(
        call.emulator,
        workspace_of_path(call),
        body["FriendlyName"],
        body.get("ActivitySid"),
        body.get("Attributes", "{}"),
    )
    versioned(call, worker["sid"])
    return 201, worker


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}")
def fetch_worker(call: Call):
    worker = in_workspace(call, "workers")
    versioned(call, worker["sid"])
    return 200, worker


@route("taskrouter", "POST", "/v1/Workspaces/{WorkspaceSid}/Workers/{Sid}")
def update_worker(call: Call):
    """Everything is checked before anything changes; the attributes change before the activity, each its event."""
    emulator, body = call.emulator, call.body
    worker = in_workspace(call, "workers")
    check_version(call, worker["sid"])
    if body.get("RejectPendingReservations"):
        raise outside_emulator("RejectPendingReservations")
    if "FriendlyName" in body:
        _check_unique_name(emulator, worker["workspace_sid"], body["FriendlyName"], worker)
    if "Attributes" in body:
        check_attributes(body["Attributes"])
    activity = (
        workspace_activity(emulator, worker["workspace_sid"], body["ActivitySid"]) if "ActivitySid" in body else None
    )
    if "FriendlyName" in body:
        worker.update(friendly_name=body["FriendlyName"], date_updated=now_iso())
        events.changed(emulator, worker["sid"])
    if "Attributes" in body:
        set_worker_attributes(emulator, worker, body["Attributes"])
    if activity is not None and activity["sid"] != worker["activity_sid"]:
        set_worker_activity(emulator, worker, activity)
    versioned(call, worker["sid"])
    return 200, worker


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/TaskQueues")
def list_task_queues(call: Call):
    """The workspace's queues by FriendlyName, by a worker eligible for them (WorkerSid), or by the attributes a
    worker would need (EvaluateWorkerAttributes, JSON) to be eligible."""
    workspace_sid = workspace_of_path(call)
    _refuse_ordering(call)
    query = call.query
    attributes = query.get("EvaluateWorkerAttributes")
    if attributes is not None:
        check_attributes(attributes)
    worker = call.emulator.table("workers").get(query["WorkerSid"]) if "WorkerSid" in query else None
    queues = [
        queue
        for queue in call.emulator.table("task_queues").values()
        if queue["workspace_sid"] == workspace_sid
        and query.get("FriendlyName", queue["friendly_name"]) == queue["friendly_name"]
        and ("WorkerSid" not in query or (worker is not None and eligible(worker, queue)))
        and (attributes is None or eligible({"attributes": attributes}, queue))
    ]
    return page(call, "task_queues", queues)


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/TaskQueues/{Sid}")
def fetch_task_queue(call: Call):
    return 200, in_workspace(call, "task_queues")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/TaskQueues/{TaskQueueSid}/RealTimeStatistics")
def fetch_task_queue_real_time_statistics(call: Call):
    queue = in_workspace(call, "task_queues", "TaskQueueSid")
    return 200, real_time_statistics(call.emulator, queue, call.query.get("TaskChannel"))
