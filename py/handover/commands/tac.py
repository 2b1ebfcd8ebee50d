"""`handover tac`: Twilio Agent Connect's handoff to Flex set up without the Console."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .base import (
    CONTEXT,
    address_option,
    configuration_id_option,
    credentials_and_client,
    dry_run_option,
    echo_note,
    find_deployment,
    find_project,
    group,
    json_option,
    sid_callback,
    tac_env_option,
)


@group(short_help="Set Twilio Agent Connect's handoff up without the Console.")
def tac() -> None:
    """Twilio Agent Connect's handoff to Flex: addresses, Orchestrator, summaries and the Studio flow.

    Example: handover tac setup --address +15551234567 --tac-env ../tac/.env
    """


def _tac_common(command):
    command = json_option()(command)
    command = dry_run_option("Print the exact requests it would make; write nothing.")(command)
    return tac_env_option("TAC's .env: read for the defaults (and written by the studio step).")(command)


def _orchestrator_options(command):
    command = click.option(
        "--wait",
        type=click.FloatRange(0, 600),
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for an Orchestrator operation to complete.",
    )(command)
    return configuration_id_option(command)


_ADDRESS_OPTION = address_option("A Flex messaging address (repeatable).")
_SERVICE_OPTION = click.option(
    "--conversations-service",
    metavar="IS…",
    callback=sid_callback("IS", "a Conversations service SID"),
    help="The Conversations (Classic) service (default: the Flex configuration's).",
)
_FROM_OPTION = click.option(
    "--from-address", metavar="+E.164", help="The flow's From: TAC's number (default: TWILIO_PHONE_NUMBER)."
)


def _tac_print(results, as_json: bool, extra: dict | None = None) -> None:
    from .. import printers

    if as_json:
        click.echo(json.dumps({"steps": [r.as_json() for r in results], **(extra or {})}, indent=2))
    else:
        for result in results:
            for line in printers.tac_step_lines(result):
                click.echo(line)
    for result in results:
        for note in result.notes:
            echo_note(note)
    writes = sum(len(r.writes) for r in results)
    dry = any(r.dry_run for r in results)
    echo_note("Dry run: nothing was written." if dry else f"{writes} write(s).")


def _tac_run(ctx, steps, as_json: bool, extra: dict | None = None) -> None:
    """Run the steps in order; on a failure, print what was applied, then fail."""
    from ..tac.requests import StepFailed

    results = []
    try:
        for step in steps:
            results.append(step())
    except StepFailed as failure:
        _tac_print(results + [failure.result], as_json, extra)
        raise
    _tac_print(results, as_json, extra)


def _tac_configuration(ctx, given, tac_env_file):
    from ..tac import orchestrator, tac_env

    return orchestrator.check_configuration_id(
        given or tac_env.default(tac_env.CONFIGURATION_ID, tac_env_file, find_project(ctx))
    )


def _tac_from(ctx, given, tac_env_file):
    from ..tac import studio_step, tac_env

    return studio_step.check_from(given or tac_env.default(tac_env.PHONE_NUMBER, tac_env_file, find_project(ctx)))


@tac.command(
    "addresses", context_settings=CONTEXT, short_help="Disconnect Flex messaging addresses from auto-creation."
)
@_ADDRESS_OPTION
@_tac_common
@click.pass_context
def tac_addresses(ctx, addresses, tac_env, dry_run, as_json) -> None:
    """Stop each address's Flex Studio flow or webhook auto-creation, so the virtual agent gets the conversation
    first; prints the previous settings to restore them.

    Example: handover tac addresses --address +15551234567 --address whatsapp:+15551234567
    """
    from ..tac import addresses as step

    wanted = step.check_addresses(addresses)
    if not wanted:
        raise click.UsageError("Give at least one --address.")
    client = credentials_and_client(find_project(ctx))[1]
    _tac_run(ctx, [lambda: step.run(client, wanted, dry_run)], as_json)


@tac.command("orchestrator", context_settings=CONTEXT, short_help="Bridge TAC's Orchestrator configuration to Flex.")
@_orchestrator_options
@_SERVICE_OPTION
@_tac_common
@click.pass_context
def tac_orchestrator(ctx, configuration_id, wait, conversations_service, tac_env, dry_run, as_json) -> None:
    """Set conversationsV1Bridge.serviceId, remove captured traffic, close voice conversations on hangup.

    Example: handover tac orchestrator --configuration-id conv_configuration_… --conversations-service IS…
    """
    from ..tac import orchestrator as step

    tac_file = Path(tac_env) if tac_env else None
    configuration = _tac_configuration(ctx, configuration_id, tac_file)
    client = credentials_and_client(find_project(ctx))[1]
    _tac_run(ctx, [lambda: step.run(client, configuration, conversations_service, dry_run, wait)], as_json)


@tac.command("summaries", context_settings=CONTEXT, short_help="Summary rules for the human agent, attached.")
@_orchestrator_options
@_tac_common
@click.pass_context
def tac_summaries(ctx, configuration_id, wait, tac_env, dry_run, as_json) -> None:
    """An Intelligence configuration with the Summary rules (conversation end and inactive), attached to the
    Orchestrator configuration.

    Example: handover tac summaries --configuration-id conv_configuration_…
    """
    from ..tac import summaries as step

    configuration = _tac_configuration(ctx, configuration_id, Path(tac_env) if tac_env else None)
    client = credentials_and_client(find_project(ctx))[1]
    _tac_run(ctx, [lambda: step.run(client, configuration, dry_run, wait)], as_json)


@tac.command(
    "studio", context_settings=CONTEXT, short_help="Generate, validate and deploy the flow, From TAC's number."
)
@_FROM_OPTION
@_tac_common
@click.pass_context
def tac_studio(ctx, from_address, tac_env, dry_run, as_json) -> None:
    """`studio generate`, `validate` and `deploy`, with TAC's number as From; --tac-env gets the flow's SID.

    Example: handover tac studio --tac-env ../tac/.env
    """
    from ..tac import studio_step as step

    project_dir = find_project(ctx)
    tac_file = Path(tac_env) if tac_env else None
    sender = _tac_from(ctx, from_address, tac_file)
    found_credentials, client = credentials_and_client(project_dir)
    located = find_deployment(client, project_dir, found_credentials, None, None, required=False)
    _tac_run(ctx, [lambda: step.run(client, project_dir, located, sender, tac_file, dry_run)], as_json)


@tac.command("setup", context_settings=CONTEXT, short_help="Every TAC step in order, its plan first.")
@_ADDRESS_OPTION
@_orchestrator_options
@_SERVICE_OPTION
@_FROM_OPTION
@_tac_common
@click.pass_context
def tac_setup(
    ctx, addresses, configuration_id, wait, conversations_service, from_address, tac_env, dry_run, as_json
) -> None:
    """Print the plan, then run addresses (with --address), orchestrator, summaries and studio in order, stopping at
    the first failure; last, what stays in the Console.

    Example: handover tac setup --address +15551234567 --tac-env ../tac/.env
    """
    from ..tac import addresses as address_step
    from ..tac import orchestrator, studio_step, summaries
    from ..tac import setup as setup_step

    project_dir = find_project(ctx)
    tac_file = Path(tac_env) if tac_env else None
    wanted = address_step.check_addresses(addresses)
    configuration = _tac_configuration(ctx, configuration_id, tac_file)
    sender = _tac_from(ctx, from_address, tac_file)
    plan = setup_step.plan(wanted, configuration, sender)
    if not as_json:
        for number, line in enumerate(plan, 1):
            echo_note(f"Plan {number}. {line}")
    found_credentials, client = credentials_and_client(project_dir)
    located = find_deployment(client, project_dir, found_credentials, None, None, required=False)
    steps = [lambda: address_step.run(client, wanted, dry_run)] if wanted else []
    steps += [
        lambda: orchestrator.run(client, configuration, conversations_service, dry_run, wait),
        lambda: summaries.run(client, configuration, dry_run, wait),
        lambda: studio_step.run(client, project_dir, located, sender, tac_file, dry_run),
    ]
    _tac_run(ctx, steps, as_json, {"plan": plan, "console": list(setup_step.CONSOLE_STEPS)})
    for line in setup_step.console_lines():
        echo_note(line)
