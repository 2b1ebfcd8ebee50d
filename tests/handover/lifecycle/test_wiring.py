"""`handover handback wire` end to end against the emulator: the workspace's event callback pointed at the deployed
/lifecycle/task-events, only where it differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from handover.cli import cli
from handover.lifecycle import wiring
from tests.handover.conftest import writes
from twilio_emulator import Fault, set_variable
from twilio_emulator.products import taskrouter

HANDBACK_FILTER = "task.wrapup,task.completed,task.canceled"
# Someone else's callback, a secret in its query and its user:password (Twilio takes basic-auth credentials there).
THEIRS = "https://ops:hunter2@hooks.example.com/taskrouter?token=s3cret-in-the-query"
THEIRS_SHOWN = "https://hooks.example.com/taskrouter"
THEIR_SECRETS = ("hunter2", "s3cret-in-the-query")
MISSING_WORKSPACE = "WS" + "0" * 32
USAGE = "Usage: cli handback wire [OPTIONS]\nTry 'cli handback wire -h' for help.\n\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workspace(twilio) -> str:
    """A workspace of the test's own (no event callback yet), gone again after the test."""
    emulator = twilio.emulator
    with emulator.lock:
        sid = taskrouter.add_workspace(emulator, "Hand-back Tests")["sid"]
    yield sid
    with emulator.lock:
        emulator.table("workspaces").pop(sid)


@pytest.fixture
def wire(runner, twilio, project, deployed):
    """Run `handover handback wire --service-sid <the deployment>` on the project copy; no run may print the auth
    token, nor the secrets of another callback URL."""

    def run(*args: str):
        result = runner.invoke(
            cli,
            ["--project-dir", str(project), "handback", "wire", "--service-sid", deployed.service_sid, *args],
            catch_exceptions=False,
        )
        for secret in (twilio.emulator.account.auth_token, *THEIR_SECRETS):
            assert secret not in result.stdout and secret not in result.stderr
        return result

    return run


@pytest.fixture
def configured(emulator, deployed, workspace) -> str:
    """FLEX_WORKSPACE_SID on the deployed environment, as `env set` leaves it: the workspace."""
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKSPACE_SID", workspace)
    return workspace


def ours(deployed) -> str:
    return f"https://{deployed.domain_name}/lifecycle/task-events"


def callback(emulator, workspace: str) -> tuple[str | None, str | None]:
    """(EventCallbackUrl, EventsFilter) as the emulated workspace holds them."""
    held = emulator.table("workspaces")[workspace]
    return held["event_callback_url"], held["events_filter"]


def set_callback(emulator, workspace: str, url: str | None, events_filter: str | None) -> None:
    with emulator.lock:
        emulator.table("workspaces")[workspace].update(event_callback_url=url, events_filter=events_filter)


def notes(emulator, deployed, *workspace: str) -> list[str]:
    """The notes on stderr before the result: the credentials, the service, the environment (and the workspace)."""
    return [
        f"Using account {emulator.account.sid} (auth token, from the environment).",
        f"Using service {deployed.service_sid} (found by --service-sid).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
        *(f"Using workspace {sid}." for sid in workspace),
    ]


def variables_path(deployed) -> str:
    return f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables"


def lines(workspace: str, outcome: str, url: str, events: str) -> list[str]:
    return [f"workspace {workspace}: {outcome}", f"  event callback url: {url}", f"  events filter: {events}"]


# The first run, a second one, a filter that leaves events out ---------------------------------------------


def test_a_first_run_sets_our_url_and_the_hand_back_events_in_one_update(
    wire, emulator, account_env, deployed, configured
):
    ws = configured
    result = wire()
    assert result.exit_code == 0, result.output
    body = {"EventCallbackUrl": ours(deployed), "EventsFilter": HANDBACK_FILTER}
    assert result.stdout.splitlines() == [
        *lines(ws, "created", ours(deployed), HANDBACK_FILTER),
        f"  POST /v1/Workspaces/{ws} {json.dumps(body)}",
    ]
    assert result.stderr.splitlines() == [
        *notes(emulator, deployed, f"{ws} (FLEX_WORKSPACE_SID on the environment)"),
        "1 write(s).",
    ]
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", variables_path(deployed)),
        ("GET", f"/v1/Workspaces/{ws}"),
        ("POST", f"/v1/Workspaces/{ws}"),
    ]
    assert writes(emulator) == [("POST", f"/v1/Workspaces/{ws}", body)]
    assert callback(emulator, ws) == (ours(deployed), HANDBACK_FILTER)


