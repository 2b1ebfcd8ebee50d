"""The demo: the user's journey on the embedded Twilio emulator, from an account as it is before they start.

The project is deployed with the Serverless Toolkit's own engine, configured with `env set`, `tool register` and
`handback wire`, and its tool called by the AI Assistant, which hands a web chat customer to Flex, silencing the
customer's bot; a Flex agent takes the task and leaves, and TaskRouter's event hands the customer back to the bot;
a second customer, whom no agent takes in time, is handed back too; a third, after hours, is not handed off at all.
Then Twilio Agent Connect's path: its handoff through the Studio flow, and the conversation given back to TAC after
the agent.
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

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
    add_participant,
    conversation_attributes,
    customer_writes,
    messages_of,
    orchestrated_conversation,
    run_execution,
    seed_flex_messaging_address,
    seed_tac_configuration,
    set_operation_timing,
    studio_executions,
)
from twilio_emulator.agents import accept, add_worker, leave, offer, time_out
from twilio_emulator.callbacks import Callback, signature
from twilio_emulator.products import conversations, serverless

from .. import contract, printers
from ..account import assistant_tool, credentials, deployment, routing, tokens, variables
from ..errors import HandoverError
from ..lifecycle import wiring
from ..project import ENV_FILE, read_deploy_info, read_local
from ..tac import addresses as tac_addresses
from ..tac import orchestrator as tac_orchestrator
from ..tac import requests as tac_requests
from ..tac import setup as tac_setup
from ..tac import studio_step, summaries, tac_env
from . import agent_view, deploy
from .runtime import START_TIMEOUT, LocalRuntime
from .stack import emulated_account, python_client_environment, start_runtime

TOKEN_FILE = "handover-token"
# What the AI sends, as the tool's input schema asks for it.
AI_INPUT = {
    "reason": "The customer asks for a refund, which only a member of the team can grant.",
    "summary": "Order 1042 arrived damaged. I explained the returns policy; the customer wants the money back now.",
}
# The hand-back: what the customer reads when the agent gives the conversation back (HANDBACK_MESSAGE, set by the
# demo), the agent, and the second customer, whom no agent takes in time.
HANDBACK_TEXT = "You are back with our AI assistant. Ask me anything else."
AGENT_NAME = "Alice"
# Where the demo leaves the agent's view of its tasks, under the project (git-ignored, as .cache/ is).
AGENT_VIEW_DIR = ".cache/agent-view"
SECOND_CUSTOMER = "Grace Hopper"
SECOND_AI_INPUT = {"reason": "The customer wants to change the delivery address of an order already shipped."}
# After hours: the third customer, and the team's opening hours (HANDOVER_HOURS), closed on the day the demo runs.
THIRD_CUSTOMER = "Katherine Johnson"
THIRD_AI_INPUT = {"reason": "The customer wants to speak to someone about a missing parcel."}
HOURS_TIME_ZONE = "Europe/Paris"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
# What the customers write, in order: to the bot, while handed off, back with the bot; the second customer's; the
# third's, after the AI told them no one is there.
CUSTOMER_LINES = (
    "Hello! My order 1042 arrived damaged.",
    "Is anyone there?",
    "Thanks! One more question: when does the refund arrive?",
    "Hello? Is the assistant back?",
    "All right, I will write again tomorrow.",
)
# How long the demo waits for Twilio's callbacks to be delivered and answered: the hand-back answers within its
# deadline (HANDOVER_DEADLINE_MS, 8 s by default), and the emulator gives up on a receiver after 15 s.
CALLBACK_WAIT = 20.0


# Twilio Agent Connect: TAC's number (its configuration captures its traffic, Flex's messaging address is on it), an
# SMS customer of TAC's virtual agent, and the status callback TAC's quickstart configuration sends its events to.
TAC_NUMBER = "+15005550006"
TAC_CUSTOMER = "+15005550009"
TAC_STATUS_CALLBACK = "https://tac.example.com/conversations"
TAC_ENV_FILE = "tac.env"
# What TAC's customer texts while the agent has the conversation, then after the hand-back; what carries it to TAC.
TAC_CUSTOMER_LINES = ("Thank you, Alice!", "One more thing: can I change my delivery address?")
TAC_COMMUNICATION = "orchestrator.COMMUNICATION_CREATED"


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


class Bot:
    """The customer's bot: a webhook server on loopback that the conversation's webhook sends each message to.

    It keeps what it receives, and whether Twilio's signature over its URL and the parameters holds; it answers
    200 and nothing else (a real bot would reply through the REST API).
    """

    PATH = "/bot"

    def __init__(self, auth_token: str):
        self._received: list[dict] = []
        self._lock = threading.Lock()
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                signed = signature(auth_token, bot.base + self.path, params)
                with bot._lock:
                    bot._received.append(
                        {
                            "path": self.path,
                            "params": params,
                            "signed": signed == self.headers.get("X-Twilio-Signature"),
                        }
                    )
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="handover-demo-bot", daemon=True)
        self._thread.start()

    def url(self, conversation_sid: str) -> str:
        """Where the bot takes a conversation's messages."""
        return f"{self.base}{self.PATH}/{conversation_sid}"

    def received(self, conversation_sid: str) -> list[dict]:
        """What reached the bot for the conversation, in order."""
        path = f"{self.PATH}/{conversation_sid}"
        with self._lock:
            return [r for r in self._received if r["path"] == path]

    def __enter__(self) -> Bot:
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


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
    Serverless Toolkit's deploy (twilio-run from `toolkit_dir`), then `env set`, `tool register` and `handback wire`
    through the real SDK, in the project's copy as the user runs them in their clone, and HANDBACK_MESSAGE set on
    the environment as `twilio serverless:env:set` sets it (its one request)."""
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
    before = len(emulator.requests)
    workspace_sid, where = wiring.find_workspace(client, stage.project, located)
    wired = wiring.wire(client, workspace_sid, where, located)
    yield Step(
        f"4. {wiring.WIRE_COMMAND}",
        [f"Using workspace {workspace_sid} ({where})."]
        + wired.lines()
        + wired.notes()
        + _requests_since(emulator, before, token, bodies=False),
    )
    before = len(emulator.requests)
    environment = client.serverless.v1.services(located.service_sid).environments(located.environment_sid)
    environment.variables.create(key=contract.HANDBACK_MESSAGE.name, value=HANDBACK_TEXT)
    yield Step(
        f"5. {contract.HANDBACK_MESSAGE.set_by.replace('…', HANDBACK_TEXT)}",
        [
            f"{contract.HANDBACK_MESSAGE.name}  environment {located.domain_name}: created  (optional: what the "
            "customer reads when the agent hands the conversation back; nothing by default)"
        ]
        + _requests_since(emulator, before, token, bodies=False),
    )


@dataclass
class Handoff:
    """A customer's conversation with the bot, and what its handoff made."""

    conversation_sid: str
    webhook_sid: str  # the bot's webhook on it
    task_sid: str | None = None


