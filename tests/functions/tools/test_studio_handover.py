"""The studio-handover function's contract, over HTTP through the real twilio-run against the emulator.

It hands the conversation to the Studio handoff flow of Twilio Agent Connect: `POST /v2/Flows/{FW}/Executions`
with To (the customer), From (STUDIO_FROM_ADDRESS) and Parameters in TAC's HandoffData shape. Its
authentication, claim, input and answers are flex-handover's, so these tests check what differs and
that the shared parts hold for it too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from handover import contract
from tests.conftest import HANDOVER_TOKEN
from tests.functions.tools.test_flex_handover import RecentTimestamp
from twilio_emulator import (
    add_conversation,
    add_sync_map_item,
    conversation_attributes,
    studio_executions,
    sync_map_items,
)

PATH = "/tools/studio-handover"
FROM_ADDRESS = "+15550001111"
# Static attributes, one of them a key the function sets: the function's value wins.
STATIC = {"department": "support", "reason": "static"}

CLAIM = "POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items"
EXECUTIONS = "POST /v2/Flows/{FlowSid}/Executions"
USER_LOOKUP = "GET /v1/Services/{ChatServiceSid}/Users/{Sid}"
READ_CONVERSATION = "GET /v1/Services/{ChatServiceSid}/Conversations/{Sid}"
MARK_CONVERSATION = "POST /v1/Services/{ChatServiceSid}/Conversations/{Sid}"
# The requests of a handoff: the claim beside the conversation's read, then the execution beside the record.
HANDOFF_REQUESTS = sorted([CLAIM, READ_CONVERSATION, EXECUTIONS, MARK_CONVERSATION])
DEPLOY_FIX = f"Set it with `{contract.STUDIO_DEPLOY_COMMAND}` (or in .env for a local run), then call again."


@pytest.fixture(scope="module")
def runtime(runtimes, studio_flow):
    # Without the Flex routing variables: this tool does not read them.
    return runtimes(
        TWILIO_STUDIO_HANDOFF_FLOW_SID=studio_flow,
        STUDIO_FROM_ADDRESS=FROM_ADDRESS,
        HANDOVER_ATTRIBUTES=json.dumps(STATIC),
        FLEX_WORKSPACE_SID=None,
        FLEX_WORKFLOW_SID=None,
    )


@pytest.fixture
def conversation(twilio, emulator) -> str:
    return add_conversation(emulator, twilio.account)


def headers_for(twilio, conversation: str, identity: str | None = "+15551234567") -> dict:
    headers = {"X-Session-Id": f"webhook:conversations__{twilio.account.service_sid}/{conversation}"}
    if identity is not None:
        headers["X-Identity"] = identity
    return headers


def call(call_tool, runtime, headers: dict, body: dict | None = None, **options):
    return call_tool(runtime, headers, body, path=PATH, **options)


def expected_execution(
    twilio, conversation: str, *, to: str, channel_type: str, address: str, name: str, reason="", summary=""
) -> dict:
    """The Executions request as the emulator decodes it (Parameters parsed from its JSON text)."""
    return {
        "To": to,
        "From": FROM_ADDRESS,
        "Parameters": {
            "HandoffData": {
                "conversationId": conversation,
                "storeId": "",
                "profileId": "",
                "attributes": {
                    "department": "support",
                    "reason": reason,
                    "summary": summary,
                    "conversationSid": conversation,
                    "conversationServiceSid": twilio.account.service_sid,
                    "channelType": channel_type,
                    "customerAddress": address,
                    "customerName": name,
                    "source": PATH,
                    "requestedAt": RecentTimestamp(),
                },
            }
        },
    }


def only_execution(emulator, studio_flow: str):
    [created] = emulator.calls(operation=EXECUTIONS)
    assert created.path == f"/v2/Flows/{studio_flow}/Executions"
    return created


def executions_for(emulator, studio_flow: str, conversation: str) -> list[dict]:
    return [
        e
        for e in studio_executions(emulator, studio_flow)
        if e["context"]["flow"]["data"]["HandoffData"]["conversationId"] == conversation
    ]


def assert_handed_off(answer, emulator):
    execution_sid = emulator.calls(operation=EXECUTIONS)[-1].response["sid"]
    assert (answer.status, answer.body) == (
        200,
        {"status": "handed_off", "executionSid": execution_sid, "message": contract.HANDED_OFF_MESSAGE},
    )
    assert answer.content_type.startswith("application/json")


# The request to Studio, per channel ----------------------------------------------------------------

CHANNELS = [
    pytest.param(
        "+15551234567",
        {"to": "+15551234567", "channel_type": "sms", "address": "+15551234567", "name": "+15551234567"},
        id="sms",
    ),
    pytest.param(
        "phone:+15551234567",
        {"to": "+15551234567", "channel_type": "sms", "address": "+15551234567", "name": "+15551234567"},
        id="phone",
    ),
    pytest.param(
        "whatsapp:+15551234567",
        {
            "to": "whatsapp:+15551234567",
            "channel_type": "whatsapp",
            "address": "whatsapp:+15551234567",
            "name": "whatsapp:+15551234567",
        },
        id="whatsapp",
    ),
    pytest.param(
        "email:ada@example.com",
        {
            "to": "email:ada@example.com",
            "channel_type": "chat",
            "address": "email:ada@example.com",
            "name": "email:ada@example.com",
        },
        id="chat-email",
    ),
]


@pytest.mark.parametrize(("identity", "customer"), CHANNELS)
def test_each_channel_starts_the_flow_with_tacs_handoff_data(
    twilio, emulator, runtime, call_tool, studio_flow, conversation, identity, customer
):
    said = {"reason": "The customer disputes a charge.", "summary": "Order 1234 was billed twice."}

    answer = call(call_tool, runtime, headers_for(twilio, conversation, identity), said)

    assert_handed_off(answer, emulator)
    assert only_execution(emulator, studio_flow).body == expected_execution(twilio, conversation, **customer, **said)
    assert sorted(r.operation for r in emulator.requests) == HANDOFF_REQUESTS


def test_a_web_chat_customer_is_named_by_the_users_friendly_name(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    identity = twilio.account.webchat_identity

    answer = call(call_tool, runtime, headers_for(twilio, conversation, f"flex_participant:{identity}"))

    assert_handed_off(answer, emulator)
    assert [r.path for r in emulator.calls(operation=USER_LOOKUP)] == [
        f"/v1/Services/{twilio.account.service_sid}/Users/{identity}"
    ]
    assert only_execution(emulator, studio_flow).body == expected_execution(
        twilio,
        conversation,
        to=identity,
        channel_type="web",
        address=identity,
        name=twilio.account.webchat_name,
    )
    assert sorted(r.operation for r in emulator.requests) == sorted([*HANDOFF_REQUESTS, USER_LOOKUP])


def test_without_an_identity_the_conversation_is_the_contact(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    answer = call(call_tool, runtime, headers_for(twilio, conversation, identity=None))

    assert_handed_off(answer, emulator)
    assert only_execution(emulator, studio_flow).body == expected_execution(
        twilio,
        conversation,
        to=conversation,
        channel_type="chat",
        address="",
        name="Customer",
    )


def test_the_flow_gets_the_handoff_data_as_its_flow_data(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    answer = call(call_tool, runtime, headers_for(twilio, conversation), {"reason": "refund"})

    [execution] = executions_for(emulator, studio_flow, conversation)
    assert execution["sid"] == answer.body["executionSid"]
    assert execution["context"]["flow"]["channel"] == {"address": FROM_ADDRESS}
    assert execution["context"]["contact"]["channel"] == {"address": "+15551234567"}
    assert execution["context"]["flow"]["data"] == only_execution(emulator, studio_flow).body["Parameters"]


# The claim and the conversation ----------------------------------------------------------------------


def test_the_claim_is_the_only_sync_write_and_the_conversation_records_it(
    twilio, emulator, runtime, call_tool, conversation
):
    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert answer.status == 200, answer.body
    [claim] = emulator.calls(operation=CLAIM)
    data = claim.body["Data"]
    assert claim.path == f"/v1/Services/default/Maps/{contract.claim_map_of(conversation)}/Items"
    assert claim.body == {
        "Key": conversation,
        "Data": {"claimId": data["claimId"], "requestedAt": RecentTimestamp(), "source": PATH},
        "ItemTtl": contract.CLAIM_TTL_SECONDS,
    }
    assert [r for r in emulator.requests if r.host.startswith("sync.")] == [claim]
    attributes = conversation_attributes(emulator, conversation)
    assert attributes == {"handedOff": True, "handedOffAt": data["requestedAt"], "handoffClaimId": data["claimId"]}


def test_a_stranded_claim_is_taken_over_after_looking_for_its_execution(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    stranded = datetime.now(UTC) - timedelta(seconds=contract.CLAIM_STRANDED_AFTER_SECONDS + 60)
    data = {"claimId": "left-behind", "requestedAt": stranded.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "source": PATH}
    add_sync_map_item(emulator, contract.claim_map_of(conversation), conversation, data, ttl=contract.CLAIM_TTL_SECONDS)

    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    [search] = emulator.calls(operation="GET /v2/Flows/{FlowSid}/Executions")
    assert search.query == urlencode(
        {"DateCreatedFrom": (stranded - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "PageSize": 20}
    )
    assert [e["sid"] for e in executions_for(emulator, studio_flow, conversation)] == [answer.body["executionSid"]]


def test_a_second_call_is_already_handed_off_with_one_request_and_one_execution(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    first = call(call_tool, runtime, headers_for(twilio, conversation))
    emulator.clear_traffic()

    second = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (second.status, second.body) == (
        200,
        {
            "status": "already_handed_off",
            "executionSid": first.body["executionSid"],
            "message": contract.ALREADY_HANDED_OFF_MESSAGE,
        },
    )
    assert sorted((r.operation, r.status) for r in emulator.requests) == sorted(
        [(CLAIM, 409), (READ_CONVERSATION, 200)]
    )
    assert len(executions_for(emulator, studio_flow, conversation)) == 1


def test_a_conversation_handed_off_by_flex_handover_is_not_started_again(
    twilio, emulator, runtimes, runtime, call_tool, studio_flow, conversation
):
    """Both tools claim the same conversation key: the second
    answers already_handed_off, naming nothing of the other's."""
    assert call_tool(runtimes(), headers_for(twilio, conversation)).status == 200

    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (
        200,
        {"status": "already_handed_off", "message": contract.ALREADY_HANDED_OFF_MESSAGE},
    )
    assert executions_for(emulator, studio_flow, conversation) == []


