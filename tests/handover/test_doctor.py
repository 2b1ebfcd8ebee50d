"""`handover doctor` on an emulated account: every check passing, then one misconfiguration at a time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from handover import contract
from handover import doctor as doctor_module
from handover.account import credentials
from handover.cli import cli
from handover.project import deployed_files
from tests.handover.conftest import API_KEY_SECRET, add_maps, writes
from twilio_emulator import Fault, add_assistant, set_variable
from twilio_emulator.products import taskrouter
from twilio_emulator.products.serverless import add_environment, deploy_build

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
FUNCTION = "functions/tools/flex-handover.js"
CONTRACT = "assets/tools/contract.private.js"  # the one generated file
DEPLOY_HINT = "Deploy with `twilio serverless:deploy` (or `npm run deploy`), or pass --service-sid ZS…."
DEPLOY_FIX = "Run `twilio serverless:deploy` (or `npm run deploy`) from the project to deploy the local files."
RETRY_FIX = "Run doctor again; if it persists, check https://status.twilio.com."
NOT_CHECKED = "not checked: the credentials do not work"
FIRST_STEP = (
    "Copy the Account SID and Auth Token from Console > Account > API keys & tokens into the project's .env as "
    "TWILIO_ACCOUNT_SID=AC… and TWILIO_AUTH_TOKEN=… (or set TWILIO_API_KEY and TWILIO_API_SECRET), then run the "
    "command again."
)
TAC_NAMES = (*doctor_module.TAC_CHECKS, "tac addresses")
UNKNOWN_ASSISTANT = "aia_asst_00000000-0000-0000-0000-000000000000"
CHECK_LINE = re.compile(r"^(PASS|WARN|FAIL)  ([a-z -]+): (.*)$")
FIX_PREFIX = "      fix: "
TOKEN_EXPECTED = "43 to 128 URL-safe characters (`handover env set` makes one from 32 random bytes)"
ALL_CLAIM_MAPS = "all 16 claim Maps (handover-claims-00 … handover-claims-15)"
# The verdicts when the credentials fail: what needs the account is not checked (WARN); the local configuration
# and the generated files still are (PASS).
WHEN_CREDENTIALS_FAIL = [FAIL, WARN, PASS, WARN, WARN, PASS, *[WARN] * 9, *[WARN] * len(TAC_NAMES)]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@dataclass(frozen=True)
class Configured:
    """A project deployed, its variables set in .env and on the environment, its tool registered."""

    project: Path
    service_sid: str
    environment_sid: str
    domain_name: str
    assistant: str
    tool_id: str
    workspace: str
    workflow: str
    token: str  # HANDOVER_TOKEN, in .env, on the environment and in the tool's URL
    flow_sid: str  # the Studio handoff flow, TWILIO_STUDIO_HANDOFF_FLOW_SID in .env and on the environment

    @property
    def url(self) -> str:
        return f"https://{self.domain_name}/tools/flex-handover"


def invoke(runner: CliRunner, project: Path, *args: str):
    return runner.invoke(cli, ["--project-dir", str(project), *args], catch_exceptions=False)


@pytest.fixture
def configured(runner, account_env, emulator, project, deployed) -> Configured:
    account = account_env.account
    assistant = add_assistant(emulator, "Customer care")["id"]
    env_set = invoke(
        runner,
        project,
        "env",
        "set",
        "--workspace-sid",
        account.workspace_sid,
        "--workflow-sid",
        account.workflow_sid,
        "--service-sid",
        deployed.service_sid,
    )
    assert env_set.exit_code == 0, env_set.output
    register = invoke(
        runner, project, "tool", "register", "--assistant-id", assistant, "--service-sid", deployed.service_sid
    )
    assert register.exit_code == 0, register.output
    [created] = [r for r in emulator.requests if (r.method, r.path) == ("POST", "/v1/Tools")]
    studio_generate = invoke(runner, project, "studio", "generate")
    assert studio_generate.exit_code == 0, studio_generate.output
    studio_deploy = invoke(
        runner,
        project,
        "studio",
        "deploy",
        "--friendly-name",
        f"Agent Handoff {deployed.service_sid}",
        "--service-sid",
        deployed.service_sid,
    )
    assert studio_deploy.exit_code == 0, studio_deploy.output
    emulator.clear_traffic()
    env = dotenv_values(project / ".env")
    return Configured(
        project,
        deployed.service_sid,
        deployed.environment_sid,
        deployed.domain_name,
        assistant,
        created.response["id"],
        account.workspace_sid,
        account.workflow_sid,
        env["HANDOVER_TOKEN"],
        env["TWILIO_STUDIO_HANDOFF_FLOW_SID"],
    )


def doctor(runner, c: Configured, *args: str, assistant: bool = True, service: bool = True):
    options = (["--assistant-id", c.assistant] if assistant else []) + (
        ["--service-sid", c.service_sid] if service else []
    )
    return invoke(runner, c.project, "doctor", *options, *args)


def report(stdout: str) -> list[tuple[str, str, str, str | None]]:
    """(check, status, detail, fix) of each check doctor printed; every line is one of the two kinds."""
    checks: list[list] = []
    for line in stdout.splitlines():
        if line.startswith(FIX_PREFIX):
            assert checks and checks[-1][3] is None, line
            checks[-1][3] = line.removeprefix(FIX_PREFIX)
        else:
            match = CHECK_LINE.match(line)
            assert match, f"not a check line: {line!r}"
            checks.append([match.group(2), match.group(1), match.group(3), None])
    return [tuple(check) for check in checks]


def healthy(c: Configured, emulator) -> dict[str, tuple[str, str, str | None]]:
    """Check → (status, detail, fix) on the configured account, in doctor's order."""
    return {
        "credentials": (PASS, f"account {emulator.account.sid} (auth token, from the environment)", None),
        "flex": (PASS, f"the Flex configuration is readable; Flex routes through workspace {c.workspace}", None),
        "local configuration": (
            PASS,
            f"FLEX_WORKSPACE_SID={c.workspace}, FLEX_WORKFLOW_SID={c.workflow}, HANDOVER_TOKEN=<redacted>, "
            f"TWILIO_STUDIO_HANDOFF_FLOW_SID={c.flow_sid} in .env",
            None,
        ),
        "workspace and workflow": (PASS, f"workflow {c.workflow} is in workspace {c.workspace}", None),
        "task channel": (PASS, f"workspace {c.workspace} has task channel 'chat'", None),
        "generated files": (PASS, "the generated files (the contract asset) match their templates", None),
        "deployment": (
            PASS,
            f"service {c.service_sid} (found by --service-sid); environment {c.environment_sid} at https://{c.domain_name}",
            None,
        ),
        "deployed functions": (
            PASS,
            "the build serves the local functions and assets, on the runtime and dependencies asked for",
            None,
        ),
        "deployed variables": (
            PASS,
            "FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID, HANDOVER_TOKEN, TWILIO_STUDIO_HANDOFF_FLOW_SID are set on the "
            "environment as in .env",
            None,
        ),
        "sync claim maps": (PASS, ALL_CLAIM_MAPS + " exist in Sync service default (the account's default)", None),
        # The configured account is not wired for the hand-back (`handover handback wire`): a warning, not a failure.
        "hand-back events": not_wired(c, c.workspace),
        "assistant tool": (
            PASS,
            f"tool {c.tool_id} (Flex Agent Handover) is attached to {c.assistant} and POSTs to {c.url} with the "
            "environment's HANDOVER_TOKEN",
            None,
        ),
        # No plugin release on the account (`handover plugin deploy` makes one): a warning, not a failure.
        "flex plugin": NO_PLUGIN_RELEASE,
        "studio flow": (
            PASS,
            f"Studio flow {c.flow_sid} ('Agent Handoff {c.service_sid}') is published, revision 1",
            None,
        ),
        "studio flow routing": (
            PASS,
            f"every Send to Flex widget (call_to_flex, messaging_to_flex) routes to workflow {c.workflow}",
            None,
        ),
        **TAC_NOT_CHECKED,
    }


