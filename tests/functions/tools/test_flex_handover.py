"""The flex-handover function's contract (version 1), over HTTP through the real twilio-run against the emulator."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta

import pytest

from handover import contract
from tests.conftest import HANDOVER_TOKEN
from twilio_emulator import Fault, add_conversation
from twilio_emulator.products import taskrouter

INTERACTIONS = "POST /v1/Interactions"
CLAIM = "POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items"
READ_CONVERSATION = "GET /v1/Services/{ChatServiceSid}/Conversations/{Sid}"
MARK_CONVERSATION = "POST /v1/Services/{ChatServiceSid}/Conversations/{Sid}"
LIST_WEBHOOKS = "GET /v1/Services/{ChatServiceSid}/Conversations/{ConversationSid}/Webhooks"
# A handoff's requests, in two rounds: the claim beside the conversation's read and the list of its
# webhooks (the bot's are removed beside the delivery: a conversation here has none), then the interaction
# beside the conversation's record of the handoff (the emulator's timings tell the rounds apart only with
# a latency: see test_a_first_handoff_takes_two_sequential_rounds).
HANDOFF_REQUESTS = sorted([CLAIM, READ_CONVERSATION, LIST_WEBHOOKS, INTERACTIONS, MARK_CONVERSATION])


def handoff_requests(emulator) -> list[str]:
    """The operations of the recorded requests, sorted (most run side by side)."""
    return sorted(call.operation for call in emulator.requests)


USER_LOOKUP = "GET /v1/Services/{ChatServiceSid}/Users/{Sid}"
HANDED_OFF_MESSAGE = "I have passed our conversation to a member of our team. They will reply here shortly."
FAILED_MESSAGE = "I could not reach a member of our team just now."


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes()


@pytest.fixture
def session(twilio, emulator):
    """A fresh conversation of the seeded account, as the AI Assistant's X-Session-Id names it."""
    conversation_sid = add_conversation(emulator, twilio.account)
    return {
        "header": f"webhook:conversations__{twilio.account.service_sid}/{conversation_sid}",
        "conversation_sid": conversation_sid,
    }


def only_interaction_request(emulator):
    calls = emulator.calls(operation=INTERACTIONS)
    assert len(calls) == 1
    return calls[0].body


