"""`handover tool export`: each format as its framework takes it, validated against the published schemas where there
are (MCP's Tool in the mcp-types package, JSON Schema's 2020-12 metaschema), and the arguments it describes handed
off by the real function, called as docs/agent-tools.md says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import mcp_types._v2025_11_25 as mcp_2025_11_25
import mcp_types._v2026_07_28 as mcp_2026_07_28
import pytest
from click.testing import CliRunner

from handover import agent_tools, contract
from handover.cli import cli
from tests.conftest import HANDOVER_TOKEN
from twilio_emulator import add_conversation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "agent-tools.md"
INTERACTIONS = "POST /v1/Interactions"
PARAMETERS = {
    "type": "object",
    "properties": {
        "reason": {
            "type": "string",
            "description": "Why you hand the conversation to a human agent, in a sentence or two (at most 500 "
            "characters; longer text is cut).",
        },
        "summary": {
            "type": "string",
            "description": "What the customer wanted and what was already tried, for the agent who takes over (at "
            "most 4000 characters; longer text is cut).",
        },
    },
    "required": ["reason"],
    "additionalProperties": False,
}
NAME, DESCRIPTION = agent_tools.DEFAULT_NAME, agent_tools.DEFAULT_DESCRIPTION


def exported(*args: str):
    result = CliRunner().invoke(cli, ["tool", "export", *args], catch_exceptions=False)
    return result, (json.loads(result.stdout) if result.exit_code == 0 else None)


def the_parameters(tool_format: str, tool: dict) -> dict:
    return {
        "openai": lambda: tool["function"]["parameters"],
        "openai-responses": lambda: tool["parameters"],
        "anthropic": lambda: tool["input_schema"],
        "mcp": lambda: tool["inputSchema"],
        "json-schema": lambda: tool,
    }[tool_format]()


def test_the_parameters_are_the_contracts_tool_parameters():
    assert agent_tools.parameters_schema() == PARAMETERS
    assert list(PARAMETERS["properties"]) == [parameter.name for parameter in contract.TOOL_PARAMETERS]


def test_every_format_follows_the_contract(monkeypatch):
    monkeypatch.setattr(contract, "TOOL_PARAMETERS", (contract.ToolParameter("why", "Why", 9, True),))
    expected = {
        "type": "object",
        "properties": {"why": {"type": "string", "description": "Why (at most 9 characters; longer text is cut)."}},
        "required": ["why"],
        "additionalProperties": False,
    }
    for tool_format in agent_tools.FORMATS:
        tool = agent_tools.export(tool_format)
        assert {key: value for key, value in the_parameters(tool_format, tool).items() if key in expected} == expected


def test_openai_chat_completions_tool():
    result, tool = exported("--format", "openai")
    assert result.exit_code == 0
    assert tool == {
        "type": "function",
        "function": {"name": NAME, "description": DESCRIPTION, "parameters": PARAMETERS},
    }


def test_openai_responses_function_tool():
    _, tool = exported("--format", "openai-responses")
    assert tool == {
        "type": "function",
        "name": NAME,
        "description": DESCRIPTION,
        "parameters": PARAMETERS,
        "strict": False,
    }


def test_anthropic_tool():
    _, tool = exported("--format", "anthropic")
    assert tool == {"name": NAME, "description": DESCRIPTION, "input_schema": PARAMETERS}


@pytest.mark.parametrize("revision", [mcp_2025_11_25, mcp_2026_07_28], ids=["2025-11-25", "2026-07-28"])
def test_mcp_tool_is_a_tool_of_the_specification(revision):
    _, tool = exported("--format", "mcp")
    parsed = revision.Tool.model_validate(tool)
    # The types ignore unknown keys: the round trip proves every key is the specification's own.
    assert parsed.model_dump(by_alias=True, exclude_none=True, mode="json") == tool
    assert (parsed.annotations.idempotent_hint, parsed.annotations.destructive_hint) == (True, False)
    assert tool["inputSchema"] == PARAMETERS


def test_json_schema_alone_names_its_dialect():
    _, schema = exported("--format", "json-schema")
    assert schema == {
        "$schema": agent_tools.JSON_SCHEMA_DIALECT,
        "title": NAME,
        "description": DESCRIPTION,
        **PARAMETERS,
    }
    assert jsonschema.validators.validator_for(schema) is jsonschema.Draft202012Validator


@pytest.mark.parametrize("tool_format", agent_tools.FORMATS)
def test_every_formats_arguments_are_valid_json_schema_that_takes_what_the_function_reads(tool_format):
    _, tool = exported("--format", tool_format)
    schema = the_parameters(tool_format, tool)
    jsonschema.Draft202012Validator.check_schema(schema)  # against the draft's metaschema
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"reason": "disputed charge", "summary": "billed twice"})
    assert validator.is_valid({"reason": "x" * 5000})  # the function cuts, never rejects: so does not the schema
    assert not validator.is_valid({"summary": "no reason"})
    assert not validator.is_valid({"reason": 7})
    assert not validator.is_valid({"reason": "r", "FlexWorkflowSid": "WW" + "0" * 32})


def test_name_and_description_options():
    _, tool = exported("--format", "anthropic", "--name", "escalate", "--description", "When stuck.")
    assert (tool["name"], tool["description"]) == ("escalate", "When stuck.")


@pytest.mark.parametrize("name", ["Flex Agent Handover", "x" * 65, ""])
def test_a_name_a_framework_refuses_is_a_usage_error(name):
    result, _ = exported("--format", "openai", "--name", name)
    assert result.exit_code == 2
    assert "is not a tool name every framework takes: use letters, digits, _ and -, at most 64" in result.stderr


def test_an_unknown_format_is_a_usage_error_naming_the_formats():
    result, _ = exported("--format", "gemini")
    assert result.exit_code == 2
    assert "'openai', 'openai-responses', 'anthropic', 'mcp', 'json-schema'" in result.stderr


def test_json_says_how_to_call_it(tmp_path):
    result, document = exported("--format", "mcp", "--kind", "studio", "--json")
    assert document["format"] == "mcp"
    assert document["tool"] == agent_tools.export("mcp")
    assert document["call"]["method"] == "POST"
    assert document["call"]["path"] == "/tools/studio-handover"
    assert set(document["call"]["headers"]) == {"Content-Type", "X-Handover-Token", "X-Session-Id", "X-Identity"}
    assert result.stderr == ""


def test_without_json_the_note_says_where_and_how_to_call():
    result, _ = exported("--format", "openai")
    assert result.stderr == (
        "The agent calls POST https://<your domain>/tools/flex-handover with the arguments as JSON and the headers "
        "X-Handover-Token (HANDOVER_TOKEN) and X-Session-Id: see docs/agent-tools.md.\n"
    )


def documented_agent() -> dict:
    """The Python of docs/agent-tools.md's agent, run as it is written."""
    [code] = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    namespace: dict = {}
    exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - the kit's own documentation
    return namespace


