"""The `handover` command: parses options, calls a module, prints."""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import __version__

CONTEXT = {"help_option_names": ["-h", "--help"]}


def _echo_note(message: str) -> None:
    click.echo(message, err=True)


def _project(ctx: click.Context) -> Path:
    from .project import ProjectNotFound, find_project_dir

    given = ctx.find_root().params.get("project_dir")
    try:
        return find_project_dir(Path(given) if given else Path.cwd())
    except ProjectNotFound as error:
        raise click.UsageError(str(error)) from error


# Shared by the commands that talk to a Twilio account ----------------------------------------------

def _sid_option(prefix: str, what: str):
    """A click callback that accepts only a SID of this prefix (or nothing, for an optional option)."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        from .contract import is_sid

        if value is not None and not is_sid(prefix, value):
            raise click.BadParameter(f"{value!r} is not {what}: expected {prefix} followed by 32 hex characters.")
        return value

    return check


def _deployment_options(command):
    """--service-sid and --environment, as the Serverless Toolkit names them."""
    command = click.option(
        "--environment", metavar="SUFFIX",
        help="The Functions environment: its domain suffix, unique name or ZE SID (default: `environment` in .twilioserverlessrc, else dev).",
    )(command)
    return click.option(
        "--service-sid", metavar="ZS…", callback=_sid_option("ZS", "a Serverless service SID"),
        help="The deployed service (default: .twilioserverlessrc, .twiliodeployinfo, then the project's name).",
    )(command)


def _show_secrets_option(what: str):
    return click.option("--show-secrets", is_flag=True, help=f"Print {what}; without it, it is never printed.")


def _credentials(project_dir: Path):
    from . import credentials

    try:
        found = credentials.load(project_dir)
    except credentials.CredentialsError as error:
        raise click.UsageError(str(error)) from error
    _echo_note(f"Using {found.describe()}.")
    return found, credentials.client(found)


class _AccountErrors:
    """Turns what can go wrong while talking to Twilio into a ClickException that says what to do."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        from requests import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        from .deployed import NoBuild
        from .deployment import DeploymentNotFound
        from .project import ProjectFileInvalid
        from .sdk import rest_error
        from .tokens import NoToken
        from .tools import AssistantNotFound, AssistantsApiError, AssistantsRetired

        if isinstance(error, TwilioException):
            error = rest_error(error) or error
        if isinstance(error, TwilioRestException):
            raise click.ClickException(
                f"Twilio answered {error.method} {error.uri} with HTTP {error.status}, error {error.code}: {error.msg}"
            ) from error
        if isinstance(error, RequestException):
            raise click.ClickException(f"Could not reach Twilio: {type(error).__name__}. Check your network or proxy, then run again.") from error
        if isinstance(error, (DeploymentNotFound, NoBuild, ProjectFileInvalid, AssistantNotFound, AssistantsApiError, AssistantsRetired, NoToken)):
            raise click.ClickException(str(error)) from error
        return False


def _locate(client, project_dir: Path, found_credentials, service_sid: str | None, environment: str | None):
    from . import deployment

    located = deployment.locate(client, project_dir, found_credentials, service_sid, deployment.environment_name(project_dir, environment))
    for line in located.describe():
        _echo_note(f"Using {line}.")
    return located


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


@cli.command(context_settings=CONTEXT, short_help="Check functions parse, match templates and the deployment.")
@click.option("--deployed", is_flag=True, help="Also compare the deployed functions with the local ones (needs credentials).")
@_deployment_options
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_context
def validate(ctx: click.Context, deployed: bool, service_sid: str | None, environment: str | None, as_json: bool) -> None:
    """Check that every function parses, exports a handler, and matches its template.

    With --deployed, also read what the Functions environment runs and name every function or asset
    that is missing, extra or different there.

    Example: handover validate --deployed --environment dev
    """
    from . import validate as validator

    project_dir = _project(ctx)
    try:
        problems = [(p.path, p.message) for p in validator.check(project_dir)]
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    if deployed:
        from . import deployed as deployed_module

        found_credentials, client = _credentials(project_dir)
        with _AccountErrors():
            located = _locate(client, project_dir, found_credentials, service_sid, environment)
            differences = deployed_module.compare(client, located, project_dir)
        problems += [(d.path, f"{d.kind} {d.message}") for d in differences]
    if as_json:
        click.echo(json.dumps([{"path": path, "problem": message} for path, message in problems], indent=2))
    else:
        for path, message in problems:
            click.echo(f"{path}: {message}")
    if problems:
        click.echo(f"{len(problems)} problem(s) found." + (f" {deployed_module.DEPLOY_FIX}" if deployed and differences else ""), err=True)
        ctx.exit(1)
    click.echo("All functions and assets are valid" + (" and deployed as they are." if deployed else "."), err=True)


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


