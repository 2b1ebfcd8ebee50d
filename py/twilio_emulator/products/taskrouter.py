"""TaskRouter: the workspace, workflow and task channels a handoff routes through, and its tasks.

A workflow routes every task to the queue its configuration's `default_filter` names, when the workspace has that
queue (Flex's "Assign to Anyone" workflow sends everything to "Everyone"); the emulator evaluates no other filter.
Activities, workers, queues, their statistics and the workspace's update are in taskrouter_workers.py, the
event callbacks in taskrouter_events.py, a task's transitions and its reservations in taskrouter_lifecycle.py.

Tasks are searched as Twilio's `GET /v1/Workspaces/{WorkspaceSid}/Tasks` searches them, with a subset
of TaskRouter's expression language (https://www.twilio.com/docs/taskrouter/expression-syntax) for
EvaluateTaskAttributes: comparisons `key == constant` joined by AND (or `and`), where a key is an
attribute name with dots into nested objects and a constant a quoted string, a number, true or false.
A key the attributes lack is NULL, which equals nothing. Any other expression (OR, IN, HAS, !=,
parentheses, array indices, …) is answered 400, saying it is outside the emulator's subset, rather
than silently matching the wrong tasks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from ..errors import TwilioError, not_found
from ..formats import now_iso, to_json_text
from ..responses import fetched, page
from ..routes import Call, route
from ..state import AccountState, declare_tables
from . import taskrouter_events as events

TABLES = declare_tables(__name__, "workspaces", "workflows", "task_channels", "tasks")

BASE = "https://taskrouter.twilio.com/v1/Workspaces"
# The workspace's links to the resources taskrouter_workers.py serves, named as Twilio's example names them.
WORKSPACE_LINKS = {"activities": "Activities", "workers": "Workers", "task_queues": "TaskQueues"}


def add_workspace(emulator: AccountState, friendly_name: str) -> dict:
    sid = emulator.new_sid("WS")
    workspace = {
        "account_sid": emulator.account.sid,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "default_activity_name": "Offline",
        "default_activity_sid": emulator.new_sid("WA"),
        "event_callback_url": None,
        "events_filter": None,
        "friendly_name": friendly_name,
        "multi_task_enabled": True,
        "sid": sid,
        "timeout_activity_name": "Offline",
        "timeout_activity_sid": emulator.new_sid("WA"),
        "prioritize_queue_order": "FIFO",
        "url": f"{BASE}/{sid}",
        "links": {
            **{name.lower(): f"{BASE}/{sid}/{name}" for name in ("Workflows", "TaskChannels", "Tasks")},
            **{key: f"{BASE}/{sid}/{name}" for key, name in WORKSPACE_LINKS.items()},
        },
    }
    emulator.table("workspaces")[sid] = workspace
    return workspace


def add_workflow(emulator: AccountState, workspace_sid: str, friendly_name: str) -> dict:
    sid = emulator.new_sid("WW")
    workflow = {
        "account_sid": emulator.account.sid,
        "assignment_callback_url": None,
        "configuration": to_json_text(
            {"task_routing": {"filters": [], "default_filter": {"queue": emulator.new_sid("WQ")}}}
        ),
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "document_content_type": "application/json",
        "fallback_assignment_callback_url": None,
        "friendly_name": friendly_name,
        "sid": sid,
        "task_reservation_timeout": 120,
        "workspace_sid": workspace_sid,
        "url": f"{BASE}/{workspace_sid}/Workflows/{sid}",
        "links": {"statistics": f"{BASE}/{workspace_sid}/Workflows/{sid}/Statistics"},
    }
    emulator.table("workflows")[sid] = workflow
    return workflow


def add_task_channel(emulator: AccountState, workspace_sid: str, unique_name: str) -> dict:
    sid = emulator.new_sid("TC")
    channel = {
        "account_sid": emulator.account.sid,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "friendly_name": unique_name.title(),
        "sid": sid,
        "unique_name": unique_name,
        "workspace_sid": workspace_sid,
        "channel_optimized_routing": None,
        "url": f"{BASE}/{workspace_sid}/TaskChannels/{sid}",
        "links": {"workspace": f"{BASE}/{workspace_sid}"},
    }
    emulator.table("task_channels")[sid] = channel
    return channel


def task_channel_named(emulator: AccountState, workspace_sid: str, unique_name: str) -> dict | None:
    return next(
        (
            c
            for c in emulator.table("task_channels").values()
            if c["workspace_sid"] == workspace_sid and c["unique_name"] == unique_name
        ),
        None,
    )


def routed_queue_sid(workflow: dict) -> str:
    """The SID of the queue the workflow's default filter names."""
    return json.loads(workflow["configuration"])["task_routing"]["default_filter"]["queue"]


