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


# Twilio's newer APIs (Conversation Orchestrator, Intelligence v3) name resources by TTIDs: a type prefix, an
# underscore and 26 characters of Crockford's base32 in lower case, 128 bits, the first character 0-7.
TTID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
TTID_LENGTH = 26


def ttid(prefix: str, number: int) -> str:
    """The TTID of a 128-bit number, e.g. `conv_configuration_01k…`."""
    digits = "".join(TTID_ALPHABET[(number >> (5 * place)) & 31] for place in reversed(range(TTID_LENGTH)))
    return f"{prefix}_{digits}"


def new_ttid(emulator, prefix: str) -> str:
    """A deterministic TTID from the account's SID counter (`AccountState.new_sid`), so that a run repeats."""
    return ttid(prefix, int(emulator.new_sid("")[:32], 16))
