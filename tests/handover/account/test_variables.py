"""`handover env set` end to end against the emulator, and how it compares with .env."""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from handover import contract
from handover.account import credentials, tokens, variables
from handover.cli import cli
from tests.handover.conftest import add_maps, writes
from twilio_emulator import Fault, set_variable
from twilio_emulator.products import taskrouter

MISSING_WORKSPACE = "WS" + "0" * 32
MISSING_WORKFLOW = "WW" + "0" * 32
OLD_WORKFLOW = "WW" + "1" * 32
ENV_BEFORE = "# mine\nOTHER=kept\n"
TOKEN_A = "a" * 43
TOKEN_B = "B-" + "b" * 41
USAGE = "Usage: cli env set [OPTIONS]\nTry 'cli env set -h' for help.\n\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def handover_tokens(emulator, project: Path) -> set[str]:
    """Every valid handover token .env or any emulated environment holds."""
    values = {v["value"] for v in emulator.table("serverless_variables").values() if v["key"] == "HANDOVER_TOKEN"}
    values.add(dotenv_values(project / ".env").get("HANDOVER_TOKEN") if (project / ".env").exists() else None)
    return {value for value in values if tokens.valid(value)}


@pytest.fixture
def env_set(runner, twilio, project):
    """Run `handover env set` on the project copy; no run may print the auth token or an API key's secret,
    nor (without --show-secrets) a handover token it found or made."""

    def run(*args: str):
        before = handover_tokens(twilio.emulator, project)
        result = runner.invoke(cli, ["--project-dir", str(project), "env", "set", *args], catch_exceptions=False)
        secrets = {twilio.emulator.account.auth_token, *twilio.emulator.account.api_keys.values()}
        if "--show-secrets" not in args:
            secrets |= before | handover_tokens(twilio.emulator, project)
        for secret in secrets:
            assert secret not in result.stdout and secret not in result.stderr
        return result

    return run


@pytest.fixture
def sids(twilio) -> list[str]:
    return ["--workspace-sid", twilio.account.workspace_sid, "--workflow-sid", twilio.account.workflow_sid]


@pytest.fixture
def other_workflow(twilio):
    """A second workflow of the Flex workspace, gone again after the test."""
    with twilio.emulator.lock:
        workflow = taskrouter.add_workflow(twilio.emulator, twilio.account.workspace_sid, "Assign to Sales")
    yield workflow["sid"]
    twilio.emulator.table("workflows").pop(workflow["sid"])


@pytest.fixture
def other_workspace(twilio):
    """Another workspace with a workflow of its own, gone again after the test: (workspace SID, workflow SID)."""
    emulator = twilio.emulator
    with emulator.lock:
        workspace = taskrouter.add_workspace(emulator, "Another Workspace")
        workflow = taskrouter.add_workflow(emulator, workspace["sid"], "Its Workflow")
    yield workspace["sid"], workflow["sid"]
    emulator.table("workflows").pop(workflow["sid"])
    emulator.table("workspaces").pop(workspace["sid"])


def variables_path(deployed) -> str:
    return f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables"


def remote(emulator, deployed) -> dict[str, str]:
    """The deployed environment's variables, key → value, as the emulator holds them."""
    return {
        v["key"]: v["value"]
        for v in emulator.table("serverless_variables").values()
        if v["environment_sid"] == deployed.environment_sid
    }


def variable_sid(emulator, deployed, key: str) -> str:
    return next(
        v["sid"]
        for v in emulator.table("serverless_variables").values()
        if v["environment_sid"] == deployed.environment_sid and v["key"] == key
    )


def notes(emulator, deployed, via: str = "auth token") -> list[str]:
    """The notes on stderr before the result: the credentials, the service and the environment."""
    return [
        f"Using account {emulator.account.sid} ({via}, from the environment).",
        f"Using service {deployed.service_sid} (found by --service-sid).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
    ]


# The claim Maps line of a run in the default Sync service, which the session's account has all 16 of.
CLAIM_MAPS_THERE = "handover-claims-*   Sync service default: unchanged (16 of 16 already there)"


def lines(deployed, *rows: tuple[str, str, str], claim_maps: tuple[str, ...] = (CLAIM_MAPS_THERE,)) -> list[str]:
    """The variables' lines of a run on both sides, then its claim Maps' lines."""
    return [
        f"{key:<18}  .env: {local}  environment {deployed.domain_name}: {remote_action}"
        for key, local, remote_action in rows
    ] + list(claim_maps)


def read_env(project: Path) -> str | None:
    path = project / ".env"
    return path.read_text(encoding="utf-8") if path.exists() else None


def local_token(project: Path) -> str:
    return dotenv_values(project / ".env")["HANDOVER_TOKEN"]


def remote_token(emulator, deployed) -> str:
    return remote(emulator, deployed)["HANDOVER_TOKEN"]


# The first run, a second identical one, a changed one -----------------------------------------------


def test_first_run_creates_the_variables_and_a_new_token_on_both_sides(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "created", "created"),
        ("FLEX_WORKFLOW_SID", "created", "created"),
        ("HANDOVER_TOKEN", "created", "created"),
    )
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "6 write(s)."]
    path = variables_path(deployed)
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Workspaces/{ws}"),
        ("GET", f"/v1/Workspaces/{ws}/Workflows/{ww}"),
        ("GET", f"/v1/Workspaces/{ws}/TaskChannels"),
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", path),
        ("GET", "/v1/Services/default/Maps"),
        ("POST", path),
        ("POST", path),
        ("POST", path),
    ]
    token = remote_token(emulator, deployed)
    assert tokens.valid(token) == token and len(token) == 43  # 32 random bytes, URL-safe
    assert writes(emulator) == [
        ("POST", path, {"Key": "FLEX_WORKSPACE_SID", "Value": ws}),
        ("POST", path, {"Key": "FLEX_WORKFLOW_SID", "Value": ww}),
        ("POST", path, {"Key": "HANDOVER_TOKEN", "Value": token}),
    ]
    assert remote(emulator, deployed) == {"FLEX_WORKSPACE_SID": ws, "FLEX_WORKFLOW_SID": ww, "HANDOVER_TOKEN": token}
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\nHANDOVER_TOKEN={token}\n"


def test_a_second_identical_run_writes_nothing_and_keeps_the_token(
    env_set, emulator, account_env, project, deployed, sids
):
    assert env_set(*sids, "--service-sid", deployed.service_sid).exit_code == 0
    written, token = read_env(project), remote_token(emulator, deployed)
    emulator.clear_traffic()
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"),
        ("FLEX_WORKFLOW_SID", "unchanged", "unchanged"),
        ("HANDOVER_TOKEN", "unchanged", "unchanged"),
    )
    assert result.stderr.splitlines() == [
        *notes(emulator, deployed),
        "Everything was already set; nothing was written.",
    ]
    assert writes(emulator) == []
    assert read_env(project) == written
    assert remote_token(emulator, deployed) == token


