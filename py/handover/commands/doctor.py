"""`handover doctor`: the whole setup checked, one line per check."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .base import (
    address_option,
    check_assistant_id,
    command,
    configuration_id_option,
    deployment_options,
    echo_note,
    find_project,
    json_option,
    tac_env_option,
)


@command(short_help="Check the whole setup, one line per check.")
@click.option(
    "--assistant-id",
    metavar="aia_asst_…",
    callback=lambda ctx, param, value: value and check_assistant_id(value),
    help="Also check this AI Assistant's handover tool.",
)
@configuration_id_option
@tac_env_option("TAC's .env, for its defaults.")
@address_option("A Flex messaging address to check.")
@click.option("--voice-number", metavar="+1…", help="Also check this voice AI's number and where its handoff goes.")
@deployment_options
@json_option("Print the checks as JSON.")
@click.pass_context
def doctor(
    ctx, assistant_id, configuration_id, tac_env, addresses, voice_number, service_sid, environment, as_json
) -> None:
    """Check credentials, Flex, routing, the deployment, its variables and the assistant's tool; change nothing.

    Each failure comes with the command or Console step that fixes it. Exit 1 when any check fails.

    Example: handover doctor --assistant-id aia_asst_xxx…
    """
    from .. import doctor as doctor_module
    from ..account.deployment import environment_name
    from ..tac import addresses as tac_addresses
    from ..tac import orchestrator
    from ..tac import tac_env as tac_settings

    project_dir = find_project(ctx)
    tac_file = Path(tac_env) if tac_env else None
    configuration = configuration_id or tac_settings.default(tac_settings.CONFIGURATION_ID, tac_file, project_dir)
    if configuration:
        orchestrator.check_configuration_id(configuration)
    known = list(addresses) or [
        a for a in [tac_settings.default(tac_settings.PHONE_NUMBER, tac_file, project_dir)] if a
    ]
    tac_addresses.check_addresses(known)
    checks = []
    for check in doctor_module.run(
        project_dir,
        service_sid,
        environment_name(project_dir, environment),
        assistant_id,
        configuration,
        known,
        voice_number,
    ):
        checks.append(check)
        if not as_json:
            click.echo(f"{check.status}  {check.name}: {check.detail}")
            if check.fix and check.status != doctor_module.PASS:
                click.echo(f"      fix: {check.fix}")
    failed = [c for c in checks if c.status == doctor_module.FAIL]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [c.as_json() for c in checks]}, indent=2))
    # The first failure is the root cause the others follow from (doctor checks in dependency order): its fix first.
    next_step = f" Next: {failed[0].fix}" if failed and failed[0].fix else ""
    echo_note(
        f"{len(failed)} check(s) failed.{next_step}"
        if failed
        else "All checks passed."
        if all(c.status == doctor_module.PASS for c in checks)
        else "No check failed; see the warnings."
    )
    if failed:
        ctx.exit(1)