def _client(emulator: Emulator):
    return credentials.client(
        credentials.Credentials(emulator.account.sid, emulator.account.sid, emulator.account.auth_token, "the emulator")
    )


def _settle(emulator: Emulator, where: str) -> None:
    """Wait, bounded, until the callbacks queued so far are delivered and answered."""
    if not emulator.outbox.wait_idle(CALLBACK_WAIT):
        raise DemoFailed(f"{where}: Twilio's callbacks were still being delivered after {CALLBACK_WAIT:.0f} s")


def _callbacks_since(emulator: Emulator, before: int, source: str) -> list[Callback]:
    return [c for c in emulator.outbox.sent[before:] if c.source == source]


def _callback_lines(callbacks: list[Callback]) -> list[str]:
    """Each callback as the requests are printed: what, to where, and the receiver's answer."""
    return [
        f"{c.params.get('EventType')} → {c.url}  ->  {c.status if c.status is not None else c.error}" for c in callbacks
    ]


def _webhooks_of(emulator: Emulator, conversation_sid: str) -> list[dict]:
    with emulator.lock:
        table = emulator.table("conversation_scoped_webhooks")
        return [dict(w) for w in table.values() if w["conversation_sid"] == conversation_sid]


def _webhook_line(webhook: dict) -> str:
    configuration = webhook["configuration"]
    filters = ", ".join(configuration.get("filters") or [])
    return f"{webhook['sid']} (target {webhook['target']}, {filters} → {configuration.get('url')})"


def _add_bot_webhook(client, service_sid: str, conversation_sid: str, url: str) -> str:
    """The bot's conversation-scoped webhook, made through the API as a bot's setup makes it; its SID."""
    conversation = client.conversations.v1.services(service_sid).conversations(conversation_sid)
    created = conversation.webhooks.create(
        target="webhook", configuration_url=url, configuration_method="post", configuration_filters=["onMessageAdded"]
    )
    return created.sid


@dataclass
class Turn:
    """The customer wrote in their chat: the lines saying so, the webhooks Twilio sent, and what reached the bot."""

    lines: list[str]
    sent: list[Callback]
    received: list[dict]


def _customer_writes(emulator: Emulator, bot: Bot, conversation_sid: str, name: str, text: str, where: str) -> Turn:
    sent, received = len(emulator.outbox.sent), len(bot.received(conversation_sid))
    message = customer_writes(emulator, conversation_sid, text)
    _settle(emulator, where)
    webhooks = _callbacks_since(emulator, sent, "conversations.onMessageAdded")
    lines = [f'{name} writes: "{text}" (message {message["sid"]})'] + [
        "  " + line for line in _callback_lines(webhooks)
    ]
    return Turn(lines, webhooks, bot.received(conversation_sid)[received:])


def _reached_bot(received: list[dict], text: str) -> bool:
    return [r["params"].get("Body") for r in received] == [text] and all(r["signed"] for r in received)


def _bot_lines(received: list[dict], text: str) -> list[str]:
    if _reached_bot(received, text):
        return [f'→ the bot received it: "{text}", signed by Twilio (its X-Twilio-Signature holds)']
    return [f"→ the bot did not receive it as sent: {[r['params'].get('Body') for r in received]}"]


