"""The demo: an AI Assistant hands a web chat customer to Flex, on the embedded Twilio emulator."""

from __future__ import annotations

import json
import shlex
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from . import contract
from .emulator import DeployedService, Emulator, EmulatorProxy, FlexAccount, RecordedRequest
from .localstack import emulated_account, python_client_environment, start_runtime
from .runtime import LocalRuntime

TOOL_PATH = "/tools/flex-handover"


@dataclass
class Step:
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class ToolCall:
    url: str
    headers: dict[str, str]
    body: dict

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", "POST", self.url]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        parts += ["--data", json.dumps(self.body)]
        return shlex.join(parts)


def tool_call(runtime: LocalRuntime, account: FlexAccount) -> ToolCall:
    """The request an AI Assistant's webhook tool makes for a Flex web chat customer."""
    return ToolCall(
        runtime.url(TOOL_PATH),
        {
            "Content-Type": "application/json",
            "X-Session-Id": account.session_id,
            "X-Identity": f"flex_participant:{account.webchat_identity}",
        },
        {},
    )


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


def _requests_since(emulator: Emulator, before: int) -> list[str]:
    return [line for request in emulator.requests[before:] for line in _twilio_request_lines(request)]


@dataclass
class Stage:
    """The emulated account as the user's own would be after `twilio serverless:deploy`."""

    emulator: Emulator
    proxy: EmulatorProxy
    account: FlexAccount
    deployed: DeployedService
    assistant_id: str


def setup_steps(project_dir: Path, stage: Stage) -> Iterator[Step]:
    """The commands a user runs after deploying, run here against the emulator through the real SDK."""
    from . import credentials, deployment, envvars, printers, routing, tools

    emulator, account = stage.emulator, stage.account
    yield Step(
        "Handover demo: an AI Assistant hands a web chat customer to a human agent in Flex",
        [
            f"Twilio: the embedded emulator (account {emulator.account.sid}), reached through {stage.proxy.url}",
            f"Deployed (emulated): service {stage.deployed.service_sid} at https://{stage.deployed.domain_name}",
            f"AI Assistant: {stage.assistant_id}",
        ],
    )
    found = credentials.Credentials(emulator.account.sid, emulator.account.sid, emulator.account.auth_token, "the emulator")
    client = credentials.client(found)
    located = deployment.locate(client, project_dir, found, stage.deployed.service_sid, deployment.DEFAULT_ENVIRONMENT)
    values = {contract.WORKSPACE.name: account.workspace_sid, contract.WORKFLOW.name: account.workflow_sid}
    before = len(emulator.requests)
    problem = routing.check(client, account.workspace_sid, account.workflow_sid, contract.TASK_CHANNEL.default)
    if problem:
        raise DemoFailed(problem.message)
    # The demo leaves the project's .env alone: it writes the deployed environment only.
    result = envvars.set_variables(client, project_dir, values, located, local=False)
    yield Step(
        f"1. handover env set --workspace-sid {account.workspace_sid} --workflow-sid {account.workflow_sid} --remote-only",
        printers.env_set_lines(result) + _requests_since(emulator, before),
    )
    before = len(emulator.requests)
    registration = tools.register(client, emulator.account.sid, stage.assistant_id, tools.definition(located.url(tools.TOOL_PATH)))
    yield Step(
        f"2. handover tool register --assistant-id {stage.assistant_id}",
        printers.registration_lines(registration) + _requests_since(emulator, before),
    )


def handoff_steps(stage: Stage, runtime: LocalRuntime, mode: str, variables: dict[str, str]) -> Iterator[Step]:
    emulator, account = stage.emulator, stage.account
    yield Step(
        "3. twilio-run serves the deployed environment on this machine",
        [f"Functions: twilio-run at {runtime.base_url} ({mode})"] + [f"{key}={value}" for key, value in variables.items()],
    )
    call = tool_call(runtime, account)
    yield Step(
        "4. The AI Assistant calls the handover tool",
        [f"POST {call.url}"] + [f"{name}: {value}" for name, value in call.headers.items()] + [json.dumps(call.body)],
    )
    before = len(emulator.requests)
    status, answer = call_tool(call)
    yield Step("5. The function calls the Twilio API", _requests_since(emulator, before))
    yield Step("6. The function answers the AI Assistant", [f"HTTP {status}"] + json.dumps(answer, indent=2).splitlines())
    if answer.get("status") == "handed_off":
        from twilio.rest import Client

        interaction = emulator.table("interactions")[answer["interactionSid"]]
        task_sid = interaction["routing"]["properties"]["sid"]
        client = Client(emulator.account.sid, emulator.account.auth_token)
        task = client.taskrouter.v1.workspaces(account.workspace_sid).tasks(task_sid).fetch()
        yield Step(
            f"7. Flex queues a task for a human agent: {task.sid} ({task.assignment_status}, channel {task.task_channel_unique_name})",
            ["Task attributes, as the agent's Flex UI receives them:"] + json.dumps(json.loads(task.attributes), indent=2).splitlines(),
        )
    violations = [str(violation) for violation in emulator.violations]
    yield Step(f"Requests checked against Twilio's OpenAPI description: {len(emulator.requests)}, violations: {len(violations)}", violations)
    if status != 200 or violations:
        raise DemoFailed(f"the handoff did not complete (HTTP {status}, {len(violations)} violations)")


class DemoFailed(Exception):
    pass


def run(project_dir: Path, echo, keep_running: bool = False, fork: bool = False) -> None:
    """Run the walkthrough, printing each step with `echo`; with keep_running, wait for Ctrl-C."""
    from .emulator import add_assistant, seed_deployed_service
    from .emulator.products import serverless

    def show(step: Step) -> None:
        echo(f"\n{step.title}")
        for line in step.lines:
            echo(f"   {line}")

    with emulated_account(project_dir) as (emulator, proxy, account), python_client_environment(proxy):
        stage = Stage(emulator, proxy, account, seed_deployed_service(emulator, project_dir), add_assistant(emulator, "Support Assistant")["id"])
        for step in setup_steps(project_dir, stage):
            show(step)
        # The runtime gets the variables `env set` put on the emulated environment, as the deployed one would.
        variables = {v["key"]: v["value"] for v in serverless.variables_of(emulator, stage.deployed.environment_sid)}
        runtime = start_runtime(project_dir, emulator, proxy, account, fork=fork, **variables)
        try:
            mode = "forked process per request" if fork else "in-process"
            for step in handoff_steps(stage, runtime, mode, variables):
                show(step)
            if keep_running:
                echo("\nThe emulator and the runtime keep running. Hand off another conversation with:")
                echo(f"   {tool_call(runtime, account).curl()}")
                echo("Press Ctrl-C to stop.")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    echo("Stopped.")
        finally:
            runtime.stop()
