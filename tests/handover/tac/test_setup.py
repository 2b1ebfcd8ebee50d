"""`handover tac setup` (and its steps) end to end against the emulator, from the Console-default state."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from handover.cli import cli
from handover.tac import summaries
from tests.handover.tac.conftest import invoke
from twilio_emulator import (
    OperationTiming,
    add_intelligence_configuration,
    address_configuration,
    fail_next_operation,
    orchestrator_configuration,
    seed_flex_messaging_address,
    seed_tac_configuration,
    set_operation_timing,
    summary_operator,
)
from twilio_emulator.products import conversations

NUMBER = "+15005550006"


@pytest.fixture
def tac(twilio, emulator, account_env, project, clean_tac):
    """TAC's configuration and Flex's messaging address in their Console-default state; operations that answer at
    once (Retry-After 0); the test's own Orchestrator and Intelligence configurations removed after it."""
    set_operation_timing(emulator, OperationTiming(pending_polls=1, pending_seconds=None, retry_after=0))
    with emulator.lock:  # a service of the test's own: one Orchestrator configuration may bridge a service
        service = conversations.add_service(emulator, "TAC tests")
    configuration = seed_tac_configuration(emulator, phone_number=NUMBER)
    address = seed_flex_messaging_address(emulator, twilio.account, address=NUMBER)
    (project / ".env").write_text(
        f"FLEX_WORKSPACE_SID={twilio.account.workspace_sid}\nFLEX_WORKFLOW_SID={twilio.account.workflow_sid}\n"
    )
    tac_env = project / "tac.env"
    tac_env.write_text(
        "# TAC's settings\n"
        f"TWILIO_CONVERSATION_CONFIGURATION_ID={configuration['id']}\n"
        f"TWILIO_PHONE_NUMBER={NUMBER}\n"
        "TWILIO_STUDIO_HANDOFF_FLOW_SID=\n"
        "OTHER=kept # a comment\n"
    )
    emulator.clear_traffic()
    return {
        "configuration": configuration,
        "address": address,
        "tac_env": tac_env,
        "project": project,
        "service": service,
    }


def writes(emulator):
    return [r for r in emulator.requests if r.method != "GET"]


def test_setup_from_console_default_then_nothing(twilio, emulator, tac):
    service = tac["service"]
    args = ["setup", "--address", NUMBER, "--tac-env", str(tac["tac_env"]), "--conversations-service", service]
    result = invoke(tac["project"], *args)
    assert result.exit_code == 0, result.output
    operator = summary_operator(emulator)["id"]
    made = [(r.method, r.path, r.body) for r in writes(emulator) if "studio" not in r.host]
    address = tac["address"]["sid"]
    configuration_id = tac["configuration"]["id"]
    assert made[0] == ("POST", f"/v1/Configuration/Addresses/{address}", {"AutoCreation.Enabled": False})
    assert made[1] == (
        "PATCH",
        f"/v2/ControlPlane/Configurations/{configuration_id}",
        {
            "conversationsV1Bridge": {"serviceId": service},
            "channelSettings": {
                "VOICE": {"statusTimeouts": {"inactive": 1, "closed": 1}},
                "SMS": {"statusTimeouts": {"inactive": 10, "closed": 15}},
                "WHATSAPP": {"statusTimeouts": {"inactive": 15, "closed": 60}},
            },
        },
    )
    assert made[2] == (
        "POST",
        "/v3/ControlPlane/Configurations",
        {
            "displayName": summaries.DISPLAY_NAME,
            "description": summaries.DESCRIPTION,
            "rules": [
                {"operators": [{"id": operator}], "triggers": [{"on": "CONVERSATION_END"}], "actions": []},
                {"operators": [{"id": operator}], "triggers": [{"on": "CONVERSATION_INACTIVE"}], "actions": []},
            ],
        },
    )
    assert made[3][0:2] == ("PATCH", f"/v2/ControlPlane/Configurations/{configuration_id}")
    assert list(made[3][2]) == ["intelligenceConfigurationIds"]
    for request in writes(emulator):
        if request.path.startswith("/v2/ControlPlane"):
            assert len(request.idempotency_key or "") == 36
    assert any(r.method == "GET" and r.path == "/v3/ControlPlane/Operators" for r in emulator.requests)
    stored = orchestrator_configuration(emulator, configuration_id)
    assert stored["conversationsV1Bridge"] == {"serviceId": service}
    assert len(stored["intelligenceConfigurationIds"]) == 1
    assert address_configuration(emulator, NUMBER)["auto_creation"]["enabled"] is False
    lines = tac["tac_env"].read_text().splitlines()
    assert lines[0] == "# TAC's settings" and lines[-1] == "OTHER=kept # a comment"
    assert lines[3].startswith("TWILIO_STUDIO_HANDOFF_FLOW_SID=FW")
    assert "Virtual agent summary for voice" in result.stderr
    assert "Opt-in features > Beta" in result.stderr

    emulator.clear_traffic()
    again = invoke(tac["project"], *args)
    assert again.exit_code == 0, again.output
    assert writes(emulator) == [] or all(r.path == "/v2/Flows/Validate" for r in writes(emulator))
    assert "updated" not in again.stdout and "created" not in again.stdout


