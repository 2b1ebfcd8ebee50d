"""Conversation Orchestrator (Conversations v2), spec-checked: configurations and their operations, and the conversation
reads of the Studio handoff flow, through the real proxy with the real twilio SDK."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.request_validator import RequestValidator
from twilio.rest.conversations.v2.configuration import ConfigurationList

from twilio_emulator import (
    Fault,
    FlexAccount,
    OperationTiming,
    add_configuration,
    add_intelligence_configuration,
    add_orchestrated_conversation,
    add_participant,
    customer_writes,
    fail_next_operation,
    orchestrated_conversation,
    orchestrator_configuration,
    orchestrator_operations,
    seed_flex_account,
    seed_tac_configuration,
    set_operation_timing,
    set_orchestrated_status,
    summary_operator,
)
from twilio_emulator.formats import iso

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CREATED = iso(START)
V2 = "https://conversations.twilio.com/v2"
CONFIGURATIONS = f"{V2}/ControlPlane/Configurations"
OPERATIONS = f"{V2}/ControlPlane/Operations"
CONVERSATIONS = f"{V2}/Conversations"
CUSTOMER = "+15005550006"
AGENT = "+15005550001"
KEY = "01890a5d-aa0f-7c80-b8e6-0242ac140004"
OTHER_KEY = "01890a5d-aa0f-7c80-b8e6-0242ac140005"
TTID = re.compile(
    r"(conv_configuration|conv_conversation|conv_participant|mem_profile|mem_store|proc_job)"
    r"_[0-7][0-9a-hjkmnp-tv-z]{25}"
)
NEW = {
    "displayName": "Support",
    "description": "Support traffic",
    "conversationGroupingType": "GROUP_BY_PROFILE",
    "memoryStoreId": "mem_store_01k1etk2y5f1y9fpe2epfdtvv2",
}


@pytest.fixture
def clock(emulator, monkeypatch):
    """The account's time, made up: START, moved on only by `emulator.advance`."""
    made_up = {"now": START}
    monkeypatch.setattr(emulator.clock, "now", lambda: made_up["now"])
    monkeypatch.setattr(
        emulator.clock, "advance", lambda seconds: made_up.update(now=made_up["now"] + timedelta(seconds=seconds))
    )
    return made_up


@pytest.fixture
def flex(emulator, clock) -> FlexAccount:
    return seed_flex_account(emulator)


def call(twilio, method: str, url: str, body: dict | None = None, headers: dict | None = None, params=None, auth=None):
    """(status, JSON answer or None, headers) of a request sent through the proxy as it is, JSON nulls included
    (the twilio SDK's client drops every None from a body, so `requests` sends these)."""
    credential = auth or (twilio.username, twilio.password)
    response = requests.request(method, url, json=body, headers=headers, params=params, auth=credential, timeout=10)
    return response.status_code, (response.json() if response.text else None), response.headers


def answer(twilio, method: str, url: str, body: dict | None = None, **options) -> tuple[int, object]:
    return call(twilio, method, url, body, **options)[:2]


