"""`handover tool register` and `tool show` against the emulated AI Assistants API, through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from twilio.rest import Client

from handover.account import assistant_tool
from handover.cli import cli
from tests.handover.conftest import writes
from twilio_emulator import Fault, add_assistant, set_variable

ASSISTANTS = "https://assistants.twilio.com/v1"
DESCRIPTION = (
    "You MUST use this if you don't know how to fulfill the request "
    "to let another customer service agent handle the conversation."
)
UNKNOWN_ASSISTANT = "aia_asst_00000000-0000-0000-0000-000000000000"
TOKEN = "T" * 43  # the deployed environment's HANDOVER_TOKEN
DOTENV_TOKEN = "D" * 43
INPUT_SCHEMA = (
    "export type Data = {\n"
    "  /** Why you hand the conversation to a human agent, in a sentence or two (at most 500 characters; longer text "
    "is cut). */\n"
    "  reason: string;\n"
    "  /** What the customer wanted and what was already tried, for the agent who takes over (at most 4000 "
    "characters; longer text is cut). */\n"
    "  summary?: "
    "string;\n};"
)
NO_TOKEN_FIX = "Run `handover env set --workspace-sid WS… --workflow-sid WW…` first; it makes one."
REDACTED_NOTE = (
    "The URL's token is shown as <redacted>: run the same command with --show-secrets to print the URL to paste."
)
STUDIO_PATH = (
    "AI Assistants (a Developer Preview, retired by Twilio in July 2026) appears retired for this account. "
    "Hand off through a Studio flow instead, as Twilio Agent Connect does: see the README, "
    'section "AI Assistants retired: the Studio path".'
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def assistant(emulator) -> str:
    return add_assistant(emulator, "Customer care")["id"]


@pytest.fixture
def token(emulator, deployed) -> str:
    """HANDOVER_TOKEN on the deployed environment, as `handover env set` leaves it."""
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "HANDOVER_TOKEN", TOKEN)
    emulator.clear_traffic()
    return TOKEN


def invoke(runner: CliRunner, project, *args: str):
    return runner.invoke(cli, ["--project-dir", str(project), *args], catch_exceptions=False)


def register(runner, project, deployed, assistant: str, *args: str):
    return invoke(
        runner, project, "tool", "register", "--assistant-id", assistant, "--service-sid", deployed.service_sid, *args
    )


def tool_url(deployed, token: str = TOKEN) -> str:
    return f"https://{deployed.domain_name}/tools/flex-handover?token={token}"


def shown_url(deployed) -> str:
    return f"https://{deployed.domain_name}/tools/flex-handover?token=<redacted>"


def expected_definition(url: str, name: str = "Flex Agent Handover", description: str = DESCRIPTION) -> dict:
    return {
        "name": name,
        "description": description,
        "type": "WEBHOOK",
        "enabled": True,
        "meta": {"url": url, "method": "POST", "input_schema": INPUT_SCHEMA},
    }


def using(emulator, deployed) -> list[str]:
    """The notes on stderr of a command that located the deployment by --service-sid and took its token."""
    return [
        f"Using account {emulator.account.sid} (auth token, from the environment).",
        f"Using service {deployed.service_sid} (found by --service-sid).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
        f"Using HANDOVER_TOKEN from environment {deployed.environment_sid}.",
    ]


def created_tool_id(emulator) -> str:
    [created] = [r for r in emulator.requests if (r.method, r.path) == ("POST", "/v1/Tools")]
    return created.response["id"]


def attached(emulator, assistant: str) -> list[str]:
    return [
        a["tool_id"] for a in emulator.table("assistant_tool_attachments").values() if a["assistant_id"] == assistant
    ]


def create_tool(emulator, definition: dict) -> str:
    """A tool of the account, attached to no assistant, made as any Assistants client makes one."""
    client = Client(emulator.account.sid, emulator.account.auth_token)
    response = client.request(
        "POST", f"{ASSISTANTS}/Tools", data=definition, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    emulator.clear_traffic()
    return json.loads(response.text)["id"]


def no_secret(emulator, *results) -> None:
    for result in results:
        for secret in (emulator.account.auth_token, TOKEN, DOTENV_TOKEN):
            assert secret not in result.stdout + result.stderr


# definition()


def test_the_definition_is_the_template_rendered():
    assert assistant_tool.definition(
        f"https://example-1234-dev.twil.io/tools/flex-handover?token={TOKEN}"
    ) == expected_definition(f"https://example-1234-dev.twil.io/tools/flex-handover?token={TOKEN}")


def test_the_input_schema_names_the_contracts_limits(monkeypatch):
    from dataclasses import replace

    from handover import contract

    reason, summary = contract.TOOL_PARAMETERS
    monkeypatch.setattr(contract, "TOOL_PARAMETERS", (replace(reason, max_length=7), replace(summary, max_length=9)))
    schema = assistant_tool.definition("https://x.twil.io/t")["meta"]["input_schema"]
    assert "(at most 7 characters; longer text is cut)" in schema.splitlines()[1]
    assert "(at most 9 characters; longer text is cut)" in schema.splitlines()[3]


def test_redacted_shows_no_token_and_keeps_the_rest():
    definition = expected_definition(f"https://x.twil.io/t?a=1&token={TOKEN}")
    assert assistant_tool.redacted(definition) == expected_definition("https://x.twil.io/t?a=1&token=<redacted>")
    assert definition["meta"]["url"] == f"https://x.twil.io/t?a=1&token={TOKEN}"


def test_the_definition_keeps_quotes_and_markup_in_the_name_and_description():
    definition = assistant_tool.definition("https://x.twil.io/t", 'The "handover"', "Use <this> & that's it")
    assert (definition["name"], definition["description"]) == ('The "handover"', "Use <this> & that's it")


# register: create, then nothing, then update


def test_register_creates_and_attaches_the_tool(runner, account_env, emulator, project, deployed, token, assistant):
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 0, result.output
    tool_id = created_tool_id(emulator)
    definition = expected_definition(tool_url(deployed))
    assert writes(emulator) == [
        ("POST", "/v1/Tools", definition),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{tool_id}", {}),
    ]
    assert result.stdout.splitlines() == [
        f"tool {tool_id}: created on assistant {assistant}",
        f"  url: {shown_url(deployed)}",
        "  POST /v1/Tools",
        f"  POST /v1/Assistants/{assistant}/Tools/{tool_id}",
    ]
    assert result.stderr.splitlines() == using(emulator, deployed) + ["2 write(s)."]
    assert attached(emulator, assistant) == [tool_id]
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables"),
        ("GET", f"/v1/Assistants/{assistant}/Tools"),
        ("POST", "/v1/Tools"),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{tool_id}"),
    ]
    no_secret(emulator, result)


def test_register_again_writes_nothing(runner, account_env, emulator, project, deployed, token, assistant):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 0, result.output
    assert writes(emulator) == []
    assert result.stdout.splitlines() == [
        f"tool {tool_id}: unchanged on assistant {assistant}",
        f"  url: {shown_url(deployed)}",
    ]
    assert result.stderr.splitlines() == using(emulator, deployed) + ["0 write(s)."]
    assert attached(emulator, assistant) == [tool_id]


@pytest.mark.parametrize(
    ("option", "value", "changed"),
    [
        ("--description", "Hand over when asked for a person.", "description"),
        ("--url", "https://handover.example.com/flex", "meta"),
    ],
)
def test_a_changed_input_updates_the_tool_in_one_put(
    runner, account_env, emulator, project, deployed, token, assistant, option, value, changed
):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant, option, value)
    assert result.exit_code == 0, result.output
    url = f"{value}?token={TOKEN}" if option == "--url" else tool_url(deployed)
    wanted = expected_definition(url, description=value if option == "--description" else DESCRIPTION)
    assert writes(emulator) == [("PUT", f"/v1/Tools/{tool_id}", wanted)]
    assert result.stdout.splitlines() == [
        f"tool {tool_id}: updated on assistant {assistant}",
        f"  url: {url.replace(TOKEN, '<redacted>')}",
        f"  fields that differ: {changed}",
        f"  PUT /v1/Tools/{tool_id}",
    ]
    assert result.stderr.splitlines()[-1] == "1 write(s)."
    assert {name: emulator.table("assistant_tools")[tool_id][name] for name in wanted} == wanted
    assert attached(emulator, assistant) == [tool_id]


def test_a_renamed_tool_is_found_by_its_url_and_updated(
    runner, account_env, emulator, project, deployed, token, assistant
):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant, "--name", "Talk to a person")
    assert result.exit_code == 0, result.output
    assert writes(emulator) == [
        ("PUT", f"/v1/Tools/{tool_id}", expected_definition(tool_url(deployed), name="Talk to a person"))
    ]
    assert result.stdout.splitlines()[::2] == [
        f"tool {tool_id}: updated on assistant {assistant}",
        "  fields that differ: name",
    ]
    assert attached(emulator, assistant) == [tool_id]


def test_dry_run_writes_nothing(runner, account_env, emulator, project, deployed, token, assistant):
    result = register(runner, project, deployed, assistant, "--dry-run")
    assert result.exit_code == 0, result.output
    assert writes(emulator) == []
    assert result.stdout.splitlines() == [
        f"tool (new): to create on assistant {assistant}",
        f"  url: {shown_url(deployed)}",
    ]
    assert result.stderr.splitlines() == using(emulator, deployed) + ["Dry run: nothing was written."]
    assert attached(emulator, assistant) == []


def test_dry_run_of_a_change_names_the_fields(runner, account_env, emulator, project, deployed, token, assistant):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant, "--description", "Other", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert writes(emulator) == []
    assert json.loads(result.stdout) == {
        "assistant_id": assistant,
        "action": "updated",
        "tool_id": tool_id,
        "changed_fields": ["description"],
        "dry_run": True,
        "writes": [],
        "definition": expected_definition(shown_url(deployed), description="Other"),
    }


def test_register_json(runner, account_env, emulator, project, deployed, token, assistant):
    result = register(runner, project, deployed, assistant, "--json")
    assert result.exit_code == 0, result.output
    tool_id = created_tool_id(emulator)
    assert json.loads(result.stdout) == {
        "assistant_id": assistant,
        "action": "created",
        "tool_id": tool_id,
        "changed_fields": ["name", "description", "type", "enabled", "meta"],
        "dry_run": False,
        "writes": ["POST /v1/Tools", f"POST /v1/Assistants/{assistant}/Tools/{tool_id}"],
        "definition": expected_definition(shown_url(deployed)),
    }
    no_secret(emulator, result)


def test_a_given_url_without_a_deployment_takes_the_token_of_dotenv(runner, account_env, emulator, project, assistant):
    (project / ".env").write_text(f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8")
    url = f"https://handover.example.com/{assistant}"
    result = invoke(runner, project, "tool", "register", "--assistant-id", assistant, "--url", url)
    assert result.exit_code == 0, result.output
    assert writes(emulator)[0] == ("POST", "/v1/Tools", expected_definition(f"{url}?token={DOTENV_TOKEN}"))
    assert not any(r.host.startswith("serverless.") for r in emulator.requests)
    assert result.stderr.splitlines() == [
        f"Using account {emulator.account.sid} (auth token, from the environment).",
        "Using HANDOVER_TOKEN from .env.",
        "2 write(s).",
    ]
    assert result.stdout.splitlines()[1] == f"  url: {url}?token=<redacted>"
    no_secret(emulator, result)


# a failed run leaves nothing behind


def test_an_unattached_tool_of_the_account_is_left_alone(
    runner, account_env, emulator, project, deployed, token, assistant
):
    """Only the assistant's own tools are looked at: a tool of the account that it lacks is not reused."""
    other_id = create_tool(emulator, expected_definition(tool_url(deployed)))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 0, result.output
    tool_id = created_tool_id(emulator)
    assert tool_id != other_id
    assert writes(emulator) == [
        ("POST", "/v1/Tools", expected_definition(tool_url(deployed))),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{tool_id}", {}),
    ]
    assert attached(emulator, assistant) == [tool_id]


