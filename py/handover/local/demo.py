"""The demo: the user's journey on the embedded Twilio emulator, from an account as it is before they start.

The project is deployed with the Serverless Toolkit's own engine, configured with `env set` and `tool register`,
and its tool called by the AI Assistant, which hands a web chat customer to Flex; then Twilio Agent Connect's path.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from twilio_emulator import (
    NOT_SERVED_SECTION,
    Emulator,
    EmulatorProxy,
    FlexAccount,
    OperationTiming,
    RecordedRequest,
    add_assistant,
    add_conversation,
    add_orchestrated_conversation,
    run_execution,
    seed_flex_messaging_address,
    seed_tac_configuration,
    set_operation_timing,
    studio_executions,
)
from twilio_emulator.products import serverless

from .. import contract, printers
from ..account import assistant_tool, credentials, deployment, routing, tokens, variables
from ..errors import HandoverError
from ..project import ENV_FILE, read_deploy_info, read_local
from ..tac import addresses as tac_addresses
from ..tac import orchestrator as tac_orchestrator
from ..tac import requests as tac_requests
from ..tac import setup as tac_setup
from ..tac import studio_step, summaries, tac_env
from . import deploy
from .runtime import LocalRuntime
from .stack import emulated_account, python_client_environment, start_runtime

TOKEN_FILE = "handover-token"
# What the AI sends, as the tool's input schema asks for it.
AI_INPUT = {
    "reason": "The customer asks for a refund, which only a member of the team can grant.",
    "summary": "Order 1042 arrived damaged. I explained the returns policy; the customer wants the money back now.",
}


# Twilio Agent Connect: TAC's number (its configuration captures its traffic, Flex's messaging address is on it), an
# SMS customer of TAC's virtual agent, and the status callback TAC's quickstart configuration sends its events to.
TAC_NUMBER = "+15005550006"
TAC_CUSTOMER = "+15005550009"
TAC_STATUS_CALLBACK = "https://tac.example.com/conversations"
TAC_ENV_FILE = "tac.env"


@dataclass
class Step:
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class ToolCall:
    url: str = field(repr=False)  # carries the handover token
    headers: dict[str, str]
    body: dict

    def shown(self) -> list[str]:
        """The request as printed: its token redacted."""
        return (
            [f"POST {tokens.redact_url(self.url)}"]
            + [f"{name}: {value}" for name, value in self.headers.items()]
            + [json.dumps(self.body)]
        )

    @property
    def token(self) -> str:
        [token] = tokens.tokens_in(self.url)
        return token

    def curl(self, token_file: Path) -> str:
        """A shell command making this call that reads the token from `token_file`, so it never shows it."""
        # Double quotes, so that the shell runs $(cat …); the rest of the URL is loopback, port and path.
        url = '"' + self.url.replace(self.token, f"$(cat {shlex.quote(str(token_file))})") + '"'
        parts = [shlex.join(["curl", "-sS", "-X", "POST"]), url]
        for name, value in self.headers.items():
            parts.append(shlex.join(["-H", f"{name}: {value}"]))
        parts.append(shlex.join(["--data", json.dumps(self.body)]))
        return " ".join(parts)


def tool_call(runtime: LocalRuntime, account: FlexAccount, registered_url: str) -> ToolCall:
    """The request an AI Assistant's webhook tool makes for a Flex web chat customer.

    It calls the URL registered on the assistant, token and all, at the local runtime instead of the
    deployed domain.
    """
    registered = urlsplit(registered_url)
    return ToolCall(
        runtime.url(registered.path) + (f"?{registered.query}" if registered.query else ""),
        {
            "Content-Type": "application/json",
            "X-Session-Id": account.session_id,
            "X-Identity": f"flex_participant:{account.webchat_identity}",
        },
        AI_INPUT,
    )


def write_token_file(runtime: LocalRuntime, token: str) -> Path:
    """The token in a file only its owner can read, in the runtime's directory (removed when it stops)."""
    path = runtime.directory / TOKEN_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token)
    return path