class RecentTimestamp:
    """Equal to an ISO 8601 UTC timestamp of the last minute: when the function received the call."""

    def __eq__(self, other) -> bool:
        try:
            moment = datetime.strptime(other, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except (TypeError, ValueError):
            return False
        return timedelta(0) <= datetime.now(UTC) - moment < timedelta(minutes=1)

    def __repr__(self) -> str:
        return "<an ISO 8601 UTC timestamp of the last minute>"


def handoff(reason: str = "", summary: str = "") -> dict:
    """The task attribute that carries the AI's account of the handoff."""
    return {"reason": reason, "summary": summary, "source": "/tools/flex-handover", "requestedAt": RecentTimestamp()}


def expected_interaction(
    twilio, conversation_sid, channel_type, attributes, *, workspace=None, workflow=None, task_channel="chat", said=None
):
    return {
        "Channel": {
            "type": channel_type,
            "initiated_by": "customer",
            "properties": {"media_channel_sid": conversation_sid},
        },
        "Routing": {
            "properties": {
                "workspace_sid": workspace or twilio.account.workspace_sid,
                "workflow_sid": workflow or twilio.account.workflow_sid,
                "task_channel_unique_name": task_channel,
                "attributes": {
                    **attributes,
                    "conversationSid": conversation_sid,
                    "conversationServiceSid": twilio.account.service_sid,
                    "channelType": channel_type,
                    "handoff": said or handoff(),
                },
            }
        },
    }


def assert_handed_off(answer, emulator):
    interaction_sid = emulator.calls(operation=INTERACTIONS)[-1].response["sid"]
    assert (answer.status, answer.body) == (
        200,
        {"status": "handed_off", "interactionSid": interaction_sid, "message": HANDED_OFF_MESSAGE},
    )
    assert answer.content_type.startswith("application/json")


def person(value):
    return {"from": value, "customerName": value, "customerAddress": value}


# Identity formats and the channel type they hand off as --------------------------------------------

IDENTITIES = [
    pytest.param("whatsapp:+15551234567", "whatsapp", person("whatsapp:+15551234567"), id="whatsapp"),
    pytest.param(
        "whatsapp:whatsapp:+15551234567", "whatsapp", person("whatsapp:+15551234567"), id="whatsapp-prefixed-value"
    ),
    pytest.param("phone:+15551234567", "sms", person("+15551234567"), id="phone"),
    pytest.param("+15551234567", "sms", person("+15551234567"), id="bare-phone-number"),
    pytest.param("email:ada@example.com", "chat", person("email:ada@example.com"), id="email"),
    pytest.param("user_id:cust-42", "chat", person("user_id:cust-42"), id="user-id"),
    pytest.param("something odd", "chat", person("something odd"), id="odd-identity"),
    pytest.param("fax:12345", "chat", person("fax:12345"), id="unknown-type"),
    pytest.param(None, "chat", {"from": "Customer", "customerName": "Customer", "customerAddress": ""}, id="missing"),
]


@pytest.mark.parametrize(("identity", "channel_type", "attributes"), IDENTITIES)
def test_identity_decides_the_channel_type_and_customer_attributes(
    twilio, emulator, runtime, call_tool, session, identity, channel_type, attributes
):
    headers = {"X-Session-Id": session["header"]}
    if identity is not None:
        headers["X-Identity"] = identity

    answer = call_tool(runtime, headers)

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator) == expected_interaction(
        twilio, session["conversation_sid"], channel_type, attributes
    )
    assert handoff_requests(emulator) == HANDOFF_REQUESTS


def test_an_identity_longer_than_the_limit_is_recorded_truncated(twilio, emulator, runtime, call_tool, session):
    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": "user_id:" + "x" * 400})

    assert_handed_off(answer, emulator)
    recorded = only_interaction_request(emulator)["Routing"]["properties"]["attributes"]["customerAddress"]
    assert recorded == ("user_id:" + "x" * 400)[:256]


@pytest.mark.parametrize(
    "identity_header", ["flex_participant:{identity}", "{identity}"], ids=["flex-participant", "bare-FX"]
)
def test_webchat_identity_hands_off_as_web_with_the_users_friendly_name(
    twilio, emulator, runtime, call_tool, session, identity_header
):
    identity = twilio.account.webchat_identity

    answer = call_tool(
        runtime, {"X-Session-Id": session["header"], "X-Identity": identity_header.format(identity=identity)}
    )

    assert_handed_off(answer, emulator)
    lookup = emulator.calls(operation=USER_LOOKUP)
    assert [call.path for call in lookup] == [f"/v1/Services/{twilio.account.service_sid}/Users/{identity}"]
    assert only_interaction_request(emulator) == expected_interaction(
        twilio,
        session["conversation_sid"],
        "web",
        {"from": "Ada Lovelace", "customerName": "Ada Lovelace", "customerAddress": identity},
    )


def test_a_failed_webchat_lookup_does_not_fail_the_handoff(twilio, emulator, runtime, call_tool, session):
    unknown = "FX" + "0" * 32

    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": f"flex_participant:{unknown}"})

    assert_handed_off(answer, emulator)
    assert [call.status for call in emulator.calls(operation=USER_LOOKUP)] == [404]
    assert only_interaction_request(emulator) == expected_interaction(
        twilio, session["conversation_sid"], "web", person(unknown)
    )
    assert f"no friendly name for {unknown}" in runtime.log()


def test_a_twilio_error_on_the_webchat_lookup_does_not_fail_the_handoff(twilio, emulator, runtime, call_tool, session):
    emulator.inject(Fault("GET", "/Users/", status=500))
    identity = twilio.account.webchat_identity

    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": identity})

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator)["Routing"]["properties"]["attributes"]["customerName"] == identity


