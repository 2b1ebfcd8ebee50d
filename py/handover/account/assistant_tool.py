"""The AI Assistant's handover tool: its definition (from a template) and its registration.

twilio-python 9.11+ has no Assistants client (AI Assistants, a Developer Preview, was retired in
July 2026), so these calls go through the SDK's own generic `client.request`: the same credentials,
user agent, proxy settings and retries as every other call, and no second HTTP stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import contract, templating
from ..errors import HandoverError, PartlyApplied
from ..outcomes import CREATED, UNCHANGED, UPDATED
from .tokens import redact_url, without_query

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE = "assistant-tool.json.j2"


@dataclass(frozen=True)
class ToolKind:
    """One of the project's handover tools: the function it calls and the name it is registered under."""

    path: str
    default_name: str


# flex: the Interactions API directly; studio: the Studio handoff flow (the Twilio Agent Connect path).
KINDS = {
    "flex": ToolKind("/tools/flex-handover", "Flex Agent Handover"),
    "studio": ToolKind("/tools/studio-handover", "Studio Agent Handover"),
}
TOOL_PATH = KINDS["flex"].path
DEFAULT_NAME = KINDS["flex"].default_name
DEFAULT_DESCRIPTION = (
    "You MUST use this if you don't know how to fulfill the request "
    "to let another customer service agent handle the conversation."
)
ASSISTANTS_API = "https://assistants.twilio.com/v1"
COMPARED_FIELDS = ("name", "description", "type", "enabled", "meta")
RETIRED_STATUSES = (404, 410)


def definition(url: str, name: str = DEFAULT_NAME, description: str = DEFAULT_DESCRIPTION) -> dict:
    """The tool as the Assistants API takes it, rendered from templates/assistant-tool.json.j2.

    `url` is called as it is: for the deployed function it carries the handover token.
    """
    text = templating.render(
        TEMPLATES_DIR,
        TEMPLATE,
        name=name,
        description=description,
        url=url,
        parameters=contract.TOOL_PARAMETERS,
    )
    return json.loads(text)


def redacted(definition: dict) -> dict:
    """The definition with its URL's token shown as <redacted>, for output."""
    return {**definition, "meta": {**definition["meta"], "url": redact_url(definition["meta"]["url"])}}


class AssistantsApiError(HandoverError):
    def __init__(self, method: str, path: str, status: int, message: str):
        super().__init__(f"{method} {ASSISTANTS_API}{path} failed: HTTP {status}: {message}")
        self.status = status


class AssistantsRetired(HandoverError):
    """The Assistants API itself is gone for this account."""


class AssistantNotFound(HandoverError):
    """No assistant of that ID in the account; the message says where to copy the right one."""


def _call(client, method: str, url: str, body: dict | None = None) -> dict | None:
    headers = {"Content-Type": "application/json"} if body is not None else None
    response = client.request(method, url, data=body, headers=headers)
    path = url.removeprefix(ASSISTANTS_API).split("?")[0]
    if response.status_code >= 400:
        try:
            message = json.loads(response.text).get("message", response.text)
        except (ValueError, AttributeError):
            message = response.text
        # The tool's URL carries the handover token: an answer that quotes it is printed without it.
        raise AssistantsApiError(method, path, response.status_code, redact_url(str(message)[:300]))
    return json.loads(response.text) if response.text else None


def _retired(account_sid: str, status: int) -> AssistantsRetired:
    return AssistantsRetired(
        f"The AI Assistants API answered HTTP {status} for account {account_sid}: AI Assistants "
        "(a Developer Preview, retired by Twilio in July 2026) appears retired for this account. "
        "Hand off through a Studio flow instead, as Twilio Agent Connect does: see the README, "
        'section "AI Assistants retired: the Studio path".'
    )


def _pages(client, url: str, key: str) -> list[dict]:
    """Every item of a list, following next_page_url."""
    items: list[dict] = []
    next_url: str | None = url
    while next_url:
        page = _call(client, "GET", next_url)
        items += page.get(key, [])
        next_url = (page.get("meta") or {}).get("next_page_url")
    return items


def attached_tools(client, account_sid: str, assistant_id: str) -> list[dict]:
    """Every tool attached to the assistant; AssistantNotFound or AssistantsRetired when there is none to ask."""
    try:
        return _pages(client, f"{ASSISTANTS_API}/Assistants/{assistant_id}/Tools", "tools")
    except AssistantsApiError as error:
        if error.status not in RETIRED_STATUSES:
            raise
        # An unknown assistant gets a 404 too; whether the list of assistants answers tells the two apart.
        try:
            _call(client, "GET", f"{ASSISTANTS_API}/Assistants?PageSize=1")
        except AssistantsApiError as probe:
            if probe.status in RETIRED_STATUSES:
                raise _retired(account_sid, probe.status) from error
            raise
        if error.status == 410:
            raise _retired(account_sid, error.status) from error
        raise AssistantNotFound(
            f"Assistant {assistant_id} does not exist in account {account_sid}. "
            "Copy its ID (aia_asst_…) from Console > AI Assistants."
        ) from error


