"""Studio v2: Flows, their validation, and Executions with their context — the handoff path of Twilio Agent Connect.

TAC hands a conversation to a person with `POST /v2/Flows/{FlowSid}/Executions` (To, From, and
Parameters `{"HandoffData": {...}}`), which the flow reads as `{{flow.data.HandoffData.…}}`; the
emulator keeps each Execution with that context so a test can read what reached the flow.

A definition is checked by a subset of Studio's own rules (`definition_errors`): Studio answers an
invalid one with 400 and code 81022, "Flow definition validation failed", whose details list each
failure (https://www.twilio.com/docs/api/errors/81022). Validate, create and update share the check.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ..errors import TwilioError, not_found
from ..formats import now_iso, parse_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "studio_flows", "studio_executions")

BASE = "https://studio.twilio.com/v2/Flows"
INVALID_DEFINITION = 81022


class InvalidDefinition(TwilioError):
    """Studio's 400 for a broken definition: Twilio's error body plus `details` naming every failure."""

    def __init__(self, errors: list[dict]):
        super().__init__(400, INVALID_DEFINITION, "Invalid Flow Definition")
        self.errors = errors

    def body(self) -> dict:
        return {**super().body(), "details": {"errors": self.errors, "warnings": []}}


# Validation -----------------------------------------------------------------------------------------


def definition_errors(definition: object) -> list[dict]:
    """The failures of a definition, each `{message, property_path}` as Studio reports them; [] if valid."""
    if not isinstance(definition, dict) or not isinstance(definition.get("states"), list):
        return [_failure("must have a list of states", "#/states")]
    states = definition["states"]
    errors = [error for index, state in enumerate(states) for error in _state_errors(state, f"#/states/{index}")]
    names = [state.get("name") for state in states if isinstance(state, dict)]
    errors += [_failure(f"state name {name!r} is not unique", "#/states") for name in _duplicates(names)]
    if definition.get("initial_state") not in names:
        errors.append(_failure(f"initial_state {definition.get('initial_state')!r} names no state", "#/initial_state"))
    errors += [
        _failure(
            f"transition to {transition.get('next')!r}, which names no state",
            f"#/states/{index}/transitions/{position}",
        )
        for index, state in enumerate(states)
        if isinstance(state, dict)
        for position, transition in enumerate(state.get("transitions") or [])
        # A transition without `next` leads nowhere on purpose (the flow ends there), as Studio allows.
        if isinstance(transition, dict) and transition.get("next") is not None and transition["next"] not in names
    ]
    return errors


def _state_errors(state: object, path: str) -> list[dict]:
    if not isinstance(state, dict):
        return [_failure("a state must be an object", path)]
    return [
        _failure(f"must have required property '{name}'", path)
        for name in ("name", "type", "properties")
        if name not in state
    ]


def _duplicates(names: list) -> list:
    return sorted({name for name in names if name is not None and names.count(name) > 1})


def _failure(message: str, property_path: str) -> dict:
    return {"message": message, "property_path": property_path}


def _checked(definition: object) -> object:
    errors = definition_errors(definition)
    if errors:
        raise InvalidDefinition(errors)
    return definition


# Seeding and inspection -------------------------------------------------------------------------------


def add_flow(
    emulator: AccountState,
    friendly_name: str,
    definition: dict,
    status: str = "published",
    commit_message: str | None = None,
) -> dict:
    """A Flow as `POST /v2/Flows` creates it; an invalid definition raises InvalidDefinition."""
    with emulator.lock:
        return _new_flow(emulator, friendly_name, _checked(definition), status, commit_message)


def studio_executions(emulator: AccountState, flow_sid: str) -> list[dict]:
    """The Executions of a Flow, oldest first, each with the context (`flow.data` = Parameters) the flow got."""
    with emulator.lock:
        return [e for e in emulator.table("studio_executions").values() if e["flow_sid"] == flow_sid]


def _new_flow(
    emulator: AccountState, friendly_name: str, definition: object, status: str, commit_message: str | None
) -> dict:
    sid = emulator.new_sid("FW")
    url = f"{BASE}/{sid}"
    flow = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "friendly_name": friendly_name,
        "definition": _copy(definition),
        "status": status,
        "revision": 1,
        "commit_message": commit_message,
        "valid": True,  # an invalid definition never gets this far
        "errors": [],
        "warnings": [],
        "date_created": now_iso(),
        "date_updated": None,  # as Twilio's example of a new Flow has it
        "webhook_url": f"https://webhooks.twilio.com/v1/Accounts/{emulator.account.sid}/Flows/{sid}",
        "url": url,
        "links": {"test_users": f"{url}/TestUsers", "revisions": f"{url}/Revisions", "executions": f"{url}/Executions"},
    }
    emulator.table("studio_flows")[sid] = flow
    return flow


def _copy(value: object) -> object:
    """A copy, so that the caller's dict cannot change what the account stores."""
    return json.loads(json.dumps(value))


def _flow(call: Call, sid: str) -> dict:
    flow = call.emulator.table("studio_flows").get(sid)
    if flow is None:
        raise not_found(call.path)
    return flow