@cli.command(context_settings=CONTEXT, short_help="Measure round trips, latency, cold start and a burst.")
@click.option("--quick", is_flag=True, help="Tiny counts (10 calls, a burst of 5): a smoke test, not figures to quote.")
@click.option("--latency-ms", type=click.IntRange(0, 1000), metavar="MS", help="The emulated time of one Twilio round trip (default 50).")
@click.option("--calls", type=click.IntRange(1, 1000), metavar="N", help="Handoffs per latency series (default 200; 10 with --quick).")
@click.option("--burst", type=click.IntRange(1, 300), metavar="N", help="Conversations in the burst, 3 calls each (default 100; 5 with --quick).")
@click.option("--out", type=click.Path(file_okay=False), metavar="DIR", help="Where results.json, report.md and latency.png go (default: bench/ in the project).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of the summary.")
@click.pass_context
def bench(ctx: click.Context, quick: bool, latency_ms: int | None, calls: int | None, burst: int | None, out: str | None, as_json: bool) -> None:
    """Benchmark the handoff through the real local runtime and the emulator, on loopback only.

    Round trips to Twilio per outcome against their floor, handoff latency in-process and forked (and the
    overhead above Twilio's time), the function's cold start, a burst of concurrent duplicate calls (exactly
    once), and the Python commands. Writes results.json, report.md and latency.png. Exit 1 when a check
    fails (a wrong answer, more or fewer interactions than conversations in the burst, a spec violation).

    Example: handover bench --quick --out /tmp/bench
    """
    from subprocess import SubprocessError

    from .bench import runner
    from .bench.node import NodeFailed
    from .bench.report import summary_lines
    from .emulator import SpecNotFound
    from .runtime import RuntimeStartError

    project_dir = _project(ctx)
    settings = runner.settings_for(quick, latency_ms, calls, burst)
    try:
        results = runner.run(project_dir, settings, _echo_note)
    except (SpecNotFound, RuntimeStartError, NodeFailed, SubprocessError, TimeoutError) as error:
        raise click.ClickException(f"The benchmark stopped: {error}") from error
    paths = runner.write(results, Path(out) if out else project_dir / "bench")
    if as_json:
        click.echo(json.dumps(results, indent=2))
    else:
        for line in summary_lines(results):
            click.echo(line)
    _echo_note("Wrote " + ", ".join(str(path) for path in paths.values()) + ".")
    for problem in results["problems"]:
        _echo_note(f"Problem: {problem}")
    if results["problems"]:
        ctx.exit(1)


@cli.group(context_settings=CONTEXT, short_help="Set the handover's variables, locally and deployed.")
def env() -> None:
    """The handover's environment variables, in .env and on the deployed Functions environment.

    Example: handover env set --workspace-sid WSxxx… --workflow-sid WWxxx…
    """