def handoff_steps(
    stage: Stage, runtime: LocalRuntime, mode: str, variables: dict[str, str], call: ToolCall, bot: Bot
) -> Generator[Step, None, Handoff]:
    """The runtime, the customer with the bot, the tool's call and the Flex task; the handoff, for what follows."""
    emulator, account = stage.emulator, stage.account
    client = _client(emulator)
    # The workspace sends its events to the deployed domain, which the emulator does not reach: this run's are
    # sent to the local runtime (its DOMAIN_NAME is localhost:port, over which the function checks the signature).
    local_url = f"https://localhost:{runtime.port}{wiring.TASK_EVENTS_PATH}"
    before = len(emulator.requests)
    client.taskrouter.v1.workspaces(account.workspace_sid).update(event_callback_url=local_url)
    yield Step(
        "6. twilio-run serves the deployed environment on this machine",
        [f"Functions: twilio-run at {runtime.base_url} ({mode})"]
        + _variable_lines(variables)
        + [
            f"For this local run, the workspace's EventCallbackUrl is this runtime's {local_url} (a real account "
            f"keeps step 4's {wiring.callback_url(stage.located)})"
        ]
        + _requests_since(emulator, before, call.token, bodies=False),
    )
    conversation = account.conversation_sid
    before = len(emulator.requests)
    handoff = Handoff(conversation, _add_bot_webhook(client, account.service_sid, conversation, bot.url(conversation)))
    lines = [
        f"The bot: a webhook server on this machine, at {bot.base}; {account.webchat_name} chats with it in "
        f"conversation {conversation}",
        "Its webhook on the conversation, made through the API as a bot's setup makes it:",
    ] + _requests_since(emulator, before, call.token)
    turn = _customer_writes(emulator, bot, conversation, account.webchat_name, CUSTOMER_LINES[0], "step 7")
    yield Step(
        "7. The customer chats with the bot: its webhook on the conversation sends it each message",
        lines + turn.lines + _bot_lines(turn.received, CUSTOMER_LINES[0]),
    )
    if not _reached_bot(turn.received, CUSTOMER_LINES[0]):
        raise DemoFailed("step 7: the bot did not receive the customer's message")
    yield Step("8. The AI Assistant calls the handover tool", call.shown())
    before = len(emulator.requests)
    status, answer = call_tool(call)
    yield Step("9. The function calls the Twilio API", _requests_since(emulator, before, call.token))
    yield Step(
        "10. The function answers the AI Assistant", [f"HTTP {status}"] + json.dumps(answer, indent=2).splitlines()
    )
    if answer.get("status") == "handed_off":
        interaction = emulator.table("interactions")[answer["interactionSid"]]
        handoff.task_sid = interaction["routing"]["properties"]["sid"]
        task = client.taskrouter.v1.workspaces(account.workspace_sid).tasks(handoff.task_sid).fetch()
        yield Step(
            f"11. Flex queues a task for a human agent: {task.sid} ({task.assignment_status}, channel "
            f"{task.task_channel_unique_name})",
            ["Task attributes, as the agent's Flex UI receives them:"]
            + json.dumps(json.loads(task.attributes), indent=2).splitlines(),
        )
    if status != 200:
        raise DemoFailed(f"the handoff did not complete (HTTP {status}, {len(emulator.violations)} violations)")
    return handoff


def direct_path_steps(
    stage: Stage,
    runtime: LocalRuntime,
    mode: str,
    variables: dict[str, str],
    call: ToolCall,
    bot: Bot,
    after_hours_runtime: tuple[dict, StartingRuntime],
) -> Iterator[Step]:
    """The handoff, then the hand-back, then after hours: DemoFailed, once the step is shown, where a step did not
    happen."""
    handoff = yield from handoff_steps(stage, runtime, mode, variables, call, bot)
    yield from handback_steps(stage, call, bot, handoff)
    yield from after_hours_steps(stage, call, bot, *after_hours_runtime)


def _told_lines(told: list[dict], expected: str, name: str | None = None) -> list[str]:
    """What the customer reads after the task's end: the messages added since, which should be `expected`."""
    said = f" ({name})" if name else ""
    lines = [f'The customer reads, from {m["author"]}: "{m["body"]}"{said}' for m in told]
    return lines or [f'The customer is told nothing (expected: "{expected}")']


def _hand_back_lines(
    emulator: Emulator, handoff: Handoff, sent: int, before: int, bot: Bot, *secrets: str
) -> tuple[list[str], list[str]]:
    """After a task's end: the events TaskRouter sent, the hand-back function's requests, the bot's webhook made
    again and the hand-back recorded; and what is wrong with them (nothing: the hand-back happened)."""
    events = _callbacks_since(emulator, sent, "taskrouter.event")
    webhooks = _webhooks_of(emulator, handoff.conversation_sid)
    handed_back = conversation_attributes(emulator, handoff.conversation_sid).get("handedBack")
    lines = (
        ["TaskRouter's event, signed, to the workspace's EventCallbackUrl:"]
        + ["  " + line for line in _callback_lines(events)]
        + ["The hand-back function calls the Twilio API:"]
        + ["  " + line for line in _requests_since(emulator, before, *secrets, bodies=False)]
        + [f"The bot's webhook, made again: {_webhook_line(w)}" for w in webhooks]
    )
    problems = [
        f"{c.params.get('EventType')} was answered {c.status if c.status is not None else c.error} by "
        f"{urlsplit(c.url).path}"
        for c in events
        if c.status != 200
    ]
    if not events:
        problems.append("TaskRouter sent no event to the hand-back")
    if [w["configuration"].get("url") for w in webhooks] != [bot.url(handoff.conversation_sid)]:
        problems.append("the bot's webhook was not made again")
    if not (handed_back and handed_back.get("taskSid") == handoff.task_sid and handed_back.get("botRestored")):
        problems.append("no hand-back is recorded on the conversation")
    return lines, problems


