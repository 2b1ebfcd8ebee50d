"""The `handover` command: parses options, calls a module, prints through `printers`.

Every command error is a HandoverError (errors.py), and a failed Twilio request is worded by one
formatter (account.sdk.TwilioFailure); `_ClickErrors`, the base of every command and group here, turns
both into click errors: nowhere else.
The modules a command needs are imported when it runs, so that `handover --help` stays fast: it
imports neither the twilio SDK nor jinja2, matplotlib or the emulator.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import click

from . import __version__, contract
from .errors import HandoverError
from .project import ENV_FILE, find_project_dir, read_local

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
            from .account.sdk import TwilioFailure

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


def _echo_note(message: str) -> None:
    click.echo(message, err=True)


def _project(ctx: click.Context) -> Path:
    given = ctx.find_root().params.get("project_dir")
    return find_project_dir(Path(given) if given else Path.cwd())


# Shared by the commands that talk to a Twilio account ----------------------------------------------


def _sid_option(prefix: str, what: str):
    """A click callback that accepts only a SID of this prefix (or nothing, for an optional option)."""

    def check(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
        if value is not None and not contract.is_sid(prefix, value):
            raise click.BadParameter(f"{value!r} is not {what}: expected {prefix} followed by 32 hex characters.")
        return value

    return check


def _deployment_options(command):
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
        callback=_sid_option("ZS", "a Serverless service SID"),
        help="The deployed service (default: .twilioserverlessrc, .twiliodeployinfo, then the project's name).",
    )(command)


def _show_secrets_option(what: str):
    return click.option("--show-secrets", is_flag=True, help=f"Print {what}; without it, it is never printed.")


def _credentials(project_dir: Path):
    from .account import credentials

    found = credentials.load(project_dir)
    _echo_note(f"Using {found.describe()}.")
    return found, credentials.client(found)


def _locate(client, project_dir: Path, found_credentials, service_sid: str | None, environment: str | None):
    from .account import deployment

    located = deployment.locate(
        client, project_dir, found_credentials, service_sid, deployment.environment_name(project_dir, environment)
    )
    for line in located.describe():
        _echo_note(f"Using {line}.")
    return located


@click.group(cls=HandoverGroup, context_settings=CONTEXT)
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
    """Render the generated files from their templates.

    Only what Python owns is generated: assets/tools/contract.private.js, the values the functions take from
    contract.py. The functions and their helpers are JavaScript source.

    Example: handover generate --check
    """
    from .functions import generate as generator

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
        click.echo(
            f"{len(files)} file(s) {'differ' if check else 'written'}; "
            f"{len(generator.generated_files())} generated in all.",
            err=True,
        )


@cli.command(context_settings=CONTEXT, short_help="Check functions parse, match templates and the deployment.")
@click.option(
    "--deployed", is_flag=True, help="Also compare the deployed functions with the local ones (needs credentials)."
)
@_deployment_options
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_context
def validate(
    ctx: click.Context, deployed: bool, service_sid: str | None, environment: str | None, as_json: bool
) -> None:
    """Check that the JavaScript parses and loads, each function exports a handler, generated files are current,
    and `twilio serverless:deploy` would serve exactly the project's tools (public) and modules (private).

    With --deployed, also read what the Functions environment runs and name every function or asset
    that is missing, extra or different there.

    Example: handover validate --deployed --environment dev
    """
    from .functions import validate as validator

    project_dir = _project(ctx)
    problems = [(p.path, p.message) for p in validator.check(project_dir) + validator.deployment_problems(project_dir)]
    if deployed:
        from .account import deployed_code

        found_credentials, client = _credentials(project_dir)
        located = _locate(client, project_dir, found_credentials, service_sid, environment)
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


@cli.command(context_settings=CONTEXT, short_help="Run a handoff end to end on the emulator.")
@click.option(
    "--keep-running", is_flag=True, help="Leave the emulator and the runtime up, and print a curl command to call them."
)
@click.option("--fork", is_flag=True, help="Run each function call in a forked process, as twilio-run does by default.")
@click.pass_context
def demo(ctx: click.Context, keep_running: bool, fork: bool) -> None:
    """Hand a conversation to Flex end to end on the embedded Twilio emulator (no account needed).

    A clean copy of the project is deployed with the Serverless Toolkit's engine (twilio-run deploy), configured
    with `env set` and `tool register`, and its tool called as an AI Assistant calls it; then TAC's path.

    Example: handover demo --keep-running
    """
    from .local import demo as walkthrough

    walkthrough.run(_project(ctx), click.echo, keep_running=keep_running, fork=fork)


@cli.command(
    context_settings=CONTEXT,
    short_help="Measure round trips, latency, cold start, a burst and a spike at Twilio's limits.",
)
@click.option("--quick", is_flag=True, help="Tiny counts (5 calls, a burst of 5): a smoke test, not figures to quote.")
@click.option(
    "--latency-ms",
    type=click.IntRange(0, 1000),
    metavar="MS",
    help="The emulated time of one Twilio round trip (default 50).",
)
@click.option(
    "--calls",
    type=click.IntRange(1, 1000),
    metavar="N",
    help="Handoffs per latency series (default 200; 5 with --quick).",
)
@click.option(
    "--burst",
    type=click.IntRange(1, 300),
    metavar="N",
    help="Conversations in the burst, 3 calls each (default 100; 5 with --quick).",
)
@click.option(
    "--spike",
    type=click.IntRange(1, 5000),
    metavar="N",
    help="Conversations in the spike at Twilio's limits, 3 calls each (default 1000; 20 with --quick).",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(1, 100),
    metavar="T",
    help="Run the spike T times slower than Twilio's time, limits scaled alike (default 6; 1 with --quick).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Where results.json, report.md and latency.png go (default: bench/ in the project).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON instead of the summary.")
@click.pass_context
def bench(
    ctx: click.Context,
    quick: bool,
    latency_ms: int | None,
    calls: int | None,
    burst: int | None,
    spike: int | None,
    time_scale: float | None,
    out: str | None,
    as_json: bool,
) -> None:
    """Benchmark the handoff through the real local runtime and the emulator, on loopback only.

    Round trips to Twilio per outcome against their floor, handoff latency in-process and forked (and the
    overhead above Twilio's time), the function's cold start, a burst of concurrent duplicate calls (exactly
    once), the sustained rate Twilio's documented limits allow and a spike at those limits, and the Python
    commands. Writes results.json, report.md and latency.png. Exit 1 when a check fails (a wrong answer, a
    conversation with no task or with two, a spec violation), never because the machine was slow.

    Example: handover bench --quick --out /tmp/bench
    """
    from .bench import runner
    from .bench.report import summary_lines
    from .bench.settings import settings_for

    project_dir = _project(ctx)
    settings = settings_for(quick, latency_ms, calls, burst, spike, time_scale)
    results = runner.run(project_dir, settings, _echo_note)
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
@click.option(
    "--workspace-sid",
    required=True,
    metavar="WS…",
    callback=_sid_option("WS", "a TaskRouter workspace SID"),
    help="The TaskRouter workspace of your Flex instance.",
)
@click.option(
    "--workflow-sid",
    required=True,
    metavar="WW…",
    callback=_sid_option("WW", "a TaskRouter workflow SID"),
    help="The workflow that routes handed-off conversations.",
)
@click.option(
    "--task-channel", metavar="NAME", help="The task channel of the created tasks (the function's default: chat)."
)
@_deployment_options
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
@_show_secrets_option("HANDOVER_TOKEN (a line HANDOVER_TOKEN=…, or handover_token in --json)")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
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
    from . import printers
    from .account import routing, variables

    if local_only and remote_only:
        raise click.UsageError("--local-only and --remote-only exclude each other; give one, or neither to write both.")
    if task_channel is not None and not contract.TASK_CHANNEL.accepts(task_channel):
        raise click.BadParameter(
            f"{task_channel!r} is not {contract.TASK_CHANNEL.expected}.", param_hint="'--task-channel'"
        )
    project_dir = _project(ctx)
    values = {contract.WORKSPACE.name: workspace_sid, contract.WORKFLOW.name: workflow_sid}
    if task_channel:
        values[contract.TASK_CHANNEL.name] = task_channel
    found_credentials = client = located = None
    if not (local_only and no_verify):
        found_credentials, client = _credentials(project_dir)
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
        located = _locate(client, project_dir, found_credentials, service_sid, environment)
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
    command = click.option(
        "--kind",
        type=click.Choice(["flex", "studio"]),
        default="flex",
        show_default=True,
        help="Which tool: flex hands off through the Interactions API, studio through the Studio handoff flow.",
    )(command)
    command = _show_secrets_option("the tool URL with its handover token (shown as token=<redacted> otherwise)")(
        command
    )
    command = click.option(
        "--description", help="When the AI should use the tool (default: the description from Twilio's guide)."
    )(command)
    command = click.option(
        "--name",
        help='The tool\'s name (default: "Flex Agent Handover", or "Studio Agent Handover" with --kind studio).',
    )(command)
    return click.option(
        "--url",
        callback=_https_url,
        help=(
            "The tool's URL (default: https://<deployed domain>/tools/flex-handover, or studio-handover with --kind "
            "studio); the handover token is added to it."
        ),
    )(command)


def _https_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and (urlsplit(value).scheme != "https" or not urlsplit(value).hostname):
        raise click.BadParameter(f"{value!r} is not an https URL; the AI Assistant calls the tool over HTTPS.")
    return value


def _tool_definition(
    ctx, kind, url, name, description, service_sid, environment, client=None, found_credentials=None
) -> dict:
    """The tool, its URL carrying the deployment's handover token (with --url: the deployment's if found, else .env's).

    With --url and no credentials at all, no deployment is looked for: the token comes from .env.
    """
    from .account import assistant_tool, tokens

    project_dir = _project(ctx)
    if client is None and (url is None or _has_credentials(project_dir)):
        found_credentials, client = _credentials(project_dir)
    located = (
        None
        if client is None
        else _find_deployment(client, project_dir, found_credentials, service_sid, environment, required=url is None)
    )
    token, source = tokens.for_tool(client, located, None if url is None else project_dir)
    _echo_note(f"Using HANDOVER_TOKEN from {source}.")
    tool_kind = assistant_tool.KINDS[kind]
    url = tokens.with_token(url or located.url(tool_kind.path), token)
    return assistant_tool.definition(
        url, name or tool_kind.default_name, description or assistant_tool.DEFAULT_DESCRIPTION
    )


def _has_credentials(project_dir: Path) -> bool:
    from .account import credentials

    try:
        credentials.load(project_dir)
    except credentials.CredentialsError:
        return False
    return True


def _find_deployment(client, project_dir: Path, found_credentials, service_sid, environment, required: bool):
    """The deployment; when not required, None if there is none."""
    from .account.deployment import DeploymentNotFound

    try:
        return _locate(client, project_dir, found_credentials, service_sid, environment)
    except DeploymentNotFound:
        if required:
            raise
        return None


@tool.command(context_settings=CONTEXT, short_help="Create or update the tool on an AI Assistant.")
@click.option(
    "--assistant-id",
    required=True,
    metavar="aia_asst_…",
    callback=lambda ctx, param, value: _assistant_id(value),
    help="The AI Assistant (Console > AI Assistants).",
)
@_tool_options
@_deployment_options
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def register(
    ctx, assistant_id, kind, url, name, description, show_secrets, service_sid, environment, dry_run, as_json
) -> None:
    """Attach the handover tool to an AI Assistant, creating or updating it only where it differs.

    Its URL carries the deployed environment's HANDOVER_TOKEN (run `handover env set` first), shown as
    token=<redacted> unless --show-secrets. After `handover env set --rotate-token`, run it again.

    Example: handover tool register --assistant-id aia_asst_xxx…
    """
    from . import printers
    from .account import assistant_tool

    project_dir = _project(ctx)
    found_credentials, client = _credentials(project_dir)
    wanted = _tool_definition(ctx, kind, url, name, description, service_sid, environment, client, found_credentials)
    registration = assistant_tool.register(client, found_credentials.account_sid, assistant_id, wanted, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(registration.as_json(show_secrets), indent=2))
    else:
        for line in printers.registration_lines(registration, show_secrets):
            click.echo(line)
    _echo_note("Dry run: nothing was written." if dry_run else f"{len(registration.writes)} write(s).")


def _assistant_id(value: str) -> str:
    if not value.startswith("aia_asst_") or len(value) == len("aia_asst_"):
        raise click.BadParameter(
            f"{value!r} is not an AI Assistant ID: expected aia_asst_ followed by its ID (Console > AI Assistants)."
        )
    return value


@tool.command(context_settings=CONTEXT, short_help="Print the tool definition for the Console.")
@_tool_options
@_deployment_options
@click.option("--json", "as_json", is_flag=True, help="Print the definition as the Assistants API takes it.")
@click.pass_context
def show(ctx, kind, url, name, description, show_secrets, service_sid, environment, as_json) -> None:
    """Print the handover tool's definition, to paste into the Console's tool form.

    The URL carries the handover token: --show-secrets prints it, to paste; without it, token=<redacted>.

    Example: handover tool show --show-secrets
    """
    from . import printers
    from .account import assistant_tool

    wanted = _tool_definition(ctx, kind, url, name, description, service_sid, environment)
    if as_json:
        click.echo(json.dumps(wanted if show_secrets else assistant_tool.redacted(wanted), indent=2))
    else:
        for line in printers.tool_console_fields(wanted, show_secrets):
            click.echo(line)
    if not show_secrets:
        _echo_note(
            "The URL's token is shown as <redacted>: run the same "
            "command with --show-secrets to print the URL to paste."
        )


@cli.group(context_settings=CONTEXT, short_help="Generate, validate and deploy the Studio handoff flow.")
def studio() -> None:
    """The Studio handoff flow of Twilio Agent Connect (and of the studio-handover tool).

    Example: handover studio deploy --friendly-name "Agent Handoff"
    """


_FLOW_FILE_HELP = "The flow definition file (default: studio/agent-handoff.json in the project)."


def _flow_path(ctx: click.Context, given: str | None) -> Path:
    from .studio import render

    return Path(given) if given else _project(ctx) / render.FLOW_FILE


@studio.command("generate", context_settings=CONTEXT, short_help="Render the flow definition from its template.")
@click.option(
    "--workflow-sid",
    metavar="WW…",
    callback=_sid_option("WW", "a TaskRouter workflow SID"),
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
    callback=_sid_option("WS", "a TaskRouter workspace SID"),
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
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result (file, parameters, whether it changed) as JSON."
)
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
    from .studio import render

    project_dir = _project(ctx)
    if check and out == "-":
        raise click.UsageError("--check compares a file: give --out FILE, or leave --out out.")
    given = render.GivenParameters(
        workspace_sid, workflow_sid, task_channel, voice_task_channel, attributes, call_without_handoff
    )
    env = read_local(project_dir / ENV_FILE)
    parameters = render.resolve(given, env, lambda: _credentials(project_dir)[1])
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
        _echo_note(
            f"{path}: differs from what these parameters render; "
            "run `handover studio generate` (with the same options)."
        )
        ctx.exit(1)
    if not as_json:
        click.echo(str(path))
    _echo_note(
        f"{path}: {'up to date' if not differs else 'written'} (workflow {parameters.workflow_sid}, messaging channel "
        f"{parameters.messaging_channel_sid}, voice channel {parameters.voice_channel_sid})."
    )


@studio.command("validate", context_settings=CONTEXT, short_help="Check the flow locally, then with Studio.")
@click.option("--file", "file_", metavar="FILE", help=_FLOW_FILE_HELP)
@click.option(
    "--friendly-name", default="Agent Handoff", show_default=True, help="The name Studio validates the flow under."
)
@click.option("--local-only", is_flag=True, help="Run the local checks only (no credentials, no request).")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_context
def studio_validate(ctx, file_, friendly_name, local_only, as_json) -> None:
    """Check the flow: transitions, reachability, the trigger, widget properties, SIDs and attribute JSON, then
    Studio's POST /v2/Flows/Validate.

    Studio is asked only when the local checks pass. Exit 1 when a problem is found.

    Example: handover studio validate --local-only
    """
    from .studio import deploy as flow_deploy
    from .studio import render

    path = _flow_path(ctx, file_)
    flow = render.read_flow(path)
    problems, by = flow_deploy.local_problems(flow), "the local checks"
    if not problems and not local_only:
        client = _credentials(_project(ctx))[1]
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
        _echo_note(f"{path}: {len(problems)} problem(s) found by {by}.")
        ctx.exit(1)
    _echo_note(f"{path}: valid ({'local checks only' if local_only else 'local checks and Studio'}).")


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
@_deployment_options
@click.option("--dry-run", is_flag=True, help="Validate and show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def studio_deploy(ctx, file_, friendly_name, from_address, service_sid, environment, dry_run, as_json) -> None:
    """Validate the flow, create it (published) or update it where it differs, and set TWILIO_STUDIO_HANDOFF_FLOW_SID.

    The SID goes into .env and onto the deployed Functions environment (when there is one), through
    the same code as `handover env set`. Running it again writes nothing. Prints the SID and the line
    for a Twilio Agent Connect .env.

    Example: handover studio deploy --from-address +15551234567
    """
    from .studio import deploy as flow_deploy
    from .studio import render

    if from_address is not None and not contract.STUDIO_FROM.accepts(from_address):
        raise click.BadParameter(
            f"{from_address!r} is not {contract.STUDIO_FROM.expected}.", param_hint="'--from-address'"
        )
    project_dir = _project(ctx)
    path = _flow_path(ctx, file_)
    flow = render.read_flow(path)
    found_credentials, client = _credentials(project_dir)
    located = _find_deployment(
        client, project_dir, found_credentials, service_sid, environment, required=service_sid is not None
    )
    if located is None:
        _echo_note("No Functions deployment found: the flow SID goes into .env only.")
    try:
        result = flow_deploy.deploy(client, project_dir, flow, friendly_name, located, from_address, dry_run=dry_run)
    except flow_deploy.DeployFailed as failure:
        _print_studio_deploy(failure.deployment, as_json, notes=False)  # what was applied, before the error says so
        raise
    _print_studio_deploy(result, as_json)


def _print_studio_deploy(result, as_json: bool, notes: bool = True) -> None:
    from . import printers

    if as_json:
        click.echo(json.dumps(result.as_json(), indent=2))
    else:
        for line in printers.studio_deploy_lines(result):
            click.echo(line)
    for note in printers.studio_deploy_notes(result) if notes else []:
        _echo_note(note)


@cli.group(context_settings=CONTEXT, short_help="Set Twilio Agent Connect's handoff up without the Console.")
def tac() -> None:
    """Twilio Agent Connect's handoff to Flex: addresses, Orchestrator, summaries and the Studio flow.

    Example: handover tac setup --address +15551234567 --tac-env ../tac/.env
    """


def _tac_common(command):
    command = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(command)
    command = click.option("--dry-run", is_flag=True, help="Print the exact requests it would make; write nothing.")(
        command
    )
    return click.option(
        "--tac-env",
        type=click.Path(dir_okay=False),
        metavar="FILE",
        help="TAC's .env: read for the defaults (and written by the studio step).",
    )(command)


def _orchestrator_options(command):
    command = click.option(
        "--wait",
        type=click.FloatRange(0, 600),
        default=60.0,
        show_default=True,
        metavar="SECONDS",
        help="How long to wait for an Orchestrator operation to complete.",
    )(command)
    return click.option(
        "--configuration-id",
        metavar="conv_configuration_…",
        help="TAC's Orchestrator configuration (default: TWILIO_CONVERSATION_CONFIGURATION_ID).",
    )(command)


_ADDRESS_OPTION = click.option(
    "--address",
    "addresses",
    multiple=True,
    metavar="+1…|whatsapp:+1…|IG…",
    help="A Flex messaging address (repeatable).",
)
_SERVICE_OPTION = click.option(
    "--conversations-service",
    metavar="IS…",
    callback=_sid_option("IS", "a Conversations service SID"),
    help="The Conversations (Classic) service (default: the Flex configuration's).",
)
_FROM_OPTION = click.option(
    "--from-address", metavar="+E.164", help="The flow's From: TAC's number (default: TWILIO_PHONE_NUMBER)."
)


def _tac_print(results, as_json: bool, extra: dict | None = None) -> None:
    from . import printers

    if as_json:
        click.echo(json.dumps({"steps": [r.as_json() for r in results], **(extra or {})}, indent=2))
    else:
        for result in results:
            for line in printers.tac_step_lines(result):
                click.echo(line)
    for result in results:
        for note in result.notes:
            _echo_note(note)
    writes = sum(len(r.writes) for r in results)
    dry = any(r.dry_run for r in results)
    _echo_note("Dry run: nothing was written." if dry else f"{writes} write(s).")


def _tac_run(ctx, steps, as_json: bool, extra: dict | None = None) -> None:
    """Run the steps in order; on a failure, print what was applied, then fail."""
    from .tac.requests import StepFailed

    results = []
    try:
        for step in steps:
            results.append(step())
    except StepFailed as failure:
        _tac_print(results + [failure.result], as_json, extra)
        raise
    _tac_print(results, as_json, extra)


def _tac_configuration(ctx, given, tac_env_file):
    from .tac import orchestrator, tac_env

    return orchestrator.check_configuration_id(
        given or tac_env.default(tac_env.CONFIGURATION_ID, tac_env_file, _project(ctx))
    )


def _tac_from(ctx, given, tac_env_file):
    from .tac import studio_step, tac_env

    return studio_step.check_from(given or tac_env.default(tac_env.PHONE_NUMBER, tac_env_file, _project(ctx)))


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
    from .tac import addresses as step

    wanted = step.check_addresses(addresses)
    if not wanted:
        raise click.UsageError("Give at least one --address.")
    client = _credentials(_project(ctx))[1]
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
    from .tac import orchestrator as step

    tac_file = Path(tac_env) if tac_env else None
    configuration = _tac_configuration(ctx, configuration_id, tac_file)
    client = _credentials(_project(ctx))[1]
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
    from .tac import summaries as step

    configuration = _tac_configuration(ctx, configuration_id, Path(tac_env) if tac_env else None)
    client = _credentials(_project(ctx))[1]
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
    from .tac import studio_step as step

    project_dir = _project(ctx)
    tac_file = Path(tac_env) if tac_env else None
    sender = _tac_from(ctx, from_address, tac_file)
    found_credentials, client = _credentials(project_dir)
    located = _find_deployment(client, project_dir, found_credentials, None, None, required=False)
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
    from .tac import addresses as address_step
    from .tac import orchestrator, studio_step, summaries
    from .tac import setup as setup_step

    project_dir = _project(ctx)
    tac_file = Path(tac_env) if tac_env else None
    wanted = address_step.check_addresses(addresses)
    configuration = _tac_configuration(ctx, configuration_id, tac_file)
    sender = _tac_from(ctx, from_address, tac_file)
    plan = setup_step.plan(wanted, configuration, sender)
    if not as_json:
        for number, line in enumerate(plan, 1):
            _echo_note(f"Plan {number}. {line}")
    found_credentials, client = _credentials(project_dir)
    located = _find_deployment(client, project_dir, found_credentials, None, None, required=False)
    steps = [lambda: address_step.run(client, wanted, dry_run)] if wanted else []
    steps += [
        lambda: orchestrator.run(client, configuration, conversations_service, dry_run, wait),
        lambda: summaries.run(client, configuration, dry_run, wait),
        lambda: studio_step.run(client, project_dir, located, sender, tac_file, dry_run),
    ]
    _tac_run(ctx, steps, as_json, {"plan": plan, "console": list(setup_step.CONSOLE_STEPS)})
    for line in setup_step.console_lines():
        _echo_note(line)


@cli.command(context_settings=CONTEXT, short_help="Check the whole setup, one line per check.")
@click.option(
    "--assistant-id",
    metavar="aia_asst_…",
    callback=lambda ctx, param, value: value and _assistant_id(value),
    help="Also check this AI Assistant's handover tool.",
)
@click.option(
    "--configuration-id",
    metavar="conv_configuration_…",
    help="TAC's Orchestrator configuration (default: TWILIO_CONVERSATION_CONFIGURATION_ID).",
)
@click.option("--tac-env", type=click.Path(dir_okay=False), metavar="FILE", help="TAC's .env, for its defaults.")
@click.option(
    "--address", "addresses", multiple=True, metavar="+1…|whatsapp:+1…|IG…", help="A Flex messaging address to check."
)
@_deployment_options
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@click.pass_context
def doctor(ctx, assistant_id, configuration_id, tac_env, addresses, service_sid, environment, as_json) -> None:
    """Check credentials, Flex, routing, the deployment, its variables and the assistant's tool; change nothing.

    Each failure comes with the command or Console step that fixes it. Exit 1 when any check fails.

    Example: handover doctor --assistant-id aia_asst_xxx…
    """
    from . import doctor as doctor_module
    from .account.deployment import environment_name
    from .tac import addresses as tac_addresses
    from .tac import orchestrator
    from .tac import tac_env as tac_settings

    project_dir = _project(ctx)
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
        project_dir, service_sid, environment_name(project_dir, environment), assistant_id, configuration, known
    ):
        checks.append(check)
        if not as_json:
            click.echo(f"{check.status}  {check.name}: {check.detail}")
            if check.fix and check.status != doctor_module.PASS:
                click.echo(f"      fix: {check.fix}")
    failed = [c for c in checks if c.status == doctor_module.FAIL]
    if as_json:
        click.echo(json.dumps({"ok": not failed, "checks": [c.as_json() for c in checks]}, indent=2))
    _echo_note(
        f"{len(failed)} check(s) failed."
        if failed
        else "All checks passed."
        if all(c.status == doctor_module.PASS for c in checks)
        else "No check failed; see the warnings."
    )
    if failed:
        ctx.exit(1)


def main() -> None:
    cli(prog_name="handover")
