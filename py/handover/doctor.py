"""`handover doctor`: every check of a handover setup, each failure with its fix. It only reads.

The checks run in the order a handoff depends on them. A check whose input an earlier check could
not provide is reported as WARN "not checked", so one root cause shows as one FAIL. An unexpected
Twilio error fails the check it happened in, and the others still run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import contract, runtimes
from .account import assistant_tool, credentials, deployed_code, deployment, routing, tokens
from .account.deployment import environment_name, remote_variables
from .account.sdk import TwilioFailure, listed
from .account.variables import SYNC_SERVICE_FIX, SyncServiceProblem, existing_claim_maps, sync_service_of
from .errors import InputError
from .functions import generate
from .lifecycle import wiring
from .plugin import bundle as plugin_bundle
from .plugin import deploy as plugin_deploy
from .project import ENV_FILE, read_local, read_rc
from .studio.checks import send_to_flex_workflows

PASS, WARN, FAIL = "PASS", "WARN", "FAIL"
RETRY_FIX = "Run doctor again; if it persists, check https://status.twilio.com."


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str | None = None

    def as_json(self) -> dict:
        return {"check": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def _not_checked(name: str, because: str) -> Check:
    return Check(name, WARN, f"not checked: {because}")


@dataclass
class Setup:
    """What the checks found so far, for the checks after them."""

    project_dir: Path
    service_sid: str | None
    environment: str
    assistant_id: str | None
    credentials: object = None
    client: object = None
    flex_workspace: str | None = None
    local: dict[str, str] = field(default_factory=dict)
    local_complete: bool = False
    routing_complete: bool = False  # the FLEX_* values are there and well-formed (the token may not be)
    deployment: object = None
    remote: dict[str, str] | None = None  # the deployed variables, listed once
    remote_failed: bool = False  # listing them failed (that check reported it)
    tac_configuration_id: str | None = None  # TAC's Orchestrator configuration, when known
    tac_addresses: tuple[str, ...] = ()  # the messaging addresses that must not bypass the virtual agent
    voice_number: str | None = None  # the number a voice AI answers, when given


def _remote(setup: Setup) -> dict[str, str]:
    """The deployed environment's variables, key → value; one listing for every check that needs them."""
    if setup.remote is None:
        setup.remote_failed = True
        setup.remote = {
            key: variable.value for key, variable in remote_variables(setup.client, setup.deployment).items()
        }
        setup.remote_failed = False
    return setup.remote


def _shown(variable: contract.ConfigVariable, value: str) -> str:
    """How a value reads in a check: a secret's never does."""
    return tokens.REDACTED if variable.secret else value


def env_set_command(values: dict[str, str], *extra: str) -> str:
    """The `handover env set` that writes these values (placeholders for the missing ones)."""
    channel = values.get(contract.TASK_CHANNEL.name)
    return " ".join(
        [
            "handover env set",
            "--workspace-sid",
            values.get(contract.WORKSPACE.name, "WS…"),
            "--workflow-sid",
            values.get(contract.WORKFLOW.name, "WW…"),
        ]
        + (["--task-channel", channel] if channel else [])
        + list(extra)
    )


def _twilio_error(error: Exception) -> str:
    failure = TwilioFailure.of(error)
    return failure.in_sentence() if failure else str(error)


def _deployment_options(setup: Setup) -> list[str]:
    """The options that make a command find the deployment doctor checked."""
    options = ["--service-sid", setup.service_sid] if setup.service_sid else []
    return options + (
        ["--environment", setup.environment] if setup.environment != environment_name(setup.project_dir, None) else []
    )


# The checks, in order ---------------------------------------------------------------------------------


def check_credentials(setup: Setup) -> Iterator[Check]:
    from twilio.base.exceptions import TwilioException

    try:
        setup.credentials = credentials.load(setup.project_dir)
    except credentials.NoCredentials:
        yield Check("credentials", FAIL, credentials.NO_CREDENTIALS, credentials.CREDENTIALS_NEXT_STEP)
        return
    except credentials.CredentialsError as error:
        yield Check("credentials", FAIL, str(error), credentials.HOW_TO_SET)
        return
    setup.client = credentials.client(setup.credentials)
    try:
        if setup.credentials.kind == "API key":
            # A Standard API key may not read the account resource; any read it may do proves it.
            listed(setup.client.serverless.v1.services, limit=1)
            yield Check("credentials", PASS, setup.credentials.describe())
            return
        account = setup.client.api.v2010.accounts(setup.credentials.account_sid).fetch()
    except TwilioException as error:
        setup.client = None
        yield Check(
            "credentials",
            FAIL,
            f"Twilio refused the {setup.credentials.describe()}: {_twilio_error(error)}",
            "Check them in Console > Account > API keys & tokens (an API key must belong to this account).",
        )
        return
    if account.status != "active":
        setup.client = None
        yield Check(
            "credentials",
            FAIL,
            f"account {account.sid} is {account.status}",
            "Reactivate the account in the Console, or use another one.",
        )
        return
    yield Check("credentials", PASS, setup.credentials.describe())


