"""`handover env set` end to end against the emulator, and the .env writing under it."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from handover import credentials, envvars
from handover.cli import cli
from handover.emulator import Fault, set_variable
from handover.emulator.products import taskrouter

from tests.handover.conftest import writes

MISSING_WORKSPACE = "WS" + "0" * 32
MISSING_WORKFLOW = "WW" + "0" * 32
OLD_WORKFLOW = "WW" + "1" * 32
ENV_BEFORE = "# mine\nOTHER=kept\n"
USAGE = "Usage: cli env set [OPTIONS]\nTry 'cli env set -h' for help.\n\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def env_set(runner, twilio, project):
    """Run `handover env set` on the project copy; no run may print the auth token or an API key's secret."""

    def run(*args: str):
        result = runner.invoke(cli, ["--project-dir", str(project), "env", "set", *args], catch_exceptions=False)
        for secret in (twilio.emulator.account.auth_token, *twilio.emulator.account.api_keys.values()):
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
    return {v["key"]: v["value"] for v in emulator.table("serverless_variables").values() if v["environment_sid"] == deployed.environment_sid}


def variable_sid(emulator, deployed, key: str) -> str:
    return next(v["sid"] for v in emulator.table("serverless_variables").values() if v["environment_sid"] == deployed.environment_sid and v["key"] == key)


def notes(emulator, deployed, via: str = "auth token") -> list[str]:
    """The notes on stderr before the result: the credentials, the service and the environment."""
    return [
        f"Using account {emulator.account.sid} ({via}, from the environment).",
        f"Using service {deployed.service_sid} (found by --service-sid).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
    ]


def lines(deployed, *rows: tuple[str, str, str]) -> list[str]:
    return [f"{key:<18}  .env: {local}  environment {deployed.domain_name}: {remote_action}" for key, local, remote_action in rows]


def read_env(project: Path) -> str | None:
    path = project / ".env"
    return path.read_text(encoding="utf-8") if path.exists() else None


# The first run, a second identical one, a changed one -----------------------------------------------


def test_first_run_creates_both_variables_on_both_sides(env_set, emulator, account_env, twilio, project, deployed, sids):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(deployed, ("FLEX_WORKSPACE_SID", "created", "created"), ("FLEX_WORKFLOW_SID", "created", "created"))
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "4 write(s)."]
    path = variables_path(deployed)
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Workspaces/{ws}"),
        ("GET", f"/v1/Workspaces/{ws}/Workflows/{ww}"),
        ("GET", f"/v1/Workspaces/{ws}/TaskChannels"),
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", path),
        ("POST", path),
        ("POST", path),
    ]
    assert writes(emulator) == [
        ("POST", path, {"Key": "FLEX_WORKSPACE_SID", "Value": ws}),
        ("POST", path, {"Key": "FLEX_WORKFLOW_SID", "Value": ww}),
    ]
    assert remote(emulator, deployed) == {"FLEX_WORKSPACE_SID": ws, "FLEX_WORKFLOW_SID": ww}
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\n"


def test_a_second_identical_run_writes_nothing(env_set, emulator, account_env, project, deployed, sids):
    assert env_set(*sids, "--service-sid", deployed.service_sid).exit_code == 0
    written = read_env(project)
    emulator.clear_traffic()
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed, ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"), ("FLEX_WORKFLOW_SID", "unchanged", "unchanged")
    )
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "Everything was already set; nothing was written."]
    assert writes(emulator) == []
    assert read_env(project) == written


def test_a_changed_workflow_is_one_update_on_each_side(env_set, emulator, account_env, twilio, project, deployed, sids, other_workflow):
    ws = twilio.account.workspace_sid
    assert env_set(*sids, "--service-sid", deployed.service_sid).exit_code == 0
    zv = variable_sid(emulator, deployed, "FLEX_WORKFLOW_SID")
    emulator.clear_traffic()
    result = env_set("--workspace-sid", ws, "--workflow-sid", other_workflow, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed, ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"), ("FLEX_WORKFLOW_SID", "updated", "updated")
    )
    assert result.stderr.splitlines()[-1] == "2 write(s)."
    assert writes(emulator) == [("POST", f"{variables_path(deployed)}/{zv}", {"Value": other_workflow})]
    assert remote(emulator, deployed) == {"FLEX_WORKSPACE_SID": ws, "FLEX_WORKFLOW_SID": other_workflow}
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={other_workflow}\n"