def test_a_second_run_writes_nothing(wire, emulator, account_env, deployed, configured):
    assert wire().exit_code == 0
    emulator.clear_traffic()
    result = wire()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(configured, "unchanged", ours(deployed), HANDBACK_FILTER)
    assert result.stderr.splitlines()[-1] == "The hand-back was already wired; nothing was written."
    assert writes(emulator) == []
    assert callback(emulator, configured) == (ours(deployed), HANDBACK_FILTER)


def test_our_url_without_a_filter_gets_every_event_and_is_left_alone(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, ours(deployed), None)
    result = wire()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == lines(
        configured, "unchanged", ours(deployed), "none (TaskRouter sends every event)"
    )
    assert writes(emulator) == []
    assert callback(emulator, configured) == (ours(deployed), None)


def test_a_filter_that_covers_the_events_among_others_is_left_alone(wire, emulator, account_env, deployed, configured):
    mine = "task.canceled, task.created,task.completed,worker.activity.update,task.wrapup"
    set_callback(emulator, configured, ours(deployed), mine)
    result = wire()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"workspace {configured}: unchanged"
    assert writes(emulator) == []
    assert callback(emulator, configured) == (ours(deployed), mine)


def test_a_filter_that_leaves_events_out_gets_them_added_at_its_end(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, ours(deployed), "task.created,task.completed")
    result = wire()
    assert result.exit_code == 0, result.output
    wanted = "task.created,task.completed,task.wrapup,task.canceled"
    assert result.stdout.splitlines() == [
        *lines(configured, "updated", ours(deployed), wanted),
        f"  POST /v1/Workspaces/{configured} {json.dumps({'EventsFilter': wanted})}",
    ]
    # The URL is ours already: only the filter is sent.
    assert writes(emulator) == [("POST", f"/v1/Workspaces/{configured}", {"EventsFilter": wanted})]
    assert callback(emulator, configured) == (ours(deployed), wanted)


# Someone else's URL -------------------------------------------------------------------------------------------


def test_another_url_is_refused_naming_it_without_its_secrets(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, THEIRS, "worker.activity.update")
    result = wire()
    assert result.exit_code == 1
    assert result.stdout == ""
    url = ours(deployed)
    assert result.stderr.splitlines()[-1] == (
        f"Error: Workspace {configured} already sends its events to {THEIRS_SHOWN} (its EventCallbackUrl), and "
        "TaskRouter calls one URL per workspace. Nothing was written. Either run the same command with --replace to "
        f"point it at {url} ({THEIRS_SHOWN} then gets no event: the kit does not forward them), or keep yours and "
        f"have it forward the task.wrapup, task.completed and task.canceled events to {url}, re-signed with the "
        f"account's auth token: an X-Twilio-Signature computed over {url} and the event's parameters (for example "
        "twilio's RequestValidator(auth_token).compute_signature(url, params))."
    )
    assert writes(emulator) == []
    assert callback(emulator, configured) == (THEIRS, "worker.activity.update")


def test_replace_points_it_at_ours_and_names_the_url_replaced(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, THEIRS, "worker.activity.update")
    result = wire("--replace")
    assert result.exit_code == 0, result.output
    body = {"EventCallbackUrl": ours(deployed), "EventsFilter": HANDBACK_FILTER}
    assert result.stdout.splitlines() == [
        *lines(configured, "updated", ours(deployed), HANDBACK_FILTER),
        f"  POST /v1/Workspaces/{configured} {json.dumps(body)}",
    ]
    assert result.stderr.splitlines()[-2:] == [
        f"Replaced the EventCallbackUrl {THEIRS_SHOWN}: it gets no event of workspace {configured} now (the kit "
        "does not forward them).",
        "1 write(s).",
    ]
    assert writes(emulator) == [("POST", f"/v1/Workspaces/{configured}", body)]
    assert callback(emulator, configured) == (ours(deployed), HANDBACK_FILTER)


