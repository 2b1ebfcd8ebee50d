"""`handover tac setup`: the plan, then addresses (if any), orchestrator, summaries and studio, stopping at the first
failure with what was applied; last, what stays in the Console."""

from __future__ import annotations

CONSOLE_PATH = "Flex > Contact Center Settings > Opt-in features > Beta"
CONSOLE_STEPS = ("Virtual agent summary for voice", "Virtual agent summary for messaging")


def plan(addresses: list[str], configuration_id: str, from_address: str) -> list[str]:
    steps = []
    if addresses:
        steps.append(f"addresses: disconnect {', '.join(addresses)} from Flex's Studio flow or webhook auto-creation")
    steps += [
        f"orchestrator: bridge {configuration_id} to the Conversations service, remove captured traffic, "
        "close voice on hangup",
        f"summaries: the Summary rules on CONVERSATION_END and CONVERSATION_INACTIVE, attached to {configuration_id}",
        f"studio: generate, validate and deploy the handoff flow, From {from_address}",
    ]
    return steps


def console_lines() -> list[str]:
    return [f"What stays in the Console ({CONSOLE_PATH}):"] + [f"  enable {name!r}" for name in CONSOLE_STEPS]
