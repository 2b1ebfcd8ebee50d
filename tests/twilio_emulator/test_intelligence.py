"""Conversation Intelligence v3, spec-checked: configurations with their rules, and Twilio's operators, through the real
proxy with the real twilio SDK."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from twilio.rest.intelligence.v3.configuration import ConfigurationList

from twilio_emulator import add_intelligence_configuration, new_account, summary_operator, twilio_operators
from twilio_emulator.formats import iso

START = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CREATED = iso(START)
V3 = "https://intelligence.twilio.com/v3/ControlPlane"
TTID = re.compile(r"intelligence_(configuration|configurationrule|operator)_[0-7][0-9a-hjkmnp-tv-z]{25}")
MISSING = "intelligence_configuration_00000000000000000000000000"


@pytest.fixture
def clock(emulator, monkeypatch):
    made_up = {"now": START}
    monkeypatch.setattr(emulator.clock, "now", lambda: made_up["now"])
    monkeypatch.setattr(
        emulator.clock, "advance", lambda seconds: made_up.update(now=made_up["now"] + timedelta(seconds=seconds))
    )


def call(twilio, method: str, url: str, body: dict | None = None, auth=None):
    """(status, JSON answer or None, headers), sent through the proxy as it is."""
    credential = auth or (twilio.username, twilio.password)
    response = requests.request(method, url, json=body, auth=credential, timeout=10)
    return response.status_code, (response.json() if response.text else None), response.headers


def answer(twilio, method: str, url: str, body: dict | None = None, **options):
    return call(twilio, method, url, body, **options)[:2]


def error(status: int, code: int, message: str) -> dict:
    """Intelligence v3's own error shape."""
    return {
        "code": code,
        "message": message,
        "httpStatusCode": status,
        "userError": status < 500,
        "params": {"twilioErrorCodeUrl": f"https://www.twilio.com/docs/errors/{code}"},
    }


def summary_rules(emulator) -> list[dict]:
    """TAC's guide: the Summary operator at conversation end and when it goes inactive, no webhook, no context."""
    operator = {"id": summary_operator(emulator)["id"]}
    return [
        {"operators": [operator], "triggers": [{"on": "CONVERSATION_END"}], "actions": []},
        {"operators": [operator], "triggers": [{"on": "CONVERSATION_INACTIVE"}], "actions": []},
    ]


# Operators ---------------------------------------------------------------------------------------------------


def test_twilios_operators_are_listed_without_prompts(twilio, emulator, clock):
    summary, sentiment = twilio_operators(emulator)
    assert answer(twilio, "GET", f"{V3}/Operators") == (
        200,
        {
            "items": [
                {
                    "id": summary["id"],
                    "displayName": "Summary",
                    "description": "Summarizes the conversation for the human agent who takes it over.",
                    "version": 1,
                    "author": "TWILIO",
                    "outputFormat": "TEXT",
                    "context": {"memory": {"enabled": False}, "knowledge": {"enabled": False}},
                    "parameters": {},
                },
                {
                    "id": sentiment["id"],
                    "displayName": "Sentiment Analysis",
                    "description": "Analyzes the customer's sentiment throughout the conversation.",
                    "version": 1,
                    "author": "TWILIO",
                    "outputFormat": "CLASSIFICATION",
                    "context": {"memory": {"enabled": False}, "knowledge": {"enabled": False}},
                    "parameters": {},
                },
            ],
            "meta": {"key": "items", "pageSize": 2},
        },
    )
    assert TTID.fullmatch(summary["id"]) and TTID.fullmatch(sentiment["id"])


def test_an_operator_is_fetched_with_its_version_as_etag(twilio, emulator, clock):
    summary = summary_operator(emulator)
    status, fetched, headers = call(twilio, "GET", f"{V3}/Operators/{summary['id']}")
    assert (status, fetched, headers["ETag"]) == (200, summary, "1")
    assert twilio.intelligence.v3.operators(summary["id"]).fetch().display_name == "Summary"
    assert emulator.requests[-1].operation == "GET /v3/ControlPlane/Operators/{id}"


