"""TaskRouter: the workspace, workflow and task channels a handoff routes through, and its tasks."""

from __future__ import annotations

from ..core import Call, Emulator, TwilioError, fetched, not_found, now_iso, page, route, to_json_text

BASE = "https://taskrouter.twilio.com/v1/Workspaces"


def add_workspace(emulator: Emulator, friendly_name: str) -> dict:
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
        "links": {name.lower(): f"{BASE}/{sid}/{name}" for name in ("Workflows", "TaskChannels", "Tasks")},
    }
    emulator.table("workspaces")[sid] = workspace
    return workspace


def add_workflow(emulator: Emulator, workspace_sid: str, friendly_name: str) -> dict:
    sid = emulator.new_sid("WW")
    workflow = {
        "account_sid": emulator.account.sid,
        "assignment_callback_url": None,
        "configuration": to_json_text({"task_routing": {"filters": [], "default_filter": {"queue": emulator.new_sid("WQ")}}}),
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


def add_task_channel(emulator: Emulator, workspace_sid: str, unique_name: str) -> dict:
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


def task_channel_named(emulator: Emulator, workspace_sid: str, unique_name: str) -> dict | None:
    return next(
        (c for c in emulator.table("task_channels").values() if c["workspace_sid"] == workspace_sid and c["unique_name"] == unique_name),
        None,
    )


def create_task(emulator: Emulator, workflow: dict, channel: dict, attributes: dict) -> dict:
    """What TaskRouter does when a workflow accepts a task: one pending task, queued."""
    workspace_sid, sid = workflow["workspace_sid"], emulator.new_sid("WT")
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
        "task_queue_sid": None,
        "task_queue_friendly_name": None,
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
    return task


def _in_workspace(call: Call, kind: str) -> dict:
    item = call.emulator.table(kind).get(call.params["Sid"])
    if item is None or item["workspace_sid"] != call.params["WorkspaceSid"]:
        raise not_found(call.path)
    return item


@route("taskrouter", "GET", "/v1/Workspaces")
def list_workspaces(call: Call):
    return page(call, "workspaces", list(call.emulator.table("workspaces").values()))


@route("taskrouter", "GET", "/v1/Workspaces/{Sid}")
def fetch_workspace(call: Call):
    return fetched(call, "workspaces")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Workflows/{Sid}")
def fetch_workflow(call: Call):
    return 200, _in_workspace(call, "workflows")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/Tasks/{Sid}")
def fetch_task(call: Call):
    return 200, _in_workspace(call, "tasks")


@route("taskrouter", "GET", "/v1/Workspaces/{WorkspaceSid}/TaskChannels")
def list_task_channels(call: Call):
    workspace_sid = call.params["WorkspaceSid"]
    if workspace_sid not in call.emulator.table("workspaces"):
        raise not_found(call.path)
    channels = [c for c in call.emulator.table("task_channels").values() if c["workspace_sid"] == workspace_sid]
    return page(call, "channels", channels)


def require_routing(emulator: Emulator, workspace_sid: str, workflow_sid: str, channel_name: str) -> tuple[dict, dict]:
    """The workflow and task channel a routing request names, or the 400 Twilio answers."""
    if workspace_sid not in emulator.table("workspaces"):
        raise TwilioError(400, 20001, f"Invalid workspace_sid: workspace {workspace_sid} not found")
    workflow = emulator.table("workflows").get(workflow_sid)
    if workflow is None or workflow["workspace_sid"] != workspace_sid:
        raise TwilioError(400, 20001, f"Invalid workflow_sid: workflow {workflow_sid} not found in workspace {workspace_sid}")
    channel = task_channel_named(emulator, workspace_sid, channel_name)
    if channel is None:
        raise TwilioError(400, 20001, f"Invalid task_channel_unique_name: no task channel {channel_name!r} in workspace {workspace_sid}")
    return workflow, channel
