"""A Flex agent and TaskRouter's clock, played for tests: what a person in Flex, and TaskRouter by itself, do.

The REST API lets a client move a task and its reservation; what only a person in Flex or TaskRouter's own
routing does is played here, across the products, each under the account's lock and sending the events
TaskRouter documents through the account's outbox (taskrouter_events.py):

- `add_worker` and `set_activity`: a Flex agent (a worker of the account's Flex workspace, attributes as Flex
  gives them: `contact_uri` `client:<name>` and `full_name`) and its activity changes;
- `offer`: TaskRouter reserves a pending task for an available worker (reservation.created);
- `accept`: the agent accepts in Flex (reservation.accepted), so the agent joins the task's interaction channel
  and its conversation;
- `wrap_up`, `complete`: the task's wrap-up and completion, as TaskRouter's API makes them;
- `leave`: Flex's Leave: the agent leaves the conversation, which stays active, and the task wraps up;
- `time_out`: the workflow's timeout: the task canceled with TaskRouter's reason, "Task canceled on Workflow
  timeout".

When no worker is named, `offer` picks the first available worker, in the order they were made, eligible for
the task's queue (any available worker when the task has none): TaskRouter documents its choice only as the
longest idle, which the emulator does not keep. What TaskRouter would never do (offer a task that is not pending,
to a worker who is not available; time out an assigned task) is a ValueError here.
"""

from __future__ import annotations

from .formats import to_json_text
from .pipeline import Emulator
from .products import flex, taskrouter_lifecycle, taskrouter_workers


def add_worker(emulator: Emulator, name: str, activity: str = "Available", attributes: dict | None = None) -> dict:
    """A worker of the Flex workspace in that activity; its attributes by default as Flex makes an agent's."""
    with emulator.lock:
        workspace_sid = _flex_workspace_sid(emulator)
        activity_sid = taskrouter_workers.activity_named(emulator, workspace_sid, activity)["sid"]
        given = attributes if attributes is not None else {"contact_uri": f"client:{name}", "full_name": name}
        return taskrouter_workers.add_worker(emulator, workspace_sid, name, activity_sid, to_json_text(given))


def set_activity(emulator: Emulator, worker_sid: str, activity_name: str) -> dict:
    """The worker moves to the activity of that name (worker.activity.update); the worker."""
    with emulator.lock:
        worker = emulator.table("workers")[worker_sid]
        activity = taskrouter_workers.activity_named(emulator, worker["workspace_sid"], activity_name)
        taskrouter_workers.set_worker_activity(emulator, worker, activity)
        return worker


def offer(emulator: Emulator, task_sid: str, worker_sid: str | None = None) -> dict:
    """TaskRouter reserves the pending task for an available worker (reservation.created); the reservation."""
    with emulator.lock:
        task = emulator.table("tasks")[task_sid]
        worker = emulator.table("workers")[worker_sid] if worker_sid else _first_available(emulator, task)
        if not worker["available"]:
            raise ValueError(f"worker {worker['sid']} is {worker['activity_name']}: TaskRouter reserves available ones")
        return taskrouter_lifecycle.reserve(emulator, task, worker)


def accept(emulator: Emulator, reservation_sid: str) -> dict:
    """The agent accepts in Flex (reservation.accepted): the task assigned, the agent in its conversation."""
    with emulator.lock:
        reservation = emulator.table("reservations")[reservation_sid]
        taskrouter_lifecycle.accept(emulator, reservation)
        flex.join_agent(emulator, reservation)
        return reservation


def wrap_up(emulator: Emulator, task_sid: str) -> None:
    """The assigned task wraps up (task.wrapup, reservation.wrapup)."""
    with emulator.lock:
        taskrouter_lifecycle.wrap_up(emulator, emulator.table("tasks")[task_sid])


def complete(emulator: Emulator, task_sid: str, reason: str | None = None) -> None:
    """The assigned or wrapping task is completed (task.completed, reservation.completed)."""
    with emulator.lock:
        taskrouter_lifecycle.complete(emulator, emulator.table("tasks")[task_sid], reason)


def leave(emulator: Emulator, task_sid: str) -> None:
    """Flex's Leave: the agent leaves the conversation (which stays active), the task wraps up."""
    with emulator.lock:
        flex.agent_leaves(emulator, emulator.table("tasks")[task_sid])


def time_out(emulator: Emulator, task_sid: str) -> None:
    """The workflow times out the waiting task: canceled with TaskRouter's reason (task.canceled, and
    reservation.canceled for a pending reservation)."""
    with emulator.lock:
        task = emulator.table("tasks")[task_sid]
        if task["assignment_status"] not in ("pending", "reserved"):
            raise ValueError(f"task {task_sid} is {task['assignment_status']}: a workflow times out waiting tasks only")
        taskrouter_lifecycle.cancel(emulator, task, taskrouter_lifecycle.WORKFLOW_TIMEOUT_REASON)


def _flex_workspace_sid(emulator: Emulator) -> str:
    configuration = emulator.table("flex_configurations").get(emulator.account.sid)
    if configuration is None:
        raise LookupError("the account has no Flex: seed it with seed_flex_account first")
    return configuration["taskrouter_workspace_sid"]


def _first_available(emulator: Emulator, task: dict) -> dict:
    queue = emulator.table("task_queues").get(task["task_queue_sid"] or "")
    for worker in emulator.table("workers").values():
        in_queue = taskrouter_workers.eligible(worker, queue) if queue else True
        if worker["workspace_sid"] == task["workspace_sid"] and worker["available"] and in_queue:
            return worker
    raise LookupError(f"no available worker for task {task['sid']}")