def error(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def completed(twilio, accepted: dict) -> dict:
    """Poll the operation of a 202 to its end; its last answer."""
    for _ in range(10):
        status, operation = answer(twilio, "GET", accepted["statusUrl"])
        assert status == 200
        if operation["status"] != "PENDING":
            return operation
    raise AssertionError("the operation never completed")


def created_configuration(twilio, body: dict | None = None) -> dict:
    status, accepted = answer(twilio, "POST", CONFIGURATIONS, body or NEW)
    assert status == 202
    assert completed(twilio, accepted)["status"] == "COMPLETED"
    return answer(twilio, "GET", f"{CONFIGURATIONS}/{accepted['related']['configurationId']}")[1]


# Configurations: create, operations ------------------------------------------------------------------------


def test_a_create_is_accepted_with_an_operation_that_completes_on_the_second_poll(twilio, emulator, flex):
    status, accepted, headers = call(twilio, "POST", CONFIGURATIONS, NEW)
    configuration_id = accepted["related"]["configurationId"]
    (operation_id,) = [operation["operationId"] for operation in orchestrator_operations(emulator)]
    status_url = f"{OPERATIONS}/{operation_id}"
    assert (status, accepted) == (202, {"statusUrl": status_url, "related": {"configurationId": configuration_id}})
    assert (headers["Operation-Id"], headers["Location"], headers["Retry-After"]) == (operation_id, status_url, "1")
    assert TTID.fullmatch(configuration_id) and TTID.fullmatch(operation_id)

    not_yet = answer(twilio, "GET", f"{CONFIGURATIONS}/{configuration_id}")
    assert not_yet == (
        404,
        error(404, 20404, f"The requested resource /v2/ControlPlane/Configurations/{configuration_id} was not found"),
    )
    pending = {
        "operationId": operation_id,
        "status": "PENDING",
        "createdAt": CREATED,
        "statusUrl": status_url,
        "related": {"configurationId": configuration_id},
    }
    assert answer(twilio, "GET", status_url) == (200, pending)
    assert answer(twilio, "GET", status_url) == (
        200,
        {**pending, "status": "COMPLETED", "completedAt": CREATED, "error": None},
    )
    assert answer(twilio, "GET", f"{CONFIGURATIONS}/{configuration_id}") == (
        200,
        {
            "id": configuration_id,
            **NEW,
            "channelSettings": {},
            "statusCallbacks": [],
            "intelligenceConfigurationIds": [],
            "memoryExtractionEnabled": False,
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "version": 1,
        },
    )
    assert [r.operation for r in emulator.requests] == [
        "POST /v2/ControlPlane/Configurations",
        "GET /v2/ControlPlane/Configurations/{id}",
        "GET /v2/ControlPlane/Operations/{id}",
        "GET /v2/ControlPlane/Operations/{id}",
        "GET /v2/ControlPlane/Configurations/{id}",
    ]


def test_the_sdk_creates_lists_and_fetches_configurations_and_operations(twilio, emulator, flex):
    request = ConfigurationList.CreateConfigurationRequest(
        {
            **NEW,
            "conversationsV1Bridge": {"serviceId": flex.service_sid},
            "channelSettings": {"SMS": {"statusTimeouts": {"inactive": 10, "closed": 15}, "captureRules": []}},
        }
    )
    accepted = twilio.conversations.v2.configurations.create(idempotency_key=KEY, create_configuration_request=request)
    assert accepted.status_url.startswith(f"{OPERATIONS}/proc_job_")
    operation_id = accepted.status_url.rpartition("/")[2]
    assert twilio.conversations.v2.operations(operation_id).fetch().status == "PENDING"
    assert twilio.conversations.v2.operations(operation_id).fetch().status == "COMPLETED"
    (listed,) = twilio.conversations.v2.configurations.list()
    fetched = twilio.conversations.v2.configurations(accepted.related["configurationId"]).fetch()
    assert listed.id == fetched.id == accepted.related["configurationId"]
    assert fetched.conversations_v1_bridge == {"serviceId": flex.service_sid}
    assert fetched.created_at == START and fetched.version == 1
    assert (
        emulator.calls(operation="POST /v2/ControlPlane/Configurations")[0].body["channelSettings"]["SMS"][
            "captureRules"
        ]
        == []
    )


def test_the_sdk_patches_only_what_it_is_given(twilio, emulator, flex):
    configuration = add_configuration(emulator, "Support", "Support traffic")
    request = ConfigurationList.PatchConfigurationRequest({"conversationsV1Bridge": {"serviceId": flex.service_sid}})
    accepted = twilio.conversations.v2.configurations(configuration["id"]).patch(
        idempotency_key=KEY, patch_configuration_request=request
    )
    assert emulator.requests[-1].body == {"conversationsV1Bridge": {"serviceId": flex.service_sid}}
    assert completed(twilio, {"statusUrl": accepted.status_url})["status"] == "COMPLETED"
    assert orchestrator_configuration(emulator, configuration["id"])["conversationsV1Bridge"] == {
        "serviceId": flex.service_sid
    }


def test_operations_wait_the_polls_the_timing_says(twilio, emulator, flex):
    set_operation_timing(emulator, OperationTiming(pending_polls=3, pending_seconds=None, retry_after=5))
    status, accepted, headers = call(twilio, "POST", CONFIGURATIONS, NEW)
    assert headers["Retry-After"] == "5"
    polls = [call(twilio, "GET", accepted["statusUrl"]) for _ in range(4)]
    assert [(operation["status"], headers.get("Retry-After")) for _, operation, headers in polls] == [
        ("PENDING", "5"),
        ("PENDING", "5"),
        ("PENDING", "5"),
        ("COMPLETED", None),
    ]


def test_an_operation_with_no_pending_polls_completes_at_the_first(twilio, emulator, flex):
    set_operation_timing(emulator, OperationTiming(pending_polls=0))
    accepted = answer(twilio, "POST", CONFIGURATIONS, NEW)[1]
    assert answer(twilio, "GET", accepted["statusUrl"])[1]["status"] == "COMPLETED"


def test_operations_complete_once_their_seconds_pass_without_a_poll(twilio, emulator, flex):
    set_operation_timing(emulator, OperationTiming(pending_polls=100, pending_seconds=30))
    accepted = answer(twilio, "POST", CONFIGURATIONS, NEW)[1]
    configuration_url = f"{CONFIGURATIONS}/{accepted['related']['configurationId']}"
    emulator.advance(29)
    assert answer(twilio, "GET", configuration_url)[0] == 404
    emulator.advance(1)
    assert answer(twilio, "GET", configuration_url)[1]["createdAt"] == iso(START + timedelta(seconds=30))
    assert answer(twilio, "GET", accepted["statusUrl"])[1]["completedAt"] == iso(START + timedelta(seconds=30))


def test_writes_apply_in_the_order_they_were_accepted(twilio, emulator, flex):
    configuration = add_configuration(emulator, "Support", "Support traffic")
    url = f"{CONFIGURATIONS}/{configuration['id']}"
    first = answer(twilio, "PATCH", url, {"description": "first"})[1]
    second = answer(twilio, "PATCH", url, {"description": "second"})[1]
    assert completed(twilio, second)["status"] == "COMPLETED"
    assert answer(twilio, "GET", first["statusUrl"])[1]["status"] == "COMPLETED"
    assert (
        orchestrator_configuration(emulator, configuration["id"])["description"],
        orchestrator_configuration(emulator, configuration["id"])["version"],
    ) == ("second", 3)


def test_an_operation_fails_with_the_reason_a_test_gives_and_writes_nothing(twilio, emulator, flex):
    configuration = add_configuration(emulator, "Support", "Support traffic")
    fail_next_operation(
        emulator, "The Conversations service is being migrated", status=503, code=20503, title="Service unavailable"
    )
    accepted = answer(
        twilio,
        "PATCH",
        f"{CONFIGURATIONS}/{configuration['id']}",
        {"conversationsV1Bridge": {"serviceId": flex.service_sid}},
    )[1]
    operation = completed(twilio, accepted)
    assert operation == {
        "operationId": accepted["statusUrl"].rpartition("/")[2],
        "status": "FAILED",
        "createdAt": CREATED,
        "completedAt": CREATED,
        "statusUrl": accepted["statusUrl"],
        "related": {"configurationId": configuration["id"]},
        "error": {
            "type": "https://www.twilio.com/docs/errors/20503",
            "title": "Service unavailable",
            "status": 503,
            "detail": "The Conversations service is being migrated",
        },
    }
    assert orchestrator_configuration(emulator, configuration["id"]) == configuration
    again = answer(
        twilio,
        "PATCH",
        f"{CONFIGURATIONS}/{configuration['id']}",
        {"conversationsV1Bridge": {"serviceId": flex.service_sid}},
    )[1]
    assert completed(twilio, again)["status"] == "COMPLETED"  # one failure, then the next write goes through


def test_an_unknown_operation_is_404(twilio, flex):
    assert answer(twilio, "GET", f"{OPERATIONS}/proc_job_00000000000000000000000000") == (
        404,
        error(
            404,
            20404,
            "The requested resource /v2/ControlPlane/Operations/proc_job_00000000000000000000000000 was not found",
        ),
    )


# Configurations: list, PATCH, PUT, DELETE --------------------------------------------------------------------


def test_the_tac_quickstart_configuration_in_its_console_default_state(twilio, emulator, flex):
    seeded = seed_tac_configuration(
        emulator, "+15005550006", status_callback_url="https://tac.example.com/conversations"
    )
    capture = [{"from": "+15005550006", "to": "*", "metadata": {}}, {"from": "*", "to": "+15005550006", "metadata": {}}]
    whatsapp = [
        {"from": "whatsapp:+15005550006", "to": "*", "metadata": {}},
        {"from": "*", "to": "whatsapp:+15005550006", "metadata": {}},
    ]
    assert answer(twilio, "GET", CONFIGURATIONS) == (
        200,
        {
            "configurations": [
                {
                    "id": seeded["id"],
                    "displayName": "Agent Connect",
                    "description": "Conversations of the Twilio Agent Connect quickstart",
                    "conversationGroupingType": "GROUP_BY_PROFILE",
                    "memoryStoreId": seeded["memoryStoreId"],
                    "channelSettings": {
                        "SMS": {"statusTimeouts": {"inactive": 10, "closed": 15}, "captureRules": capture},
                        "WHATSAPP": {"statusTimeouts": {"inactive": 15, "closed": 60}, "captureRules": whatsapp},
                        "VOICE": {"statusTimeouts": {"inactive": 5, "closed": 30}, "captureRules": capture},
                    },
                    "statusCallbacks": [{"url": "https://tac.example.com/conversations", "method": "POST"}],
                    "intelligenceConfigurationIds": [],
                    "memoryExtractionEnabled": False,
                    "createdAt": CREATED,
                    "updatedAt": CREATED,
                    "version": 1,
                }
            ],
            "meta": {"key": "configurations", "pageSize": 1},
        },
    )
    assert TTID.fullmatch(seeded["memoryStoreId"]) and "conversationsV1Bridge" not in seeded


def test_configurations_are_listed_a_page_at_a_time_by_token(twilio, emulator, flex):
    ids = [add_configuration(emulator, f"Config {n}", "d")["id"] for n in range(3)]
    status, first = answer(twilio, "GET", f"{CONFIGURATIONS}?pageSize=2")
    assert [c["id"] for c in first["configurations"]] == ids[:2]
    assert set(first["meta"]) == {"key", "pageSize", "nextToken"} and first["meta"]["pageSize"] == 2
    _, second = answer(twilio, "GET", CONFIGURATIONS, params={"pageSize": 2, "pageToken": first["meta"]["nextToken"]})
    assert [c["id"] for c in second["configurations"]] == ids[2:]
    assert set(second["meta"]) == {"key", "pageSize", "previousToken"} and second["meta"]["pageSize"] == 1
    assert [c.id for c in twilio.conversations.v2.configurations.list(page_size=2)] == ids  # the SDK follows nextToken


def test_a_page_token_the_emulator_did_not_make_is_400(twilio, flex):
    assert answer(twilio, "GET", f"{CONFIGURATIONS}?pageToken=bogus") == (
        400,
        error(400, 20001, "Invalid pageToken 'bogus'"),
    )


def test_configurations_are_filtered_by_memory_store(twilio, emulator, flex):
    store = "mem_store_01k1etk2y5f1y9fpe2epfdtvv2"
    kept = add_configuration(emulator, "Kept", "d", memory_store_id=store)["id"]
    add_configuration(emulator, "Other", "d")
    assert [c["id"] for c in answer(twilio, "GET", f"{CONFIGURATIONS}?memoryStoreId={store}")[1]["configurations"]] == [
        kept
    ]


def test_a_patch_changes_only_what_it_names_channel_by_channel(twilio, emulator, flex):
    seeded = seed_tac_configuration(emulator)
    url = f"{CONFIGURATIONS}/{seeded['id']}"
    voice = {"statusTimeouts": {"inactive": 5, "closed": 1}}
    patch = {
        "channelSettings": {"SMS": None, "VOICE": voice},
        "conversationsV1Bridge": {"serviceId": flex.service_sid},
        "displayName": None,
    }
    emulator.advance(60)
    assert completed(twilio, answer(twilio, "PATCH", url, patch)[1])["status"] == "COMPLETED"
    expected = {
        **seeded,
        "channelSettings": {"WHATSAPP": seeded["channelSettings"]["WHATSAPP"], "VOICE": voice},
        "conversationsV1Bridge": {"serviceId": flex.service_sid},
        "updatedAt": iso(START + timedelta(seconds=60)),
        "version": 2,
    }
    assert answer(twilio, "GET", url) == (200, expected)


def test_a_put_replaces_the_whole_configuration(twilio, emulator, flex):
    bridged = add_configuration(
        emulator,
        "Bridged",
        "d",
        bridge_service_sid=flex.service_sid,
        status_callbacks=[{"url": "https://a.example.com"}],
    )
    url = f"{CONFIGURATIONS}/{bridged['id']}"
    body = {
        "description": "replaced",
        "conversationGroupingType": "GROUP_BY_PARTICIPANT_ADDRESSES",
        "memoryStoreId": NEW["memoryStoreId"],
        "channelSettings": {},
    }
    assert completed(twilio, answer(twilio, "PUT", url, body)[1])["status"] == "COMPLETED"
    assert answer(twilio, "GET", url)[1] == {
        "id": bridged["id"],
        "displayName": "Bridged",  # a configuration must have one: kept when the PUT gives none
        "description": "replaced",
        "conversationGroupingType": "GROUP_BY_PARTICIPANT_ADDRESSES",
        "memoryStoreId": NEW["memoryStoreId"],
        "channelSettings": {},
        "statusCallbacks": [],
        "intelligenceConfigurationIds": [],
        "memoryExtractionEnabled": False,
        "createdAt": CREATED,
        "updatedAt": CREATED,
        "version": 2,
    }


def test_a_delete_removes_the_configuration_when_its_operation_completes(twilio, emulator, flex):
    configuration = add_configuration(emulator, "Doomed", "d")
    url = f"{CONFIGURATIONS}/{configuration['id']}"
    status, accepted = answer(twilio, "DELETE", url)
    assert (status, accepted["related"]) == (202, {"configurationId": configuration["id"]})
    assert answer(twilio, "GET", url)[0] == 200
    assert completed(twilio, accepted)["status"] == "COMPLETED"
    assert answer(twilio, "GET", url)[0] == 404


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE"])
def test_an_unknown_configuration_is_404(twilio, emulator, flex, method):
    missing = "conv_configuration_00000000000000000000000000"
    body = None if method in ("GET", "DELETE") else {**NEW, "channelSettings": {}}
    assert answer(twilio, method, f"{CONFIGURATIONS}/{missing}", body) == (
        404,
        error(404, 20404, f"The requested resource /v2/ControlPlane/Configurations/{missing} was not found"),
    )
    assert orchestrator_operations(emulator) == []


# One configuration per Conversations service, and other refusals ---------------------------------------------


def test_a_second_configuration_bridged_to_the_same_service_is_409(twilio, emulator, flex):
    holder = add_configuration(emulator, "Holder", "d", bridge_service_sid=flex.service_sid)
    status, refused, headers = call(
        twilio, "POST", CONFIGURATIONS, {**NEW, "conversationsV1Bridge": {"serviceId": flex.service_sid}}
    )
    message = (
        f"Conversations service {flex.service_sid} is already bridged by configuration {holder['id']}: "
        "one configuration per Conversations (Classic) service"
    )
    assert (status, refused, headers["X-Conflicting-Resource-Id"]) == (409, error(409, 20409, message), holder["id"])
    other = add_configuration(emulator, "Other", "d")
    patched = answer(
        twilio, "PATCH", f"{CONFIGURATIONS}/{other['id']}", {"conversationsV1Bridge": {"serviceId": flex.service_sid}}
    )
    assert patched == (409, error(409, 20409, message))
    assert orchestrator_operations(emulator) == []


def test_a_pending_write_holds_its_service_and_a_configuration_may_name_its_own(twilio, emulator, flex):
    bridge = {"conversationsV1Bridge": {"serviceId": flex.service_sid}}
    accepted = answer(twilio, "POST", CONFIGURATIONS, {**NEW, **bridge})[1]
    assert answer(twilio, "POST", CONFIGURATIONS, {**NEW, **bridge})[0] == 409  # the first is still PENDING
    completed(twilio, accepted)
    own = f"{CONFIGURATIONS}/{accepted['related']['configurationId']}"
    assert answer(twilio, "PATCH", own, {**bridge, "description": "again"})[0] == 202


def test_deleting_the_holder_frees_its_service(twilio, emulator, flex):
    holder = add_configuration(emulator, "Holder", "d", bridge_service_sid=flex.service_sid)
    answer(twilio, "DELETE", f"{CONFIGURATIONS}/{holder['id']}")
    assert (
        answer(twilio, "POST", CONFIGURATIONS, {**NEW, "conversationsV1Bridge": {"serviceId": flex.service_sid}})[0]
        == 202
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"conversationsV1Bridge": {"serviceId": "IS" + "0" * 32}},
            f"conversationsV1Bridge.serviceId IS{'0' * 32} is not a Conversations service of this account",
        ),
        (
            {"channelSettings": {"FAX": {}}},
            "Invalid channelSettings keys ['FAX']: expected VOICE, SMS, RCS, WHATSAPP, CHAT",
        ),
        (
            {"intelligenceConfigurationIds": ["intelligence_configuration_00000000000000000000000000"]},
            "Unknown intelligence configuration intelligence_configuration_00000000000000000000000000",
        ),
    ],
)
def test_a_write_naming_what_the_account_lacks_is_400(twilio, emulator, flex, change, message):
    assert answer(twilio, "POST", CONFIGURATIONS, {**NEW, **change}) == (400, error(400, 20001, message))
    assert orchestrator_operations(emulator) == []


