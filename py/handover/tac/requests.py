"""The JSON APIs TAC's steps use (Conversation Orchestrator v2, Intelligence v3), through the twilio client's own
transport, and what a step did: one line per thing, and the exact write requests (made, or in a dry run, planned).

A refused request raises TwilioRestException, so TwilioFailure words it like every other command's failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import HandoverError, PartlyApplied
from ..outcomes import DRY_RUN_WORDS

ORCHESTRATOR = "https://conversations.twilio.com/v2/ControlPlane"
INTELLIGENCE = "https://intelligence.twilio.com/v3/ControlPlane"
RETRIES = 3  # attempts of a write whose answer was lost or was a 429/5xx (an Orchestrator write keeps its key)


@dataclass(frozen=True)
class Write:
    """A write request: method, URL, body (JSON, or form parameters for /v1), and its Idempotency-Key if any."""

    method: str
    url: str
    body: dict | None
    idempotency_key: str | None = None

    def __str__(self) -> str:
        return f"{self.method} {self.url} {json.dumps(self.body, sort_keys=True)}"

    def as_json(self) -> dict:
        return {"method": self.method, "url": self.url, "body": self.body, "idempotency_key": self.idempotency_key}


@dataclass(frozen=True)
class Line:
    """What happened to one thing: created, updated or unchanged, and how (e.g. the previous settings)."""

    thing: str
    action: str
    detail: str = ""


@dataclass
class StepResult:
    step: str
    dry_run: bool
    lines: list[Line] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)  # made, or in a dry run, to make
    notes: list[str] = field(default_factory=list)

    def word(self, action: str) -> str:
        return DRY_RUN_WORDS.get(action, action) if self.dry_run else action

    def as_json(self) -> dict:
        return {
            "step": self.step,
            "dry_run": self.dry_run,
            "things": [{"thing": x.thing, "action": x.action, "detail": x.detail} for x in self.lines],
            "writes": [w.as_json() for w in self.writes],
            "notes": self.notes,
        }


class StepFailed(PartlyApplied):
    """A write of a step failed; `result` holds what was applied before it."""

    def __init__(self, result: StepResult, why: str):
        applied = "; ".join(f"{w.method} {w.url}" for w in result.writes) or "nothing"
        super().__init__(
            f"handover tac {result.step}: {why}. Applied before the failure: {applied}. "
            "Run the command again; it writes only what is still missing."
        )
        self.result = result


class TacInputError(HandoverError):
    """A value the step needs is missing or not what the API takes; nothing was requested."""

    usage = True


def _refused(method: str, url: str, response):
    from twilio.base.exceptions import TwilioRestException

    try:
        body = json.loads(response.text or "{}")
    except ValueError:
        body = {}
    message = body.get("message") or body.get("detail") or response.text or f"HTTP {response.status_code}"
    return TwilioRestException(response.status_code, url, message, body.get("code"), method)


def request(client, method: str, url: str, body: dict | None = None, params: dict | None = None, key: str = None):
    """(status, headers, JSON) of a request; TwilioRestException for a 4xx/5xx (after retries for a write)."""
    from requests import RequestException

    headers = {"Accept": "application/json", **({"Content-Type": "application/json"} if body is not None else {})}
    if key:
        headers["Idempotency-Key"] = key
    attempts = RETRIES if method != "GET" else 1
    for attempt in range(1, attempts + 1):
        try:
            response = client.request(method, url, params=params, data=body, headers=headers)
        except RequestException:
            if attempt == attempts:
                raise
            continue
        if response.status_code >= 400:
            if attempt < attempts and (response.status_code == 429 or response.status_code >= 500):
                continue
            raise _refused(method, url, response)
        text = response.text or ""
        return response.status_code, dict(response.headers or {}), (json.loads(text) if text.strip() else None)
    raise AssertionError("unreachable")


def listed(client, url: str, key: str) -> list[dict]:
    """Every item of a token-paged list (`{key: [...], meta: {nextToken}}`)."""
    items, params = [], {"pageSize": 50}
    for _ in range(100):
        _, _, page = request(client, "GET", url, params=params)
        items += page.get(key) or []
        token = (page.get("meta") or {}).get("nextToken")
        if not token:
            return items
        params = {"pageSize": 50, "pageToken": token}
    return items