def check_flex(setup: Setup) -> Iterator[Check]:
    from twilio.base.exceptions import TwilioRestException

    try:
        setup.flex_workspace = setup.client.flex_api.v1.configuration().fetch().taskrouter_workspace_sid
    except TwilioRestException as error:
        if error.status != 404:
            raise
        yield Check(
            "flex",
            FAIL,
            f"account {setup.credentials.account_sid} has no Flex instance",
            "Create one in Console > Flex > Overview, or use the account that has Flex.",
        )
        return
    yield Check(
        "flex", PASS, f"the Flex configuration is readable; Flex routes through workspace {setup.flex_workspace}"
    )


def check_local_configuration(setup: Setup) -> Iterator[Check]:
    values = read_local(setup.project_dir / ENV_FILE)
    setup.local = {v.name: values[v.name] for v in contract.CONFIG_VARIABLES if values.get(v.name)}
    required = (contract.WORKSPACE, contract.WORKFLOW, contract.TOKEN)
    missing = [v for v in required if v.name not in setup.local]
    malformed = [v for v in contract.CONFIG_VARIABLES if v.name in setup.local and not v.accepts(setup.local[v.name])]
    setup.local_complete = not missing and not malformed
    setup.routing_complete = not [v for v in missing + malformed if v is not contract.TOKEN]
    if not setup.local_complete:
        problems = [f"{v.name} is not set in .env" for v in missing] + [
            f"{v.name} in .env is not {v.expected}" for v in malformed
        ]
        # The SIDs .env already has well-formed go into the fix; the token never does (env set chooses it).
        known = {
            v.name: setup.local[v.name]
            for v in (contract.WORKSPACE, contract.WORKFLOW)
            if v.name in setup.local and v not in malformed
        }
        yield Check(
            "local configuration", FAIL, "; ".join(problems), env_set_command(known, *_deployment_options(setup))
        )
        return
    variables = {v.name: v for v in contract.CONFIG_VARIABLES}
    yield Check(
        "local configuration",
        PASS,
        ", ".join(f"{name}={_shown(variables[name], value)}" for name, value in setup.local.items()) + " in .env",
    )


def check_routing(setup: Setup) -> Iterator[Check]:
    if not setup.routing_complete:
        yield _not_checked("workspace and workflow", "the local configuration is incomplete")
        yield _not_checked("task channel", "the local configuration is incomplete")
        return
    workspace_sid, workflow_sid = setup.local[contract.WORKSPACE.name], setup.local[contract.WORKFLOW.name]
    problem = routing.check_workspace_and_workflow(setup.client, workspace_sid, workflow_sid)
    if problem:
        yield Check(
            "workspace and workflow",
            FAIL,
            problem.message,
            f"{problem.fix} Then run {env_set_command({}, *_deployment_options(setup))}.",
        )
        yield _not_checked("task channel", "the workspace or workflow is wrong")
        return
    if setup.flex_workspace and setup.flex_workspace != workspace_sid:
        yield Check(
            "workspace and workflow",
            WARN,
            f"workflow {workflow_sid} is in workspace {workspace_sid}, but Flex routes through workspace "
            f"{setup.flex_workspace}",
            "Unless you route to this workspace on purpose, run "
            f"{env_set_command({contract.WORKSPACE.name: setup.flex_workspace}, *_deployment_options(setup))}.",
        )
    else:
        yield Check("workspace and workflow", PASS, f"workflow {workflow_sid} is in workspace {workspace_sid}")
    channel = setup.local.get(contract.TASK_CHANNEL.name, contract.TASK_CHANNEL.default)
    problem = routing.check_task_channel(setup.client, workspace_sid, channel)
    if problem:
        with_channel = env_set_command(
            {**setup.local, contract.TASK_CHANNEL.name: "<name>"}, *_deployment_options(setup)
        )
        yield Check(
            "task channel",
            FAIL,
            problem.message,
            f"Run {with_channel} with one of those, or create the "
            f"channel {channel!r} in Console > TaskRouter > Task Channels.",
        )
    else:
        yield Check("task channel", PASS, f"workspace {workspace_sid} has task channel {channel!r}")