def test_a_webchat_identity_that_is_not_a_plain_name_is_not_looked_up(twilio, emulator, runtime, call_tool, session):
    answer = call_tool(
        runtime, {"X-Session-Id": session["header"], "X-Identity": "flex_participant:FX../../Conversations"}
    )

    assert_handed_off(answer, emulator)
    assert emulator.calls(operation=USER_LOOKUP) == []
    assert only_interaction_request(emulator)["Channel"]["type"] == "web"


# Session formats ---------------------------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["conversations__", "webhook:conversations__"])
def test_both_session_formats_name_the_conversation(twilio, emulator, runtime, call_tool, prefix):
    conversation_sid = add_conversation(emulator, twilio.account)

    answer = call_tool(
        runtime,
        {"X-Session-Id": f"{prefix}{twilio.account.service_sid}/{conversation_sid}", "X-Identity": "+15551234567"},
    )

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator)["Channel"]["properties"] == {"media_channel_sid": conversation_sid}


IS = "IS" + "a" * 32
CH = "CH" + "b" * 32
BAD_SESSIONS = [
    pytest.param("messaging__MG" + "a" * 32 + "/" + CH, id="messaging"),
    pytest.param("voice:CA" + "a" * 32, id="voice"),
    pytest.param("garbage", id="garbage"),
    pytest.param(f"conversations__{IS}/CH../../", id="path-trick"),
    pytest.param(f"conversations__{IS}/{CH}/../../Users", id="path-suffix"),
    pytest.param(f"conversations__IS123/{CH}", id="short-service-sid"),
    pytest.param(f"conversations__{IS}/CH" + "g" * 32, id="non-hex-conversation-sid"),
    pytest.param(f"conversations__{CH}/{IS}", id="swapped"),
    pytest.param(f"webhook:conversations__{IS}", id="no-conversation"),
    pytest.param(f" conversations__{IS}/{CH}x", id="trailing-garbage"),
]


@pytest.mark.parametrize("session_id", BAD_SESSIONS)
def test_a_session_that_is_not_a_conversation_is_rejected_without_an_api_call(emulator, runtime, call_tool, session_id):
    answer = call_tool(runtime, {"X-Session-Id": session_id, "X-Identity": "+15551234567"})

    assert answer.status == 400
    assert answer.body == {"status": "rejected", "error": answer.body["error"]}
    assert "is not a Conversations session" in answer.body["error"]
    assert "conversations__IS<32 hex>/CH<32 hex>" in answer.body["error"]
    assert emulator.requests == []


def test_a_missing_session_is_rejected_without_an_api_call(emulator, runtime, call_tool):
    answer = call_tool(runtime, {"X-Identity": "+15551234567"})

    assert (answer.status, answer.body["status"]) == (400, "rejected")
    assert answer.body["error"].startswith("The X-Session-Id header is missing.")
    assert emulator.requests == []


def test_a_session_header_sent_twice_is_rejected_without_an_api_call(twilio, emulator, runtime):
    connection = http.client.HTTPConnection("127.0.0.1", runtime.port, timeout=30)
    connection.putrequest("POST", "/tools/flex-handover")
    connection.putheader("X-Handover-Token", HANDOVER_TOKEN)
    connection.putheader("X-Session-Id", twilio.account.session_id)
    connection.putheader("X-Session-Id", twilio.account.session_id)
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "2")
    connection.endheaders(b"{}")
    response = connection.getresponse()

    assert response.status == 400
    assert json.loads(response.read()) == {
        "status": "rejected",
        "error": "The X-Session-Id header was sent more than once; send it once.",
    }
    assert emulator.requests == []


def test_a_long_bad_session_is_quoted_shortened_in_the_error(emulator, runtime, call_tool):
    answer = call_tool(runtime, {"X-Session-Id": "x" * 500})

    assert answer.status == 400
    assert '"' + "x" * 60 + '…"' in answer.body["error"]
    assert "x" * 61 not in answer.body["error"]


