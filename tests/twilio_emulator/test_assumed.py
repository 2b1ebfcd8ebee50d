"""Operations the description lacks (`assumed_route`): answered, recorded and struck by faults like any other, never
checked against a schema. Serverless's uploads and IAM's validation of a Flex token are the products' only ones
(test_serverless.py and test_iam.py test them); this module registers one of its own for the tests."""

from __future__ import annotations

import base64

import pytest

from twilio_emulator import Fault
from twilio_emulator.routes import ASSUMED_ROUTES, Call, assumed_route

ASSUMED = "/v2/EmulatorTests/{Id}"
URL = "https://conversations.twilio.com/v2/EmulatorTests/abc"


@assumed_route("conversations", "GET", ASSUMED)
def _assumed_read(call: Call):
    return 200, {"id": call.params["Id"], "body": call.body}


def authorization(account) -> dict:
    return {"authorization": "Basic " + base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()}


def test_only_serverless_uploads_iam_and_this_module_register_assumed_routes():
    assert sorted(ASSUMED_ROUTES) == [
        ("conversations", "GET", ASSUMED),
        ("iam", "POST", "/v1/Accounts/{AccountSid}/Tokens/validate"),
        ("serverless-upload", "POST", "/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions"),
        ("serverless-upload", "POST", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions"),
    ]


def test_an_assumed_operation_is_answered_and_recorded_and_no_violation(emulator, account):
    assert emulator.handle("GET", "conversations.twilio.com", "/v2/EmulatorTests/abc", authorization(account), b"") == (
        200,
        {"id": "abc", "body": {}},
    )
    recorded = emulator.requests[-1]
    assert (recorded.operation, recorded.auth_user, recorded.status) == (f"GET {ASSUMED}", account.sid, 200)
    assert emulator.violations == []


def test_an_assumed_operation_needs_the_credential(emulator, account):
    status, answer = emulator.handle("GET", "conversations.twilio.com", "/v2/EmulatorTests/abc", {}, b"")
    assert (status, answer["code"]) == (401, 20003)


def test_a_path_neither_described_nor_assumed_is_a_violation(emulator, account):
    status, _ = emulator.handle(
        "GET", "conversations.twilio.com", "/v2/EmulatorTests/abc/More", authorization(account), b""
    )
    assert status == 404
    assert [(v.kind, v.errors) for v in emulator.violations] == [
        ("unknown-endpoint", ["not in Twilio's OpenAPI description"])
    ]
    emulator.violations.clear()  # seen: the fixture would fail the test on it


def test_a_body_that_is_not_json_is_400(emulator, account):
    answer = emulator.handle(
        "GET", "conversations.twilio.com", "/v2/EmulatorTests/abc", authorization(account), b"not json"
    )
    assert answer == (
        400,
        {
            "code": 20001,
            "message": "Invalid request: Expecting value: line 1 column 1 (char 0)",
            "more_info": "https://www.twilio.com/docs/errors/20001",
            "status": 400,
        },
    )


@pytest.mark.parametrize("after", [False, True])
def test_faults_strike_assumed_operations(emulator, account, after):
    emulator.inject(Fault("GET", "/v2/EmulatorTests/", status=503, after=after))
    status, answer = emulator.handle(
        "GET", "conversations.twilio.com", "/v2/EmulatorTests/abc", authorization(account), b""
    )
    assert (status, answer["code"]) == (503, 20503)
    assert emulator.requests[-1].withheld == ((200, {"id": "abc", "body": {}}) if after else None)
