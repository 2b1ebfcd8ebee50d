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

from .emulator import Emulator, EmulatorProxy, FlexAccount, RecordedRequest
from .localstack import local_stack, python_client_environment
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


def walkthrough(emulator: Emulator, proxy: EmulatorProxy, account: FlexAccount, runtime: LocalRuntime, mode: str) -> Iterator[Step]:
    yield Step(
        "Handover demo: an AI Assistant hands a web chat customer to a human agent in Flex",
        [
            f"Twilio: the embedded emulator (account {emulator.account.sid}), reached through {proxy.url}",
            f"Functions: twilio-run at {runtime.base_url} ({mode})",
        ],
    )
    call = tool_call(runtime, account)
    yield Step(
        "1. The AI Assistant calls the handover tool",
        [f"POST {call.url}"] + [f"{name}: {value}" for name, value in call.headers.items()] + [json.dumps(call.body)],
    )
    before = len(emulator.requests)
    status, answer = call_tool(call)
    made = emulator.requests[before:]
    yield Step("2. The function calls the Twilio API", [line for request in made for line in _twilio_request_lines(request)])
    yield Step("3. The function answers the AI Assistant", [f"HTTP {status}"] + json.dumps(answer, indent=2).splitlines())
    if answer.get("status") == "handed_off":
        interaction = emulator.table("interactions")[answer["interactionSid"]]
        task_sid = interaction["routing"]["properties"]["sid"]
        with python_client_environment(proxy):
            from twilio.rest import Client

            client = Client(emulator.account.sid, emulator.account.auth_token)
            task = client.taskrouter.v1.workspaces(account.workspace_sid).tasks(task_sid).fetch()
        yield Step(
            f"4. Flex queues a task for a human agent: {task.sid} ({task.assignment_status}, channel {task.task_channel_unique_name})",
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
    with local_stack(project_dir, fork=fork) as (emulator, proxy, account, runtime):
        mode = "forked process per request" if fork else "in-process"
        for step in walkthrough(emulator, proxy, account, runtime, mode):
            echo(f"\n{step.title}")
            for line in step.lines:
                echo(f"   {line}")
        if keep_running:
            echo("\nThe emulator and the runtime keep running. Hand off another conversation with:")
            echo(f"   {tool_call(runtime, account).curl()}")
            echo("Press Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                echo("Stopped.")
