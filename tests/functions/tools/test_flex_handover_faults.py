"""Surviving Twilio's faults: each call of a handoff, failing once or for good in each way Twilio fails.

Whatever happens the answer comes within the deadline, and it is one of two outcomes: exactly one
interaction and 200, or no interaction, the claim given back and 503 `retryable`. Never two
interactions. The runtime here has a short deadline and attempt timeout, so the matrix runs fast, and
the emulator enforces Twilio's documented rate limits throughout.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from handover import contract
from twilio_emulator import Fault, add_conversation, conversation_attributes, sync_map_items

DEADLINE_MS, ATTEMPT_TIMEOUT_MS = 1500, 250
PAST_THE_TIMEOUT = 0.3  # seconds: Twilio answers after the client gave up, but well before two attempt timeouts
TRY_AGAIN = contract.TRY_AGAIN_MESSAGE

# Each way a Twilio request fails: before Twilio did anything, or after it did the work.
KINDS = {
    "429": {"status": 429},
    "500": {"status": 500},
    "503": {"status": 503},
    "slow": {"delay": PAST_THE_TIMEOUT},  # Twilio does the work, the answer comes too late
    "dropped": {"drop": True},  # the connection breaks before Twilio does anything
    "dropped-after-work": {"drop": True, "after": True},  # Twilio did the work, the answer is lost
}
# Each call of a handoff, as (method, a part of its path); {conversation} is the test's conversation,
# {claims} the Sync Map of its claim. The conversation's own calls are matched by the end of their path
# (FaultAt): a part of it would match its webhooks' too.
POSITIONS = {
    "claim": ("POST", "/Maps/{claims}/Items"),
    "name-lookup": ("GET", "/Users/"),
    "read-conversation": ("GET", "/Conversations/{conversation}"),
    "webhook-list": ("GET", "/Conversations/{conversation}/Webhooks"),
    "interaction": ("POST", "/v1/Interactions"),
    "mark-conversation": ("POST", "/Conversations/{conversation}"),
}
ENDS_THE_PATH = {"read-conversation", "mark-conversation"}
# The calls whose failure never stops a handoff: the customer's name, the conversation's read and record, and
# the list of its webhooks (the bot's are removed beside the delivery; the bot keeps them if it fails).
BEST_EFFORT = {"name-lookup", "read-conversation", "webhook-list", "mark-conversation"}
# The faults after which the interaction got made anyway: its task tells the function so, and a
# persistent one still ends in a handoff. (A claim whose answers never arrive cannot be told from
# another call's claim, so it is given back and the call answers 503.)
WORK_DONE_ANYWAY = {"slow", "dropped-after-work"}


class FaultAt(Fault):
    """A Fault on the requests whose path ends with `path_contains`: the conversation's own, not its webhooks'."""

    def matches(self, method: str, path: str) -> bool:
        return super().matches(method, path) and path.endswith(self.path_contains)


@pytest.fixture(scope="module")
def runtime(runtimes):
    return runtimes(HANDOVER_DEADLINE_MS=str(DEADLINE_MS), HANDOVER_ATTEMPT_TIMEOUT_MS=str(ATTEMPT_TIMEOUT_MS))


@pytest.fixture
def conversation(twilio, emulator) -> str:
    return add_conversation(emulator, twilio.account)


def interactions_of(emulator, conversation_sid: str) -> list[dict]:
    return [
        i
        for i in emulator.table("interactions").values()
        if i["channel"] and conversation_sid in i["routing"]["properties"]["attributes"]
    ]


def expected_status(position: str, kind: str, persistent: bool) -> int:
    if not persistent or position in BEST_EFFORT or (position == "interaction" and kind in WORK_DONE_ANYWAY):
        return 200
    return 503


@pytest.mark.parametrize("persistent", [False, True], ids=["once", "persistent"])
@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("position", list(POSITIONS))
def test_every_fault_ends_in_one_interaction_or_none_within_the_deadline(
    twilio, emulator, runtime, call_tool, conversation, position, kind, persistent
):
    method, path = POSITIONS[position]
    claims = contract.claim_map_of(conversation)
    emulator.inject(
        (FaultAt if position in ENDS_THE_PATH else Fault)(
            method,
            path.format(conversation=conversation, claims=claims),
            times=None if persistent else 1,
            **KINDS[kind],
        )
    )
    # A web chat identity, so that the handoff makes every call there is, the name lookup included.
    identity = f"flex_participant:{twilio.account.webchat_identity}"
    headers = {"X-Session-Id": f"conversations__{twilio.account.service_sid}/{conversation}", "X-Identity": identity}

    started = time.monotonic()
    answer = call_tool(runtime, headers, {"reason": "refund"})
    elapsed = time.monotonic() - started

    assert elapsed < DEADLINE_MS / 1000 + 0.5, f"answered after {elapsed:.2f} s"
    assert answer.status == expected_status(position, kind, persistent), answer.body
    created = interactions_of(emulator, conversation)
    if answer.status == 200:
        assert answer.body["status"] == "handed_off"
        assert [i["sid"] for i in created] == [answer.body["interactionSid"]]
    else:
        assert answer.body == {
            "status": "failed",
            "retryable": True,
            "error": answer.body["error"],
            "message": TRY_AGAIN,
        }
        assert created == []
        assert_claim_given_back(emulator, runtime, call_tool, headers, conversation)


def assert_claim_given_back(emulator, runtime, call_tool, headers: dict, conversation: str) -> None:
    """No record of a handoff on the conversation, and no claim left; but a claim create that lands after the
    function gave up (Twilio still working on a slow request) stays: unrecorded, it is taken over once it is
    older than any call lives, and the next call hands off."""
    time.sleep(PAST_THE_TIMEOUT)
    assert "handedOff" not in conversation_attributes(emulator, conversation)
    left = sync_map_items(emulator, contract.claim_map_of(conversation)).get(conversation)
    if left is not None:
        emulator.clear_traffic()
        stranded = datetime.now(UTC) - timedelta(seconds=contract.CLAIM_STRANDED_AFTER_SECONDS + 1)
        left["data"]["requestedAt"] = stranded.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        again = call_tool(runtime, headers)
        assert (again.status, again.body["status"]) == (200, "handed_off")
        assert len(interactions_of(emulator, conversation)) == 1


def test_a_conversation_that_cannot_be_marked_is_still_handed_off_and_logged(
    twilio, emulator, runtime, call_tool, conversation
):
    emulator.inject(Fault("POST", f"/Conversations/{conversation}", status=400, code=50304))
    headers = {
        "X-Session-Id": f"conversations__{twilio.account.service_sid}/{conversation}",
        "X-Identity": "+15551234567",
    }

    answer = call_tool(runtime, headers)

    assert (answer.status, answer.body["status"]) == (200, "handed_off")
    assert f"could not record the handoff of conversation {conversation} in its attributes: 400 50304" in runtime.log()
    assert "handedOff" not in conversation_attributes(emulator, conversation)


def test_a_503_names_what_failed_and_the_ai_may_try_again(twilio, emulator, runtime, call_tool, conversation):
    emulator.inject(Fault("POST", "/v1/Interactions", status=503, times=None))
    headers = {
        "X-Session-Id": f"conversations__{twilio.account.service_sid}/{conversation}",
        "X-Identity": "+15551234567",
    }

    answer = call_tool(runtime, headers)

    assert answer.status == 503
    assert answer.body["error"] == "Creating the Flex interaction did not succeed in time: Injected fault 503"
    emulator.clear_traffic()
    again = call_tool(runtime, headers)
    assert (again.status, again.body["status"]) == (200, "handed_off")