def test_a_changed_workflow_is_one_update_on_each_side(
    env_set, emulator, account_env, twilio, project, deployed, sids, other_workflow
):
    ws = twilio.account.workspace_sid
    assert env_set(*sids, "--service-sid", deployed.service_sid).exit_code == 0
    zv, token = variable_sid(emulator, deployed, "FLEX_WORKFLOW_SID"), remote_token(emulator, deployed)
    emulator.clear_traffic()
    result = env_set("--workspace-sid", ws, "--workflow-sid", other_workflow, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"),
        ("FLEX_WORKFLOW_SID", "updated", "updated"),
        ("HANDOVER_TOKEN", "unchanged", "unchanged"),
    )
    assert result.stderr.splitlines()[-1] == "2 write(s)."
    assert writes(emulator) == [("POST", f"{variables_path(deployed)}/{zv}", {"Value": other_workflow})]
    assert remote(emulator, deployed) == {
        "FLEX_WORKSPACE_SID": ws,
        "FLEX_WORKFLOW_SID": other_workflow,
        "HANDOVER_TOKEN": token,
    }
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={other_workflow}\nHANDOVER_TOKEN={token}\n"


def test_task_channel_adds_flex_task_channel(env_set, emulator, account_env, twilio, project, deployed, sids):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--task-channel", "sms", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "created", "created"),
        ("FLEX_WORKFLOW_SID", "created", "created"),
        ("FLEX_TASK_CHANNEL", "created", "created"),
        ("HANDOVER_TOKEN", "created", "created"),
    )
    assert result.stderr.splitlines()[-1] == "8 write(s)."
    path, token = variables_path(deployed), remote_token(emulator, deployed)
    assert writes(emulator) == [
        ("POST", path, {"Key": "FLEX_WORKSPACE_SID", "Value": ws}),
        ("POST", path, {"Key": "FLEX_WORKFLOW_SID", "Value": ww}),
        ("POST", path, {"Key": "FLEX_TASK_CHANNEL", "Value": "sms"}),
        ("POST", path, {"Key": "HANDOVER_TOKEN", "Value": token}),
    ]
    assert (
        read_env(project)
        == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\nFLEX_TASK_CHANNEL=sms\nHANDOVER_TOKEN={token}\n"
    )


def test_json_is_the_whole_result(env_set, emulator, account_env, twilio, deployed, sids):
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "dry_run": False,
        "complete": True,
        "local_file": ".env",
        "deployment": {
            "service_sid": deployed.service_sid,
            "service_found_by": "--service-sid",
            "environment_sid": deployed.environment_sid,
            "domain_name": deployed.domain_name,
        },
        "variables": [
            {"key": "FLEX_WORKSPACE_SID", "local": "created", "remote": "created"},
            {"key": "FLEX_WORKFLOW_SID", "local": "created", "remote": "created"},
            {"key": "HANDOVER_TOKEN", "local": "created", "remote": "created"},
        ],
        "sync_service": "default",
        "claim_maps": [{"name": name, "action": "unchanged"} for name in contract.CLAIM_MAPS],
        "error": None,
    }
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "6 write(s)."]


# Which side, and a dry run ---------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_says_what_it_would_do(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    (project / ".env").write_text(ENV_BEFORE + f"FLEX_WORKSPACE_SID={twilio.account.workspace_sid}\n", encoding="utf-8")
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKFLOW_SID", OLD_WORKFLOW)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "unchanged", "to create"),
        ("FLEX_WORKFLOW_SID", "to create", "to update"),
        ("HANDOVER_TOKEN", "to create", "to create"),
    )
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "Dry run: nothing was written."]
    assert writes(emulator) == []
    assert read_env(project) == ENV_BEFORE + f"FLEX_WORKSPACE_SID={twilio.account.workspace_sid}\n"
    assert remote(emulator, deployed) == {"FLEX_WORKFLOW_SID": OLD_WORKFLOW}


def test_dry_run_json_of_the_remote_side_only(env_set, account_env, deployed, sids):
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--dry-run", "--json", "--remote-only")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "dry_run": True,
        "complete": True,
        "local_file": None,
        "deployment": {
            "service_sid": deployed.service_sid,
            "service_found_by": "--service-sid",
            "environment_sid": deployed.environment_sid,
            "domain_name": deployed.domain_name,
        },
        "variables": [
            {"key": "FLEX_WORKSPACE_SID", "local": None, "remote": "created"},
            {"key": "FLEX_WORKFLOW_SID", "local": None, "remote": "created"},
            {"key": "HANDOVER_TOKEN", "local": None, "remote": "created"},
        ],
        "sync_service": "default",
        "claim_maps": [{"name": name, "action": "unchanged"} for name in contract.CLAIM_MAPS],
        "error": None,
    }
    assert result.stderr.splitlines()[-1] == "Dry run: nothing was written."


def test_local_only_without_verification_needs_no_credentials_and_sends_nothing(
    env_set, emulator, account_env, twilio, project, monkeypatch, sids
):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--local-only", "--no-verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "FLEX_WORKSPACE_SID  .env: created",
        "FLEX_WORKFLOW_SID   .env: created",
        "HANDOVER_TOKEN      .env: created",
    ]
    assert result.stderr == "3 write(s).\n"
    assert emulator.requests == []
    assert (
        read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\nHANDOVER_TOKEN={local_token(project)}\n"
    )


def test_local_only_verifies_against_the_account_but_leaves_the_deployment(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--local-only", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "FLEX_WORKSPACE_SID  .env: created",
        "FLEX_WORKFLOW_SID   .env: created",
        "HANDOVER_TOKEN      .env: created",
    ]
    assert result.stderr.splitlines() == [
        f"Using account {emulator.account.sid} (auth token, from the environment).",
        "3 write(s).",
    ]
    assert [(r.method, r.host) for r in emulator.requests] == [("GET", "taskrouter.twilio.com")] * 3
    assert remote(emulator, deployed) == {}
    assert (
        read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\nHANDOVER_TOKEN={local_token(project)}\n"
    )


def test_remote_only_leaves_dotenv_alone(env_set, emulator, account_env, twilio, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--remote-only", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"FLEX_WORKSPACE_SID  environment {deployed.domain_name}: created",
        f"FLEX_WORKFLOW_SID   environment {deployed.domain_name}: created",
        f"HANDOVER_TOKEN      environment {deployed.domain_name}: created",
        CLAIM_MAPS_THERE,
    ]
    assert result.stderr.splitlines()[-1] == "3 write(s)."
    assert [method for method, _, _ in writes(emulator)] == ["POST", "POST", "POST"]
    assert read_env(project) == ENV_BEFORE


