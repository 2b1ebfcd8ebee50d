"""studio-handover surviving Twilio's faults: exactly one execution and 200, or none, the claim given back
and 503 `retryable`. After a create whose outcome is unknown, the function looks for the execution of this
very handoff (the flow's recent executions for this customer, matched by their HandoffData) before it
starts another. The runtime has a short deadline and attempt timeout, so that these run fast.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest

from handover import contract
from tests.functions.tools.test_studio_handover import (
    CLAIM,
    EXECUTIONS,
    FROM_ADDRESS,
    PATH,
    executions_for,
    headers_for,
)
from twilio_emulator import Fault, add_conversation, studio_executions, sync_map_items

DEADLINE_MS, ATTEMPT_TIMEOUT_MS = 1500, 250
PAST_THE_TIMEOUT = 0.3  # seconds: Twilio answers after the client gave up, but well before two attempt timeouts
LIST_EXECUTIONS = "GET /v2/Flows/{FlowSid}/Executions"
EXECUTION_CONTEXT = "GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context"


@pytest.fixture(scope="module")
def runtime(runtimes, studio_flow):
    return runtimes(
        TWILIO_STUDIO_HANDOFF_FLOW_SID=studio_flow,
        STUDIO_FROM_ADDRESS=FROM_ADDRESS,
        HANDOVER_DEADLINE_MS=str(DEADLINE_MS),
        HANDOVER_ATTEMPT_TIMEOUT_MS=str(ATTEMPT_TIMEOUT_MS),
    )


@pytest.fixture
def conversation(twilio, emulator) -> str:
    return add_conversation(emulator, twilio.account)


def call(call_tool, runtime, headers: dict):
    return call_tool(runtime, headers, {"reason": "refund"}, path=PATH)


def search_query(emulator) -> str:
    """The executions search the function makes: those created since a minute before the call arrived, 20 at most."""
    requested_at = emulator.calls(operation=CLAIM)[0].body["Data"]["requestedAt"]
    arrived = datetime.strptime(requested_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return urlencode(
        {"DateCreatedFrom": (arrived - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "PageSize": 20}
    )


def test_a_create_that_failed_before_studio_did_anything_is_looked_for_then_made_once(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    emulator.inject(Fault("POST", f"/v2/Flows/{studio_flow}/Executions", status=500))
    # A customer of no other test: the search finds no execution of theirs at all, so reads no context.
    customer = "+15557770001"

    answer = call(call_tool, runtime, headers_for(twilio, conversation, customer))

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert [(r.operation, r.status) for r in emulator.requests if r.host.startswith(("sync.", "studio."))] == [
        (CLAIM, 201),
        (EXECUTIONS, 500),
        (LIST_EXECUTIONS, 200),
        (EXECUTIONS, 201),
    ]
    [search] = emulator.calls(operation=LIST_EXECUTIONS)
    assert (search.path, search.query) == (f"/v2/Flows/{studio_flow}/Executions", search_query(emulator))
    assert [e["sid"] for e in executions_for(emulator, studio_flow, conversation)] == [answer.body["executionSid"]]


@pytest.mark.parametrize(
    "kind", [{"drop": True, "after": True}, {"delay": PAST_THE_TIMEOUT}], ids=["dropped-after-work", "slow"]
)
def test_a_create_whose_answer_is_lost_is_found_and_not_made_again(
    twilio, emulator, runtime, call_tool, studio_flow, conversation, kind
):
    # An earlier handoff of the same customer in another conversation: among the candidates, not the match.
    earlier = add_conversation(emulator, twilio.account)
    assert call(call_tool, runtime, headers_for(twilio, earlier)).status == 200
    emulator.clear_traffic()
    emulator.inject(Fault("POST", f"/v2/Flows/{studio_flow}/Executions", **kind))

    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    [execution] = executions_for(emulator, studio_flow, conversation)
    assert answer.body["executionSid"] == execution["sid"]
    assert len(emulator.calls(operation=EXECUTIONS)) == 1
    contexts = sorted(r.path.split("/")[-2] for r in emulator.calls(operation=EXECUTION_CONTEXT))
    assert execution["sid"] in contexts and len(contexts) >= 2  # this customer's executions, the earlier one too


def test_studio_unavailable_until_the_deadline_is_a_retryable_503_with_nothing_started(
    twilio, emulator, runtime, call_tool, studio_flow, conversation
):
    emulator.inject(Fault("POST", f"/v2/Flows/{studio_flow}/Executions", status=503, times=None))
    executions_before = len(studio_executions(emulator, studio_flow))

    answer = call(call_tool, runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (
        503,
        {
            "status": "failed",
            "retryable": True,
            "error": "Starting the Studio handoff flow did not succeed in time: Injected fault 503",
            "message": contract.TRY_AGAIN_MESSAGE,
        },
    )
    assert len(studio_executions(emulator, studio_flow)) == executions_before
    assert conversation not in sync_map_items(emulator, contract.claim_map_of(conversation))
    emulator.clear_traffic()
    again = call(call_tool, runtime, headers_for(twilio, conversation))
    assert (again.status, again.body["status"]) == (200, "handed_off")