def check_generated(setup: Setup) -> Iterator[Check]:
    stale = generate.differing(setup.project_dir)
    if stale:
        yield Check(
            "generated files",
            FAIL,
            f"{', '.join(stale)} differ from their templates",
            "Run `handover generate`, then deploy.",
        )
    else:
        yield Check("generated files", PASS, "the generated files (the contract asset) match their templates")


def check_deployment(setup: Setup) -> Iterator[Check]:
    try:
        setup.deployment = deployment.locate(
            setup.client, setup.project_dir, setup.credentials, setup.service_sid, setup.environment
        )
    except deployment.DeploymentNotFound as error:
        yield Check("deployment", FAIL, str(error), deployment.DEPLOY_HINT)
        return
    yield Check("deployment", PASS, "; ".join(setup.deployment.describe()))


def check_deployed_functions(setup: Setup) -> Iterator[Check]:
    if setup.deployment is None:
        yield _not_checked("deployed functions", "no deployment found")
        return
    try:
        differences = deployed_code.compare(setup.client, setup.deployment, setup.project_dir)
    except deployed_code.NoBuild as error:
        yield Check("deployed functions", FAIL, str(error), deployed_code.DEPLOY_FIX)
        return
    # Without differences the build runs the configured runtime: one Twilio retired or is retiring is a warning.
    configured = read_rc(setup.project_dir).get("runtime")
    retiring = None if differences or configured is None else runtimes.problem(str(configured), runtimes.today())
    if differences:
        yield Check("deployed functions", FAIL, "; ".join(map(str, differences)), deployed_code.DEPLOY_FIX)
    elif retiring:
        yield Check(
            "deployed functions",
            WARN,
            f"the build serves the local functions and assets, on {retiring.runtime}, but {retiring.message}",
            retiring.fix,
        )
    else:
        yield Check(
            "deployed functions",
            PASS,
            "the build serves the local functions and assets, on the runtime and dependencies asked for",
        )


def _deployed_difference(variable: contract.ConfigVariable, remote: dict[str, str], local: str) -> str:
    """How the deployed value differs from .env's; a secret's values are never shown."""
    name = variable.name
    if name not in remote:
        return f"{name} is not set there" + ("" if variable.secret else f", .env has {local!r}")
    if not variable.secret:
        return f"{name} is {remote[name]!r} there, .env has {local!r}"
    return (
        f"{name} there is not {variable.expected}"
        if not variable.accepts(remote[name])
        else f"{name} differs from .env"
    )


def check_deployed_variables(setup: Setup) -> Iterator[Check]:
    if setup.deployment is None:
        yield _not_checked("deployed variables", "no deployment found")
        return
    if not setup.local_complete:
        yield _not_checked("deployed variables", "the local configuration is incomplete")
        return
    remote = _remote(setup)
    differing = [
        v for v in contract.CONFIG_VARIABLES if v.name in setup.local and remote.get(v.name) != setup.local[v.name]
    ]
    if differing:
        # A valid deployed token wins over .env's (tool URLs carry it), so that difference is fixed on the .env side.
        deployed_token = contract.TOKEN in differing and contract.TOKEN.accepts(remote.get(contract.TOKEN.name) or "")
        fixes = []
        if [v for v in differing if v.set_by == contract.SET_VARIABLE_COMMAND]:
            fixes.append(
                env_set_command(
                    setup.local, *([] if deployed_token else ["--remote-only"]), *_deployment_options(setup)
                )
            )
        if [v for v in differing if v.set_by == contract.STUDIO_DEPLOY_COMMAND]:
            fixes.append(" ".join(["handover studio deploy", *_deployment_options(setup)]))
        yield Check(
            "deployed variables",
            FAIL,
            "; ".join(_deployed_difference(v, remote, setup.local[v.name]) for v in differing),
            "; then ".join(fixes),
        )
    else:
        yield Check("deployed variables", PASS, f"{', '.join(setup.local)} are set on the environment as in .env")