def test_local_only_and_remote_only_exclude_each_other(env_set, emulator, account_env, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--local-only", "--remote-only", "--service-sid", deployed.service_sid)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == USAGE + "Error: --local-only and --remote-only exclude each other; give one, or neither to write both.\n"
    )
    assert emulator.requests == []
    assert read_env(project) == ENV_BEFORE


# Bad input: exit 2, no request, .env untouched ------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--workspace-sid",
            "WS123",
            "'WS123' is not a TaskRouter workspace SID: expected WS followed by 32 hex characters.",
        ),
        (
            "--workspace-sid",
            "WW" + "a" * 32,
            f"'WW{'a' * 32}' is not a TaskRouter workspace SID: expected WS followed by 32 hex characters.",
        ),
        (
            "--workflow-sid",
            "WW" + "g" * 32,
            f"'WW{'g' * 32}' is not a TaskRouter workflow SID: expected WW followed by 32 hex characters.",
        ),
        (
            "--service-sid",
            "flex-handover",
            "'flex-handover' is not a Serverless service SID: expected ZS followed by 32 hex characters.",
        ),
        ("--task-channel", "web chat", "'web chat' is not a task channel unique name such as chat, sms or voice."),
        ("--task-channel", "", "'' is not a task channel unique name such as chat, sms or voice."),
    ],
)
def test_malformed_option_is_a_usage_error_before_any_request(
    env_set, emulator, account_env, twilio, project, deployed, option, value, message
):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    given = {
        "--workspace-sid": twilio.account.workspace_sid,
        "--workflow-sid": twilio.account.workflow_sid,
        "--service-sid": deployed.service_sid,
    }
    given[option] = value
    result = env_set(*[part for pair in given.items() for part in pair])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == USAGE + f"Error: Invalid value for '{option}': {message}\n"
    assert emulator.requests == []
    assert read_env(project) == ENV_BEFORE


def test_missing_credentials_name_the_variables(env_set, emulator, account_env, project, deployed, monkeypatch, sids):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == USAGE + (
        "Error: No Twilio credentials found in the environment or in the project's .env. Copy the Account SID and "
        "Auth Token from Console > Account > API keys & tokens into the project's .env as TWILIO_ACCOUNT_SID=AC… and "
        "TWILIO_AUTH_TOKEN=… (or set TWILIO_API_KEY and TWILIO_API_SECRET), then run the command again.\n"
    )
    assert emulator.requests == []
    assert read_env(project) == ENV_BEFORE


def test_local_only_still_needs_credentials_to_verify(env_set, emulator, account_env, project, monkeypatch, sids):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    result = env_set(*sids, "--local-only")
    assert result.exit_code == 2
    assert result.stderr == USAGE + (
        "Error: TWILIO_ACCOUNT_SID is set in the environment but neither TWILIO_AUTH_TOKEN nor TWILIO_API_KEY is. Set "
        "TWILIO_ACCOUNT_SID "
        "and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) in the environment or in the project's .env.\n"
    )
    assert emulator.requests == []
    assert read_env(project) is None


# Verification failures: exit 1, nothing written ----------------------------------------------------


def verification_fails(result, emulator, project, message: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: {message} Nothing was written."
    assert writes(emulator) == []
    assert read_env(project) == ENV_BEFORE


def test_a_workspace_that_does_not_exist(env_set, emulator, account_env, twilio, project, deployed):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(
        "--workspace-sid",
        MISSING_WORKSPACE,
        "--workflow-sid",
        twilio.account.workflow_sid,
        "--service-sid",
        deployed.service_sid,
    )
    verification_fails(
        result,
        emulator,
        project,
        f"TaskRouter workspace {MISSING_WORKSPACE} does not exist in this account. "
        'Use the workspace of your Flex instance: Console > TaskRouter > Workspaces ("Flex Task Assignment").',
    )
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", f"/v1/Workspaces/{MISSING_WORKSPACE}")]


def test_a_workflow_of_another_workspace_names_that_workspace(
    env_set, emulator, account_env, twilio, project, deployed, other_workspace
):
    ws = twilio.account.workspace_sid
    owner, foreign_workflow = other_workspace
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set("--workspace-sid", ws, "--workflow-sid", foreign_workflow, "--service-sid", deployed.service_sid)
    verification_fails(
        result,
        emulator,
        project,
        f"TaskRouter workflow {foreign_workflow} is not in workspace {ws}: it belongs to workspace {owner}. "
        f"Use a workflow of workspace {ws}: Console > TaskRouter > Workspaces > {ws} > Workflows.",
    )


def test_a_workflow_that_exists_nowhere(env_set, emulator, account_env, twilio, project, deployed):
    ws = twilio.account.workspace_sid
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set("--workspace-sid", ws, "--workflow-sid", MISSING_WORKFLOW, "--service-sid", deployed.service_sid)
    verification_fails(
        result,
        emulator,
        project,
        f"TaskRouter workflow {MISSING_WORKFLOW} is not in workspace {ws}: it does not exist in any workspace of this "
        f"account. Use a workflow of workspace {ws}: Console > TaskRouter > Workspaces > {ws} > Workflows.",
    )


def test_a_missing_task_channel_lists_the_channels(env_set, emulator, account_env, twilio, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--task-channel", "email", "--service-sid", deployed.service_sid)
    verification_fails(
        result,
        emulator,
        project,
        f"Workspace {twilio.account.workspace_sid} has no task channel 'email' (it has: default, chat, sms, voice). "
        "Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task Channels.",
    )


def test_without_task_channel_the_channel_of_dotenv_is_checked(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    env_before = ENV_BEFORE + "FLEX_TASK_CHANNEL=email\n"
    (project / ".env").write_text(env_before, encoding="utf-8")
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: Workspace {twilio.account.workspace_sid} has no task channel 'email' (it has: default, chat, sms, "
        "voice). Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task "
        "Channels. Nothing was written."
    )
    assert writes(emulator) == []
    assert read_env(project) == env_before


def test_no_verify_skips_the_routing_checks(env_set, emulator, account_env, project, deployed):
    result = env_set(
        "--workspace-sid",
        MISSING_WORKSPACE,
        "--workflow-sid",
        MISSING_WORKFLOW,
        "--no-verify",
        "--service-sid",
        deployed.service_sid,
    )
    assert result.exit_code == 0, result.output
    assert [r.host for r in emulator.requests if r.host == "taskrouter.twilio.com"] == []
    assert remote(emulator, deployed) == {
        "FLEX_WORKSPACE_SID": MISSING_WORKSPACE,
        "FLEX_WORKFLOW_SID": MISSING_WORKFLOW,
        "HANDOVER_TOKEN": local_token(project),
    }


# Failures while writing -------------------------------------------------------------------------------


def test_a_failed_write_says_what_was_applied_and_a_rerun_finishes(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    zv = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKFLOW_SID", OLD_WORKFLOW)[
        "sid"
    ]
    emulator.inject(Fault("POST", f"/Variables/{zv}", status=500))
    path = variables_path(deployed)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "created", "created"),
        ("FLEX_WORKFLOW_SID", "created", "failed"),
        ("HANDOVER_TOKEN", "created", "not applied"),
    )
    assert result.stderr.splitlines() == [
        *notes(emulator, deployed),
        f"Error: Stopped: setting FLEX_WORKFLOW_SID on environment {deployed.environment_sid} failed: HTTP 500, "
        "Twilio error 20500: Unable to update record: Injected fault 500. Applied: FLEX_WORKSPACE_SID in .env "
        "(created), FLEX_WORKFLOW_SID in .env (created), HANDOVER_TOKEN in .env (created), FLEX_WORKSPACE_SID on the "
        "environment (created). Not applied on the environment: FLEX_WORKFLOW_SID, HANDOVER_TOKEN. Run the same "
        "command again to finish; it writes only what is still missing.",
    ]
    assert writes(emulator) == [
        ("POST", path, {"Key": "FLEX_WORKSPACE_SID", "Value": ws}),
        ("POST", f"{path}/{zv}", {"Value": ww}),
    ]
    assert remote(emulator, deployed) == {"FLEX_WORKFLOW_SID": OLD_WORKFLOW, "FLEX_WORKSPACE_SID": ws}
    token = local_token(project)
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\nHANDOVER_TOKEN={token}\n"

    emulator.clear_traffic()
    again = env_set(*sids, "--service-sid", deployed.service_sid)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"),
        ("FLEX_WORKFLOW_SID", "unchanged", "updated"),
        ("HANDOVER_TOKEN", "unchanged", "created"),
    )
    assert again.stderr.splitlines()[-1] == "2 write(s)."
    assert writes(emulator) == [
        ("POST", f"{path}/{zv}", {"Value": ww}),
        ("POST", path, {"Key": "HANDOVER_TOKEN", "Value": token}),
    ]
    assert remote(emulator, deployed) == {"FLEX_WORKFLOW_SID": ww, "FLEX_WORKSPACE_SID": ws, "HANDOVER_TOKEN": token}