def not_wired(c: Configured, workspace: str) -> tuple[str, str, str]:
    return (
        WARN,
        f"not wired: workspace {workspace} has no EventCallbackUrl, so a task's end hands nothing back to the AI",
        f"handover handback wire --service-sid {c.service_sid}",
    )


# No TAC configuration or address is known to these tests: TAC's checks say how to give them.
NO_PLUGIN_RELEASE = (
    WARN,
    "no plugin release is active: Flex loads no plugin, so agents do not see plugin-ai-handover",
    "handover plugin deploy",
)
TAC_NOT_CHECKED = {
    **{
        name: (
            WARN,
            "not checked: no Orchestrator configuration id known (only Twilio Agent Connect needs it)",
            doctor_module.TAC_HOW,
        )
        for name in doctor_module.TAC_CHECKS
    },
    "tac addresses": (
        WARN,
        "not checked: no address given (only Twilio Agent Connect needs it)",
        "Pass --address (or --tac-env FILE with TWILIO_PHONE_NUMBER).",
    ),
}


def expect(result, c: Configured, emulator, exit_code: int = 1, **changed: tuple[str, str, str | None]) -> None:
    """Doctor printed the healthy report with these checks
    (underscores for spaces) changed, exited so and wrote nothing."""
    expected = healthy(c, emulator) | {name.replace("_", " "): value for name, value in changed.items()}
    assert report(result.stdout) == [(name, *value) for name, value in expected.items()]
    assert result.exit_code == exit_code, result.output
    assert writes(emulator) == []
    assert emulator.account.auth_token not in result.output
    assert c.token not in result.output


def expect_tool_fails(result, c: Configured, emulator, detail: str) -> None:
    """expect() with only the assistant tool check failing, with this detail and `tool register` as its fix."""
    expect(
        result,
        c,
        emulator,
        assistant_tool=(
            FAIL,
            detail,
            f"handover tool register --assistant-id {c.assistant} --service-sid {c.service_sid}",
        ),
    )


def write_env(c: Configured, text: str) -> None:
    """.env with this text, and the Studio flow's SID as the configured account has it."""
    (c.project / ".env").write_text(f"{text}TWILIO_STUDIO_HANDOFF_FLOW_SID={c.flow_sid}\n", encoding="utf-8")


def configure(emulator, c: Configured, **values: str) -> None:
    """The same FLEX_* values in .env and on the environment, and the configured token in .env."""
    write_env(c, "".join(f"{key}={value}\n" for key, value in values.items()) + f"HANDOVER_TOKEN={c.token}\n")
    for key, value in values.items():
        set_variable(emulator, c.service_sid, c.environment_sid, key, value)


@pytest.fixture
def no_retry_wait(monkeypatch):
    """Retries of a persistent 5xx without their back-off, so a test of one stays fast."""
    monkeypatch.setattr(credentials, "RETRY_BACKOFF_SECONDS", 0)


# everything in order


def test_a_configured_account_passes_every_check(runner, configured, emulator):
    result = doctor(runner, configured)
    expect(result, configured, emulator, exit_code=0)
    assert result.stderr == "No check failed; see the warnings.\n"  # TAC's checks: no configuration known


def test_the_healthy_report_reads_one_line_per_check(runner, configured, emulator):
    c = configured
    result = doctor(runner, c)
    assert (
        result.stdout.splitlines()[0]
        == f"PASS  credentials: account {emulator.account.sid} (auth token, from the environment)"
    )
    assert [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(FIX_PREFIX)] == [
        "PASS  credentials",
        "PASS  flex",
        "PASS  local configuration",
        "PASS  workspace and workflow",
        "PASS  task channel",
        "PASS  generated files",
        "PASS  deployment",
        "PASS  deployed functions",
        "PASS  deployed variables",
        "PASS  sync claim maps",
        "WARN  hand-back events",
        "PASS  assistant tool",
        "WARN  flex plugin",
        "PASS  studio flow",
        "PASS  studio flow routing",
        *(f"WARN  {name}" for name in TAC_NAMES),
    ]


def test_json(runner, configured, emulator):
    result = doctor(runner, configured, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ok": True,
        "checks": [
            {"check": name, "status": status, "detail": detail, "fix": fix}
            for name, (status, detail, fix) in healthy(configured, emulator).items()
        ],
    }
    assert result.stderr == "No check failed; see the warnings.\n"


def test_json_of_a_failure(runner, configured, emulator):
    write_env(configured, "")
    result = doctor(runner, configured, "--json")
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["ok"] is False
    assert output["checks"][2] == {
        "check": "local configuration",
        "status": FAIL,
        "detail": (
            "FLEX_WORKSPACE_SID is not set in .env; FLEX_WORKFLOW_SID "
            "is not set in .env; HANDOVER_TOKEN is not set in .env"
        ),
        "fix": f"handover env set --workspace-sid WS… --workflow-sid WW… --service-sid {configured.service_sid}",
    }
    assert result.stderr == (
        f"1 check(s) failed. Next: handover env set --workspace-sid WS… --workflow-sid WW… --service-sid "
        f"{configured.service_sid}\n"
    )


def test_doctor_only_reads(runner, configured, emulator):
    doctor(runner, configured)
    assert {r.method for r in emulator.requests} == {"GET"}
    assert [r.path for r in emulator.requests if r.host.startswith("api.")] == [
        f"/2010-04-01/Accounts/{emulator.account.sid}.json"
    ]


# credentials


def test_a_wrong_auth_token_fails_credentials_and_skips_the_account_checks(runner, configured, emulator, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token-that-must-not-be-printed")
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        credentials=(
            FAIL,
            f"Twilio refused the account {emulator.account.sid} (auth token, from the environment): "
            "HTTP 401, Twilio error 20003: Unable to fetch record: Authentication Error - invalid username",
            "Check them in Console > Account > API keys & tokens (an API key must belong to this account).",
        ),
        flex=(WARN, NOT_CHECKED, None),
        workspace_and_workflow=(WARN, NOT_CHECKED, None),
        task_channel=(WARN, NOT_CHECKED, None),
        deployment=(WARN, NOT_CHECKED, None),
        deployed_functions=(WARN, NOT_CHECKED, None),
        deployed_variables=(WARN, NOT_CHECKED, None),
        sync_claim_maps=(WARN, NOT_CHECKED, None),
        **{"hand-back events": (WARN, NOT_CHECKED, None)},
        assistant_tool=(WARN, NOT_CHECKED, None),
        flex_plugin=(WARN, NOT_CHECKED, None),
        studio_flow=(WARN, NOT_CHECKED, None),
        studio_flow_routing=(WARN, NOT_CHECKED, None),
        **{name.replace(" ", "_"): (WARN, NOT_CHECKED, None) for name in TAC_NAMES},
    )
    assert "wrong-token-that-must-not-be-printed" not in result.output
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/2010-04-01/Accounts/{emulator.account.sid}.json")
    ]
    assert result.stderr == (
        "1 check(s) failed. Next: Check them in Console > Account > API keys & tokens (an API key must belong to this "
        "account).\n"
    )


