"""`handover doctor --voice-number`: the voice AI's number answers at /voice/incoming-call and its handoff leads where
the chosen path needs, on an account configured as a user leaves it (tests/handover/test_doctor.py's `configured`)."""

from __future__ import annotations

from tests.handover.test_doctor import configured, doctor, invoke, report, runner  # noqa: F401 - the fixtures
from twilio_emulator import add_phone_number, set_variable

RELAY = "wss://voice-ai.example.com/relay"
_numbers = iter(range(1, 10**6))


def voice_check(result) -> tuple[str, str, str | None]:
    (found,) = [(status, detail, fix) for name, status, detail, fix in report(result.stdout) if name == "voice number"]
    return found


def new_number(emulator) -> str:
    number = f"+1555888{next(_numbers):04d}"
    with emulator.lock:
        add_phone_number(emulator, number)
    return number


def wired(runner, configured, emulator, number: str, *args: str) -> None:  # noqa: F811 - the fixtures
    result = invoke(
        runner, configured.project, "voice", "wire", "--number", number, "--relay-url", RELAY,
        "--service-sid", configured.service_sid, *args,
    )  # fmt: skip
    assert result.exit_code == 0, result.output


def test_a_wired_number_passes_on_both_paths(runner, configured, emulator):  # noqa: F811
    set_variable(emulator, configured.service_sid, configured.environment_sid, "FLEX_WORKFLOW_SID", configured.workflow)
    NUMBER = new_number(emulator)  # noqa: N806
    wired(runner, configured, emulator, NUMBER)
    status, detail, _ = voice_check(doctor(runner, configured, "--voice-number", NUMBER))
    ours = f"https://{configured.domain_name}/voice/incoming-call"
    assert (status, detail) == (
        "PASS",
        f"{NUMBER} answers at {ours}; a handoff goes to /voice/connect-action (direct path)",
    )

    set_variable(
        emulator,
        configured.service_sid,
        configured.environment_sid,
        "TWILIO_STUDIO_HANDOFF_FLOW_SID",
        configured.flow_sid,
    )
    wired(runner, configured, emulator, NUMBER, "--path", "studio")
    status, detail, _ = voice_check(doctor(runner, configured, "--voice-number", NUMBER))
    assert (status, detail) == (
        "PASS",
        f"{NUMBER} answers at {ours}; a handoff goes to Studio flow {configured.flow_sid} (studio path)",
    )


def test_a_number_elsewhere_and_a_flow_without_its_voice_branch_fail_with_the_fix(runner, configured, emulator):  # noqa: F811
    set_variable(
        emulator,
        configured.service_sid,
        configured.environment_sid,
        "TWILIO_STUDIO_HANDOFF_FLOW_SID",
        configured.flow_sid,
    )
    NUMBER = new_number(emulator)  # noqa: N806
    wired(runner, configured, emulator, NUMBER, "--path", "studio")
    with emulator.lock:
        number = next(n for n in emulator.table("incoming_phone_numbers").values() if n["phone_number"] == NUMBER)
        number["voice_url"] = "https://twiml.example.com/bin?secret=1"
        trigger = emulator.table("studio_flows")[configured.flow_sid]["definition"]["states"][0]
        trigger["transitions"] = [t for t in trigger["transitions"] if t["event"] != "incomingCall"]
    status, detail, fix = voice_check(doctor(runner, configured, "--voice-number", NUMBER))
    assert status == "FAIL"
    assert detail == (
        f"{NUMBER} answers at https://twiml.example.com/bin, not https://{configured.domain_name}/voice/incoming-call; "
        f"Studio flow {configured.flow_sid} does nothing on incomingCall: its voice branch is missing"
    )
    assert (
        fix
        == f"handover voice wire --number {NUMBER} --relay-url {RELAY} --service-sid {configured.service_sid} --force"
    )