def routed_queue(emulator: AccountState, workflow: dict) -> dict | None:
    """The queue the workflow routes its tasks to, if the workspace has it."""
    return emulator.table("task_queues").get(routed_queue_sid(workflow))


def create_task(emulator: AccountState, workflow: dict, channel: dict, attributes: dict) -> dict:
    """What TaskRouter does when a workflow accepts a task: one pending task, in the workflow's queue (task.created)."""
    workspace_sid, sid = workflow["workspace_sid"], emulator.new_sid("WT")
    queue = routed_queue(emulator, workflow)
    task = {
        "account_sid": emulator.account.sid,
        "age": 0,
        "assignment_status": "pending",
        "attributes": to_json_text(attributes),
        "addons": "{}",
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "task_queue_entered_date": now_iso(),
        "priority": 0,
        "reason": None,
        "sid": sid,
        "task_queue_sid": queue["sid"] if queue else None,
        "task_queue_friendly_name": queue["friendly_name"] if queue else None,
        "task_channel_sid": channel["sid"],
        "task_channel_unique_name": channel["unique_name"],
        "timeout": 86400,
        "workflow_sid": workflow["sid"],
        "workflow_friendly_name": workflow["friendly_name"],
        "workspace_sid": workspace_sid,
        "url": f"{BASE}/{workspace_sid}/Tasks/{sid}",
        "links": {"reservations": f"{BASE}/{workspace_sid}/Tasks/{sid}/Reservations"},
        "virtual_start_time": now_iso(),
        "ignore_capacity": False,
        "routing_target": None,
    }
    emulator.table("tasks")[sid] = task
    events.start_record(emulator, sid)
    events.task_event(emulator, "task.created", task)
    return task


def in_workspace(call: Call, table: str, parameter: str = "Sid") -> dict:
    """The resource of `table` the path's `parameter` names, if it is of the path's workspace; else Twilio's 404."""
    item = call.emulator.table(table).get(call.params[parameter])
    if item is None or item["workspace_sid"] != call.params["WorkspaceSid"]:
        raise not_found(call.path)
    return item


def require_routing(
    emulator: AccountState, workspace_sid: str, workflow_sid: str, channel_name: str
) -> tuple[dict, dict]:
    """The workflow and task channel a routing request names, or the 400 Twilio answers."""
    if workspace_sid not in emulator.table("workspaces"):
        raise TwilioError(400, 20001, f"Invalid workspace_sid: workspace {workspace_sid} not found")
    workflow = emulator.table("workflows").get(workflow_sid)
    if workflow is None or workflow["workspace_sid"] != workspace_sid:
        raise TwilioError(
            400, 20001, f"Invalid workflow_sid: workflow {workflow_sid} not found in workspace {workspace_sid}"
        )
    channel = task_channel_named(emulator, workspace_sid, channel_name)
    if channel is None:
        raise TwilioError(
            400,
            20001,
            f"Invalid task_channel_unique_name: no task channel {channel_name!r} in workspace {workspace_sid}",
        )
    return workflow, channel


@route("taskrouter", "GET", "/v1/Workspaces")
def list_workspaces(call: Call):
    return page(call, "workspaces", list(call.emulator.table("workspaces").values()))


@route("taskrouter", "GET", "/v1/Workspaces/{Sid}")
def fetch_workspace(call: Call):
    return fetched(call, "workspaces")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Workflows/{Sid}")
def fetch_workflow(call: Call):
    return 200, in_workspace(call, "workflows")


def current(emulator: AccountState, task: dict) -> dict:
    """The task as it is now: its age counted to this moment of the account's clock."""
    task["age"] = events.age(emulator, task["sid"])
    return task


def versioned(call: Call, sid: str) -> None:
    """Answer the resource's version as its ETag, as TaskRouter does for tasks, reservations and workers."""
    call.response_headers["ETag"] = str(events.version(call.emulator, sid))


