"""Checking a Flex routing configuration against the account: workspace, workflow, task channel.

`env set` refuses a configuration that fails these checks, and `doctor` reports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .sdk import listed


@dataclass(frozen=True)
class RoutingProblem:
    message: str  # what is wrong, naming the SIDs
    fix: str  # what to do about it


def _not_found(error) -> bool:
    return getattr(error, "status", None) == 404


def check_workspace_and_workflow(client, workspace_sid: str, workflow_sid: str) -> RoutingProblem | None:
    """None when the workspace exists and the workflow belongs to it."""
    from twilio.base.exceptions import TwilioRestException

    workspaces = client.taskrouter.v1.workspaces
    try:
        workspaces(workspace_sid).fetch()
    except TwilioRestException as error:
        if not _not_found(error):
            raise
        return RoutingProblem(
            f"TaskRouter workspace {workspace_sid} does not exist in this account.",
            'Use the workspace of your Flex instance: Console > TaskRouter > Workspaces ("Flex Task Assignment").',
        )
    try:
        workspaces(workspace_sid).workflows(workflow_sid).fetch()
    except TwilioRestException as error:
        if not _not_found(error):
            raise
        owner = _workspace_of(client, workflow_sid, skip=workspace_sid)
        where = f"it belongs to workspace {owner}" if owner else "it does not exist in any workspace of this account"
        return RoutingProblem(
            f"TaskRouter workflow {workflow_sid} is not in workspace {workspace_sid}: {where}.",
            f"Use a workflow of workspace {workspace_sid}: Console > "
            f"TaskRouter > Workspaces > {workspace_sid} > Workflows.",
        )
    return None


def _workspace_of(client, workflow_sid: str, skip: str) -> str | None:
    """The workspace a workflow is in, searched only to say so in an error."""
    from twilio.base.exceptions import TwilioRestException

    for workspace in listed(client.taskrouter.v1.workspaces):
        if workspace.sid == skip:
            continue
        try:
            workspace.workflows(workflow_sid).fetch()
        except TwilioRestException as error:
            if not _not_found(error):
                raise
            continue
        return workspace.sid
    return None


def check_task_channel(client, workspace_sid: str, task_channel: str) -> RoutingProblem | None:
    """None when the workspace has a task channel of that unique name."""
    names = [channel.unique_name for channel in listed(client.taskrouter.v1.workspaces(workspace_sid).task_channels)]
    if task_channel in names:
        return None
    return RoutingProblem(
        f"Workspace {workspace_sid} has no task channel {task_channel!r} (it has: {', '.join(names) or 'none'}).",
        "Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task Channels.",
    )


def check(client, workspace_sid: str, workflow_sid: str, task_channel: str) -> RoutingProblem | None:
    """The first problem of a routing configuration, or None when the handoff can route with it."""
    return check_workspace_and_workflow(client, workspace_sid, workflow_sid) or check_task_channel(
        client, workspace_sid, task_channel
    )
