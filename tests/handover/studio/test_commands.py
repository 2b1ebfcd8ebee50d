"""`handover studio generate | validate | deploy` end to end against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from handover.account import tokens
from handover.cli import cli
from handover.studio import render
from tests.handover.conftest import writes
from twilio_emulator import Fault
from twilio_emulator.products import studio

FLOW_FILE = "studio/agent-handoff.json"
FROM_ADDRESS = "+15551230000"


@pytest.fixture
def run(twilio, project):
    """Run `handover studio …` on the project copy; no run may print the auth token or a handover token."""
    runner = CliRunner()

    def invoke(*args: str):
        result = runner.invoke(cli, ["--project-dir", str(project), "studio", *args], catch_exceptions=False)
        env = dotenv_values(project / ".env") if (project / ".env").exists() else {}
        for secret in {twilio.emulator.account.auth_token, env.get("HANDOVER_TOKEN")} - {None}:
            assert secret not in result.stdout and secret not in result.stderr
        return result

    return invoke


@pytest.fixture
def channels(twilio) -> dict[str, str]:
    """The seeded workspace's task channels, unique name → TC SID."""
    return {
        c["unique_name"]: c["sid"]
        for c in twilio.emulator.table("task_channels").values()
        if c["workspace_sid"] == twilio.account.workspace_sid
    }


@pytest.fixture
def routing(twilio) -> list[str]:
    return ["--workflow-sid", twilio.account.workflow_sid, "--workspace-sid", twilio.account.workspace_sid]


@pytest.fixture
def generated(run, account_env, routing, project) -> Path:
    """The flow, generated for the seeded account with a static attribute."""
    assert run("generate", *routing, "--attributes", '{"department":"support"}').exit_code == 0
    return project / FLOW_FILE


def flows_named(emulator, name: str) -> list[dict]:
    return [flow for flow in emulator.table("studio_flows").values() if flow["friendly_name"] == name]


@pytest.fixture
def clean_flows(twilio):
    """No "Agent Handoff" flow during the test (the session's are put back after it), none of the test's after it."""
    flows = twilio.emulator.table("studio_flows")
    kept = {sid: flow for sid, flow in flows.items() if flow["friendly_name"] == "Agent Handoff"}
    for sid in kept:
        flows.pop(sid)
    before = set(flows)
    yield
    for sid in set(flows) - before:
        flows.pop(sid)
    flows.update(kept)


# generate -----------------------------------------------------------------------------------------


def test_generate_looks_up_the_channels_and_writes_the_flow(
    run, account_env, emulator, routing, twilio, channels, project
):
    result = run("generate", *routing, "--attributes", '{"department":"support"}')

    assert result.exit_code == 0, result.output
    path = project / FLOW_FILE
    assert result.stdout == f"{path}\n"
    parameters = render.FlowParameters(
        twilio.account.workflow_sid, channels["chat"], channels["voice"], {"department": "support"}
    )
    assert path.read_text(encoding="utf-8") == render.file_text(render.definition(parameters))
    assert result.stderr.splitlines()[-1] == (
        f"{path}: written (workflow {twilio.account.workflow_sid}, messaging channel {channels['chat']}, voice channel "
        f"{channels['voice']})."
    )
    assert [call.operation for call in emulator.requests] == ["GET /v1/Workspaces/{WorkspaceSid}/TaskChannels"]


def test_generate_takes_its_parameters_from_env(run, account_env, emulator, twilio, channels, project):
    (project / ".env").write_text(
        f"FLEX_WORKSPACE_SID={twilio.account.workspace_sid}\nFLEX_WORKFLOW_SID={twilio.account.workflow_sid}\n"
        'FLEX_TASK_CHANNEL=sms\nHANDOVER_ATTRIBUTES=\'{"tier":"gold"}\'\n'
    )
    assert run("generate", "--call-without-handoff", "flex").exit_code == 0
    parameters = render.FlowParameters(
        twilio.account.workflow_sid, channels["sms"], channels["voice"], {"tier": "gold"}, render.TO_FLEX
    )
    assert (project / FLOW_FILE).read_text(encoding="utf-8") == render.file_text(render.definition(parameters))


def test_generate_check_passes_on_a_current_file_and_fails_on_a_changed_one(run, generated, routing, emulator):
    assert run("generate", *routing, "--attributes", '{"department":"support"}', "--check").exit_code == 0
    before = generated.read_text(encoding="utf-8")

    result = run("generate", *routing, "--attributes", '{"department":"sales"}', "--check")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"{generated}: differs from what these parameters render; "
        "run `handover studio generate` (with the same options)."
    )
    assert generated.read_text(encoding="utf-8") == before