def test_dry_run_writes_nothing_and_json(twilio, emulator, tac):
    service = tac["service"]
    # No handoff flow yet (an earlier test may have deployed one): the dry run then shows the flow's create.
    flows = emulator.table("studio_flows")
    for sid in [sid for sid, flow in flows.items() if flow["friendly_name"] == "Agent Handoff"]:
        del flows[sid]
    result = invoke(
        tac["project"],
        "setup",
        "--tac-env",
        str(tac["tac_env"]),
        "--conversations-service",
        service,
        "--dry-run",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert [r for r in writes(emulator) if r.path != "/v2/Flows/Validate"] == []
    shown = json.loads(result.stdout)
    assert [s["step"] for s in shown["steps"]] == ["orchestrator", "summaries", "studio"]
    patch = shown["steps"][0]["writes"][0]
    assert patch["method"] == "PATCH" and patch["idempotency_key"]
    assert patch["body"]["conversationsV1Bridge"] == {"serviceId": service}
    [flow] = [w for w in shown["steps"][2]["writes"] if w["url"].startswith("https://studio.twilio.com/v2/Flows")]
    assert (flow["method"], flow["url"]) == ("POST", "https://studio.twilio.com/v2/Flows")
    assert {name: flow["body"][name] for name in ("FriendlyName", "Status", "CommitMessage")} == {
        "FriendlyName": "Agent Handoff",
        "Status": "published",
        "CommitMessage": "Deployed by handover studio deploy",
    }
    assert flow["body"]["Definition"]["initial_state"] == "Trigger" and flow["body"]["Definition"]["states"]
    assert shown["console"] == ["Virtual agent summary for voice", "Virtual agent summary for messaging"]


@pytest.mark.parametrize(
    "args",
    [
        ["addresses", "--address", "15551234567"],
        ["orchestrator", "--configuration-id", "conv_configuration_nope", "--conversations-service", "IS" + "0" * 32],
        [
            "orchestrator",
            "--configuration-id",
            "conv_configuration_01k6fc25s7epm9qtk8rszbv3q6",
            "--conversations-service",
            "IS1",
        ],
        ["setup", "--configuration-id", "conv_configuration_01k6fc25s7epm9qtk8rszbv3q6", "--from-address", "nope"],
    ],
)
def test_bad_input_exit_2_no_request(emulator, tac, args):
    result = invoke(tac["project"], *args)
    assert result.exit_code == 2, result.output
    assert emulator.requests == []


def test_failed_operation_reported_then_rerun_finishes(twilio, emulator, tac):
    fail_next_operation(emulator, "The bridge could not be set just now")
    args = ["orchestrator", "--tac-env", str(tac["tac_env"]), "--conversations-service", tac["service"]]
    result = invoke(tac["project"], *args)
    assert result.exit_code == 1
    assert (
        "The bridge could not be set just now" in result.stderr
        and "Applied before the failure: nothing" in result.stderr
    )
    again = invoke(tac["project"], *args)
    assert again.exit_code == 0, again.output
    assert orchestrator_configuration(emulator, tac["configuration"]["id"])["conversationsV1Bridge"]


def test_five_configuration_limit(twilio, emulator, tac):
    ids = [add_intelligence_configuration(emulator, f"other {n}", [])["id"] for n in range(5)]
    configuration_id = tac["configuration"]["id"]
    with emulator.lock:
        emulator.table("orchestrator_configurations")[configuration_id]["intelligenceConfigurationIds"] = ids
    emulator.clear_traffic()
    result = invoke(tac["project"], "summaries", "--tac-env", str(tac["tac_env"]))
    assert result.exit_code == 1
    assert "remove one of them" in result.stderr and ids[0] in result.stderr
    assert writes(emulator) == []


# doctor ---------------------------------------------------------------------------------------------------


def doctor(project, *args):
    return CliRunner().invoke(cli, ["--project-dir", str(project), "doctor", "--json", *args], catch_exceptions=False)


def tac_checks(result) -> dict[str, dict]:
    return {c["check"]: c for c in json.loads(result.stdout)["checks"] if c["check"].startswith("tac ")}


def test_doctor_not_checked_without_configuration(emulator, tac):
    checks = tac_checks(doctor(tac["project"]))
    assert checks["tac bridge"]["status"] == "WARN" and "--configuration-id" in checks["tac bridge"]["fix"]


UNDO = {
    "tac bridge": lambda c: c.pop("conversationsV1Bridge"),
    "tac voice on hangup": lambda c: c["channelSettings"]["VOICE"].update(statusTimeouts={"inactive": 5, "closed": 30}),
    "tac captured traffic": lambda c: c["channelSettings"]["SMS"].update(captureRules=[{"from": NUMBER, "to": "*"}]),
    "tac summaries": lambda c: c.update(intelligenceConfigurationIds=[]),
}


@pytest.mark.parametrize("undone", [*UNDO, "tac addresses"])
def test_doctor_pass_after_setup_and_fail_when_a_step_is_undone(twilio, emulator, tac, undone):
    args = ["--tac-env", str(tac["tac_env"])]
    setup = ["setup", *args, "--address", NUMBER, "--conversations-service", tac["service"]]
    assert invoke(tac["project"], *setup).exit_code == 0
    before = tac_checks(doctor(tac["project"], *args))
    assert {n: c["status"] for n, c in before.items() if c["status"] != "PASS"} == {}, before
    with emulator.lock:
        if undone == "tac addresses":
            emulator.table("conversation_address_configurations")[tac["address"]["sid"]]["auto_creation_settings"][
                "enabled"
            ] = True
        else:
            UNDO[undone](emulator.table("orchestrator_configurations")[tac["configuration"]["id"]])
    checks = tac_checks(doctor(tac["project"], *args))
    assert [name for name, c in checks.items() if c["status"] != "PASS"] == [undone]
    assert checks[undone]["status"] == "FAIL" and checks[undone]["fix"].startswith("handover tac ")


def test_addresses_prints_the_previous_settings_and_an_unknown_address(emulator, tac):
    result = invoke(tac["project"], "addresses", "--address", NUMBER, "--address", "+15005550099")
    assert result.exit_code == 0, result.output
    assert "previous settings: enabled=True, type=studio" in result.stdout
    assert "+15005550099: unchanged (no address configuration: nothing to disconnect)" in result.stdout
    assert [(r.method, r.body) for r in writes(emulator)] == [("POST", {"AutoCreation.Enabled": False})]
