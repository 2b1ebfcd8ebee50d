"""`handover tac summaries`: an Intelligence v3 configuration with two rules using Twilio's Summary operator (looked
up, never hard-coded), on CONVERSATION_END and CONVERSATION_INACTIVE, no webhook and no context, found again by its
display name; then attached to the Orchestrator configuration (`intelligenceConfigurationIds`, at most 5)."""

from __future__ import annotations

from ..errors import HandoverError
from ..outcomes import CREATED, UNCHANGED, UPDATED
from . import orchestrator
from .requests import INTELLIGENCE, Line, StepFailed, StepResult, Write, listed, request

DISPLAY_NAME = "Handover virtual agent summaries"
DESCRIPTION = "Summaries of the virtual agent's conversation for the Flex agent (handover tac summaries)."
SUMMARY_OPERATOR = "Summary"
TRIGGERS = ("CONVERSATION_END", "CONVERSATION_INACTIVE")
MAX_ATTACHED = 5
NEW_ID = "<the new configuration's id>"


class NoSummaryOperator(HandoverError):
    """The account lists no Summary operator authored by Twilio."""


class TooManyConfigurations(HandoverError):
    """The Orchestrator configuration has 5 intelligence configurations already."""


def summary_operator(client) -> dict:
    operators = listed(client, f"{INTELLIGENCE}/Operators", "items")
    found = [o for o in operators if o.get("displayName") == SUMMARY_OPERATOR and o.get("author") == "TWILIO"]
    if not found:
        raise NoSummaryOperator(
            "GET /v3/ControlPlane/Operators lists no Summary operator by Twilio: is Conversation Intelligence "
            "enabled for this account?"
        )
    return found[0]


def wanted_rules(operator_id: str) -> list[dict]:
    return [{"operators": [{"id": operator_id}], "triggers": [{"on": on}], "actions": []} for on in TRIGGERS]


def has_summary_rules(configuration: dict, operator_id: str) -> bool:
    """Both rules are there: the Summary operator alone, each trigger, no action, no context."""
    shapes = {
        (tuple(o.get("id") for o in r.get("operators") or []), tuple(t.get("on") for t in r.get("triggers") or []))
        for r in configuration.get("rules") or []
        if not r.get("actions") and not r.get("context")
    }
    return all(((operator_id,), (on,)) in shapes for on in TRIGGERS)


def find(client) -> list[dict]:
    return [
        c for c in listed(client, f"{INTELLIGENCE}/Configurations", "items") if c.get("displayName") == DISPLAY_NAME
    ]


def run(client, configuration_id: str, dry_run: bool = False, wait: float = orchestrator.DEFAULT_WAIT) -> StepResult:
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    from ..account.sdk import TwilioFailure

    result = StepResult("summaries", dry_run)
    operator = summary_operator(client)
    orchestration = orchestrator.fetch(client, configuration_id)
    attached = list(orchestration.get("intelligenceConfigurationIds") or [])
    found = find(client)
    # One already attached wins over another of the same name.
    found.sort(key=lambda c: c["id"] not in attached)
    existing = found[0] if found else None
    body = {"displayName": DISPLAY_NAME, "description": DESCRIPTION, "rules": wanted_rules(operator["id"])}
    if existing is None:
        write, action = Write("POST", f"{INTELLIGENCE}/Configurations", body), CREATED
    elif not has_summary_rules(existing, operator["id"]):
        write, action = Write("PUT", f"{INTELLIGENCE}/Configurations/{existing['id']}", body), UPDATED
    else:
        write, action = None, UNCHANGED
    intelligence_id = existing["id"] if existing else None
    if intelligence_id not in attached and len(attached) >= MAX_ATTACHED:
        raise TooManyConfigurations(
            f"Orchestrator configuration {configuration_id} has {len(attached)} intelligence configurations, the "
            f"most it takes ({', '.join(attached)}): remove one of them (Console > Conversation Orchestrator, or "
            "PATCH intelligenceConfigurationIds), then run again. Nothing was written."
        )
    detail = f"{SUMMARY_OPERATOR} operator {operator['id']} on {' and '.join(TRIGGERS)}, no webhook, no context"
    result.lines.append(
        Line(f"intelligence configuration {intelligence_id or '(new)'} {DISPLAY_NAME!r}", action, detail)
    )
    if write is not None:
        if dry_run:
            result.writes.append(write)
        else:
            try:
                _, _, answer = request(client, write.method, write.url, write.body)
            except (TwilioRestException, RequestException) as error:
                raise StepFailed(
                    result, f"{write.method} {write.url} failed: {TwilioFailure.of(error).in_sentence()}"
                ) from error
            result.writes.append(write)
            intelligence_id = answer["id"]
    if intelligence_id in attached:
        result.lines.append(
            Line(f"attached to {configuration_id}", UNCHANGED, f"intelligenceConfigurationIds {attached}")
        )
        return result
    ids = attached + [intelligence_id or NEW_ID]
    result.lines.append(Line(f"attached to {configuration_id}", UPDATED, f"intelligenceConfigurationIds → {ids}"))
    orchestrator.write(
        client,
        result,
        "PATCH",
        orchestrator.configuration_url(configuration_id),
        {"intelligenceConfigurationIds": ids},
        wait,
    )
    return result