def test_a_failed_attach_deletes_the_new_tool_and_a_rerun_starts_over(
    runner, account_env, emulator, project, deployed, token, assistant
):
    emulator.inject(Fault("POST", f"/v1/Assistants/{assistant}/Tools/", status=500))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    tool_id = created_tool_id(emulator)
    assert writes(emulator) == [
        ("POST", "/v1/Tools", expected_definition(tool_url(deployed))),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{tool_id}", {}),
        ("DELETE", f"/v1/Tools/{tool_id}", {}),
    ]
    assert result.stdout == ""
    assert result.stderr.splitlines() == using(emulator, deployed) + [
        f"Error: POST {ASSISTANTS}/Assistants/{assistant}/Tools/{tool_id} failed: HTTP 500: Injected fault 500. "
        f"Applied before the failure: POST /v1/Tools, DELETE /v1/Tools/{tool_id}. "
        "The new tool was deleted again, so nothing is left behind. "
        "Run the command again; it writes only what is still missing."
    ]
    assert tool_id not in emulator.table("assistant_tools")
    emulator.clear_traffic()
    again = register(runner, project, deployed, assistant)
    assert again.exit_code == 0, again.output
    new_id = created_tool_id(emulator)
    assert writes(emulator) == [
        ("POST", "/v1/Tools", expected_definition(tool_url(deployed))),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{new_id}", {}),
    ]
    assert attached(emulator, assistant) == [new_id]
    assert [
        t["id"] for t in emulator.table("assistant_tools").values() if t["meta"].get("url") == tool_url(deployed)
    ] == [new_id]
    no_secret(emulator, result, again)