def call_tool(call: ToolCall) -> tuple[int, dict]:
    request = urllib.request.Request(call.url, data=json.dumps(call.body).encode(), headers=call.headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _indent(text: str) -> list[str]:
    return ["   " + line for line in text.splitlines()]


def _twilio_request_lines(request: RecordedRequest) -> list[str]:
    lines = [f"{request.method} https://{request.host}{request.path}  ->  {request.status}"]
    for name, value in (request.body or {}).items():
        lines += [f"  {name}:"] + ["  " + line for line in _indent(json.dumps(value, indent=2))]
    return lines


def _requests_since(emulator: Emulator, before: int, *secret_values: str | None, bodies: bool = True) -> list[str]:
    """The requests made since `before`, as printed (with their bodies, or a line each): the handover token (a
    variable's value, a URL's) redacted."""
    return [
        tokens.redact(line, *secret_values)
        for request in emulator.requests[before:]
        for line in (_twilio_request_lines(request) if bodies else _twilio_request_lines(request)[:1])
    ]


def _variable_lines(variables: dict[str, str]) -> list[str]:
    secret = {v.name for v in contract.CONFIG_VARIABLES if v.secret}
    return [f"{key}={tokens.REDACTED if key in secret else value}" for key, value in variables.items()]


def registered_url(emulator: Emulator, assistant_id: str) -> str:
    """The URL of the tool attached to the assistant, as the assistant would call it."""
    [attachment] = [
        a for a in emulator.table("assistant_tool_attachments").values() if a["assistant_id"] == assistant_id
    ]
    return emulator.table("assistant_tools")[attachment["tool_id"]]["meta"]["url"]


@dataclass
class Stage:
    """The emulated account as the user's own is before they start, and the project as they cloned it."""

    emulator: Emulator
    proxy: EmulatorProxy
    account: FlexAccount
    assistant_id: str
    project: Path  # a clean copy of the project, with a .env holding the account's credentials only
    located: deployment.Deployment | None = None  # found by the setup steps, as `env set` finds it


def setup_steps(toolkit_dir: Path, stage: Stage) -> Iterator[Step]:
    """The commands a user runs to deploy and configure the project, run here against the emulator: the
    Serverless Toolkit's deploy (twilio-run from `toolkit_dir`), then `env set` and `tool register` through the
    real SDK, in the project's copy as the user runs them in their clone."""
    emulator, account = stage.emulator, stage.account
    yield Step(
        "Handover demo: an AI Assistant hands a web chat customer to a human agent in Flex",
        [
            f"Twilio: the embedded emulator (account {emulator.account.sid}), reached through {stage.proxy.url}",
            f"The account before you start: Flex (workspace {account.workspace_sid}, workflow "
            f"{account.workflow_sid}), the customer's conversation {account.conversation_sid} in Conversations "
            f"service {account.service_sid}, AI Assistant {stage.assistant_id}",
            f"Your project: a clean clone ({', '.join(deploy.TOOLKIT_FILES)}), with a .env holding only "
            "ACCOUNT_SID and AUTH_TOKEN",
        ],
    )
    before = len(emulator.requests)
    deployed = deploy.deploy(stage.project, stage.proxy, toolkit_dir)
    yield Step(
        f"1. {deploy.USER_COMMAND}  (twilio-run deploy: the engine of `twilio serverless:deploy`)",
        deployed.lines()
        + [
            f"Wrote .twiliodeployinfo: {key} → service {entry['serviceSid']}, build {entry['latestBuild']}"
            for key, entry in read_deploy_info(stage.project).items()
        ]
        + _requests_since(emulator, before, bodies=False),
    )
    found = credentials.Credentials(
        emulator.account.sid, emulator.account.sid, emulator.account.auth_token, "the emulator"
    )
    client = credentials.client(found)
    located = deployment.locate(client, stage.project, found, None, deployment.DEFAULT_ENVIRONMENT)
    stage.located = located
    values = {contract.WORKSPACE.name: account.workspace_sid, contract.WORKFLOW.name: account.workflow_sid}
    before = len(emulator.requests)
    problem = routing.check(client, account.workspace_sid, account.workflow_sid, contract.TASK_CHANNEL.default)
    if problem:
        raise DemoFailed(problem.message)
    result = variables.set_variables(client, stage.project, values, located, claim_maps=True)
    yield Step(
        f"2. handover env set --workspace-sid {account.workspace_sid} --workflow-sid {account.workflow_sid}",
        [f"Found {line}" for line in located.describe()]
        + printers.env_set_lines(result)
        + [printers.env_set_summary(result)]
        + _requests_since(emulator, before, result.token, bodies=False),
    )
    before = len(emulator.requests)
    token, _ = tokens.for_tool(client, located, None)
    definition = assistant_tool.definition(tokens.with_token(located.url(assistant_tool.TOOL_PATH), token))
    registration = assistant_tool.register(client, emulator.account.sid, stage.assistant_id, definition)
    yield Step(
        f"3. handover tool register --assistant-id {stage.assistant_id}",
        printers.registration_lines(registration) + _requests_since(emulator, before, token),
    )


def handoff_steps(
    stage: Stage, runtime: LocalRuntime, mode: str, variables: dict[str, str], call: ToolCall
) -> Iterator[Step]:
    emulator, account = stage.emulator, stage.account
    yield Step(
        "4. twilio-run serves the deployed environment on this machine",
        [f"Functions: twilio-run at {runtime.base_url} ({mode})"] + _variable_lines(variables),
    )
    yield Step("5. The AI Assistant calls the handover tool", call.shown())
    before = len(emulator.requests)
    status, answer = call_tool(call)
    yield Step("6. The function calls the Twilio API", _requests_since(emulator, before, call.token))
    yield Step(
        "7. The function answers the AI Assistant", [f"HTTP {status}"] + json.dumps(answer, indent=2).splitlines()
    )
    if answer.get("status") == "handed_off":
        from twilio.rest import Client

        interaction = emulator.table("interactions")[answer["interactionSid"]]
        task_sid = interaction["routing"]["properties"]["sid"]
        client = Client(emulator.account.sid, emulator.account.auth_token)
        task = client.taskrouter.v1.workspaces(account.workspace_sid).tasks(task_sid).fetch()
        yield Step(
            f"8. Flex queues a task for a human agent: {task.sid} ({task.assignment_status}, channel "
            f"{task.task_channel_unique_name})",
            ["Task attributes, as the agent's Flex UI receives them:"]
            + json.dumps(json.loads(task.attributes), indent=2).splitlines(),
        )
    if status != 200:
        raise DemoFailed(f"the handoff did not complete (HTTP {status}, {len(emulator.violations)} violations)")


def tac_steps(stage: Stage, work_dir: Path, *secret_values: str | None) -> Iterator[Step]:
    """Twilio Agent Connect's path: `handover tac setup` from the Console-default state, TAC's escalation tool's own
    requests, and the Studio flow run to Send to Flex.

    `tac setup` runs in `work_dir`, which holds TAC's .env and the project settings a user's .env would (the routing
    `env set` set), so that the project's own .env and studio/ file are left alone, as `env set --remote-only` leaves
    them above.
    """
    emulator, account = stage.emulator, stage.account
    configuration = seed_tac_configuration(emulator, TAC_NUMBER, status_callback_url=TAC_STATUS_CALLBACK)
    address = seed_flex_messaging_address(emulator, account, address=TAC_NUMBER)
    yield Step(
        "Twilio Agent Connect: TAC's virtual agent hands an SMS customer to Flex through the Studio handoff flow",
        [
            f"Conversation Orchestrator configuration {configuration['id']}, as TAC's quickstart and the Console "
            f"leave it: traffic of {TAC_NUMBER} captured, no Conversations (Classic) bridge, voice closing after "
            f"{configuration['channelSettings']['VOICE']['statusTimeouts']['closed']} min, "
            f"status callback {TAC_STATUS_CALLBACK}",
            f"Flex messaging address {TAC_NUMBER} ({address['sid']}): auto-creation into Flex's Studio flow "
            f"{address['auto_creation']['studio_flow_sid']}",
            "(Orchestrator operations ask for no wait here, Retry-After: 0, where Twilio asks for 1 s: a shorter demo)",
        ],
    )
    tac_file = work_dir / TAC_ENV_FILE
    tac_file.write_text(
        f"{tac_env.CONFIGURATION_ID}={configuration['id']}\n{tac_env.PHONE_NUMBER}={TAC_NUMBER}\n{tac_env.FLOW_SID}=\n",
        encoding="utf-8",
    )
    (work_dir / ENV_FILE).write_text(
        f"{contract.WORKSPACE.name}={account.workspace_sid}\n{contract.WORKFLOW.name}={account.workflow_sid}\n",
        encoding="utf-8",
    )
    client = credentials.client(
        credentials.Credentials(emulator.account.sid, emulator.account.sid, emulator.account.auth_token, "the emulator")
    )
    before = len(emulator.requests)
    wanted = tac_addresses.check_addresses([TAC_NUMBER])
    lines = [
        f"Plan {number}. {line}"
        for number, line in enumerate(tac_setup.plan(wanted, configuration["id"], TAC_NUMBER), 1)
    ]
    results = [
        tac_addresses.run(client, wanted),
        tac_orchestrator.run(client, configuration["id"], account.service_sid),
        summaries.run(client, configuration["id"]),
        studio_step.run(client, work_dir, stage.located, TAC_NUMBER, tac_file),
    ]
    for result in results:
        lines += printers.tac_step_lines(result) + result.notes
    lines += [f"{sum(len(r.writes) for r in results)} write(s)."] + tac_setup.console_lines()
    yield Step(
        f"9. handover tac setup --address {TAC_NUMBER} --tac-env {TAC_ENV_FILE} "
        f"--conversations-service {account.service_sid}",
        # The scratch directory's path shown as the command names the file.
        [tokens.redact(line.replace(str(tac_file), TAC_ENV_FILE), *secret_values) for line in lines]
        + _requests_since(emulator, before, *secret_values, bodies=False),
    )
    # A customer texts TAC's number: the bridge gives the Orchestrator conversation a Conversations (Classic) one.
    classic = add_conversation(emulator, account, f"SMS from {TAC_CUSTOMER}")
    conversation = add_orchestrated_conversation(
        emulator, account.service_sid, classic, TAC_CUSTOMER, configuration_id=configuration["id"]
    )
    [customer] = [p for p in conversation["participants"] if p["type"] == "CUSTOMER"]
    flow_sid = read_local(tac_file)[tac_env.FLOW_SID]  # where TAC reads it
    handoff = {
        "conversationId": conversation["id"],
        "storeId": conversation["configuration"]["memoryStoreId"],
        "profileId": customer["profileId"],
        "attributes": {"reason": AI_INPUT["reason"]},
    }
    before = len(emulator.requests)
    tac_requests.request(
        client,
        "PATCH",
        f"https://conversations.twilio.com/v2/Conversations/{conversation['id']}",
        {"status": "INACTIVE", "configuration": {"statusCallbacks": []}},
    )
    client.studio.v2.flows(flow_sid).executions.create(
        to=TAC_CUSTOMER, from_=TAC_NUMBER, parameters={"HandoffData": handoff}
    )
    yield Step(
        "10. TAC's escalation tool: the conversation INACTIVE without status callbacks, then the Studio execution",
        _requests_since(emulator, before, *secret_values),
    )
    [execution] = studio_executions(emulator, flow_sid)
    before = len(emulator.requests)
    run = run_execution(emulator, execution)
    if run.flex is None:
        raise DemoFailed(f"the Studio flow did not reach Send to Flex: {' → '.join(run.path)}")
    with emulator.lock:
        channel = emulator.table("task_channels")[run.flex.channel_sid]["unique_name"]
    yield Step(
        f"11. The Studio flow runs to Send to Flex: a task on workflow {run.flex.workflow_sid}, channel {channel}",
        [f"Path: {' → '.join(run.path)}"]
        + _requests_since(emulator, before, *secret_values, bodies=False)
        + ["Task attributes, as the agent's Flex UI receives them:"]
        + json.dumps(run.flex.attributes, indent=2).splitlines(),
    )


def checked_step(emulator: Emulator) -> Step:
    violations = [str(violation) for violation in emulator.violations]
    unserved = [f"not served (501): {operation}" for operation in emulator.unserved]
    return Step(
        "Requests checked against Twilio's OpenAPI description: "
        f"{len(emulator.requests)}, violations: {len(violations)}, operations not served: {len(unserved)}",
        violations + unserved,
    )


def check_traffic(emulator: Emulator) -> None:
    """DemoFailed if a request broke Twilio's description, or asked for an operation the emulator does not serve.

    A 501 is the emulator's gap, not the kit's fault, but the demo proved nothing of what Twilio would have answered.
    """
    if emulator.violations:
        raise DemoFailed(f"{len(emulator.violations)} requests broke Twilio's OpenAPI description")
    if emulator.unserved:
        operations = sorted({f"{u.operation_id} ({u.method} {u.path_template})" for u in emulator.unserved})
        raise DemoFailed(
            f"the emulator answered 501 to {len(emulator.unserved)} requests for operations it does not serve: "
            f"{', '.join(operations)} (see {NOT_SERVED_SECTION})"
        )


class DemoFailed(HandoverError):
    """The handoff did not complete on the emulator; the message says where it stopped."""


def run(project_dir: Path, echo, keep_running: bool = False, fork: bool = False) -> None:
    """Run the walkthrough, printing each step with `echo`; with keep_running, wait for Ctrl-C."""

    def show(step: Step) -> None:
        echo(f"\n{step.title}")
        for line in step.lines:
            echo(f"   {line}")

    with (
        emulated_account(project_dir) as (emulator, proxy, account),
        python_client_environment(proxy),
        tempfile.TemporaryDirectory(prefix="handover-demo-") as scratch,
    ):
        clone = deploy.clean_copy(
            project_dir,
            Path(scratch) / "flex-handover",
            {"ACCOUNT_SID": emulator.account.sid, "AUTH_TOKEN": emulator.account.auth_token},
        )
        # The clone's runtime is the project's: twilio-run and the functions' dependencies are installed there.
        (clone / "node_modules").symlink_to(project_dir / "node_modules", target_is_directory=True)
        stage = Stage(emulator, proxy, account, add_assistant(emulator, "Support Assistant")["id"], clone)
        # Twilio asks a client to poll an Orchestrator operation after a second (Retry-After: 1); this account asks
        # for no wait, so that the demo stays short. tac setup's own tests wait as Twilio asks.
        set_operation_timing(emulator, OperationTiming(retry_after=0))
        for step in setup_steps(project_dir, stage):
            show(step)
        # The runtime serves what was deployed, with the variables the environment has, as the deployed one would.
        variables = {v["key"]: v["value"] for v in serverless.variables_of(emulator, stage.located.environment_sid)}
        runtime = start_runtime(clone, emulator, proxy, account, fork=fork, **variables)
        try:
            mode = "forked process per request" if fork else "in-process"
            call = tool_call(runtime, account, registered_url(emulator, stage.assistant_id))
            failed = None
            try:
                for step in handoff_steps(stage, runtime, mode, variables, call):
                    show(step)
            except DemoFailed as failure:
                failed = failure  # the TAC path runs all the same; the demo fails at the end
            with tempfile.TemporaryDirectory(prefix="handover-tac-") as work_dir:
                for step in tac_steps(stage, Path(work_dir), call.token):
                    show(step)
            show(checked_step(emulator))
            if failed is not None:
                raise failed
            check_traffic(emulator)
            if keep_running:
                token_file = write_token_file(runtime, call.token)
                echo("\nThe emulator and the runtime keep running. Call the handover tool again with:")
                echo(f"   {call.curl(token_file)}")
                echo(f"({token_file} holds the handover token, readable by you only.)")
                echo("Press Ctrl-C to stop.")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    echo("Stopped.")
        finally:
            runtime.stop()
