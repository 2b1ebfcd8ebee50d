"""`handover studio validate`'s local checks: each kind of broken flow is named, with where it is."""

from __future__ import annotations

import copy

import pytest

from handover.studio import checks, render

FLOW = render.definition(
    render.FlowParameters("WW" + "1" * 32, "TC" + "2" * 32, "TC" + "3" * 32, {"department": "support"})
)


def broken(change) -> dict:
    definition = copy.deepcopy(FLOW)
    change(definition)
    return definition


def index_of(definition: dict, name: str) -> int:
    return next(index for index, state in enumerate(definition["states"]) if state["name"] == name)


def state(definition: dict, name: str) -> dict:
    return definition["states"][index_of(definition, name)]


def found(definition: dict) -> list[str]:
    return [str(problem) for problem in checks.problems(definition)]


def test_the_generated_flow_has_no_problem():
    assert found(FLOW) == []


def test_a_dangling_transition_is_named():
    def change(definition):
        state(definition, "fetch_participants")["transitions"][0]["next"] = "fetch_nothing"

    at = index_of(FLOW, "fetch_participants")
    assert found(broken(change)) == [
        f"#/states/{at}/transitions/0: 'success' leads to 'fetch_nothing', which names no state",
        # What only that transition reached is now unreachable.
        f"#/states/{index_of(FLOW, 'fetch_conversation')}: state 'fetch_conversation' is unreachable from 'Trigger'",
        f"#/states/{index_of(FLOW, 'orchestrated_conversation')}: state "
        "'orchestrated_conversation' is unreachable from 'Trigger'",
    ]


def test_an_unreachable_state_is_named():
    def change(definition):
        definition["states"].append(
            {
                "name": "orphan",
                "type": "say-play",
                "transitions": [{"event": "audioComplete"}],
                "properties": {"say": "hi"},
            }
        )

    assert found(broken(change)) == [f"#/states/{len(FLOW['states'])}: state 'orphan' is unreachable from 'Trigger'"]


def test_a_missing_trigger_is_named():
    def change(definition):
        definition["initial_state"] = "call_sorry"

    assert found(broken(change)) == ["#/initial_state: names 'call_sorry', a say-play widget, not the trigger"] + [
        f"#/states/{index}: state {s['name']!r} is unreachable from 'call_sorry'"
        for index, s in enumerate(FLOW["states"])
        if s["name"] != "call_sorry"
    ]


def test_an_initial_state_that_names_nothing_is_named():
    assert found(broken(lambda definition: definition.update(initial_state="Start"))) == [
        "#/initial_state: names no state ('Start'); it must name the trigger"
    ]


def test_two_states_of_one_name_are_named():
    def change(definition):
        state(definition, "call_sorry")["name"] = "messaging_sorry"

    problems = found(broken(change))
    assert "#/states: two states are named 'messaging_sorry'; names must be unique" in problems


@pytest.mark.parametrize(
    ("widget", "property_name"),
    [
        ("messaging_to_flex", "workflow"),
        ("messaging_to_flex", "channel"),
        ("messaging_to_flex", "attributes"),
        ("fetch_participants", "url"),
        ("resume_conversation", "conversation_sid"),
        ("resume_conversation", "conversation_service_sid"),
        ("messaging_sorry", "body"),
        ("call_has_handoff_data", "input"),
        ("given_conversation", "variables"),
    ],
)
def test_a_missing_widget_property_is_named(widget, property_name):
    def change(definition):
        del state(definition, widget)["properties"][property_name]

    kind = state(FLOW, widget)["type"]
    assert found(broken(change)) == [
        f"#/states/{index_of(FLOW, widget)}/properties: {kind} widget {widget!r} has no {property_name!r}"
    ]


def test_a_say_play_widget_needs_something_to_say_or_play():
    assert found(broken(lambda definition: state(definition, "call_sorry")["properties"].pop("say"))) == [
        f"#/states/{index_of(FLOW, 'call_sorry')}/properties: say-play widget 'call_sorry' has neither 'say' nor 'play'"
    ]


def test_a_state_without_its_keys_is_named():
    assert found(broken(lambda definition: state(definition, "call_sorry").pop("transitions"))) == [
        f"#/states/{index_of(FLOW, 'call_sorry')}: has no 'transitions'"
    ]