def test_intelligence_configurations_of_the_account_are_attached(twilio, emulator, flex):
    summary = [
        {
            "operators": [{"id": summary_operator(emulator)["id"]}],
            "triggers": [{"on": "CONVERSATION_END"}],
            "actions": [],
        }
    ]
    intelligence = add_intelligence_configuration(emulator, "Summaries", summary)
    created = created_configuration(twilio, {**NEW, "intelligenceConfigurationIds": [intelligence["id"]]})
    assert created["intelligenceConfigurationIds"] == [intelligence["id"]]


def test_a_request_that_breaks_the_description_is_400_and_a_violation(twilio, emulator, flex):
    status, refused = answer(twilio, "POST", CONFIGURATIONS, {"displayName": "Nameless: no description"})
    assert (status, refused["code"]) == (400, 20001)
    assert [v.kind for v in emulator.violations] == ["request"]
    assert "body: 'description' is a required property" in emulator.violations[0].errors
    emulator.violations.clear()  # seen


# Idempotency-Key -------------------------------------------------------------------------------------------


def test_the_same_idempotency_key_answers_the_same_operation_and_writes_once(twilio, emulator, flex):
    configuration = add_configuration(emulator, "Support", "Support traffic")
    url = f"{CONFIGURATIONS}/{configuration['id']}"
    first = call(twilio, "PATCH", url, {"description": "once"}, {"Idempotency-Key": KEY})
    again = call(twilio, "PATCH", url, {"description": "once"}, {"Idempotency-Key": KEY})
    assert first[:2] == again[:2] and first[0] == 202
    assert again[2]["Operation-Id"] == first[2]["Operation-Id"]
    assert len(orchestrator_operations(emulator)) == 1
    completed(twilio, first[1])
    assert orchestrator_configuration(emulator, configuration["id"])["version"] == 2
    other = call(twilio, "PATCH", url, {"description": "twice"}, {"Idempotency-Key": OTHER_KEY})
    assert other[1]["statusUrl"] != first[1]["statusUrl"]