def test_the_documented_agent_hands_off_through_the_real_function(twilio, emulator, runtimes, monkeypatch):
    runtime = runtimes()
    conversation_sid = add_conversation(emulator, twilio.account)
    monkeypatch.setenv("HANDOVER_URL", runtime.url("/tools/flex-handover"))
    monkeypatch.setenv("HANDOVER_TOKEN", HANDOVER_TOKEN)
    agent = documented_agent()
    arguments = {"reason": "The customer asks for a person.", "summary": "Order 1234 billed twice."}
    jsonschema.validate(arguments, agent_tools.parameters_schema())
    # What the model's tool call would carry, in each SDK's shape: the documented dispatch takes both.
    openai_call = {"name": NAME, "arguments": json.dumps(arguments)}
    answer = agent["run_tool_call"](openai_call, f"conversations__{twilio.account.service_sid}/{conversation_sid}")
    assert answer["status"] == "handed_off", answer
    [call] = emulator.calls(operation=INTERACTIONS)
    handoff = call.body["Routing"]["properties"]["attributes"]["handoff"]
    assert (handoff["reason"], handoff["summary"]) == (arguments["reason"], arguments["summary"])
    again = agent["run_tool_call"](
        {"name": NAME, "input": arguments}, f"conversations__{twilio.account.service_sid}/{conversation_sid}"
    )
    assert again["status"] == "already_handed_off"