def test_missing_credentials(runner, configured, emulator, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        credentials=(FAIL, "No Twilio credentials found in the environment or in the project's .env", FIRST_STEP),
        flex=(WARN, NOT_CHECKED, None),
        workspace_and_workflow=(WARN, NOT_CHECKED, None),
        task_channel=(WARN, NOT_CHECKED, None),
        deployment=(WARN, NOT_CHECKED, None),
        deployed_functions=(WARN, NOT_CHECKED, None),
        deployed_variables=(WARN, NOT_CHECKED, None),
        sync_claim_maps=(WARN, NOT_CHECKED, None),
        **{"hand-back events": (WARN, NOT_CHECKED, None)},
        assistant_tool=(WARN, NOT_CHECKED, None),
        flex_plugin=(WARN, NOT_CHECKED, None),
        studio_flow=(WARN, NOT_CHECKED, None),
        studio_flow_routing=(WARN, NOT_CHECKED, None),
        **{name.replace(" ", "_"): (WARN, NOT_CHECKED, None) for name in TAC_NAMES},
    )
    assert emulator.requests == []


def test_an_api_key_passes_without_reading_the_account(runner, configured, emulator, api_key):
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        exit_code=0,
        credentials=(PASS, f"account {emulator.account.sid} (API key {api_key}, from the environment)", None),
    )
    assert not any(r.host.startswith("api.") for r in emulator.requests)
    assert {r.auth_user for r in emulator.requests} == {api_key}
    assert API_KEY_SECRET not in result.output


def test_a_wrong_api_secret_fails_credentials(runner, configured, emulator, api_key, monkeypatch):
    monkeypatch.setenv("TWILIO_API_SECRET", "wrong-secret")
    result = doctor(runner, configured, "--json")
    assert result.exit_code == 1
    checks = json.loads(result.stdout)["checks"]
    assert checks[0] == {
        "check": "credentials",
        "status": FAIL,
        "detail": f"Twilio refused the account {emulator.account.sid} (API key {api_key}, from the environment): "
        "HTTP 401, Twilio error 20003: Unable to fetch page: Authentication Error - invalid username",
        "fix": "Check them in Console > Account > API keys & tokens (an API key must belong to this account).",
    }
    assert [c["status"] for c in checks] == WHEN_CREDENTIALS_FAIL
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", "/v1/Services")]


def test_a_suspended_account_fails_credentials(runner, configured, emulator):
    doctor(runner, configured)  # the emulator makes the account resource when first asked for
    account = emulator.table("accounts")[emulator.account.sid]
    account["status"] = "suspended"
    emulator.clear_traffic()
    try:
        result = doctor(runner, configured)
    finally:
        account["status"] = "active"
    assert report(result.stdout)[0] == (
        "credentials",
        FAIL,
        f"account {emulator.account.sid} is suspended",
        "Reactivate the account in the Console, or use another one.",
    )
    assert [status for _, status, _, _ in report(result.stdout)] == WHEN_CREDENTIALS_FAIL
    assert result.exit_code == 1
    assert writes(emulator) == []


# Flex and routing


@pytest.fixture
def without_flex(emulator):
    configuration = emulator.table("flex_configurations").pop(emulator.account.sid)
    yield
    emulator.table("flex_configurations")[emulator.account.sid] = configuration


def test_an_account_without_flex(runner, configured, emulator, without_flex):
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        flex=(
            FAIL,
            f"account {emulator.account.sid} has no Flex instance",
            "Create one in Console > Flex > Overview, or use the account that has Flex.",
        ),
        flex_plugin=(WARN, "not checked: the flex check failed", None),
    )


@pytest.mark.parametrize(
    ("env", "detail"),
    [
        ("", "FLEX_WORKSPACE_SID is not set in .env; FLEX_WORKFLOW_SID is not set in .env"),
        (
            "FLEX_WORKSPACE_SID=\nFLEX_WORKFLOW_SID=WW123\n",
            "FLEX_WORKSPACE_SID is not set in .env; FLEX_WORKFLOW_SID in .env is not WW followed by 32 hex characters",
        ),
    ],
)
def test_dotenv_without_the_flex_values(runner, configured, emulator, env, detail):
    write_env(configured, env + f"HANDOVER_TOKEN={configured.token}\n")
    result = doctor(runner, configured)
    incomplete = "not checked: the local configuration is incomplete"
    expect(
        result,
        configured,
        emulator,
        local_configuration=(
            FAIL,
            detail,
            f"handover env set --workspace-sid WS… --workflow-sid WW… --service-sid {configured.service_sid}",
        ),
        workspace_and_workflow=(WARN, incomplete, None),
        task_channel=(WARN, incomplete, None),
        deployed_variables=(WARN, incomplete, None),
        studio_flow_routing=(WARN, incomplete, None),
    )


def test_a_workspace_that_does_not_exist(runner, configured, emulator):
    c, missing = configured, "WS" + "0" * 32
    configure(emulator, c, FLEX_WORKSPACE_SID=missing, FLEX_WORKFLOW_SID=c.workflow)
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        local_configuration=(
            PASS,
            f"FLEX_WORKSPACE_SID={missing}, FLEX_WORKFLOW_SID={c.workflow}, HANDOVER_TOKEN=<redacted>, "
            f"TWILIO_STUDIO_HANDOFF_FLOW_SID={c.flow_sid} in .env",
            None,
        ),
        workspace_and_workflow=(
            FAIL,
            f"TaskRouter workspace {missing} does not exist in this account.",
            'Use the workspace of your Flex instance: Console > TaskRouter > Workspaces ("Flex Task Assignment"). '
            f"Then run handover env set --workspace-sid WS… --workflow-sid WW… --service-sid {c.service_sid}.",
        ),
        task_channel=(WARN, "not checked: the workspace or workflow is wrong", None),
        **{
            "hand-back events": (
                WARN,
                f"not checked: workspace {missing} (FLEX_WORKSPACE_SID on the environment) does not exist",
                None,
            )
        },
    )


@pytest.fixture
def other_workspace(emulator):
    """A second workspace, with a workflow and a chat channel; removed afterwards."""
    workspace = taskrouter.add_workspace(emulator, "Another team")
    workflow = taskrouter.add_workflow(emulator, workspace["sid"], "Their workflow")
    channel = taskrouter.add_task_channel(emulator, workspace["sid"], "chat")
    yield workspace["sid"], workflow["sid"]
    del emulator.table("workspaces")[workspace["sid"]]
    del emulator.table("workflows")[workflow["sid"]]
    del emulator.table("task_channels")[channel["sid"]]


