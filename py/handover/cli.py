"""The `handover` command: parses options, calls a module, prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import __version__

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _project(ctx: click.Context) -> Path:
    from .project import ProjectNotFound, find_project_dir

    given = ctx.find_root().params.get("project_dir")
    try:
        return find_project_dir(Path(given) if given else Path.cwd())
    except ProjectNotFound as error:
        raise click.UsageError(str(error)) from error


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, exists=True),
    help="The Serverless project (default: the nearest directory at or above this one with a .twilioserverlessrc).",
)
def cli(project_dir: str | None) -> None:
    """Hand a customer's conversation from an AI agent to a human agent in Twilio Flex."""


@cli.command(context_settings=CONTEXT)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 listing the files that differ from their templates.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def generate(ctx: click.Context, check: bool, as_json: bool) -> None:
    """Render the functions and assets from their templates.

    Example: handover generate --check
    """
    from . import generate as generator

    project_dir = _project(ctx)
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
        click.echo(f"{len(files)} file(s) {'differ' if check else 'written'}; {len(generator.generated_files())} generated in all.", err=True)


@cli.command(context_settings=CONTEXT, short_help="Check functions parse and match templates.")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_context
def validate(ctx: click.Context, as_json: bool) -> None:
    """Check that every function parses, exports a handler, and matches its template.

    Example: handover validate
    """
    from . import validate as validator

    try:
        problems = validator.check(_project(ctx))
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps([{"path": p.path, "problem": p.message} for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
    click.echo(f"{len(problems)} problem(s) found." if problems else "All functions and assets are valid.", err=True)
    if problems:
        ctx.exit(1)


@cli.command(context_settings=CONTEXT, short_help="Run a handoff end to end on the emulator.")
@click.option("--keep-running", is_flag=True, help="Leave the emulator and the runtime up, and print a curl command to call them.")
@click.option("--fork", is_flag=True, help="Run each function call in a forked process, as twilio-run does by default.")
@click.pass_context
def demo(ctx: click.Context, keep_running: bool, fork: bool) -> None:
    """Hand a conversation to Flex end to end on the embedded Twilio emulator (no account needed).

    Example: handover demo --keep-running
    """
    from . import demo as walkthrough
    from .emulator import SpecNotFound
    from .runtime import RuntimeStartError

    try:
        walkthrough.run(_project(ctx), click.echo, keep_running=keep_running, fork=fork)
    except (SpecNotFound, RuntimeStartError, walkthrough.DemoFailed) as error:
        raise click.ClickException(str(error)) from error


def main() -> None:
    cli(prog_name="handover")
