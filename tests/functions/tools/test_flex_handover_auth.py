"""Only authenticated callers hand off: the deployment's handover token, or a valid X-Twilio-Signature.

Every refusal is a 401 `{status: "rejected", error}` made before any Twilio API call, and no answer
or log line carries the token, the auth token or the signature.
"""

from __future__ import annotations

import re
import secrets
import urllib.parse

import pytest
from twilio.request_validator import RequestValidator

from tests.conftest import HANDOVER_TOKEN
from tests.functions.tools.test_flex_handover import INTERACTIONS
from twilio_emulator import add_conversation

# The domain the signature tests' runtime answers as, as a deployed environment's DOMAIN_NAME.
DOMAIN_NAME = "flex-handover-1234-dev.twil.io"
SIGNED_URL = f"https://{DOMAIN_NAME}/tools/flex-handover"
MISSING = (
    "This tool needs a credential: the token query parameter of the tool URL, the X-Handover-Token header, "
    "or a valid X-Twilio-Signature."
)
WRONG_TOKEN = (
    "The handover token is not valid. Call the tool URL that "
    "`handover tool register` registered, with its current token."
)
WRONG_SIGNATURE = "The X-Twilio-Signature is not valid for this URL and these parameters."


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes()


@pytest.fixture(scope="module")
def deployed_runtime(runtimes):
    """A runtime that answers as a deployed environment's domain, which signatures are made for."""
    return runtimes(DOMAIN_NAME=DOMAIN_NAME)


@pytest.fixture
def session(twilio, emulator):
    """The headers of a call for a fresh conversation: each test hands off a conversation of its own."""
    conversation_sid = add_conversation(emulator, twilio.account)
    return {
        "X-Session-Id": f"conversations__{twilio.account.service_sid}/{conversation_sid}",
        "X-Identity": "+15551234567",
    }


def sign(twilio, url: str, params: dict) -> str:
    return RequestValidator(twilio.emulator.account.auth_token).compute_signature(url, params)


def assert_rejected(answer, emulator, error: str) -> None:
    assert (answer.status, answer.body) == (401, {"status": "rejected", "error": error})
    assert emulator.requests == []


def assert_handed_off(answer, emulator) -> None:
    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert len(emulator.calls(operation=INTERACTIONS)) == 1


def function_log(runtime) -> str:
    """What the function logged: the runtime's log without twilio-run's own access lines ("401 POST /…"),
    which show the request URL, and so a token given in the query, as any web server's access log does."""
    return "\n".join(line for line in runtime.log().splitlines() if not re.match(r"\d{3} [A-Z]+ /", line))


def assert_no_secret(answer, runtime, twilio, *secrets_given: str) -> None:
    text = repr(answer.body) + function_log(runtime)
    for secret in (HANDOVER_TOKEN, twilio.emulator.account.auth_token, *secrets_given):
        assert secret not in text


# The handover token ----------------------------------------------------------------------------------


def test_the_token_as_a_header_is_accepted(emulator, runtime, call_tool, session):
    assert_handed_off(call_tool(runtime, session), emulator)


def test_the_token_as_the_query_parameter_of_the_tool_url_is_accepted(emulator, runtime, call_tool, session):
    path = "/tools/flex-handover?" + urllib.parse.urlencode({"token": HANDOVER_TOKEN})
    assert_handed_off(call_tool(runtime, session, path=path, token=None), emulator)


def test_no_credential_is_rejected(twilio, emulator, runtime, call_tool, session):
    answer = call_tool(runtime, session, token=None)
    assert_rejected(answer, emulator, MISSING)
    assert_no_secret(answer, runtime, twilio)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("x" * 43, id="wrong"),
        pytest.param(HANDOVER_TOKEN[:-1], id="truncated"),
        pytest.param(HANDOVER_TOKEN + "A", id="extended"),
        pytest.param(secrets.token_urlsafe(32), id="stale"),
        pytest.param(
            HANDOVER_TOKEN.upper() if HANDOVER_TOKEN.upper() != HANDOVER_TOKEN else HANDOVER_TOKEN.lower(),
            id="case-changed",
        ),
    ],
)
def test_a_token_other_than_the_deployments_is_rejected(twilio, emulator, runtime, call_tool, session, token):
    answer = call_tool(runtime, session, token=token)
    assert_rejected(answer, emulator, WRONG_TOKEN)
    assert_no_secret(answer, runtime, twilio, token)


