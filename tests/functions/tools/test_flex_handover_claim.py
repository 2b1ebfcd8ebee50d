"""Exactly one Flex interaction per conversation, whatever number of calls, retries or races.

The function claims the conversation with a Sync Map item keyed by its SID, in one of the claim Maps
chosen by a hash of the SID, before creating the interaction; a second create of the key is Sync's
409/54208, answered `already_handed_off`. The claim lives a day and is the handoff's only Sync write.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from handover import contract
from handover.bench.stats import sequential_rounds
from tests.functions.tools.test_flex_handover import (
    CLAIM,
    HANDOFF_REQUESTS,
    INTERACTIONS,
    LIST_WEBHOOKS,
    MARK_CONVERSATION,
    READ_CONVERSATION,
    USER_LOOKUP,
    handoff_requests,
)
from twilio_emulator import (
    Fault,
    Limits,
    add_conversation,
    add_sync_map_item,
    conversation_attributes,
    set_conversation_attributes,
    sync_map_items,
)

READ_CLAIM = "GET /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}"
TAKE_OVER = "POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}"
RELEASE = "DELETE /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}"
CREATE_MAP = "POST /v1/Services/{ServiceSid}/Maps"
FIND_TASK = "GET /v1/Workspaces/{WorkspaceSid}/Tasks"
ALREADY = contract.ALREADY_HANDED_OFF_MESSAGE
STRANDED = timedelta(seconds=contract.CLAIM_STRANDED_AFTER_SECONDS + 60)


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes()


@pytest.fixture
def conversation(twilio, emulator) -> str:
    return add_conversation(emulator, twilio.account)


def headers_for(twilio, conversation_sid: str) -> dict:
    return {
        "X-Session-Id": f"webhook:conversations__{twilio.account.service_sid}/{conversation_sid}",
        "X-Identity": "+15551234567",
    }


def interactions_for(emulator, conversation_sid: str) -> list[dict]:
    return [
        i
        for i in emulator.table("interactions").values()
        if i["routing"]["properties"]["attributes"]
        and json.loads(i["routing"]["properties"]["attributes"])["conversationSid"] == conversation_sid
    ]


def claim_of(emulator, conversation_sid: str) -> dict | None:
    return sync_map_items(emulator, contract.claim_map_of(conversation_sid)).get(conversation_sid)


def iso_ago(age: timedelta) -> str:
    return (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def leave_claim(emulator, conversation_sid: str, age: timedelta) -> dict:
    """A claim as a call that stopped between claim and delivery leaves it: `age` old, the conversation unmarked."""
    data = {"claimId": "left-behind", "requestedAt": iso_ago(age), "source": "/tools/flex-handover"}
    return add_sync_map_item(
        emulator, contract.claim_map_of(conversation_sid), conversation_sid, data, ttl=contract.CLAIM_TTL_SECONDS
    )


def operations(emulator) -> list[tuple[str, int]]:
    return sorted((r.operation, r.status) for r in emulator.requests)


# A first handoff -------------------------------------------------------------------------------------


def test_a_handoff_claims_the_conversation_in_its_shard_and_records_the_claim_on_it(
    twilio, emulator, runtime, call_tool, conversation
):
    set_conversation_attributes(emulator, conversation, {"topic": "billing"})

    answer = call_tool(runtime, headers_for(twilio, conversation), {"reason": "refund"})

    assert answer.status == 200, answer.body
    assert handoff_requests(emulator) == HANDOFF_REQUESTS
    [claim] = emulator.calls(operation=CLAIM)
    assert claim.path == f"/v1/Services/default/Maps/{contract.claim_map_of(conversation)}/Items"
    data = claim.body["Data"]
    assert claim.body == {
        "Key": conversation,
        "Data": {"claimId": data["claimId"], "requestedAt": data["requestedAt"], "source": "/tools/flex-handover"},
        "ItemTtl": contract.CLAIM_TTL_SECONDS,
    }
    assert [r for r in emulator.requests if r.host.startswith("sync.")] == [claim]  # the handoff's only Sync request
    assert claim_of(emulator, conversation)["data"] == data
    # The record goes beside the interaction, from the attributes read beside the claim: it names the claim.
    assert conversation_attributes(emulator, conversation) == {
        "topic": "billing",
        "handedOff": True,
        "handedOffAt": data["requestedAt"],
        "handoffClaimId": data["claimId"],
    }
    [read], [mark], [interaction] = (
        emulator.calls(operation=name) for name in (READ_CONVERSATION, MARK_CONVERSATION, INTERACTIONS)
    )
    assert interaction.started >= claim.finished and mark.started >= read.finished


@pytest.mark.parametrize(
    ("identity", "requests"),
    [("+15551234567", 5), ("flex_participant:{webchat}", 6)],
    ids=["phone", "webchat"],
)
def test_a_first_handoff_takes_two_sequential_rounds(
    twilio, emulator, runtime, call_tool, conversation, identity, requests
):
    """With a round trip to Twilio that dwarfs the runtime's own time, the emulator's timings show the rounds."""
    headers = {
        **headers_for(twilio, conversation),
        "X-Identity": identity.format(webchat=twilio.account.webchat_identity),
    }
    emulator.latency = 0.1
    try:
        answer = call_tool(runtime, headers)
    finally:
        emulator.latency = 0.0

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert len(emulator.requests) == requests
    assert sequential_rounds([(r.started, r.finished) for r in emulator.requests]) == 2
    first_round = [r.operation for r in emulator.requests if r.started < emulator.calls(operation=CLAIM)[0].finished]
    assert sorted(first_round) == sorted(
        [CLAIM, READ_CONVERSATION, LIST_WEBHOOKS] + ([USER_LOOKUP] if requests == 6 else [])
    )


def test_the_first_handoff_of_a_shard_makes_its_claim_map(twilio, emulator, runtime, call_tool, conversation):
    name = contract.claim_map_of(conversation)
    [claims] = [m for m in emulator.table("sync_maps").values() if m["unique_name"] == name]
    del emulator.table("sync_maps")[claims["sid"]]

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 200, answer.body
    sync_requests = [(r.operation, r.status) for r in emulator.requests if r.host.startswith("sync.")]
    assert sync_requests == [(CLAIM, 404), (CREATE_MAP, 201), (CLAIM, 201)]
    assert emulator.calls(operation=CREATE_MAP)[0].body == {"UniqueName": name}


def test_claims_spread_over_every_shard(twilio, emulator):
    """The shard is a hash of the SID: the account's conversations use every claim Map about equally."""
    shards = [contract.claim_shard(add_conversation(emulator, twilio.account)) for _ in range(800)]

    counts = [shards.count(shard) for shard in range(contract.CLAIM_SHARDS)]
    assert min(counts) > 800 / contract.CLAIM_SHARDS / 2, counts


