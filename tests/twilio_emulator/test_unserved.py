"""An operation Twilio's description has and the emulator does not serve: a 501 naming it, through the real SDK and
proxy (fixtures: conftest.py), recorded, and failing the fixtures of both test suites."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

from twilio_emulator import NOT_SERVED_SECTION, UnservedOperation

REPO = Path(__file__).resolve().parents[2]
WORKSPACE = "WS" + "0" * 32
ACTIVITIES = "GET /v1/Workspaces/{WorkspaceSid}/Activities"
CREATE_ACTIVITY = "POST /v1/Workspaces/{WorkspaceSid}/Activities"


def test_the_sdk_gets_a_501_naming_the_operation(twilio, emulator):
    with pytest.raises(TwilioRestException) as raised:
        twilio.taskrouter.v1.workspaces(WORKSPACE).activities.create(friendly_name="On a break")
    refused = raised.value
    assert (refused.status, refused.code) == (501, 20501)
    assert refused.msg == (  # the SDK's prefix, then the emulator's message
        f"Unable to create record: CreateActivity ({CREATE_ACTIVITY}) is in Twilio's OpenAPI description, but the "
        f"Twilio emulator does not serve it: see {NOT_SERVED_SECTION}"
    )
    url = f"https://taskrouter.twilio.com/v1/Workspaces/{WORKSPACE}/Activities"
    assert emulator.unserved == [UnservedOperation("CreateActivity", "POST", CREATE_ACTIVITY.split()[1], url)]
    [recorded] = emulator.requests
    assert (recorded.unserved, recorded.operation, recorded.status) == (True, CREATE_ACTIVITY, 501)
    assert recorded.body == {"FriendlyName": "On a break"}  # checked against the description, then refused
    assert emulator.violations == []
    emulator.unserved.clear()  # seen: the fixture would fail the test on it


# A test of each suite's `emulator` fixture asking for the operation; run by pytest in a process of its own.
PROBE = """
import base64

from {fixtures} import *  # noqa: F403 (the suite's fixtures, as its conftest.py gives them)


def test_asks_for_an_operation_not_served(emulator):
    credential = f"{{emulator.account.sid}}:{{emulator.account.auth_token}}"
    authorization = "Basic " + base64.b64encode(credential.encode()).decode()
    target = "/v1/Workspaces/{workspace}/Activities"
    status, _ = emulator.handle("GET", "taskrouter.twilio.com", target, {{"authorization": authorization}}, b"")
    assert status == 501
"""


@pytest.mark.parametrize(
    "fixtures",
    [
        "tests.conftest",  # the shared emulator of the kit's tests
        "tests.twilio_emulator.conftest",  # the emulator of each of these modules
    ],
)
def test_the_emulator_fixture_fails_a_test_that_got_a_501(tmp_path, fixtures):
    (tmp_path / "test_probe.py").write_text(textwrap.dedent(PROBE.format(fixtures=fixtures, workspace=WORKSPACE)))
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    finished = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", "test_probe.py"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 1, finished.stdout + finished.stderr
    assert "1 passed, 1 error" in finished.stdout
    assert "ERROR at teardown of test_asks_for_an_operation_not_served" in finished.stdout
    assert "does not serve (answered 501)" in finished.stdout
    assert f"ListActivity ({ACTIVITIES}): GET https://taskrouter.twilio.com/v1/Workspaces/{WORKSPACE}/Activities" in (
        finished.stdout
    )