def handback_steps(stage: Stage, call: ToolCall, bot: Bot, handoff: Handoff) -> Iterator[Step]:
    """The bot silenced, the customer's message to Flex only, the agent's Leave and the hand-back, the bot back;
    then a second customer whom no agent takes in time, handed back too."""
    emulator, account = stage.emulator, stage.account
    conversation, name = handoff.conversation_sid, account.webchat_name
    webhooks = _webhooks_of(emulator, conversation)
    kept = conversation_attributes(emulator, conversation).get("handoffBotWebhooks") or []
    yield Step(
        "12. The bot is out of the conversation: the function deleted its webhook beside the interaction",
        [
            f"The conversation's webhooks: {', '.join(map(_webhook_line, webhooks)) or 'none'} "
            f"({handoff.webhook_sid} deleted, step 9)",
            "Kept on the conversation for the hand-back, as its attribute handoffBotWebhooks:",
        ]
        + json.dumps(kept, indent=2).splitlines(),
    )
    if webhooks or [w.get("sid") for w in kept] != [handoff.webhook_sid]:
        raise DemoFailed("step 12: the handoff did not take the bot out of the conversation and record its webhook")

    with emulator.lock:
        task_status = emulator.table("tasks")[handoff.task_sid]["assignment_status"]
    turn = _customer_writes(emulator, bot, conversation, name, CUSTOMER_LINES[1], "step 13")
    yield Step(
        "13. The customer writes while handed off: the message reaches only Flex",
        turn.lines
        + [
            f"→ it reached only Flex: it waits in the conversation for the agent who accepts task {handoff.task_sid} "
            f"({task_status})",
            "→ the bot received nothing: the conversation has no webhook, no onMessageAdded was sent",
        ]
        + (_bot_lines(turn.received, CUSTOMER_LINES[1]) if turn.received else []),
    )
    if turn.received or turn.sent:
        raise DemoFailed("step 13: the customer's message reached the bot while handed off")

    worker = add_worker(emulator, AGENT_NAME)
    reservation = offer(emulator, handoff.task_sid, worker["sid"])
    accept(emulator, reservation["sid"])
    _settle(emulator, "step 14")
    with emulator.lock:
        accepted = emulator.table("tasks")[handoff.task_sid]["assignment_status"]
    sent, before, written = len(emulator.outbox.sent), len(emulator.requests), len(messages_of(emulator, conversation))
    leave(emulator, handoff.task_sid)
    _settle(emulator, "step 14 (the hand-back)")
    lines, problems = _hand_back_lines(emulator, handoff, sent, before, bot, call.token)
    handed_back = conversation_attributes(emulator, conversation).get("handedBack")
    told = messages_of(emulator, conversation)[written:]
    if [m["body"] for m in told] != [HANDBACK_TEXT]:
        problems.append(f"the customer was not told {contract.HANDBACK_MESSAGE.name}")
    yield Step(
        f"14. {AGENT_NAME}, an agent in Flex, takes the task, then leaves: TaskRouter's task.wrapup hands the customer "
        "back to the bot",
        [
            f"TaskRouter offers task {handoff.task_sid} to {AGENT_NAME} (worker {worker['sid']}): reservation "
            f"{reservation['sid']}",
            f"{AGENT_NAME} accepts in Flex: the task is {accepted}, {AGENT_NAME} joins the conversation",
            f"{AGENT_NAME} clicks Leave: she leaves the conversation, which stays open, and the task wraps up",
        ]
        + lines
        + ["handedBack, as recorded on the conversation:"]
        + json.dumps(handed_back, indent=2).splitlines()
        + _told_lines(told, HANDBACK_TEXT, contract.HANDBACK_MESSAGE.name),
    )
    if problems:
        raise DemoFailed(f"the hand-back did not happen (step 14): {'; '.join(problems)}")

    turn = _customer_writes(emulator, bot, conversation, name, CUSTOMER_LINES[2], "step 15")
    yield Step(
        "15. The customer writes again: the bot has the conversation back",
        turn.lines + _bot_lines(turn.received, CUSTOMER_LINES[2]),
    )
    if not _reached_bot(turn.received, CUSTOMER_LINES[2]):
        raise DemoFailed("step 15: the bot did not receive the customer's message after the hand-back")

    yield from no_agent_steps(stage, call, bot)


def no_agent_steps(stage: Stage, call: ToolCall, bot: Bot) -> Iterator[Step]:
    """A second customer handed off, whom no agent takes in time: the workflow's timeout hands them back."""
    emulator, account = stage.emulator, stage.account
    client = _client(emulator)
    with emulator.lock:
        identity = "FX" + emulator.new_sid("")[:32]
        conversations.add_user(emulator, account.service_sid, identity, SECOND_CUSTOMER)
    conversation = add_conversation(emulator, account, "Customer chat with the AI Assistant")
    add_participant(emulator, conversation, identity=identity)
    before = len(emulator.requests)
    handoff = Handoff(conversation, _add_bot_webhook(client, account.service_sid, conversation, bot.url(conversation)))
    lines = [f"{SECOND_CUSTOMER} chats with the bot in conversation {conversation}; its webhook:"]
    lines += _requests_since(emulator, before, call.token, bodies=False)
    second = ToolCall(
        call.url,
        {
            **call.headers,
            "X-Session-Id": f"webhook:conversations__{account.service_sid}/{conversation}",
            "X-Identity": f"flex_participant:{identity}",
        },
        SECOND_AI_INPUT,
    )
    before = len(emulator.requests)
    status, answer = call_tool(second)
    lines += [f"The AI Assistant calls the handover tool for it: HTTP {status}, {answer.get('status')}"]
    lines += ["  " + line for line in _requests_since(emulator, before, call.token, bodies=False)]
    if answer.get("status") == "handed_off":
        with emulator.lock:
            interaction = emulator.table("interactions")[answer["interactionSid"]]
            handoff.task_sid = interaction["routing"]["properties"]["sid"]
            task_status = emulator.table("tasks")[handoff.task_sid]["assignment_status"]
        webhooks = _webhooks_of(emulator, conversation)
        lines += [
            f"Flex queues task {handoff.task_sid} ({task_status}); the conversation's webhooks: "
            f"{', '.join(map(_webhook_line, webhooks)) or 'none'}"
        ]
    yield Step(f"16. A second customer, {SECOND_CUSTOMER}, chats with the bot and is handed off", lines)
    if status != 200 or handoff.task_sid is None:
        raise DemoFailed(f"step 16: the second customer's handoff did not complete (HTTP {status})")

    sent, before, written = len(emulator.outbox.sent), len(emulator.requests), len(messages_of(emulator, conversation))
    time_out(emulator, handoff.task_sid)
    _settle(emulator, "step 17 (the hand-back)")
    lines, problems = _hand_back_lines(emulator, handoff, sent, before, bot, call.token)
    told = messages_of(emulator, conversation)[written:]
    if [m["body"] for m in told] != [contract.NO_AGENT_MESSAGE.default]:
        problems.append(f"the customer was not told {contract.NO_AGENT_MESSAGE.name}")
    turn = _customer_writes(emulator, bot, conversation, SECOND_CUSTOMER, CUSTOMER_LINES[3], "step 17")
    if not _reached_bot(turn.received, CUSTOMER_LINES[3]):
        problems.append("the bot did not receive the customer's next message")
    yield Step(
        "17. No agent takes it in time: the workflow times the task out, and TaskRouter's task.canceled hands the "
        "customer back",
        [f"TaskRouter cancels task {handoff.task_sid}: {_task_reason(emulator, handoff.task_sid)}"]
        + lines
        + _told_lines(told, contract.NO_AGENT_MESSAGE.default, f"{contract.NO_AGENT_MESSAGE.name}, its default")
        + turn.lines
        + _bot_lines(turn.received, CUSTOMER_LINES[3]),
    )
    if problems:
        raise DemoFailed(f"the hand-back after no agent did not happen (step 17): {'; '.join(problems)}")


