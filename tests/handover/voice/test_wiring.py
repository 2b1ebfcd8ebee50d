"""`handover voice wire` end to end against the emulator: the voice variables on the deployed environment, then the
number's VoiceUrl at the deployed /voice/incoming-call, only where they differ."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from handover.cli import cli
from tests.handover.conftest import writes
from twilio_emulator import Fault, add_phone_number, set_variable

RELAY = "wss://voice-ai.example.com/relay"
THEIRS = "https://ops:hunter2@twiml.example.com/voice?token=s3cret"
_numbers = iter(range(1, 10**6))


@pytest.fixture
def number(twilio) -> str:
    phone_number = f"+1555800{next(_numbers):04d}"
    with twilio.emulator.lock:
        add_phone_number(twilio.emulator, phone_number)
    return phone_number


@pytest.fixture
def wire(twilio, project, deployed):
    def run(*args: str):
        result = CliRunner().invoke(
            cli,
            ["--project-dir", str(project), "voice", "wire", "--service-sid", deployed.service_sid, *args],
            catch_exceptions=False,
        )
        for secret in (twilio.emulator.account.auth_token, "hunter2", "s3cret"):
            assert secret not in result.stdout and secret not in result.stderr
        return result

    return run


def voice_url_of(emulator, phone_number: str) -> str | None:
    with emulator.lock:
        return next(n for n in emulator.table("incoming_phone_numbers").values() if n["phone_number"] == phone_number)[
            "voice_url"
        ]


def variables_of(emulator, deployed) -> dict[str, str]:
    with emulator.lock:
        return {
            v["key"]: v["value"]
            for v in emulator.table("serverless_variables").values()
            if v["environment_sid"] == deployed.environment_sid
        }


def ours(deployed) -> str:
    return f"https://{deployed.domain_name}/voice/incoming-call"


def test_wire_sets_the_variables_then_the_number_and_a_second_run_writes_nothing(
    wire, emulator, account_env, deployed, number
):
    result = wire("--number", number, "--relay-url", RELAY, "--json")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert (shown["outcome"], shown["voice_url"], shown["replaced"]) == ("created", ours(deployed), None)
    assert [w["what"] for w in shown["writes"]] == [
        "variable HANDOVER_VOICE_RELAY_URL",
        "variable HANDOVER_VOICE_PATH",
        f"number {number}",
    ]
    assert voice_url_of(emulator, number) == ours(deployed)
    assert {"HANDOVER_VOICE_RELAY_URL": RELAY, "HANDOVER_VOICE_PATH": "direct"}.items() <= variables_of(
        emulator, deployed
    ).items()

    emulator.clear_traffic()
    again = wire("--number", number, "--relay-url", RELAY)
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == f"number {number}: unchanged"
    assert writes(emulator) == []
    assert again.stderr.splitlines()[-1] == "The number was already wired; nothing was written."


def test_a_number_wired_elsewhere_is_refused_without_force_and_replaced_with_it(
    wire, emulator, account_env, deployed, number
):
    with emulator.lock:
        next(n for n in emulator.table("incoming_phone_numbers").values() if n["phone_number"] == number)[
            "voice_url"
        ] = THEIRS
    refused = wire("--number", number, "--relay-url", RELAY)
    assert refused.exit_code == 1
    assert "already answers calls at https://twiml.example.com/voice (its VoiceUrl). Nothing was written." in (
        refused.stderr
    )
    assert writes(emulator) == [] and voice_url_of(emulator, number) == THEIRS

    forced = wire("--number", number, "--relay-url", RELAY, "--force")
    assert forced.exit_code == 0
    assert forced.stdout.splitlines()[0] == f"number {number}: updated"
    assert "Replaced the voice URL https://twiml.example.com/voice." in forced.stderr
    assert voice_url_of(emulator, number) == ours(deployed)


def test_a_dry_run_writes_nothing_and_prints_the_writes(wire, emulator, account_env, deployed, number):
    result = wire("--number", number, "--relay-url", RELAY, "--path", "direct", "--dry-run")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == f"number {number}: to create"
    assert any(line.startswith("  would send: POST /2010-04-01/") for line in result.stdout.splitlines())
    assert writes(emulator) == [] and voice_url_of(emulator, number) is None


def test_bad_input_is_refused_before_any_request(wire, emulator, account_env, deployed, number):
    unknown = wire("--number", "+15550000001", "--relay-url", RELAY)
    assert unknown.exit_code == 2 and "+15550000001 is not a phone number of this account" in unknown.stderr
    emulator.clear_traffic()
    bad_url = wire("--number", number, "--relay-url", "https://not-a-websocket")
    assert bad_url.exit_code == 2 and "is not a wss:// URL" in bad_url.stderr
    assert emulator.requests == []
    studio = wire("--number", number, "--relay-url", RELAY, "--path", "studio")
    assert studio.exit_code == 2 and "TWILIO_STUDIO_HANDOFF_FLOW_SID is not set on the environment" in studio.stderr
    assert writes(emulator) == []


def test_the_studio_path_with_its_flow_and_a_failure_half_way_says_what_was_written(
    wire, emulator, account_env, deployed, number
):
    set_variable(
        emulator, deployed.service_sid, deployed.environment_sid, "TWILIO_STUDIO_HANDOFF_FLOW_SID", "FW" + "1" * 32
    )
    emulator.inject(Fault("POST", "/IncomingPhoneNumbers/", status=500, code=20500, times=None))
    failed = wire("--number", number, "--relay-url", RELAY, "--path", "studio")
    assert failed.exit_code == 1
    assert (
        "Written before it: variable HANDOVER_VOICE_RELAY_URL, variable HANDOVER_VOICE_PATH. Run `handover voice "
        "wire` again" in failed.stderr
    )
    assert variables_of(emulator, deployed)["HANDOVER_VOICE_PATH"] == "studio"
    assert voice_url_of(emulator, number) is None
