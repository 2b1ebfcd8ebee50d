"""Run a Studio flow definition against the emulator the way Studio runs it, for the widgets of the handoff flow.

Liquid is python-liquid with Studio's `to_json` filter (in either reading of it on a string: LIQUID, the default,
or LIQUID_STRINGS_AS_IS); a variable that is not there prints as nothing, as in Studio. What the widgets ask of
Twilio goes to the emulator: make-http-request through `Emulator.handle`, the proxy's path (with the account's
credentials when add_twilio_auth is set); resume-conversation against its Conversations (Classic) conversations;
send-to-flex against its TaskRouter workflows and task channels. After a resumed conversation, Send to Flex does
what Studio's does for a conversation: a Flex interaction on it, whose task (task.created) carries the widget's
attributes with Flex's keys beside them (`flex.open_interaction`), its channel type assumed from the contact's
address (`whatsapp:…` whatsapp, `+…` sms, else web), which Studio does not document; a call's Send to Flex is
recorded only (no voice is emulated here). Messages sent and said are recorded, not delivered.
A widget type or property the runner does not know is an error rather than a guess.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from liquid import Environment
from liquid.exceptions import LiquidError

from .faults import DroppedConnection
from .pipeline import Emulator
from .products import flex
from .routes import TWILIO_DOMAIN

MAX_STEPS = 100  # the handoff flow takes at most 8; more means the flow loops
LAYOUT = {"offset"}  # where the widget sits on Studio's canvas: nothing to run
# Widget type → the properties the runner honours.
PROPERTIES = {
    "trigger": set(),
    "split-based-on": {"input"},
    "set-variables": {"variables"},
    # Without a body (the handoff flow's reads send none) content_type describes nothing.
    "make-http-request": {"method", "url", "content_type", "add_twilio_auth"},
    "resume-conversation": {"conversation_sid", "conversation_service_sid"},
    "send-to-flex": {"workflow", "channel", "attributes", "priority", "timeout"},
    "send-message": {"body", "from", "to"},
    "say-play": {"say", "loop"},
}


def _to_json(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _liquid(to_json) -> Environment:
    environment = Environment()
    environment.filters["to_json"] = to_json
    return environment


# Studio documents `to_json` for objects only. The runner's default reading quotes a string as JSON too; the other
# prints a string as it is. A flow whose attributes are JSON under both does not depend on which Studio does.
LIQUID = _liquid(_to_json)
LIQUID_STRINGS_AS_IS = _liquid(lambda value: value if isinstance(value, str) else _to_json(value))


class FlowRunError(Exception):
    """The flow cannot be run here: a widget or property the runner does not know, broken Liquid, or a loop."""


@dataclass(frozen=True)
class Step:
    name: str
    type: str
    event: str  # the transition the widget took


@dataclass(frozen=True)
class HttpExchange:
    method: str
    url: str
    status_code: int | None  # None: the connection was dropped
    response: object


@dataclass(frozen=True)
class ResumedConversation:
    conversation_sid: str
    service_sid: str


@dataclass(frozen=True)
class FlexHandoff:
    """What a Send to Flex widget enqueued."""

    widget: str
    workflow_sid: str
    channel_sid: str
    attributes: dict
    priority: str | None
    timeout: str | None


@dataclass(frozen=True)
class SentMessage:
    from_: str
    to: str
    body: str


@dataclass
class FlowRun:
    """What one run did, in order."""

    steps: list[Step] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    http_requests: list[HttpExchange] = field(default_factory=list)
    resumed: ResumedConversation | None = None
    flex: FlexHandoff | None = None
    task_sid: str | None = None  # the task Send to Flex made for a resumed conversation
    messages: list[SentMessage] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        """The names of the states taken, the trigger first."""
        return [step.name for step in self.steps]


def run_rest(
    emulator: Emulator, flow: dict, to: str, from_: str, parameters: dict, liquid: Environment = LIQUID
) -> FlowRun:
    """A REST API execution (incomingRequest): Parameters as `flow.data`,
    To as `contact.channel.address`, From as `flow.channel.address`. `liquid`: LIQUID or LIQUID_STRINGS_AS_IS."""
    context = {"flow": {"data": parameters, "channel": {"address": from_}}, "contact": {"channel": {"address": to}}}
    return _Run(emulator, flow, context, liquid).run("incomingRequest")


def run_call(emulator: Emulator, flow: dict, call_parameters: dict[str, str], liquid: Environment = LIQUID) -> FlowRun:
    """An incoming call (incomingCall): the webhook's parameters as `trigger.call`; the caller is the contact.
    `liquid`: LIQUID or LIQUID_STRINGS_AS_IS."""
    context = {
        "trigger": {"call": dict(call_parameters)},
        "flow": {"data": {}, "channel": {"address": call_parameters.get("To", "")}},
        "contact": {"channel": {"address": call_parameters.get("From", "")}},
    }
    return _Run(emulator, flow, context, liquid).run("incomingCall")


def run_execution(emulator: Emulator, execution: dict) -> FlowRun:
    """An Execution the emulator recorded (see `studio_executions`), run through its flow's stored definition."""
    with emulator.lock:
        flow = emulator.table("studio_flows")[execution["flow_sid"]]["definition"]
    context = execution["context"]
    return run_rest(
        emulator,
        flow,
        context["contact"]["channel"]["address"],
        context["flow"]["channel"]["address"],
        context["flow"]["data"],
    )