def test_a_repeated_create_with_its_key_makes_one_configuration_even_after_it_completed(twilio, emulator, flex):
    first = answer(twilio, "POST", CONFIGURATIONS, NEW, headers={"Idempotency-Key": KEY})
    completed(twilio, first[1])
    assert answer(twilio, "POST", CONFIGURATIONS, NEW, headers={"Idempotency-Key": KEY}) == first
    assert len(answer(twilio, "GET", CONFIGURATIONS)[1]["configurations"]) == 1


def test_a_replayed_delete_answers_its_202_although_the_configuration_is_gone(twilio, emulator, flex):
    configuration = add_configuration(emulator, "Doomed", "d")
    url = f"{CONFIGURATIONS}/{configuration['id']}"
    first = answer(twilio, "DELETE", url, headers={"Idempotency-Key": KEY})
    completed(twilio, first[1])
    assert answer(twilio, "DELETE", url, headers={"Idempotency-Key": KEY}) == first


def test_a_key_is_forgotten_after_24_hours(twilio, emulator, flex):
    first = answer(twilio, "POST", CONFIGURATIONS, NEW, headers={"Idempotency-Key": KEY})[1]
    emulator.advance(24 * 3600)
    assert answer(twilio, "POST", CONFIGURATIONS, NEW, headers={"Idempotency-Key": KEY})[1] != first


