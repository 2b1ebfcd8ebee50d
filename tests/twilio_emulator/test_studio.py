"""The emulated Studio v2 API (Flows, Flow Validate, Executions and their
Context), through the real proxy with the real twilio Python SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioException

from twilio_emulator import TwilioError, add_flow, studio_executions

FLOWS = "https://studio.twilio.com/v2/Flows"
UNKNOWN_FLOW = "FW" + "0" * 32
CUSTOMER, SENDER = "+15005550006", "+15005550001"
HANDOFF = {
    "HandoffData": {
        "conversationId": "conv_1",
        "storeId": "store_1",
        "profileId": "",
        "attributes": {"reason": "billing"},
    }
}


def definition(*states: dict, initial_state: str = "Trigger") -> dict:
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "properties": {"offset": {"x": 0, "y": 0}},
        "transitions": [{"event": "incomingRequest", "next": "Say"}],
    }
    say = {"name": "Say", "type": "send-message", "properties": {"body": "hi"}, "transitions": [{"event": "sent"}]}
    return {
        "description": "A New Flow",
        "flags": {"allow_concurrent_calls": True},
        "initial_state": initial_state,
        "states": list(states) or [trigger, say],
    }


def last_answer(emulator) -> tuple[int, object]:
    recorded = emulator.requests[-1]
    return recorded.status, recorded.response


def invalid(errors: list[tuple[str, str]]) -> tuple[int, int, dict]:
    return 400, 81022, {"errors": [{"message": m, "property_path": p} for m, p in errors], "warnings": []}


def refused_with_details(emulator, request) -> tuple[int, int, dict]:
    with pytest.raises(TwilioException):
        request()
    answer = emulator.requests[-1].response
    return emulator.requests[-1].status, answer["code"], answer["details"]


# Flows -----------------------------------------------------------------------------------------------


def test_a_flow_is_created_fetched_and_listed(twilio, emulator, account):
    created = twilio.studio.v2.flows.create(
        friendly_name="Agent handoff", status="published", definition=definition(), commit_message="first"
    )
    status, answer = last_answer(emulator)
    url = f"{FLOWS}/{created.sid}"
    expected = {
        "sid": created.sid,
        "account_sid": account.sid,
        "friendly_name": "Agent handoff",
        "definition": definition(),
        "status": "published",
        "revision": 1,
        "commit_message": "first",
        "valid": True,
        "errors": [],
        "warnings": [],
        "date_created": answer["date_created"],
        "date_updated": None,
        "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/{account.sid}/Flows/{created.sid}",
        "url": url,
        "links": {"test_users": f"{url}/TestUsers", "revisions": f"{url}/Revisions", "executions": f"{url}/Executions"},
    }
    assert (status, answer) == (201, expected)
    assert created.sid.startswith("FW") and created.definition == definition()
    assert twilio.studio.v2.flows(created.sid).fetch().revision == 1
    assert last_answer(emulator) == (200, expected)
    listed = twilio.studio.v2.flows.list()
    assert [f.sid for f in listed] == [created.sid]
    assert last_answer(emulator)[1]["flows"] == [
        expected | {"definition": None, "valid": None, "errors": None, "warnings": None}
    ]


def test_an_update_bumps_the_revision_only_when_the_definition_changes(twilio, emulator):
    flow = add_flow(emulator, "Agent handoff", definition(), status="draft")
    same = twilio.studio.v2.flows(flow["sid"]).update(
        status="published", definition=definition(), commit_message="publish"
    )
    assert (same.revision, same.status, same.commit_message, same.friendly_name) == (
        1,
        "published",
        "publish",
        "Agent handoff",
    )
    changed = definition()
    changed["states"][1]["properties"]["body"] = "hello"
    updated = twilio.studio.v2.flows(flow["sid"]).update(
        status="published", definition=changed, friendly_name="Handoff"
    )
    assert (updated.revision, updated.definition, updated.friendly_name) == (2, changed, "Handoff")
    assert last_answer(emulator)[1]["date_updated"] is not None
    assert twilio.studio.v2.flows(flow["sid"]).update(status="draft").revision == 2


def test_an_unknown_flow_is_404(twilio, emulator, refused):
    flow = twilio.studio.v2.flows(UNKNOWN_FLOW)
    for request in (
        flow.fetch,
        lambda: flow.update(status="published"),
        lambda: flow.executions.create(to=CUSTOMER, from_=SENDER),
    ):
        assert refused(request)[:2] == (404, 20404)
    assert refused(flow.executions("FN" + "0" * 32).fetch)[:2] == (404, 20404)


# Validation ------------------------------------------------------------------------------------------


def test_a_valid_definition_validates(twilio, emulator):
    validated = twilio.studio.v2.flow_validate.update(
        friendly_name="Agent handoff", status="published", definition=definition()
    )
    assert validated.valid is True
    assert last_answer(emulator) == (200, {"valid": True})
    assert emulator.table("studio_flows") == {}  # validating creates nothing


TRIGGER = {"name": "Trigger", "type": "trigger", "properties": {}, "transitions": []}
BROKEN = [
    pytest.param(
        {"initial_state": "Trigger", "states": {}}, [("must have a list of states", "#/states")], id="states-not-a-list"
    ),
    pytest.param(
        definition(TRIGGER, initial_state="Start"),
        [("initial_state 'Start' names no state", "#/initial_state")],
        id="initial-state",
    ),
    pytest.param(
        definition({**TRIGGER, "transitions": [{"event": "incomingRequest", "next": "Nowhere"}]}),
        [("transition to 'Nowhere', which names no state", "#/states/0/transitions/0")],
        id="dangling-transition",
    ),
    pytest.param(
        definition(TRIGGER, TRIGGER), [("state name 'Trigger' is not unique", "#/states")], id="duplicate-name"
    ),
    pytest.param(
        definition(TRIGGER, {"name": "Say"}),
        [
            ("must have required property 'type'", "#/states/1"),
            ("must have required property 'properties'", "#/states/1"),
        ],
        id="missing-type-and-properties",
    ),
]


@pytest.mark.parametrize(("broken", "errors"), BROKEN)
def test_a_broken_definition_is_refused_by_validate_create_and_update(twilio, emulator, broken, errors):
    flow = add_flow(emulator, "Agent handoff", definition())
    for request in (
        lambda: twilio.studio.v2.flow_validate.update(friendly_name="x", status="published", definition=broken),
        lambda: twilio.studio.v2.flows.create(friendly_name="x", status="published", definition=broken),
        lambda: twilio.studio.v2.flows(flow["sid"]).update(status="published", definition=broken),
    ):
        assert refused_with_details(emulator, request) == invalid(errors)
    assert list(emulator.table("studio_flows")) == [flow["sid"]]
    assert emulator.table("studio_flows")[flow["sid"]]["definition"] == definition()
    assert emulator.requests[-1].response["message"] == "Invalid Flow Definition"


def test_seeding_an_invalid_definition_raises(emulator):
    with pytest.raises(TwilioError, match="Invalid Flow Definition"):
        add_flow(emulator, "x", {"states": []})


# Executions ------------------------------------------------------------------------------------------


def test_an_execution_carries_tacs_handoff_data_as_flow_data(twilio, emulator, account):
    flow = add_flow(emulator, "Agent handoff", definition())
    execution = twilio.studio.v2.flows(flow["sid"]).executions.create(to=CUSTOMER, from_=SENDER, parameters=HANDOFF)
    status, answer = last_answer(emulator)
    url = f"{FLOWS}/{flow['sid']}/Executions/{execution.sid}"
    expected = {
        "sid": execution.sid,
        "account_sid": account.sid,
        "flow_sid": flow["sid"],
        "contact_channel_address": CUSTOMER,
        "context": {
            "flow": {"flow_sid": flow["sid"], "channel": {"address": SENDER}, "data": HANDOFF},
            "contact": {"channel": {"address": CUSTOMER}},
        },
        "status": "active",
        "date_created": answer["date_created"],
        "date_updated": answer["date_updated"],
        "url": url,
        "links": {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"},
    }
    assert (status, answer) == (201, expected)
    assert execution.sid.startswith("FN") and execution.context["flow"]["data"] == HANDOFF
    assert twilio.studio.v2.flows(flow["sid"]).executions(execution.sid).fetch().status == "active"
    assert last_answer(emulator) == (200, expected)
    assert studio_executions(emulator, flow["sid"]) == [expected]
    assert studio_executions(emulator, UNKNOWN_FLOW) == []


def test_an_execution_without_parameters_has_empty_flow_data(twilio, emulator):
    flow = add_flow(emulator, "Agent handoff", definition())
    twilio.studio.v2.flows(flow["sid"]).executions.create(to=CUSTOMER, from_=SENDER)
    assert studio_executions(emulator, flow["sid"])[0]["context"]["flow"]["data"] == {}


def test_a_draft_flow_cannot_be_executed(twilio, emulator, refused):
    flow = add_flow(emulator, "Agent handoff", definition(), status="draft")
    assert refused(lambda: twilio.studio.v2.flows(flow["sid"]).executions.create(to=CUSTOMER, from_=SENDER))[:2] == (
        404,
        20404,
    )
    assert studio_executions(emulator, flow["sid"]) == []


def test_an_execution_of_another_flow_is_404(twilio, emulator, refused):
    first, second = (add_flow(emulator, name, definition()) for name in ("one", "two"))
    execution = twilio.studio.v2.flows(first["sid"]).executions.create(to=CUSTOMER, from_=SENDER)
    assert refused(twilio.studio.v2.flows(second["sid"]).executions(execution.sid).fetch)[:2] == (404, 20404)


def test_executions_are_listed_oldest_first_within_the_date_filters(twilio, emulator, account):
    flow, other = (add_flow(emulator, name, definition()) for name in ("Agent handoff", "other"))
    executions = twilio.studio.v2.flows(flow["sid"]).executions
    first, second = (executions.create(to=CUSTOMER, from_=SENDER, parameters={"n": n}) for n in (1, 2))
    twilio.studio.v2.flows(other["sid"]).executions.create(to=CUSTOMER, from_=SENDER)
    stored = emulator.table("studio_executions")
    stored[first.sid]["date_created"] = "2026-03-01T10:00:00Z"
    stored[second.sid]["date_created"] = "2026-03-01T10:05:00Z"

    assert [e.sid for e in executions.list()] == [first.sid, second.sid]
    status, answer = last_answer(emulator)
    assert (status, answer["executions"]) == (200, [stored[first.sid], stored[second.sid]])
    assert answer["meta"]["key"] == "executions"
    since = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)
    assert [e.sid for e in executions.list(date_created_from=since)] == [second.sid]
    assert emulator.requests[-1].query == "DateCreatedFrom=2026-03-01T10%3A05%3A00Z"
    assert [e.sid for e in executions.list(date_created_to=since)] == [first.sid]
    assert [e.sid for e in executions.list(date_created_from=since - timedelta(seconds=1), date_created_to=since)] == []
    assert [e.sid for e in executions.list(date_created_from=since + timedelta(seconds=1))] == []


def test_an_offset_in_a_date_filter_is_honoured(twilio, emulator):
    flow = add_flow(emulator, "Agent handoff", definition())
    execution = twilio.studio.v2.flows(flow["sid"]).executions.create(to=CUSTOMER, from_=SENDER)
    emulator.table("studio_executions")[execution.sid]["date_created"] = "2026-03-01T10:00:00Z"
    listed = twilio.studio.v2.flows(flow["sid"]).executions.list
    assert [e.sid for e in listed(date_created_from="2026-03-01T05:00:00-05:00")] == [execution.sid]
    assert [e.sid for e in listed(date_created_from="2026-03-01T05:00:01-05:00")] == []


def test_the_executions_of_an_unknown_flow_are_404(twilio, emulator):
    with pytest.raises(TwilioException):
        twilio.studio.v2.flows(UNKNOWN_FLOW).executions.list()
    assert (emulator.requests[-1].status, emulator.requests[-1].response["code"]) == (404, 20404)


def test_an_executions_context_holds_the_parameters_as_flow_data(twilio, emulator, account):
    flow = add_flow(emulator, "Agent handoff", definition())
    execution = twilio.studio.v2.flows(flow["sid"]).executions.create(to=CUSTOMER, from_=SENDER, parameters=HANDOFF)

    fetched = twilio.studio.v2.flows(flow["sid"]).executions(execution.sid).execution_context().fetch()

    url = f"{FLOWS}/{flow['sid']}/Executions/{execution.sid}/Context"
    expected = {
        "account_sid": account.sid,
        "context": {
            "flow": {"flow_sid": flow["sid"], "channel": {"address": SENDER}, "data": HANDOFF},
            "contact": {"channel": {"address": CUSTOMER}},
        },
        "flow_sid": flow["sid"],
        "execution_sid": execution.sid,
        "url": url,
    }
    assert last_answer(emulator) == (200, expected)
    assert emulator.requests[-1].operation == "GET /v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context"
    assert (fetched.execution_sid, fetched.context["flow"]["data"]) == (execution.sid, HANDOFF)


def test_the_context_of_an_unknown_execution_or_one_of_another_flow_is_404(twilio, emulator, refused):
    first, second = (add_flow(emulator, name, definition()) for name in ("one", "two"))
    execution = twilio.studio.v2.flows(first["sid"]).executions.create(to=CUSTOMER, from_=SENDER)
    assert refused(twilio.studio.v2.flows(second["sid"]).executions(execution.sid).execution_context().fetch)[:2] == (
        404,
        20404,
    )
    assert refused(twilio.studio.v2.flows(first["sid"]).executions("FN" + "0" * 32).execution_context().fetch)[:2] == (
        404,
        20404,
    )


def test_a_date_filter_that_is_not_a_date_is_400(twilio, emulator, refused):
    flow = add_flow(emulator, "Agent handoff", definition())
    assert refused(lambda: twilio.studio.v2.flows(flow["sid"]).executions.list(date_created_from="yesterday")) == (
        400,
        20001,
        "Invalid date-time: yesterday",
    )