def test_task_channel_adds_flex_task_channel(env_set, emulator, account_env, twilio, project, deployed, sids):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--task-channel", "sms", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed,
        ("FLEX_WORKSPACE_SID", "created", "created"),
        ("FLEX_WORKFLOW_SID", "created", "created"),
        ("FLEX_TASK_CHANNEL", "created", "created"),
    )
    assert result.stderr.splitlines()[-1] == "6 write(s)."
    path = variables_path(deployed)
    assert writes(emulator) == [
        ("POST", path, {"Key": "FLEX_WORKSPACE_SID", "Value": ws}),
        ("POST", path, {"Key": "FLEX_WORKFLOW_SID", "Value": ww}),
        ("POST", path, {"Key": "FLEX_TASK_CHANNEL", "Value": "sms"}),
    ]
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\nFLEX_TASK_CHANNEL=sms\n"


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
        ],
        "error": None,
    }
    assert result.stderr.splitlines() == [*notes(emulator, deployed), "4 write(s)."]


# Which side, and a dry run ---------------------------------------------------------------------------


def test_dry_run_writes_nothing_and_says_what_it_would_do(env_set, emulator, account_env, twilio, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE + f"FLEX_WORKSPACE_SID={twilio.account.workspace_sid}\n", encoding="utf-8")
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKFLOW_SID", OLD_WORKFLOW)
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        deployed, ("FLEX_WORKSPACE_SID", "unchanged", "to create"), ("FLEX_WORKFLOW_SID", "to create", "to update")
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
        ],
        "error": None,
    }
    assert result.stderr.splitlines()[-1] == "Dry run: nothing was written."


def test_local_only_without_verification_needs_no_credentials_and_sends_nothing(env_set, emulator, account_env, twilio, project, monkeypatch, sids):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID")
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--local-only", "--no-verify")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["FLEX_WORKSPACE_SID  .env: created", "FLEX_WORKFLOW_SID   .env: created"]
    assert result.stderr == "2 write(s).\n"
    assert emulator.requests == []
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\n"


def test_local_only_verifies_against_the_account_but_leaves_the_deployment(env_set, emulator, account_env, twilio, project, deployed, sids):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    result = env_set(*sids, "--local-only", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["FLEX_WORKSPACE_SID  .env: created", "FLEX_WORKFLOW_SID   .env: created"]
    assert result.stderr.splitlines() == [f"Using account {emulator.account.sid} (auth token, from the environment).", "2 write(s)."]
    assert [(r.method, r.host) for r in emulator.requests] == [("GET", "taskrouter.twilio.com")] * 3
    assert remote(emulator, deployed) == {}
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\n"


def test_remote_only_leaves_dotenv_alone(env_set, emulator, account_env, twilio, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--remote-only", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"FLEX_WORKSPACE_SID  environment {deployed.domain_name}: created",
        f"FLEX_WORKFLOW_SID   environment {deployed.domain_name}: created",
    ]
    assert result.stderr.splitlines()[-1] == "2 write(s)."
    assert [method for method, _, _ in writes(emulator)] == ["POST", "POST"]
    assert read_env(project) == ENV_BEFORE


def test_local_only_and_remote_only_exclude_each_other(env_set, emulator, account_env, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--local-only", "--remote-only", "--service-sid", deployed.service_sid)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == USAGE + "Error: --local-only and --remote-only exclude each other; give one, or neither to write both.\n"
    assert emulator.requests == []
    assert read_env(project) == ENV_BEFORE


# Bad input: exit 2, no request, .env untouched ------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--workspace-sid", "WS123", "'WS123' is not a TaskRouter workspace SID: expected WS followed by 32 hex characters."),
        ("--workspace-sid", "WW" + "a" * 32, f"'WW{'a' * 32}' is not a TaskRouter workspace SID: expected WS followed by 32 hex characters."),
        ("--workflow-sid", "WW" + "g" * 32, f"'WW{'g' * 32}' is not a TaskRouter workflow SID: expected WW followed by 32 hex characters."),
        ("--service-sid", "flex-handover", "'flex-handover' is not a Serverless service SID: expected ZS followed by 32 hex characters."),
        ("--task-channel", "web chat", "'web chat' is not a task channel unique name such as chat, sms or voice."),
        ("--task-channel", "", "'' is not a task channel unique name such as chat, sms or voice."),
    ],
)
def test_malformed_option_is_a_usage_error_before_any_request(env_set, emulator, account_env, twilio, project, deployed, option, value, message):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    given = {"--workspace-sid": twilio.account.workspace_sid, "--workflow-sid": twilio.account.workflow_sid, "--service-sid": deployed.service_sid}
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
        "Error: No Twilio credentials found. Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and "
        "TWILIO_API_SECRET) in the environment or in the project's .env.\n"
    )
    assert emulator.requests == []
    assert read_env(project) == ENV_BEFORE


