"""Calls of the handover tool over loopback, as an AI Assistant's webhook tool makes them, timed.

http.client straight to 127.0.0.1, so that no proxy setting of the environment can send the traffic
anywhere else; a new connection per call, as a webhook caller makes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection

from ..account.assistant_tool import TOOL_PATH
from ..contract import TOKEN_HEADER

CALL_TIMEOUT = 30.0  # seconds; the function itself answers within its 8 s deadline
AI_INPUT = {
    "reason": "The customer asks for a refund.",
    "summary": "Order 1042 arrived damaged; the customer wants the money back.",
}
PHONE_IDENTITY = "phone:+15551234567"
WRONG_TOKEN = "W" * 43  # well formed, not the deployment's: answered 401 after the constant-time comparison


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    started: float  # time.monotonic(), as the emulator records its requests
    finished: float

    @property
    def milliseconds(self) -> float:
        return (self.finished - self.started) * 1000

    @property
    def outcome(self) -> str:
        return str(self.body.get("status", "?"))


@dataclass(frozen=True)
class Caller:
    """The tool of one running runtime, called with the deployment's token for the account's conversations."""

    port: int
    token: str
    service_sid: str

    def headers(
        self, conversation_sid: str | None, identity: str = PHONE_IDENTITY, token: str | None = None
    ) -> dict[str, str]:
        """What the AI Assistant sends: its session, the customer, the token (another one to be refused)."""
        sent = {TOKEN_HEADER: token or self.token, "X-Identity": identity}
        if conversation_sid:
            sent["X-Session-Id"] = f"webhook:conversations__{self.service_sid}/{conversation_sid}"
        return sent

    def call(self, headers: dict[str, str], body: dict = AI_INPUT) -> Answer:
        payload = json.dumps(body).encode()
        connection = HTTPConnection("127.0.0.1", self.port, timeout=CALL_TIMEOUT)
        started = time.monotonic()
        try:
            connection.request("POST", TOOL_PATH, body=payload, headers={"Content-Type": "application/json", **headers})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        finished = time.monotonic()
        return Answer(response.status, json.loads(data or b"{}"), started, finished)


def call_together(calls: list[Callable[[], Answer]], timeout: float) -> list[Answer]:
    """Run the calls at the same moment, each from its own thread; their answers, in order.

    Bounded: every call has its own timeout, and the whole batch `timeout` seconds.
    """
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], Answer]) -> Answer:
        start.wait(timeout=timeout)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="bench-call") as pool:
        return list(pool.map(run, calls, timeout=timeout))
