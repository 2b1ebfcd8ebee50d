"""A newcomer's first runs: every command that talks to the account, run without credentials (none in the environment
or .env) or before any deployment, stops before any request and says the one next step to take."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from handover.account.credentials import CREDENTIALS_NEXT_STEP, NO_CREDENTIALS
from handover.account.deployment import DEPLOY_HINT
from handover.cli import cli
from tests.handover.conftest import FOREIGN_VARIABLES

WS, WW = "WS" + "0" * 32, "WW" + "0" * 32
CONFIGURATION = "conv_configuration_0" + "0" * 25
NO_SERVICE = (
    "No deployed service found: no serviceSid in .twilioserverlessrc, no .twiliodeployinfo, no service name. "
    + DEPLOY_HINT
)
# Each command that needs the account, with the options its own checks ask for first.
ACCOUNT_COMMANDS = [
    ("validate", "--deployed"),
    ("env", "set", "--workspace-sid", WS, "--workflow-sid", WW),
    ("tool", "show"),
    ("tool", "register", "--assistant-id", "aia_asst_1"),
    ("tac", "addresses", "--address", "+15551234567"),
    ("tac", "orchestrator", "--configuration-id", CONFIGURATION),
    ("tac", "summaries", "--configuration-id", CONFIGURATION),
    ("tac", "studio", "--from-address", "+15551234567"),
    ("handback", "wire"),
    ("voice", "wire", "--number", "+15551234567", "--relay-url", "wss://ai.example.com/relay"),
    ("plugin", "deploy", "--no-build"),
]
# Each command that needs the deployment: the next step is to deploy.
DEPLOYMENT_COMMANDS = [
    ("validate", "--deployed"),
    ("env", "set", "--workspace-sid", WS, "--workflow-sid", WW),
    ("tool", "show"),
    ("tool", "register", "--assistant-id", "aia_asst_1"),
    ("handback", "wire"),
    ("voice", "wire", "--number", "+15551234567", "--relay-url", "wss://ai.example.com/relay"),
]


def run(project, *args: str):
    return CliRunner().invoke(cli, ["--project-dir", str(project), *args], catch_exceptions=False)


@pytest.fixture
def no_credentials(monkeypatch):
    for name in FOREIGN_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("args", ACCOUNT_COMMANDS, ids=" ".join)
def test_without_credentials_the_next_step_is_where_they_go(project, no_credentials, args):
    result = run(project, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1] == f"Error: {NO_CREDENTIALS}. {CREDENTIALS_NEXT_STEP}"
    assert not (project / ".env").exists()


def test_doctor_without_credentials_names_the_same_next_step(project, no_credentials):
    result = run(project, "doctor")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        f"FAIL  credentials: {NO_CREDENTIALS}",
        f"      fix: {CREDENTIALS_NEXT_STEP}",
    ]
    assert result.stderr == f"2 check(s) failed. Next: {CREDENTIALS_NEXT_STEP}\n"


@pytest.mark.parametrize("args", DEPLOYMENT_COMMANDS, ids=" ".join)
def test_before_any_deployment_the_next_step_is_to_deploy(project, account_env, emulator, args):
    account = account_env.account  # env set checks the routing first: the account's own workspace and workflow
    result = run(project, *[{WS: account.workspace_sid, WW: account.workflow_sid}.get(a, a) for a in args])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == f"Error: {NO_SERVICE}"
    assert not [r for r in emulator.requests if r.method != "GET"]
    assert not (project / ".env").exists()


def test_doctor_before_any_deployment_names_the_deploy(project, account_env, emulator):
    result = run(project, "doctor")
    assert result.exit_code == 1
    assert f"FAIL  deployment: {NO_SERVICE}" in result.stdout.splitlines()
