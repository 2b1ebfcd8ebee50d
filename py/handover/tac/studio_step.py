"""`handover tac studio`: `studio generate`, `validate` and `deploy` in one step, with TAC's number as `From`, and the
flow's SID written into TAC's .env."""

from __future__ import annotations

from pathlib import Path

from .. import contract
from ..outcomes import CREATED, UNCHANGED, UPDATED
from ..project import ENV_FILE, read_local
from ..studio import deploy as flow_deploy
from ..studio import render
from . import tac_env
from .requests import Line, StepFailed, StepResult, TacInputError, Write

STUDIO_FLOWS = "https://studio.twilio.com/v2/Flows"


def check_from(from_address: str | None) -> str:
    if not from_address:
        raise TacInputError(
            f"No From address: give --from-address +E.164, or --tac-env FILE with {tac_env.PHONE_NUMBER}."
        )
    if not contract.STUDIO_FROM.accepts(from_address):
        raise TacInputError(f"{from_address!r} is not {contract.STUDIO_FROM.expected}.")
    return from_address


def run(
    client, project_dir: Path, located, from_address: str, tac_file: Path | None, dry_run: bool = False
) -> StepResult:
    result = StepResult("studio", dry_run)
    env = read_local(project_dir / ENV_FILE)
    parameters = render.resolve(
        render.GivenParameters(None, None, None, None, None, render.HANG_UP), env, lambda: client
    )
    flow = render.definition(parameters)
    path = project_dir / render.FLOW_FILE
    text = render.file_text(flow)
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    file_action = UNCHANGED if current == text else (CREATED if current is None else UPDATED)
    if file_action != UNCHANGED and not dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result.lines.append(Line(render.FLOW_FILE, file_action, f"workflow {parameters.workflow_sid}"))
    try:
        deployed = flow_deploy.deploy(
            client, project_dir, flow, flow_deploy.DEFAULT_FRIENDLY_NAME, located, from_address, dry_run
        )
    except flow_deploy.DeployFailed as failure:
        result.writes += [Write(*w.split(" ", 1), None) for w in failure.deployment.writes]
        raise StepFailed(result, str(failure)) from failure
    if deployed.action != UNCHANGED:
        result.writes.append(_flow_write(deployed, flow))
    result.lines.append(
        Line(
            f"flow {deployed.flow_sid or '(new)'} {deployed.friendly_name!r}",
            deployed.action,
            "published, From " + from_address,
        )
    )
    if deployed.variables is not None:
        changed = [
            v.key
            for v in deployed.variables.variables
            if v.local not in (None, UNCHANGED) or v.remote not in (None, UNCHANGED)
        ]
        result.lines.append(
            Line("project variables", UPDATED if changed else UNCHANGED, ", ".join(changed) or "already set")
        )
    if tac_file is not None:
        thing = f"{tac_file}: {tac_env.FLOW_SID}"
        if deployed.flow_sid is None:
            result.lines.append(Line(thing, UPDATED, "once the flow exists"))
        elif dry_run:
            same = read_local(tac_file).get(tac_env.FLOW_SID) == deployed.flow_sid if tac_file.is_file() else False
            result.lines.append(Line(thing, UNCHANGED if same else UPDATED, deployed.flow_sid))
        else:
            changed = tac_env.set_line(tac_file, tac_env.FLOW_SID, deployed.flow_sid)
            result.lines.append(Line(thing, UPDATED if changed else UNCHANGED, deployed.flow_sid))
    else:
        result.notes.append(f"Put this line in TAC's .env: {tac_env.FLOW_SID}={deployed.flow_sid or '<the flow SID>'}")
    return result


def _flow_write(deployed: flow_deploy.FlowDeployment, flow: dict) -> Write:
    """The flow's create or update as `studio deploy` sends it (form parameters; the SDK sends Definition as JSON)."""
    body = {"Status": flow_deploy.PUBLISHED, "Definition": flow, "CommitMessage": flow_deploy.COMMIT_MESSAGE}
    if deployed.action == CREATED:
        return Write("POST", STUDIO_FLOWS, {"FriendlyName": deployed.friendly_name, **body})
    return Write("POST", f"{STUDIO_FLOWS}/{deployed.flow_sid}", body)