class _Run:
    def __init__(self, emulator: Emulator, flow: dict, context: dict, liquid: Environment):
        self.emulator = emulator
        self.liquid = liquid
        self.flow = flow
        self.states = {state["name"]: state for state in flow["states"]}
        self.result = FlowRun()
        self.context = {**context, "flow": {**context["flow"], "variables": self.result.variables}, "widgets": {}}

    def run(self, trigger_event: str) -> FlowRun:
        name: str | None = self.flow["initial_state"]
        for _ in range(MAX_STEPS):
            state = self.states[name]
            _check_properties(state)
            transition = _transition(state, trigger_event) if state["type"] == "trigger" else self._widget(state)
            self.result.steps.append(Step(name, state["type"], transition["event"]))
            name = transition.get("next")
            if name is None:
                return self.result
        raise FlowRunError(f"the flow took more than {MAX_STEPS} steps without ending: it loops")

    def _widget(self, state: dict) -> dict:
        kind = state["type"].replace("-", "_")
        return getattr(self, f"_{kind}")(state, state["properties"])

    def _render(self, state: dict, name: str, template: str) -> str:
        try:
            return self.liquid.from_string(template).render(**self.context)
        except LiquidError as error:
            raise FlowRunError(f"{state['name']}.{name}: {error}") from error

    # Widgets: each answers the transition it takes.

    def _split_based_on(self, state: dict, properties: dict) -> dict:
        for transition in state["transitions"]:
            conditions = transition.get("conditions") or []
            if transition["event"] == "match" and all(self._holds(state, condition) for condition in conditions):
                return transition
        return _transition(state, "noMatch")

    def _holds(self, state: dict, condition: dict) -> bool:
        # Studio's conditions ignore case and trim the values' leading and trailing spaces (its Split Based On...
        # documentation).
        value = self._render(state, "conditions", condition["arguments"][0]).strip().casefold()
        if condition["type"] == "is_not_blank":
            return value != ""
        if condition["type"] == "equal_to":
            return value == condition["value"].strip().casefold()
        raise FlowRunError(f"{state['name']}: the runner does not know the condition type {condition['type']!r}")

    def _set_variables(self, state: dict, properties: dict) -> dict:
        for variable in properties["variables"]:
            self.result.variables[variable["key"]] = self._render(state, variable["key"], variable["value"])
        return _transition(state, "next")

    def _make_http_request(self, state: dict, properties: dict) -> dict:
        method, url = properties["method"], self._render(state, "url", properties["url"])
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname or not parts.hostname.endswith("." + TWILIO_DOMAIN):
            raise FlowRunError(f"{state['name']}: the runner reaches only Twilio (the emulator), not {url}")
        headers = {}
        if properties.get("add_twilio_auth"):
            account = self.emulator.account
            headers["authorization"] = (
                "Basic " + base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
            )
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            status, response = self.emulator.handle(method, parts.hostname, target, headers, b"")
        except DroppedConnection:
            status, response = None, None
        self.result.http_requests.append(HttpExchange(method, url, status, response))
        widget = {"status_code": status, "body": "" if response is None else json.dumps(response)}
        if response is not None:
            widget.update(content_type="application/json", parsed=response)
        self.context["widgets"][state["name"]] = widget
        return _transition(state, "success" if status is not None and 200 <= status < 300 else "failed")

    def _resume_conversation(self, state: dict, properties: dict) -> dict:
        conversation_sid = self._render(state, "conversation_sid", properties["conversation_sid"])
        service_sid = self._render(state, "conversation_service_sid", properties["conversation_service_sid"])
        with self.emulator.lock:
            conversation = self.emulator.table("conversations").get(conversation_sid)
        if conversation is None or conversation["chat_service_sid"] != service_sid:
            return _transition(state, "failed")
        self.result.resumed = ResumedConversation(conversation_sid, service_sid)
        return _transition(state, "resumed")

    def _send_to_flex(self, state: dict, properties: dict) -> dict:
        """Enqueued when the attributes are a JSON object and the workflow and task channel share a workspace; the run
        ends as the contact goes to Flex."""
        workflow_sid = self._render(state, "workflow", properties["workflow"])
        channel_sid = self._render(state, "channel", properties["channel"])
        try:
            attributes = json.loads(self._render(state, "attributes", properties["attributes"]))
        except ValueError:
            return _transition(state, "failedToEnqueue")
        with self.emulator.lock:
            workflow = self.emulator.table("workflows").get(workflow_sid)
            channel = self.emulator.table("task_channels").get(channel_sid)
        if (
            not isinstance(attributes, dict)
            or workflow is None
            or channel is None
            or channel["workspace_sid"] != workflow["workspace_sid"]
        ):
            return _transition(state, "failedToEnqueue")
        self.result.flex = FlexHandoff(
            state["name"], workflow_sid, channel_sid, attributes, properties.get("priority"), properties.get("timeout")
        )
        if self.result.resumed is not None:
            self.result.task_sid = self._open_interaction(workflow, channel, attributes)
        return _transition(state, "callComplete")

    def _open_interaction(self, workflow: dict, channel: dict, attributes: dict) -> str:
        """The Flex interaction of the resumed conversation, as Send to Flex makes it; its task's SID."""
        address = self.context["contact"]["channel"]["address"]
        channel_type = "whatsapp" if address.startswith("whatsapp:") else "sms" if address.startswith("+") else "web"
        with self.emulator.lock:
            interaction = flex.open_interaction(
                self.emulator,
                channel_type,
                "customer",
                self.result.resumed.conversation_sid,
                workflow,
                channel,
                attributes,
            )
        return interaction["routing"]["properties"]["sid"]

    def _send_message(self, state: dict, properties: dict) -> dict:
        # Studio's defaults: from the flow's address, to the contact's.
        templates = {"from": "{{flow.channel.address}}", "to": "{{contact.channel.address}}", **properties}
        rendered = {name: self._render(state, name, templates[name]) for name in ("from", "to", "body")}
        self.result.messages.append(SentMessage(rendered["from"], rendered["to"], rendered["body"]))
        return _transition(state, "sent")

    def _say_play(self, state: dict, properties: dict) -> dict:
        self.result.said += [self._render(state, "say", properties["say"])] * int(properties.get("loop", 1))
        return _transition(state, "audioComplete")


def _check_properties(state: dict) -> None:
    honoured = PROPERTIES.get(state["type"])
    if honoured is None:
        raise FlowRunError(f"{state['name']}: the runner does not know the widget type {state['type']!r}")
    unknown = sorted(set(state.get("properties", {})) - honoured - LAYOUT)
    if unknown:
        raise FlowRunError(
            f"{state['name']}: the runner does not honour {', '.join(unknown)} of a {state['type']} widget"
        )


def _transition(state: dict, event: str) -> dict:
    """The state's transition for the event; one that lists none leads nowhere (the flow ends), as in Studio."""
    return next((t for t in state["transitions"] if t["event"] == event), {"event": event})