def test_a_wrong_query_token_is_rejected_even_beside_a_right_header(emulator, runtime, call_tool, session):
    path = "/tools/flex-handover?token=" + "x" * 43
    assert_rejected(call_tool(runtime, session, path=path), emulator, WRONG_TOKEN)


def test_a_token_in_the_body_is_checked_like_one_in_the_query(emulator, runtime, call_tool, session):
    """The runtime merges query and body into one event: a body `token` is a presented token too."""
    assert_rejected(call_tool(runtime, session, {"token": "x" * 43}), emulator, WRONG_TOKEN)


def test_a_token_that_is_not_a_string_is_rejected(emulator, runtime, call_tool, session):
    assert_rejected(call_tool(runtime, session, {"token": [HANDOVER_TOKEN]}, token=None), emulator, WRONG_TOKEN)


# The Twilio signature --------------------------------------------------------------------------------


def form_with_signature(twilio, params: dict, url: str = SIGNED_URL) -> dict:
    return {**dict(params), "X-Twilio-Signature": sign(twilio, url, params)}


def test_a_valid_signature_of_a_form_request_is_accepted(twilio, emulator, deployed_runtime, call_tool, session):
    params = {"reason": "The customer asks for a refund."}
    headers = {**session, "X-Twilio-Signature": sign(twilio, SIGNED_URL, params)}
    answer = call_tool(deployed_runtime, headers, params, form=True, token=None)
    assert_handed_off(answer, emulator)
    assert_no_secret(answer, deployed_runtime, twilio, headers["X-Twilio-Signature"])


def test_a_signature_for_another_url_is_rejected(twilio, emulator, deployed_runtime, call_tool, session):
    params = {"reason": "refund"}
    headers = {**session, "X-Twilio-Signature": sign(twilio, "https://example.twil.io/tools/flex-handover", params)}
    answer = call_tool(deployed_runtime, headers, params, form=True, token=None)
    assert_rejected(answer, emulator, WRONG_SIGNATURE)
    assert_no_secret(answer, deployed_runtime, twilio, headers["X-Twilio-Signature"])


def test_a_signature_of_an_altered_body_is_rejected(twilio, emulator, deployed_runtime, call_tool, session):
    headers = {**session, "X-Twilio-Signature": sign(twilio, SIGNED_URL, {"reason": "refund"})}
    answer = call_tool(deployed_runtime, headers, {"reason": "refund", "summary": "added later"}, form=True, token=None)
    assert_rejected(answer, emulator, WRONG_SIGNATURE)


def test_a_signature_made_with_another_auth_token_is_rejected(twilio, emulator, deployed_runtime, call_tool, session):
    params = {"reason": "refund"}
    signature = RequestValidator("0" * 32).compute_signature(SIGNED_URL, params)
    answer = call_tool(deployed_runtime, {**session, "X-Twilio-Signature": signature}, params, form=True, token=None)
    assert_rejected(answer, emulator, WRONG_SIGNATURE)


def test_a_wrong_token_is_not_rescued_by_a_valid_signature(twilio, emulator, deployed_runtime, call_tool, session):
    params = {"reason": "refund"}
    headers = {**session, "X-Twilio-Signature": sign(twilio, SIGNED_URL, params)}
    answer = call_tool(deployed_runtime, headers, params, form=True, token="x" * 43)
    assert_rejected(answer, emulator, WRONG_TOKEN)


# The token's configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        pytest.param(None, "is not set on this Functions environment.", id="missing"),
        pytest.param(
            "short-token",
            "is set but is not 43 to 128 URL-safe characters (`handover env set` makes one from 32 random bytes).",
            id="too-short",
        ),
        pytest.param(
            "x" * 42 + "!",
            "is set but is not 43 to 128 URL-safe characters (`handover env set` makes one from 32 random bytes).",
            id="not-url-safe",
        ),
    ],
)
def test_a_missing_or_malformed_token_is_a_500_before_any_check(
    twilio, emulator, runtimes, call_tool, session, value, problem
):
    runtime = runtimes(HANDOVER_TOKEN=value)
    answer = call_tool(runtime, session, token=value or "x" * 43)
    assert answer.status == 500
    assert answer.body["status"] == "failed"
    assert answer.body["error"].startswith(f"HANDOVER_TOKEN {problem} Set it with `handover env set ")
    assert emulator.requests == []
    if value:
        assert value not in answer.body["error"]