def test_replace_json_names_the_url_replaced(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, THEIRS, None)
    result = wire("--replace", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["replaced"] == THEIRS_SHOWN


# --dry-run and --json ------------------------------------------------------------------------------------------


def test_dry_run_prints_the_request_and_writes_nothing(wire, emulator, account_env, deployed, configured):
    result = wire("--dry-run")
    assert result.exit_code == 0, result.output
    body = {"EventCallbackUrl": ours(deployed), "EventsFilter": HANDBACK_FILTER}
    assert result.stdout.splitlines() == [
        *lines(configured, "to create", ours(deployed), HANDBACK_FILTER),
        f"  would send: POST /v1/Workspaces/{configured} {json.dumps(body)}",
    ]
    assert result.stderr.splitlines()[-1] == "Dry run: nothing was written."
    assert writes(emulator) == []
    assert callback(emulator, configured) == (None, None)


def test_dry_run_of_a_replace_says_what_it_would_replace(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, THEIRS, None)
    result = wire("--replace", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"workspace {configured}: to update"
    assert result.stderr.splitlines()[-2:] == [
        f"Would replace the EventCallbackUrl {THEIRS_SHOWN}: it would get no event of workspace {configured} then "
        "(the kit does not forward them).",
        "Dry run: nothing was written.",
    ]
    assert writes(emulator) == []
    assert callback(emulator, configured) == (THEIRS, None)


def test_json_is_the_whole_result(wire, emulator, account_env, deployed, configured):
    result = wire("--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "workspace": configured,
        "url": ours(deployed),
        "events_filter": ["task.wrapup", "task.completed", "task.canceled"],
        "outcome": "created",
        "replaced": None,
        "dry_run": False,
        "write": {
            "method": "POST",
            "path": f"/v1/Workspaces/{configured}",
            "body": {"EventCallbackUrl": ours(deployed), "EventsFilter": HANDBACK_FILTER},
        },
    }
    assert "Using workspace" in result.stderr  # messages on stderr, data alone on stdout


def test_json_of_an_unchanged_workspace_without_a_filter(wire, emulator, account_env, deployed, configured):
    set_callback(emulator, configured, ours(deployed), None)
    result = wire("--json", "--dry-run")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "workspace": configured,
        "url": ours(deployed),
        "events_filter": [],
        "outcome": "unchanged",
        "replaced": None,
        "dry_run": True,
        "write": None,
    }


# Which workspace ----------------------------------------------------------------------------------------------


def test_workspace_sid_wins_and_needs_no_listing_of_the_variables(wire, emulator, account_env, deployed, workspace):
    result = wire("--workspace-sid", workspace)
    assert result.exit_code == 0, result.output
    assert "Using workspace" not in result.stderr
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", f"/v1/Workspaces/{workspace}"),
        ("POST", f"/v1/Workspaces/{workspace}"),
    ]
    assert callback(emulator, workspace) == (ours(deployed), HANDBACK_FILTER)


def test_the_workspace_of_dotenv_when_the_environment_has_none(
    wire, emulator, account_env, project, deployed, workspace
):
    (project / ".env").write_text(f"FLEX_WORKSPACE_SID={workspace}\n", encoding="utf-8")
    result = wire()
    assert result.exit_code == 0, result.output
    assert f"Using workspace {workspace} (FLEX_WORKSPACE_SID in .env)." in result.stderr.splitlines()
    assert callback(emulator, workspace) == (ours(deployed), HANDBACK_FILTER)


def test_the_environments_workspace_wins_over_dotenvs(wire, emulator, account_env, project, deployed, configured):
    # The deployed function creates its tasks in the environment's workspace, so those are the events that matter.
    (project / ".env").write_text(f"FLEX_WORKSPACE_SID={MISSING_WORKSPACE}\n", encoding="utf-8")
    result = wire()
    assert result.exit_code == 0, result.output
    assert callback(emulator, configured) == (ours(deployed), HANDBACK_FILTER)