def test_local_only_still_needs_credentials_to_verify(env_set, emulator, account_env, project, monkeypatch, sids):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    result = env_set(*sids, "--local-only")
    assert result.exit_code == 2
    assert result.stderr == USAGE + (
        "Error: TWILIO_ACCOUNT_SID is set in the environment but neither TWILIO_AUTH_TOKEN nor TWILIO_API_KEY is. Set TWILIO_ACCOUNT_SID "
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
    result = env_set("--workspace-sid", MISSING_WORKSPACE, "--workflow-sid", twilio.account.workflow_sid, "--service-sid", deployed.service_sid)
    verification_fails(
        result, emulator, project,
        f"TaskRouter workspace {MISSING_WORKSPACE} does not exist in this account. "
        "Use the workspace of your Flex instance: Console > TaskRouter > Workspaces (\"Flex Task Assignment\").",
    )
    assert [(r.method, r.path) for r in emulator.requests] == [("GET", f"/v1/Workspaces/{MISSING_WORKSPACE}")]


def test_a_workflow_of_another_workspace_names_that_workspace(env_set, emulator, account_env, twilio, project, deployed, other_workspace):
    ws = twilio.account.workspace_sid
    owner, foreign_workflow = other_workspace
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set("--workspace-sid", ws, "--workflow-sid", foreign_workflow, "--service-sid", deployed.service_sid)
    verification_fails(
        result, emulator, project,
        f"TaskRouter workflow {foreign_workflow} is not in workspace {ws}: it belongs to workspace {owner}. "
        f"Use a workflow of workspace {ws}: Console > TaskRouter > Workspaces > {ws} > Workflows.",
    )


def test_a_workflow_that_exists_nowhere(env_set, emulator, account_env, twilio, project, deployed):
    ws = twilio.account.workspace_sid
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set("--workspace-sid", ws, "--workflow-sid", MISSING_WORKFLOW, "--service-sid", deployed.service_sid)
    verification_fails(
        result, emulator, project,
        f"TaskRouter workflow {MISSING_WORKFLOW} is not in workspace {ws}: it does not exist in any workspace of this account. "
        f"Use a workflow of workspace {ws}: Console > TaskRouter > Workspaces > {ws} > Workflows.",
    )


def test_a_missing_task_channel_lists_the_channels(env_set, emulator, account_env, twilio, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    result = env_set(*sids, "--task-channel", "email", "--service-sid", deployed.service_sid)
    verification_fails(
        result, emulator, project,
        f"Workspace {twilio.account.workspace_sid} has no task channel 'email' (it has: default, chat, sms, voice). "
        "Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task Channels.",
    )


def test_without_task_channel_the_channel_of_dotenv_is_checked(env_set, emulator, account_env, twilio, project, deployed, sids):
    env_before = ENV_BEFORE + "FLEX_TASK_CHANNEL=email\n"
    (project / ".env").write_text(env_before, encoding="utf-8")
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: Workspace {twilio.account.workspace_sid} has no task channel 'email' (it has: default, chat, sms, voice). "
        "Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task Channels. Nothing was written."
    )
    assert writes(emulator) == []
    assert read_env(project) == env_before


def test_no_verify_skips_the_routing_checks(env_set, emulator, account_env, project, deployed):
    result = env_set("--workspace-sid", MISSING_WORKSPACE, "--workflow-sid", MISSING_WORKFLOW, "--no-verify", "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert [r.host for r in emulator.requests if r.host == "taskrouter.twilio.com"] == []
    assert remote(emulator, deployed) == {"FLEX_WORKSPACE_SID": MISSING_WORKSPACE, "FLEX_WORKFLOW_SID": MISSING_WORKFLOW}


# Failures while writing -------------------------------------------------------------------------------


def test_a_failed_write_says_what_was_applied_and_a_rerun_finishes(env_set, emulator, account_env, twilio, project, deployed, sids):
    ws, ww = twilio.account.workspace_sid, twilio.account.workflow_sid
    zv = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKFLOW_SID", OLD_WORKFLOW)["sid"]
    emulator.inject(Fault("POST", f"/Variables/{zv}", status=500))
    path = variables_path(deployed)
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == lines(deployed, ("FLEX_WORKSPACE_SID", "created", "created"), ("FLEX_WORKFLOW_SID", "created", "failed"))
    assert result.stderr.splitlines() == [
        *notes(emulator, deployed),
        f"Error: Stopped: setting FLEX_WORKFLOW_SID on environment {deployed.environment_sid} failed: HTTP 500, Twilio error 20500: "
        "Unable to update record: Injected fault 500. Applied: FLEX_WORKSPACE_SID in .env (created), FLEX_WORKFLOW_SID in .env (created), "
        "FLEX_WORKSPACE_SID on the environment (created). Not applied on the environment: FLEX_WORKFLOW_SID. "
        "Run the same command again to finish; it writes only what is still missing.",
    ]
    assert writes(emulator) == [("POST", path, {"Key": "FLEX_WORKSPACE_SID", "Value": ws}), ("POST", f"{path}/{zv}", {"Value": ww})]
    assert remote(emulator, deployed) == {"FLEX_WORKFLOW_SID": OLD_WORKFLOW, "FLEX_WORKSPACE_SID": ws}
    assert read_env(project) == f"FLEX_WORKSPACE_SID={ws}\nFLEX_WORKFLOW_SID={ww}\n"

    emulator.clear_traffic()
    again = env_set(*sids, "--service-sid", deployed.service_sid)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == lines(deployed, ("FLEX_WORKSPACE_SID", "unchanged", "unchanged"), ("FLEX_WORKFLOW_SID", "unchanged", "updated"))
    assert again.stderr.splitlines()[-1] == "1 write(s)."
    assert writes(emulator) == [("POST", f"{path}/{zv}", {"Value": ww})]
    assert remote(emulator, deployed) == {"FLEX_WORKFLOW_SID": ww, "FLEX_WORKSPACE_SID": ws}


def test_a_failed_first_write_leaves_the_rest_not_applied_in_json(env_set, emulator, account_env, twilio, project, deployed, sids):
    emulator.inject(Fault("POST", variables_path(deployed), status=400, code=20001))
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only", "--json")
    assert result.exit_code == 1
    error = f"setting FLEX_WORKSPACE_SID on environment {deployed.environment_sid} failed: HTTP 400, Twilio error 20001: Unable to create record: Injected fault 400"
    assert json.loads(result.stdout)["variables"] == [
        {"key": "FLEX_WORKSPACE_SID", "local": None, "remote": "failed"},
        {"key": "FLEX_WORKFLOW_SID", "local": None, "remote": "not applied"},
    ]
    assert (json.loads(result.stdout)["complete"], json.loads(result.stdout)["error"]) == (False, error)
    assert result.stderr.splitlines()[-1] == (
        f"Error: Stopped: {error}. Applied: nothing. Not applied on the environment: FLEX_WORKSPACE_SID, FLEX_WORKFLOW_SID. "
        "Run the same command again to finish; it writes only what is still missing."
    )
    assert len(writes(emulator)) == 1
    assert remote(emulator, deployed) == {}
    assert read_env(project) is None


def test_a_dropped_connection_while_writing_says_what_was_applied(env_set, emulator, account_env, twilio, project, deployed, sids, monkeypatch):
    monkeypatch.setattr(credentials, "RETRY_BACKOFF_SECONDS", 0)  # urllib3 retries a request the proxy dropped
    zv = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKFLOW_SID", OLD_WORKFLOW)["sid"]
    emulator.inject(Fault("POST", f"/Variables/{zv}", drop=True, times=None))
    result = env_set(*sids, "--service-sid", deployed.service_sid, "--remote-only")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"FLEX_WORKSPACE_SID  environment {deployed.domain_name}: created",
        f"FLEX_WORKFLOW_SID   environment {deployed.domain_name}: failed",
    ]
    assert result.stderr.splitlines()[-1] == (
        f"Error: Stopped: setting FLEX_WORKFLOW_SID on environment {deployed.environment_sid} failed: could not reach Twilio "
        "(ProxyError). Applied: FLEX_WORKSPACE_SID on the environment (created). Not applied on the environment: "
        "FLEX_WORKFLOW_SID. Run the same command again to finish; it writes only what is still missing."
    )
    assert remote(emulator, deployed) == {"FLEX_WORKFLOW_SID": OLD_WORKFLOW, "FLEX_WORKSPACE_SID": twilio.account.workspace_sid}


def test_a_failed_listing_writes_nothing_anywhere(env_set, emulator, account_env, project, deployed, sids):
    (project / ".env").write_text(ENV_BEFORE, encoding="utf-8")
    emulator.inject(Fault("GET", "/Variables", status=403, code=20403, times=None))
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"Error: Twilio answered GET {variables_path(deployed).removeprefix('/v1')} with HTTP 403, error 20403: Unable to fetch page: Injected fault 403"
    )
    assert writes(emulator) == []
    assert read_env(project) == ENV_BEFORE


