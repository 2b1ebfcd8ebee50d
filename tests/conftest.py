"""Shared fixtures: one emulated Twilio account behind its TLS proxy, and the real local runtime against it."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from handover import contract
from handover.local.runtime import LocalRuntime
from handover.local.stack import start_runtime
from tests.webhook_receiver import Receiver
from twilio_emulator import (
    Emulator,
    EmulatorProxy,
    FlexAccount,
    add_flow,
    add_sync_map,
    new_account,
    seed_flex_account,
    spec_directory,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]
# The deployment's handover token in every runtime the tests start, and the one call_tool presents.
HANDOVER_TOKEN = secrets.token_urlsafe(32)


@dataclass
class Twilio:
    emulator: Emulator
    proxy: EmulatorProxy
    account: FlexAccount


@pytest.fixture(scope="session")
def twilio() -> Twilio:
    emulator = Emulator(spec_directory(PROJECT_DIR), new_account())
    account = seed_flex_account(emulator)
    for claim_map in contract.CLAIM_MAPS:  # as `handover env set` leaves a deployment
        add_sync_map(emulator, claim_map)
    with EmulatorProxy(emulator) as proxy:
        yield Twilio(emulator, proxy, account)


@pytest.fixture(scope="session")
def studio_flow(twilio: Twilio) -> str:
    """The SID of a published Studio handoff flow of the account, which the studio-handover tool starts."""
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "properties": {"offset": {"x": 0, "y": 0}},
        "transitions": [{"event": "incomingRequest", "next": "SendToAgent"}],
    }
    send_to_flex = {
        "name": "SendToAgent",
        "type": "send-to-flex",
        "properties": {
            "workflow": twilio.account.workflow_sid,
            "attributes": "{{flow.data.HandoffData.attributes | to_json}}",
        },
        "transitions": [],
    }
    definition = {
        "description": "Agent Handoff",
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
        "states": [trigger, send_to_flex],
    }
    return add_flow(twilio.emulator, "Agent Handoff", definition)["sid"]


@pytest.fixture(scope="session")
def runtimes(twilio: Twilio):
    """Start (once per configuration) the real twilio-run against the emulator; stopped at the end."""
    started: dict[tuple, LocalRuntime] = {}

    def runtime(fork: bool = False, **config: str | None) -> LocalRuntime:
        config = {"HANDOVER_TOKEN": HANDOVER_TOKEN, **config}
        key = (fork, tuple(sorted(config.items())))
        if key not in started:
            started[key] = start_runtime(
                PROJECT_DIR, twilio.emulator, twilio.proxy, twilio.account, fork=fork, **config
            )
        return started[key]

    yield runtime
    for started_runtime in started.values():
        started_runtime.stop()


@pytest.fixture(scope="module")
def webhook_server() -> Receiver:
    """A loopback web server that keeps the webhooks and callbacks it receives, one per test module."""
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture
def webhook_receiver(webhook_server: Receiver) -> Receiver:
    """The module's webhook server, with nothing received yet and every path answering 200."""
    webhook_server.received.clear()
    webhook_server.statuses.clear()
    webhook_server.twiml.clear()
    return webhook_server


@pytest.fixture
def emulator(twilio: Twilio) -> Emulator:
    """The shared emulator with earlier tests' requests and faults forgotten; a test fails on any spec violation, and
    on any request for an operation the emulator does not serve (a 501: what Twilio answers is unknown)."""
    twilio.emulator.clear_traffic()
    violations_before, unserved_before = len(twilio.emulator.violations), len(twilio.emulator.unserved)
    yield twilio.emulator
    new_violations = [str(v) for v in twilio.emulator.violations[violations_before:]]
    assert new_violations == [], "requests broke Twilio's OpenAPI description"
    new_unserved = [str(u) for u in twilio.emulator.unserved[unserved_before:]]
    assert new_unserved == [], "requests asked for operations the emulator does not serve (answered 501)"


@dataclass
class Answer:
    status: int
    body: dict
    content_type: str


_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def call_tool(
    runtime: LocalRuntime,
    headers: dict[str, str] | None = None,
    body: dict | None = None,
    *,
    method: str = "POST",
    form: bool = False,
    path: str = "/tools/flex-handover",
    token: str | None = HANDOVER_TOKEN,
) -> Answer:
    """Call a function over HTTP as an AI agent's webhook tool does; with the handover token unless token=None."""
    url, data, sent = runtime.url(path), None, dict(headers or {})
    if token is not None:
        sent.setdefault("X-Handover-Token", token)
    if method == "GET":
        url += "?" + urllib.parse.urlencode(body or {})
    elif form:
        data, sent["Content-Type"] = urllib.parse.urlencode(body or {}).encode(), "application/x-www-form-urlencoded"
    else:
        data, sent["Content-Type"] = json.dumps(body or {}).encode(), "application/json"
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with _LOOPBACK.open(request, timeout=30) as response:
            return Answer(response.status, json.loads(response.read()), response.headers.get("Content-Type", ""))
    except urllib.error.HTTPError as error:
        return Answer(error.code, json.loads(error.read()), error.headers.get("Content-Type", ""))


@pytest.fixture(name="call_tool")
def call_tool_fixture():
    return call_tool