def test_no_workspace_anywhere_is_a_usage_error_before_any_taskrouter_request(
    wire, emulator, account_env, deployed, workspace
):
    result = wire()
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.endswith(
        USAGE + "Error: No TaskRouter workspace to wire: FLEX_WORKSPACE_SID is set neither on the environment nor "
        "in .env. Pass --workspace-sid WS…, or run `handover env set --workspace-sid WS… --workflow-sid WW… "
        "[--task-channel <name>]`.\n"
    )
    # Only what finding the deployment's variables takes: the environment's listing, then its variables'.
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", variables_path(deployed)),
    ]


def test_a_malformed_workspace_of_the_environment_is_a_usage_error(wire, emulator, account_env, deployed):
    set_variable(emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKSPACE_SID", "WS123")
    result = wire()
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: FLEX_WORKSPACE_SID on the environment is 'WS123', not WS followed by 32 hex characters. Pass "
        "--workspace-sid WS…, or run `handover env set --workspace-sid WS… --workflow-sid WW… [--task-channel "
        "<name>]`.\n"
    )
    assert not any(r.path.startswith("/v1/Workspaces") for r in emulator.requests)


def test_a_malformed_workspace_sid_is_a_usage_error_before_any_request(wire, emulator, account_env, deployed):
    result = wire("--workspace-sid", "WS123")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Error: Invalid value for '--workspace-sid': 'WS123' is not a TaskRouter workspace SID: expected WS followed "
        "by 32 hex characters.\n"
    )
    assert emulator.requests == []


def test_a_workspace_that_does_not_exist_writes_nothing(wire, emulator, account_env, deployed):
    result = wire("--workspace-sid", MISSING_WORKSPACE)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: TaskRouter workspace {MISSING_WORKSPACE} (--workspace-sid) does not exist in this account. Nothing "
        "was written. Use the workspace of your Flex instance (Console > TaskRouter > Workspaces): pass "
        "--workspace-sid WS…, or run `handover env set --workspace-sid WS… --workflow-sid WW… [--task-channel <name>]`."
    )
    assert writes(emulator) == []


# Failures -------------------------------------------------------------------------------------------------------


def test_a_refused_update_is_worded_as_twilio_answered_it_and_applies_nothing(
    wire, emulator, account_env, deployed, configured
):
    emulator.inject(Fault("POST", f"/v1/Workspaces/{configured}", status=500))
    result = wire()
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"Error: Twilio answered POST /Workspaces/{configured} with HTTP 500, error 20500: Unable to update record: "
        "Injected fault 500"
    )
    assert result.stdout == ""
    # The one update was tried once (a POST is not retried) and refused: the workspace is as it was.
    assert [(r.method, r.path) for r in emulator.requests if r.method != "GET"] == [
        ("POST", f"/v1/Workspaces/{configured}")
    ]
    assert callback(emulator, configured) == (None, None)
    emulator.clear_traffic()
    assert wire().exit_code == 0  # and the same command finishes it
    assert callback(emulator, configured) == (ours(deployed), HANDBACK_FILTER)


def test_no_deployment_stops_before_the_workspace_is_read(runner, emulator, account_env, project, workspace):
    result = runner.invoke(
        cli,
        ["--project-dir", str(project), "handback", "wire", "--service-sid", "ZS" + "0" * 32],
        catch_exceptions=False,
    )
    assert result.exit_code == 1
    assert "Service ZS" + "0" * 32 + " does not exist in this account." in result.stderr
    assert not any(r.path.startswith("/v1/Workspaces") for r in emulator.requests)


# The wiring's pieces ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (THEIRS, THEIRS_SHOWN),
        ("https://hooks.example.com:8443/a/b#rc=2", "https://hooks.example.com:8443/a/b"),
        ("https://hooks.example.com/plain", "https://hooks.example.com/plain"),
    ],
)
def test_a_url_of_the_users_is_shown_without_what_may_carry_a_secret(url, shown):
    assert wiring.shown_url(url) == shown


def test_the_hand_back_events_are_the_ends_of_a_task():
    assert wiring.HANDBACK_EVENTS == ("task.wrapup", "task.completed", "task.canceled")
    assert wiring.TASK_EVENTS_PATH == "/lifecycle/task-events"
    assert (Path(__file__).parents[3] / "functions/lifecycle/task-events.protected.js").exists()
