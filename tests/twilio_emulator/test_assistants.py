"""The emulated AI Assistants API, through the real proxy with the twilio SDK's generic request.

twilio-python 9.13 has no Assistants client, so requests go through `Client.request` with a JSON body.
"""

from __future__ import annotations

import json
import re

import pytest

from twilio_emulator import add_assistant
from twilio_emulator.products import assistants

ASSISTANTS = "https://assistants.twilio.com/v1"
NOW = "2026-01-02T03:04:05Z"
LATER = "2026-01-02T03:05:00Z"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UNKNOWN_ASSISTANT, UNKNOWN_TOOL = (
    "aia_asst_00000000-0000-0000-0000-000000000000",
    "aia_tool_00000000-0000-0000-0000-000000000000",
)
HANDOVER_TOOL = {
    "name": "Flex Handover",
    "type": "WEBHOOK",
    "description": "Hand the conversation to a human agent in Flex",
    "enabled": True,
    "meta": {"url": "https://flex-handover-1234-dev.twil.io/tools/flex-handover", "method": "POST"},
}


@pytest.fixture
def clock(monkeypatch):
    """The time the Assistants emulation writes; a test moves it on with `clock.now = …`."""

    class Clock:
        now = NOW

    monkeypatch.setattr(assistants, "now_iso", lambda: Clock.now)
    return Clock


@pytest.fixture
def assistant(emulator, clock) -> dict:
    return add_assistant(emulator, "Customer care")


