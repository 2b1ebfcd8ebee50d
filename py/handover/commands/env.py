"""`handover env set`: the handover's variables, in .env and on the deployed Functions environment."""

from __future__ import annotations

import json

import click

from .. import contract
from ..errors import HandoverError
from ..project import ENV_FILE, read_local
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
    show_secrets_option,
    sid_callback,
)


@group(short_help="Set the handover's variables, locally and deployed.")
def env() -> None:
    """The handover's environment variables, in .env and on the deployed Functions environment.

    Example: handover env set --workspace-sid WSxxx… --workflow-sid WWxxx…
    """


@env.command("set", context_settings=CONTEXT, short_help="Set the Flex workspace and workflow, locally and deployed.")
@click.option(
    "--workspace-sid",
    required=True,
    metavar="WS…",
    callback=sid_callback("WS", "a TaskRouter workspace SID"),
    help="The TaskRouter workspace of your Flex instance.",
)
@click.option(
    "--workflow-sid",
    required=True,
    metavar="WW…",
    callback=sid_callback("WW", "a TaskRouter workflow SID"),
    help="The workflow that routes handed-off conversations.",
)
@click.option(
    "--task-channel", metavar="NAME", help="The task channel of the created tasks (the function's default: chat)."
)
@deployment_options
@click.option("--local-only", is_flag=True, help="Write .env only.")
@click.option("--remote-only", is_flag=True, help="Write the deployed environment only.")
@click.option(
    "--no-verify", is_flag=True, help="Do not check the workspace, workflow and task channel against the account."
)
@click.option(
    "--rotate-token",
    is_flag=True,
    help="Replace HANDOVER_TOKEN with a new one; tool URLs with the old one then get HTTP 401.",
)
@show_secrets_option("HANDOVER_TOKEN (a line HANDOVER_TOKEN=…, or handover_token in --json)")
@dry_run_option()
@json_option()
@click.pass_context
def env_set(
    ctx,
    workspace_sid,
    workflow_sid,
    task_channel,
    service_sid,
    environment,
    local_only,
    remote_only,
    no_verify,
    rotate_token,
    show_secrets,
    dry_run,
    as_json,
) -> None:
    """Set FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID (and FLEX_TASK_CHANNEL) in .env and on the deployed environment.

    Also HANDOVER_TOKEN, the secret a caller of the tool presents: the deployed one, else the one in
    .env, else a new one; --rotate-token makes a new one. Its value is printed only with --show-secrets.

    Unless --local-only, it also creates the 16 Sync Maps that hold the handoff claims
    (handover-claims-00 … 15) where SYNC_SERVICE_SID's Sync service (default: the account's) lacks them.

    Only missing or changed values are written, so running it again changes nothing.

    Example: handover env set --workspace-sid WSxxx… --workflow-sid WWxxx…
    """
    from .. import printers
    from ..account import routing, variables

    if local_only and remote_only:
        raise click.UsageError("--local-only and --remote-only exclude each other; give one, or neither to write both.")
    if task_channel is not None and not contract.TASK_CHANNEL.accepts(task_channel):
        raise click.BadParameter(
            f"{task_channel!r} is not {contract.TASK_CHANNEL.expected}.", param_hint="'--task-channel'"
        )
    project_dir = find_project(ctx)
    values = {contract.WORKSPACE.name: workspace_sid, contract.WORKFLOW.name: workflow_sid}
    if task_channel:
        values[contract.TASK_CHANNEL.name] = task_channel
    found_credentials = client = located = None
    if not (local_only and no_verify):
        found_credentials, client = credentials_and_client(project_dir)
    if not no_verify:
        # Without --task-channel the function keeps routing to the channel .env names, or its default.
        channel = (
            task_channel
            or read_local(project_dir / ENV_FILE).get(contract.TASK_CHANNEL.name)
            or contract.TASK_CHANNEL.default
        )
        problem = routing.check(client, workspace_sid, workflow_sid, channel)
        if problem:
            raise HandoverError(f"{problem.message} {problem.fix} {variables.NOTHING_WRITTEN}")
    if not local_only:
        located = locate_deployment(client, project_dir, found_credentials, service_sid, environment)
    try:
        result = variables.set_variables(
            client,
            project_dir,
            values,
            located,
            local=not remote_only,
            dry_run=dry_run,
            rotate_token=rotate_token,
            claim_maps=True,
        )
    except variables.EnvSetFailed as failure:
        _print_env_set(failure.result, as_json, show_secrets)  # what was applied, before the error says so
        raise
    _print_env_set(result, as_json, show_secrets)
    note = printers.env_set_token_note(result)
    if note:
        echo_note(note)
    echo_note(printers.env_set_summary(result))


def _print_env_set(result, as_json: bool, show_secrets: bool) -> None:
    from .. import printers

    if as_json:
        click.echo(json.dumps(result.as_json(show_secrets), indent=2))
    else:
        for line in printers.env_set_lines(result, show_secrets):
            click.echo(line)