def test_a_failed_first_write_leaves_the_rest_not_applied_in_json(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    emulator.inject(Fault("POST", variables_path(deployed), status=400, code=20001))
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only", "--json")
    assert result.exit_code == 1
    error = (
        f"setting FLEX_WORKSPACE_SID on environment {deployed.environment_sid} failed: HTTP 400, Twilio error 20001: "
        "Unable to create record: Injected fault 400"
    )
    assert json.loads(result.stdout)["variables"] == [
        {"key": "FLEX_WORKSPACE_SID", "local": None, "remote": "failed"},
        {"key": "FLEX_WORKFLOW_SID", "local": None, "remote": "not applied"},
        {"key": "HANDOVER_TOKEN", "local": None, "remote": "not applied"},
    ]
    assert (json.loads(result.stdout)["complete"], json.loads(result.stdout)["error"]) == (False, error)
    assert "handover_token" not in json.loads(result.stdout)
    assert result.stderr.splitlines()[-1] == (
        f"Error: Stopped: {error}. Applied: nothing. Not applied on the environment: FLEX_WORKSPACE_SID, "
        "FLEX_WORKFLOW_SID, "
        "HANDOVER_TOKEN. Run the same command again to finish; it writes only what is still missing."
    )
    assert len(writes(emulator)) == 1
    assert remote(emulator, deployed) == {}
    assert read_env(project) is None


def test_a_dropped_connection_while_writing_says_what_was_applied(
    env_set, emulator, account_env, twilio, project, deployed, sids, monkeypatch
):
    monkeypatch.setattr(credentials, "RETRY_BACKOFF_SECONDS", 0)  # urllib3 retries a request the proxy dropped
    zv = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKFLOW_SID", OLD_WORKFLOW)[
        "sid"
    ]
    emulator.inject(Fault("POST", f"/Variables/{zv}", drop=True, times=None))
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"FLEX_WORKSPACE_SID  environment {deployed.domain_name}: created",
        f"FLEX_WORKFLOW_SID   environment {deployed.domain_name}: failed",
        f"HANDOVER_TOKEN      environment {deployed.domain_name}: not applied",
        CLAIM_MAPS_THERE,
    ]
    assert result.stderr.splitlines()[-1] == (
        f"Error: Stopped: setting FLEX_WORKFLOW_SID on environment {deployed.environment_sid} failed: could not reach "
        "Twilio "
        "(ProxyError). Applied: FLEX_WORKSPACE_SID on the environment (created). Not applied on the environment: "
        "FLEX_WORKFLOW_SID, HANDOVER_TOKEN. Run the same command again to finish; it writes only what is still missing."
    )
    assert remote(emulator, deployed) == {
        "FLEX_WORKFLOW_SID": OLD_WORKFLOW,
        "FLEX_WORKSPACE_SID": twilio.account.workspace_sid,
    }


def test_a_failed_listing_writes_nothing_anywhere(env_set, emulator, account_env, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    emulator.inject(Fault("GET", "/Variables", status=403, code=20403, times=None))
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: Twilio answered GET {variables_path(deployed).removeprefix('/v1')} with HTTP 403, error 20403: Unable "
        "to fetch page: Injected fault 403"
    )
    assert writes(emulator) == []
    assert read_env(project) == ENV_BEFORE


# The Sync claim Maps ------------------------------------------------------------------------------------


def maps_in(emulator, service_sid: str) -> list[str]:
    """The unique names of the service's Maps, in the order they were made."""
    return [m["unique_name"] for m in emulator.table("sync_maps").values() if m["service_sid"] == service_sid]


def maps_path(service: str) -> str:
    return f"/v1/Services/{service}/Maps"


def created_lines(service: str, names, action: str = "created") -> list[str]:
    return [f"{name}  Sync service {service}: {action}" for name in names]


def there_line(service: str, count: int) -> str:
    return f"handover-claims-*   Sync service {service}: unchanged ({count} of 16 already there)"


def map_writes(emulator, service: str) -> list[tuple[str, str, object]]:
    return [write for write in writes(emulator) if write[1] == maps_path(service)]


def with_sync_service(project: Path, service: str) -> None:
    (project / ".env").write_text(ENV_BEFORE + f"SYNC_SERVICE_SID={service}\n", encoding="utf-8")


CREATED_ON_BOTH_SIDES = (
    ("FLEX_WORKSPACE_SID", "created", "created"),
    ("FLEX_WORKFLOW_SID", "created", "created"),
    ("HANDOVER_TOKEN", "created", "created"),
)
UNCHANGED_ON_BOTH_SIDES = (
    ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"),
    ("FLEX_WORKFLOW_SID", "unchanged", "unchanged"),
    ("HANDOVER_TOKEN", "unchanged", "unchanged"),
)


