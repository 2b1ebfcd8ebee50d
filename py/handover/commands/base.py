"""What every command family shares: the command and group classes, the shared options, the project and account.

Every command error is a HandoverError (errors.py), and a failed Twilio request is worded by one formatter
(account.sdk.TwilioFailure); `_ClickErrors`, the base of every command and group, turns both into click errors:
nowhere else.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from .. import contract
from ..errors import HandoverError, InputError
from ..project import find_project_dir

CONTEXT = {"help_option_names": ["-h", "--help"]}


class _ClickErrors:
    """Where command errors become click's, for every command and group: a HandoverError by its message (exit 2
    with the command's usage for an InputError, else 1), a failed Twilio request as TwilioFailure words it (1)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except HandoverError as error:
            raise (click.UsageError(str(error), ctx) if error.usage else click.ClickException(str(error))) from error
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as error:
            from ..account.sdk import TwilioFailure

            failure = TwilioFailure.of(error)
            if failure is None:
                raise
            raise click.ClickException(str(failure)) from error


class HandoverCommand(_ClickErrors, click.Command):
    """A `handover` command."""


class HandoverGroup(_ClickErrors, click.Group):
    """A group whose commands are HandoverCommands, and whose groups HandoverGroups."""

    command_class = HandoverCommand
    group_class = type  # its own class


def command(**settings):
    """A top-level `handover` command, which cli.py registers."""
    return click.command(cls=HandoverCommand, context_settings=CONTEXT, **settings)


def group(**settings):
    """A top-level `handover` group, which cli.py registers."""
    return click.group(cls=HandoverGroup, context_settings=CONTEXT, **settings)


def require_extra(ctx: click.Context, extra: str, modules: tuple[str, ...]) -> None:
    """Stop (exit 2) naming the kit's extra and how to install it when a module the command needs is missing.

    Called before the command does anything, so that it neither starts nor writes part of its work.
    """
    for module in modules:
        if not _installed(module):
            raise InputError(
                f'handover {ctx.info_name} needs the kit\'s "{extra}" extra, which is not installed (no module named '
                f"{module}). Install it from the project's folder: pip install ./py/twilio_emulator '.[{extra}]' "
                "(make install does this)."
            )


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # an import hook (or a missing parent package) refusing it
        return False


def echo_note(message: str) -> None:
    click.echo(message, err=True)


def find_project(ctx: click.Context) -> Path:
    given = ctx.find_root().params.get("project_dir")
    return find_project_dir(Path(given) if given else Path.cwd())


# Shared options ------------------------------------------------------------------------------------------------


def sid_callback(prefix: str, what: str):
    """A click callback that accepts only a SID of this prefix (or nothing, for an optional option)."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None and not contract.is_sid(prefix, value):
            raise click.BadParameter(f"{value!r} is not {what}: expected {prefix} followed by 32 hex characters.")
        return value

    return check


def deployment_options(command):
    """--service-sid and --environment, as the Serverless Toolkit names them."""
    command = click.option(
        "--environment",
        metavar="SUFFIX",
        help=(
            "The Functions environment: its domain suffix, unique name or ZE SID (default: `environment` in "
            ".twilioserverlessrc, else dev)."
        ),
    )(command)
    return click.option(
        "--service-sid",
        metavar="ZS…",
        callback=sid_callback("ZS", "a Serverless service SID"),
        help="The deployed service (default: .twilioserverlessrc, .twiliodeployinfo, then the project's name).",
    )(command)


def show_secrets_option(what: str):
    return click.option("--show-secrets", is_flag=True, help=f"Print {what}; without it, it is never printed.")


def json_option(help: str = "Print the result as JSON."):
    return click.option("--json", "as_json", is_flag=True, help=help)


def dry_run_option(help: str = "Show what would change; write nothing."):
    return click.option("--dry-run", is_flag=True, help=help)


def check_assistant_id(value: str) -> str:
    if not value.startswith("aia_asst_") or len(value) == len("aia_asst_"):
        raise click.BadParameter(
            f"{value!r} is not an AI Assistant ID: expected aia_asst_ followed by its ID (Console > AI Assistants)."
        )
    return value


# Twilio Agent Connect's options, which `tac` and `doctor` both take

configuration_id_option = click.option(
    "--configuration-id",
    metavar="conv_configuration_…",
    help="TAC's Orchestrator configuration (default: TWILIO_CONVERSATION_CONFIGURATION_ID).",
)


def tac_env_option(help: str):
    return click.option("--tac-env", type=click.Path(dir_okay=False), metavar="FILE", help=help)


def address_option(help: str):
    return click.option("--address", "addresses", multiple=True, metavar="+1…|whatsapp:+1…|IG…", help=help)


# The account ------------------------------------------------------------------------------------------------------


def credentials_and_client(project_dir: Path):
    """The credentials found (named on stderr) and a twilio client signed in with them."""
    from ..account import credentials

    found = credentials.load(project_dir)
    echo_note(f"Using {found.describe()}.")
    return found, credentials.client(found)


def locate_deployment(client, project_dir: Path, found_credentials, service_sid: str | None, environment: str | None):
    from ..account import deployment

    located = deployment.locate(
        client, project_dir, found_credentials, service_sid, deployment.environment_name(project_dir, environment)
    )
    for line in located.describe():
        echo_note(f"Using {line}.")
    return located


def find_deployment(client, project_dir: Path, found_credentials, service_sid, environment, required: bool):
    """The deployment; when not required, None if there is none."""
    from ..account.deployment import DeploymentNotFound

    try:
        return locate_deployment(client, project_dir, found_credentials, service_sid, environment)
    except DeploymentNotFound:
        if required:
            raise
        return None