def test_a_workflow_of_another_workspace(runner, configured, emulator, other_workspace):
    c, (workspace, workflow) = configured, other_workspace
    configure(emulator, c, FLEX_WORKSPACE_SID=c.workspace, FLEX_WORKFLOW_SID=workflow)
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        local_configuration=(
            PASS,
            f"FLEX_WORKSPACE_SID={c.workspace}, FLEX_WORKFLOW_SID={workflow}, HANDOVER_TOKEN=<redacted>, "
            f"TWILIO_STUDIO_HANDOFF_FLOW_SID={c.flow_sid} in .env",
            None,
        ),
        workspace_and_workflow=(
            FAIL,
            f"TaskRouter workflow {workflow} is not in workspace {c.workspace}: it belongs to workspace {workspace}.",
            f"Use a workflow of workspace {c.workspace}: Console > TaskRouter > Workspaces > {c.workspace} > "
            "Workflows. "
            f"Then run handover env set --workspace-sid WS… --workflow-sid WW… --service-sid {c.service_sid}.",
        ),
        task_channel=(WARN, "not checked: the workspace or workflow is wrong", None),
        studio_flow_routing=routes_elsewhere(c, workflow),
    )


def routes_elsewhere(c: Configured, workflow: str) -> tuple[str, str, str]:
    """The studio flow routing check when .env names another workflow than the deployed flow's."""
    return (
        FAIL,
        f"Send to Flex widget 'call_to_flex' routes to {c.workflow}; Send to Flex widget 'messaging_to_flex' routes "
        f"to {c.workflow}, not to FLEX_WORKFLOW_SID {workflow}",
        f"handover studio generate, then handover studio deploy --service-sid {c.service_sid}",
    )


def test_a_workspace_flex_does_not_route_through_is_a_warning(runner, configured, emulator, other_workspace):
    c, (workspace, workflow) = configured, other_workspace
    configure(emulator, c, FLEX_WORKSPACE_SID=workspace, FLEX_WORKFLOW_SID=workflow)
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        local_configuration=(
            PASS,
            f"FLEX_WORKSPACE_SID={workspace}, FLEX_WORKFLOW_SID={workflow}, HANDOVER_TOKEN=<redacted>, "
            f"TWILIO_STUDIO_HANDOFF_FLOW_SID={c.flow_sid} in .env",
            None,
        ),
        workspace_and_workflow=(
            WARN,
            f"workflow {workflow} is in workspace {workspace}, but Flex routes through workspace {c.workspace}",
            f"Unless you route to this workspace on purpose, run handover env set --workspace-sid {c.workspace} "
            f"--workflow-sid WW… --service-sid {c.service_sid}.",
        ),
        task_channel=(PASS, f"workspace {workspace} has task channel 'chat'", None),
        studio_flow_routing=routes_elsewhere(c, workflow),
        **{"hand-back events": not_wired(c, workspace)},
    )


def test_a_task_channel_the_workspace_does_not_have(runner, configured, emulator):
    c = configured
    configure(emulator, c, FLEX_WORKSPACE_SID=c.workspace, FLEX_WORKFLOW_SID=c.workflow, FLEX_TASK_CHANNEL="email")
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        local_configuration=(
            PASS,
            f"FLEX_WORKSPACE_SID={c.workspace}, FLEX_WORKFLOW_SID={c.workflow}, FLEX_TASK_CHANNEL=email, "
            f"HANDOVER_TOKEN=<redacted>, TWILIO_STUDIO_HANDOFF_FLOW_SID={c.flow_sid} in .env",
            None,
        ),
        task_channel=(
            FAIL,
            f"Workspace {c.workspace} has no task channel 'email' (it has: default, chat, sms, voice).",
            f"Run handover env set --workspace-sid {c.workspace} --workflow-sid {c.workflow} --task-channel <name> "
            f"--service-sid {c.service_sid} with one of those, or create "
            "the channel 'email' in Console > TaskRouter > Task Channels.",
        ),
        deployed_variables=(
            PASS,
            "FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID, FLEX_TASK_CHANNEL, HANDOVER_TOKEN, TWILIO_STUDIO_HANDOFF_FLOW_SID "
            "are set on the environment as in .env",
            None,
        ),
    )


# the project and its deployment


def redeploy(emulator, c: Configured, project: Path) -> None:
    deploy_build(emulator, c.service_sid, c.environment_sid, deployed_files(project))
    emulator.clear_traffic()


def test_a_hand_edited_generated_file(runner, configured, emulator):
    c = configured
    path = c.project / CONTRACT
    path.write_text(path.read_text(encoding="utf-8") + "// edited by hand\n", encoding="utf-8")
    redeploy(emulator, c, c.project)  # deployed as edited, so only the template check fails
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        generated_files=(FAIL, f"{CONTRACT} differ from their templates", "Run `handover generate`, then deploy."),
    )


def test_no_deployment_found(runner, configured, emulator):
    c = configured
    result = doctor(runner, c, service=False)
    no_deployment = "not checked: no deployment found"
    expect(
        result,
        c,
        emulator,
        deployment=(
            FAIL,
            "No deployed service found: no serviceSid in .twilioserverlessrc, "
            f"no .twiliodeployinfo, no service name. {DEPLOY_HINT}",
            DEPLOY_HINT,
        ),
        deployed_functions=(WARN, no_deployment, None),
        deployed_variables=(WARN, no_deployment, None),
        **{"hand-back events": (WARN, no_deployment, None)},
        assistant_tool=(
            WARN,
            f"not checked: assistant {c.assistant} exists, but no deployment was found to compare its tool with",
            None,
        ),
    )


def test_a_service_sid_that_does_not_exist(runner, configured, emulator):
    c, unknown = configured, "ZS" + "0" * 32
    result = invoke(runner, c.project, "doctor", "--assistant-id", c.assistant, "--service-sid", unknown)
    no_deployment = "not checked: no deployment found"
    expect(
        result,
        c,
        emulator,
        deployment=(FAIL, f"Service {unknown} does not exist in this account. {DEPLOY_HINT}", DEPLOY_HINT),
        deployed_functions=(WARN, no_deployment, None),
        deployed_variables=(WARN, no_deployment, None),
        **{"hand-back events": (WARN, no_deployment, None)},
        assistant_tool=(
            WARN,
            f"not checked: assistant {c.assistant} exists, but no deployment was found to compare its tool with",
            None,
        ),
    )


def test_an_environment_without_a_build(runner, configured, emulator):
    c = configured
    environment = emulator.table("serverless_environments")[c.environment_sid]
    environment["build_sid"] = None
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        deployed_functions=(FAIL, f"Environment {c.environment_sid} has no build deployed. {DEPLOY_FIX}", DEPLOY_FIX),
    )


def test_a_deployed_function_that_differs(runner, configured, emulator):
    c = configured
    path = c.project / FUNCTION
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "// deployed from another copy\n", encoding="utf-8")
    redeploy(emulator, c, c.project)
    path.write_text(original, encoding="utf-8")
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        deployed_functions=(FAIL, "function /tools/flex-handover differs from the deployed version", DEPLOY_FIX),
    )


def delete_variable(emulator, c: Configured, key: str) -> None:
    variables = emulator.table("serverless_variables")
    [sid] = [sid for sid, v in variables.items() if v["environment_sid"] == c.environment_sid and v["key"] == key]
    del variables[sid]


OTHER_WORKFLOW = "WW" + "1" * 32