# Who may call, the configuration, the request: refused before any Twilio call --------------------------


def test_no_credential_or_a_wrong_token_is_a_401_without_an_api_call(
    twilio, emulator, runtime, call_tool, conversation
):
    missing = call(call_tool, runtime, headers_for(twilio, conversation), token=None)
    wrong = call(call_tool, runtime, headers_for(twilio, conversation), token="x" * 43)

    assert (missing.status, missing.body["status"]) == (401, "rejected")
    assert missing.body["error"].startswith("This tool needs a credential")
    assert (wrong.status, wrong.body) == (
        401,
        {
            "status": "rejected",
            "error": (
                "The handover token is not valid. Call the tool URL that "
                "`handover tool register` registered, with its current token."
            ),
        },
    )
    assert emulator.requests == []


def test_the_token_as_the_query_parameter_is_accepted(twilio, emulator, runtime, call_tool, conversation):
    answer = call_tool(runtime, headers_for(twilio, conversation), path=f"{PATH}?token={HANDOVER_TOKEN}", token=None)
    assert_handed_off(answer, emulator)


CONFIG_ERRORS = [
    pytest.param(
        "TWILIO_STUDIO_HANDOFF_FLOW_SID", None, "is not set on this Functions environment.", id="flow-missing"
    ),
    pytest.param(
        "TWILIO_STUDIO_HANDOFF_FLOW_SID",
        "WW" + "a" * 32,
        "is set but is not FW followed by 32 hex characters.",
        id="flow-malformed",
    ),
    pytest.param("STUDIO_FROM_ADDRESS", None, "is not set on this Functions environment.", id="from-missing"),
    pytest.param(
        "STUDIO_FROM_ADDRESS",
        "15550001111",
        "is set but is not a Twilio phone number as +E.164 (such as "
        "+15551234567), whatsapp:+E.164, or MG followed by 32 hex characters.",
        id="from-malformed",
    ),
]


