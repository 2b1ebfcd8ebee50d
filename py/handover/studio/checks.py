"""Local checks of a Studio flow definition, before Studio's own validation is asked.

They catch what Studio would refuse or what would strand a customer: a transition to a state that does
not exist, a state no path reaches, a missing trigger, a widget without the properties it needs, a
malformed SID, and task attributes that are not a JSON object once Studio fills in the Liquid or are longer than
Send to Flex takes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .. import contract

TRIGGER = "trigger"
# The properties each widget type of the handoff flow cannot work without.
REQUIRED_PROPERTIES = {
    "split-based-on": ("input",),
    "set-variables": ("variables",),
    "make-http-request": ("method", "url"),
    "send-to-flex": ("workflow", "channel", "attributes"),
    "send-message": ("body",),
    "resume-conversation": ("conversation_sid", "conversation_service_sid"),
}
# Properties that hold a SID of this prefix (unless Liquid fills them in).
SID_PROPERTIES = {("send-to-flex", "workflow"): "WW", ("send-to-flex", "channel"): "TC"}
JSON_PROPERTIES = {("send-to-flex", "attributes")}
# Send to Flex's documented limit on its attributes. Checked on the property as the flow holds it (Liquid included):
# what Studio fills in at run time (addresses, HandoffData) has no bound this check could know.
MAX_ATTRIBUTES = 1024
LIQUID_OUTPUT = re.compile(r"\{\{.*?\}\}", re.DOTALL)
LIQUID_TAG = re.compile(r"\{%.*?%\}", re.DOTALL)


@dataclass(frozen=True)
class FlowProblem:
    where: str  # a JSON pointer into the definition, as Studio's own errors name places
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def problems(flow: object) -> list[FlowProblem]:
    """Every problem found; [] when the flow passes the local checks."""
    if not isinstance(flow, dict) or not isinstance(flow.get("states"), list):
        return [FlowProblem("#/states", "a flow definition is a JSON object with a list of states")]
    states = flow["states"]
    found = [problem for index, state in enumerate(states) for problem in _state_problems(state, f"#/states/{index}")]
    named = {state["name"]: state for state in states if isinstance(state, dict) and isinstance(state.get("name"), str)}
    found += [
        FlowProblem("#/states", f"two states are named {name!r}; names must be unique")
        for name in _repeated([s.get("name") for s in states if isinstance(s, dict)])
    ]
    initial = flow.get("initial_state")
    if initial not in named:
        found.append(FlowProblem("#/initial_state", f"names no state ({initial!r}); it must name the trigger"))
    elif named[initial].get("type") != TRIGGER:
        found.append(
            FlowProblem("#/initial_state", f"names {initial!r}, a {named[initial].get('type')} widget, not the trigger")
        )
    for index, state in enumerate(states):
        for position, transition in enumerate(_transitions(state)):
            target = transition.get("next")
            if target is not None and target not in named:
                found.append(
                    FlowProblem(
                        f"#/states/{index}/transitions/{position}",
                        f"{transition.get('event')!r} leads to {target!r}, which names no state",
                    )
                )
    if initial in named:
        reached = _reachable(named, initial)
        found += [
            FlowProblem(f"#/states/{index}", f"state {state['name']!r} is unreachable from {initial!r}")
            for index, state in enumerate(states)
            if isinstance(state, dict) and state.get("name") in named and state["name"] not in reached
        ]
    return found


def _state_problems(state: object, where: str) -> list[FlowProblem]:
    if not isinstance(state, dict):
        return [FlowProblem(where, "a state must be a JSON object")]
    found = [
        FlowProblem(where, f"has no {key!r}")
        for key in ("name", "type", "transitions", "properties")
        if key not in state
    ]
    properties = state.get("properties") if isinstance(state.get("properties"), dict) else {}
    kind = state.get("type")
    label = f"{kind} widget {state.get('name')!r}"
    for name in REQUIRED_PROPERTIES.get(kind, ()):
        if properties.get(name) in (None, "", []):
            found.append(FlowProblem(f"{where}/properties", f"{label} has no {name!r}"))
    if kind == "say-play" and not (properties.get("say") or properties.get("play")):
        found.append(FlowProblem(f"{where}/properties", f"{label} has neither 'say' nor 'play'"))
    for (sid_kind, name), prefix in SID_PROPERTIES.items():
        value = properties.get(name)
        if (
            kind == sid_kind
            and isinstance(value, str)
            and value
            and not LIQUID_OUTPUT.search(value)
            and not contract.is_sid(prefix, value)
        ):
            found.append(
                FlowProblem(
                    f"{where}/properties/{name}",
                    f"{label}: {value!r} is not a SID ({prefix} followed by 32 hex characters)",
                )
            )
    for json_kind, name in JSON_PROPERTIES:
        value = properties.get(name)
        if kind == json_kind and isinstance(value, str) and value:
            problem = json_object_problem(value)
            if problem:
                found.append(FlowProblem(f"{where}/properties/{name}", f"{label}: {problem}"))
            if len(value) > MAX_ATTRIBUTES:
                found.append(
                    FlowProblem(
                        f"{where}/properties/{name}",
                        f"{label}: its attributes are {len(value)} characters (Liquid included); Send to Flex takes "
                        f"at most {MAX_ATTRIBUTES}",
                    )
                )
    return found


def json_object_problem(text: str) -> str | None:
    """Why a Liquid template of a JSON object is not one once Studio fills it in; None when it is.

    Each output (`{{…}}`) stands for a value: inside a JSON string for text, outside one for a JSON
    value (as `{{x | to_json}}` gives one); tags (`{% … %}`) print nothing. A key set twice is a
    problem too: the task would get only one of the values.
    """
    try:
        value = _filled_json(text)
    except _RepeatedKey as repeated:
        return f"its attributes set {repeated.key!r} twice; the task would get only one of the values"
    except ValueError as error:
        return f"its attributes are not JSON once the Liquid is filled in ({error})"
    return None if isinstance(value, dict) else "its attributes must be a JSON object"


def repeated_key(text: str) -> str | None:
    """The first key a Liquid template of a JSON object sets twice, if any."""
    try:
        _filled_json(text)
    except _RepeatedKey as repeated:
        return repeated.key
    except ValueError:
        return None
    return None


def _filled_json(text: str) -> object:
    """The JSON value a Liquid template stands for; _RepeatedKey or ValueError when it is none."""
    return json.loads(_fill_liquid(text), object_pairs_hook=_object_without_repeats)


class _RepeatedKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    repeated = next((key for key in keys if keys.count(key) > 1), None)
    if repeated is not None:
        raise _RepeatedKey(repeated)
    return dict(pairs)


def _fill_liquid(text: str) -> str:
    pieces, in_string, position = [], False, 0
    pattern = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\\.|\"", re.DOTALL)
    for match in pattern.finditer(text):
        pieces.append(text[position : match.start()])
        token = match.group()
        if token.startswith("{{"):
            pieces.append("x" if in_string else "null")
        elif token.startswith("{%"):
            pass
        else:
            if token == '"':
                in_string = not in_string
            pieces.append(token)
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _transitions(state: object) -> list[dict]:
    transitions = state.get("transitions") if isinstance(state, dict) else None
    return [t for t in transitions if isinstance(t, dict)] if isinstance(transitions, list) else []


def _reachable(named: dict[str, dict], initial: str) -> set[str]:
    reached, pending = set(), [initial]
    while pending:
        name = pending.pop()
        if name in reached or name not in named:
            continue
        reached.add(name)
        pending += [t["next"] for t in _transitions(named[name]) if t.get("next")]
    return reached


def _repeated(names: list) -> list:
    return sorted({name for name in names if isinstance(name, str) and names.count(name) > 1})


def send_to_flex_workflows(flow: dict) -> dict[str, str]:
    """Send to Flex widget name → the workflow it names."""
    return {
        state["name"]: state.get("properties", {}).get("workflow")
        for state in flow.get("states", [])
        if isinstance(state, dict) and state.get("type") == "send-to-flex"
    }