@pytest.mark.parametrize("deployed_value", [None, OTHER_WORKFLOW], ids=["missing", "different"])
def test_a_deployed_variable_missing_or_other_than_dotenv(runner, configured, emulator, deployed_value):
    c = configured
    if deployed_value is None:
        delete_variable(emulator, c, "FLEX_WORKFLOW_SID")
    else:
        set_variable(emulator, c.service_sid, c.environment_sid, "FLEX_WORKFLOW_SID", deployed_value)
    result = doctor(runner, c)
    there = "not set" if deployed_value is None else repr(deployed_value)
    expect(
        result,
        c,
        emulator,
        deployed_variables=(
            FAIL,
            f"FLEX_WORKFLOW_SID is {there} there, .env has {c.workflow!r}",
            f"handover env set --workspace-sid {c.workspace} --workflow-sid "
            f"{c.workflow} --remote-only --service-sid {c.service_sid}",
        ),
    )


def test_the_fix_names_the_environment_doctor_checked(runner, configured, emulator):
    c = configured
    stage = add_environment(emulator, c.service_sid, "stage")
    deploy_build(emulator, c.service_sid, stage["sid"], deployed_files(c.project))
    emulator.clear_traffic()
    result = doctor(runner, c, "--environment", "stage", "--json", assistant=False)
    checks = {check["check"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["deployed variables"] == {
        "check": "deployed variables",
        "status": FAIL,
        "detail": (
            f"FLEX_WORKSPACE_SID is not set there, .env has {c.workspace!r}; FLEX_WORKFLOW_SID is not set there, .env "
            f"has {c.workflow!r}; "
            f"HANDOVER_TOKEN is not set there; TWILIO_STUDIO_HANDOFF_FLOW_SID is not set there, .env has {c.flow_sid!r}"
        ),
        "fix": (
            f"handover env set --workspace-sid {c.workspace} --workflow-sid {c.workflow} --remote-only --service-sid "
            f"{c.service_sid} --environment stage; "
            f"then handover studio deploy --service-sid {c.service_sid} --environment stage"
        ),
    }
    assert (
        checks["deployment"]["detail"]
        == f"service {c.service_sid} (found by --service-sid); environment {stage['sid']} at https://{stage['domain_name']}"
    )
    assert result.exit_code == 1
    assert writes(emulator) == []


# the handover token


def test_dotenv_without_the_token_fails_with_the_env_set_of_its_values(runner, configured, emulator):
    c = configured
    write_env(c, f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\n")
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        local_configuration=(
            FAIL,
            "HANDOVER_TOKEN is not set in .env",
            f"handover env set --workspace-sid {c.workspace} --workflow-sid {c.workflow} --service-sid {c.service_sid}",
        ),
        deployed_variables=(WARN, "not checked: the local configuration is incomplete", None),
    )


def test_a_malformed_token_in_dotenv_fails_without_showing_it(runner, configured, emulator):
    c, malformed = configured, "not-a-token-but-still-secret"
    write_env(c, f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={malformed}\n")
    result = doctor(runner, c, "--json")
    checks = {check["check"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["local configuration"] == {
        "check": "local configuration",
        "status": FAIL,
        "detail": f"HANDOVER_TOKEN in .env is not {TOKEN_EXPECTED}",
        "fix": (
            f"handover env set --workspace-sid {c.workspace} --workflow-sid {c.workflow} --service-sid {c.service_sid}"
        ),
    }
    assert result.exit_code == 1
    assert malformed not in result.output and c.token not in result.output


MALFORMED_TOKEN = "short-and-secret"


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        pytest.param(
            lambda emulator, c: delete_variable(emulator, c, "HANDOVER_TOKEN"),
            "HANDOVER_TOKEN is not set there",
            id="missing",
        ),
        pytest.param(
            lambda emulator, c: set_variable(
                emulator, c.service_sid, c.environment_sid, "HANDOVER_TOKEN", MALFORMED_TOKEN
            ),
            f"HANDOVER_TOKEN there is not {TOKEN_EXPECTED}",
            id="malformed",
        ),
    ],
)
def test_a_deployed_token_missing_or_malformed_fails_the_variables_and_leaves_the_tool_unchecked(
    runner, configured, emulator, change, detail
):
    c = configured
    change(emulator, c)
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        deployed_variables=(
            FAIL,
            detail,
            f"handover env set --workspace-sid {c.workspace} --workflow-sid "
            f"{c.workflow} --remote-only --service-sid {c.service_sid}",
        ),
        assistant_tool=(
            WARN,
            f"not checked: environment {c.environment_sid} has no valid HANDOVER_TOKEN to compare its tool's with",
            None,
        ),
    )
    assert MALFORMED_TOKEN not in result.output


def test_a_deployed_token_other_than_dotenvs_is_fixed_from_the_environment(runner, configured, emulator):
    """The deployed token wins (the tool URL carries it), so the fix writes .env, not --remote-only."""
    c, other = configured, "O" * 43
    write_env(c, f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={other}\n")
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        deployed_variables=(
            FAIL,
            "HANDOVER_TOKEN differs from .env",
            f"handover env set --workspace-sid {c.workspace} --workflow-sid {c.workflow} --service-sid {c.service_sid}",
        ),
    )
    assert other not in result.output


def test_a_rotated_token_fails_the_tool_until_it_is_registered_again(runner, configured, emulator):
    c = configured
    rotate = invoke(
        runner,
        c.project,
        "env",
        "set",
        "--workspace-sid",
        c.workspace,
        "--workflow-sid",
        c.workflow,
        "--service-sid",
        c.service_sid,
        "--rotate-token",
        "--no-verify",
    )
    assert rotate.exit_code == 0, rotate.output
    rotated = dotenv_values(c.project / ".env")["HANDOVER_TOKEN"]
    emulator.table("assistant_tools")[c.tool_id]["name"] = (
        "Renamed in the Console"  # found by its URL without the token
    )
    emulator.clear_traffic()
    result = doctor(runner, c)
    expect_tool_fails(
        result,
        c,
        emulator,
        f"tool {c.tool_id} (Renamed in the Console): its URL's token is not the environment's HANDOVER_TOKEN",
    )
    assert rotated not in result.output
    register = invoke(
        runner,
        c.project,
        "tool",
        "register",
        "--assistant-id",
        c.assistant,
        "--service-sid",
        c.service_sid,
        "--name",
        "Renamed in the Console",
    )
    assert register.exit_code == 0, register.output
    emulator.clear_traffic()
    again = doctor(runner, c)
    assert report(again.stdout)[-4 - len(TAC_NAMES)] == (
        "assistant tool",
        PASS,
        f"tool {c.tool_id} (Renamed in the Console) is attached to {c.assistant} and POSTs to {c.url} with the "
        "environment's HANDOVER_TOKEN",
        None,
    )
    assert again.exit_code == 0, again.output
    assert rotated not in again.output


def test_doctor_json_never_shows_the_token(runner, configured, emulator):
    result = doctor(runner, configured, "--json")
    assert result.exit_code == 0, result.output
    assert configured.token not in result.output
    assert configured.token in (configured.project / ".env").read_text(encoding="utf-8")


# the assistant's tool


def test_without_an_assistant_id_the_tool_is_a_warning(runner, configured, emulator):
    result = doctor(runner, configured, assistant=False)
    expect(
        result,
        configured,
        emulator,
        exit_code=0,
        assistant_tool=(
            WARN,
            "not checked: no --assistant-id given",
            "Pass --assistant-id aia_asst_… to check the AI Assistant's tool.",
        ),
    )
    assert result.stderr == "No check failed; see the warnings.\n"
    assert not any(r.host.startswith("assistants.") for r in emulator.requests)


def test_an_unknown_assistant(runner, configured, emulator):
    c = configured
    result = invoke(runner, c.project, "doctor", "--assistant-id", UNKNOWN_ASSISTANT, "--service-sid", c.service_sid)
    expect(
        result,
        c,
        emulator,
        assistant_tool=(
            FAIL,
            f"Assistant {UNKNOWN_ASSISTANT} does not exist in account {emulator.account.sid}. Copy its ID (aia_asst_…) "
            "from Console > AI Assistants.",
            "Pass the ID of an existing assistant (Console > AI Assistants).",
        ),
    )


def test_an_assistant_without_the_tool(runner, configured, emulator):
    c = configured
    other = add_assistant(emulator, "Sales")["id"]
    result = invoke(runner, c.project, "doctor", "--assistant-id", other, "--service-sid", c.service_sid)
    expect(
        result,
        c,
        emulator,
        assistant_tool=(
            FAIL,
            f"no tool of assistant {other} calls {c.url}",
            f"handover tool register --assistant-id {other} --service-sid {c.service_sid}",
        ),
    )


def test_a_tool_with_another_url(runner, configured, emulator):
    c = configured
    elsewhere = f"https://elsewhere.example.com/{c.assistant}/tools/flex-handover"
    registered = invoke(runner, c.project, "tool", "register", "--assistant-id", c.assistant, "--url", elsewhere)
    assert registered.exit_code == 0, registered.output
    emulator.clear_traffic()
    result = doctor(runner, c)
    expect_tool_fails(
        result,
        c,
        emulator,
        f"tool {c.tool_id} (Flex Agent Handover): its URL is {elsewhere}?token=<redacted>, not {c.url}",
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        pytest.param(
            lambda tool, c: tool.update(meta={**tool["meta"], "method": "GET"}), "its method is GET, not POST", id="GET"
        ),
        pytest.param(lambda tool, c: tool.update(enabled=False), "it is disabled", id="disabled"),
        pytest.param(
            lambda tool, c: tool.update(meta={**tool["meta"], "url": c.url}),
            "its URL carries no handover token",
            id="no-token",
        ),
    ],
)
def test_a_tool_that_would_not_be_called_right(runner, configured, emulator, change, problem):
    c = configured
    change(emulator.table("assistant_tools")[c.tool_id], c)
    result = doctor(runner, c)
    expect_tool_fails(result, c, emulator, f"tool {c.tool_id} (Flex Agent Handover): {problem}")


@pytest.mark.parametrize("status", [410, 404])
def test_a_retired_assistants_api(runner, configured, emulator, status):
    emulator.inject(Fault("GET", "/v1/Assistants", status=status, times=None))
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        assistant_tool=(
            FAIL,
            f"The AI Assistants API answered HTTP {status} for account {emulator.account.sid}: AI Assistants (a "
            "Developer Preview, retired by Twilio in July 2026) appears retired for this account. Hand off through a "
            "Studio flow instead, as Twilio "
            'Agent Connect does: see the README, section "AI Assistants retired: the Studio path".',
            "Hand off through the Studio path (see the README).",
        ),
    )