# Request encodings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "form"), [("POST", False), ("POST", True), ("GET", False)], ids=["json", "form", "get"]
)
def test_json_form_and_get_requests_hand_off(twilio, emulator, runtime, call_tool, session, method, form):
    answer = call_tool(
        runtime,
        {"X-Session-Id": session["header"], "X-Identity": "+15551234567"},
        {"note": "hello"},
        method=method,
        form=form,
    )

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator) == expected_interaction(
        twilio, session["conversation_sid"], "sms", person("+15551234567")
    )


# Per-request overrides -----------------------------------------------------------------------------


@pytest.fixture
def second_flex_queue(emulator):
    with emulator.lock:
        workspace = taskrouter.add_workspace(emulator, "Second workspace")
        workflow = taskrouter.add_workflow(emulator, workspace["sid"], "Second workflow")
        taskrouter.add_task_channel(emulator, workspace["sid"], "chat")
    return workspace["sid"], workflow["sid"]


@pytest.mark.parametrize("form", [False, True], ids=["json", "form"])
def test_well_formed_overrides_route_to_another_workflow(
    twilio, emulator, runtime, call_tool, session, second_flex_queue, form
):
    workspace_sid, workflow_sid = second_flex_queue

    answer = call_tool(
        runtime,
        {"X-Session-Id": session["header"], "X-Identity": "+15551234567"},
        {"FlexWorkspaceSid": workspace_sid, "FlexWorkflowSid": workflow_sid},
        form=form,
    )

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator) == expected_interaction(
        twilio,
        session["conversation_sid"],
        "sms",
        person("+15551234567"),
        workspace=workspace_sid,
        workflow=workflow_sid,
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("FlexWorkspaceSid", "WS123", "WS followed by 32 hex characters"),
        ("FlexWorkflowSid", "WW" + "z" * 32, "WW followed by 32 hex characters"),
        ("FlexWorkflowSid", "WS" + "a" * 32, "WW followed by 32 hex characters"),
        ("FlexWorkspaceSid", ["WS" + "a" * 32], "WS followed by 32 hex characters"),
    ],
    ids=["short-workspace", "non-hex-workflow", "workspace-sid-as-workflow", "array"],
)
def test_malformed_overrides_are_rejected_without_an_api_call(
    emulator, runtime, call_tool, session, field, value, expected
):
    answer = call_tool(runtime, {"X-Session-Id": session["header"]}, {field: value})

    assert answer.status == 400
    assert answer.body == {"status": "rejected", "error": answer.body["error"]}
    assert answer.body["error"].startswith(f"{field} must be {expected}, got ")
    assert emulator.requests == []


# Configuration -------------------------------------------------------------------------------------

CONFIG_ERRORS = [
    pytest.param(
        {"FLEX_WORKSPACE_SID": None},
        "FLEX_WORKSPACE_SID is not set on this Functions environment.",
        id="workspace-missing",
    ),
    pytest.param(
        {"FLEX_WORKSPACE_SID": "WSnope"},
        "FLEX_WORKSPACE_SID is set but is not WS followed by 32 hex characters.",
        id="workspace-malformed",
    ),
    pytest.param(
        {"FLEX_WORKFLOW_SID": None},
        "FLEX_WORKFLOW_SID is not set on this Functions environment.",
        id="workflow-missing",
    ),
    pytest.param(
        {"FLEX_WORKFLOW_SID": "WW" + "a" * 31},
        "FLEX_WORKFLOW_SID is set but is not WW followed by 32 hex characters.",
        id="workflow-malformed",
    ),
    pytest.param(
        {"FLEX_TASK_CHANNEL": "chat channel"},
        "FLEX_TASK_CHANNEL is set but is not a task channel unique name such as chat, sms or voice.",
        id="task-channel-malformed",
    ),
]