def test_a_refused_request_does_not_use_its_key_up(twilio, emulator, flex):
    holder = add_configuration(emulator, "Holder", "d", bridge_service_sid=flex.service_sid)
    bridged = {**NEW, "conversationsV1Bridge": {"serviceId": flex.service_sid}}
    assert answer(twilio, "POST", CONFIGURATIONS, bridged, headers={"Idempotency-Key": KEY})[0] == 409
    answer(twilio, "DELETE", f"{CONFIGURATIONS}/{holder['id']}")
    assert answer(twilio, "POST", CONFIGURATIONS, bridged, headers={"Idempotency-Key": KEY})[0] == 202


def test_a_key_that_is_not_a_uuid_breaks_the_description(twilio, emulator, flex):
    assert answer(twilio, "POST", CONFIGURATIONS, NEW, headers={"Idempotency-Key": "retry-1"})[0] == 400
    assert [(v.kind, v.errors[0].split(":")[0]) for v in emulator.violations] == [("request", "header Idempotency-Key")]
    emulator.violations.clear()  # seen


# Conversations: the Studio handoff flow's reads ------------------------------------------------------------


@pytest.fixture
def orchestrated(emulator, flex) -> dict:
    return add_orchestrated_conversation(emulator, flex.service_sid, flex.conversation_sid, CUSTOMER)