# an unexpected error fails its check, and the others still run


def test_a_twilio_500_fails_its_check_and_the_others_run(runner, configured, emulator, no_retry_wait):
    c = configured
    emulator.inject(Fault("GET", "/v1/Configuration", status=500, times=None))
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        flex=(
            FAIL,
            "Twilio answered HTTP 500, Twilio error 20500: Unable to fetch record: Injected fault 500",
            RETRY_FIX,
        ),
        flex_plugin=(WARN, "not checked: the flex check failed", None),
    )
    assert len([r for r in emulator.requests if r.path == "/v1/Configuration"]) == 1 + credentials.RETRIES


def test_a_500_on_a_list_fails_its_check(runner, configured, emulator, no_retry_wait):
    c = configured
    emulator.inject(Fault("GET", f"/v1/Workspaces/{c.workspace}/TaskChannels", status=500, times=None))
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        task_channel=(
            FAIL,
            "Twilio answered HTTP 500, Twilio error 20500: Unable to fetch page: Injected fault 500",
            RETRY_FIX,
        ),
    )


def test_a_500_in_the_first_check_of_two_skips_the_second(runner, configured, emulator, no_retry_wait):
    c = configured
    emulator.inject(Fault("GET", f"/v1/Workspaces/{c.workspace}", status=500, times=None))
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        workspace_and_workflow=(
            FAIL,
            "Twilio answered HTTP 500, Twilio error 20500: Unable to fetch record: Injected fault 500",
            RETRY_FIX,
        ),
        task_channel=(WARN, "not checked: the workspace and workflow check failed", None),
        # The hand-back's read of the workspace meets the same 500: an unexpected error fails the check it happens in.
        **{
            "hand-back events": (
                FAIL,
                "Twilio answered HTTP 500, Twilio error 20500: Unable to fetch record: Injected fault 500",
                RETRY_FIX,
            )
        },
    )


def test_an_assistants_500_fails_the_tool_check(runner, configured, emulator, no_retry_wait):
    c = configured
    emulator.inject(Fault("GET", f"/v1/Assistants/{c.assistant}/Tools", status=500, times=None))
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        assistant_tool=(
            FAIL,
            f"GET https://assistants.twilio.com/v1/Assistants/{c.assistant}/Tools failed: HTTP 500: Injected fault 500",
            RETRY_FIX,
        ),
    )


def test_a_503_on_the_variables_fails_that_check_only(runner, configured, emulator, no_retry_wait):
    c = configured
    emulator.inject(
        Fault("GET", f"/v1/Services/{c.service_sid}/Environments/{c.environment_sid}/Variables", status=503, times=None)
    )
    result = doctor(runner, c, "--json")
    checks = json.loads(result.stdout)["checks"]
    assert checks[8:12] == [
        {
            "check": "deployed variables",
            "status": FAIL,
            "detail": "Twilio answered HTTP 503, Twilio error 20503: Unable to fetch page: Injected fault 503",
            "fix": RETRY_FIX,
        },
        {
            "check": "sync claim maps",
            "status": WARN,
            "detail": "not checked: the deployed variables check failed",
            "fix": None,
        },
        {
            "check": "hand-back events",
            "status": WARN,
            "detail": "not checked: the deployed variables check failed",
            "fix": None,
        },
        {
            "check": "assistant tool",
            "status": WARN,
            "detail": "not checked: the deployed variables check failed",
            "fix": None,
        },
    ]
    assert checks[12] == {
        "check": "flex plugin",
        **dict(zip(("status", "detail", "fix"), NO_PLUGIN_RELEASE, strict=True)),
    }
    assert [check["status"] for check in checks] == [PASS] * 8 + [FAIL, WARN, WARN, WARN, WARN, PASS, PASS] + [WARN] * 5
    assert result.exit_code == 1


# input


def test_a_malformed_assistant_id_is_a_usage_error(runner, account_env, emulator, project):
    result = invoke(runner, project, "doctor", "--assistant-id", "asst_1")
    assert result.exit_code == 2
    assert "'asst_1' is not an AI Assistant ID" in result.stderr
    assert emulator.requests == []


# the Studio path


def studio_deploy_fix(c: Configured) -> str:
    return f"handover studio deploy --service-sid {c.service_sid}"


