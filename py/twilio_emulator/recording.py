"""What the emulator keeps of each request it received, for tests and the benchmark to read."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RecordedRequest:
    """One request the emulator received. The credential's secret is never kept."""

    method: str
    host: str
    path: str
    query: str
    content_type: str
    body: object
    auth_user: str | None
    operation: str | None = None
    # Answered 501: the description has the operation, the emulator does not serve it (Emulator.unserved lists it).
    unserved: bool = False
    idempotency_key: str | None = None  # the request's Idempotency-Key header (Orchestrator writes), if any
    # What the client got: None and None when the connection was dropped (before or after the handler ran).
    status: int | None = None
    response: object = None
    # Headers answered beside the body (e.g. Location, Operation-Id), names as the handler wrote them.
    response_headers: dict[str, str] = field(default_factory=dict)
    # The handler's answer that a fault after handling kept from the client (dropped or replaced by an
    # error), so that a test can see what Twilio did although the client never learnt it; None otherwise.
    withheld: tuple[int, object] | None = None
    started: float = 0.0
    finished: float = 0.0

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"


@dataclass(frozen=True)
class UnservedOperation:
    """An operation of Twilio's description that a request asked for and the emulator does not serve (answered 501)."""

    operation_id: str  # as the description names it, e.g. "ListTaskrouterActivity"
    method: str
    path_template: str
    url: str  # the request's

    def __str__(self) -> str:
        return f"{self.operation_id} ({self.method} {self.path_template}): {self.method} {self.url}"