@pytest.mark.parametrize(("name", "value", "problem"), CONFIG_ERRORS)
def test_a_missing_or_malformed_studio_variable_is_a_500_naming_it_and_its_fix(
    twilio, emulator, runtimes, call_tool, studio_flow, conversation, name, value, problem
):
    config = {"TWILIO_STUDIO_HANDOFF_FLOW_SID": studio_flow, "STUDIO_FROM_ADDRESS": FROM_ADDRESS, name: value}
    runtime = runtimes(**config)

    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (500, {"status": "failed", "error": f"{name} {problem} {DEPLOY_FIX}"})
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("body", "error"),
    [
        pytest.param({"reason": 42}, "The field reason must be a string, got a number.", id="reason-number"),
        pytest.param({"summary": ["a"]}, "The field summary must be a string, got an array.", id="summary-array"),
        pytest.param(
            [1, 2],
            "The request body must be a JSON object with the fields reason and summary, not an array.",
            id="array-body",
        ),
    ],
)
def test_a_bad_body_is_a_400_without_an_api_call(twilio, emulator, runtime, call_tool, conversation, body, error):
    answer = call(call_tool, runtime, headers_for(twilio, conversation), body)

    assert (answer.status, answer.body) == (400, {"status": "rejected", "error": error})
    assert emulator.requests == []


