"""The Studio handoff flow's definition, rendered from templates/agent-handoff.json.j2 beside this module.

Its parameters come from the command's options, else from .env (what `handover env set` wrote): the
workflow, the task channels (names are looked up in the workspace, since Send to Flex takes TC SIDs),
the static task attributes, and what a call that ends without handoff data gets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from .. import contract, templating
from ..account.sdk import listed
from ..errors import HandoverError, InputError
from .checks import MAX_ATTRIBUTES, repeated_key

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE = "agent-handoff.json.j2"
# How the flow's description names its template: from the repository's root.
TEMPLATE_SOURCE = f"py/handover/studio/templates/{TEMPLATE}"
FLOW_FILE = "studio/agent-handoff.json"
COMMAND = "handover studio generate"
# Where Conversation Orchestrator answers the flow's reads of TAC's conversation.
ORCHESTRATOR_URL = "https://conversations.twilio.com"
HANG_UP, TO_FLEX = "hangup", "flex"
CALL_WITHOUT_HANDOFF = (HANG_UP, TO_FLEX)
DEFAULT_VOICE_CHANNEL = "voice"
CALL_FAILED_MESSAGE = "Sorry, we could not connect you to a member of our team. Please call again later."
MESSAGING_FAILED_MESSAGE = (
    "Sorry, we could not reach a member of our team just now. Please write to us again in a few minutes."
)
# Standard Liquid filters that make any text safe inside a JSON string, whatever Studio's `to_json` does with a
# string (it is documented for objects): percent-encode it, turn the encoded tab, line feed and carriage return into
# spaces and every other control character into printable punctuation (%0X and %1X become %2X), a double quote into
# an apostrophe and a backslash into a slash, then decode. No Liquid literal holds a backslash, since Liquid
# implementations disagree on escapes inside string literals.
JSON_TEXT_FILTERS = (
    "url_encode",
    "replace: '%09', '%20'",
    "replace: '%0A', '%20'",
    "replace: '%0D', '%20'",
    "replace: '%0', '%2'",
    "replace: '%1', '%2'",
    "replace: '%22', '%27'",
    "replace: '%5C', '%2F'",
    "url_decode",
)


def json_text(variable: str, expression: str) -> str:
    """A Liquid tag assigning `expression`, made safe inside a JSON string, to `variable`."""
    return f"{{% assign {variable} = {expression} | {' | '.join(JSON_TEXT_FILTERS)} %}}"


@dataclass(frozen=True)
class FlowParameters:
    workflow_sid: str
    messaging_channel_sid: str
    voice_channel_sid: str
    static_attributes: dict = field(default_factory=dict)
    call_without_handoff: str = HANG_UP

    def as_json(self) -> dict:
        return {
            "workflow_sid": self.workflow_sid,
            "messaging_channel_sid": self.messaging_channel_sid,
            "voice_channel_sid": self.voice_channel_sid,
            "static_attributes": self.static_attributes,
            "call_without_handoff": self.call_without_handoff,
        }


class FlowFileInvalid(HandoverError):
    """The flow file is missing or not JSON; the message says what to run."""


class ParametersInvalid(InputError):
    """A parameter is missing or malformed; the message says which and how to give it."""


def definition(parameters: FlowParameters) -> dict:
    """The flow definition (Studio v2 JSON) for these parameters.

    ParametersInvalid when a static attribute is one the flow sets itself, or when the static attributes make a Send
    to Flex widget's attributes longer than Send to Flex takes.
    """
    flow = _rendered(parameters)
    for state in flow["states"]:
        taken = repeated_key(state["properties"]["attributes"]) if state["type"] == "send-to-flex" else None
        if taken is not None:
            raise ParametersInvalid(
                f"The flow sets the task attribute {taken!r} itself; give your static attribute another name."
            )
    too_long = [(name, length) for name, length in _attribute_lengths(flow).items() if length > MAX_ATTRIBUTES]
    if too_long:
        own = _attribute_lengths(_rendered(replace(parameters, static_attributes={})))
        name, length = too_long[0]
        raise ParametersInvalid(
            f"The static attributes make the {name} widget's attributes {length} characters (Liquid included); Send "
            f"to Flex takes at most {MAX_ATTRIBUTES}. The flow's own take {own[name]}: shorten the static attributes "
            f"(--attributes, or {contract.ATTRIBUTES.name} in .env) by {length - MAX_ATTRIBUTES} characters or more."
        )
    return flow


def _attribute_lengths(flow: dict) -> dict[str, int]:
    """Send to Flex widget name → the length of its attributes property (Liquid included)."""
    return {
        state["name"]: len(state["properties"]["attributes"])
        for state in flow["states"]
        if state["type"] == "send-to-flex"
    }


def _rendered(parameters: FlowParameters) -> dict:
    text = templating.render(
        TEMPLATES_DIR,
        TEMPLATE,
        description=(
            f"Twilio Agent Connect handoff to Flex. Generated by `{COMMAND}` from {TEMPLATE_SOURCE}: "
            f"change the template or the options and run `{COMMAND}`, then `handover studio deploy`."
        ),
        workflow_sid=parameters.workflow_sid,
        messaging_channel_sid=parameters.messaging_channel_sid,
        voice_channel_sid=parameters.voice_channel_sid,
        static_attributes=parameters.static_attributes,
        call_without_handoff=parameters.call_without_handoff,
        orchestrator_url=ORCHESTRATOR_URL,
        call_failed_message=CALL_FAILED_MESSAGE,
        messaging_failed_message=MESSAGING_FAILED_MESSAGE,
        json_text=json_text,
    )
    return json.loads(text)


def file_text(flow: dict) -> str:
    """The flow as the file holds it: one canonical JSON text, so that --check compares like with like."""
    return json.dumps(flow, indent=2, ensure_ascii=False) + "\n"


def read_flow(path: Path) -> dict:
    """The flow definition a file holds; FlowFileInvalid when there is none or it is not JSON."""
    if not path.is_file():
        raise FlowFileInvalid(f"{path} does not exist. Run `{COMMAND}` first.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise FlowFileInvalid(f"{path} is not JSON ({error}). Run `{COMMAND}` to write it again.") from error


# Parameters ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GivenParameters:
    """What the options say; None: take it from .env, else its default."""

    workspace_sid: str | None = None
    workflow_sid: str | None = None
    task_channel: str | None = None  # the messaging task channel: a unique name or a TC SID
    voice_task_channel: str | None = None
    attributes: str | None = None  # a JSON object
    call_without_handoff: str = HANG_UP


def _channels(given: GivenParameters, env: dict) -> tuple[str, str]:
    messaging = given.task_channel or env.get(contract.TASK_CHANNEL.name) or contract.TASK_CHANNEL.default
    return messaging, given.voice_task_channel or DEFAULT_VOICE_CHANNEL


def resolve(given: GivenParameters, env: dict, open_client) -> FlowParameters:
    """The flow's parameters: options first, then .env; channel names looked up in the workspace.

    Everything that can be checked without Twilio is checked first; `open_client()` is called (for
    the credentials and the client) only when a task channel is given by name.
    """
    workflow_sid = given.workflow_sid or env.get(contract.WORKFLOW.name)
    if not workflow_sid:
        raise ParametersInvalid(
            f"No workflow: pass --workflow-sid WW…, or set {contract.WORKFLOW.name} with "
            f"`{contract.SET_VARIABLE_COMMAND}`."
        )
    if not contract.WORKFLOW.accepts(workflow_sid):
        raise ParametersInvalid(f"The workflow {workflow_sid!r} is not {contract.WORKFLOW.expected}.")
    attributes = _static_attributes(given.attributes, env.get(contract.ATTRIBUTES.name))
    if given.call_without_handoff not in CALL_WITHOUT_HANDOFF:
        raise ParametersInvalid(f"--call-without-handoff must be one of {', '.join(CALL_WITHOUT_HANDOFF)}.")
    messaging, voice = _channels(given, env)
    workspace_sid = given.workspace_sid or env.get(contract.WORKSPACE.name)
    channel_sids = {}
    for name in (messaging, voice):
        if contract.is_sid("TC", name):
            channel_sids[name] = name
        elif not contract.TASK_CHANNEL.accepts(name):
            raise ParametersInvalid(
                f"The task channel {name!r} is neither a TC SID nor {contract.TASK_CHANNEL.expected}."
            )
    if len(channel_sids) < len({messaging, voice}):
        if not workspace_sid or not contract.WORKSPACE.accepts(workspace_sid):
            raise ParametersInvalid(
                "Send to Flex takes task channel SIDs: pass --workspace-sid WS… (or set "
                f"{contract.WORKSPACE.name} in .env) to look the names up, or give TC SIDs."
            )
        channel_sids.update(task_channel_sids(open_client(), workspace_sid, {messaging, voice} - set(channel_sids)))
    return FlowParameters(
        workflow_sid, channel_sids[messaging], channel_sids[voice], attributes, given.call_without_handoff
    )


def _static_attributes(given: str | None, from_env: str | None) -> dict:
    text, source = (given, "--attributes") if given is not None else (from_env, f"{contract.ATTRIBUTES.name} in .env")
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError as error:
        raise ParametersInvalid(
            f'{source} is not JSON ({error}); give a JSON object such as {{"department":"support"}}.'
        ) from error
    if not isinstance(value, dict):
        raise ParametersInvalid(
            f'{source} must be a JSON object such as {{"department":"support"}}, not {type(value).__name__}.'
        )
    return value


def task_channel_sids(client, workspace_sid: str, names: set[str]) -> dict[str, str]:
    """unique name → TC SID in the workspace; ParametersInvalid naming the channels there when one is missing."""
    channels = {
        channel.unique_name: channel.sid
        for channel in listed(client.taskrouter.v1.workspaces(workspace_sid).task_channels)
    }
    missing = sorted(names - set(channels))
    if missing:
        raise ParametersInvalid(
            f"Workspace {workspace_sid} has no task channel {', '.join(map(repr, missing))} (it has: "
            f"{', '.join(sorted(channels)) or 'none'}). "
            "Pass --task-channel / --voice-task-channel with one of "
            "those, or create it in Console > TaskRouter > Task Channels."
        )
    return {name: channels[name] for name in names}
