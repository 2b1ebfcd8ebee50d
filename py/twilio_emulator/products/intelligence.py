"""Conversation Intelligence v3 (`intelligence.twilio.com/v3/ControlPlane`): configurations and Language Operators.

Described by twilio_intelligence_v3.json and checked against it.

**Configurations**: list, create (201), fetch, PUT (200: the whole configuration; a rule given with the `id` of one
of its rules keeps that id, one without gets a new id) and DELETE (204). Each write raises `version` by one. A rule's
operators must be operators of the account (a given `version` one of theirs), a rule id given on PUT one of the
configuration's; the rest is the schema's (at most 5 rules, 1-5 operators, at most 1 trigger and 2 actions). A rule
answers `triggers` and `actions` as `[]` when none were given and `context` only when one was. Display names need
not be unique.

**Operators**: list and fetch (ETag: the version). Every account has Twilio's operators, `author` TWILIO, without
their prompt and training examples as the description says: Summary (TEXT) and Sentiment Analysis
(CLASSIFICATION). Their ids are TTIDs made from the account SID, so they are the same on every read of an account
but differ between accounts (a client must look them up, not hard-code them).

**Errors** are answered in this API's own shape, `{code, message, httpStatusCode, userError, params}` (required by
the description), with `userError` true for a 4xx and `params.twilioErrorCodeUrl` the code's page.
"""

from __future__ import annotations

import copy
import hashlib

from ..errors import TwilioError, not_found
from ..formats import iso, new_ttid, ttid
from ..responses import token_page
from ..routes import Call, error_style, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "intelligence_configurations")

# Twilio's operators: display name → (description, output format, version).
TWILIO_OPERATORS = {
    "Summary": ("Summarizes the conversation for the human agent who takes it over.", "TEXT", 1),
    "Sentiment Analysis": ("Analyzes the customer's sentiment throughout the conversation.", "CLASSIFICATION", 1),
}


@error_style("intelligence", "/v3/")
def intelligence_error(body: dict) -> dict:
    """Twilio's usual error body in the shape Intelligence v3 describes."""
    return {
        "code": body["code"],
        "message": body["message"],
        "httpStatusCode": body["status"],
        "userError": body["status"] < 500,
        "params": {"twilioErrorCodeUrl": body["more_info"]},
    }


# Operators ---------------------------------------------------------------------------------------------------


def twilio_operators(emulator: AccountState) -> list[dict]:
    """Twilio's operators as the account sees them."""
    operators = []
    for name, (description, output_format, version) in TWILIO_OPERATORS.items():
        digest = hashlib.sha256(f"{emulator.account.sid}/operator/{name}".encode()).hexdigest()
        operators.append(
            {
                "id": ttid("intelligence_operator", int(digest[:32], 16)),
                "displayName": name,
                "description": description,
                "version": version,
                "author": "TWILIO",
                "outputFormat": output_format,
                "context": {"memory": {"enabled": False}, "knowledge": {"enabled": False}},
                "parameters": {},
            }
        )
    return operators


def summary_operator(emulator: AccountState) -> dict:
    """Twilio's Summary operator of the account."""
    return next(operator for operator in twilio_operators(emulator) if operator["displayName"] == "Summary")


def _operators(emulator: AccountState) -> dict[str, dict]:
    """The operators the account can use, by id: Twilio's (creating the account's own is not emulated)."""
    return {operator["id"]: operator for operator in twilio_operators(emulator)}


# Configurations ----------------------------------------------------------------------------------------------


def add_intelligence_configuration(
    emulator: AccountState, display_name: str, rules: list[dict], description: str | None = None
) -> dict:
    """A configuration as `POST /v3/ControlPlane/Configurations` creates it (its rules as a request gives them)."""
    with emulator.lock:
        body = {"displayName": display_name, "rules": rules, **({"description": description} if description else {})}
        return copy.deepcopy(_create(emulator, body))