def after_hours(now: datetime | None = None) -> dict:
    """HANDOVER_HOURS closed whenever the demo runs: weekdays 09:00 to 18:00 in Paris, and closed today there.

    The next opening is the first weekday after today at 09:00, also when midnight passes during the demo.
    """
    today = (now or datetime.now(ZoneInfo(HOURS_TIME_ZONE))).astimezone(ZoneInfo(HOURS_TIME_ZONE)).date()
    return {
        "timeZone": HOURS_TIME_ZONE,
        "weekly": {day: [["09:00", "18:00"]] for day in WEEKDAYS},
        "closed": [today.isoformat()],
    }


class StartingRuntime:
    """A runtime started on a thread of its own while the demo goes on (its start takes a second or two); `get` waits
    for it, `stop` stops it however far it got."""

    def __init__(self, start: Callable[[], LocalRuntime]):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="handover-demo-runtime")
        self._future = self._pool.submit(start)

    def get(self) -> LocalRuntime:
        return self._future.result(timeout=START_TIMEOUT + 10)

    def stop(self) -> None:
        try:
            runtime = self._future.result(timeout=START_TIMEOUT + 10)
        except Exception:  # its start failed, and stopped what it had started; `get` said why
            runtime = None
        if runtime is not None:
            runtime.stop()
        self._pool.shutdown()


def _tasks_count(emulator: Emulator) -> int:
    with emulator.lock:
        return len(emulator.table("tasks"))


def _interactions_of(emulator: Emulator, conversation_sid: str) -> list[str]:
    with emulator.lock:
        interactions = list(emulator.table("interactions").values())
    return [
        i["sid"]
        for i in interactions
        if json.loads(i["routing"]["properties"]["attributes"]).get("conversationSid") == conversation_sid
    ]


def after_hours_steps(stage: Stage, call: ToolCall, bot: Bot, hours: dict, starting: StartingRuntime) -> Iterator[Step]:
    """A third customer after hours: the same deployment with HANDOVER_HOURS closed now (a second runtime, started
    while the steps above ran) answers the AI no_agent_available with the next opening; no task, the bot stays."""
    emulator, account = stage.emulator, stage.account
    try:
        runtime = starting.get()
    except HandoverError as error:
        raise DemoFailed(f"step 18: the runtime with HANDOVER_HOURS did not start: {error}") from error
    client = _client(emulator)
    with emulator.lock:
        identity = "FX" + emulator.new_sid("")[:32]
        conversations.add_user(emulator, account.service_sid, identity, THIRD_CUSTOMER)
    conversation = add_conversation(emulator, account, "Customer chat with the AI Assistant")
    add_participant(emulator, conversation, identity=identity)
    lines = [
        f"{contract.HOURS.name}={json.dumps(hours)}",
        f"  (the team's hours: Monday to Friday, 09:00 to 18:00 in Paris, and closed today, {hours['closed'][0]}: "
        f"after hours whenever the demo runs. On an account: {contract.HOURS.set_by})",
        f"Functions: a second twilio-run of the deployment at {runtime.base_url}, with the environment's variables "
        f"and {contract.HOURS.name} (started beside the steps above; the first runtime is left as it was)",
    ]
    before = len(emulator.requests)
    webhook_sid = _add_bot_webhook(client, account.service_sid, conversation, bot.url(conversation))
    lines += [f"{THIRD_CUSTOMER} chats with the bot in conversation {conversation}; its webhook:"]
    lines += ["  " + line for line in _requests_since(emulator, before, call.token, bodies=False)]
    registered = urlsplit(call.url)  # the registered path and token, at this runtime
    third = ToolCall(
        runtime.url(registered.path) + (f"?{registered.query}" if registered.query else ""),
        {
            **call.headers,
            "X-Session-Id": f"webhook:conversations__{account.service_sid}/{conversation}",
            "X-Identity": f"flex_participant:{identity}",
        },
        THIRD_AI_INPUT,
    )
    tasks_before, before = _tasks_count(emulator), len(emulator.requests)
    status, answer = call_tool(third)
    lines += [f"The AI Assistant calls the handover tool for her: HTTP {status}"]
    lines += ["  " + line for line in _requests_since(emulator, before, call.token, bodies=False)]
    lines += ["The function answers the AI Assistant:"] + json.dumps(answer, indent=2).splitlines()
    tasks_after, interactions = _tasks_count(emulator), _interactions_of(emulator, conversation)
    lines += [
        f"No task was created: the account has {tasks_after} task(s), as before the call ({tasks_before}); "
        f"interactions of the conversation: {', '.join(interactions) or 'none'}"
        if tasks_after == tasks_before and not interactions
        else f"A task was created: {tasks_before} task(s) before the call, {tasks_after} after; interactions of the "
        f"conversation: {', '.join(interactions) or 'none'}"
    ]
    webhooks = _webhooks_of(emulator, conversation)
    lines += [f"The bot keeps its webhook: {', '.join(map(_webhook_line, webhooks)) or 'none'}"]
    turn = _customer_writes(emulator, bot, conversation, THIRD_CUSTOMER, CUSTOMER_LINES[4], "step 18")
    yield Step(
        "18. After hours: the AI is told no one is there",
        lines + turn.lines + _bot_lines(turn.received, CUSTOMER_LINES[4]),
    )
    problems = []
    if (status, answer.get("status"), answer.get("reason")) != (200, "no_agent_available", "closed"):
        problems.append(f"the tool answered HTTP {status} {answer.get('status')}, not 200 no_agent_available (closed)")
    elif not answer.get("nextOpening"):
        problems.append("the answer does not say when the team opens (nextOpening)")
    if tasks_after != tasks_before or interactions:
        problems.append("a task was created")
    if [w["sid"] for w in webhooks] != [webhook_sid]:
        problems.append("the bot's webhook did not stay")
    if not _reached_bot(turn.received, CUSTOMER_LINES[4]):
        problems.append("the bot did not receive the customer's next message")
    if problems:
        raise DemoFailed(f"after hours (step 18): {'; '.join(problems)}")


