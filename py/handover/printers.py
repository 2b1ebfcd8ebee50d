"""How command results read on a terminal. Data goes to stdout; the CLI sends notes to stderr."""

from __future__ import annotations

from .account.assistant_tool import Registration, redacted
from .account.tokens import redact_url
from .account.variables import EnvSetResult
from .contract import CLAIM_MAP_PREFIX, TOKEN
from .outcomes import DRY_RUN_WORDS, UNCHANGED, UPDATED


def env_set_lines(result: EnvSetResult, show_secrets: bool = False) -> list[str]:
    def word(action: str | None) -> str:
        return DRY_RUN_WORDS.get(action, action) if result.dry_run else action

    sides = []
    if result.local_file:
        sides.append((result.local_file, "local"))
    if result.deployment:
        sides.append((f"environment {result.deployment.domain_name}", "remote"))
    width = max(len(v.key) for v in result.variables)
    secret = [f"{TOKEN.name}={result.token_in_effect}"] if show_secrets and result.token_in_effect else []
    variables = [
        f"{v.key.ljust(width)}  " + "  ".join(f"{label}: {word(getattr(v, side))}" for label, side in sides)
        for v in result.variables
    ]
    return variables + _claim_map_lines(result, width, word) + secret


def _claim_map_lines(result: EnvSetResult, width: int, word) -> list[str]:
    """A line per claim Map created (or to create, failed, not applied), then one for those already there."""
    if result.claim_maps is None:
        return []
    where = f"Sync service {result.sync_service}"
    lines = [f"{m.name.ljust(width)}  {where}: {word(m.action)}" for m in result.claim_maps if m.action != UNCHANGED]
    there = result.claim_maps_with(UNCHANGED)
    if there:
        lines.append(
            f"{(CLAIM_MAP_PREFIX + '*').ljust(width)}  {where}: {UNCHANGED} "
            f"({len(there)} of {len(result.claim_maps)} already there)"
        )
    return lines


def env_set_summary(result: EnvSetResult) -> str:
    if result.dry_run:
        return "Dry run: nothing was written."
    return f"{result.writes} write(s)." if result.writes else "Everything was already set; nothing was written."


def env_set_token_note(result: EnvSetResult) -> str | None:
    """What a rotated token means for the tool URLs already registered; None when nothing."""
    if not result.token_rotated or result.dry_run:
        return None
    if result.token_variable.remote == UPDATED:
        return (
            f"{TOKEN.name} was rotated: tool URLs with the old token now get HTTP 401. "
            "Run `handover tool register --assistant-id aia_asst_…` "
            "again to put the new one into the AI Assistant's tool."
        )
    if result.token_variable.remote is None:
        return f"{TOKEN.name} was rotated in .env only; the deployed environment keeps its token."
    return None


def registration_lines(registration: Registration, show_secrets: bool = False) -> list[str]:
    action = DRY_RUN_WORDS[registration.action] if registration.dry_run else registration.action
    url = registration.definition["meta"]["url"]
    lines = [
        f"tool {registration.tool_id or '(new)'}: {action} on assistant {registration.assistant_id}",
        f"  url: {url if show_secrets else redact_url(url)}",
    ]
    if registration.action == UPDATED:
        lines.append(f"  fields that differ: {', '.join(registration.changed_fields)}")
    lines += [f"  {write}" for write in registration.writes]
    return lines


def tool_console_fields(definition: dict, show_secrets: bool = False) -> list[str]:
    """The definition as the Console's tool form asks for it, field by field; a value's further lines indented."""
    meta = (definition if show_secrets else redacted(definition))["meta"]
    fields = [
        ("Name", definition["name"]),
        ("Description", definition["description"]),
        ("Input", meta["input_schema"]),
        ("Method", meta["method"]),
        ("URL", meta["url"]),
    ]
    return [
        f"{label + ':' if index == 0 else '':<13}{line}"
        for label, value in fields
        for index, line in enumerate(value.splitlines() or [""])
    ]


def studio_deploy_lines(result) -> list[str]:
    """The flow's SID and what happened to it, then the variables that wire it (as `env set` prints them)."""
    action = DRY_RUN_WORDS[result.action] if result.dry_run else result.action
    revision = f", revision {result.revision}" if result.revision else ""
    lines = [f"flow {result.flow_sid or '(new)'}: {action} as {result.friendly_name!r}{revision}"]
    lines += [f"  {write}" for write in result.writes]
    if result.variables is not None:
        lines += env_set_lines(result.variables)
    return lines


def studio_deploy_notes(result) -> list[str]:
    notes = []
    if result.tac_line():
        notes.append(f"For Twilio Agent Connect, put this line in its .env: {result.tac_line()}")
    elif result.dry_run:
        notes.append("The flow's SID is known once it is created: run without --dry-run.")
    flow_writes = len(result.writes)
    if result.dry_run:
        notes.append("Dry run: nothing was written.")
    else:
        notes.append(
            f"Flow: {flow_writes} write(s). Variables: "
            f"{env_set_summary(result.variables) if result.variables else 'none set.'}"
        )
    return notes


def tac_step_lines(result) -> list[str]:
    """One line per thing a `handover tac` step read, and what it did (or would do) to it; then the writes."""
    lines = [
        f"{result.step}: {line.thing}: {result.word(line.action)}" + (f" ({line.detail})" if line.detail else "")
        for line in result.lines
    ]
    if result.dry_run:
        lines += [f"  would send: {write}" for write in result.writes]
    return lines


def plugin_build_line(result) -> str:
    size = f"{result.size:,} bytes"
    return (
        f"{result.package.name} {result.package.version}: {result.package.bundle_path} ({size}, sha256:{result.sha256})"
    )


def plugin_deploy_lines(result) -> list[str]:
    """The plugin's version and what happened to it, its bundle's URL, then each write (or write to make)."""
    lines = [
        f"{result.plugin} {result.version}: {result.outcome}",
        f"  bundle: sha256:{result.sha256}",
        f"  url: {result.plugin_url or '(known once the environment is created)'}",
    ]
    lines += [f"  {'would send' if result.dry_run else 'sent'}: {write}" for write in result.writes]
    return lines


def plugin_deploy_notes(result) -> list[str]:
    if result.dry_run:
        return ["Dry run: nothing was written."]
    if not result.writes:
        return [f"{result.plugin} {result.version} is already released with this bundle; nothing was written."]
    return [f"{len(result.writes)} write(s). Flex loads the plugin at the agents' next page load."]