@pytest.mark.parametrize(
    ("property_name", "value", "prefix"),
    [
        ("workflow", "WW123", "WW"),
        ("workflow", "TC" + "2" * 32, "WW"),
        ("channel", "chat", "TC"),
        ("channel", "TC" + "z" * 32, "TC"),
    ],
)
def test_a_malformed_sid_is_named(property_name, value, prefix):
    def change(definition):
        state(definition, "call_to_flex")["properties"][property_name] = value

    assert found(broken(change)) == [
        f"#/states/{index_of(FLOW, 'call_to_flex')}/properties/{property_name}: send-to-flex widget 'call_to_flex': "
        f"{value!r} is not a SID ({prefix} followed by 32 hex characters)"
    ]


def test_a_sid_liquid_fills_in_is_not_judged():
    assert (
        found(
            broken(
                lambda definition: state(definition, "call_to_flex")["properties"].update(
                    workflow="{{flow.variables.workflow}}"
                )
            )
        )
        == []
    )


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        (
            '{"name": "{{trigger.call.From}}",}',
            "its attributes are not JSON once the Liquid is filled "
            "in (Expecting property name enclosed in double quotes",
        ),
        (
            '{"handoff": {{flow.data.x}} "more": 1}',
            "its attributes are not JSON once the Liquid is filled in (Expecting ',' delimiter",
        ),
        ('["{{trigger.call.From}}"]', "its attributes must be a JSON object"),
        (
            '{"name": "a", "name": "{{trigger.call.From}}"}',
            "its attributes set 'name' twice; the task would get only one of the values",
        ),
    ],
)
def test_invalid_attributes_json_is_named(attributes, problem):
    problems = found(
        broken(lambda definition: state(definition, "messaging_to_flex")["properties"].update(attributes=attributes))
    )
    assert len(problems) == 1
    assert problems[0].startswith(
        f"#/states/{index_of(FLOW, 'messaging_to_flex')}/properties/attributes: send-to-flex widget "
        f"'messaging_to_flex': {problem}"
    )


@pytest.mark.parametrize(
    "attributes",
    [
        '{"a": "x{{y}}z", "b": {{c | to_json}}, "d": "{% if e %}f{% endif %}"}',
        '{"quote": "say \\"{{name}}\\"", "n": {{count}}}',
    ],
)
def test_liquid_in_and_out_of_json_strings_is_filled_in(attributes):
    assert checks.json_object_problem(attributes) is None


def test_attributes_longer_than_send_to_flex_takes_are_named_once_per_widget():
    def change(definition):
        for name in ("call_to_flex", "messaging_to_flex"):
            properties = state(definition, name)["properties"]
            properties["attributes"] = properties["attributes"].replace(
                '"department": "support"', f'"n": "{"x" * 600}"'
            )

    lengths = {
        name: len(state(FLOW, name)["properties"]["attributes"]) - len('"department": "support"') + len('"n": ""') + 600
        for name in ("call_to_flex", "messaging_to_flex")
    }
    assert found(broken(change)) == [
        f"#/states/{index_of(FLOW, name)}/properties/attributes: send-to-flex widget {name!r}: its attributes are "
        f"{lengths[name]} characters (Liquid included); Send to Flex takes at most 1024"
        for name in ("call_to_flex", "messaging_to_flex")
    ]


def test_attributes_of_exactly_1024_characters_pass():
    def change(definition):
        properties = state(definition, "call_to_flex")["properties"]
        properties["attributes"] += " " * (checks.MAX_ATTRIBUTES - len(properties["attributes"]))

    assert found(broken(change)) == []


def test_a_definition_that_is_not_a_flow_is_named():
    assert found([]) == ["#/states: a flow definition is a JSON object with a list of states"]
    assert found({"states": "none"}) == ["#/states: a flow definition is a JSON object with a list of states"]


def test_send_to_flex_workflows_names_each_widget():
    assert checks.send_to_flex_workflows(FLOW) == {
        "call_to_flex": "WW" + "1" * 32,
        "messaging_to_flex": "WW" + "1" * 32,
    }