def test_operator_ids_differ_between_accounts_so_a_client_must_look_them_up(emulator):
    other = type(emulator)(emulator.spec.directory, new_account())
    assert summary_operator(other)["id"] != summary_operator(emulator)["id"]
    assert summary_operator(emulator) == summary_operator(emulator)


def test_an_unknown_operator_is_404_in_intelligences_error_shape(twilio, clock):
    missing = "intelligence_operator_00000000000000000000000000"
    assert answer(twilio, "GET", f"{V3}/Operators/{missing}") == (
        404,
        error(404, 20404, f"The requested resource /v3/ControlPlane/Operators/{missing} was not found"),
    )


# Configurations ----------------------------------------------------------------------------------------------


def test_a_configuration_is_created_with_ids_for_it_and_its_rules(twilio, emulator, clock):
    rules = summary_rules(emulator)
    status, created = answer(
        twilio, "POST", f"{V3}/Configurations", {"displayName": "Agent handoff summaries", "rules": rules}
    )
    first, second = created["rules"]
    assert (status, created) == (
        201,
        {
            "accountId": emulator.account.sid,
            "id": created["id"],
            "displayName": "Agent handoff summaries",
            "version": 1,
            "rules": [{"id": first["id"], **rules[0]}, {"id": second["id"], **rules[1]}],
            "dateCreated": CREATED,
            "dateUpdated": CREATED,
        },
    )
    assert [bool(TTID.fullmatch(found)) for found in (created["id"], first["id"], second["id"])] == [True] * 3
    assert answer(twilio, "GET", f"{V3}/Configurations/{created['id']}") == (200, created)
    assert answer(twilio, "GET", f"{V3}/Configurations") == (
        200,
        {"items": [created], "meta": {"key": "items", "pageSize": 1}},
    )


def test_the_sdk_creates_lists_and_fetches_configurations(twilio, emulator, clock):
    request = ConfigurationList.CreateConfigurationRequest(
        {"displayName": "Summaries", "description": "For Flex", "rules": summary_rules(emulator)}
    )
    created = twilio.intelligence.v3.configurations.create(create_configuration_request=request)
    sent = emulator.requests[-1]
    assert (sent.operation, sent.content_type) == ("POST /v3/ControlPlane/Configurations", "application/json")
    assert sent.body == {"displayName": "Summaries", "description": "For Flex", "rules": summary_rules(emulator)}
    assert [c.id for c in twilio.intelligence.v3.configurations.list()] == [created.id]
    fetched = twilio.intelligence.v3.configurations(created.id).fetch()
    assert (fetched.display_name, fetched.description, fetched.version) == ("Summaries", "For Flex", 1)
    assert [rule["triggers"] for rule in fetched.rules] == [
        [{"on": "CONVERSATION_END"}],
        [{"on": "CONVERSATION_INACTIVE"}],
    ]


def test_a_rule_with_a_webhook_and_context_keeps_them(twilio, emulator, clock):
    rule = {
        "operators": [{"id": summary_operator(emulator)["id"], "version": 1}],
        "actions": [{"type": "WEBHOOK", "method": "POST", "url": "https://example.com/summaries"}],
        "context": {"memory": {"enabled": True}},
    }
    created = answer(twilio, "POST", f"{V3}/Configurations", {"displayName": "Hooked", "rules": [rule]})[1]
    assert created["rules"] == [{"id": created["rules"][0]["id"], **rule, "triggers": []}]