def expected_participants(emulator, flex: FlexAccount, orchestrated: dict) -> list[dict]:
    customer, agent = orchestrated["participants"]
    common = {
        "conversationId": orchestrated["id"],
        "accountId": emulator.account.sid,
        "createdAt": CREATED,
        "updatedAt": CREATED,
    }
    return [
        {
            "id": customer["id"],
            **common,
            "name": CUSTOMER,
            "type": "CUSTOMER",
            "addresses": [{"channel": "SMS", "address": CUSTOMER, "channelId": flex.conversation_sid}],
            "profileId": customer["profileId"],
        },
        {
            "id": agent["id"],
            **common,
            "name": "AI agent",
            "type": "AI_AGENT",
            "addresses": [{"channel": "SMS", "address": AGENT}],
        },
    ]


def test_a_conversation_is_fetched_with_its_configuration_and_bridge(twilio, emulator, flex, orchestrated):
    assert answer(twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}") == (
        200,
        {
            "id": orchestrated["id"],
            "accountId": emulator.account.sid,
            "configurationId": orchestrated["configurationId"],
            "status": "ACTIVE",
            "name": None,
            "createdAt": CREATED,
            "updatedAt": CREATED,
            "configuration": {
                "displayName": "Agent handoff",
                "description": "Messaging traffic bridged to Conversations (Classic)",
                "conversationGroupingType": "GROUP_BY_PARTICIPANT_ADDRESSES_AND_CHANNEL_TYPE",
                "memoryStoreId": orchestrator_configuration(emulator, orchestrated["configurationId"])["memoryStoreId"],
                "channelSettings": {},
                "statusCallbacks": [],
                "intelligenceConfigurationIds": [],
                "memoryExtractionEnabled": False,
                "conversationsV1Bridge": {"serviceId": flex.service_sid},
            },
            "participants": expected_participants(emulator, flex, orchestrated),
        },
    )
    assert emulator.requests[-1].operation == "GET /v2/Conversations/{id}"


def test_the_participants_are_listed_on_one_page(twilio, emulator, flex, orchestrated):
    assert answer(twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}/Participants") == (
        200,
        {
            "participants": expected_participants(emulator, flex, orchestrated),
            "meta": {"key": "participants", "pageSize": 2},
        },
    )
    assert emulator.requests[-1].operation == "GET /v2/Conversations/{ConversationId}/Participants"


def test_a_conversation_shows_its_configuration_as_it_is_now(twilio, emulator, flex):
    tac = seed_tac_configuration(emulator)
    conversation = add_orchestrated_conversation(
        emulator, flex.service_sid, flex.conversation_sid, CUSTOMER, configuration_id=tac["id"]
    )
    assert "conversationsV1Bridge" not in conversation["configuration"]
    accepted = answer(
        twilio, "PATCH", f"{CONFIGURATIONS}/{tac['id']}", {"conversationsV1Bridge": {"serviceId": flex.service_sid}}
    )[1]
    completed(twilio, accepted)
    fetched = answer(twilio, "GET", f"{CONVERSATIONS}/{conversation['id']}")[1]
    assert fetched["configuration"]["conversationsV1Bridge"] == {"serviceId": flex.service_sid}


def test_conversations_of_a_bridged_service_share_its_configuration(emulator, flex, orchestrated):
    another = add_orchestrated_conversation(emulator, flex.service_sid, flex.conversation_sid, "+15005550009")
    assert another["configurationId"] == orchestrated["configurationId"]


def test_ids_have_the_shape_of_twilios_ttids(orchestrated):
    customer, agent = orchestrated["participants"]
    ids = [orchestrated["id"], orchestrated["configurationId"], customer["id"], customer["profileId"], agent["id"]]
    assert [bool(TTID.fullmatch(found)) for found in ids] == [True] * 5
    assert len(set(ids)) == 5


@pytest.mark.parametrize(
    "path",
    ["conv_conversation_00000000000000000000000000", "conv_conversation_00000000000000000000000000/Participants"],
)
def test_an_unknown_conversation_is_404(twilio, orchestrated, path):
    assert answer(twilio, "GET", f"{CONVERSATIONS}/{path}") == (
        404,
        error(404, 20404, f"The requested resource /v2/Conversations/{path} was not found"),
    )


