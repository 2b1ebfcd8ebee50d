"""`handover tool export`: the handover tool for any AI agent; `tool register` and `tool show`: the AI Assistant's.

`handover --help` imports no more than click: agent_tools and contract are plain Python, with no SDK behind them.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import click

from .. import contract
from ..agent_tools import DEFAULT_NAME, FORMATS
from .base import (
    CONTEXT,
    check_assistant_id,
    credentials_and_client,
    deployment_options,
    dry_run_option,
    echo_note,
    find_deployment,
    find_project,
    group,
    json_option,
    show_secrets_option,
)


@group(short_help="Export the AI agent's tool; register it on an AI Assistant.")
def tool() -> None:
    """The handover tool an AI agent calls: export its definition for your agent framework (OpenAI, Anthropic, MCP,
    JSON Schema), or, on accounts that still have AI Assistants (retired by Twilio in July 2026), register it there.

    Example: handover tool export --format openai
    """


def _kind_option(help: str):
    return click.option("--kind", type=click.Choice(["flex", "studio"]), default="flex", show_default=True, help=help)


def _tool_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from ..agent_tools import is_valid_name

    if not is_valid_name(value):
        raise click.BadParameter(
            f"{value!r} is not a tool name every framework takes: use letters, digits, _ and -, at most 64 characters."
        )
    return value


@tool.command(context_settings=CONTEXT, short_help="Print the tool for OpenAI, Anthropic, MCP or as JSON Schema.")
@click.option(
    "--format",
    "tool_format",
    type=click.Choice(FORMATS),
    required=True,
    help="openai (Chat Completions), openai-responses, anthropic (Messages API), mcp (a Tool), or json-schema (the "
    "arguments alone).",
)
@_kind_option("Which function the agent calls (named with --json): flex-handover or studio-handover.")
@click.option(
    "--name",
    default=DEFAULT_NAME,
    show_default=True,
    callback=_tool_name,
    help="The tool's name: letters, digits, _ and -, at most 64.",
)
@click.option("--description", help="When the model should use the tool (default: the kit's).")
@json_option("Print the tool with how to call it: {format, tool, call: {method, path, headers, body}}.")
def export(tool_format, kind, name, description, as_json) -> None:
    """Print the handover tool's definition as an agent framework takes it, made from the function's contract.

    It needs no account: the agent's code calls the deployed function with the definition's arguments as the JSON
    body, the handover token in the X-Handover-Token header and the conversation in X-Session-Id
    (docs/agent-tools.md).

    Example: handover tool export --format anthropic > handover-tool.json
    """
    from .. import agent_tools

    definition = agent_tools.export(tool_format, name, description or agent_tools.DEFAULT_DESCRIPTION)
    if as_json:
        definition = {"format": tool_format, "tool": definition, "call": agent_tools.call(kind)}
    click.echo(json.dumps(definition, indent=2, ensure_ascii=False))
    if not as_json:
        echo_note(
            f"The agent calls POST https://<your domain>{agent_tools.PATHS[kind]} with the arguments as JSON and the "
            f"headers {contract.TOKEN_HEADER} (HANDOVER_TOKEN) and {contract.SESSION_HEADER}: see docs/agent-tools.md."
        )


def _tool_options(command):
    command = _kind_option(
        "Which tool: flex hands off through the Interactions API, studio through the Studio handoff flow."
    )(command)
    command = show_secrets_option("the tool URL with its handover token (shown as token=<redacted> otherwise)")(command)
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
    from ..account import assistant_tool, tokens

    project_dir = find_project(ctx)
    if client is None and (url is None or _has_credentials(project_dir)):
        found_credentials, client = credentials_and_client(project_dir)
    located = (
        None
        if client is None
        else find_deployment(client, project_dir, found_credentials, service_sid, environment, required=url is None)
    )
    token, source = tokens.for_tool(client, located, None if url is None else project_dir)
    echo_note(f"Using HANDOVER_TOKEN from {source}.")
    tool_kind = assistant_tool.KINDS[kind]
    url = tokens.with_token(url or located.url(tool_kind.path), token)
    return assistant_tool.definition(
        url, name or tool_kind.default_name, description or assistant_tool.DEFAULT_DESCRIPTION
    )


def _has_credentials(project_dir: Path) -> bool:
    from ..account import credentials

    try:
        credentials.load(project_dir)
    except credentials.CredentialsError:
        return False
    return True


@tool.command(context_settings=CONTEXT, short_help="AI Assistants (retired July 2026): attach the tool.")
@click.option(
    "--assistant-id",
    required=True,
    metavar="aia_asst_…",
    callback=lambda ctx, param, value: check_assistant_id(value),
    help="The AI Assistant (Console > AI Assistants).",
)
@_tool_options
@deployment_options
@dry_run_option()
@json_option()
@click.pass_context
def register(
    ctx, assistant_id, kind, url, name, description, show_secrets, service_sid, environment, dry_run, as_json
) -> None:
    """For accounts that still have AI Assistants (retired by Twilio in July 2026; any other agent: `tool export`):
    attach the handover tool to an AI Assistant, creating or updating it only where it differs.

    Its URL carries the deployed environment's HANDOVER_TOKEN (run `handover env set` first), shown as
    token=<redacted> unless --show-secrets. After `handover env set --rotate-token`, run it again.

    Example: handover tool register --assistant-id aia_asst_xxx…
    """
    from .. import printers
    from ..account import assistant_tool

    project_dir = find_project(ctx)
    found_credentials, client = credentials_and_client(project_dir)
    wanted = _tool_definition(ctx, kind, url, name, description, service_sid, environment, client, found_credentials)
    registration = assistant_tool.register(client, found_credentials.account_sid, assistant_id, wanted, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(registration.as_json(show_secrets), indent=2))
    else:
        for line in printers.registration_lines(registration, show_secrets):
            click.echo(line)
    echo_note("Dry run: nothing was written." if dry_run else f"{len(registration.writes)} write(s).")


@tool.command(context_settings=CONTEXT, short_help="AI Assistants (retired July 2026): print it for the Console.")
@_tool_options
@deployment_options
@json_option("Print the definition as the Assistants API takes it.")
@click.pass_context
def show(ctx, kind, url, name, description, show_secrets, service_sid, environment, as_json) -> None:
    """For accounts that still have AI Assistants (retired by Twilio in July 2026; any other agent: `tool export`):
    print the handover tool's definition, to paste into the Console's tool form.

    The URL carries the handover token: --show-secrets prints it, to paste; without it, token=<redacted>.

    Example: handover tool show --show-secrets
    """
    from .. import printers
    from ..account import assistant_tool

    wanted = _tool_definition(ctx, kind, url, name, description, service_sid, environment)
    if as_json:
        click.echo(json.dumps(wanted if show_secrets else assistant_tool.redacted(wanted), indent=2))
    else:
        for line in printers.tool_console_fields(wanted, show_secrets):
            click.echo(line)
    if not show_secrets:
        echo_note(
            "The URL's token is shown as <redacted>: run the same "
            "command with --show-secrets to print the URL to paste."
        )