def test_a_failed_attach_whose_rollback_fails_names_the_tool_left_behind(
    runner, account_env, emulator, project, deployed, token, assistant
):
    emulator.inject(Fault("POST", f"/v1/Assistants/{assistant}/Tools/", status=500))
    emulator.inject(Fault("DELETE", "/v1/Tools/", status=403))  # not retried, unlike a 5xx
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    tool_id = created_tool_id(emulator)
    assert result.stderr.splitlines()[-1] == (
        f"Error: POST {ASSISTANTS}/Assistants/{assistant}/Tools/{tool_id} failed: HTTP 500: Injected fault 500. "
        "Applied before the failure: POST /v1/Tools. "
        f"Tool {tool_id} was created but is not attached, and deleting it failed: delete it in Console > AI Assistants "
        "> Tools, then run the command again."
    )
    assert tool_id in emulator.table("assistant_tools") and attached(emulator, assistant) == []


def test_a_failed_create_says_nothing_was_applied(runner, account_env, emulator, project, deployed, token, assistant):
    emulator.inject(Fault("POST", "/v1/Tools", status=500))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: POST {ASSISTANTS}/Tools failed: HTTP 500: Injected fault 500. "
        "Applied before the failure: nothing. Run the command again; it writes only what is still missing."
    )
    assert tool_url(deployed) not in [t["meta"].get("url") for t in emulator.table("assistant_tools").values()]
    assert attached(emulator, assistant) == []