def send(client, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
    """A request as an Assistants client sends it: JSON in, JSON (or nothing) out."""
    response = client.request(method, f"{ASSISTANTS}{path}", data=body, headers={"Content-Type": "application/json"})
    return response.status_code, json.loads(response.text) if response.text else None


def not_found(path: str) -> tuple[int, dict]:
    message = f"The requested resource {path} was not found"
    return 404, {
        "code": 20404,
        "message": message,
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }


def expected_tool(account, tool_id: str, **changes) -> dict:
    return {
        "account_sid": account.sid,
        **HANDOVER_TOOL,
        "id": tool_id,
        "requires_auth": False,
        "url": f"{ASSISTANTS}/Tools/{tool_id}",
        "date_created": NOW,
        "date_updated": NOW,
        **changes,
    }


# Assistants ----------------------------------------------------------------------------------------------


def test_an_assistant_is_fetched_with_no_tools(twilio, emulator, assistant, account):
    assert re.fullmatch(f"aia_asst_{UUID}", assistant["id"])
    assert send(twilio, "GET", f"/Assistants/{assistant['id']}") == (
        200,
        {
            "account_sid": account.sid,
            "customer_ai": {"perception_engine_enabled": False, "personalization_engine_enabled": False},
            "id": assistant["id"],
            "model": "gpt-4o-mini",
            "name": "Customer care",
            "owner": "",
            "url": f"{ASSISTANTS}/Assistants/{assistant['id']}",
            "personality_prompt": "",
            "date_created": NOW,
            "date_updated": NOW,
            "knowledge": [],
            "tools": [],
        },
    )
    status, page = send(twilio, "GET", f"/Assistants/{assistant['id']}/Tools")
    assert (status, page["tools"], page["meta"]["key"]) == (200, [], "tools")


def test_an_unknown_assistant_is_404(twilio, emulator, assistant):
    for path in (f"/Assistants/{UNKNOWN_ASSISTANT}", f"/Assistants/{UNKNOWN_ASSISTANT}/Tools"):
        assert send(twilio, "GET", path) == not_found(f"/v1{path}")


def test_assistant_ids_are_deterministic(emulator, clock):
    first = add_assistant(emulator, "One")["id"]
    emulator.reset()
    assert add_assistant(emulator, "One")["id"] == first


# Tools -------------------------------------------------------------------------------------------------------


def test_a_tool_is_created_and_fetched(twilio, emulator, clock, account):
    status, tool = send(twilio, "POST", "/Tools", HANDOVER_TOOL)
    assert status == 201
    assert re.fullmatch(f"aia_tool_{UUID}", tool["id"])
    assert tool == expected_tool(account, tool["id"])
    assert emulator.requests[-1].content_type == "application/json"
    assert emulator.requests[-1].body == HANDOVER_TOOL

    assert send(twilio, "GET", f"/Tools/{tool['id']}") == (200, {**expected_tool(account, tool["id"]), "policies": []})


def test_a_tool_without_description_or_meta_gets_empty_ones(twilio, emulator, clock):
    status, tool = send(twilio, "POST", "/Tools", {"name": "Ping", "type": "WEBHOOK", "enabled": False})
    assert status == 201
    assert (tool["description"], tool["meta"], tool["enabled"]) == ("", {}, False)


def test_creating_a_tool_with_an_assistant_id_does_not_attach_it(twilio, emulator, assistant):
    status, tool = send(twilio, "POST", "/Tools", {**HANDOVER_TOOL, "assistant_id": assistant["id"]})
    assert status == 201
    assert "assistant_id" not in tool
    assert send(twilio, "GET", f"/Assistants/{assistant['id']}")[1]["tools"] == []


def test_an_update_changes_only_the_given_fields(twilio, emulator, clock, account):
    tool_id = send(twilio, "POST", "/Tools", HANDOVER_TOOL)[1]["id"]
    clock.now = LATER
    new_meta = {"url": "https://example.twil.io/tools/flex-handover", "method": "POST"}

    status, updated = send(
        twilio, "PUT", f"/Tools/{tool_id}", {"description": "Escalate to a person", "meta": new_meta}
    )

    expected = expected_tool(account, tool_id, description="Escalate to a person", meta=new_meta, date_updated=LATER)
    assert (status, updated) == (200, expected)
    assert send(twilio, "GET", f"/Tools/{tool_id}") == (200, {**expected, "policies": []})
    status, disabled = send(twilio, "PUT", f"/Tools/{tool_id}", {"enabled": False})
    assert (status, disabled) == (200, {**expected, "enabled": False})


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_an_unknown_tool_is_404(twilio, emulator, method):
    assert send(twilio, method, f"/Tools/{UNKNOWN_TOOL}", {} if method == "PUT" else None) == not_found(
        f"/v1/Tools/{UNKNOWN_TOOL}"
    )


# Attaching tools ------------------------------------------------------------------------------------------------


def test_an_attached_tool_is_listed_once_on_its_assistant(twilio, emulator, assistant, account):
    tool_id = send(twilio, "POST", "/Tools", HANDOVER_TOOL)[1]["id"]
    other_assistant = add_assistant(emulator, "Sales")

    for _ in range(2):  # attaching twice keeps one attachment
        assert send(twilio, "POST", f"/Assistants/{assistant['id']}/Tools/{tool_id}") == (204, None)
    assert emulator.requests[-1].response is None

    status, fetched = send(twilio, "GET", f"/Assistants/{assistant['id']}")
    assert (status, fetched["tools"]) == (200, [expected_tool(account, tool_id)])
    status, page = send(twilio, "GET", f"/Assistants/{assistant['id']}/Tools")
    assert (status, page["tools"]) == (200, [expected_tool(account, tool_id)])
    assert send(twilio, "GET", f"/Assistants/{other_assistant['id']}/Tools")[1]["tools"] == []


def test_an_attached_tool_shows_its_latest_fields(twilio, emulator, assistant):
    tool_id = send(twilio, "POST", "/Tools", HANDOVER_TOOL)[1]["id"]
    send(twilio, "POST", f"/Assistants/{assistant['id']}/Tools/{tool_id}")
    send(twilio, "PUT", f"/Tools/{tool_id}", {"name": "Handover"})
    assert [t["name"] for t in send(twilio, "GET", f"/Assistants/{assistant['id']}")[1]["tools"]] == ["Handover"]


def test_attaching_to_an_unknown_assistant_or_an_unknown_tool_is_404(twilio, emulator, assistant):
    tool_id = send(twilio, "POST", "/Tools", HANDOVER_TOOL)[1]["id"]
    for path in (
        f"/Assistants/{UNKNOWN_ASSISTANT}/Tools/{tool_id}",
        f"/Assistants/{assistant['id']}/Tools/{UNKNOWN_TOOL}",
    ):
        assert send(twilio, "POST", path) == not_found(f"/v1{path}")
    assert emulator.table("assistant_tool_attachments") == {}


def test_an_api_key_reaches_the_assistants_api(twilio_with_api_key, emulator, assistant, account):
    status, tool = send(twilio_with_api_key, "POST", "/Tools", HANDOVER_TOOL)
    assert status == 201
    assert send(twilio_with_api_key, "POST", f"/Assistants/{assistant['id']}/Tools/{tool['id']}") == (204, None)
    assert [t["id"] for t in send(twilio_with_api_key, "GET", f"/Assistants/{assistant['id']}")[1]["tools"]] == [
        tool["id"]
    ]
    assert {r.auth_user for r in emulator.requests} == set(account.api_keys)
