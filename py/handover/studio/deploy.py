"""Validating the handoff flow with Studio, deploying it, and wiring its SID where it is read.

`deploy` writes only what differs: a new flow when none has the friendly name, an update when the
definition or status differs, nothing otherwise. Then it sets TWILIO_STUDIO_HANDOFF_FLOW_SID (and
STUDIO_FROM_ADDRESS when given) in .env and on the deployed Functions environment, through the same
code as `handover env set`. A failure part-way says what was applied; running again finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import contract
from ..account import variables
from ..account.deployment import Deployment
from ..account.sdk import TwilioFailure, listed
from ..errors import HandoverError, PartlyApplied
from ..outcomes import CREATED, UNCHANGED, UPDATED
from . import checks

DEFAULT_FRIENDLY_NAME = "Agent Handoff"
PUBLISHED = "published"
COMMIT_MESSAGE = "Deployed by handover studio deploy"
INVALID_DEFINITION = 81022
NOTHING_WRITTEN = "Nothing was written."


class FlowInvalid(HandoverError):
    """The flow failed the local checks or Studio's validation; nothing was written, and the message says so."""

    def __init__(self, problems: list[str], by: str):
        super().__init__(f"The flow failed {by}:\n" + "\n".join(f"  {p}" for p in problems) + f"\n{NOTHING_WRITTEN}")
        self.problems = problems
        self.by = by


class FlowNameAmbiguous(HandoverError):
    """Several flows have the name to deploy under; found before anything was written, and the message says so."""


def local_problems(flow: object) -> list[str]:
    return [str(problem) for problem in checks.problems(flow)]


def studio_problems(client, friendly_name: str, flow: dict) -> list[str]:
    """What Studio's `POST /v2/Flows/Validate` finds wrong; [] when Studio accepts the flow."""
    from twilio.base.exceptions import TwilioRestException

    try:
        client.studio.v2.flow_validate.update(friendly_name=friendly_name, status=PUBLISHED, definition=flow)
    except TwilioRestException as error:
        if error.status != 400:
            raise
        return _studio_errors(error)
    return []


def _studio_errors(error) -> list[str]:
    """Each failure Studio lists in its 81022 details, else its message."""
    details = error.details if isinstance(error.details, dict) else {}
    found = [item for item in details.get("errors") or [] if isinstance(item, dict)]
    if not found:
        return [TwilioFailure.of(error).twilio_error()]
    return [f"{item.get('property_path', '#')}: {item.get('message', '')}" for item in found]


def validate(client, friendly_name: str, flow: object) -> None:
    """The local checks, then (only when they pass) Studio's; FlowInvalid naming every problem."""
    problems = local_problems(flow)
    if problems:
        raise FlowInvalid(problems, "the local checks")
    problems = studio_problems(client, friendly_name, flow)
    if problems:
        raise FlowInvalid(problems, "Studio's validation (POST /v2/Flows/Validate)")


@dataclass
class FlowDeployment:
    friendly_name: str
    action: str  # created, updated or unchanged (in a dry run: what would be done)
    flow_sid: str | None  # None only for a dry run that would create the flow
    revision: int | None
    dry_run: bool
    writes: list[str] = field(default_factory=list)
    variables: object = None  # the EnvSetResult of wiring the SID, once it ran

    def tac_line(self) -> str | None:
        return f"{contract.STUDIO_FLOW.name}={self.flow_sid}" if self.flow_sid else None

    def as_json(self) -> dict:
        return {
            "friendly_name": self.friendly_name,
            "action": self.action,
            "flow_sid": self.flow_sid,
            "revision": self.revision,
            "dry_run": self.dry_run,
            "writes": self.writes,
            "tac_env_line": self.tac_line(),
            "variables": None if self.variables is None else self.variables.as_json(),
        }


class DeployFailed(PartlyApplied):
    """A write failed part-way; `deployment` says what was applied before it."""

    def __init__(self, deployment: FlowDeployment, why: str):
        applied = ", ".join(deployment.writes) or "nothing"
        super().__init__(
            f"{why}. Applied before the failure: {applied}. Run the "
            "command again; it writes only what is still missing."
        )
        self.deployment = deployment


def find_flow(client, friendly_name: str):
    """The account's flow of that friendly name, or None; FlowNameAmbiguous when several have it.

    `deploy` looks it up before it writes anything, so the error says nothing was written.
    """
    matching = [flow for flow in listed(client.studio.v2.flows) if flow.friendly_name == friendly_name]
    if len(matching) > 1:
        raise FlowNameAmbiguous(
            f"{len(matching)} Studio flows are named {friendly_name!r} ({', '.join(f.sid for f in matching)}). "
            "Rename or delete the extra ones in Console > Studio, or deploy under another "
            f"--friendly-name.\n{NOTHING_WRITTEN}"
        )
    return matching[0] if matching else None


def deploy(
    client,
    project_dir: Path,
    flow: dict,
    friendly_name: str,
    located: Deployment | None,
    from_address: str | None = None,
    dry_run: bool = False,
) -> FlowDeployment:
    """Validate, create or update the flow where it differs, then wire its SID (see the module docstring)."""
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    validate(client, friendly_name, flow)
    existing = find_flow(client, friendly_name)
    if existing is None:
        result = FlowDeployment(friendly_name, CREATED, None, None, dry_run)
    else:
        current = client.studio.v2.flows(existing.sid).fetch()
        same = current.definition == flow and current.status == PUBLISHED
        result = FlowDeployment(friendly_name, UNCHANGED if same else UPDATED, current.sid, current.revision, dry_run)
    if not dry_run and result.action != UNCHANGED:
        try:
            if result.action == CREATED:
                written = client.studio.v2.flows.create(
                    friendly_name=friendly_name, status=PUBLISHED, definition=flow, commit_message=COMMIT_MESSAGE
                )
                result.writes.append("POST /v2/Flows")
            else:
                written = client.studio.v2.flows(result.flow_sid).update(
                    status=PUBLISHED, definition=flow, commit_message=COMMIT_MESSAGE
                )
                result.writes.append(f"POST /v2/Flows/{result.flow_sid}")
        except (TwilioRestException, RequestException) as error:
            why = TwilioFailure.of(error).in_sentence()
            raise DeployFailed(
                result, f"{'Creating' if result.action == CREATED else 'Updating'} the flow failed: {why}"
            ) from error
        result.flow_sid, result.revision = written.sid, written.revision
    if result.flow_sid is None:
        return result  # a dry run of a new flow: there is no SID to wire yet
    values = {contract.STUDIO_FLOW.name: result.flow_sid}
    if from_address:
        values[contract.STUDIO_FROM.name] = from_address
    try:
        result.variables = variables.set_variables(client, project_dir, values, located, dry_run=dry_run)
    except variables.EnvSetFailed as failure:
        result.variables = failure.result
        raise DeployFailed(
            result,
            f"The flow is {result.action} ({result.flow_sid}), but wiring its SID stopped: {failure.result.error}",
        ) from failure
    return result
