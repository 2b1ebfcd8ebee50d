"""Faults a test injects: a request delayed, answered with an error, or its connection dropped.

A fault strikes before the handler (Twilio did nothing) or after it (Twilio did the work, the client cannot know).
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Clock
from .errors import TwilioError
from .recording import RecordedRequest

DEFAULT_FAULT_CODES = {429: 20429, 500: 20500, 503: 20503}


@dataclass
class Fault:
    """Make matching requests fail: a delay, then a dropped connection or else an HTTP error (or neither).

    By default the fault strikes before the handler, so Twilio did nothing. With `after=True` the handler
    runs first (the interaction is created, the item claimed) and the fault strikes its answer: the client
    gets it late, gets the error instead, or loses the connection — the server did the work, the client
    cannot know it.
    """

    method: str
    path_contains: str
    status: int | None = None
    code: int | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = 1  # None: every matching request
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.path_contains in path and (self.times is None or self.times > 0)

    def error(self) -> TwilioError:
        code = self.code or DEFAULT_FAULT_CODES.get(self.status, 20001)
        return TwilioError(self.status, code, f"Injected fault {self.status}")


class DroppedConnection(Exception):
    """Raised by `Emulator.handle` when a fault says to close the connection without answering."""


def take_fault(faults: list[Fault], method: str, path: str) -> Fault | None:
    """The first fault matching the request, one of its times used up; None if none does. The caller holds the lock."""
    fault = next((f for f in faults if f.matches(method, path)), None)
    if fault and fault.times is not None:
        fault.times -= 1
    return fault


def strike(fault: Fault, record: RecordedRequest, clock: Clock) -> tuple[int, object] | None:
    """Wait the fault's delay (outside the lock: other requests go on), then drop or answer its error.

    None: answer as usual.
    """
    if fault.delay:
        clock.wait(fault.delay)
    if fault.drop:
        raise DroppedConnection(record.url)
    return (fault.status, fault.error().body()) if fault.status else None


def strike_after(fault: Fault, record: RecordedRequest, answer: tuple[int, object], clock: Clock) -> tuple[int, object]:
    """The handler's answer, late, or replaced, or never sent; what the client does not get is kept as `withheld`."""
    if fault.drop or fault.status:
        record.withheld = answer
    return strike(fault, record, clock) or answer