def check_sync_claim_maps(setup: Setup) -> Iterator[Check]:
    """The 16 Sync Maps of the handoff claims exist in the configured Sync service (read as `env set` reads it)."""
    name = "sync claim maps"
    remote: dict[str, str] = {}
    if setup.deployment is not None:
        if setup.remote_failed:
            yield _not_checked(name, "the deployed variables check failed")
            return
        remote = _remote(setup)
    variable = contract.SYNC_SERVICE
    deployed = remote.get(variable.name)
    try:
        service, where = sync_service_of(None, deployed, setup.local.get(variable.name))
    except SyncServiceProblem:
        if not deployed:  # .env's value, which the local configuration check failed
            yield _not_checked(name, f"{variable.name} in {ENV_FILE} is not {variable.expected}")
        else:
            yield Check(
                name,
                FAIL,
                f"{variable.name} on the environment is {deployed!r}, not {variable.expected}: the function answers "
                "every call with HTTP 500",
                _sync_service_fix(setup),
            )
        return
    try:
        there = existing_claim_maps(setup.client, service, where)
    except SyncServiceProblem:
        yield Check(
            name,
            FAIL,
            f"Sync service {service} ({where}) does not exist in this account: no handoff can claim a conversation",
            _sync_service_fix(setup),
        )
        return
    missing = [claim_map for claim_map in contract.CLAIM_MAPS if claim_map not in there]
    total = len(contract.CLAIM_MAPS)
    if missing:
        yield Check(
            name,
            WARN,
            f"{len(missing)} of the {total} claim Maps are missing from Sync service {service} ({where}): "
            f"{', '.join(missing)}. "
            "The function creates a missing one on its first handoff, but a burst of first handoffs can exceed Sync's "
            "20 new objects a second",
            f"Run {' '.join([contract.SET_VARIABLE_COMMAND, *_deployment_options(setup)])} to create them.",
        )
    else:
        yield Check(
            name,
            PASS,
            f"all {total} claim Maps ({contract.CLAIM_MAPS[0]} … "
            f"{contract.CLAIM_MAPS[-1]}) exist in Sync service {service} ({where})",
        )


def _sync_service_fix(setup: Setup) -> str:
    env_set = " ".join([contract.SET_VARIABLE_COMMAND, *_deployment_options(setup)])
    return (
        f"{SYNC_SERVICE_FIX} Change it in .env and deploy (`twilio serverless:deploy` uploads .env's variables), then "
        f"run {env_set} to create the claim Maps."
    )


def check_handback_events(setup: Setup) -> Iterator[Check]:
    """The workspace sends the ends of tasks to the deployed /lifecycle/task-events (read as `handback wire` reads
    it), so that the customer goes back to the AI when the agent is done."""
    name = "hand-back events"
    if setup.deployment is None:
        yield _not_checked(name, "no deployment found")
        return
    if setup.remote_failed:
        yield _not_checked(name, "the deployed variables check failed")
        return
    try:
        workspace_sid, where = wiring.configured_workspace(
            _remote(setup).get(contract.WORKSPACE.name), setup.local.get(contract.WORKSPACE.name)
        )
    except InputError:
        yield _not_checked(name, f"no well-formed {contract.WORKSPACE.name} on the environment or in {ENV_FILE}")
        return
    try:
        found = wiring.read(setup.client, workspace_sid, where)
    except wiring.WorkspaceNotFound:  # the workspace check reports it
        yield _not_checked(name, f"workspace {workspace_sid} ({where}) does not exist")
        return
    ours = wiring.callback_url(setup.deployment)
    wire = " ".join([wiring.WIRE_COMMAND, *_deployment_options(setup)])
    standing = found.standing(ours)
    if standing == wiring.NOT_WIRED:
        yield Check(
            name,
            WARN,
            f"not wired: workspace {workspace_sid} has no EventCallbackUrl, so a task's end hands nothing back to "
            "the AI",
            wire,
        )
    elif standing == wiring.ELSEWHERE:
        theirs = wiring.shown_url(found.url)
        yield Check(
            name,
            WARN,
            f"workspace {workspace_sid} sends its events to {theirs}, not {ours}: a task's end hands the customer "
            "back to the AI only if that URL forwards it",
            f"{wire} --replace, or have {theirs} forward {wiring.event_list(contract.HANDBACK_EVENTS)} to {ours}, "
            "re-signed with the account's auth token",
        )
    elif standing == wiring.EVENTS_LEFT_OUT:
        left_out = found.left_out()
        yield Check(
            name,
            WARN,
            f"workspace {workspace_sid} sends {ours} only {','.join(found.events)}: no "
            f"{wiring.event_list(left_out)} event hands the customer back to the AI",
            wire,
        )
    else:
        sent = wiring.event_list(contract.HANDBACK_EVENTS) if found.events else "every event (no EventsFilter)"
        yield Check(name, PASS, f"workspace {workspace_sid} sends {sent} to {ours}")