def test_the_16_claim_maps_are_created_once_in_the_sync_service_of_dotenv(
    env_set, emulator, account_env, twilio, project, deployed, sids, sync_service
):
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed, *CREATED_ON_BOTH_SIDES, claim_maps=created_lines(sync_service, contract.CLAIM_MAPS)
    )
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "22 write(s)."]
    # One listing of the service's Maps before any write; the creates after the variables.
    sync_requests = [(r.method, r.path) for r in emulator.requests if r.host == "sync.twilio.com"]
    assert sync_requests == [("GET", maps_path(sync_service))] + [("POST", maps_path(sync_service))] * 16
    assert writes(emulator)[3:] == [
        ("POST", maps_path(sync_service), {"UniqueName": name}) for name in contract.CLAIM_MAPS
    ]
    assert maps_in(emulator, sync_service) == list(contract.CLAIM_MAPS)

    emulator.clear_traffic()
    again = env_set(*sids, "--service-sid", deployed.service_sid)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == lines(
        deployed, *UNCHANGED_ON_BOTH_SIDES, claim_maps=[there_line(sync_service, 16)]
    )
    assert again.stderr.splitlines()[-1] == "Everything was already set; nothing was written."
    assert writes(emulator) == []
    assert [(r.method, r.path) for r in emulator.requests if r.host == "sync.twilio.com"] == [
        ("GET", maps_path(sync_service))
    ]
    assert maps_in(emulator, sync_service) == list(contract.CLAIM_MAPS)


def test_only_the_missing_claim_maps_are_created(env_set, emulator, account_env, project, deployed, sids, sync_service):
    there = contract.CLAIM_MAPS[::2]
    add_maps(emulator, sync_service, ["unrelated", *there])
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    missing = contract.CLAIM_MAPS[1::2]
    assert result.stdout.splitlines()[3:] == [*created_lines(sync_service, missing), there_line(sync_service, 8)]
    assert map_writes(emulator, sync_service) == [
        ("POST", maps_path(sync_service), {"UniqueName": name}) for name in missing
    ]
    assert result.stderr.splitlines()[-1] == "14 write(s)."


def test_the_listing_follows_every_page(env_set, emulator, account_env, project, deployed, sids, sync_service):
    """Twilio pages a list by 50: the claim Maps after the first 50 Maps are seen on the second page, not made again."""
    add_maps(emulator, sync_service, [f"other-{n:02d}" for n in range(45)] + list(contract.CLAIM_MAPS[:8]))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    listings = [r for r in emulator.requests if (r.method, r.path) == ("GET", maps_path(sync_service))]
    assert [r.query for r in listings] == ["", "PageSize=50&Page=1"]
    assert map_writes(emulator, sync_service) == [
        ("POST", maps_path(sync_service), {"UniqueName": name}) for name in contract.CLAIM_MAPS[8:]
    ]
    assert result.stdout.splitlines()[-1] == there_line(sync_service, 8)


def test_the_sync_service_of_the_environment_wins_over_dotenvs(
    env_set, emulator, account_env, project, deployed, sids, sync_service
):
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "SYNC_SERVICE_SID", sync_service)
    with_sync_service(project, "IS" + "0" * 32)  # none such: it is not asked for
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert maps_in(emulator, sync_service) == list(contract.CLAIM_MAPS)
    assert {r.path for r in emulator.requests if r.host == "sync.twilio.com"} == {maps_path(sync_service)}


def test_dry_run_lists_the_maps_it_would_create_and_creates_none(
    env_set, emulator, account_env, project, deployed, sids, sync_service
):
    add_maps(emulator, sync_service, contract.CLAIM_MAPS[:4])
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--dry-run")
    assert result.exit_code == 0, result.output
    to_create = [f"{name}  Sync service {sync_service}: to create" for name in contract.CLAIM_MAPS[4:]]
    assert result.stdout.splitlines()[3:] == [*to_create, there_line(sync_service, 4)]
    assert result.stderr.splitlines()[-1] == "Dry run: nothing was written."
    assert writes(emulator) == []
    assert maps_in(emulator, sync_service) == list(contract.CLAIM_MAPS[:4])


def test_json_reports_each_claim_map(env_set, emulator, account_env, project, deployed, sids, sync_service):
    add_maps(emulator, sync_service, contract.CLAIM_MAPS[:1])
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--json")
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["sync_service"] == sync_service
    assert output["claim_maps"] == [{"name": contract.CLAIM_MAPS[0], "action": "unchanged"}] + [
        {"name": name, "action": "created"} for name in contract.CLAIM_MAPS[1:]
    ]
    assert (output["complete"], output["error"]) == (True, None)
    dry = env_set(*sids, "--service-sid", deployed.service_sid, "--json", "--dry-run")
    assert json.loads(dry.stdout)["claim_maps"] == [
        {"name": name, "action": "unchanged"} for name in contract.CLAIM_MAPS
    ]


def test_local_only_does_not_look_at_the_claim_maps(env_set, emulator, account_env, project, sids, sync_service):
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--local-only", "--json")
    assert result.exit_code == 0, result.output
    assert "claim_maps" not in json.loads(result.stdout)
    assert [r.host for r in emulator.requests] == ["taskrouter.twilio.com"] * 3
    assert maps_in(emulator, sync_service) == []


def test_a_map_a_concurrent_creator_made_is_taken_as_there(
    env_set, emulator, account_env, project, deployed, sids, sync_service
):
    """Sync's 409/54301 on a create: another creator made the Map between the listing and the create."""
    emulator.inject(Fault("POST", maps_path(sync_service), status=409, code=54301, after=True))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--json")
    assert result.exit_code == 0, result.output
    statuses = [r.status for r in emulator.requests if (r.method, r.path) == ("POST", maps_path(sync_service))]
    assert statuses == [409] + [201] * 15
    assert json.loads(result.stdout)["claim_maps"] == [{"name": contract.CLAIM_MAPS[0], "action": "unchanged"}] + [
        {"name": name, "action": "created"} for name in contract.CLAIM_MAPS[1:]
    ]
    assert result.stderr.splitlines()[-1] == "21 write(s)."
    assert maps_in(emulator, sync_service) == list(contract.CLAIM_MAPS)


@dataclass
class FaultAfterSome(Fault):
    """A fault that lets the first `succeed` matching requests through and strikes the next (`times`) ones."""

    succeed: int = 0

    def matches(self, method: str, path: str) -> bool:
        if not super().matches(method, path):
            return False
        if self.succeed:
            self.succeed -= 1
            return False
        return True