def test_a_put_replaces_the_configuration_keeping_the_ids_of_the_rules_it_names(twilio, emulator, clock):
    created = add_intelligence_configuration(emulator, "Summaries", summary_rules(emulator), description="old")
    kept, dropped = created["rules"]
    new_rule = {
        "operators": [{"id": summary_operator(emulator)["id"]}],
        "triggers": [{"on": "COMMUNICATION", "parameters": {"count": 3}}],
        "actions": [],
    }
    body = {"displayName": "Renamed", "rules": [{**summary_rules(emulator)[0], "id": kept["id"]}, new_rule]}
    emulator.advance(60)
    status, updated = answer(twilio, "PUT", f"{V3}/Configurations/{created['id']}", body)
    assert (status, updated["version"], updated["dateUpdated"], "description" in updated) == (
        200,
        2,
        iso(START + timedelta(seconds=60)),
        False,
    )
    assert updated["rules"][0] == kept
    assert (
        updated["rules"][1]["id"] not in (kept["id"], dropped["id"])
        and updated["rules"][1]["triggers"] == new_rule["triggers"]
    )
    assert answer(twilio, "GET", f"{V3}/Configurations/{created['id']}") == (200, updated)


def test_a_configuration_is_deleted(twilio, emulator, clock):
    created = add_intelligence_configuration(emulator, "Doomed", [])
    assert answer(twilio, "DELETE", f"{V3}/Configurations/{created['id']}") == (204, None)
    assert answer(twilio, "GET", f"{V3}/Configurations/{created['id']}")[0] == 404


def test_display_names_need_not_be_unique(twilio, emulator, clock):
    for _ in range(2):
        assert answer(twilio, "POST", f"{V3}/Configurations", {"displayName": "Twice", "rules": []})[0] == 201
    assert len(answer(twilio, "GET", f"{V3}/Configurations")[1]["items"]) == 2


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_an_unknown_configuration_is_404(twilio, clock, method):
    body = {"displayName": "x", "rules": []} if method == "PUT" else None
    assert answer(twilio, method, f"{V3}/Configurations/{MISSING}", body) == (
        404,
        error(404, 20404, f"The requested resource /v3/ControlPlane/Configurations/{MISSING} was not found"),
    )


def test_rules_must_name_operators_versions_and_rules_of_the_account(twilio, emulator, clock):
    unknown = "intelligence_operator_00000000000000000000000000"
    refused = answer(
        twilio,
        "POST",
        f"{V3}/Configurations",
        {"displayName": "x", "rules": [{"operators": [{"id": unknown}], "actions": []}]},
    )
    assert refused == (400, error(400, 20001, f"rules[0]: unknown operator {unknown}"))
    summary = summary_operator(emulator)["id"]
    versioned = {"operators": [{"id": summary, "version": 2}], "actions": []}
    assert answer(twilio, "POST", f"{V3}/Configurations", {"displayName": "x", "rules": [versioned]}) == (
        400,
        error(400, 20001, f"rules[0]: operator {summary} has no version 2"),
    )
    created = add_intelligence_configuration(emulator, "Summaries", summary_rules(emulator))
    stranger = {**summary_rules(emulator)[0], "id": "intelligence_configurationrule_00000000000000000000000000"}
    assert answer(twilio, "PUT", f"{V3}/Configurations/{created['id']}", {"displayName": "x", "rules": [stranger]}) == (
        400,
        error(
            400,
            20001,
            "rules[0]: the configuration has no rule intelligence_configurationrule_00000000000000000000000000",
        ),
    )
    assert answer(twilio, "GET", f"{V3}/Configurations")[1]["items"] == [created]


def test_a_rule_without_operators_breaks_the_description(twilio, emulator, clock):
    status, refused = answer(
        twilio, "POST", f"{V3}/Configurations", {"displayName": "x", "rules": [{"operators": [], "actions": []}]}
    )
    assert (status, refused["httpStatusCode"], refused["code"]) == (400, 400, 20001)
    assert [v.kind for v in emulator.violations] == ["request"]
    emulator.violations.clear()  # seen


def test_a_wrong_credential_is_401_in_intelligences_error_shape(twilio, emulator, clock):
    assert answer(twilio, "GET", f"{V3}/Operators", auth=(emulator.account.sid, "wrong")) == (
        401,
        error(401, 20003, "Authentication Error - invalid username"),
    )