# the account says no


def test_an_unknown_assistant(runner, account_env, emulator, project, deployed, token):
    result = register(runner, project, deployed, UNKNOWN_ASSISTANT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: Assistant {UNKNOWN_ASSISTANT} does not exist in account {emulator.account.sid}. "
        "Copy its ID (aia_asst_…) from Console > AI Assistants."
    )
    assert writes(emulator) == []


@pytest.mark.parametrize("status", [410, 404])
def test_retired_assistants_api(runner, account_env, emulator, project, deployed, token, assistant, status):
    emulator.inject(Fault("GET", "/v1/Assistants", status=status, times=None))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: The AI Assistants API answered HTTP {status} for account {emulator.account.sid}: {STUDIO_PATH}"
    )
    assert writes(emulator) == []
    assert [(r.method, r.path) for r in emulator.requests if r.host.startswith("assistants.")] == [
        ("GET", f"/v1/Assistants/{assistant}/Tools"),
        ("GET", "/v1/Assistants"),
    ]


def test_a_410_on_the_assistants_tools_alone_reads_as_retired(
    runner, account_env, emulator, project, deployed, token, assistant
):
    emulator.inject(Fault("GET", f"/v1/Assistants/{assistant}/Tools", status=410, times=None))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[-1]
        == f"Error: The AI Assistants API answered HTTP 410 for account {emulator.account.sid}: {STUDIO_PATH}"
    )
    assert writes(emulator) == []