# Routes ---------------------------------------------------------------------------------------------


@route("studio", "POST", "/v2/Flows")
def create_flow(call: Call):
    body = call.body
    return 201, _new_flow(
        call.emulator, body["FriendlyName"], _checked(body["Definition"]), body["Status"], body.get("CommitMessage")
    )


@route("studio", "GET", "/v2/Flows")
def list_flows(call: Call):
    """Twilio lists Flows without their definitions and validation results (its example shows them null)."""
    listed = [
        flow | {"definition": None, "valid": None, "errors": None, "warnings": None}
        for flow in call.emulator.table("studio_flows").values()
    ]
    return page(call, "flows", listed)


@route("studio", "GET", "/v2/Flows/{Sid}")
def fetch_flow(call: Call):
    return 200, _flow(call, call.params["Sid"])


@route("studio", "POST", "/v2/Flows/{Sid}")
def update_flow(call: Call):
    """Status is required; a new definition (one that differs) is a new revision, anything else is not."""
    flow = _flow(call, call.params["Sid"])
    body = call.body
    if "Definition" in body and _checked(body["Definition"]) != flow["definition"]:
        flow.update(definition=_copy(body["Definition"]), revision=flow["revision"] + 1)
    if "CommitMessage" in body:
        flow["commit_message"] = body["CommitMessage"]
    flow.update(
        status=body["Status"], friendly_name=body.get("FriendlyName", flow["friendly_name"]), date_updated=now_iso()
    )
    return 200, flow


@route("studio", "POST", "/v2/Flows/Validate")
def validate_flow(call: Call):
    _checked(call.body["Definition"])
    return 200, {"valid": True}


@route("studio", "POST", "/v2/Flows/{FlowSid}/Executions")
def create_execution(call: Call):
    """Starts the Flow's published revision with Parameters as `flow.data`.

    A Flow never published has no revision to run. Twilio's documentation does not name the error;
    the emulator answers as for a missing Flow (404/20404), which a caller must handle anyway.
    """
    flow = _flow(call, call.params["FlowSid"])
    if flow["status"] != "published":
        raise not_found(call.path)
    return 201, _new_execution(call.emulator, flow, call.body)


@route("studio", "GET", "/v2/Flows/{FlowSid}/Executions")
def list_executions(call: Call):
    """The Flow's Executions, oldest first, created from DateCreatedFrom (inclusive) to DateCreatedTo (exclusive).

    Twilio documents neither the order of the list nor whether an unknown Flow lists empty or is 404;
    the emulator answers 404, as for the Flow's other resources.
    """
    flow = _flow(call, call.params["FlowSid"])
    since, until = (_moment(call.query.get(name)) for name in ("DateCreatedFrom", "DateCreatedTo"))
    listed = [
        execution
        for execution in call.emulator.table("studio_executions").values()
        if execution["flow_sid"] == flow["sid"]
        and (since is None or parse_iso(execution["date_created"]) >= since)
        and (until is None or parse_iso(execution["date_created"]) < until)
    ]
    return page(call, "executions", listed)


@route("studio", "GET", "/v2/Flows/{FlowSid}/Executions/{Sid}")
def fetch_execution(call: Call):
    return 200, _execution(call, call.params["Sid"])


@route("studio", "GET", "/v2/Flows/{FlowSid}/Executions/{ExecutionSid}/Context")
def fetch_execution_context(call: Call):
    """What the Execution's widgets read, `flow.data` (the Parameters) among it."""
    execution = _execution(call, call.params["ExecutionSid"])
    return 200, {
        "account_sid": execution["account_sid"],
        "context": execution["context"],
        "flow_sid": execution["flow_sid"],
        "execution_sid": execution["sid"],
        "url": execution["links"]["execution_context"],
    }


def _execution(call: Call, sid: str) -> dict:
    execution = call.emulator.table("studio_executions").get(sid)
    if execution is None or execution["flow_sid"] != call.params["FlowSid"]:
        raise not_found(call.path)
    return execution


def _moment(text: str | None) -> datetime | None:
    """A date-time filter as Twilio takes it (`2026-01-01T12:00:00Z`,
    or with an offset such as -05:00); None if absent."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TwilioError(400, 20001, f"Invalid date-time: {text}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _new_execution(emulator: AccountState, flow: dict, body: dict) -> dict:
    sid = emulator.new_sid("FN")
    url = f"{flow['url']}/Executions/{sid}"
    execution = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "flow_sid": flow["sid"],
        "contact_channel_address": body["To"],
        # What widgets read: {{flow.data.…}}, {{flow.channel.address}} (From), {{contact.channel.address}} (To).
        "context": {
            "flow": {
                "flow_sid": flow["sid"],
                "channel": {"address": body["From"]},
                "data": body.get("Parameters") or {},
            },
            "contact": {"channel": {"address": body["To"]}},
        },
        "status": "active",
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {"steps": f"{url}/Steps", "execution_context": f"{url}/Context"},
    }
    emulator.table("studio_executions")[sid] = execution
    return execution