def outside_emulator(what: str) -> TwilioError:
    """The 400 for a valid request the emulator cannot play: it says so rather than answer wrongly."""
    return TwilioError(400, 20001, f"{what} is outside the Twilio emulator: see twilio_emulator's README")


def check_attributes(attributes: str) -> None:
    """Attributes are JSON text of an object; else 400 with code 20001 (Twilio documents no other)."""
    try:
        parsed = json.loads(attributes)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise TwilioError(400, 20001, f"Invalid Attributes {attributes!r}: expected a JSON object")


def check_version(call: Call, sid: str) -> None:
    """Twilio's 412 (code 20412) when the request's If-Match is not the resource's ETag."""
    expected = call.headers.get("if-match")
    if expected is not None and expected != str(events.version(call.emulator, sid)):
        raise TwilioError(412, 20412, f"Precondition Failed: If-Match {expected!r} is not the ETag of {sid}")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def fetch_task(call: Call):
    task = in_workspace(call, "tasks")
    versioned(call, task["sid"])
    return 200, current(call.emulator, task)


def workspace_of_path(call: Call) -> str:
    """The path's WorkspaceSid, or Twilio's 404 when the account has no such workspace."""
    workspace_sid = call.params["WorkspaceSid"]
    if workspace_sid not in call.emulator.table("workspaces"):
        raise not_found(call.path)
    return workspace_sid


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/TaskChannels")
def list_task_channels(call: Call):
    workspace_sid = workspace_of_path(call)
    channels = [c for c in call.emulator.table("task_channels").values() if c["workspace_sid"] == workspace_sid]
    return page(call, "channels", channels)


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Tasks")
def list_tasks(call: Call):
    """The workspace's tasks that pass every filter the query gives, oldest first unless Ordering says otherwise."""
    workspace_sid = workspace_of_path(call)
    expression = call.query.get("EvaluateTaskAttributes")
    comparisons = parse_expression(expression) if expression is not None else []
    ordering = _ordering(call.query.get("Ordering", "DateCreated:asc"))
    statuses = {status for value in call.query_values("AssignmentStatus") for status in value.split(",")}
    tasks = [
        current(call.emulator, task)
        for task in call.emulator.table("tasks").values()
        if task["workspace_sid"] == workspace_sid
        and (not statuses or task["assignment_status"] in statuses)
        and _passes_field_filters(call, task)
        and matches_expression(comparisons, json.loads(task["attributes"]))
    ]
    return page(call, "tasks", _ordered(tasks, ordering))


# The query parameters that name one value of a task's field: the task must have exactly it.
FIELD_FILTERS = {
    "Priority": "priority",
    "WorkflowSid": "workflow_sid",
    "WorkflowName": "workflow_friendly_name",
    "TaskQueueSid": "task_queue_sid",
    "TaskQueueName": "task_queue_friendly_name",
    "RoutingTarget": "routing_target",
}


def _passes_field_filters(call: Call, task: dict) -> bool:
    for parameter, field_name in FIELD_FILTERS.items():
        wanted = call.query.get(parameter)
        if wanted is not None and str(task[field_name]) != wanted:
            return False
    has_addons = call.query.get("HasAddons")
    return has_addons is None or (json.loads(task["addons"]) != {}) == (has_addons == "true")


# Ordering ---------------------------------------------------------------------------------------------------

ORDERING_FIELDS = {"DateCreated": "date_created", "Priority": "priority", "VirtualStartTime": "virtual_start_time"}


def _ordering(text: str) -> list[tuple[str, bool]]:
    """`Attribute:asc|desc` pairs, comma-separated, as (task field,
    descending); Twilio refuses DateCreated with VirtualStartTime."""
    pairs = [part.strip().partition(":") for part in text.split(",")]
    if any(name not in ORDERING_FIELDS or order not in ("asc", "desc") for name, _, order in pairs) or (
        {"DateCreated", "VirtualStartTime"} <= {name for name, _, _ in pairs}
    ):
        raise TwilioError(
            400,
            20001,
            f"Invalid Ordering {text!r}: expected Attribute:asc or Attribute:desc, "
            "comma-separated, Attribute one of DateCreated, Priority, "
            "VirtualStartTime, not DateCreated with VirtualStartTime",
        )
    return [(ORDERING_FIELDS[name], order == "desc") for name, _, order in pairs]