def test_an_assistants_error_that_is_not_a_retirement_is_reported_as_it_is(
    runner, account_env, emulator, project, deployed, token, assistant
):
    emulator.inject(Fault("GET", "/v1/Assistants", status=403, code=20403, times=None))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert (
        result.stderr.splitlines()[-1]
        == f"Error: GET {ASSISTANTS}/Assistants/{assistant}/Tools failed: HTTP 403: Injected fault 403"
    )
    assert writes(emulator) == []


# bad input: exit 2, no request


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--assistant-id", "asst_123"],
            "'asst_123' is not an AI Assistant ID: expected aia_asst_ followed by its ID (Console > AI Assistants).",
        ),
        (["--assistant-id", "aia_asst_"], "'aia_asst_' is not an AI Assistant ID"),
        (
            ["--assistant-id", "aia_asst_1", "--url", "http://x.twil.io/tools/flex-handover"],
            "'http://x.twil.io/tools/flex-handover' is not an https URL",
        ),
        (["--assistant-id", "aia_asst_1", "--url", "https://"], "'https://' is not an https URL"),
        (["--assistant-id", "aia_asst_1", "--service-sid", "ZS123"], "'ZS123' is not a Serverless service SID"),
    ],
)
def test_bad_input_is_a_usage_error_before_any_request(runner, account_env, emulator, project, args, message):
    result = invoke(runner, project, "tool", "register", *args)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert emulator.requests == []


def test_missing_credentials_are_a_usage_error_before_any_request(runner, account_env, emulator, project, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    result = invoke(runner, project, "tool", "register", "--assistant-id", "aia_asst_1")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: No Twilio credentials found in the environment or in the project's .env. Copy the Account SID and "
        "Auth Token from Console > Account > API keys & tokens into the project's .env as TWILIO_ACCOUNT_SID=AC… and "
        "TWILIO_AUTH_TOKEN=… (or set TWILIO_API_KEY and TWILIO_API_SECRET), then run the command again."
    )
    assert emulator.requests == []


# show


def console_fields(url: str) -> list[str]:
    return [
        "Name:        Flex Agent Handover",
        f"Description: {DESCRIPTION}",
        "Input:       export type Data = {",
        *[" " * 13 + line for line in INPUT_SCHEMA.splitlines()[1:]],
        "Method:      POST",
        f"URL:         {url}",
    ]