def test_a_failed_create_says_which_maps_were_created_and_a_rerun_finishes(
    env_set, emulator, account_env, project, deployed, sids, sync_service
):
    emulator.inject(FaultAfterSome("POST", maps_path(sync_service), status=500, succeed=5))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    names = contract.CLAIM_MAPS
    assert result.stdout.splitlines() == lines(
        deployed,
        *CREATED_ON_BOTH_SIDES,
        claim_maps=[
            *created_lines(sync_service, names[:5]),
            *created_lines(sync_service, names[5:6], "failed"),
            *created_lines(sync_service, names[6:], "not applied"),
        ],
    )
    assert result.stderr.splitlines() == [
        *notes(emulator, deployed),
        f"Error: Stopped: creating Sync Map handover-claims-05 in Sync service {sync_service} failed: HTTP 500, Twilio "
        "error 20500: "
        "Unable to create record: Injected fault 500. Applied: FLEX_WORKSPACE_SID in .env (created), "
        "FLEX_WORKFLOW_SID in .env (created), "
        "HANDOVER_TOKEN in .env (created), FLEX_WORKSPACE_SID on the environment (created), FLEX_WORKFLOW_SID on the "
        "environment (created), "
        "HANDOVER_TOKEN on the environment (created), Sync Maps handover-claims-00, handover-claims-01, "
        "handover-claims-02, handover-claims-03, "
        f"handover-claims-04 (created). Not created in Sync service {sync_service}: " + ", ".join(names[5:]) + ". "
        "Run the same command again to finish; it writes only what is still missing.",
    ]
    assert map_writes(emulator, sync_service) == [
        ("POST", maps_path(sync_service), {"UniqueName": name}) for name in names[:6]
    ]
    assert maps_in(emulator, sync_service) == list(names[:5])

    emulator.clear_traffic()
    again = env_set(*sids, "--service-sid", deployed.service_sid)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == lines(
        deployed,
        *UNCHANGED_ON_BOTH_SIDES,
        claim_maps=[*created_lines(sync_service, names[5:]), there_line(sync_service, 5)],
    )
    assert again.stderr.splitlines()[-1] == "11 write(s)."
    assert writes(emulator) == [("POST", maps_path(sync_service), {"UniqueName": name}) for name in names[5:]]
    assert maps_in(emulator, sync_service) == list(names)


def test_a_failed_create_in_json(env_set, emulator, account_env, project, deployed, sids, sync_service):
    emulator.inject(FaultAfterSome("POST", maps_path(sync_service), status=403, code=20403, succeed=15))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--json", "--remote-only")
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["claim_maps"][14:] == [
        {"name": "handover-claims-14", "action": "created"},
        {"name": "handover-claims-15", "action": "failed"},
    ]
    assert output["complete"] is False
    assert output["error"] == (
        f"creating Sync Map handover-claims-15 in Sync service {sync_service} failed: HTTP 403, Twilio error 20403: "
        "Unable to create record: Injected fault 403"
    )
    assert result.stderr.splitlines()[-1].endswith(
        f"HANDOVER_TOKEN on the environment (created), Sync Maps {', '.join(contract.CLAIM_MAPS[:15])} (created). "
        f"Not created in Sync service {sync_service}: handover-claims-15. Run the same command again to finish; it "
        "writes only what is still missing."
    )


def test_a_failed_variable_write_leaves_the_maps_not_created(
    env_set, emulator, account_env, project, deployed, sids, sync_service
):
    emulator.inject(Fault("POST", variables_path(deployed), status=400, code=20001))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[3:] == created_lines(sync_service, contract.CLAIM_MAPS, "not applied")
    assert result.stderr.splitlines()[-1] == (
        f"Error: Stopped: setting FLEX_WORKSPACE_SID on environment {deployed.environment_sid} failed: HTTP 400, "
        "Twilio error 20001: "
        "Unable to create record: Injected fault 400. Applied: nothing. Not applied on the environment: "
        "FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID, "
        f"HANDOVER_TOKEN. Not created in Sync service {sync_service}: {', '.join(contract.CLAIM_MAPS)}. "
        "Run the same command again to finish; it writes only what is still missing."
    )
    assert map_writes(emulator, sync_service) == []


@pytest.fixture
def backoff(monkeypatch) -> list[float]:
    """The waits before each retried create, recorded instead of slept."""
    waits: list[float] = []
    monkeypatch.setattr(variables, "_sleep", waits.append)
    return waits


def test_a_rate_limited_create_is_tried_again(
    env_set, emulator, account_env, project, deployed, sids, sync_service, backoff
):
    emulator.inject(Fault("POST", maps_path(sync_service), status=429, code=54009))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    creates = [r for r in emulator.requests if (r.method, r.path) == ("POST", maps_path(sync_service))]
    assert [(r.body["UniqueName"], r.status) for r in creates[:3]] == [
        ("handover-claims-00", 429),
        ("handover-claims-00", 201),
        ("handover-claims-01", 201),
    ]
    assert len(creates) == 17
    assert backoff == [0.1]
    assert result.stdout.splitlines()[3:] == created_lines(sync_service, contract.CLAIM_MAPS)
    assert result.stderr.splitlines()[-1] == "22 write(s)."
    assert maps_in(emulator, sync_service) == list(contract.CLAIM_MAPS)


def test_a_create_rate_limited_five_times_stops_the_run(
    env_set, emulator, account_env, project, deployed, sids, sync_service, backoff
):
    emulator.inject(Fault("POST", maps_path(sync_service), status=429, code=54009, times=None))
    with_sync_service(project, sync_service)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert (
        len([r for r in emulator.requests if (r.method, r.path) == ("POST", maps_path(sync_service))])
        == variables.MAP_CREATE_TRIES
        == 5
    )
    assert backoff == [0.1, 0.2, 0.4, 0.8]
    assert result.stderr.splitlines()[-1].startswith(
        f"Error: Stopped: creating Sync Map handover-claims-00 in Sync service {sync_service} failed: HTTP 429, Twilio "
        "error 54009: Unable to create record: Injected fault 429. Applied: "
    )
    assert maps_in(emulator, sync_service) == []


def test_a_sync_service_that_does_not_exist_stops_before_any_write(
    env_set, emulator, account_env, project, deployed, sids
):
    missing = "IS" + "0" * 32
    with_sync_service(project, missing)
    before = read_env(project)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: Sync service {missing} (SYNC_SERVICE_SID in .env) does not exist in this account. Set "
        "SYNC_SERVICE_SID to the IS SID of one of the account's Sync services (Console > Sync > Services), or remove "
        "it to use the account's default Sync service. Nothing was written."
    )
    assert writes(emulator) == []
    assert read_env(project) == before
    assert remote(emulator, deployed) == {}