# Duplicates ---------------------------------------------------------------------------------------------


def test_a_second_call_is_answered_by_the_claim_and_the_conversation_read_beside_it(
    twilio, emulator, runtime, call_tool, conversation
):
    first = call_tool(runtime, headers_for(twilio, conversation))
    emulator.clear_traffic()

    second = call_tool(runtime, headers_for(twilio, conversation))

    assert (second.status, second.body) == (
        200,
        {"status": "already_handed_off", "interactionSid": first.body["interactionSid"], "message": ALREADY},
    )
    assert operations(emulator) == sorted([(CLAIM, 409), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200)])
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_duplicate_in_a_fresh_process_answers_without_the_sid(twilio, emulator, runtimes, call_tool, conversation):
    """In forked mode every call is a new process, as a cold instance: it cannot know the SID for free."""
    forked = runtimes(fork=True)
    assert call_tool(forked, headers_for(twilio, conversation)).status == 200

    second = call_tool(forked, headers_for(twilio, conversation))

    assert (second.status, second.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_call_while_the_first_is_under_way_reads_the_claim_and_waits_for_it(
    twilio, emulator, runtime, call_tool, conversation
):
    leave_claim(emulator, conversation, timedelta(seconds=5))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert operations(emulator) == sorted(
        [(CLAIM, 409), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200), (READ_CLAIM, 200)]
    )
    assert interactions_for(emulator, conversation) == []


def test_a_call_within_the_day_of_a_handoff_is_refused_without_a_write(
    twilio, emulator, runtime, call_tool, conversation
):
    """Queues hold a customer for hours: the AI may call again meanwhile, and nothing is made twice."""
    handed_off_at = iso_ago(timedelta(hours=23))
    leave_claim(emulator, conversation, timedelta(hours=23))
    set_conversation_attributes(
        emulator, conversation, {"handedOff": True, "handedOffAt": handed_off_at, "handoffClaimId": "left-behind"}
    )

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert operations(emulator) == sorted([(CLAIM, 409), (READ_CONVERSATION, 200), (LIST_WEBHOOKS, 200)])
    assert interactions_for(emulator, conversation) == []


def test_a_conversation_handed_off_by_an_earlier_version_is_not_handed_off_again(
    twilio, emulator, runtime, call_tool, conversation
):
    """Its claim lived in another Map: the conversation's record, which named the interaction, still counts."""
    recorded = {"handedOff": True, "interactionSid": "KD" + "0" * 32, "handedOffAt": iso_ago(timedelta(hours=2))}
    set_conversation_attributes(emulator, conversation, recorded)

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert interactions_for(emulator, conversation) == []
    assert conversation_attributes(emulator, conversation) == recorded


