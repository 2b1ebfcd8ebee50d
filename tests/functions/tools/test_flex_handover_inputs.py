"""Any input, property-based: the function never crashes nor answers a 5xx for bad input, and input
it refuses never reaches the Twilio API."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import HANDOVER_TOKEN
from twilio_emulator import add_conversation

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
FIELDS = st.sampled_from(
    ["reason", "summary", "token", "FlexWorkflowSid", "FlexWorkspaceSid", "handoff", "0", "attributes"]
)


@st.composite
def requests(draw, session_ids):
    """A call as anyone might make it: valid or odd headers, a token or not, any JSON object or form body."""
    # Most calls are authenticated calls for a real conversation, so the body's checks are reached.
    authenticated = draw(st.integers(0, 3)) > 0
    session = draw(
        st.sampled_from(session_ids)
        if authenticated
        else st.one_of(st.sampled_from(session_ids), HEADER_TEXT, st.none())
    )
    identity = draw(
        st.one_of(
            st.none(), HEADER_TEXT, st.sampled_from(["+15551234567", "whatsapp:+15551234567", "FXabc", "email:a@b.c"])
        )
    )
    token = HANDOVER_TOKEN if authenticated else draw(st.one_of(st.just(HANDOVER_TOKEN), st.none(), HEADER_TEXT))
    form = draw(st.booleans())
    if form:
        body = draw(st.dictionaries(FIELDS | st.text(min_size=1, max_size=10), st.text(max_size=60), max_size=4))
    else:
        body = draw(st.dictionaries(FIELDS | st.text(max_size=10), JSON_VALUES, max_size=4))
    headers = {
        name: value
        for name, value in (("X-Session-Id", session), ("X-Identity", identity), ("X-Handover-Token", token))
        if value is not None
    }
    return headers, body, form


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes()


@pytest.fixture(scope="module")
def session_ids(twilio):
    """Sessions of real conversations: a valid call hands one off, or finds it handed off already."""
    return [
        f"conversations__{twilio.account.service_sid}/{add_conversation(twilio.emulator, twilio.account)}"
        for _ in range(5)
    ]


def test_no_input_crashes_the_function_or_reaches_twilio_when_refused(
    twilio, emulator, runtime, call_tool, session_ids
):
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(requests(session_ids))
    def check(request):
        headers, body, form = request
        emulator.clear_traffic()
        answer = call_tool(runtime, headers, body, form=form, token=None)
        assert answer.status in (200, 400, 401), answer.body
        assert answer.content_type.startswith("application/json")
        assert answer.body["status"] in ({"handed_off", "already_handed_off"} if answer.status == 200 else {"rejected"})
        if answer.status == 200:
            # A handoff happens only with well-typed input: the AI's fields are text, or absent.
            assert all(isinstance(body.get(name), (str, type(None))) for name in ("reason", "summary"))
            assert headers.get("X-Handover-Token") == HANDOVER_TOKEN and headers.get("X-Session-Id") in session_ids
        else:
            assert isinstance(answer.body["error"], str) and answer.body["error"]
            assert emulator.requests == [], "a refused call reached the Twilio API"
        assert HANDOVER_TOKEN not in json.dumps(answer.body)

    check()