def _ordered(tasks: list[dict], ordering: list[tuple[str, bool]]) -> list[dict]:
    """`tasks` (in creation order) as ordered; sorting by the last key first, stably, leaves the first key deciding."""
    created = {task["sid"]: position for position, task in enumerate(tasks)}
    for field_name, descending in reversed(ordering):
        tasks = sorted(tasks, key=_sort_key(field_name, created), reverse=descending)
    return tasks


def _sort_key(field_name: str, created: dict[str, int]) -> Callable[[dict], object]:
    if field_name in ("date_created", "virtual_start_time"):
        # Dates are to the second: creation order orders the tasks of one second, as a finer clock would.
        return lambda task: (task[field_name], created[task["sid"]])
    return lambda task: task[field_name]


# EvaluateTaskAttributes ------------------------------------------------------------------------------------

Operand = tuple[str, object]  # ("key", ["customer", "tier"]) or ("constant", "gold")

TOKEN = re.compile(
    r"""\s*(?:(?P<string>"[^"]*"|'[^']*')|(?P<number>-?\d+(?:\.\d+)?(?![\w.]))|(?P<equals>==)|(?P<word>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))"""
)
CONJUNCTIONS = {"AND", "and"}
# Words of the language beyond the subset: refused by name, never read as attribute keys.
UNSUPPORTED_WORDS = {"OR", "or", "IN", "in", "NOT", "not", "HAS", "has", "CONTAINS", "contains", "eq", "ne"}
SUBSET = "comparisons `key == constant` joined by AND (a constant is a quoted string, a number, true or false)"


def _outside_subset(parameter: str, expression: str, reason: str) -> TwilioError:
    return TwilioError(
        400, 20001, f"Invalid {parameter} {expression!r}: {reason}; the emulator understands only {SUBSET}"
    )


def _tokens(parameter: str, expression: str) -> Iterator[tuple[str, str]]:
    """(kind, text) of each token, read as the parser asks, so
    that the first thing outside the subset is the one named."""
    position = 0
    while expression[position:].strip():
        match = TOKEN.match(expression, position)
        if match is None:
            raise _outside_subset(parameter, expression, f"cannot read {expression[position:].strip()[:20]!r}")
        yield match.lastgroup, match.group(match.lastgroup)
        position = match.end()


def _operand(kind: str, text: str) -> Operand:
    if kind == "string":
        return "constant", text[1:-1]
    if kind == "number":
        return "constant", float(text) if "." in text else int(text)
    if text in ("true", "false"):
        return "constant", text == "true"
    return "key", text.split(".")


def parse_expression(expression: str, parameter: str = "EvaluateTaskAttributes") -> list[tuple[Operand, Operand]]:
    """The comparisons of an expression (the `parameter` that gave it) in the emulator's subset, or Twilio's 400."""
    groups: list[list[tuple[str, str]]] = [[]]
    for kind, text in _tokens(parameter, expression):
        if kind == "word" and text in UNSUPPORTED_WORDS:
            raise _outside_subset(parameter, expression, f"{text!r} is not supported")
        if kind == "word" and text in CONJUNCTIONS:
            groups.append([])
        else:
            groups[-1].append((kind, text))
    comparisons = []
    for group in groups:
        if len(group) != 3 or group[1][0] != "equals" or "equals" in (group[0][0], group[2][0]):
            raise _outside_subset(
                parameter, expression, f"expected `operand == operand`, got {' '.join(text for _, text in group)!r}"
            )
        comparisons.append((_operand(*group[0]), _operand(*group[2])))
    return comparisons


def _resolve(operand: Operand, attributes: dict) -> object:
    """A constant's value, or the attribute a key names; None (TaskRouter's NULL) when the attributes lack it."""
    kind, value = operand
    if kind == "constant":
        return value
    for name in value:
        if not isinstance(attributes, dict):
            return None
        attributes = attributes.get(name)
    return attributes


def _equal(left: object, right: object) -> bool:
    """Scalar equality without Python's coercions: true is not 1, "1" is not 1, and NULL equals nothing."""
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    return isinstance(left, str) and isinstance(right, str) and left == right


def matches_expression(comparisons: list[tuple[Operand, Operand]], attributes: dict) -> bool:
    return all(_equal(_resolve(left, attributes), _resolve(right, attributes)) for left, right in comparisons)