def _task_reason(emulator: Emulator, task_sid: str) -> str:
    with emulator.lock:
        return emulator.table("tasks")[task_sid].get("reason") or "no reason given"


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
        f"19. handover tac setup --address {TAC_NUMBER} --tac-env {TAC_ENV_FILE} "
        f"--conversations-service {account.service_sid}",
        # The scratch directory's path shown as the command names the file.
        [tokens.redact(line.replace(str(tac_file), TAC_ENV_FILE), *secret_values) for line in lines]
        + _requests_since(emulator, before, *secret_values, bodies=False),
    )
    # A customer texts TAC's number: the bridge gives the Orchestrator conversation a Conversations (Classic) one.
    classic = add_conversation(emulator, account, f"SMS from {TAC_CUSTOMER}")
    add_participant(emulator, classic, address=TAC_CUSTOMER)
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
    # What twilio-agent-connect 2.5.0's handoff tool sends (tac/tools/handoff.py, through tac/context/conversation.py):
    # update_conversation's PUT, clear_status_callbacks's PATCH, then post_studio_handoff's Execution.
    orchestrated_url = f"https://conversations.twilio.com/v2/Conversations/{conversation['id']}"
    tac_requests.request(client, "PUT", orchestrated_url, {"status": "INACTIVE"})
    tac_requests.request(client, "PATCH", orchestrated_url, {"configuration": {"statusCallbacks": []}})
    client.studio.v2.flows(flow_sid).executions.create(
        to=TAC_CUSTOMER, from_=TAC_NUMBER, parameters={"HandoffData": handoff}
    )
    yield Step(
        "20. TAC's escalation tool: the conversation INACTIVE, its status callbacks cleared, then the Studio execution",
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
        f"21. The Studio flow runs to Send to Flex: a task on workflow {run.flex.workflow_sid}, channel {channel}",
        [f"Path: {' → '.join(run.path)}"]
        + _requests_since(emulator, before, *secret_values, bodies=False)
        + ["Task attributes, as the agent's Flex UI receives them:"]
        + json.dumps(run.flex.attributes, indent=2).splitlines(),
    )
    if run.task_sid is None:
        raise DemoFailed("step 21: Send to Flex made no task")
    yield from tac_handback_steps(stage, classic, conversation["id"], run.task_sid, *secret_values)