# Secrets ------------------------------------------------------------------------------------------------


def test_an_api_key_secret_is_never_printed(env_set, emulator, api_key, twilio, project, deployed, sids, other_workspace):
    """The env_set fixture checks every run's output for the secret; these runs cover success and each failure."""
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [*notes(emulator, deployed, f"API key {api_key}"), "4 write(s)."]
    assert {r.auth_user for r in emulator.requests} == {api_key}
    refused = env_set("--workspace-sid", twilio.account.workspace_sid, "--workflow-sid", other_workspace[1])
    assert refused.exit_code == 1 and "it belongs to workspace" in refused.stderr
    emulator.inject(Fault("POST", "/Variables/", status=500))
    failed = env_set("--workspace-sid", twilio.account.workspace_sid, "--workflow-sid", MISSING_WORKFLOW, "--no-verify", "--service-sid", deployed.service_sid)
    assert failed.exit_code == 1 and "Error: Stopped: setting FLEX_WORKFLOW_SID" in failed.stderr
    emulator.inject(Fault("GET", "/Variables", status=403, times=None))
    unlisted = env_set(*sids, "--service-sid", deployed.service_sid)
    assert unlisted.exit_code == 1 and "HTTP 403, error 20001: Unable to fetch page" in unlisted.stderr


def test_a_rejected_secret_is_not_printed_either(env_set, emulator, account_env, deployed, monkeypatch, sids):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "wrong-token-that-must-not-be-printed")
    result = env_set(*sids, "--service-sid", deployed.service_sid)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: Twilio answered GET /Workspaces/{sids[1]} with HTTP 401, error 20003: Unable to fetch record: Authentication Error - invalid username"
    )
    assert writes(emulator) == []
    assert "wrong-token-that-must-not-be-printed" not in result.output


