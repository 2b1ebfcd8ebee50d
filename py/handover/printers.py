"""How command results read on a terminal. Data goes to stdout; the CLI sends notes to stderr."""

from __future__ import annotations

from .envvars import EnvSetResult, UNCHANGED
from .tools import Registration

DRY_RUN_WORDS = {"created": "to create", "updated": "to update", "unchanged": "unchanged"}


def env_set_lines(result: EnvSetResult) -> list[str]:
    def word(action: str | None) -> str:
        return DRY_RUN_WORDS.get(action, action) if result.dry_run else action

    sides = []
    if result.local_file:
        sides.append((result.local_file, "local"))
    if result.deployment:
        sides.append((f"environment {result.deployment.domain_name}", "remote"))
    width = max(len(v.key) for v in result.variables)
    return [
        f"{v.key.ljust(width)}  " + "  ".join(f"{label}: {word(getattr(v, side))}" for label, side in sides)
        for v in result.variables
    ]


def env_set_summary(result: EnvSetResult) -> str:
    if result.dry_run:
        return "Dry run: nothing was written."
    changed = sum(1 for v in result.variables for action in (v.local, v.remote) if action not in (None, UNCHANGED))
    return f"{changed} write(s)." if changed else "Everything was already set; nothing was written."


def env_set_applied(result: EnvSetResult) -> str:
    """What a run that stopped part-way applied, side by side."""
    applied = [f"{v.key} in {result.local_file} ({v.local})" for v in result.variables if v.local not in (None, UNCHANGED)]
    applied += [f"{v.key} on the environment ({v.remote})" for v in result.variables if v.remote in ("created", "updated")]
    not_applied = [v.key for v in result.variables if v.remote in ("failed", "not applied")]
    return (
        f"Applied: {', '.join(applied) or 'nothing'}. Not applied on the environment: {', '.join(not_applied)}. "
        "Run the same command again to finish; it writes only what is still missing."
    )


def registration_lines(registration: Registration) -> list[str]:
    action = DRY_RUN_WORDS[registration.action] if registration.dry_run else registration.action
    lines = [f"tool {registration.tool_id or '(new)'}: {action} on assistant {registration.assistant_id}"]
    if registration.action == "updated":
        lines.append(f"  fields that differ: {', '.join(registration.changed_fields)}")
    lines += [f"  {write}" for write in registration.writes]
    return lines


def tool_console_fields(definition: dict) -> list[str]:
    """The definition as the Console's tool form asks for it, field by field."""
    meta = definition["meta"]
    fields = [("Name", definition["name"]), ("Description", definition["description"]), ("Input", meta["input_schema"]), ("Method", meta["method"]), ("URL", meta["url"])]
    return [f"{label + ':':<13}{value}" for label, value in fields]