def check_flex_plugin(setup: Setup) -> Iterator[Check]:
    """The active plugin release loads the kit's Flex plugin (package.json's name in plugin-ai-handover/, else that
    name), at package.json's version when the folder is there: else agents do not see why the AI handed off."""
    name = "flex plugin"
    if setup.flex_workspace is None:
        yield _not_checked(name, "the flex check failed")
        return
    try:
        package = plugin_bundle.read_package(plugin_bundle.plugin_folder(setup.project_dir, None))
        plugin, local = package.name, package.version
    except plugin_bundle.PluginFolderError:
        plugin, local = plugin_bundle.DEFAULT_FOLDER, None
    release, configured = plugin_deploy.released_version(setup.client, plugin)
    fix = plugin_deploy.DEPLOY_COMMAND
    if release is None:
        detail = f"no plugin release is active: Flex loads no plugin, so agents do not see {plugin}"
        yield Check(name, WARN, detail, fix)
    elif configured is None:
        yield Check(name, WARN, f"the active release {release.sid} does not load {plugin}", fix)
    elif local is not None and configured.version != local:
        yield Check(
            name,
            WARN,
            f"the active release {release.sid} loads {plugin} {configured.version}, not {local} (package.json)",
            fix,
        )
    else:
        yield Check(name, PASS, f"the active release {release.sid} loads {plugin} {configured.version}")


def check_assistant_tool(setup: Setup) -> Iterator[Check]:
    name = "assistant tool"
    if not setup.assistant_id:
        yield Check(
            name,
            WARN,
            "not checked: no --assistant-id given",
            "Pass --assistant-id aia_asst_… to check the AI Assistant's tool.",
        )
        return
    register = " ".join(["handover tool register --assistant-id", setup.assistant_id, *_deployment_options(setup)])
    try:
        attached = assistant_tool.attached_tools(setup.client, setup.credentials.account_sid, setup.assistant_id)
    except assistant_tool.AssistantsRetired as error:
        yield Check(name, FAIL, str(error), "Hand off through the Studio path (see the README).")
        return
    except assistant_tool.AssistantNotFound as error:
        yield Check(name, FAIL, str(error), "Pass the ID of an existing assistant (Console > AI Assistants).")
        return
    if setup.deployment is None:
        yield _not_checked(
            name, f"assistant {setup.assistant_id} exists, but no deployment was found to compare its tool with"
        )
        return
    if setup.remote_failed:
        yield _not_checked(name, "the deployed variables check failed")
        return
    url = setup.deployment.url(assistant_tool.TOOL_PATH)
    token = tokens.valid(_remote(setup).get(contract.TOKEN.name))
    if token is None:
        yield _not_checked(
            name,
            f"environment {setup.deployment.environment_sid} has no "
            f"valid {contract.TOKEN.name} to compare its tool's with",
        )
        return
    tool = next((t for t in attached if assistant_tool.calls(t, url)), None) or next(
        (t for t in attached if t.get("name") == assistant_tool.DEFAULT_NAME), None
    )
    if tool is None:
        yield Check(name, FAIL, f"no tool of assistant {setup.assistant_id} calls {url}", register)
        return
    meta = tool.get("meta") or {}
    carried = tokens.tokens_in(meta.get("url") or "")
    wrong = [
        problem
        for problem, is_wrong in (
            (f"its URL is {tokens.redact_url(meta.get('url') or '')}, not {url}", not assistant_tool.calls(tool, url)),
            ("its URL carries no handover token", not carried),
            (f"its URL's token is not the environment's {contract.TOKEN.name}", bool(carried) and carried != [token]),
            (f"its method is {meta.get('method')}, not POST", meta.get("method") != "POST"),
            ("it is disabled", tool.get("enabled") is not True),
        )
        if is_wrong
    ]
    label = f"tool {tool.get('id')} ({tool.get('name')})"
    if wrong:
        yield Check(name, FAIL, f"{label}: " + "; ".join(wrong), register)
    else:
        yield Check(
            name,
            PASS,
            f"{label} is attached to {setup.assistant_id} and POSTs to {url} with the environment's "
            f"{contract.TOKEN.name}",
        )