# .env writing -----------------------------------------------------------------------------------------


def test_write_local_keeps_comments_blank_lines_and_other_keys(tmp_path):
    path = tmp_path / ".env"
    path.write_text("# Twilio\nACCOUNT_SID=AC1\n\n# Flex\nFLEX_WORKSPACE_SID=WSold\nOTHER=x # trailing\n", encoding="utf-8")
    envvars.write_local(path, {"FLEX_WORKSPACE_SID": "WSnew", "FLEX_WORKFLOW_SID": "WWnew"})
    assert path.read_text(encoding="utf-8") == (
        "# Twilio\nACCOUNT_SID=AC1\n\n# Flex\nFLEX_WORKSPACE_SID=WSnew\nOTHER=x # trailing\nFLEX_WORKFLOW_SID=WWnew\n"
    )


def test_write_local_keeps_the_export_prefix_and_spacing(tmp_path):
    path = tmp_path / ".env"
    path.write_text("export FLEX_WORKSPACE_SID=WSold\n  FLEX_WORKFLOW_SID = 'WWold'\n", encoding="utf-8")
    envvars.write_local(path, {"FLEX_WORKSPACE_SID": "WSnew", "FLEX_WORKFLOW_SID": "WWnew"})
    assert path.read_text(encoding="utf-8") == "export FLEX_WORKSPACE_SID=WSnew\n  FLEX_WORKFLOW_SID =WWnew\n"
    assert dotenv_values(path) == {"FLEX_WORKSPACE_SID": "WSnew", "FLEX_WORKFLOW_SID": "WWnew"}