def test_a_record_older_than_a_day_does_not_stop_a_new_handoff(twilio, emulator, runtime, call_tool, conversation):
    set_conversation_attributes(
        emulator, conversation, {"handedOff": True, "handedOffAt": iso_ago(timedelta(hours=25))}
    )

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert (
        conversation_attributes(emulator, conversation)["handoffClaimId"]
        == claim_of(emulator, conversation)["data"]["claimId"]
    )


# A claim left stranded ---------------------------------------------------------------------------------


def test_a_stranded_claim_is_taken_over_once_and_the_conversation_handed_off(
    twilio, emulator, runtime, call_tool, conversation
):
    left_at = leave_claim(emulator, conversation, STRANDED)["data"]["requestedAt"]

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert len(interactions_for(emulator, conversation)) == 1
    [take_over] = emulator.calls(operation=TAKE_OVER)
    claim = claim_of(emulator, conversation)
    assert take_over.body == {"Data": claim["data"], "ItemTtl": contract.CLAIM_TTL_SECONDS}
    assert take_over.status == 200 and claim["data"]["claimId"] != "left-behind"
    assert [r.status for r in emulator.calls(operation=FIND_TASK)] == [200]
    assert f"took over the claim of conversation {conversation}, left at {left_at}" in runtime.log()


def test_a_take_over_is_conditional_on_the_claims_revision(twilio, emulator, runtime, call_tool, conversation):
    leave_claim(emulator, conversation, STRANDED)
    emulator.inject(Fault("POST", f"/Items/{conversation}", status=412, code=54205))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert emulator.calls(operation=TAKE_OVER)[0].body is not None
    assert interactions_for(emulator, conversation) == []


def test_calls_racing_for_a_stranded_claim_hand_off_exactly_once(twilio, emulator, runtime, call_tool, conversation):
    leave_claim(emulator, conversation, STRANDED)

    answers = call_together([lambda: call_tool(runtime, headers_for(twilio, conversation))] * 8)

    assert sorted(a.body["status"] for a in answers) == ["already_handed_off"] * 7 + ["handed_off"]
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_stranded_claim_whose_interaction_exists_is_not_taken_over(
    twilio, emulator, runtime, call_tool, conversation
):
    """The call that left it did deliver (its answer, and the record, were lost): its task says so."""
    first = call_tool(runtime, headers_for(twilio, conversation))
    earlier = iso_ago(STRANDED)
    claim_of(emulator, conversation)["data"]["requestedAt"] = earlier
    [task] = [
        t for t in emulator.table("tasks").values() if json.loads(t["attributes"])["conversationSid"] == conversation
    ]
    task["attributes"] = json.dumps(
        {
            **json.loads(task["attributes"]),
            "handoff": {**json.loads(task["attributes"])["handoff"], "requestedAt": earlier},
        }
    )
    set_conversation_attributes(emulator, conversation, {})
    emulator.clear_traffic()

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["status"], answer.body["interactionSid"]) == (
        200,
        "already_handed_off",
        first.body["interactionSid"],
    )
    assert emulator.calls(operation=TAKE_OVER) == [] and emulator.calls(operation=INTERACTIONS) == []


def test_a_stranded_claim_that_cannot_be_checked_is_a_503_to_retry(twilio, emulator, runtime, call_tool, conversation):
    leave_claim(emulator, conversation, STRANDED)
    emulator.inject(Fault("GET", "/Tasks", status=403, code=20403))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 503
    assert answer.body == {
        "status": "failed",
        "retryable": True,
        "message": contract.TRY_AGAIN_MESSAGE,
        "error": "Could not tell whether an earlier call handed this conversation off; call again.",
    }
    assert emulator.calls(operation=TAKE_OVER) == [] and interactions_for(emulator, conversation) == []


def test_a_claim_given_back_while_a_call_reads_it_is_a_503_to_retry(twilio, emulator, runtime, call_tool, conversation):
    leave_claim(emulator, conversation, timedelta(seconds=5))
    emulator.inject(Fault("GET", f"/Items/{conversation}", status=404, code=54201))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body["retryable"]) == (503, True)
    assert answer.body["error"] == "Another call for this conversation gave up handing it off just now; call again."