def check_studio_flow(setup: Setup) -> Iterator[Check]:
    """The Studio path: the flow TWILIO_STUDIO_HANDOFF_FLOW_SID
    names exists, is published, and routes to the workflow."""
    from twilio.base.exceptions import TwilioRestException

    flow_sid = setup.local.get(contract.STUDIO_FLOW.name)
    deploy = " ".join(["handover studio deploy", *_deployment_options(setup)])
    if not flow_sid or not contract.STUDIO_FLOW.accepts(flow_sid):
        reason = "is not set in .env" if not flow_sid else f"in .env is not {contract.STUDIO_FLOW.expected}"
        yield Check(
            "studio flow",
            WARN,
            f"not checked: {contract.STUDIO_FLOW.name} {reason} (only the Studio path needs it)",
            deploy,
        )
        yield _not_checked("studio flow routing", "no Studio flow to check")
        return
    try:
        flow = setup.client.studio.v2.flows(flow_sid).fetch()
    except TwilioRestException as error:
        if error.status != 404:
            raise
        yield Check(
            "studio flow",
            FAIL,
            f"Studio flow {flow_sid} ({contract.STUDIO_FLOW.name} in .env) does not exist in this account",
            deploy,
        )
        yield _not_checked("studio flow routing", "the flow does not exist")
        return
    if flow.status != "published":
        yield Check(
            "studio flow",
            FAIL,
            f"Studio flow {flow_sid} ({flow.friendly_name!r}) is a {flow.status}: executions run only a published flow",
            deploy,
        )
    else:
        yield Check(
            "studio flow",
            PASS,
            f"Studio flow {flow_sid} ({flow.friendly_name!r}) is published, revision {flow.revision}",
        )
    routes = send_to_flex_workflows(flow.definition or {})
    if not routes:
        yield Check(
            "studio flow routing",
            FAIL,
            f"Studio flow {flow_sid} has no Send to Flex widget",
            f"handover studio generate, then {deploy}",
        )
        return
    if not setup.routing_complete:
        yield _not_checked("studio flow routing", "the local configuration is incomplete")
        return
    workflow_sid = setup.local[contract.WORKFLOW.name]
    wrong = {name: routed for name, routed in routes.items() if routed != workflow_sid}
    if wrong:
        detail = "; ".join(f"Send to Flex widget {name!r} routes to {routed}" for name, routed in wrong.items())
        yield Check(
            "studio flow routing",
            FAIL,
            f"{detail}, not to {contract.WORKFLOW.name} {workflow_sid}",
            f"handover studio generate, then {deploy}",
        )
    else:
        yield Check(
            "studio flow routing",
            PASS,
            f"every Send to Flex widget ({', '.join(routes)}) routes to workflow {workflow_sid}",
        )


TAC_CHECKS = ("tac bridge", "tac voice on hangup", "tac captured traffic", "tac summaries")
TAC_HOW = (
    "give --configuration-id conv_configuration_…, or --tac-env FILE with TWILIO_CONVERSATION_CONFIGURATION_ID "
    "(or set it in the environment or .env)"
)