@env.command("set", context_settings=CONTEXT, short_help="Set the Flex workspace and workflow, locally and deployed.")
@click.option("--workspace-sid", required=True, metavar="WS…", callback=_sid_option("WS", "a TaskRouter workspace SID"), help="The TaskRouter workspace of your Flex instance.")
@click.option("--workflow-sid", required=True, metavar="WW…", callback=_sid_option("WW", "a TaskRouter workflow SID"), help="The workflow that routes handed-off conversations.")
@click.option("--task-channel", metavar="NAME", help="The task channel of the created tasks (the function's default: chat).")
@_deployment_options
@click.option("--local-only", is_flag=True, help="Write .env only.")
@click.option("--remote-only", is_flag=True, help="Write the deployed environment only.")
@click.option("--no-verify", is_flag=True, help="Do not check the workspace, workflow and task channel against the account.")
@click.option("--rotate-token", is_flag=True, help="Replace HANDOVER_TOKEN with a new one; tool URLs with the old one then get HTTP 401.")
@_show_secrets_option("HANDOVER_TOKEN (a line HANDOVER_TOKEN=…, or handover_token in --json)")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def env_set(ctx, workspace_sid, workflow_sid, task_channel, service_sid, environment, local_only, remote_only, no_verify, rotate_token, show_secrets, dry_run, as_json) -> None:
    """Set FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID (and FLEX_TASK_CHANNEL) in .env and on the deployed environment.

    Also HANDOVER_TOKEN, the secret a caller of the tool presents: the deployed one, else the one in
    .env, else a new one; --rotate-token makes a new one. Its value is printed only with --show-secrets.

    Only missing or changed values are written, so running it again changes nothing.

    Example: handover env set --workspace-sid WSxxx… --workflow-sid WWxxx…
    """
    from . import contract, envvars, printers, routing

    if local_only and remote_only:
        raise click.UsageError("--local-only and --remote-only exclude each other; give one, or neither to write both.")
    if task_channel is not None and not contract.TASK_CHANNEL.accepts(task_channel):
        raise click.BadParameter(f"{task_channel!r} is not {contract.TASK_CHANNEL.expected}.", param_hint="'--task-channel'")
    project_dir = _project(ctx)
    values = {contract.WORKSPACE.name: workspace_sid, contract.WORKFLOW.name: workflow_sid}
    if task_channel:
        values[contract.TASK_CHANNEL.name] = task_channel
    found_credentials = client = located = None
    if not (local_only and no_verify):
        found_credentials, client = _credentials(project_dir)
    with _AccountErrors():
        if not no_verify:
            # Without --task-channel the function keeps routing to the channel .env names, or its default.
            channel = task_channel or envvars.read_local(project_dir / envvars.ENV_FILE).get(contract.TASK_CHANNEL.name) or contract.TASK_CHANNEL.default
            problem = routing.check(client, workspace_sid, workflow_sid, channel)
            if problem:
                raise click.ClickException(f"{problem.message} {problem.fix} Nothing was written.")
        if not local_only:
            located = _locate(client, project_dir, found_credentials, service_sid, environment)
        try:
            result = envvars.set_variables(
                client, project_dir, values, located, local=not remote_only, dry_run=dry_run, rotate_token=rotate_token
            )
        except envvars.EnvSetFailed as failure:
            _print_env_set(failure.result, as_json, show_secrets)
            raise click.ClickException(f"Stopped: {failure.result.error}. {printers.env_set_applied(failure.result)}") from failure
    _print_env_set(result, as_json, show_secrets)
    note = printers.env_set_token_note(result)
    if note:
        _echo_note(note)
    _echo_note(printers.env_set_summary(result))


def _print_env_set(result, as_json: bool, show_secrets: bool) -> None:
    from . import printers

    if as_json:
        click.echo(json.dumps(result.as_json(show_secrets), indent=2))
    else:
        for line in printers.env_set_lines(result, show_secrets):
            click.echo(line)


@cli.group(context_settings=CONTEXT, short_help="Register or show the AI Assistant's tool.")
def tool() -> None:
    """The AI Assistant's handover tool: register it on an assistant, or print it for the Console.

    Example: handover tool register --assistant-id aia_asst_xxx…
    """


def _tool_options(command):
    command = _show_secrets_option("the tool URL with its handover token (shown as token=<redacted> otherwise)")(command)
    command = click.option("--description", help="When the AI should use the tool (default: the description from Twilio's guide).")(command)
    command = click.option("--name", help='The tool\'s name (default: "Flex Agent Handover").')(command)
    return click.option(
        "--url", callback=_https_url,
        help="The tool's URL (default: https://<deployed domain>/tools/flex-handover); the handover token is added to it.",
    )(command)


def _https_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from urllib.parse import urlsplit

    if value is not None and (urlsplit(value).scheme != "https" or not urlsplit(value).hostname):
        raise click.BadParameter(f"{value!r} is not an https URL; the AI Assistant calls the tool over HTTPS.")
    return value


def _tool_definition(ctx, url, name, description, service_sid, environment, client=None, found_credentials=None) -> dict:
    """The tool, its URL carrying the deployment's handover token (with --url: the deployment's if found, else .env's).

    With --url and no credentials at all, no deployment is looked for: the token comes from .env.
    """
    from . import tokens, tools

    project_dir = _project(ctx)
    if client is None and (url is None or _has_credentials(project_dir)):
        found_credentials, client = _credentials(project_dir)
    located = None if client is None else _find_deployment(client, project_dir, found_credentials, service_sid, environment, required=url is None)
    token, source = tokens.for_tool(client, located, None if url is None else project_dir)
    _echo_note(f"Using HANDOVER_TOKEN from {source}.")
    url = tokens.with_token(url or located.url(tools.TOOL_PATH), token)
    return tools.definition(url, name or tools.DEFAULT_NAME, description or tools.DEFAULT_DESCRIPTION)


def _has_credentials(project_dir: Path) -> bool:
    from . import credentials

    try:
        credentials.load(project_dir)
    except credentials.CredentialsError:
        return False
    return True


