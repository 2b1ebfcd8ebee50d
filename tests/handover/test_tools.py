"""`handover tool register` and `tool show` against the emulated AI Assistants API, through the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from twilio.rest import Client

from handover import tools
from handover.cli import cli
from handover.emulator import Fault, add_assistant
from tests.handover.conftest import writes

ASSISTANTS = "https://assistants.twilio.com/v1"
DESCRIPTION = (
    "You MUST use this if you don't know how to fulfill the request "
    "to let another customer service agent handle the conversation."
)
UNKNOWN_ASSISTANT = "aia_asst_00000000-0000-0000-0000-000000000000"
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


def invoke(runner: CliRunner, project, *args: str):
    return runner.invoke(cli, ["--project-dir", str(project), *args], catch_exceptions=False)


def register(runner, project, deployed, assistant: str, *args: str):
    return invoke(runner, project, "tool", "register", "--assistant-id", assistant, "--service-sid", deployed.service_sid, *args)


def tool_url(deployed) -> str:
    return f"https://{deployed.domain_name}/tools/flex-handover"


def expected_definition(url: str, name: str = "Flex Agent Handover", description: str = DESCRIPTION) -> dict:
    return {
        "name": name,
        "description": description,
        "type": "WEBHOOK",
        "enabled": True,
        "meta": {"url": url, "method": "POST", "input_schema": "{}"},
    }


def using(emulator, deployed) -> list[str]:
    """The notes on stderr of a command that located the deployment by --service-sid."""
    return [
        f"Using account {emulator.account.sid} (auth token, from the environment).",
        f"Using service {deployed.service_sid} (found by --service-sid).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
    ]


def created_tool_id(emulator) -> str:
    [created] = [r for r in emulator.requests if (r.method, r.path) == ("POST", "/v1/Tools")]
    return created.response["id"]


def attached(emulator, assistant: str) -> list[str]:
    return [a["tool_id"] for a in emulator.table("assistant_tool_attachments").values() if a["assistant_id"] == assistant]


def create_tool(emulator, definition: dict) -> str:
    """A tool of the account, attached to no assistant, made as any Assistants client makes one."""
    client = Client(emulator.account.sid, emulator.account.auth_token)
    response = client.request("POST", f"{ASSISTANTS}/Tools", data=definition, headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    emulator.clear_traffic()
    return json.loads(response.text)["id"]


def no_secret(emulator, *results) -> None:
    for result in results:
        assert emulator.account.auth_token not in result.stdout + result.stderr


# definition()


def test_the_definition_is_the_template_rendered():
    assert tools.definition("https://example-1234-dev.twil.io/tools/flex-handover") == expected_definition(
        "https://example-1234-dev.twil.io/tools/flex-handover"
    )


def test_the_definition_keeps_quotes_and_markup_in_the_name_and_description():
    definition = tools.definition("https://x.twil.io/t", 'The "handover"', "Use <this> & that's it")
    assert (definition["name"], definition["description"]) == ('The "handover"', "Use <this> & that's it")


# register: create, then nothing, then update


def test_register_creates_and_attaches_the_tool(runner, account_env, emulator, project, deployed, assistant):
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 0, result.output
    tool_id = created_tool_id(emulator)
    definition = expected_definition(tool_url(deployed))
    assert writes(emulator) == [("POST", "/v1/Tools", definition), ("POST", f"/v1/Assistants/{assistant}/Tools/{tool_id}", {})]
    assert result.stdout.splitlines() == [
        f"tool {tool_id}: created on assistant {assistant}",
        "  POST /v1/Tools",
        f"  POST /v1/Assistants/{assistant}/Tools/{tool_id}",
    ]
    assert result.stderr.splitlines() == using(emulator, deployed) + ["2 write(s)."]
    assert attached(emulator, assistant) == [tool_id]
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", f"/v1/Assistants/{assistant}/Tools"),
        ("POST", "/v1/Tools"),
        ("POST", f"/v1/Assistants/{assistant}/Tools/{tool_id}"),
    ]
    no_secret(emulator, result)


def test_register_again_writes_nothing(runner, account_env, emulator, project, deployed, assistant):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 0, result.output
    assert writes(emulator) == []
    assert result.stdout.splitlines() == [f"tool {tool_id}: unchanged on assistant {assistant}"]
    assert result.stderr.splitlines() == using(emulator, deployed) + ["0 write(s)."]
    assert attached(emulator, assistant) == [tool_id]


@pytest.mark.parametrize(
    ("option", "value", "changed"),
    [("--description", "Hand over when asked for a person.", "description"), ("--url", "https://handover.example.com/flex", "meta")],
)
def test_a_changed_input_updates_the_tool_in_one_put(runner, account_env, emulator, project, deployed, assistant, option, value, changed):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant, option, value)
    assert result.exit_code == 0, result.output
    wanted = expected_definition(value if option == "--url" else tool_url(deployed), description=value if option == "--description" else DESCRIPTION)
    assert writes(emulator) == [("PUT", f"/v1/Tools/{tool_id}", wanted)]
    assert result.stdout.splitlines() == [
        f"tool {tool_id}: updated on assistant {assistant}",
        f"  fields that differ: {changed}",
        f"  PUT /v1/Tools/{tool_id}",
    ]
    assert result.stderr.splitlines()[-1] == "1 write(s)."
    assert {name: emulator.table("assistant_tools")[tool_id][name] for name in wanted} == wanted
    assert attached(emulator, assistant) == [tool_id]


def test_a_renamed_tool_is_found_by_its_url_and_updated(runner, account_env, emulator, project, deployed, assistant):
    assert register(runner, project, deployed, assistant).exit_code == 0
    tool_id = created_tool_id(emulator)
    emulator.clear_traffic()
    result = register(runner, project, deployed, assistant, "--name", "Talk to a person")
    assert result.exit_code == 0, result.output
    assert writes(emulator) == [("PUT", f"/v1/Tools/{tool_id}", expected_definition(tool_url(deployed), name="Talk to a person"))]
    assert result.stdout.splitlines()[:2] == [f"tool {tool_id}: updated on assistant {assistant}", "  fields that differ: name"]
    assert attached(emulator, assistant) == [tool_id]


def test_dry_run_writes_nothing(runner, account_env, emulator, project, deployed, assistant):
    result = register(runner, project, deployed, assistant, "--dry-run")
    assert result.exit_code == 0, result.output
    assert writes(emulator) == []
    assert result.stdout.splitlines() == [f"tool (new): to create on assistant {assistant}"]
    assert result.stderr.splitlines() == using(emulator, deployed) + ["Dry run: nothing was written."]
    assert attached(emulator, assistant) == []


def test_dry_run_of_a_change_names_the_fields(runner, account_env, emulator, project, deployed, assistant):
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
        "definition": expected_definition(tool_url(deployed), description="Other"),
    }


def test_register_json(runner, account_env, emulator, project, deployed, assistant):
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
        "definition": expected_definition(tool_url(deployed)),
    }
    no_secret(emulator, result)


def test_a_given_url_needs_no_deployment(runner, account_env, emulator, project, assistant):
    url = f"https://handover.example.com/{assistant}"
    result = invoke(runner, project, "tool", "register", "--assistant-id", assistant, "--url", url)
    assert result.exit_code == 0, result.output
    assert writes(emulator)[0] == ("POST", "/v1/Tools", expected_definition(url))
    assert not any(r.host.startswith("serverless.") for r in emulator.requests)


# a failed run leaves nothing behind


def test_an_unattached_tool_of_the_account_is_left_alone(runner, account_env, emulator, project, deployed, assistant):
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


def test_a_failed_attach_deletes_the_new_tool_and_a_rerun_starts_over(runner, account_env, emulator, project, deployed, assistant):
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
        "The new tool was deleted again, so nothing is left behind. Run the command again; it writes only what is still missing."
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
    assert [t["id"] for t in emulator.table("assistant_tools").values() if t["meta"].get("url") == tool_url(deployed)] == [new_id]
    no_secret(emulator, result, again)


def test_a_failed_attach_whose_rollback_fails_names_the_tool_left_behind(runner, account_env, emulator, project, deployed, assistant):
    emulator.inject(Fault("POST", f"/v1/Assistants/{assistant}/Tools/", status=500))
    emulator.inject(Fault("DELETE", "/v1/Tools/", status=403))  # not retried, unlike a 5xx
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    tool_id = created_tool_id(emulator)
    assert result.stderr.splitlines()[-1] == (
        f"Error: POST {ASSISTANTS}/Assistants/{assistant}/Tools/{tool_id} failed: HTTP 500: Injected fault 500. "
        "Applied before the failure: POST /v1/Tools. "
        f"Tool {tool_id} was created but is not attached, and deleting it failed: delete it in Console > AI Assistants > Tools, then run the command again."
    )
    assert tool_id in emulator.table("assistant_tools") and attached(emulator, assistant) == []


def test_a_failed_create_says_nothing_was_applied(runner, account_env, emulator, project, deployed, assistant):
    emulator.inject(Fault("POST", "/v1/Tools", status=500))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: POST {ASSISTANTS}/Tools failed: HTTP 500: Injected fault 500. "
        "Applied before the failure: nothing. Run the command again; it writes only what is still missing."
    )
    assert tool_url(deployed) not in [
        t["meta"].get("url") for t in emulator.table("assistant_tools").values()
    ]
    assert attached(emulator, assistant) == []


# the account says no


def test_an_unknown_assistant(runner, account_env, emulator, project, deployed):
    result = register(runner, project, deployed, UNKNOWN_ASSISTANT)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: Assistant {UNKNOWN_ASSISTANT} does not exist in account {emulator.account.sid}. "
        "Copy its ID (aia_asst_…) from Console > AI Assistants."
    )
    assert writes(emulator) == []


@pytest.mark.parametrize("status", [410, 404])
def test_retired_assistants_api(runner, account_env, emulator, project, deployed, assistant, status):
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


def test_a_410_on_the_assistants_tools_alone_reads_as_retired(runner, account_env, emulator, project, deployed, assistant):
    emulator.inject(Fault("GET", f"/v1/Assistants/{assistant}/Tools", status=410, times=None))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: The AI Assistants API answered HTTP 410 for account {emulator.account.sid}: {STUDIO_PATH}"
    assert writes(emulator) == []


def test_an_assistants_error_that_is_not_a_retirement_is_reported_as_it_is(runner, account_env, emulator, project, deployed, assistant):
    emulator.inject(Fault("GET", "/v1/Assistants", status=403, code=20403, times=None))
    result = register(runner, project, deployed, assistant)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: GET {ASSISTANTS}/Assistants/{assistant}/Tools failed: HTTP 403: Injected fault 403"
    assert writes(emulator) == []


# bad input: exit 2, no request


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--assistant-id", "asst_123"], "'asst_123' is not an AI Assistant ID: expected aia_asst_ followed by its ID (Console > AI Assistants)."),
        (["--assistant-id", "aia_asst_"], "'aia_asst_' is not an AI Assistant ID"),
        (["--assistant-id", "aia_asst_1", "--url", "http://x.twil.io/tools/flex-handover"], "'http://x.twil.io/tools/flex-handover' is not an https URL"),
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
        "Error: No Twilio credentials found. Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
        "TWILIO_API_SECRET) in the environment or in the project's .env."
    )
    assert emulator.requests == []


# show


def test_show_prints_the_console_fields(runner, emulator, project):
    url = "https://example-1234-dev.twil.io/tools/flex-handover"
    result = invoke(runner, project, "tool", "show", "--url", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Name:        Flex Agent Handover",
        f"Description: {DESCRIPTION}",
        "Input:       {}",
        "Method:      POST",
        f"URL:         {url}",
    ]
    assert result.stderr == ""
    assert emulator.requests == []


def test_show_json_is_the_definition(runner, emulator, project):
    url = "https://example-1234-dev.twil.io/tools/flex-handover"
    result = invoke(runner, project, "tool", "show", "--url", url, "--name", "Handover", "--description", "When stuck.", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_definition(url, "Handover", "When stuck.")
    assert emulator.requests == []


def test_show_without_url_looks_up_the_deployed_domain(runner, account_env, emulator, project, deployed):
    result = invoke(runner, project, "tool", "show", "--service-sid", deployed.service_sid, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == expected_definition(tool_url(deployed))
    assert result.stderr.splitlines() == using(emulator, deployed)
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", f"/v1/Services/{deployed.service_sid}/Environments")]
    no_secret(emulator, result)


def test_show_without_url_or_deployment_says_how_to_deploy(runner, account_env, emulator, project):
    result = invoke(runner, project, "tool", "show")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        "Error: No deployed service found: no serviceSid in .twilioserverlessrc, no .twiliodeployinfo, no service name. "
        "Deploy with `twilio serverless:deploy` (or `npm run deploy`), or pass --service-sid ZS…."
    )
    assert emulator.requests == []
