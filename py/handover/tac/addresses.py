"""`handover tac addresses`: Flex messaging addresses disconnected from Flex's Studio flow or webhook, so that the
virtual agent gets a conversation first.

Disconnected means `auto_creation.enabled` false (or type `default`): `POST /v1/Configuration/Addresses/{Sid}` with
`AutoCreation.Enabled=false` alone, which keeps the type and its flow or webhook for a restore. The previous
settings are printed, with the command's restore: `AutoCreation.Enabled=true`.
"""

from __future__ import annotations

import re

from ..outcomes import UNCHANGED, UPDATED
from .requests import Line, StepFailed, StepResult, TacInputError, Write

ADDRESS = re.compile(r"^(whatsapp:)?\+[1-9]\d{1,14}$|^IG[0-9a-f]{32}$")
URL = "https://conversations.twilio.com/v1/Configuration/Addresses"


def check_addresses(addresses) -> list[str]:
    wrong = [a for a in addresses if not ADDRESS.match(a)]
    if wrong:
        raise TacInputError(
            f"{', '.join(map(repr, wrong))}: expected an address as +E.164, whatsapp:+E.164, or an IG… "
            "address configuration SID."
        )
    return list(addresses)


def bypasses(auto_creation: dict) -> bool:
    """Whether a Studio flow or webhook gets the address's conversations before the virtual agent."""
    return bool(auto_creation.get("enabled")) and auto_creation.get("type", "default") != "default"


def fetch(client, address: str):
    """The address's configuration, or None."""
    from twilio.base.exceptions import TwilioRestException

    try:
        return client.conversations.v1.address_configurations(address).fetch()
    except TwilioRestException as error:
        if error.status == 404:
            return None
        raise


def describe(auto_creation: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in auto_creation.items() if v is not None)


def run(client, addresses: list[str], dry_run: bool = False) -> StepResult:
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    from ..account.sdk import TwilioFailure

    result = StepResult("addresses", dry_run)
    for address in addresses:
        configuration = fetch(client, address)
        if configuration is None:
            result.lines.append(Line(address, UNCHANGED, "no address configuration: nothing to disconnect"))
            continue
        auto_creation = dict(configuration.auto_creation or {})
        label = f"{address} ({configuration.sid})"
        if not bypasses(auto_creation):
            result.lines.append(Line(label, UNCHANGED, f"already disconnected: {describe(auto_creation)}"))
            continue
        write = Write("POST", f"{URL}/{configuration.sid}", {"AutoCreation.Enabled": False})
        result.lines.append(
            Line(
                label,
                UPDATED,
                f"auto-creation disabled; previous settings: {describe(auto_creation)} "
                f"(restore: POST {URL}/{configuration.sid} AutoCreation.Enabled=true)",
            )
        )
        if not dry_run:
            try:
                client.conversations.v1.address_configurations(configuration.sid).update(auto_creation_enabled=False)
            except (TwilioRestException, RequestException) as error:
                result.lines.pop()
                raise StepFailed(
                    result, f"{write.method} {write.url} failed: {TwilioFailure.of(error).in_sentence()}"
                ) from error
        result.writes.append(write)
    return result
