"""`handover voice wire`: a voice AI's number answered by the deployed /voice/incoming-call."""

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
)


@group(short_help="Hand a voice AI's caller to Flex (ConversationRelay).")
def voice() -> None:
    """The voice path: a caller of your ConversationRelay voice AI reaches a Flex agent with the AI's reason and
    summary, directly (/voice/connect-action) or through the Studio handoff flow.

    Example: handover voice wire --number +15551230000 --relay-url wss://ai.example.com/relay
    """


@voice.command("wire", context_settings=CONTEXT, short_help="Point a number at the voice AI, through the kit.")
@click.option("--number", required=True, metavar="+1…", help="The account's phone number the voice AI answers.")
@click.option("--relay-url", required=True, metavar="wss://…", help="Your voice AI's ConversationRelay WebSocket URL.")
@click.option(
    "--path",
    type=click.Choice(["direct", "studio"]),
    default="direct",
    show_default=True,
    help="Where a handoff goes: the kit's /voice/connect-action, or the Studio handoff flow (as TAC does).",
)
@deployment_options
@click.option("--force", is_flag=True, help="Replace a voice URL that points elsewhere (that app then gets no call).")
@dry_run_option("Print the writes it would make; write nothing.")
@json_option()
@click.pass_context
def wire(ctx, number, relay_url, path, service_sid, environment, force, dry_run, as_json) -> None:
    """Set HANDOVER_VOICE_RELAY_URL and HANDOVER_VOICE_PATH on the deployed environment, then point the number's
    VoiceUrl at the deployed /voice/incoming-call, which answers <Connect action=…><ConversationRelay url=…/>
    </Connect>; only what differs is written.

    A number that already answers elsewhere is left alone unless --force.

    Example: handover voice wire --number +15551230000 --relay-url wss://ai.example.com/relay --path studio
    """
    from ..voice import wiring

    wiring.check_inputs(relay_url, path)
    project_dir = find_project(ctx)
    found_credentials, client = credentials_and_client(project_dir)
    located = locate_deployment(client, project_dir, found_credentials, service_sid, environment)
    result = wiring.wire(client, located, number, relay_url, path, force=force, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        for line in result.lines():
            click.echo(line)
    for note in result.notes():
        echo_note(note)