def tac_handback_steps(stage: Stage, classic: str, orchestrated: str, task_sid: str, *secrets: str | None):
    """An agent takes TAC's task and leaves: TaskRouter's task.wrapup gives the conversation back to TAC (the
    Orchestrator conversation ACTIVE with its configuration's status callbacks), once."""
    emulator = stage.emulator
    with emulator.lock:  # Alice, who took the first customer's task, or a new agent if that part failed
        named = [w for w in emulator.table("workers").values() if w["friendly_name"] == AGENT_NAME]
    worker = named[0] if named else add_worker(emulator, AGENT_NAME)
    accept(emulator, offer(emulator, task_sid, worker["sid"])["sid"])
    _settle(emulator, "step 22")
    sent = len(emulator.outbox.sent)
    customer_writes(emulator, classic, TAC_CUSTOMER_LINES[0])
    _settle(emulator, "step 22")
    to_tac_while_handed_off = _callbacks_since(emulator, sent, TAC_COMMUNICATION)
    sent, before, written = len(emulator.outbox.sent), len(emulator.requests), len(messages_of(emulator, classic))
    leave(emulator, task_sid)
    _settle(emulator, "step 22 (the hand-back)")
    events = _callbacks_since(emulator, sent, "taskrouter.event")
    after = orchestrated_conversation(emulator, orchestrated)
    callbacks = after["configuration"]["statusCallbacks"]
    handed_back = conversation_attributes(emulator, classic).get("handedBack")
    told = messages_of(emulator, classic)[written:]
    yield Step(
        f"22. {AGENT_NAME} takes TAC's task {task_sid}, then leaves: TaskRouter's task.wrapup gives the "
        "conversation back to TAC",
        [
            f'While {AGENT_NAME} has it, the customer texts "{TAC_CUSTOMER_LINES[0]}": Conversation Orchestrator '
            f"sends TAC {len(to_tac_while_handed_off)} webhook(s) (its status callbacks are cleared)",
            f"{AGENT_NAME} clicks Leave; TaskRouter's event, signed, to the workspace's EventCallbackUrl:",
        ]
        + ["  " + line for line in _callback_lines(events)]
        + ["The hand-back function calls the Twilio API:"]
        + ["  " + line for line in _requests_since(emulator, before, *secrets, bodies=False)]
        + [
            f"TAC's conversation {orchestrated}: {after['status']}, status callbacks "
            f"{', '.join(c['url'] for c in callbacks) or 'none'} (its configuration's)"
        ]
        + ["handedBack, as recorded on the Conversations (Classic) conversation:"]
        + json.dumps(handed_back, indent=2).splitlines()
        + _told_lines(told, HANDBACK_TEXT, contract.HANDBACK_MESSAGE.name),
    )
    problems = [f"{c.params.get('EventType')} was answered {c.status}" for c in events if c.status != 200]
    if not events:
        problems.append("TaskRouter sent no event to the hand-back")
    if (after["status"], [c["url"] for c in callbacks]) != ("ACTIVE", [TAC_STATUS_CALLBACK]):
        problems.append("TAC's conversation is not ACTIVE with TAC's status callback")
    if not (handed_back and handed_back.get("taskSid") == task_sid):
        problems.append("no hand-back is recorded on the conversation")
    if [m["body"] for m in told] != [HANDBACK_TEXT]:
        problems.append(f"the customer was not told {contract.HANDBACK_MESSAGE.name}")
    if to_tac_while_handed_off:
        problems.append("TAC got the customer's message while the agent had the conversation")
    if problems:
        raise DemoFailed(f"the hand-back to TAC did not happen (step 22): {'; '.join(problems)}")

    sent = len(emulator.outbox.sent)
    customer_writes(emulator, classic, TAC_CUSTOMER_LINES[1])
    _settle(emulator, "step 23")
    to_tac = _callbacks_since(emulator, sent, TAC_COMMUNICATION)
    yield Step(
        f'23. The customer texts again, "{TAC_CUSTOMER_LINES[1]}": Conversation Orchestrator sends it to TAC',
        [
            f"COMMUNICATION_CREATED, JSON signed with bodySHA256, → {c.url}  ->  "
            + (str(c.status) if c.delivered else "not delivered: the demo runs no TAC server (loopback only)")
            for c in to_tac
        ]
        + [
            f"Its communication's content.text, which TAC's messaging channel hands to its LLM: "
            f"{json.loads(c.body)['data']['content']['text']!r}"
            for c in to_tac
        ],
    )
    if [urlsplit(c.url).path for c in to_tac] != [urlsplit(TAC_STATUS_CALLBACK).path]:
        raise DemoFailed("step 23: the customer's message did not go to TAC's status callback after the hand-back")


def agent_view_step(emulator: Emulator, project_dir: Path, runtime: LocalRuntime) -> Step:
    """The agent's view of the demo's tasks, as the Flex plugin renders them for Alice, written where it outlives the
    demo (AGENT_VIEW_DIR, git-ignored). Without the plugin's build the step says how to make it, and the demo goes on:
    the plugin is the agent's side, not the handoff's."""
    with emulator.lock:
        task_sids = list(emulator.table("tasks"))
        alice = next(w["sid"] for w in emulator.table("workers").values() if w["friendly_name"] == AGENT_NAME)
    try:
        page = agent_view.write_for_tasks(
            project_dir / AGENT_VIEW_DIR,
            emulator,
            task_sids,
            project_dir=project_dir,
            base_url=runtime.url(""),
            worker_sid=alice,
        )
    except HandoverError as error:
        return Step("The agent's view was not written", [str(error)])
    return Step(
        f"The agent's view of these {len(task_sids)} tasks, as the Flex plugin shows them to {AGENT_NAME}: open",
        [
            page.as_uri(),
            "(the plugin's production build in a page that stands in for Flex; its Return to AI reaches the local",
            " runtime while it runs: handover demo --keep-running)",
        ],
    )


# The voice path: a ConversationRelay voice AI's number, and what its AI says when it hands a caller off.
VOICE_NUMBER = "+15005550007"
VOICE_CALLER = "+15005550010"
VOICE_RELAY = "wss://voice-ai.example.com/relay"


