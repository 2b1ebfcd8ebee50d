"""The emulated Flex configuration and the 2010 API's account, through the real proxy with the real twilio SDK."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from twilio_emulator import FlexAccount, seed_flex_account
from twilio_emulator.products import flex, taskrouter

NOW = "2026-01-02T03:04:05Z"
RFC_2822 = (
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000"
)


@pytest.fixture
def flex_account(emulator, monkeypatch) -> FlexAccount:
    monkeypatch.setattr(flex, "now_iso", lambda: NOW)
    return seed_flex_account(emulator)


# Flex configuration ------------------------------------------------------------------------------------------


def test_a_flex_account_has_its_configuration(twilio, emulator, flex_account, account):
    configuration = twilio.flex_api.v1.configuration().fetch()

    workspace = emulator.table("workspaces")[flex_account.workspace_sid]
    assert emulator.requests[-1].response == {
        "account_sid": account.sid,
        "date_created": NOW,
        "date_updated": NOW,
        "attributes": {},
        "status": "ok",
        "taskrouter_workspace_sid": flex_account.workspace_sid,
        "taskrouter_offline_activity_sid": workspace["default_activity_sid"],
        "ui_language": "en",
        "url": "https://flex-api.twilio.com/v1/Configuration",
    }
    assert (configuration.status, configuration.taskrouter_workspace_sid) == ("ok", flex_account.workspace_sid)
    assert configuration.date_created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert emulator.requests[-1].operation == "GET /v1/Configuration"


def test_an_account_without_flex_has_no_configuration(twilio, emulator, refused):
    answer = refused(twilio.flex_api.v1.configuration().fetch)
    assert answer == (404, 20404, "The requested resource /v1/Configuration was not found")


def test_enable_flex_names_the_workspace_it_is_given(twilio, emulator, flex_account):
    other = taskrouter.add_workspace(emulator, "Another workspace")
    flex.enable_flex(emulator, other["sid"])
    assert twilio.flex_api.v1.configuration().fetch().taskrouter_workspace_sid == other["sid"]


def test_an_api_key_reaches_the_flex_configuration(twilio_with_api_key, emulator, flex_account, account):
    assert twilio_with_api_key.flex_api.v1.configuration().fetch().account_sid == account.sid
    assert emulator.requests[-1].auth_user in account.api_keys


# The account ----------------------------------------------------------------------------------------------------


def test_the_account_is_fetched(twilio, emulator, account):
    fetched = twilio.api.v2010.accounts(account.sid).fetch()

    answer = emulator.requests[-1].response
    uri = f"/2010-04-01/Accounts/{account.sid}"
    assert answer == {
        "date_created": answer["date_created"],
        "date_updated": answer["date_created"],
        "friendly_name": "My first Twilio account",
        "owner_account_sid": account.sid,
        "sid": account.sid,
        "status": "active",
        "subresource_uris": answer["subresource_uris"],
        "type": "Full",
        "uri": f"{uri}.json",
    }
    assert re.fullmatch(RFC_2822, answer["date_created"])
    assert answer["subresource_uris"]["calls"] == f"{uri}/Calls.json"
    assert answer["subresource_uris"]["short_codes"] == f"{uri}/SMS/ShortCodes.json"
    assert all(value.startswith(f"{uri}/") and value.endswith(".json") for value in answer["subresource_uris"].values())
    assert (fetched.sid, fetched.status, fetched.type) == (account.sid, "active", "Full")
    assert fetched.date_created.tzinfo is not None  # the SDK parsed the RFC 2822 date
    assert fetched.auth_token is None  # never in a recorded answer
    assert twilio.api.v2010.accounts(account.sid).fetch().date_created == fetched.date_created


def test_another_account_is_404(twilio, emulator, refused):
    other = "AC" + "0" * 32
    answer = refused(twilio.api.v2010.accounts(other).fetch)
    assert answer == (404, 20404, f"The requested resource /2010-04-01/Accounts/{other}.json was not found")
