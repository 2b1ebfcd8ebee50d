"""Exactly one Flex interaction per conversation, whatever number of calls, retries or races.

The function claims the conversation with a Sync Map item keyed by its SID before creating the
interaction; a second create of the key is Sync's 409/54208, answered `already_handed_off`.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from handover import contract
from handover.emulator import Fault, add_conversation, sync_map_items
from tests.functions.tools.test_flex_handover import CLAIM, CONFIRM_CLAIM, HANDOFF_REQUESTS, INTERACTIONS, handoff_requests

RELEASE = "DELETE /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}"
CREATE_MAP = "POST /v1/Services/{ServiceSid}/Maps"
ALREADY = contract.ALREADY_HANDED_OFF_MESSAGE


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes()


@pytest.fixture
def conversation(twilio, emulator) -> str:
    return add_conversation(emulator, twilio.account)


def headers_for(twilio, conversation_sid: str) -> dict:
    return {"X-Session-Id": f"webhook:conversations__{twilio.account.service_sid}/{conversation_sid}", "X-Identity": "+15551234567"}


def interactions_for(emulator, conversation_sid: str) -> list[dict]:
    return [i for i in emulator.table("interactions").values() if i["routing"]["properties"]["attributes"] and
            json.loads(i["routing"]["properties"]["attributes"])["conversationSid"] == conversation_sid]


def test_a_handoff_claims_the_conversation_then_creates_the_interaction(twilio, emulator, runtime, call_tool, conversation):
    answer = call_tool(runtime, headers_for(twilio, conversation), {"reason": "refund"})

    assert answer.status == 200, answer.body
    assert handoff_requests(emulator) == HANDOFF_REQUESTS
    [claim] = emulator.calls(operation=CLAIM)
    assert claim.path == f"/v1/Services/default/Maps/{contract.CLAIM_MAP}/Items"
    data = claim.body["Data"]
    assert claim.body == {
        "Key": conversation,
        "Data": {"state": "pending", "claimId": data["claimId"], "requestedAt": data["requestedAt"], "source": "/tools/flex-handover"},
        "ItemTtl": contract.CLAIM_PENDING_TTL_SECONDS,
    }
    [confirmed] = emulator.calls(operation=CONFIRM_CLAIM)
    assert confirmed.path == f"/v1/Services/default/Maps/{contract.CLAIM_MAP}/Items/{conversation}"
    assert confirmed.body == {
        "Data": {**data, "state": "handed_off", "interactionSid": answer.body["interactionSid"]},
        "ItemTtl": contract.CLAIM_TTL_SECONDS,
    }
    assert set(sync_map_items(emulator, contract.CLAIM_MAP)) >= {conversation}


def test_a_second_call_is_already_handed_off_with_one_request_and_no_second_interaction(twilio, emulator, runtime, call_tool, conversation):
    first = call_tool(runtime, headers_for(twilio, conversation))
    emulator.clear_traffic()

    second = call_tool(runtime, headers_for(twilio, conversation))

    assert (second.status, second.body) == (
        200, {"status": "already_handed_off", "interactionSid": first.body["interactionSid"], "message": ALREADY},
    )
    assert [(r.operation, r.status) for r in emulator.requests] == [(CLAIM, 409)]
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_duplicate_in_a_fresh_process_answers_without_the_sid(twilio, emulator, runtimes, call_tool, conversation):
    """In forked mode every call is a new process, as a cold instance: it cannot know the SID for free."""
    forked = runtimes(fork=True)
    assert call_tool(forked, headers_for(twilio, conversation)).status == 200

    second = call_tool(forked, headers_for(twilio, conversation))

    assert (second.status, second.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_failed_interaction_releases_the_claim_so_a_retry_hands_off(twilio, emulator, runtime, call_tool, conversation):
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, code=20001))

    failed = call_tool(runtime, headers_for(twilio, conversation))

    assert failed.status == 502
    assert [r.operation for r in emulator.requests] == [CLAIM, INTERACTIONS, RELEASE]
    assert emulator.calls(operation=RELEASE)[0].path.endswith(f"/Items/{conversation}")
    assert conversation not in sync_map_items(emulator, contract.CLAIM_MAP)
    retried = call_tool(runtime, headers_for(twilio, conversation))
    assert (retried.status, retried.body["status"]) == (200, "handed_off")
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_claim_that_cannot_be_released_blocks_until_it_expires(twilio, emulator, runtime, call_tool, conversation):
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, code=20001))
    emulator.inject(Fault("DELETE", f"/Items/{conversation}", status=403))
    assert call_tool(runtime, headers_for(twilio, conversation)).status == 502
    assert f"could not release the claim of conversation {conversation}" in runtime.log()

    assert call_tool(runtime, headers_for(twilio, conversation)).body == {"status": "already_handed_off", "message": ALREADY}
    emulator.advance(contract.CLAIM_PENDING_TTL_SECONDS + 1)
    try:
        answer = call_tool(runtime, headers_for(twilio, conversation))
    finally:
        emulator.advance(-(contract.CLAIM_PENDING_TTL_SECONDS + 1))
    assert (answer.status, answer.body["status"]) == (200, "handed_off")


def test_a_sync_error_on_the_claim_is_a_502_and_no_interaction(twilio, emulator, runtime, call_tool, conversation):
    emulator.inject(Fault("POST", "/Items", status=403, code=20403))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 502
    assert answer.body["error"].startswith("Claiming the conversation failed: ")
    assert (answer.body["twilioCode"], answer.body["twilioStatus"]) == (20403, 403)
    assert emulator.calls(operation=INTERACTIONS) == []


def test_the_first_handoff_of_an_account_makes_the_claim_map(twilio, emulator, runtime, call_tool, conversation):
    [claims] = [m for m in emulator.table("sync_maps").values() if m["unique_name"] == contract.CLAIM_MAP]
    del emulator.table("sync_maps")[claims["sid"]]

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 200, answer.body
    assert [(r.operation, r.status) for r in emulator.requests][:4] == [(CLAIM, 404), (CREATE_MAP, 201), (CLAIM, 201), (INTERACTIONS, 201)]
    assert emulator.calls(operation=CREATE_MAP)[0].body == {"UniqueName": contract.CLAIM_MAP}


# Concurrency -------------------------------------------------------------------------------------------


def call_together(calls: list) -> list:
    """Run the calls at the same moment from their own threads; their answers, in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=120))


def test_twenty_simultaneous_calls_for_one_conversation_make_one_interaction(twilio, emulator, runtime, call_tool, conversation):
    answers = call_together([lambda: call_tool(runtime, headers_for(twilio, conversation))] * 20)

    statuses = sorted(answer.body["status"] for answer in answers)
    assert statuses == ["already_handed_off"] * 19 + ["handed_off"]
    assert {answer.status for answer in answers} == {200}
    assert len(interactions_for(emulator, conversation)) == 1
    assert len(emulator.calls(operation=INTERACTIONS)) == 1


def test_fifty_conversations_three_calls_each_interleaved_make_fifty_interactions(twilio, emulator, runtime, call_tool):
    conversations = [add_conversation(emulator, twilio.account) for _ in range(50)]
    calls = [lambda sid=sid: call_tool(runtime, headers_for(twilio, sid)) for _ in range(3) for sid in conversations]

    answers = call_together(calls)

    assert {answer.status for answer in answers} == {200}
    assert sorted(a.body["status"] for a in answers).count("handed_off") == 50
    assert len(emulator.calls(operation=INTERACTIONS)) == 50
    assert all(len(interactions_for(emulator, sid)) == 1 for sid in conversations)