def _create(emulator: AccountState, body: dict) -> dict:
    now = iso(emulator.now())
    configuration = {
        "accountId": emulator.account.sid,
        "id": new_ttid(emulator, "intelligence_configuration"),
        "displayName": body["displayName"],
        **({"description": body["description"]} if "description" in body else {}),
        "version": 1,
        "rules": _rules(emulator, body["rules"], {}),
        "dateCreated": now,
        "dateUpdated": now,
    }
    emulator.table("intelligence_configurations")[configuration["id"]] = configuration
    return configuration


def _rules(emulator: AccountState, requested: list[dict], existing: dict[str, dict]) -> list[dict]:
    """The rules a request gives, checked, with their ids: kept for a rule of `existing` named by id, else new."""
    operators = _operators(emulator)
    rules = []
    for index, rule in enumerate(requested):
        for operator in rule["operators"]:
            known = operators.get(operator["id"])
            if known is None:
                raise TwilioError(400, 20001, f"rules[{index}]: unknown operator {operator['id']}")
            if "version" in operator and not 1 <= operator["version"] <= known["version"]:
                raise TwilioError(
                    400, 20001, f"rules[{index}]: operator {operator['id']} has no version {operator['version']}"
                )
        if "id" in rule and rule["id"] not in existing:
            raise TwilioError(400, 20001, f"rules[{index}]: the configuration has no rule {rule['id']}")
        rules.append(
            {
                "id": rule.get("id") or new_ttid(emulator, "intelligence_configurationrule"),
                "operators": copy.deepcopy(rule["operators"]),
                "triggers": copy.deepcopy(rule.get("triggers", [])),
                "actions": copy.deepcopy(rule["actions"]),
                **({"context": copy.deepcopy(rule["context"])} if "context" in rule else {}),
            }
        )
    return rules


def _configuration(call: Call) -> dict:
    configuration = call.emulator.table("intelligence_configurations").get(call.params["id"])
    if configuration is None:
        raise not_found(call.path)
    return configuration


# Routes ------------------------------------------------------------------------------------------------------


@route("intelligence", "GET", "/v3/ControlPlane/Configurations")
def list_configurations(call: Call):
    return token_page(call, "items", list(call.emulator.table("intelligence_configurations").values()))


@route("intelligence", "POST", "/v3/ControlPlane/Configurations")
def create_configuration(call: Call):
    return 201, _create(call.emulator, call.body)


@route("intelligence", "GET", "/v3/ControlPlane/Configurations/{id}")
def fetch_configuration(call: Call):
    return 200, _configuration(call)


@route("intelligence", "PUT", "/v3/ControlPlane/Configurations/{id}")
def update_configuration(call: Call):
    """The whole configuration is replaced: a description left out is removed."""
    configuration, body = _configuration(call), call.body
    rules = _rules(call.emulator, body["rules"], {rule["id"]: rule for rule in configuration["rules"]})
    configuration.pop("description", None)
    configuration.update(
        displayName=body["displayName"],
        **({"description": body["description"]} if "description" in body else {}),
        rules=rules,
        version=configuration["version"] + 1,
        dateUpdated=iso(call.emulator.now()),
    )
    return 200, configuration


@route("intelligence", "DELETE", "/v3/ControlPlane/Configurations/{id}")
def delete_configuration(call: Call):
    del call.emulator.table("intelligence_configurations")[_configuration(call)["id"]]
    return 204, None


@route("intelligence", "GET", "/v3/ControlPlane/Operators")
def list_operators(call: Call):
    return token_page(call, "items", list(_operators(call.emulator).values()))


@route("intelligence", "GET", "/v3/ControlPlane/Operators/{id}")
def fetch_operator(call: Call):
    operator = _operators(call.emulator).get(call.params["id"])
    if operator is None:
        raise not_found(call.path)
    call.response_headers["ETag"] = str(operator["version"])
    return 200, operator
