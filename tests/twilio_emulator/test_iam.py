"""IAM's validation of a Flex token (assumed: the description lacks it), as twilio-flex-token-validator asks for it.

Through the pipeline, and through the proxy with the real validator (twilio-flex-token-validator 1.6.0 in Node), so
that the answers are the ones it resolves and rejects on.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from twilio_emulator import CoveredOperation, coverage_by_product, seed_flex_account, spec_directory
from twilio_emulator.agents import add_worker
from twilio_emulator.products.iam import TOKEN_TTL_SECONDS, issue_flex_token
from twilio_emulator.spec import Spec

from .conftest import API_KEY_SECRET, API_KEY_SID, PROJECT_DIR

HOST = "iam.twilio.com"
TEMPLATE = "/v1/Accounts/{AccountSid}/Tokens/validate"
INVALID = {
    "valid": False,
    "code": 20101,
    "message": "Invalid Access Token",
    "expiration": None,
    "realm_user_id": None,
    "identity": None,
    "roles": None,
    "worker_sid": None,
}


@pytest.fixture
def flex(emulator):
    seed_flex_account(emulator)
    return emulator


def basic(user: str, secret: str) -> dict[str, str]:
    credential = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"authorization": f"Basic {credential}", "content-type": "application/json"}


def validate(emulator, body: object, headers: dict | None = None, account_sid: str | None = None):
    account = emulator.account
    path = f"/v1/Accounts/{account_sid or account.sid}/Tokens/validate"
    sent = basic(account.sid, account.auth_token) if headers is None else headers
    return emulator.handle("POST", HOST, path, sent, json.dumps(body).encode())


def test_a_token_issued_for_a_worker_is_valid_with_its_worker_roles_and_identity(flex):
    alice = add_worker(flex, "Alice")
    token = issue_flex_token(flex, alice["sid"], roles=("agent", "supervisor"))
    status, answer = validate(flex, {"token": token})
    assert (status, answer) == (
        200,
        {
            "valid": True,
            "code": 0,
            "message": None,
            "expiration": answer["expiration"],
            "realm_user_id": "Alice",
            "identity": "Alice",  # Flex's identity of the agent: its contact_uri, client:Alice
            "roles": ["agent", "supervisor"],
            "worker_sid": alice["sid"],
        },
    )
    recorded = flex.requests[-1]
    assert (recorded.operation, recorded.auth_user, recorded.body) == (
        f"POST {TEMPLATE}",
        flex.account.sid,
        {"token": token},
    )
    assert flex.violations == []


def test_a_worker_without_a_client_contact_uri_is_known_by_its_name_and_an_agent_by_default(flex):
    bob = add_worker(flex, "Bob", attributes={"skills": ["refunds"]})
    status, answer = validate(flex, {"token": issue_flex_token(flex, bob["sid"])})
    assert (status, answer["identity"], answer["roles"], answer["worker_sid"]) == (200, "Bob", ["agent"], bob["sid"])


def test_every_issue_is_a_token_of_its_own(flex):
    alice = add_worker(flex, "Alice")
    assert issue_flex_token(flex, alice["sid"]) != issue_flex_token(flex, alice["sid"])


@pytest.mark.parametrize(
    "body",
    [{"token": "not-issued"}, {"token": ""}, {"token": 12}, {"token": None}, {}, ["token"]],
    ids=["unknown", "empty", "a-number", "null", "no-token", "not-an-object"],
)
def test_any_other_token_is_invalid(flex, body):
    assert validate(flex, body) == (200, INVALID)


def test_a_token_past_its_hour_is_expired(flex):
    token = issue_flex_token(flex, add_worker(flex, "Alice")["sid"])
    flex.advance(TOKEN_TTL_SECONDS - 1)
    assert validate(flex, {"token": token})[1]["valid"] is True
    flex.advance(1)
    assert validate(flex, {"token": token}) == (
        200,
        {**INVALID, "code": 20104, "message": "Access Token expired or expiration date invalid"},
    )


def test_the_account_or_its_api_key_authenticates_and_nothing_else(flex):
    token = issue_flex_token(flex, add_worker(flex, "Alice")["sid"])
    assert validate(flex, {"token": token}, basic(API_KEY_SID, API_KEY_SECRET))[1]["valid"] is True
    for headers in ({"content-type": "application/json"}, basic(flex.account.sid, "wrong")):
        status, answer = validate(flex, {"token": token}, headers)
        assert (status, answer["code"]) == (401, 20003)


def test_a_path_of_another_account_is_404(flex):
    token = issue_flex_token(flex, add_worker(flex, "Alice")["sid"])
    other = "AC" + "0" * 32
    status, answer = validate(flex, {"token": token}, account_sid=other)
    assert (status, answer["code"], answer["message"]) == (
        404,
        20404,
        f"The requested resource /v1/Accounts/{other}/Tokens/validate was not found",
    )


def test_a_token_is_issued_for_a_worker_with_a_role(flex):
    with pytest.raises(LookupError, match="no worker WK0"):
        issue_flex_token(flex, "WK" + "0" * 32)
    alice = add_worker(flex, "Alice")
    for roles in ((), ("",)):
        with pytest.raises(ValueError, match="one role or more"):
            issue_flex_token(flex, alice["sid"], roles=roles)
    assert flex.table("flex_tokens") == {}


def test_coverage_reports_it_as_iams_only_assumed_operation():
    [iam] = [p for p in coverage_by_product(Spec(spec_directory(PROJECT_DIR))) if p.product == "iam"]
    assert (iam.host, iam.assumed, iam.used) == ("iam.twilio.com", (CoveredOperation("POST", TEMPLATE, None),), True)


# What Node prints of the real validator's outcome: resolved with its result, or rejected with its reason.
_VALIDATE_IN_NODE = """
const { validator } = require('twilio-flex-token-validator');
const [token, accountSid, authToken] = process.argv.slice(1);
validator(token, accountSid, authToken).then(
  (result) => process.stdout.write(JSON.stringify({ resolved: result })),
  (reason) => process.stdout.write(JSON.stringify({ rejected: reason })),
);
"""


def validated_in_node(proxy, account, token: str) -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    environment = {
        "PATH": str(Path(node).parent),
        **{name: proxy.client_environment()[name] for name in ("HTTPS_PROXY", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS")},
    }
    done = subprocess.run(
        [node, "-e", _VALIDATE_IN_NODE, "--", token, account.sid, account.auth_token],  # a token may start with -
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


def test_the_real_validator_resolves_an_issued_token_and_rejects_another(flex, proxy, account):
    alice = add_worker(flex, "Alice")
    token = issue_flex_token(flex, alice["sid"])
    resolved = validated_in_node(proxy, account, token)["resolved"]
    assert (resolved["valid"], resolved["worker_sid"], resolved["roles"]) == (True, alice["sid"], ["agent"])
    # It sent what the route reads: JSON {token}, with the account's Basic auth.
    recorded = flex.requests[-1]
    assert (recorded.host, recorded.operation, recorded.content_type) == (HOST, f"POST {TEMPLATE}", "application/json")
    assert (recorded.auth_user, recorded.body) == (account.sid, {"token": token})
    assert validated_in_node(proxy, account, "not-issued") == {"rejected": "Invalid Access Token"}