def test_without_a_studio_flow_the_studio_checks_are_warnings(runner, configured, emulator):
    c = configured
    (c.project / ".env").write_text(
        f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={c.token}\n",
        encoding="utf-8",
    )
    emulator.table("serverless_variables").pop(
        next(
            sid
            for sid, v in emulator.table("serverless_variables").items()
            if v["environment_sid"] == c.environment_sid and v["key"] == "TWILIO_STUDIO_HANDOFF_FLOW_SID"
        )
    )
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        exit_code=0,
        local_configuration=(
            PASS,
            f"FLEX_WORKSPACE_SID={c.workspace}, FLEX_WORKFLOW_SID={c.workflow}, HANDOVER_TOKEN=<redacted> in .env",
            None,
        ),
        deployed_variables=(
            PASS,
            "FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID, HANDOVER_TOKEN are set on the environment as in .env",
            None,
        ),
        studio_flow=(
            WARN,
            "not checked: TWILIO_STUDIO_HANDOFF_FLOW_SID is not set in .env (only the Studio path needs it)",
            studio_deploy_fix(c),
        ),
        studio_flow_routing=(WARN, "not checked: no Studio flow to check", None),
    )
    assert result.stderr == "No check failed; see the warnings.\n"


def test_a_studio_flow_that_does_not_exist(runner, configured, emulator):
    c = configured
    emulator.table("studio_flows").pop(c.flow_sid)
    expect(
        doctor(runner, c),
        c,
        emulator,
        studio_flow=(
            FAIL,
            f"Studio flow {c.flow_sid} (TWILIO_STUDIO_HANDOFF_FLOW_SID in .env) does not exist in this account",
            studio_deploy_fix(c),
        ),
        studio_flow_routing=(WARN, "not checked: the flow does not exist", None),
    )


def test_a_draft_studio_flow(runner, configured, emulator):
    c = configured
    emulator.table("studio_flows")[c.flow_sid]["status"] = "draft"
    expect(
        doctor(runner, c),
        c,
        emulator,
        studio_flow=(
            FAIL,
            f"Studio flow {c.flow_sid} ('Agent Handoff {c.service_sid}') "
            "is a draft: executions run only a published flow",
            studio_deploy_fix(c),
        ),
    )


def test_a_studio_flow_that_routes_to_another_workflow(runner, configured, emulator):
    c = configured
    other_workflow = "WW" + "7" * 32
    flow = emulator.table("studio_flows")[c.flow_sid]["definition"]
    next(state for state in flow["states"] if state["name"] == "messaging_to_flex")["properties"]["workflow"] = (
        other_workflow
    )
    expect(
        doctor(runner, c),
        c,
        emulator,
        studio_flow_routing=(
            FAIL,
            f"Send to Flex widget 'messaging_to_flex' routes to {other_workflow}, "
            f"not to FLEX_WORKFLOW_SID {c.workflow}",
            f"handover studio generate, then {studio_deploy_fix(c)}",
        ),
    )


# the Sync claim Maps


def env_set_fix(c: Configured) -> str:
    return (
        f"handover env set --workspace-sid WS… --workflow-sid WW… [--task-channel <name>] --service-sid {c.service_sid}"
    )


def sync_service_fix(c: Configured) -> str:
    return (
        "Set SYNC_SERVICE_SID to the IS SID of one of the account's Sync services (Console > Sync > Services), or "
        "remove it to use the "
        "account's default Sync service. Change it in .env and deploy (`twilio serverless:deploy` uploads .env's "
        "variables), then run "
        f"{env_set_fix(c)} to create the claim Maps."
    )


def test_missing_claim_maps_are_a_warning_that_env_set_fixes(runner, configured, emulator, sync_service):
    c = configured
    missing = ["handover-claims-02", "handover-claims-07", "handover-claims-15"]
    add_maps(emulator, sync_service, [name for name in contract.CLAIM_MAPS if name not in missing])
    set_variable(emulator, c.service_sid, c.environment_sid, "SYNC_SERVICE_SID", sync_service)
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        exit_code=0,
        sync_claim_maps=(
            WARN,
            f"3 of the 16 claim Maps are missing from Sync service {sync_service} (SYNC_SERVICE_SID on the "
            "environment): handover-claims-02, handover-claims-07, handover-claims-15. The function creates a "
            "missing one on its first handoff, but a burst of first "
            "handoffs can exceed Sync's 20 new objects a second",
            f"Run {env_set_fix(c)} to create them.",
        ),
    )
    assert result.stderr == "No check failed; see the warnings.\n"
    assert [(r.method, r.path) for r in emulator.requests if r.host == "sync.twilio.com"] == [
        ("GET", f"/v1/Services/{sync_service}/Maps")
    ]

    fixed = invoke(
        runner,
        c.project,
        "env",
        "set",
        "--workspace-sid",
        c.workspace,
        "--workflow-sid",
        c.workflow,
        "--service-sid",
        c.service_sid,
    )
    assert fixed.exit_code == 0, fixed.output
    emulator.clear_traffic()
    expect(
        doctor(runner, c),
        c,
        emulator,
        exit_code=0,
        sync_claim_maps=(
            PASS,
            f"{ALL_CLAIM_MAPS} exist in Sync service {sync_service} (SYNC_SERVICE_SID on the environment)",
            None,
        ),
    )


def test_a_sync_service_without_any_claim_map(runner, configured, emulator, sync_service):
    c = configured
    write_env(
        c,
        f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={c.token}\nSYNC_SERVICE_SID={sync_service}\n",
    )
    set_variable(emulator, c.service_sid, c.environment_sid, "SYNC_SERVICE_SID", sync_service)
    result = doctor(runner, c, "--json")
    assert result.exit_code == 0, result.output
    [check] = [check for check in json.loads(result.stdout)["checks"] if check["check"] == "sync claim maps"]
    assert check["status"] == WARN
    assert check["detail"].startswith(
        f"16 of the 16 claim Maps are missing from Sync service {sync_service} (SYNC_SERVICE_SID on the environment): "
    )


def test_without_a_deployment_the_sync_service_of_dotenv_is_checked(runner, configured, emulator, sync_service):
    c = configured
    add_maps(emulator, sync_service, contract.CLAIM_MAPS)
    write_env(
        c,
        f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={c.token}\nSYNC_SERVICE_SID={sync_service}\n",
    )
    result = doctor(runner, c, "--service-sid", "ZS" + "0" * 32, service=False)
    [line] = [
        line for line in result.stdout.splitlines() if line.startswith(("PASS  sync", "WARN  sync", "FAIL  sync"))
    ]
    assert (
        line
        == f"PASS  sync claim maps: {ALL_CLAIM_MAPS} exist in Sync service {sync_service} (SYNC_SERVICE_SID in .env)"
    )
    assert writes(emulator) == []


def test_a_sync_service_that_does_not_exist_fails(runner, configured, emulator):
    c = configured
    missing = "IS" + "0" * 32
    set_variable(emulator, c.service_sid, c.environment_sid, "SYNC_SERVICE_SID", missing)
    expect(
        doctor(runner, c),
        c,
        emulator,
        sync_claim_maps=(
            FAIL,
            f"Sync service {missing} (SYNC_SERVICE_SID on the environment) does not exist in this account: no handoff "
            "can claim a conversation",
            sync_service_fix(c),
        ),
    )


