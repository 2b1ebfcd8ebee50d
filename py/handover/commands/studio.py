"""`handover studio generate`, `validate` and `deploy`: the Studio handoff flow."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import contract
from ..project import ENV_FILE, read_local
from .base import (
    CONTEXT,
    credentials_and_client,
    deployment_options,
    dry_run_option,
    echo_note,
    find_deployment,
    find_project,
    group,
    json_option,
    sid_callback,
)


@group(short_help="Generate, validate and deploy the Studio handoff flow.")
def studio() -> None:
    """The Studio handoff flow of Twilio Agent Connect (and of the studio-handover tool).

    Example: handover studio deploy --friendly-name "Agent Handoff"
    """


_FLOW_FILE_HELP = "The flow definition file (default: studio/agent-handoff.json in the project)."


def _flow_path(ctx: click.Context, given: str | None) -> Path:
    from ..studio import render

    return Path(given) if given else find_project(ctx) / render.FLOW_FILE


@studio.command("generate", context_settings=CONTEXT, short_help="Render the flow definition from its template.")
@click.option(
    "--workflow-sid",
    metavar="WW…",
    callback=sid_callback("WW", "a TaskRouter workflow SID"),
    help="The workflow of both Send to Flex widgets (default: FLEX_WORKFLOW_SID in .env).",
)
@click.option(
    "--task-channel",
    metavar="NAME|TC…",
    help=(
        "The messaging task channel (default: FLEX_TASK_CHANNEL "
        "in .env, else chat); a name is looked up in the workspace."
    ),
)
@click.option("--voice-task-channel", metavar="NAME|TC…", help="The voice task channel (default: voice).")
@click.option(
    "--workspace-sid",
    metavar="WS…",
    callback=sid_callback("WS", "a TaskRouter workspace SID"),
    help="Where task channel names are looked up (default: FLEX_WORKSPACE_SID in .env).",
)
@click.option(
    "--attributes",
    metavar="JSON",
    help="Static task attributes, a JSON object (default: HANDOVER_ATTRIBUTES in .env, else none).",
)
@click.option(
    "--call-without-handoff",
    type=click.Choice(["hangup", "flex"]),
    default="hangup",
    show_default=True,
    help="What a call that ends without handoff data gets: hung up, or sent to Flex anyway.",
)
@click.option(
    "--out", metavar="FILE", help="Where to write the flow; - for stdout (default: studio/agent-handoff.json)."
)
@click.option(
    "--check", is_flag=True, help="Write nothing; exit 1 when the file differs from what these parameters render."
)
@json_option("Print the result (file, parameters, whether it changed) as JSON.")
@click.pass_context
def studio_generate(
    ctx,
    workflow_sid,
    task_channel,
    voice_task_channel,
    workspace_sid,
    attributes,
    call_without_handoff,
    out,
    check,
    as_json,
) -> None:
    """Render the Studio handoff flow (voice and messaging paths) into studio/agent-handoff.json.

    Send to Flex takes task channel SIDs: names are looked up in the workspace (this needs
    credentials); TC SIDs need nothing. Commit the file, like the generated functions.

    Example: handover studio generate --workflow-sid WWxxx… --task-channel chat
    """
    from ..studio import render

    project_dir = find_project(ctx)
    if check and out == "-":
        raise click.UsageError("--check compares a file: give --out FILE, or leave --out out.")
    given = render.GivenParameters(
        workspace_sid, workflow_sid, task_channel, voice_task_channel, attributes, call_without_handoff
    )
    env = read_local(project_dir / ENV_FILE)
    parameters = render.resolve(given, env, lambda: credentials_and_client(project_dir)[1])
    text = render.file_text(render.definition(parameters))
    if out == "-":
        click.echo(text, nl=False)
        return
    path = _flow_path(ctx, out)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    differs = current != text
    if not check and differs:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": str(path),
                    "check": check,
                    "differs" if check else "written": differs,
                    "parameters": parameters.as_json(),
                },
                indent=2,
            )
        )
    if check and differs:
        echo_note(
            f"{path}: differs from what these parameters render; "
            "run `handover studio generate` (with the same options)."
        )
        ctx.exit(1)
    if not as_json:
        click.echo(str(path))
    echo_note(
        f"{path}: {'up to date' if not differs else 'written'} (workflow {parameters.workflow_sid}, messaging channel "
        f"{parameters.messaging_channel_sid}, voice channel {parameters.voice_channel_sid})."
    )


@studio.command("validate", context_settings=CONTEXT, short_help="Check the flow locally, then with Studio.")
@click.option("--file", "file_", metavar="FILE", help=_FLOW_FILE_HELP)
@click.option(
    "--friendly-name", default="Agent Handoff", show_default=True, help="The name Studio validates the flow under."
)
@click.option("--local-only", is_flag=True, help="Run the local checks only (no credentials, no request).")
@json_option("Print the problems as JSON.")
@click.pass_context
def studio_validate(ctx, file_, friendly_name, local_only, as_json) -> None:
    """Check the flow: transitions, reachability, the trigger, widget properties, SIDs and attribute JSON, then
    Studio's POST /v2/Flows/Validate.

    Studio is asked only when the local checks pass. Exit 1 when a problem is found.

    Example: handover studio validate --local-only
    """
    from ..studio import deploy as flow_deploy
    from ..studio import render

    path = _flow_path(ctx, file_)
    flow = render.read_flow(path)
    problems, by = flow_deploy.local_problems(flow), "the local checks"
    if not problems and not local_only:
        client = credentials_and_client(find_project(ctx))[1]
        problems, by = flow_deploy.studio_problems(client, friendly_name, flow), "Studio's validation"
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": str(path),
                    "valid": not problems,
                    "checked_by": by
                    if problems
                    else ("the local checks" if local_only else "the local checks and Studio"),
                    "problems": problems,
                },
                indent=2,
            )
        )
    else:
        for problem in problems:
            click.echo(problem)
    if problems:
        echo_note(f"{path}: {len(problems)} problem(s) found by {by}.")
        ctx.exit(1)
    echo_note(f"{path}: valid ({'local checks only' if local_only else 'local checks and Studio'}).")


@studio.command("deploy", context_settings=CONTEXT, short_help="Create or update the flow, and wire its SID.")
@click.option("--file", "file_", metavar="FILE", help=_FLOW_FILE_HELP)
@click.option(
    "--friendly-name",
    default="Agent Handoff",
    show_default=True,
    help="The flow's name in Studio; the flow of this name is updated, else one is created.",
)
@click.option(
    "--from-address",
    metavar="+E.164|MG…",
    help="Also set STUDIO_FROM_ADDRESS, the address the studio-handover tool starts executions from.",
)
@deployment_options
@dry_run_option("Validate and show what would change; write nothing.")
@json_option()
@click.pass_context
def studio_deploy(ctx, file_, friendly_name, from_address, service_sid, environment, dry_run, as_json) -> None:
    """Validate the flow, create it (published) or update it where it differs, and set TWILIO_STUDIO_HANDOFF_FLOW_SID.

    The SID goes into .env and onto the deployed Functions environment (when there is one), through
    the same code as `handover env set`. Running it again writes nothing. Prints the SID and the line
    for a Twilio Agent Connect .env.

    Example: handover studio deploy --from-address +15551234567
    """
    from ..studio import deploy as flow_deploy
    from ..studio import render

    if from_address is not None and not contract.STUDIO_FROM.accepts(from_address):
        raise click.BadParameter(
            f"{from_address!r} is not {contract.STUDIO_FROM.expected}.", param_hint="'--from-address'"
        )
    project_dir = find_project(ctx)
    path = _flow_path(ctx, file_)
    flow = render.read_flow(path)
    found_credentials, client = credentials_and_client(project_dir)
    located = find_deployment(
        client, project_dir, found_credentials, service_sid, environment, required=service_sid is not None
    )
    if located is None:
        echo_note("No Functions deployment found: the flow SID goes into .env only.")
    try:
        result = flow_deploy.deploy(client, project_dir, flow, friendly_name, located, from_address, dry_run=dry_run)
    except flow_deploy.DeployFailed as failure:
        _print_studio_deploy(failure.deployment, as_json, notes=False)  # what was applied, before the error says so
        raise
    _print_studio_deploy(result, as_json)


def _print_studio_deploy(result, as_json: bool, notes: bool = True) -> None:
    from .. import printers

    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        for line in printers.studio_deploy_lines(result):
            click.echo(line)
    for note in printers.studio_deploy_notes(result) if notes else []:
        echo_note(note)