def test_a_malformed_sync_service_stops_before_any_write(env_set, emulator, account_env, project, deployed, sids):
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "SYNC_SERVICE_SID", "my-sync")
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: SYNC_SERVICE_SID on the environment is 'my-sync', not IS followed by 32 hex characters, or default. "
        "Set SYNC_SERVICE_SID "
        "to the IS SID of one of the account's Sync services (Console > Sync > Services), or remove it to use the "
        "account's default Sync "
        "service. Nothing was written."
    )
    assert writes(emulator) == []
    assert not any(r.host == "sync.twilio.com" for r in emulator.requests)
    assert read_env(project) is None


def test_a_failed_listing_of_the_maps_writes_nothing(
    env_set, emulator, account_env, project, deployed, sids, monkeypatch
):
    monkeypatch.setattr(credentials, "RETRY_BACKOFF_SECONDS", 0)
    emulator.inject(Fault("GET", "/v1/Services/default/Maps", status=503, times=None))
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "Error: Twilio answered GET /Services/default/Maps with HTTP "
        "503, error 20503: Unable to fetch page: Injected fault 503"
    )
    assert writes(emulator) == []
    assert read_env(project) is None


# Secrets ------------------------------------------------------------------------------------------------


def test_an_api_key_secret_is_never_printed(
    env_set, emulator, api_key, twilio, project, deployed, sids, other_workspace
):
    """The env_set fixture checks every run's output for the secret; these runs cover success and each failure."""
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [*notes(emulator, deployed, f"API key {api_key}"), "6 write(s)."]
    assert {r.auth_user for r in emulator.requests} == {api_key}
    refused = env_set("--workspace-sid", twilio.account.workspace_sid, "--workflow-sid", other_workspace[1])
    assert refused.exit_code == 1 and "it belongs to workspace" in refused.stderr
    emulator.inject(Fault("POST", "/Variables/", status=500))
    failed = env_set(
        "--workspace-sid",
        twilio.account.workspace_sid,
        "--workflow-sid",
        MISSING_WORKFLOW,
        "--no-verify",
        "--service-sid",
        deployed.service_sid,
    )
    assert failed.exit_code == 1 and "Error: Stopped: setting FLEX_WORKFLOW_SID" in failed.stderr
    emulator.inject(Fault("GET", "/Variables", status=403, times=None))
    unlisted = env_set(*sids, "--service-sid", deployed.service_sid)
    assert unlisted.exit_code == 1 and "HTTP 403, error 20001: Unable to fetch page" in unlisted.stderr


def test_a_rejected_secret_is_not_printed_either(env_set, emulator, account_env, deployed, monkeypatch, sids):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token-that-must-not-be-printed")
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: Twilio answered GET /Workspaces/{sids[1]} with HTTP 401, error 20003: Unable to fetch record: "
        "Authentication Error - invalid username"
    )
    assert writes(emulator) == []
    assert "wrong-token-that-must-not-be-printed" not in result.output


# The handover token -------------------------------------------------------------------------------------

ROTATED = (
    "HANDOVER_TOKEN was rotated: tool URLs with the old token now get HTTP 401. "
    "Run `handover tool register --assistant-id aia_asst_…` again to put the new one into the AI Assistant's tool."
)


def configure(emulator, deployed, project, twilio, dotenv_token: str | None, deployed_token: str | None) -> None:
    """The FLEX_* values on both sides, and the given tokens (None: not there)."""
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    (project / ".env").write_text(
        f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\n"
        + (f"HANDOVER_TOKEN={dotenv_token}\n" if dotenv_token else ""),
        encoding="utf-8",
    )
    for key, value in (("FLEX_WORKSPACE_SID", ws), ("FLEX_WORKFLOW_SID", ww), ("HANDOVER_TOKEN", deployed_token)):
        if value:
            set_variable(emulator, deployed.service_sid, deployed.environment_sid, key, value)


def token_row(deployed, local: str, remote_action: str) -> list[str]:
    return lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"),
        ("FLEX_WORKFLOW_SID", "unchanged", "unchanged"),
        ("HANDOVER_TOKEN", local, remote_action),
    )


@pytest.mark.parametrize(
    ("dotenv_token", "deployed_token", "local_action", "remote_action"),
    [
        pytest.param(None, TOKEN_A, "created", "unchanged", id="the-deployed-one-when-dotenv-lacks-it"),
        pytest.param(TOKEN_A, None, "unchanged", "created", id="dotenvs-when-the-environment-lacks-it"),
        # Registered tool URLs carry the deployed token, so .env follows it.
        pytest.param(TOKEN_B, TOKEN_A, "updated", "unchanged", id="the-deployed-one-over-another-in-dotenv"),
    ],
)
def test_an_existing_token_is_reused(
    env_set,
    emulator,
    account_env,
    twilio,
    project,
    deployed,
    sids,
    dotenv_token,
    deployed_token,
    local_action,
    remote_action,
):
    configure(emulator, deployed, project, twilio, dotenv_token, deployed_token)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == token_row(deployed, local_action, remote_action)
    assert result.stderr.splitlines()[-1] == "1 write(s)."
    assert writes(emulator) == (
        [] if deployed_token else [("POST", variables_path(deployed), {"Key": "HANDOVER_TOKEN", "Value": TOKEN_A})]
    )
    assert (local_token(project), remote_token(emulator, deployed)) == (TOKEN_A, TOKEN_A)


