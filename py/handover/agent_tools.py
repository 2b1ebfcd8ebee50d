"""The handover tool in the formats AI agent frameworks take, each made from contract.TOOL_PARAMETERS.

A framework's tool definition is what the model sees: a name, when to use the tool, and the JSON Schema of the
arguments it fills in (`reason`, `summary`). The call itself is the agent's code: it POSTs those arguments to the
deployed function with the handover token and the conversation's X-Session-Id (docs/agent-tools.md), so no
definition carries the URL or the token, and none needs a deployment or credentials to be made.

- openai: a Chat Completions tool, {"type": "function", "function": {name, description, parameters}}.
- openai-responses: a Responses API function tool, {"type": "function", name, description, parameters, strict}.
  Strict mode would need every property required and `null` allowed for the optional one, which the function does
  not take, so strict is false.
- anthropic: a Messages API tool, {name, description, input_schema}.
- mcp: a Model Context Protocol Tool, {name, title, description, inputSchema, annotations}.
- json-schema: the arguments' JSON Schema alone (draft 2020-12), for any other framework (LangChain, Gemini, …).
"""

from __future__ import annotations

import re

from . import contract

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# What OpenAI (a-z, A-Z, 0-9, _ and -, at most 64), Anthropic and MCP all accept as a tool's name.
NAME_PATTERN = "^[A-Za-z0-9_-]{1,64}$"
DEFAULT_NAME = "hand_off_to_human_agent"
DEFAULT_TITLE = "Hand off to a human agent"
DEFAULT_DESCRIPTION = (
    "Hand the conversation to a human customer service agent. You MUST use this if you don't know how to fulfill "
    "the request, or when the customer asks for a person. Tell the customer the `message` of the result. When its "
    "`status` is handed_off or already_handed_off, stop answering: a human agent replies in the same conversation. "
    "When it is no_agent_available, no one can take it now: keep helping."
)
FORMATS = ("openai", "openai-responses", "anthropic", "mcp", "json-schema")
# The function an agent calls for each kind of handoff: the Interactions API, or the Studio flow (the TAC path).
PATHS = {"flex": f"/tools/{contract.FLEX_HANDOVER}", "studio": f"/tools/{contract.STUDIO_HANDOVER}"}


def is_valid_name(name: str) -> bool:
    return re.fullmatch(NAME_PATTERN, name) is not None


def parameters_schema() -> dict:
    """The JSON Schema of the arguments: an object of contract.TOOL_PARAMETERS's strings, nothing else."""
    return {
        "type": "object",
        "properties": {
            parameter.name: {"type": "string", "description": parameter.description}
            for parameter in contract.TOOL_PARAMETERS
        },
        "required": [parameter.name for parameter in contract.TOOL_PARAMETERS if parameter.required],
        "additionalProperties": False,
    }


def export(tool_format: str, name: str = DEFAULT_NAME, description: str = DEFAULT_DESCRIPTION) -> dict:
    """The tool in one of FORMATS."""
    parameters = parameters_schema()
    if tool_format == "openai":
        return {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}
    if tool_format == "openai-responses":
        return {"type": "function", "name": name, "description": description, "parameters": parameters, "strict": False}
    if tool_format == "anthropic":
        return {"name": name, "description": description, "input_schema": parameters}
    if tool_format == "mcp":
        return {
            "name": name,
            "title": DEFAULT_TITLE,
            "description": description,
            "inputSchema": parameters,
            # A handoff writes (a task for a person) but destroys nothing, and a repeated call hands off once.
            "annotations": {
                "title": DEFAULT_TITLE,
                "readOnlyHint": False,
                "destructiveHint": False,
                "idempotentHint": True,
                "openWorldHint": True,
            },
        }
    if tool_format == "json-schema":
        return {"$schema": JSON_SCHEMA_DIALECT, "title": name, "description": description, **parameters}
    raise ValueError(f"unknown format {tool_format!r}: one of {', '.join(FORMATS)}")


def call(kind: str = "flex") -> dict:
    """How an agent's code calls the deployed function with the model's arguments; placeholders for its values."""
    return {
        "method": "POST",
        "path": PATHS[kind],
        "headers": {
            "Content-Type": "application/json",
            contract.TOKEN_HEADER: "<HANDOVER_TOKEN of the deployed environment>",
            contract.SESSION_HEADER: "conversations__<IS… service SID>/<CH… conversation SID>",
            contract.IDENTITY_HEADER: "<optional: the customer, e.g. whatsapp:+1…, phone:+1…, FX…>",
        },
        "body": "the tool call's arguments, as a JSON object",
    }