def test_a_session_that_is_not_a_conversation_is_a_400_without_an_api_call(emulator, runtime, call_tool):
    answer = call(call_tool, runtime, {"X-Session-Id": "voice:CA" + "a" * 32})

    assert (answer.status, answer.body["status"]) == (400, "rejected")
    assert "is not a Conversations session" in answer.body["error"]
    assert emulator.requests == []


# Studio refusing the flow ------------------------------------------------------------------------------


@pytest.fixture
def flow_unavailable(emulator, studio_flow):
    """Make the seeded flow a draft, or take it away, for one test; as it was afterwards."""
    flows = emulator.table("studio_flows")
    flow = flows[studio_flow]

    def make(how: str) -> None:
        with emulator.lock:
            if how == "draft":
                flow["status"] = "draft"
            else:
                del flows[studio_flow]

    yield make
    with emulator.lock:
        flows[studio_flow] = flow | {"status": "published"}


@pytest.mark.parametrize("how", ["draft", "missing"])
def test_a_flow_missing_or_not_published_is_a_502_that_says_to_deploy_it(
    twilio, emulator, runtime, call_tool, studio_flow, conversation, flow_unavailable, how
):
    flow_unavailable(how)

    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (
        502,
        {
            "status": "failed",
            "error": (
                f"Starting the Studio handoff flow failed: The requested resource /v2/Flows/{studio_flow}/Executions "
                f"was not found. The flow {studio_flow} is missing or not published: run "
                f"`{contract.STUDIO_DEPLOY_COMMAND}`, then call again."
            ),
            "message": contract.FAILED_MESSAGE,
            "twilioCode": 20404,
            "twilioStatus": 404,
        },
    )
    assert sorted((r.operation, r.status) for r in emulator.requests) == sorted(
        [
            (CLAIM, 201),
            (READ_CONVERSATION, 200),
            (EXECUTIONS, 404),
            (MARK_CONVERSATION, 200),
            ("DELETE /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}", 204),
            (READ_CONVERSATION, 200),
            (MARK_CONVERSATION, 200),
        ]
    )
    assert conversation not in sync_map_items(emulator, contract.claim_map_of(conversation))
    assert "handedOff" not in conversation_attributes(emulator, conversation)
    failure_lines = [
        line
        for line in runtime.log().splitlines()
        if f"Studio Executions API failed for conversation {conversation}" in line
    ]
    assert failure_lines == [
        f"studio-handover: Studio Executions API failed for conversation {conversation} "
        f"(service {twilio.account.service_sid}, flow {studio_flow}): 404 20404 The requested resource "
        f"/v2/Flows/{studio_flow}/Executions was not found"
    ]