def test_generate_to_stdout_writes_no_file_and_needs_no_account_for_channel_sids(run, project, monkeypatch):
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    sids = [
        "--workflow-sid",
        "WW" + "1" * 32,
        "--task-channel",
        "TC" + "2" * 32,
        "--voice-task-channel",
        "TC" + "3" * 32,
    ]

    result = run("generate", *sids, "--out", "-")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == render.definition(
        render.FlowParameters("WW" + "1" * 32, "TC" + "2" * 32, "TC" + "3" * 32)
    )
    assert not (project / "studio").exists()


def test_generate_json_reports_the_parameters(run, account_env, routing, twilio, channels, project):
    result = run("generate", *routing, "--json")
    assert json.loads(result.stdout) == {
        "file": str(project / FLOW_FILE),
        "check": False,
        "written": True,
        "parameters": {
            "workflow_sid": twilio.account.workflow_sid,
            "messaging_channel_sid": channels["chat"],
            "voice_channel_sid": channels["voice"],
            "static_attributes": {},
            "call_without_handoff": "hangup",
        },
    }


def test_generate_names_a_channel_the_workspace_lacks_and_writes_nothing(run, account_env, routing, twilio, project):
    result = run("generate", *routing, "--task-channel", "fax")

    assert result.exit_code == 2
    assert (
        f"Workspace {twilio.account.workspace_sid} has no task channel 'fax' (it has: chat, default, sms, voice)."
        in result.stderr
    )
    assert not (project / "studio").exists()


def test_generate_without_a_workflow_says_how_to_give_one(run, project):
    result = run("generate", "--out", "-")
    assert result.exit_code == 2
    assert "No workflow: pass --workflow-sid WW…, or set FLEX_WORKFLOW_SID" in result.stderr
    assert result.stdout == ""


def test_generate_refuses_static_attributes_send_to_flex_cannot_take_and_writes_nothing(
    run, account_env, routing, project
):
    result = run("generate", *routing, "--attributes", json.dumps({"notes": "x" * 700}))

    assert result.exit_code == 2
    assert "The static attributes make the call_to_flex widget's attributes " in result.stderr
    assert "Send to Flex takes at most 1024." in result.stderr
    assert not (project / "studio").exists()


def test_generate_check_to_stdout_is_a_usage_error(run):
    result = run("generate", "--check", "--out", "-")
    assert result.exit_code == 2
    assert "--check compares a file" in result.stderr


# validate -----------------------------------------------------------------------------------------


def test_validate_runs_the_local_checks_then_studio(run, generated, emulator):
    emulator.clear_traffic()
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"{generated}: valid (local checks and Studio)."
    [call] = emulator.requests
    assert (call.operation, call.body) == (
        "POST /v2/Flows/Validate",
        {
            "FriendlyName": "Agent Handoff",
            "Status": "published",
            "Definition": json.loads(generated.read_text(encoding="utf-8")),
        },
    )


def test_validate_local_only_makes_no_request(run, generated, emulator):
    emulator.clear_traffic()
    assert run("validate", "--local-only").exit_code == 0
    assert emulator.requests == []


