"""`handover generate` and `handover validate`: the project's functions and generated files."""

from __future__ import annotations

import json

import click

from .base import command, credentials_and_client, deployment_options, find_project, json_option, locate_deployment


@command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files that differ from their templates.")
@json_option()
@click.pass_context
def generate(ctx: click.Context, check: bool, as_json: bool) -> None:
    """Render the generated files from their templates.

    Only what Python owns is generated: assets/tools/contract.private.js, the values the functions take from
    contract.py, and the Flex plugin's copy (plugin-ai-handover/src/generated/contract.js) where the project has the
    plugin. The functions and their helpers are JavaScript source.

    Example: handover generate --check
    """
    from ..functions import generate as generator

    project_dir = find_project(ctx)
    files = generator.differing(project_dir) if check else generator.write(project_dir)
    if as_json:
        click.echo(json.dumps({"check": check, "differing" if check else "written": files}, indent=2))
    for path in files:
        if not as_json:
            click.echo(path)
        if check:
            click.echo(f"{path}: differs from its template; run `handover generate`", err=True)
    if check and files:
        ctx.exit(1)
    if not as_json:
        click.echo(
            f"{len(files)} file(s) {'differ' if check else 'written'}; "
            f"{len(generator.of_project(project_dir))} generated in all.",
            err=True,
        )


@command(short_help="Check functions parse, match templates and the deployment.")
@click.option(
    "--deployed", is_flag=True, help="Also compare the deployed functions with the local ones (needs credentials)."
)
@deployment_options
@json_option("Print the problems as JSON.")
@click.pass_context
def validate(
    ctx: click.Context, deployed: bool, service_sid: str | None, environment: str | None, as_json: bool
) -> None:
    """Check that the JavaScript parses and loads, each function exports a handler, generated files are current,
    `twilio serverless:deploy` would serve exactly the project's tools (public) and modules (private), and on a
    runtime Twilio builds on (a warning when Twilio announced its retirement).

    With --deployed, also read what the Functions environment runs and name every function or asset
    that is missing, extra or different there.

    Example: handover validate --deployed --environment dev
    """
    from ..functions import validate as validator

    project_dir = find_project(ctx)
    # Missing credentials stop --deployed before the local checks' seconds of work, not after.
    found_credentials, client = credentials_and_client(project_dir) if deployed else (None, None)
    runtime_problems, warnings = validator.runtime_findings(project_dir)
    problems = [
        (p.path, p.message)
        for p in validator.check(project_dir) + validator.deployment_problems(project_dir) + runtime_problems
    ]
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if deployed:
        from ..account import deployed_code

        located = locate_deployment(client, project_dir, found_credentials, service_sid, environment)
        differences = deployed_code.compare(client, located, project_dir)
        problems += [(d.path, f"{d.kind} {d.message}") for d in differences]
    if as_json:
        click.echo(json.dumps([{"path": path, "problem": message} for path, message in problems], indent=2))
    else:
        for path, message in problems:
            click.echo(f"{path}: {message}")
    if problems:
        click.echo(
            f"{len(problems)} problem(s) found." + (f" {deployed_code.DEPLOY_FIX}" if deployed and differences else ""),
            err=True,
        )
        ctx.exit(1)
    click.echo("All functions and assets are valid" + (" and deployed as they are." if deployed else "."), err=True)