def test_a_wrong_credential_is_401(twilio, emulator, orchestrated):
    status, refused = answer(
        twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}", auth=(emulator.account.sid, "not-the-token")
    )
    assert (status, refused) == (401, error(401, 20003, "Authentication Error - invalid username"))


def test_an_api_key_reads_too(twilio_with_api_key, orchestrated):
    assert answer(twilio_with_api_key, "GET", f"{CONVERSATIONS}/{orchestrated['id']}")[0] == 200


def test_a_v2_operation_not_served_is_501(twilio, emulator, orchestrated):
    assert answer(twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}/Communications") == (
        501,
        {
            "code": 20501,
            "message": "ListCommunicationByConversation (GET /v2/Conversations/{ConversationId}/Communications) is in "
            "Twilio's OpenAPI description, but the Twilio emulator does not serve it: see twilio_emulator's README, "
            "'What is not served'",
            "more_info": "twilio_emulator's README, 'What is not served'",
            "status": 501,
        },
    )
    assert (emulator.violations, [u.operation_id for u in emulator.unserved]) == (
        [],
        ["ListCommunicationByConversation"],
    )
    emulator.unserved.clear()  # seen: the fixture would fail the test on it


@pytest.mark.parametrize("after", [False, True])
def test_faults_strike_orchestrator_reads(twilio, emulator, orchestrated, after):
    emulator.inject(Fault("GET", "/v2/Conversations/", status=503, after=after))
    status, refused = answer(twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}")
    assert (status, refused["code"]) == (503, 20503)
    assert emulator.requests[-1].withheld == ((200, orchestrated) if after else None)
    assert answer(twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}")[0] == 200


def test_a_fault_after_a_write_withholds_its_headers_too(twilio, emulator, flex):
    emulator.inject(Fault("POST", "/v2/ControlPlane/Configurations", status=500, after=True))
    status, refused, headers = call(twilio, "POST", CONFIGURATIONS, NEW)
    assert (status, "Operation-Id" in headers) == (500, False)
    assert emulator.requests[-1].withheld[0] == 202 and len(orchestrator_operations(emulator)) == 1  # Twilio did it


def test_a_patch_sets_the_status_and_empties_the_conversations_own_status_callbacks(twilio, emulator, flex, clock):
    """TAC's handoff: the conversation INACTIVE and its status callbacks emptied; its configuration keeps its own."""
    tac = seed_tac_configuration(emulator, status_callback_url="https://tac.example.com/conversations")
    conversation = add_orchestrated_conversation(
        emulator, flex.service_sid, flex.conversation_sid, CUSTOMER, configuration_id=tac["id"]
    )
    assert conversation["configuration"]["statusCallbacks"] == tac["statusCallbacks"]
    emulator.advance(60)
    url = f"{CONVERSATIONS}/{conversation['id']}"
    status, patched = answer(twilio, "PATCH", url, {"status": "INACTIVE", "configuration": {"statusCallbacks": []}})
    assert status == 200
    assert emulator.requests[-1].operation == "PATCH /v2/Conversations/{id}"
    assert patched == {
        **conversation,
        "status": "INACTIVE",
        "updatedAt": iso(START + timedelta(seconds=60)),
        "configuration": {**conversation["configuration"], "statusCallbacks": []},
    }
    assert answer(twilio, "GET", url) == (200, patched)
    assert orchestrator_configuration(emulator, tac["id"])["statusCallbacks"] == tac["statusCallbacks"]
    # What the body leaves out stays.
    renamed = answer(twilio, "PATCH", url, {"name": "Refund"})[1]
    assert (renamed["name"], renamed["status"]) == ("Refund", "INACTIVE")
    assert renamed["configuration"]["statusCallbacks"] == []


def test_a_patch_of_an_unknown_conversation_is_404_and_a_wrong_status_breaks_the_description(
    twilio, emulator, orchestrated
):
    unknown = "conv_conversation_00000000000000000000000000"
    assert answer(twilio, "PATCH", f"{CONVERSATIONS}/{unknown}", {"status": "INACTIVE"})[0] == 404
    assert answer(twilio, "PATCH", f"{CONVERSATIONS}/{orchestrated['id']}", {"status": "HANDED_OFF"})[0] == 400
    assert [v.kind for v in emulator.violations] == ["request"]
    emulator.violations.clear()  # seen
    assert answer(twilio, "GET", f"{CONVERSATIONS}/{orchestrated['id']}")[1]["status"] == "ACTIVE"


def test_a_put_sets_the_status_as_tacs_update_conversation_sends_it(twilio, emulator, orchestrated, clock):
    url = f"{CONVERSATIONS}/{orchestrated['id']}"
    assert answer(twilio, "PATCH", url, {"name": "Refund"})[0] == 200
    emulator.advance(30)
    status, put = answer(twilio, "PUT", url, {"status": "INACTIVE"})
    assert emulator.requests[-1].operation == "PUT /v2/Conversations/{id}"
    # A full replacement: the name it leaves out is gone.
    assert (status, put) == (
        200,
        {**orchestrated, "status": "INACTIVE", "name": None, "updatedAt": iso(START + timedelta(seconds=30))},
    )
    assert answer(twilio, "GET", url) == (200, put)