def voice_steps(stage: Stage, flow_sid: str, fork: bool, *secret_values: str | None) -> Iterator[Step]:
    """A voice AI's caller handed to Flex on each path: `handover voice wire`, then a call through the deployed
    /voice/incoming-call, the AI's `end` message with handoffData, and the task its action makes: the kit's
    /voice/connect-action (direct), then the Studio handoff flow's incomingCall branch (studio)."""
    from twilio_emulator import add_phone_number, callers

    from ..voice import wiring as voice_wiring

    emulator = stage.emulator
    client = _client(emulator)
    with emulator.lock:
        add_phone_number(emulator, VOICE_NUMBER)
    handoff = {"attributes": {"reason": AI_INPUT["reason"], "summary": AI_INPUT["summary"]}}
    for number, path in ((24, "direct"), (26, "studio")):
        before = len(emulator.requests)
        if path == "studio":  # as `twilio serverless:env:set` (or `handover studio deploy`) leaves the environment
            serverless.set_variable(
                emulator, stage.located.service_sid, stage.located.environment_sid, contract.STUDIO_FLOW.name, flow_sid
            )
        wired = voice_wiring.wire(client, stage.located, VOICE_NUMBER, VOICE_RELAY, path)
        yield Step(
            f"{number}. handover voice wire --number {VOICE_NUMBER} --relay-url {VOICE_RELAY} --path {path}",
            wired.lines() + wired.notes() + _requests_since(emulator, before, *secret_values, bodies=False),
        )
        variables = {v["key"]: v["value"] for v in serverless.variables_of(emulator, stage.located.environment_sid)}
        runtime = start_runtime(stage.project, emulator, stage.proxy, stage.account, fork=fork, **variables)
        # The number answers at the deployed domain, which the emulator does not reach: this run's calls go to the
        # local runtime, which serves the same functions with the environment's variables (as step 6's events do).
        local_url = f"https://localhost:{runtime.port}{voice_wiring.INCOMING_CALL_PATH}"
        before = len(emulator.requests)
        number_sid = voice_wiring.find_number(client, VOICE_NUMBER).sid
        client.incoming_phone_numbers(number_sid).update(voice_url=local_url)
        try:
            call = callers.incoming_call(emulator, VOICE_NUMBER, VOICE_CALLER)
            callers.end_session(emulator, call.sid, handoff)
        finally:
            runtime.stop()
            client.incoming_phone_numbers(number_sid).update(voice_url=wired.voice_url)
        if call.task_sid is None:
            raise DemoFailed(f"the {path} voice path enqueued no task: {call.unsupported or call.webhooks[-1]}")
        with emulator.lock:
            attributes = json.loads(emulator.table("tasks")[call.task_sid]["attributes"])
        lines = [f"{VOICE_CALLER} calls {VOICE_NUMBER}; for this run its voice URL is the local runtime's, {local_url}"]
        for webhook in call.webhooks:
            if webhook["status"] is None:
                lines.append(
                    f"The action is the Studio flow's webhook, run by the emulator as Studio runs it: {webhook['url']}"
                )
            else:
                lines.append(f"Twilio requests {webhook['url']} (POST, signed) → {webhook['status']}")
            if webhook.get("params", {}).get("HandoffData"):
                lines.append(f"   HandoffData: {webhook['params']['HandoffData']}")
            if webhook.get("body"):
                lines.append(f"   {webhook['body']}")
            if webhook.get("flow_path"):
                lines.append(f"   Path: {' → '.join(webhook['flow_path'])}")
        lines += _requests_since(emulator, before, *secret_values, bodies=False)
        lines += [f"Task {call.task_sid} on channel voice, as the agent's Flex UI receives it:"]
        lines += json.dumps(attributes, indent=2).splitlines()
        yield Step(
            f"{number + 1}. The voice AI hands the caller off ({path} path): the session's end enqueues the call",
            [tokens.redact(line, *secret_values) for line in lines],
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
        Bot(emulator.account.auth_token) as bot,
    ):
        clone = deploy.clean_copy(
            project_dir,
            Path(scratch) / "flex-handover",
            {"ACCOUNT_SID": emulator.account.sid, "AUTH_TOKEN": emulator.account.auth_token},
        )
        # The clone's runtime is the project's: twilio-run and the functions' dependencies are installed there.
        (clone / "node_modules").symlink_to(project_dir / "node_modules", target_is_directory=True)
        stage = Stage(emulator, proxy, account, add_assistant(emulator, "Support Assistant")["id"], clone)
        # The customer is in their web chat's conversation, as Flex's web chat puts them there.
        add_participant(emulator, account.conversation_sid, identity=account.webchat_identity)
        # Twilio asks a client to poll an Orchestrator operation after a second (Retry-After: 1); this account asks
        # for no wait, so that the demo stays short. tac setup's own tests wait as Twilio asks.
        set_operation_timing(emulator, OperationTiming(retry_after=0))
        for step in setup_steps(project_dir, stage):
            show(step)
        # The runtime serves what was deployed, with the variables the environment has, as the deployed one would.
        variables = {v["key"]: v["value"] for v in serverless.variables_of(emulator, stage.located.environment_sid)}
        runtime = start_runtime(clone, emulator, proxy, account, fork=fork, **variables)
        # Step 18's runtime: the same deployment with HANDOVER_HOURS closed now, started while the steps before it run.
        hours = after_hours()
        after_hours_config = {**variables, contract.HOURS.name: json.dumps(hours)}
        starting = StartingRuntime(
            lambda: start_runtime(clone, emulator, proxy, account, fork=fork, **after_hours_config)
        )
        try:
            mode = "forked process per request" if fork else "in-process"
            call = tool_call(runtime, account, registered_url(emulator, stage.assistant_id))
            failed = None
            try:
                for step in direct_path_steps(stage, runtime, mode, variables, call, bot, (hours, starting)):
                    show(step)
            except DemoFailed as failure:
                failed = failure  # the TAC path runs all the same; the demo fails at the end
            with tempfile.TemporaryDirectory(prefix="handover-tac-") as work_dir:
                for step in tac_steps(stage, Path(work_dir), call.token):
                    show(step)
                flow_sid = read_local(Path(work_dir) / TAC_ENV_FILE)[tac_env.FLOW_SID]
                for step in voice_steps(stage, flow_sid, fork, call.token):
                    show(step)
            show(checked_step(emulator))
            if failed is not None:
                raise failed
            check_traffic(emulator)
            show(agent_view_step(emulator, project_dir, runtime))
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
            starting.stop()
            runtime.stop()