def _find_deployment(client, project_dir: Path, found_credentials, service_sid, environment, required: bool):
    """The deployment; when not required, None if there is none."""
    from .deployment import DeploymentNotFound

    try:
        return _locate(client, project_dir, found_credentials, service_sid, environment)
    except DeploymentNotFound:
        if required:
            raise
        return None


@tool.command(context_settings=CONTEXT, short_help="Create or update the tool on an AI Assistant.")
@click.option("--assistant-id", required=True, metavar="aia_asst_…", callback=lambda ctx, param, value: _assistant_id(value), help="The AI Assistant (Console > AI Assistants).")
@_tool_options
@_deployment_options
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def register(ctx, assistant_id, url, name, description, show_secrets, service_sid, environment, dry_run, as_json) -> None:
    """Attach the handover tool to an AI Assistant, creating or updating it only where it differs.

    Its URL carries the deployed environment's HANDOVER_TOKEN (run `handover env set` first), shown as
    token=<redacted> unless --show-secrets. After `handover env set --rotate-token`, run it again.

    Example: handover tool register --assistant-id aia_asst_xxx…
    """
    from . import printers, tools

    project_dir = _project(ctx)
    found_credentials, client = _credentials(project_dir)
    with _AccountErrors():
        wanted = _tool_definition(ctx, url, name, description, service_sid, environment, client, found_credentials)
        try:
            registration = tools.register(client, found_credentials.account_sid, assistant_id, wanted, dry_run=dry_run)
        except tools.RegistrationFailed as failure:
            raise click.ClickException(str(failure)) from failure
    if as_json:
        click.echo(json.dumps(registration.as_json(show_secrets), indent=2))
    else:
        for line in printers.registration_lines(registration, show_secrets):
            click.echo(line)
    _echo_note("Dry run: nothing was written." if dry_run else f"{len(registration.writes)} write(s).")


def _assistant_id(value: str) -> str:
    if not value.startswith("aia_asst_") or len(value) == len("aia_asst_"):
        raise click.BadParameter(f"{value!r} is not an AI Assistant ID: expected aia_asst_ followed by its ID (Console > AI Assistants).")
    return value


@tool.command(context_settings=CONTEXT, short_help="Print the tool definition for the Console.")
@_tool_options
@_deployment_options
@click.option("--json", "as_json", is_flag=True, help="Print the definition as the Assistants API takes it.")
@click.pass_context
def show(ctx, url, name, description, show_secrets, service_sid, environment, as_json) -> None:
    """Print the handover tool's definition, to paste into the Console's tool form.

    The URL carries the handover token: --show-secrets prints it, to paste; without it, token=<redacted>.

    Example: handover tool show --show-secrets
    """
    from . import printers, tools

    with _AccountErrors():
        wanted = _tool_definition(ctx, url, name, description, service_sid, environment)
    if as_json:
        click.echo(json.dumps(wanted if show_secrets else tools.redacted(wanted), indent=2))
    else:
        for line in printers.tool_console_fields(wanted, show_secrets):
            click.echo(line)
    if not show_secrets:
        _echo_note("The URL's token is shown as <redacted>: run the same command with --show-secrets to print the URL to paste.")


@cli.command(context_settings=CONTEXT, short_help="Check the whole setup, one line per check.")
@click.option("--assistant-id", metavar="aia_asst_…", callback=lambda ctx, param, value: value and _assistant_id(value), help="Also check this AI Assistant's handover tool.")
@_deployment_options
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx, assistant_id, service_sid, environment, as_json) -> None:
    """Check credentials, Flex, routing, the deployment, its variables and the assistant's tool; change nothing.

    Each failure comes with the command or Console step that fixes it. Exit 1 when any check fails.

    Example: handover doctor --assistant-id aia_asst_xxx…
    """
    from . import doctor as doctor_module
    from .deployment import environment_name

    project_dir = _project(ctx)
    checks = []
    with _AccountErrors():
        for check in doctor_module.run(project_dir, service_sid, environment_name(project_dir, environment), assistant_id):
            checks.append(check)
            if not as_json:
                click.echo(f"{check.status}  {check.name}: {check.detail}")
                if check.fix and check.status != doctor_module.PASS:
                    click.echo(f"      fix: {check.fix}")
    failed = [c for c in checks if c.status == doctor_module.FAIL]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [c.as_json() for c in checks]}, indent=2))
    _echo_note(f"{len(failed)} check(s) failed." if failed else "All checks passed." if all(c.status == doctor_module.PASS for c in checks) else "No check failed; see the warnings.")
    if failed:
        ctx.exit(1)


def main() -> None:
    cli(prog_name="handover")