def test_a_claim_that_cannot_be_read_is_taken_as_held(twilio, emulator, runtime, call_tool, conversation):
    leave_claim(emulator, conversation, STRANDED)
    emulator.inject(Fault("GET", f"/Items/{conversation}", status=403, code=20403))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert (answer.status, answer.body) == (200, {"status": "already_handed_off", "message": ALREADY})
    assert f"Reading the claim of the conversation failed for conversation {conversation}" in runtime.log()
    assert interactions_for(emulator, conversation) == []


# A failed handoff gives the conversation back -------------------------------------------------------------


def test_a_failed_interaction_releases_the_claim_and_takes_the_record_back(
    twilio, emulator, runtime, call_tool, conversation
):
    set_conversation_attributes(emulator, conversation, {"topic": "billing"})
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, code=20001))

    failed = call_tool(runtime, headers_for(twilio, conversation))

    assert failed.status == 502
    assert operations(emulator) == sorted(
        [
            (CLAIM, 201),
            (READ_CONVERSATION, 200),
            (LIST_WEBHOOKS, 200),
            (INTERACTIONS, 400),
            (MARK_CONVERSATION, 200),
            (RELEASE, 204),
            (READ_CONVERSATION, 200),
            (MARK_CONVERSATION, 200),
        ]
    )
    assert claim_of(emulator, conversation) is None
    assert conversation_attributes(emulator, conversation) == {"topic": "billing"}
    retried = call_tool(runtime, headers_for(twilio, conversation))
    assert (retried.status, retried.body["status"]) == (200, "handed_off")
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_claim_that_cannot_be_released_is_taken_over_once_stranded(
    twilio, emulator, runtime, call_tool, conversation
):
    emulator.inject(Fault("POST", "/v1/Interactions", status=400, code=20001))
    emulator.inject(Fault("DELETE", f"/Items/{conversation}", status=403))
    assert call_tool(runtime, headers_for(twilio, conversation)).status == 502
    assert f"could not release the claim of conversation {conversation}" in runtime.log()

    assert call_tool(runtime, headers_for(twilio, conversation)).body == {
        "status": "already_handed_off",
        "message": ALREADY,
    }
    claim_of(emulator, conversation)["data"]["requestedAt"] = iso_ago(STRANDED)
    answer = call_tool(runtime, headers_for(twilio, conversation))
    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert len(interactions_for(emulator, conversation)) == 1


def test_a_sync_error_on_the_claim_is_a_502_and_no_interaction(twilio, emulator, runtime, call_tool, conversation):
    emulator.inject(Fault("POST", "/Items", status=403, code=20403))

    answer = call_tool(runtime, headers_for(twilio, conversation))

    assert answer.status == 502
    assert answer.body["error"].startswith("Claiming the conversation failed: ")
    assert (answer.body["twilioCode"], answer.body["twilioStatus"]) == (20403, 403)
    assert emulator.calls(operation=INTERACTIONS) == []
    assert "handedOff" not in conversation_attributes(emulator, conversation)


# Concurrency -------------------------------------------------------------------------------------------


def call_together(calls: list) -> list:
    """Run the calls at the same moment from their own threads; their answers, in order."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=120))


def test_twenty_simultaneous_calls_for_one_conversation_make_one_interaction(
    twilio, emulator, runtime, call_tool, conversation
):
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


def test_a_burst_at_scaled_down_limits_hands_off_every_conversation_once_without_a_5xx(
    twilio, emulator, runtime, call_tool
):
    """Limits tight enough that the burst meets them: Sync or the account refuse with 429, the function
    retries within its deadline, and every conversation still gets exactly one interaction."""
    conversations = [add_conversation(emulator, twilio.account) for _ in range(40)]
    calls = [lambda sid=sid: call_tool(runtime, headers_for(twilio, sid)) for _ in range(3) for sid in conversations]
    tight = Limits(
        sync_object_writes_per_second=4,
        sync_object_reads_per_second=4,
        sync_burst_window_seconds=1,
        account_concurrency=12,
    )
    emulator.set_limits(tight)
    emulator.latency = 0.05  # requests overlap as on Twilio, so that the account's concurrency fills
    try:
        answers = call_together(calls)
    finally:
        emulator.latency = 0.0
        emulator.set_limits(Limits())

    assert sorted({answer.status for answer in answers}) == [200], Counter(answer.status for answer in answers)
    refused = Counter(r.response["code"] for r in emulator.requests if r.status == 429)
    # The limits met the burst. Which of them depends on how fast this machine sends it (a slow one spreads the
    # claims over Sync's windows, a fast one fills the account's concurrency); tests/twilio_emulator/test_limits.py
    # proves each limit on its own.
    assert refused[54009] + refused[20429] > 0, refused
    assert [len(interactions_for(emulator, sid)) for sid in conversations] == [1] * len(conversations)
