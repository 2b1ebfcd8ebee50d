"""AI Assistants: an assistant, the webhook tools it can call, and which tools are attached to it.

A JSON API with `aia_…` ids. A tool is created on its own and attached to an assistant in a second
request; the assistant and its tool list name the attached tools.
"""

from __future__ import annotations

import uuid

from ..errors import not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "assistants", "assistant_tools", "assistant_tool_attachments")

BASE = "https://assistants.twilio.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
TOOL_FIELDS = ("name", "description", "type", "enabled", "meta")  # what a create or an update may set


def _new_id(emulator: AccountState, prefix: str) -> str:
    """Twilio's ids are a prefix and a UUID; this UUID is a deterministic SID's digits, so a run repeats."""
    return prefix + str(uuid.UUID(emulator.new_sid("")))


def add_assistant(emulator: AccountState, name: str) -> dict:
    assistant_id = _new_id(emulator, "aia_asst_")
    assistant = {
        "account_sid": emulator.account.sid,
        "customer_ai": {"perception_engine_enabled": False, "personalization_engine_enabled": False},
        "id": assistant_id,
        "model": DEFAULT_MODEL,
        "name": name,
        "owner": "",
        "url": f"{BASE}/Assistants/{assistant_id}",
        "personality_prompt": "",
        "date_created": now_iso(),
        "date_updated": now_iso(),
    }
    emulator.table("assistants")[assistant_id] = assistant
    return assistant


def _assistant(call: Call, assistant_id: str) -> dict:
    assistant = call.emulator.table("assistants").get(assistant_id)
    if assistant is None:
        raise not_found(call.path)
    return assistant


def _tool(call: Call, tool_id: str) -> dict:
    tool = call.emulator.table("assistant_tools").get(tool_id)
    if tool is None:
        raise not_found(call.path)
    return tool


def _attached_tools(emulator: AccountState, assistant_id: str) -> list[dict]:
    tools = emulator.table("assistant_tools")
    return [
        tools[a["tool_id"]]
        for a in emulator.table("assistant_tool_attachments").values()
        if a["assistant_id"] == assistant_id
    ]


@route("assistants", "GET", "/v1/Assistants")
def list_assistants(call: Call):
    return page(call, "assistants", list(call.emulator.table("assistants").values()))


@route("assistants", "GET", "/v1/Assistants/{id}")
def fetch_assistant(call: Call):
    assistant = _assistant(call, call.params["id"])
    return 200, {**assistant, "knowledge": [], "tools": _attached_tools(call.emulator, assistant["id"])}


@route("assistants", "GET", "/v1/Assistants/{assistantId}/Tools")
def list_assistant_tools(call: Call):
    assistant = _assistant(call, call.params["assistantId"])
    return page(call, "tools", _attached_tools(call.emulator, assistant["id"]))


@route("assistants", "POST", "/v1/Assistants/{assistantId}/Tools/{id}")
def attach_tool(call: Call):
    """Attaching a tool that is already attached changes nothing: an assistant has each tool once."""
    assistant, tool = _assistant(call, call.params["assistantId"]), _tool(call, call.params["id"])
    key = f"{assistant['id']}/{tool['id']}"
    call.emulator.table("assistant_tool_attachments")[key] = {"assistant_id": assistant["id"], "tool_id": tool["id"]}
    return 204, None


@route("assistants", "POST", "/v1/Tools")
def create_tool(call: Call):
    """A tool of the account, attached to no assistant.

    The body's `assistant_id` does not attach it: Twilio's docs say that once a tool is created with
    /v1/Tools it must be connected to an Assistant (POST /v1/Assistants/{assistantId}/Tools/{id}).
    Policies are not emulated; a `policy` is accepted and not kept.
    """
    tool_id = _new_id(call.emulator, "aia_tool_")
    tool = {
        "account_sid": call.emulator.account.sid,
        "description": "",
        "meta": {},
        **{field: call.body[field] for field in TOOL_FIELDS if field in call.body},
        "id": tool_id,
        "requires_auth": False,
        "url": f"{BASE}/Tools/{tool_id}",
        "date_created": now_iso(),
        "date_updated": now_iso(),
    }
    call.emulator.table("assistant_tools")[tool_id] = tool
    return 201, tool


@route("assistants", "GET", "/v1/Tools")
def list_tools(call: Call):
    """The account's tools; with AssistantId, only those attached to that assistant."""
    tools = list(call.emulator.table("assistant_tools").values())
    if "AssistantId" in call.query:
        tools = _attached_tools(call.emulator, _assistant(call, call.query["AssistantId"])["id"])
    return page(call, "tools", tools)


@route("assistants", "DELETE", "/v1/Tools/{id}")
def delete_tool(call: Call):
    """Deleting a tool detaches it from every assistant."""
    tool = _tool(call, call.params["id"])
    attachments = call.emulator.table("assistant_tool_attachments")
    for key in [key for key, a in attachments.items() if a["tool_id"] == tool["id"]]:
        del attachments[key]
    del call.emulator.table("assistant_tools")[tool["id"]]
    return 204, None


@route("assistants", "GET", "/v1/Tools/{id}")
def fetch_tool(call: Call):
    return 200, {**_tool(call, call.params["id"]), "policies": []}


@route("assistants", "PUT", "/v1/Tools/{id}")
def update_tool(call: Call):
    """Only the fields given change; as on create, `assistant_id` and `policy` are not kept."""
    tool = _tool(call, call.params["id"])
    tool.update({field: call.body[field] for field in TOOL_FIELDS if field in call.body}, date_updated=now_iso())
    return 200, tool