def test_remote_only_reuses_the_dotenv_token_without_writing_dotenv(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    configure(emulator, deployed, project, twilio, TOKEN_A, None)
    before = read_env(project)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [
        f"HANDOVER_TOKEN      environment {deployed.domain_name}: created",
        CLAIM_MAPS_THERE,
    ]
    assert writes(emulator) == [("POST", variables_path(deployed), {"Key": "HANDOVER_TOKEN", "Value": TOKEN_A})]
    assert read_env(project) == before


@pytest.mark.parametrize("malformed", ["too-short", "a" * 42, "a" * 43 + "=", ""])
def test_a_malformed_token_on_either_side_is_replaced(
    env_set, emulator, account_env, twilio, project, deployed, sids, malformed
):
    configure(emulator, deployed, project, twilio, malformed, malformed)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    token = remote_token(emulator, deployed)
    assert tokens.valid(token) == token and local_token(project) == token
    action = "updated" if malformed else "created"
    assert result.stdout.splitlines() == token_row(deployed, action, action)


def test_rotate_token_replaces_it_on_both_sides_and_says_what_that_means(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    configure(emulator, deployed, project, twilio, TOKEN_A, TOKEN_A)
    zv = variable_sid(emulator, deployed, "HANDOVER_TOKEN")
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--rotate-token")
    assert result.exit_code == 0, result.output
    token = remote_token(emulator, deployed)
    assert token != TOKEN_A and tokens.valid(token) == token and local_token(project) == token
    assert result.stdout.splitlines() == token_row(deployed, "updated", "updated")
    assert result.stderr.splitlines() == [*notes(emulator, deployed), ROTATED, "2 write(s)."]
    assert writes(emulator) == [("POST", f"{variables_path(deployed)}/{zv}", {"Value": token})]
    assert TOKEN_A not in result.output


def test_rotate_token_on_a_first_run_is_a_first_token(env_set, emulator, account_env, project, deployed, sids):
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--rotate-token")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "6 write(s)."]
    assert local_token(project) == remote_token(emulator, deployed)


def test_rotate_token_local_only_leaves_the_deployed_token(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    configure(emulator, deployed, project, twilio, TOKEN_A, TOKEN_A)
    result = env_set(*sids, "--local-only", "--no-verify", "--rotate-token")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "HANDOVER_TOKEN      .env: updated"
    assert result.stderr.splitlines() == [
        "HANDOVER_TOKEN was rotated in .env only; the deployed environment keeps its token.",
        "1 write(s).",
    ]
    assert local_token(project) not in (TOKEN_A, None)
    assert remote_token(emulator, deployed) == TOKEN_A


def test_rotate_token_dry_run_writes_nothing(env_set, emulator, account_env, twilio, project, deployed, sids):
    configure(emulator, deployed, project, twilio, TOKEN_A, TOKEN_A)
    before = read_env(project)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--rotate-token", "--dry-run", "--show-secrets")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == token_row(deployed, "to update", "to update")
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "Dry run: nothing was written."]
    assert writes(emulator) == []
    assert (read_env(project), remote_token(emulator, deployed)) == (before, TOKEN_A)


def test_show_secrets_prints_the_token(env_set, emulator, account_env, project, deployed, sids):
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--show-secrets")
    assert result.exit_code == 0, result.output
    token = remote_token(emulator, deployed)
    assert result.stdout.splitlines()[-2:] == [CLAIM_MAPS_THERE, f"HANDOVER_TOKEN={token}"]
    assert len(result.stdout.splitlines()) == 5
    assert token not in result.stderr


def test_show_secrets_json_has_the_token_and_without_it_json_has_none(
    env_set, emulator, account_env, project, deployed, sids
):
    shown = env_set(*sids, "--service-sid", deployed.service_sid, "--show-secrets", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["handover_token"] == remote_token(emulator, deployed) == local_token(project)
    hidden = env_set(*sids, "--service-sid", deployed.service_sid, "--json")
    assert hidden.exit_code == 0, hidden.output
    assert "handover_token" not in json.loads(hidden.stdout)


def test_show_secrets_in_a_dry_run_shows_only_a_token_that_exists(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    new = env_set(*sids, "--service-sid", deployed.service_sid, "--dry-run", "--show-secrets", "--json")
    assert new.exit_code == 0, new.output
    assert json.loads(new.stdout)["handover_token"] is None
    configure(emulator, deployed, project, twilio, None, TOKEN_A)
    existing = env_set(*sids, "--service-sid", deployed.service_sid, "--dry-run", "--show-secrets")
    assert existing.exit_code == 0, existing.output
    assert existing.stdout.splitlines()[-1] == f"HANDOVER_TOKEN={TOKEN_A}"


def test_a_failed_token_write_names_the_key_but_never_the_token(
    env_set, emulator, account_env, twilio, project, deployed, sids
):
    configure(emulator, deployed, project, twilio, TOKEN_A, TOKEN_B)
    zv = variable_sid(emulator, deployed, "HANDOVER_TOKEN")
    emulator.inject(Fault("POST", f"/Variables/{zv}", status=500))
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--rotate-token", "--json")
    assert result.exit_code == 1
    output = json.loads(result.stdout)
    assert output["variables"][-1] == {"key": "HANDOVER_TOKEN", "local": "updated", "remote": "failed"}
    assert "handover_token" not in output
    assert result.stderr.splitlines()[-1] == (
        f"Error: Stopped: setting HANDOVER_TOKEN on environment {deployed.environment_sid} failed: HTTP 500, Twilio "
        "error 20500: Unable to update record: Injected fault 500. Applied: HANDOVER_TOKEN in .env (updated). Not "
        "applied on the environment: HANDOVER_TOKEN. Run the same "
        "command again to finish; it writes only what is still missing."
    )
    assert remote_token(emulator, deployed) == TOKEN_B
    for secret in (TOKEN_A, TOKEN_B, local_token(project)):
        assert secret not in result.output


def test_a_failed_run_with_show_secrets_shows_a_token_only_where_it_was_written(
    env_set, emulator, account_env, project, deployed, sids
):
    emulator.inject(Fault("POST", variables_path(deployed), status=400, code=20001))
    written = env_set(*sids, "--service-sid", deployed.service_sid, "--show-secrets")
    assert written.exit_code == 1
    assert written.stdout.splitlines()[-3:] == [
        f"HANDOVER_TOKEN      .env: created  environment {deployed.domain_name}: not applied",
        CLAIM_MAPS_THERE,
        f"HANDOVER_TOKEN={local_token(project)}",
    ]
    (project / ".env").unlink()
    emulator.inject(Fault("POST", variables_path(deployed), status=400, code=20001))
    nowhere = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only", "--show-secrets")
    assert nowhere.exit_code == 1
    assert nowhere.stdout.splitlines()[-2:] == [
        f"HANDOVER_TOKEN      environment {deployed.domain_name}: not applied",
        CLAIM_MAPS_THERE,
    ]
    assert remote(emulator, deployed) == {}


# .env, as env set writes it --------------------------------------------------------------------------


def test_the_cli_creates_dotenv_private_and_keeps_an_existing_mode(env_set, account_env, project, sids):
    assert env_set(*sids, "--local-only", "--no-verify").exit_code == 0
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    (project / ".env").chmod(0o644)
    assert (
        env_set(
            "--workspace-sid", MISSING_WORKSPACE, "--workflow-sid", MISSING_WORKFLOW, "--local-only", "--no-verify"
        ).exit_code
        == 0
    )
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o644


def test_local_actions_compare_with_what_dotenv_reads(tmp_path):
    path = tmp_path / ".env"
    assert variables.local_actions(path, {"A": "1"}) == {"A": "created"}
    path.write_text("export A='1'\nB=2\nC=\n", encoding="utf-8")
    assert variables.local_actions(path, {"A": "1", "B": "3", "C": "x", "D": "4"}) == {
        "A": "unchanged",
        "B": "updated",
        "C": "updated",
        "D": "created",
    }


def test_a_key_given_twice_in_dotenv_is_compared_by_its_last_value(tmp_path):
    """dotenv (Python's and Node's, which twilio-run uses) keeps the last value of a key given twice."""
    path = tmp_path / ".env"
    path.write_text("A=old\nA=1\n", encoding="utf-8")
    assert variables.local_actions(path, {"A": "1"}) == {"A": "unchanged"}
    assert variables.local_actions(path, {"A": "old"}) == {"A": "updated"}