def test_a_malformed_deployed_sync_service_fails(runner, configured, emulator):
    c = configured
    set_variable(emulator, c.service_sid, c.environment_sid, "SYNC_SERVICE_SID", "my-sync")
    expect(
        doctor(runner, c),
        c,
        emulator,
        sync_claim_maps=(
            FAIL,
            "SYNC_SERVICE_SID on the environment is 'my-sync', not IS followed by 32 hex characters, or default: "
            "the function answers every call with HTTP 500",
            sync_service_fix(c),
        ),
    )
    assert not any(r.host == "sync.twilio.com" for r in emulator.requests)


def test_a_malformed_sync_service_in_dotenv_fails_the_local_configuration_only(runner, configured, emulator):
    c = configured
    write_env(
        c,
        f"FLEX_WORKSPACE_SID={c.workspace}\nFLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={c.token}\nSYNC_SERVICE_SID=my-sync\n",
    )
    checks = {name: (status, detail) for name, status, detail, _ in report(doctor(runner, c).stdout)}
    assert checks["local configuration"] == (
        FAIL,
        "SYNC_SERVICE_SID in .env is not IS followed by 32 hex characters, or default",
    )
    assert checks["sync claim maps"] == (
        WARN,
        "not checked: SYNC_SERVICE_SID in .env is not IS followed by 32 hex characters, or default",
    )
    assert not any(r.host == "sync.twilio.com" for r in emulator.requests)


def test_a_500_on_the_maps_fails_that_check_only(runner, configured, emulator, no_retry_wait):
    c = configured
    emulator.inject(Fault("GET", "/v1/Services/default/Maps", status=500, times=None))
    expect(
        doctor(runner, c),
        c,
        emulator,
        sync_claim_maps=(
            FAIL,
            "Twilio answered HTTP 500, Twilio error 20500: Unable to fetch page: Injected fault 500",
            RETRY_FIX,
        ),
    )


# the hand-back's events

HANDBACK_FILTER = "task.wrapup,task.completed,task.canceled"


@pytest.fixture
def flex_callback(configured, emulator):
    """Sets the Flex workspace's event callback (url, events filter); as it was again after the test, since the
    session's tests share the workspace."""
    held = emulator.table("workspaces")[configured.workspace]
    before = {"event_callback_url": held["event_callback_url"], "events_filter": held["events_filter"]}

    def set_callback(url: str | None, events_filter: str | None) -> None:
        with emulator.lock:
            held.update(event_callback_url=url, events_filter=events_filter)

    yield set_callback
    with emulator.lock:
        held.update(before)


def task_events(c: Configured) -> str:
    return f"https://{c.domain_name}/lifecycle/task-events"


def test_the_hand_back_wired_by_handback_wire_passes(runner, configured, emulator, flex_callback):
    c = configured
    wired = invoke(runner, c.project, "handback", "wire", "--service-sid", c.service_sid)
    assert wired.exit_code == 0, wired.output
    emulator.clear_traffic()
    expect(
        doctor(runner, c),
        c,
        emulator,
        exit_code=0,
        **{
            "hand-back events": (
                PASS,
                f"workspace {c.workspace} sends task.wrapup, task.completed and task.canceled to {task_events(c)}",
                None,
            )
        },
    )


def test_our_url_without_a_filter_passes_as_every_event_is_sent(runner, configured, emulator, flex_callback):
    c = configured
    flex_callback(task_events(c), None)
    expect(
        doctor(runner, c),
        c,
        emulator,
        exit_code=0,
        **{
            "hand-back events": (
                PASS,
                f"workspace {c.workspace} sends every event (no EventsFilter) to {task_events(c)}",
                None,
            )
        },
    )


def test_another_url_is_a_warning_naming_it_without_its_query(runner, configured, emulator, flex_callback):
    c = configured
    flex_callback("https://hooks.example.com/taskrouter?token=s3cret-in-the-query", "worker.activity.update")
    result = doctor(runner, c)
    expect(
        result,
        c,
        emulator,
        exit_code=0,
        **{
            "hand-back events": (
                WARN,
                f"workspace {c.workspace} sends its events to https://hooks.example.com/taskrouter, not "
                f"{task_events(c)}: a task's end hands the customer back to the AI only if that URL forwards it",
                f"handover handback wire --service-sid {c.service_sid} --replace, or have "
                "https://hooks.example.com/taskrouter forward task.wrapup, task.completed and task.canceled to "
                f"{task_events(c)}, re-signed with the account's auth token",
            )
        },
    )
    assert "s3cret-in-the-query" not in result.output


def test_a_filter_that_leaves_events_out_is_a_warning(runner, configured, emulator, flex_callback):
    c = configured
    flex_callback(task_events(c), "task.created,task.completed")
    expect(
        doctor(runner, c),
        c,
        emulator,
        exit_code=0,
        **{
            "hand-back events": (
                WARN,
                f"workspace {c.workspace} sends {task_events(c)} only task.created,task.completed: no task.wrapup "
                "and task.canceled event hands the customer back to the AI",
                f"handover handback wire --service-sid {c.service_sid}",
            )
        },
    )


def test_the_hand_back_is_not_checked_without_a_workspace(runner, configured, emulator):
    c = configured
    with emulator.lock:
        variables = emulator.table("serverless_variables")
        [sid] = [
            sid
            for sid, v in variables.items()
            if v["environment_sid"] == c.environment_sid and v["key"] == "FLEX_WORKSPACE_SID"
        ]
        del variables[sid]
    write_env(c, f"FLEX_WORKFLOW_SID={c.workflow}\nHANDOVER_TOKEN={c.token}\n")
    checks = {name: (status, detail, fix) for name, status, detail, fix in report(doctor(runner, c).stdout)}
    assert checks["hand-back events"] == (
        WARN,
        "not checked: no well-formed FLEX_WORKSPACE_SID on the environment or in .env",
        None,
    )
    assert not any(r.path == f"/v1/Workspaces/{c.workspace}" for r in emulator.requests)


def test_a_build_on_a_runtime_whose_retirement_twilio_announced_is_a_warning(runner, configured, emulator, monkeypatch):
    from handover import runtimes
    from tests.handover.test_runtimes import ANNOUNCED

    monkeypatch.setattr(runtimes, "RUNTIMES", ANNOUNCED)
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        exit_code=0,
        deployed_functions=(
            WARN,
            "the build serves the local functions and assets, on node22, but Twilio retires node22 on 2099-01-01 (an "
            "announcement): from then a deploy on it fails",
            'Set "runtime": "node24" in .twilioserverlessrc, then deploy again (`twilio serverless:deploy`): Twilio '
            "builds on the runtime a deploy names.",
        ),
    )


def test_a_build_on_a_retired_runtime_fails_naming_the_retirement(runner, configured, emulator):
    build_sid = emulator.table("serverless_environments")[configured.environment_sid]["build_sid"]
    emulator.table("serverless_builds")[build_sid]["runtime"] = "node18"  # deployed before Twilio retired it
    result = doctor(runner, configured)
    expect(
        result,
        configured,
        emulator,
        deployed_functions=(
            FAIL,
            "build runtime is node18, not the node22 of .twilioserverlessrc (Twilio retired node18 on 2025-11-10 "
            "(Twilio's changelog of 2025-05-29): a deploy on it fails with 82007 (Unsupported Runtime); what is "
            "deployed on it runs until it is changed)",
            DEPLOY_FIX,
        ),
    )