def check_tac_orchestrator(setup: Setup) -> Iterator[Check]:
    """TAC's Orchestrator configuration: bridged, voice closing on hangup, no captured traffic, summaries attached."""
    from .tac import orchestrator, summaries

    config_id = setup.tac_configuration_id
    if not config_id:
        yield from (
            Check(
                name,
                WARN,
                "not checked: no Orchestrator configuration id known (only Twilio Agent Connect needs it)",
                TAC_HOW,
            )
            for name in TAC_CHECKS
        )
        return
    configuration = orchestrator.fetch(setup.client, config_id)
    service = orchestrator.flex_conversations_service(setup.client)
    bridged = orchestrator.bridged_service(configuration)
    fix = f"handover tac orchestrator --configuration-id {config_id}"
    if not bridged:
        yield Check("tac bridge", FAIL, f"{config_id} names no Conversations (Classic) service", fix)
    elif service and bridged != service:
        yield Check("tac bridge", FAIL, f"{config_id} is bridged to {bridged}, not Flex's service {service}", fix)
    else:
        yield Check("tac bridge", PASS, f"{config_id} is bridged to Conversations service {bridged}")
    if orchestrator.voice_closes_on_hangup(configuration):
        yield Check("tac voice on hangup", PASS, "voice conversations close on hangup (inactive 1, closed 1 minute)")
    else:
        timeouts = ((configuration.get("channelSettings") or {}).get("VOICE") or {}).get("statusTimeouts")
        yield Check(
            "tac voice on hangup", FAIL, f"voice statusTimeouts are {timeouts}, not inactive 1 and closed 1", fix
        )
    captured = orchestrator.captured_channels(configuration)
    if captured:
        yield Check(
            "tac captured traffic",
            FAIL,
            f"traffic is captured automatically on {', '.join(captured)}: it duplicates the bridge's",
            fix,
        )
    else:
        yield Check("tac captured traffic", PASS, "no automatically captured traffic")
    operator = summaries.summary_operator(setup.client)["id"]
    attached = configuration.get("intelligenceConfigurationIds") or []
    found = [c for c in summaries.find(setup.client) if c["id"] in attached]
    if any(summaries.has_summary_rules(c, operator) for c in found):
        yield Check("tac summaries", PASS, f"a configuration with both Summary rules is attached to {config_id}")
    else:
        yield Check(
            "tac summaries",
            FAIL,
            f"no intelligence configuration attached to {config_id} has both Summary rules",
            f"handover tac summaries --configuration-id {config_id}",
        )


def check_tac_addresses(setup: Setup) -> Iterator[Check]:
    from .tac import addresses

    if not setup.tac_addresses:
        yield Check(
            "tac addresses",
            WARN,
            "not checked: no address given (only Twilio Agent Connect needs it)",
            "Pass --address (or --tac-env FILE with TWILIO_PHONE_NUMBER).",
        )
        return
    bypassing = []
    for address in setup.tac_addresses:
        configuration = addresses.fetch(setup.client, address)
        if configuration is not None and addresses.bypasses(dict(configuration.auto_creation or {})):
            bypassing.append(f"{address} ({addresses.describe(dict(configuration.auto_creation))})")
    if bypassing:
        yield Check(
            "tac addresses",
            FAIL,
            f"Flex auto-creation gets these conversations before the virtual agent: {'; '.join(bypassing)}",
            "handover tac addresses " + " ".join(f"--address {a}" for a in setup.tac_addresses),
        )
    else:
        yield Check("tac addresses", PASS, f"no address bypasses the virtual agent ({', '.join(setup.tac_addresses)})")


def check_voice_number(setup: Setup) -> Iterator[Check]:
    """The voice AI's number (given with --voice-number) answers at the deployed /voice/incoming-call, with the relay
    URL set, and the session's end leads where HANDOVER_VOICE_PATH needs: FLEX_WORKFLOW_SID for the direct path's
    <Enqueue>, a published Studio flow whose incomingCall trigger runs for the studio path. Run only when given."""
    from .voice import wiring as voice_wiring

    name, number = "voice number", setup.voice_number
    if setup.deployment is None or setup.remote_failed:
        yield _not_checked(
            name, "no deployment found" if setup.deployment is None else "the deployed variables check failed"
        )
        return
    remote = _remote(setup)
    relay = remote.get(contract.VOICE_RELAY_URL.name) or ""
    path = remote.get(contract.VOICE_PATH.name) or contract.VOICE_PATH.default
    wire = " ".join(
        [voice_wiring.WIRE_COMMAND, "--number", number, "--relay-url", relay or "wss://…", *_deployment_options(setup)]
    )
    try:
        found = voice_wiring.find_number(setup.client, number)
    except voice_wiring.NumberNotFound:
        yield Check(name, FAIL, f"{number} is not a phone number of this account", "give one of the account's numbers")
        return
    ours = voice_wiring.voice_url(setup.deployment)
    problems = []
    if found.voice_url != ours:
        where = wiring.shown_url(found.voice_url) if found.voice_url else "nothing (no VoiceUrl)"
        problems.append(f"{number} answers at {where}, not {ours}")
    if not contract.VOICE_RELAY_URL.accepts(relay):
        problems.append(
            f"{contract.VOICE_RELAY_URL.name} on the environment is not {contract.VOICE_RELAY_URL.expected}"
        )
    if not contract.VOICE_PATH.accepts(path):
        problems.append(f"{contract.VOICE_PATH.name} on the environment is not {contract.VOICE_PATH.expected}")
    elif path == "direct" and not contract.WORKFLOW.accepts(remote.get(contract.WORKFLOW.name) or ""):
        problems.append(f"the direct path enqueues to {contract.WORKFLOW.name}, which the environment lacks")
    elif path == "studio":
        problems += _studio_voice_problems(setup, remote.get(contract.STUDIO_FLOW.name) or "")
    if problems:
        yield Check(
            name, FAIL, "; ".join(problems), f"{wire}{' --force' if found.voice_url not in (None, '', ours) else ''}"
        )
    else:
        target = "/voice/connect-action" if path == "direct" else f"Studio flow {remote.get(contract.STUDIO_FLOW.name)}"
        yield Check(name, PASS, f"{number} answers at {ours}; a handoff goes to {target} ({path} path)")


