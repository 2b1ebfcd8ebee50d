"""`handover handback wire`: the workspace's TaskRouter events sent to the deployed hand-back function."""

from __future__ import annotations

import json

import click

from .base import (
    CONTEXT,
    credentials_and_client,
    deployment_options,
    dry_run_option,
    echo_note,
    find_project,
    group,
    json_option,
    locate_deployment,
    sid_callback,
)


@group(short_help="Hand the customer back to the AI when a task ends.")
def handback() -> None:
    """The hand-back: when a task a handover tool created ends, the customer's conversation goes back to the AI.

    Example: handover handback wire
    """


@handback.command("wire", context_settings=CONTEXT, short_help="Send the workspace's task events to the hand-back.")
@click.option(
    "--workspace-sid",
    metavar="WS…",
    callback=sid_callback("WS", "a TaskRouter workspace SID"),
    help="The TaskRouter workspace (default: FLEX_WORKSPACE_SID on the deployed environment, else in .env).",
)
@deployment_options
@click.option(
    "--replace",
    is_flag=True,
    help="Replace another EventCallbackUrl; that URL then gets no event (the kit does not forward them).",
)
@dry_run_option("Print the request it would make; write nothing.")
@json_option()
@click.pass_context
def wire(ctx, workspace_sid, service_sid, environment, replace, dry_run, as_json) -> None:
    """Point the workspace's EventCallbackUrl at the deployed /lifecycle/task-events, with task.wrapup,
    task.completed and task.canceled in its EventsFilter; only what differs is written.

    An EventCallbackUrl of your own is left alone unless --replace: TaskRouter calls one URL per workspace, so
    either replace it, or have it forward those events to the hand-back, re-signed with the account's auth token.

    Example: handover handback wire --service-sid ZSxxx…
    """
    from ..lifecycle import wiring

    project_dir = find_project(ctx)
    found_credentials, client = credentials_and_client(project_dir)
    located = locate_deployment(client, project_dir, found_credentials, service_sid, environment)
    where = "--workspace-sid"
    if workspace_sid is None:
        workspace_sid, where = wiring.find_workspace(client, project_dir, located)
        echo_note(f"Using workspace {workspace_sid} ({where}).")
    result = wiring.wire(client, workspace_sid, where, located, replace_theirs=replace, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        for line in result.lines():
            click.echo(line)
    for note in result.notes():
        echo_note(note)