@pytest.mark.parametrize(("config", "expected"), CONFIG_ERRORS)
def test_missing_or_malformed_configuration_is_a_500_naming_the_variable_and_its_fix(
    emulator, runtimes, call_tool, session, config, expected
):
    runtime = runtimes(**config)
    (name,) = config

    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": "+15551234567"})

    assert answer.status == 500
    assert answer.body == {
        "status": "failed",
        "error": (
            f"{expected} Set it with `{contract.SET_VARIABLE_COMMAND}` (or in .env for a local run), then call again."
        ),
    }
    assert emulator.requests == []


def test_well_formed_overrides_stand_in_for_missing_configuration(twilio, emulator, runtimes, call_tool, session):
    runtime = runtimes(FLEX_WORKSPACE_SID=None, FLEX_WORKFLOW_SID=None)

    answer = call_tool(
        runtime,
        {"X-Session-Id": session["header"], "X-Identity": "+15551234567"},
        {"FlexWorkspaceSid": twilio.account.workspace_sid, "FlexWorkflowSid": twilio.account.workflow_sid},
    )

    assert_handed_off(answer, emulator)


def test_the_task_channel_comes_from_configuration(twilio, emulator, runtimes, call_tool, session):
    runtime = runtimes(FLEX_TASK_CHANNEL="sms")

    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": "+15551234567"})

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator) == expected_interaction(
        twilio, session["conversation_sid"], "sms", person("+15551234567"), task_channel="sms"
    )


# Twilio API failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(400, 20001), (403, 20403), (404, 20404)])
def test_a_twilio_refusal_is_a_502_with_twilios_code_and_message_and_no_retry(
    emulator, runtime, call_tool, session, status, code
):
    emulator.inject(Fault("POST", "/v1/Interactions", status=status, code=code))

    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": "+15551234567"})

    assert answer.status == 502
    assert answer.body == {
        "status": "failed",
        "error": f"Creating the Flex interaction failed: Injected fault {status}",
        "message": FAILED_MESSAGE,
        "twilioCode": code,
        "twilioStatus": status,
    }
    assert len(emulator.calls(operation=INTERACTIONS)) == 1
    assert emulator.table("interactions").get(answer.body.get("interactionSid")) is None
    failure_lines = [
        line for line in runtime.log().splitlines() if f"for conversation {session['conversation_sid']}" in line
    ]
    assert len(failure_lines) == 1
    assert f"{status} {code}" in failure_lines[0]


def test_twilio_rejecting_the_routing_is_a_502_that_says_why(emulator, runtime, call_tool, session, twilio):
    unknown_workflow = "WW" + "0" * 32

    answer = call_tool(
        runtime,
        {"X-Session-Id": session["header"], "X-Identity": "+15551234567"},
        {"FlexWorkflowSid": unknown_workflow},
    )

    assert answer.status == 502
    assert answer.body == {
        "status": "failed",
        "error": (
            "Creating the Flex interaction failed: Invalid workflow_sid: "
            f"workflow {unknown_workflow} not found in workspace {twilio.account.workspace_sid}"
        ),
        "message": FAILED_MESSAGE,
        "twilioCode": 20001,
        "twilioStatus": 400,
    }


# Secrets and runtime modes -------------------------------------------------------------------------


def test_the_auth_token_never_reaches_answers_or_logs(twilio, emulator, runtime, call_tool, session):
    emulator.inject(Fault("POST", "/v1/Interactions", status=400))
    answers = [
        call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": "+15551234567"}),
        call_tool(runtime, {"X-Session-Id": "garbage"}),
    ]

    token = twilio.emulator.account.auth_token
    assert all(token not in json.dumps(answer.body) for answer in answers)
    assert token not in runtime.log()


def test_the_default_forked_mode_hands_off(twilio, emulator, runtimes, call_tool, session):
    runtime = runtimes(fork=True)

    answer = call_tool(runtime, {"X-Session-Id": session["header"], "X-Identity": "whatsapp:+15551234567"})

    assert_handed_off(answer, emulator)
    assert only_interaction_request(emulator) == expected_interaction(
        twilio, session["conversation_sid"], "whatsapp", person("whatsapp:+15551234567")
    )