def calls(tool: dict, url: str) -> bool:
    """Whether the tool calls this URL, whatever token (or other query) either carries."""
    return without_query((tool.get("meta") or {}).get("url") or "") == without_query(url)


def find_tool(tools: list[dict], wanted: dict) -> dict | None:
    """The tool that is this handover tool: same name, else same URL without its query (a rotated token)."""
    return next((t for t in tools if t.get("name") == wanted["name"]), None) or next(
        (t for t in tools if calls(t, wanted["meta"]["url"])), None
    )


def differing_fields(tool: dict, wanted: dict) -> list[str]:
    return [name for name in COMPARED_FIELDS if tool.get(name) != wanted[name]]


@dataclass
class Registration:
    assistant_id: str
    action: str  # created, updated or unchanged (in a dry run: what would be done)
    tool_id: str | None
    definition: dict = field(repr=False)  # its URL carries the handover token
    changed_fields: list[str] = field(default_factory=list)
    dry_run: bool = False
    writes: list[str] = field(default_factory=list)  # the write requests made, e.g. "POST /v1/Tools"

    def as_json(self, show_secrets: bool = False) -> dict:
        return {
            "assistant_id": self.assistant_id,
            "action": self.action,
            "tool_id": self.tool_id,
            "changed_fields": self.changed_fields,
            "dry_run": self.dry_run,
            "writes": self.writes,
            "definition": self.definition if show_secrets else redacted(self.definition),
        }


class RegistrationFailed(PartlyApplied):
    """A write failed; the message lists the writes that were applied before it and what they left."""

    def __init__(self, registration: Registration, error: AssistantsApiError, left: str):
        applied = ", ".join(registration.writes) or "nothing"
        super().__init__(f"{error}. Applied before the failure: {applied}. {left}")
        self.registration = registration


def register(client, account_sid: str, assistant_id: str, wanted: dict, dry_run: bool = False) -> Registration:
    """Attach the tool to the assistant, creating or updating it only where it differs.

    A tool this run created but could not attach is deleted again, so a failed run leaves nothing
    behind and the next run starts over. Tools attached to other assistants are never looked at.
    """
    existing = find_tool(attached_tools(client, account_sid, assistant_id), wanted)
    changed = differing_fields(existing, wanted) if existing else list(COMPARED_FIELDS)
    action = CREATED if existing is None else UPDATED if changed else UNCHANGED
    registration = Registration(assistant_id, action, existing and existing["id"], wanted, changed, dry_run)
    if dry_run or action == UNCHANGED:
        return registration
    rerun = "Run the command again; it writes only what is still missing."
    if existing is not None:
        try:
            _call(client, "PUT", f"{ASSISTANTS_API}/Tools/{existing['id']}", wanted)
        except AssistantsApiError as error:
            raise RegistrationFailed(registration, error, rerun) from error
        registration.writes.append(f"PUT /v1/Tools/{existing['id']}")
        return registration
    try:
        registration.tool_id = _call(client, "POST", f"{ASSISTANTS_API}/Tools", wanted)["id"]
    except AssistantsApiError as error:
        raise RegistrationFailed(registration, error, rerun) from error
    registration.writes.append("POST /v1/Tools")
    try:
        _call(client, "POST", f"{ASSISTANTS_API}/Assistants/{assistant_id}/Tools/{registration.tool_id}")
    except AssistantsApiError as error:
        raise RegistrationFailed(registration, error, _roll_back(client, registration, rerun)) from error
    registration.writes.append(f"POST /v1/Assistants/{assistant_id}/Tools/{registration.tool_id}")
    return registration


def _roll_back(client, registration: Registration, rerun: str) -> str:
    """Delete the tool a failed attach left unattached; what that left, for the error message."""
    try:
        _call(client, "DELETE", f"{ASSISTANTS_API}/Tools/{registration.tool_id}")
    except AssistantsApiError:
        return (
            f"Tool {registration.tool_id} was created but is not attached, and deleting it failed: delete it in "
            "Console > AI Assistants > Tools, then run the command again."
        )
    registration.writes.append(f"DELETE /v1/Tools/{registration.tool_id}")
    return f"The new tool was deleted again, so nothing is left behind. {rerun}"
