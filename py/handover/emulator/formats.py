"""How Twilio writes values inside its resources, shared by the products: dates and JSON text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Twilio's dates: UTC, to the second


def iso(moment: datetime) -> str:
    return moment.strftime(ISO_FORMAT)


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, ISO_FORMAT).replace(tzinfo=UTC)


def now_iso() -> str:
    return iso(datetime.now(UTC))


def to_json_text(value: object) -> str:
    """JSON inside a string field (attributes, configuration), compact as Twilio's clients send it."""
    return json.dumps(value, separators=(",", ":"))