def test_write_local_sets_every_occurrence_of_a_duplicated_key(tmp_path):
    path = tmp_path / ".env"
    path.write_text("FLEX_TASK_CHANNEL=chat\nX=1\nFLEX_TASK_CHANNEL=voice\n", encoding="utf-8")
    envvars.write_local(path, {"FLEX_TASK_CHANNEL": "sms"})
    assert path.read_text(encoding="utf-8") == "FLEX_TASK_CHANNEL=sms\nX=1\nFLEX_TASK_CHANNEL=sms\n"


def test_write_local_does_not_touch_a_key_that_only_starts_the_same(tmp_path):
    path = tmp_path / ".env"
    path.write_text("FLEX_WORKSPACE_SID_OLD=WSold\n# FLEX_WORKSPACE_SID=commented\n", encoding="utf-8")
    envvars.write_local(path, {"FLEX_WORKSPACE_SID": "WSnew"})
    assert path.read_text(encoding="utf-8") == "FLEX_WORKSPACE_SID_OLD=WSold\n# FLEX_WORKSPACE_SID=commented\nFLEX_WORKSPACE_SID=WSnew\n"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("chat", "chat"),
        ("a b", '"a b"'),
        ("x#y", '"x#y"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("", ""),
    ],
)
def test_write_local_quotes_values_that_need_it(tmp_path, value, written):
    path = tmp_path / ".env"
    envvars.write_local(path, {"KEY": value})
    assert path.read_text(encoding="utf-8") == f"KEY={written}\n"
    assert dotenv_values(path) == {"KEY": value}


def test_a_new_dotenv_is_private_to_its_owner(tmp_path):
    path = tmp_path / ".env"
    envvars.write_local(path, {"KEY": "value"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_an_existing_dotenv_keeps_its_mode(tmp_path):
    path = tmp_path / ".env"
    path.write_text("KEY=old\n", encoding="utf-8")
    path.chmod(0o640)
    envvars.write_local(path, {"KEY": "new"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text(encoding="utf-8") == "KEY=new\n"


def test_a_failed_write_leaves_the_old_dotenv_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("KEY=old\n", encoding="utf-8")

    def refuse(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(envvars.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        envvars.write_local(path, {"KEY": "new"})
    assert path.read_text(encoding="utf-8") == "KEY=old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_the_cli_creates_dotenv_private_and_keeps_an_existing_mode(env_set, account_env, project, sids):
    assert env_set(*sids, "--local-only", "--no-verify").exit_code == 0
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    (project / ".env").chmod(0o644)
    assert env_set("--workspace-sid", MISSING_WORKSPACE, "--workflow-sid", MISSING_WORKFLOW, "--local-only", "--no-verify").exit_code == 0
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o644


def test_local_actions_compare_with_what_dotenv_reads(tmp_path):
    path = tmp_path / ".env"
    assert envvars.local_actions(path, {"A": "1"}) == {"A": "created"}
    path.write_text("export A='1'\nB=2\nC=\n", encoding="utf-8")
    assert envvars.local_actions(path, {"A": "1", "B": "3", "C": "x", "D": "4"}) == {
        "A": "unchanged", "B": "updated", "C": "updated", "D": "created"
    }


def test_a_key_given_twice_in_dotenv_is_compared_by_its_last_value(tmp_path):
    """dotenv (Python's and Node's, which twilio-run uses) keeps the last value of a key given twice."""
    path = tmp_path / ".env"
    path.write_text("A=old\nA=1\n", encoding="utf-8")
    assert envvars.local_actions(path, {"A": "1"}) == {"A": "unchanged"}
    assert envvars.local_actions(path, {"A": "old"}) == {"A": "updated"}
