"""Fixtures of the lifecycle functions' tests: the bot, and the workspace's events sent to the module's runtime."""

from __future__ import annotations

import pytest

from handover import contract
from twilio_emulator.agents import add_worker

TASK_EVENTS_PATH = "/lifecycle/task-events"


def callback_url(runtime) -> str:
    """The hand-back's URL as the workspace holds it once deployed: https, on the environment's domain (locally
    twilio-run's localhost:port, which the emulator reaches over plain HTTP)."""
    return f"https://localhost:{runtime.port}{TASK_EVENTS_PATH}"


@pytest.fixture(scope="module")
def bot(webhook_server):
    """The AI's webhook server, on loopback: what reaches the bot (a path per conversation)."""
    return webhook_server


@pytest.fixture
def wired(twilio, emulator, runtime):
    """The workspace's events sent to the module's runtime, as `handover handback wire` leaves it; unwired after."""
    with emulator.lock:
        workspace = emulator.table("workspaces")[twilio.account.workspace_sid]
        before = workspace["event_callback_url"], workspace["events_filter"]
        workspace["event_callback_url"] = callback_url(runtime)
        workspace["events_filter"] = ",".join(contract.HANDBACK_EVENTS)
    yield
    emulator.outbox.wait_idle()
    with emulator.lock:
        workspace["event_callback_url"], workspace["events_filter"] = before


@pytest.fixture
def agent(emulator):
    """A Flex agent, Alice, available; gone after the test."""
    worker = add_worker(emulator, "Alice")
    yield worker
    with emulator.lock:
        emulator.table("workers").pop(worker["sid"], None)


@pytest.fixture
def workers(emulator):
    """Make Flex agents (workers of the Flex workspace); removed after the test."""
    made = []

    def make(name: str) -> dict:
        made.append(add_worker(emulator, name))
        return made[-1]

    yield make
    with emulator.lock:
        for worker in made:
            emulator.table("workers").pop(worker["sid"], None)