def test_validate_names_each_local_problem_and_does_not_ask_studio(run, generated, emulator):
    flow = json.loads(generated.read_text(encoding="utf-8"))
    flow["states"][0]["transitions"][1]["next"] = "nowhere"
    generated.write_text(json.dumps(flow))
    emulator.clear_traffic()

    result = run("validate", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert (report["valid"], report["checked_by"]) == (False, "the local checks")
    assert report["problems"][0] == "#/states/0/transitions/1: 'incomingCall' leads to 'nowhere', which names no state"
    assert emulator.requests == []


def test_validate_names_attributes_send_to_flex_cannot_take_by_their_pointer(run, generated, emulator):
    flow = json.loads(generated.read_text(encoding="utf-8"))
    index, to_flex = next((i, s) for i, s in enumerate(flow["states"]) if s["name"] == "messaging_to_flex")
    to_flex["properties"]["attributes"] = to_flex["properties"]["attributes"].replace("support", "x" * 700)
    generated.write_text(json.dumps(flow))
    emulator.clear_traffic()

    result = run("validate")

    assert result.exit_code == 1
    assert result.stdout == (
        f"#/states/{index}/properties/attributes: send-to-flex widget 'messaging_to_flex': its attributes are "
        f"{len(to_flex['properties']['attributes'])} characters (Liquid included); Send to Flex takes at most 1024\n"
    )
    assert result.stderr.splitlines()[-1] == f"{generated}: 1 problem(s) found by the local checks."
    assert emulator.requests == []


def test_validate_reports_what_studio_refuses(run, generated, emulator):
    emulator.inject(Fault("POST", "/v2/Flows/Validate", status=400, code=81022))

    result = run("validate")

    assert result.exit_code == 1
    assert result.stdout == "Twilio error 81022: Unable to update record: Injected fault 400\n"
    assert result.stderr.splitlines()[-1] == f"{generated}: 1 problem(s) found by Studio's validation."


def test_validate_without_a_file_says_to_generate(run, project):
    result = run("validate", "--local-only")
    assert result.exit_code == 1
    assert f"{project / FLOW_FILE} does not exist. Run `handover studio generate` first." in result.stderr


# deploy -------------------------------------------------------------------------------------------


def remote_variables(emulator, deployed) -> dict[str, str]:
    return {
        v["key"]: v["value"]
        for v in emulator.table("serverless_variables").values()
        if v["environment_sid"] == deployed.environment_sid
    }


def test_deploy_creates_publishes_and_wires_the_flow_then_a_second_run_writes_nothing(
    run, generated, emulator, deployed, project, clean_flows
):
    definition = json.loads(generated.read_text(encoding="utf-8"))
    emulator.clear_traffic()

    first = run("deploy", "--service-sid", deployed.service_sid, "--from-address", FROM_ADDRESS)

    assert first.exit_code == 0, first.output
    [flow] = flows_named(emulator, "Agent Handoff")
    assert (flow["status"], flow["revision"], flow["definition"]) == ("published", 1, definition)
    token = dotenv_values(project / ".env")["HANDOVER_TOKEN"]
    assert tokens.valid(token)
    variables = f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables"
    assert writes(emulator) == [
        (
            "POST",
            "/v2/Flows/Validate",
            {"FriendlyName": "Agent Handoff", "Status": "published", "Definition": definition},
        ),
        (
            "POST",
            "/v2/Flows",
            {
                "FriendlyName": "Agent Handoff",
                "Status": "published",
                "Definition": definition,
                "CommitMessage": "Deployed by handover studio deploy",
            },
        ),
        ("POST", variables, {"Key": "TWILIO_STUDIO_HANDOFF_FLOW_SID", "Value": flow["sid"]}),
        ("POST", variables, {"Key": "STUDIO_FROM_ADDRESS", "Value": FROM_ADDRESS}),
        ("POST", variables, {"Key": "HANDOVER_TOKEN", "Value": token}),
    ]
    expected_remote = {
        "TWILIO_STUDIO_HANDOFF_FLOW_SID": flow["sid"],
        "STUDIO_FROM_ADDRESS": FROM_ADDRESS,
        "HANDOVER_TOKEN": token,
    }
    assert remote_variables(emulator, deployed) == expected_remote
    assert dotenv_values(project / ".env") == expected_remote
    assert first.stdout.splitlines()[:2] == [
        f"flow {flow['sid']}: created as 'Agent Handoff', revision 1",
        "  POST /v2/Flows",
    ]
    assert (
        f"For Twilio Agent Connect, put this line in its .env: TWILIO_STUDIO_HANDOFF_FLOW_SID={flow['sid']}"
        in first.stderr
    )

    emulator.clear_traffic()
    second = run("deploy", "--service-sid", deployed.service_sid, "--from-address", FROM_ADDRESS, "--json")

    assert second.exit_code == 0, second.output
    assert writes(emulator) == [
        (
            "POST",
            "/v2/Flows/Validate",
            {"FriendlyName": "Agent Handoff", "Status": "published", "Definition": definition},
        )
    ]
    report = json.loads(second.stdout)
    assert (report["action"], report["flow_sid"], report["writes"], report["tac_env_line"]) == (
        "unchanged",
        flow["sid"],
        [],
        f"TWILIO_STUDIO_HANDOFF_FLOW_SID={flow['sid']}",
    )
    assert {v["key"]: (v["local"], v["remote"]) for v in report["variables"]["variables"]} == {
        "TWILIO_STUDIO_HANDOFF_FLOW_SID": ("unchanged", "unchanged"),
        "STUDIO_FROM_ADDRESS": ("unchanged", "unchanged"),
        "HANDOVER_TOKEN": ("unchanged", "unchanged"),
    }
    assert len(flows_named(emulator, "Agent Handoff")) == 1


def test_deploy_updates_a_changed_definition_as_a_new_revision(
    run, generated, emulator, deployed, routing, clean_flows
):
    assert run("deploy", "--service-sid", deployed.service_sid).exit_code == 0
    [flow] = flows_named(emulator, "Agent Handoff")
    assert run("generate", *routing, "--attributes", '{"department":"sales"}').exit_code == 0
    changed = json.loads(generated.read_text(encoding="utf-8"))
    emulator.clear_traffic()

    result = run("deploy", "--service-sid", deployed.service_sid)

    assert result.exit_code == 0, result.output
    assert writes(emulator) == [
        ("POST", "/v2/Flows/Validate", {"FriendlyName": "Agent Handoff", "Status": "published", "Definition": changed}),
        (
            "POST",
            f"/v2/Flows/{flow['sid']}",
            {"Status": "published", "Definition": changed, "CommitMessage": "Deployed by handover studio deploy"},
        ),
    ]
    assert (flow["revision"], flow["definition"]) == (2, changed)
    assert result.stdout.splitlines()[0] == f"flow {flow['sid']}: updated as 'Agent Handoff', revision 2"


def test_deploy_publishes_a_draft_of_that_name(run, generated, emulator, clean_flows, monkeypatch):
    definition = json.loads(generated.read_text(encoding="utf-8"))
    draft = studio.add_flow(emulator, "Agent Handoff", definition, status="draft")

    assert run("deploy").exit_code == 0

    assert draft["status"] == "published"
    assert draft["revision"] == 1


def test_deploy_dry_run_validates_and_writes_nothing(run, generated, emulator, deployed, project, clean_flows):
    emulator.clear_traffic()
    result = run("deploy", "--service-sid", deployed.service_sid, "--dry-run")

    assert result.exit_code == 0, result.output
    assert [w[:2] for w in writes(emulator)] == [("POST", "/v2/Flows/Validate")]
    assert result.stdout == "flow (new): to create as 'Agent Handoff'\n"
    assert result.stderr.splitlines()[-2:] == [
        "The flow's SID is known once it is created: run without --dry-run.",
        "Dry run: nothing was written.",
    ]
    assert not (project / ".env").exists()


def test_deploy_of_a_broken_flow_writes_nothing(run, generated, emulator, deployed, project):
    flow = json.loads(generated.read_text(encoding="utf-8"))
    next(s for s in flow["states"] if s["name"] == "call_to_flex")["properties"]["channel"] = "voice"
    generated.write_text(json.dumps(flow))
    emulator.clear_traffic()

    result = run("deploy", "--service-sid", deployed.service_sid)

    assert result.exit_code == 1
    assert "The flow failed the local checks:" in result.stderr
    assert "'voice' is not a SID (TC followed by 32 hex characters)" in result.stderr
    assert result.stderr.rstrip().endswith("Nothing was written.")
    assert writes(emulator) == []
    assert not (project / ".env").exists()


def test_deploy_refuses_a_name_two_flows_have(run, generated, emulator, clean_flows):
    definition = json.loads(generated.read_text(encoding="utf-8"))
    sids = [studio.add_flow(emulator, "Agent Handoff", definition)["sid"] for _ in range(2)]
    emulator.clear_traffic()

    result = run("deploy")

    assert result.exit_code == 1
    assert f"2 Studio flows are named 'Agent Handoff' ({', '.join(sids)})." in result.stderr
    assert [w[:2] for w in writes(emulator)] == [("POST", "/v2/Flows/Validate")]


def test_deploy_that_fails_wiring_says_what_was_applied_and_a_rerun_finishes(
    run, generated, emulator, deployed, project, clean_flows
):
    variables = f"/v1/Services/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables"
    emulator.inject(Fault("POST", variables, status=500))

    failed = run("deploy", "--service-sid", deployed.service_sid)

    assert failed.exit_code == 1
    [flow] = flows_named(emulator, "Agent Handoff")
    assert failed.stderr.splitlines()[-1] == (
        f"Error: The flow is created ({flow['sid']}), but wiring its SID stopped: setting "
        f"TWILIO_STUDIO_HANDOFF_FLOW_SID on environment {deployed.environment_sid} failed: HTTP 500, Twilio error "
        "20500: Unable to create record: Injected fault 500. Applied before the failure: POST /v2/Flows. Run the "
        "command again; it writes only what is still missing."
    )
    assert dotenv_values(project / ".env")["TWILIO_STUDIO_HANDOFF_FLOW_SID"] == flow["sid"]
    assert remote_variables(emulator, deployed) == {}

    again = run("deploy", "--service-sid", deployed.service_sid)

    assert again.exit_code == 0, again.output
    assert remote_variables(emulator, deployed)["TWILIO_STUDIO_HANDOFF_FLOW_SID"] == flow["sid"]
    assert len(flows_named(emulator, "Agent Handoff")) == 1


def test_deploy_refuses_a_malformed_from_address_before_anything(run, generated, emulator):
    emulator.clear_traffic()
    result = run("deploy", "--from-address", "555-1234")
    assert result.exit_code == 2
    assert "'555-1234' is not" in result.stderr
    assert emulator.requests == []
