"""Conversations (Classic) address configurations, spec-checked, through the real proxy with the real twilio SDK."""

from __future__ import annotations

import pytest

from twilio_emulator import FlexAccount, address_configuration, seed_flex_account, seed_flex_messaging_address
from twilio_emulator.products import conversation_addresses

NOW = "2026-01-02T03:04:05Z"
ADDRESSES = "https://conversations.twilio.com/v1/Configuration/Addresses"
NUMBER = "+15005550006"


@pytest.fixture
def flex(emulator, monkeypatch) -> FlexAccount:
    monkeypatch.setattr(conversation_addresses, "now_iso", lambda: NOW)
    return seed_flex_account(emulator)


@pytest.fixture
def flex_address(emulator, flex) -> dict:
    return seed_flex_messaging_address(emulator, flex, NUMBER)


def test_flex_sets_a_messaging_address_up_to_send_new_conversations_to_its_studio_flow(
    twilio, emulator, flex, flex_address, account
):
    (flow,) = emulator.table("studio_flows").values()
    fetched = twilio.conversations.v1.address_configurations(flex_address["sid"]).fetch()
    assert emulator.requests[-1].response == {
        "account_sid": account.sid,
        "sid": flex_address["sid"],
        "address": NUMBER,
        "type": "sms",
        "friendly_name": f"Flex sms {NUMBER}",
        "address_country": None,
        "auto_creation": {
            "enabled": True,
            "type": "studio",
            "conversation_service_sid": flex.service_sid,
            "studio_flow_sid": flow["sid"],
            "studio_retry_count": 3,
        },
        "date_created": NOW,
        "date_updated": NOW,
        "url": f"{ADDRESSES}/{flex_address['sid']}",
    }
    assert (flow["friendly_name"], flow["status"]) == ("Messaging Flow", "published")
    assert fetched.auto_creation["studio_flow_sid"] == flow["sid"]
    assert emulator.requests[-1].operation == "GET /v1/Configuration/Addresses/{Sid}"


def test_an_address_is_found_by_its_sid_or_its_address(twilio, emulator, flex):
    whatsapp = seed_flex_messaging_address(emulator, flex, f"whatsapp:{NUMBER}", "whatsapp")
    assert twilio.conversations.v1.address_configurations(f"whatsapp:{NUMBER}").fetch().sid == whatsapp["sid"]
    assert (
        address_configuration(emulator, whatsapp["sid"])
        == address_configuration(emulator, f"whatsapp:{NUMBER}")
        == whatsapp
    )


def test_addresses_are_listed_and_filtered_by_type(twilio, emulator, flex, flex_address):
    whatsapp = seed_flex_messaging_address(emulator, flex, f"whatsapp:{NUMBER}", "whatsapp")
    assert [a.sid for a in twilio.conversations.v1.address_configurations.list()] == [
        flex_address["sid"],
        whatsapp["sid"],
    ]
    assert [a.sid for a in twilio.conversations.v1.address_configurations.list(type="whatsapp")] == [whatsapp["sid"]]
    assert emulator.requests[-1].response["meta"]["key"] == "address_configurations"


def test_disconnecting_an_address_from_flex_keeps_its_target_for_a_restore(twilio, emulator, flex, flex_address):
    updated = twilio.conversations.v1.address_configurations(NUMBER).update(auto_creation_enabled=False)
    assert emulator.requests[-1].body == {"AutoCreation.Enabled": False}
    assert updated.auto_creation == {**flex_address["auto_creation"], "enabled": False}
    restored = twilio.conversations.v1.address_configurations(NUMBER).update(auto_creation_enabled=True)
    assert restored.auto_creation == flex_address["auto_creation"]


def test_an_update_changes_the_type_and_answers_that_types_fields(twilio, emulator, flex, flex_address):
    updated = twilio.conversations.v1.address_configurations(flex_address["sid"]).update(
        friendly_name="Webhook now",
        auto_creation_type="webhook",
        auto_creation_webhook_url="https://example.com/incoming",
        auto_creation_webhook_method="post",
        auto_creation_webhook_filters=["onMessageAdded"],
    )
    assert updated.friendly_name == "Webhook now"
    assert updated.auto_creation == {
        "enabled": True,
        "type": "webhook",
        "conversation_service_sid": flex.service_sid,
        "webhook_url": "https://example.com/incoming",
        "webhook_method": "POST",
        "webhook_filters": ["onMessageAdded"],
    }
    default = twilio.conversations.v1.address_configurations(flex_address["sid"]).update(auto_creation_type="default")
    assert default.auto_creation == {"enabled": True, "type": "default"}


def test_an_address_is_created_and_deleted(twilio, emulator, flex):
    created = twilio.conversations.v1.address_configurations.create(
        type="sms", address="+15005550009", address_country="US"
    )
    assert emulator.requests[-1].status == 201
    assert (created.type, created.address, created.address_country) == ("sms", "+15005550009", "US")
    assert created.auto_creation == {"enabled": False, "type": "default"}
    assert twilio.conversations.v1.address_configurations(created.sid).delete() is True
    assert emulator.requests[-1].status == 204
    assert address_configuration(emulator, created.sid) is None


def test_a_second_configuration_of_an_address_is_409(twilio, emulator, flex, flex_address, refused):
    answer = refused(lambda: twilio.conversations.v1.address_configurations.create(type="sms", address=NUMBER))
    assert answer == (409, 20409, f"An address configuration for {NUMBER} already exists")


@pytest.mark.parametrize("action", ["fetch", "update", "delete"])
def test_an_unknown_address_is_404(twilio, emulator, flex, refused, action):
    context = twilio.conversations.v1.address_configurations("+15005550000")
    request = {"fetch": context.fetch, "update": lambda: context.update(friendly_name="x"), "delete": context.delete}[
        action
    ]
    assert refused(request) == (
        404,
        20404,
        "The requested resource /v1/Configuration/Addresses/+15005550000 was not found",
    )


def test_an_unknown_type_breaks_the_description(twilio, emulator, flex, refused):
    assert refused(lambda: twilio.conversations.v1.address_configurations.create(type="pigeon", address="coo"))[:2] == (
        400,
        20001,
    )
    assert [v.kind for v in emulator.violations] == ["request"]
    emulator.violations.clear()  # seen