@pytest.fixture
def no_credentials(account_env, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")


def test_show_prints_the_console_fields_with_the_token_redacted(runner, emulator, project, no_credentials):
    (project / ".env").write_text(f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8")
    url = "https://example-1234-dev.twil.io/tools/flex-handover"
    result = invoke(runner, project, "tool", "show", "--url", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == console_fields(f"{url}?token=<redacted>")
    assert result.stderr.splitlines() == ["Using HANDOVER_TOKEN from .env.", REDACTED_NOTE]
    assert emulator.requests == []
    no_secret(emulator, result)


def test_show_secrets_prints_the_url_to_paste(runner, emulator, project, no_credentials):
    (project / ".env").write_text(f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8")
    url = "https://example-1234-dev.twil.io/tools/flex-handover"
    result = invoke(runner, project, "tool", "show", "--url", url, "--show-secrets")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == console_fields(f"{url}?token={DOTENV_TOKEN}")
    assert result.stderr.splitlines() == ["Using HANDOVER_TOKEN from .env."]


def test_show_json_is_the_definition_with_the_token_redacted(runner, emulator, project, no_credentials):
    (project / ".env").write_text(f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8")
    url = "https://example-1234-dev.twil.io/tools/flex-handover"
    result = invoke(
        runner, project, "tool", "show", "--url", url, "--name", "Handover", "--description", "When stuck.", "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_definition(f"{url}?token=<redacted>", "Handover", "When stuck.")
    assert result.stderr.splitlines() == ["Using HANDOVER_TOKEN from .env.", REDACTED_NOTE]
    shown = invoke(runner, project, "tool", "show", "--url", url, "--json", "--show-secrets")
    assert json.loads(shown.stdout) == expected_definition(f"{url}?token={DOTENV_TOKEN}")
    assert emulator.requests == []


def test_show_without_url_looks_up_the_deployed_domain_and_token(
    runner, account_env, emulator, project, deployed, token
):
    result = invoke(runner, project, "tool", "show", "--service-sid", deployed.service_sid, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_definition(shown_url(deployed))
    assert result.stderr.splitlines() == using(emulator, deployed) + [REDACTED_NOTE]
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables"),
    ]
    no_secret(emulator, result)
    shown = invoke(runner, project, "tool", "show", "--service-sid", deployed.service_sid, "--show-secrets")
    assert shown.stdout.splitlines()[-1] == f"URL:         {tool_url(deployed)}"


def test_show_with_url_and_credentials_prefers_the_deployed_token(
    runner, account_env, emulator, project, deployed, token
):
    (project / ".env").write_text(f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8")
    url = "https://handover.example.com/flex"
    result = invoke(
        runner, project, "tool", "show", "--url", url, "--service-sid", deployed.service_sid, "--json", "--show-secrets"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["meta"]["url"] == f"{url}?token={TOKEN}"
    assert result.stderr.splitlines() == using(emulator, deployed)


def test_show_without_url_or_deployment_says_how_to_deploy(runner, account_env, emulator, project):
    result = invoke(runner, project, "tool", "show")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: No deployed service found: no serviceSid in .twilioserverlessrc, no .twiliodeployinfo, no service "
        "name. Deploy with `twilio serverless:deploy` (or `npm run deploy`), or pass --service-sid ZS…."
    )
    assert emulator.requests == []


def test_show_without_any_token_says_to_run_env_set(runner, emulator, project, no_credentials):
    (project / ".env").write_text("HANDOVER_TOKEN=too-short\n", encoding="utf-8")
    result = invoke(runner, project, "tool", "show", "--url", "https://x.twil.io/tools/flex-handover")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: No valid HANDOVER_TOKEN in .env, and the tool URL must carry the deployment's. {NO_TOKEN_FIX}\n"
    )
    assert emulator.requests == []


# the token in the URL


def test_register_without_a_deployed_token_says_to_run_env_set_and_writes_nothing(
    runner, account_env, emulator, project, deployed, assistant
):
    (project / ".env").write_text(
        f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8"
    )  # not used: the deployment's is needed
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == using(emulator, deployed)[:3] + [
        f"Error: No valid HANDOVER_TOKEN on environment {deployed.environment_sid}, and the tool URL must carry the "
        f"deployment's. {NO_TOKEN_FIX}"
    ]
    assert writes(emulator) == []
    assert not any(r.host.startswith("assistants.") for r in emulator.requests)
    no_secret(emulator, result)


def test_register_with_a_url_and_no_token_anywhere_says_to_run_env_set(
    runner, account_env, emulator, project, deployed, assistant
):
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "HANDOVER_TOKEN", "malformed")
    result = register(runner, project, deployed, assistant, "--url", "https://handover.example.com/flex")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: No valid HANDOVER_TOKEN on environment {deployed.environment_sid} or in .env, and the tool URL must "
        f"carry the deployment's. {NO_TOKEN_FIX}"
    )
    assert writes(emulator) == []
    assert not any(r.host.startswith("assistants.") for r in emulator.requests)


def test_register_with_a_url_and_a_deployment_without_token_takes_the_token_of_dotenv(
    runner, account_env, emulator, project, deployed, assistant
):
    (project / ".env").write_text(f"HANDOVER_TOKEN={DOTENV_TOKEN}\n", encoding="utf-8")
    url = "https://handover.example.com/flex"
    result = register(runner, project, deployed, assistant, "--url", url)
    assert result.exit_code == 0, result.output
    assert writes(emulator)[0] == ("POST", "/v1/Tools", expected_definition(f"{url}?token={DOTENV_TOKEN}"))
    assert result.stderr.splitlines() == using(emulator, deployed)[:3] + [
        "Using HANDOVER_TOKEN from .env.",
        "2 write(s).",
    ]


def test_a_token_in_the_given_url_is_replaced_by_the_deployed_one(
    runner, account_env, emulator, project, deployed, token, assistant
):
    result = register(
        runner, project, deployed, assistant, "--url", "https://handover.example.com/flex?team=a&token=old"
    )
    assert result.exit_code == 0, result.output
    assert writes(emulator)[0] == (
        "POST",
        "/v1/Tools",
        expected_definition(f"https://handover.example.com/flex?team=a&token={TOKEN}"),
    )


def test_a_rotated_token_updates_the_tool_in_one_put(
    runner, account_env, emulator, project, deployed, token, assistant
):
    assert register(runner, project, deployed, assistant, "--name", "Talk to a person").exit_code == 0
    tool_id = created_tool_id(emulator)
    rotated = "R" * 43
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "HANDOVER_TOKEN", rotated)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant)  # found by its URL without the token, renamed back
    assert result.exit_code == 0, result.output
    assert writes(emulator) == [("PUT", f"/v1/Tools/{tool_id}", expected_definition(tool_url(deployed, rotated)))]
    assert result.stdout.splitlines() == [
        f"tool {tool_id}: updated on assistant {assistant}",
        f"  url: {shown_url(deployed)}",
        "  fields that differ: name, meta",
        f"  PUT /v1/Tools/{tool_id}",
    ]
    assert attached(emulator, assistant) == [tool_id]
    assert rotated not in result.output
    no_secret(emulator, result)


def test_register_show_secrets_prints_the_url_with_its_token(
    runner, account_env, emulator, project, deployed, token, assistant
):
    result = register(runner, project, deployed, assistant, "--show-secrets", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"tool (new): to create on assistant {assistant}",
        f"  url: {tool_url(deployed)}",
    ]
    as_json = register(runner, project, deployed, assistant, "--show-secrets", "--dry-run", "--json")
    assert json.loads(as_json.stdout)["definition"] == expected_definition(tool_url(deployed))


def test_an_assistants_error_that_quotes_the_url_is_printed_without_its_token():
    class Refusal:
        status_code = 400
        text = json.dumps({"message": f"meta.url https://x.twil.io/tools/flex-handover?token={TOKEN} is not allowed"})

    class AssistantsRefusing:
        def request(self, method, url, data=None, headers=None):
            return Refusal()

    with pytest.raises(assistant_tool.AssistantsApiError) as raised:
        assistant_tool.attached_tools(AssistantsRefusing(), "AC" + "0" * 32, "aia_asst_1")
    assert str(raised.value) == (
        f"GET {ASSISTANTS}/Assistants/aia_asst_1/Tools failed: HTTP 400: "
        "meta.url https://x.twil.io/tools/flex-handover?token=<redacted> is not allowed"
    )


# --kind studio


def test_register_kind_studio_attaches_the_studio_tool_beside_the_flex_one(
    runner, account_env, emulator, project, deployed, token, assistant
):
    assert register(runner, project, deployed, assistant).exit_code == 0
    flex_tool = created_tool_id(emulator)
    emulator.clear_traffic()

    result = register(runner, project, deployed, assistant, "--kind", "studio")

    assert result.exit_code == 0, result.output
    studio_tool = created_tool_id(emulator)
    url = f"https://{deployed.domain_name}/tools/studio-handover?token={TOKEN}"
    assert writes(emulator) == [
        ("POST", "/v1/Tools", expected_definition(url, name="Studio Agent Handover")),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{studio_tool}", {}),
    ]
    assert result.stdout.splitlines()[:2] == [
        f"tool {studio_tool}: created on assistant {assistant}",
        f"  url: https://{deployed.domain_name}/tools/studio-handover?token=<redacted>",
    ]
    assert sorted(attached(emulator, assistant)) == sorted([flex_tool, studio_tool])
    no_secret(emulator, result)


def test_show_kind_studio_prints_the_studio_tool(runner, account_env, emulator, project, deployed, token):
    result = invoke(
        runner, project, "tool", "show", "--kind", "studio", "--service-sid", deployed.service_sid, "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_definition(
        f"https://{deployed.domain_name}/tools/studio-handover?token=<redacted>", name="Studio Agent Handover"
    )
    assert writes(emulator) == []