def test_a_put_without_a_status_breaks_the_description(twilio, emulator, orchestrated):
    assert answer(twilio, "PUT", f"{CONVERSATIONS}/{orchestrated['id']}", {"name": "Refund"})[0] == 400
    assert [v.kind for v in emulator.violations] == ["request"]
    emulator.violations.clear()  # seen


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("PUT", {"status": "ACTIVE"}),
        ("PATCH", {"status": "ACTIVE"}),
        ("PATCH", {"configuration": {"statusCallbacks": []}}),
    ],
)
def test_a_closed_conversation_is_final(twilio, emulator, orchestrated, method, body):
    set_orchestrated_status(emulator, orchestrated["id"], "CLOSED")
    url = f"{CONVERSATIONS}/{orchestrated['id']}"
    message = f"Conversation {orchestrated['id']} is CLOSED: a closed conversation cannot change"
    assert answer(twilio, method, url, body) == (400, error(400, 20001, message))
    assert orchestrated_conversation(emulator, orchestrated["id"])["status"] == "CLOSED"


def test_the_list_filters_by_status_and_channel_id(twilio, emulator, flex, orchestrated):
    other = add_orchestrated_conversation(emulator, flex.service_sid, "CH" + "9" * 32, "+15005550009")
    set_orchestrated_status(emulator, other["id"], "INACTIVE")

    def listed(**params) -> list[str]:
        status, page = answer(twilio, "GET", CONVERSATIONS, params=params)
        assert status == 200 and page["meta"]["key"] == "conversations"
        return [conversation["id"] for conversation in page["conversations"]]

    assert listed() == [orchestrated["id"], other["id"]]
    assert listed(status="INACTIVE") == [other["id"]]
    assert listed(status=["ACTIVE", "INACTIVE"]) == [orchestrated["id"], other["id"]]
    assert listed(channelId=flex.conversation_sid) == [orchestrated["id"]]
    assert listed(status="ACTIVE", channelId="CH" + "9" * 32) == []
    assert emulator.requests[-1].operation == "GET /v2/Conversations"


@pytest.fixture
def bridged(emulator, flex, webhook_receiver) -> dict:
    """A conversation of a configuration bridged to the Flex service, whose status callback is the receiver."""
    configuration = add_configuration(
        emulator,
        "Agent Connect",
        "Bridged, with a status callback",
        status_callbacks=[{"url": f"{webhook_receiver.base}/tac", "method": "POST"}],
        bridge_service_sid=flex.service_sid,
    )
    add_participant(emulator, flex.conversation_sid, address=CUSTOMER)
    return add_orchestrated_conversation(
        emulator, flex.service_sid, flex.conversation_sid, CUSTOMER, configuration_id=configuration["id"]
    )


def test_a_customers_message_reaches_the_status_callback_signed_as_json(emulator, flex, bridged, webhook_receiver):
    set_orchestrated_status(emulator, bridged["id"], "INACTIVE")
    message = customer_writes(emulator, flex.conversation_sid, "One more question")
    assert emulator.outbox.wait_idle()
    (received,) = [r for r in webhook_receiver.received if r["path"].startswith("/tac")]
    url = f"{webhook_receiver.base}{received['path']}"
    assert received["content_type"] == "application/json"
    assert RequestValidator(emulator.account.auth_token).validate(url, received["body"], received["signature"])
    assert not RequestValidator(emulator.account.auth_token).validate(
        url, received["body"] + " ", received["signature"]
    )
    customer, agent = bridged["participants"]
    payload = json.loads(received["body"])
    assert payload == {
        "eventType": "COMMUNICATION_CREATED",
        "data": {
            "id": payload["data"]["id"],
            "conversationId": bridged["id"],
            "accountId": emulator.account.sid,
            "author": {"address": CUSTOMER, "channel": "SMS", "participantId": customer["id"]},
            "content": {"type": "TEXT", "text": "One more question"},
            "channelId": flex.conversation_sid,
            "resourceId": message["sid"],
            "recipients": [{"address": AGENT, "channel": "SMS", "participantId": agent["id"]}],
            "createdAt": CREATED,
            "updatedAt": CREATED,
        },
    }
    assert re.fullmatch(r"conv_communication_[0-7][0-9a-hjkmnp-tv-z]{25}", payload["data"]["id"])
    # New traffic reopens an INACTIVE conversation.
    assert orchestrated_conversation(emulator, bridged["id"])["status"] == "ACTIVE"


@pytest.mark.parametrize("stopped", ["callbacks cleared", "closed"])
def test_no_callback_for_a_conversation_without_callbacks_or_closed(
    twilio, emulator, flex, bridged, webhook_receiver, stopped
):
    if stopped == "closed":
        set_orchestrated_status(emulator, bridged["id"], "CLOSED")
    else:  # as TAC's handoff leaves it
        patch = {"configuration": {"statusCallbacks": []}}
        assert answer(twilio, "PATCH", f"{CONVERSATIONS}/{bridged['id']}", patch)[0] == 200
    customer_writes(emulator, flex.conversation_sid, "Anyone?")
    assert emulator.outbox.wait_idle()
    assert [r for r in webhook_receiver.received if r["path"].startswith("/tac")] == []
    assert orchestrated_conversation(emulator, bridged["id"])["status"] == (
        "CLOSED" if stopped == "closed" else "ACTIVE"
    )