def _studio_voice_problems(setup: Setup, flow_sid: str) -> list[str]:
    """What keeps the Studio flow from taking a call: not set, missing, unpublished, no incomingCall branch."""
    from twilio.base.exceptions import TwilioRestException

    if not contract.STUDIO_FLOW.accepts(flow_sid):
        return [f"the studio path needs {contract.STUDIO_FLOW.name} on the environment"]
    try:
        flow = setup.client.studio.v2.flows(flow_sid).fetch()
    except TwilioRestException as error:
        if error.status != 404:
            raise
        return [f"Studio flow {flow_sid} does not exist in this account"]
    if flow.status != "published":
        return [f"Studio flow {flow_sid} is a {flow.status}: a call runs only a published flow"]
    trigger = next((s for s in (flow.definition or {}).get("states", []) if s.get("type") == "trigger"), {})
    if not any(t.get("event") == "incomingCall" and t.get("next") for t in trigger.get("transitions", [])):
        return [f"Studio flow {flow_sid} does nothing on incomingCall: its voice branch is missing"]
    return []


CHECKS: tuple[tuple[Callable[[Setup], Iterator[Check]], tuple[str, ...], bool], ...] = (
    # (check, the names of the checks it reports, needs an account the credentials opened)
    (check_credentials, ("credentials",), False),
    (check_flex, ("flex",), True),
    (check_local_configuration, ("local configuration",), False),
    (check_routing, ("workspace and workflow", "task channel"), True),
    (check_generated, ("generated files",), False),
    (check_deployment, ("deployment",), True),
    (check_deployed_functions, ("deployed functions",), True),
    (check_deployed_variables, ("deployed variables",), True),
    (check_sync_claim_maps, ("sync claim maps",), True),
    (check_handback_events, ("hand-back events",), True),
    (check_assistant_tool, ("assistant tool",), True),
    (check_flex_plugin, ("flex plugin",), True),
    (check_studio_flow, ("studio flow", "studio flow routing"), True),
    (check_tac_orchestrator, TAC_CHECKS, True),
    (check_tac_addresses, ("tac addresses",), True),
    (check_voice_number, ("voice number",), True),
)


def run(
    project_dir: Path,
    service_sid: str | None,
    environment: str,
    assistant_id: str | None,
    tac_configuration_id: str | None = None,
    tac_addresses: tuple[str, ...] = (),
    voice_number: str | None = None,
) -> Iterator[Check]:
    from twilio.base.exceptions import TwilioException

    setup = Setup(project_dir, service_sid, environment, assistant_id)
    setup.tac_configuration_id, setup.tac_addresses = tac_configuration_id, tuple(tac_addresses)
    setup.voice_number = voice_number
    for check, names, needs_account in CHECKS:
        if check is check_voice_number and voice_number is None:
            continue  # only asked for: a setup without a voice AI reports no voice line
        if needs_account and setup.client is None:
            yield from (_not_checked(name, "the credentials do not work") for name in names)
            continue
        reported: list[str] = []
        try:
            for result in check(setup):
                reported.append(result.name)
                yield result
        except (TwilioException, assistant_tool.AssistantsApiError) as error:
            failed, *after = [name for name in names if name not in reported] or [names[-1]]
            detail = (
                str(error)
                if isinstance(error, assistant_tool.AssistantsApiError)
                else f"Twilio answered {_twilio_error(error)}"
            )
            yield Check(failed, FAIL, detail, RETRY_FIX)
            yield from (_not_checked(name, f"the {failed} check failed") for name in after)
