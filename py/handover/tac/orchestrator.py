"""`handover tac orchestrator`: TAC's Conversation Orchestrator configuration, bridged to Flex's Conversations
(Classic) service, without automatically captured traffic, and closing voice conversations on hangup.

Writes are one PATCH of what differs (a channel key replaces that channel's settings whole, so a channel is sent
with everything it had but its capture rules), carrying an Idempotency-Key that its retries reuse; the 202's
operation is polled (honouring Retry-After) to COMPLETED within a bounded wait, and FAILED raises Twilio's reason.
"""

from __future__ import annotations

import copy
import re
import time
import uuid

from ..outcomes import UNCHANGED, UPDATED
from .requests import ORCHESTRATOR, Line, StepFailed, StepResult, TacInputError, Write, request

CONFIGURATION_ID = re.compile(r"^conv_configuration_[0-7][0-9a-z]{25}$")
# The channels the bridge (messaging, chat) and ConversationRelay (voice) keep in sync: no capture rules there.
SYNCED_CHANNELS = ("VOICE", "SMS", "WHATSAPP", "RCS", "CHAT")
# "On hangup" in the representation the description allows (integer minutes, at least 1): the smallest timeouts.
VOICE_ON_HANGUP = {"inactive": 1, "closed": 1}
DEFAULT_WAIT = 60.0


def check_configuration_id(value: str | None) -> str:
    if not value:
        raise TacInputError(
            "No Conversation Orchestrator configuration: give --configuration-id conv_configuration_…, or "
            "--tac-env FILE with TWILIO_CONVERSATION_CONFIGURATION_ID (or set it in the environment or .env)."
        )
    if not CONFIGURATION_ID.match(value):
        raise TacInputError(f"{value!r} is not a Conversation Orchestrator configuration id (conv_configuration_…).")
    return value


def configuration_url(configuration_id: str) -> str:
    return f"{ORCHESTRATOR}/Configurations/{configuration_id}"


def fetch(client, configuration_id: str) -> dict:
    return request(client, "GET", configuration_url(configuration_id))[2]


def voice_closes_on_hangup(configuration: dict) -> bool:
    timeouts = ((configuration.get("channelSettings") or {}).get("VOICE") or {}).get("statusTimeouts") or {}
    return all(timeouts.get(key) == value for key, value in VOICE_ON_HANGUP.items())


def captured_channels(configuration: dict) -> list[str]:
    settings = configuration.get("channelSettings") or {}
    return [c for c in SYNCED_CHANNELS if (settings.get(c) or {}).get("captureRules")]


def bridged_service(configuration: dict) -> str | None:
    return (configuration.get("conversationsV1Bridge") or {}).get("serviceId")


def _timeouts(settings: dict) -> str:
    timeouts = settings.get("statusTimeouts") or {}
    return ", ".join(f"{k} {v}" for k, v in timeouts.items()) or "none"


def wanted_patch(configuration: dict, service_sid: str) -> tuple[dict, list[Line]]:
    """The PATCH body that makes the configuration as TAC's handoff needs it, and a line per thing."""
    body: dict = {}
    lines = []
    current = bridged_service(configuration)
    if current != service_sid:
        body["conversationsV1Bridge"] = {"serviceId": service_sid}
        lines.append(Line("conversationsV1Bridge.serviceId", UPDATED, f"{current or 'none'} → {service_sid}"))
    else:
        lines.append(Line("conversationsV1Bridge.serviceId", UNCHANGED, service_sid))
    settings = configuration.get("channelSettings") or {}
    channels = {}
    for channel in SYNCED_CHANNELS:
        if channel not in settings and channel != "VOICE":
            continue
        was = settings.get(channel) or {}
        new = {k: copy.deepcopy(v) for k, v in was.items() if k != "captureRules"}
        if channel == "VOICE":
            new["statusTimeouts"] = {**(was.get("statusTimeouts") or {}), **VOICE_ON_HANGUP}
        if was.get("captureRules"):
            rules = ", ".join(f"{r.get('from')}→{r.get('to')}" for r in was["captureRules"])
            lines.append(Line(f"channelSettings.{channel}.captureRules", UPDATED, f"removed: {rules}"))
        if channel == "VOICE":
            same = voice_closes_on_hangup(configuration)
            lines.append(
                Line(
                    "channelSettings.VOICE.statusTimeouts",
                    UNCHANGED if same else UPDATED,
                    _timeouts(was) + ("" if same else f" → {_timeouts(new)}"),
                )
            )
        if new != was:
            channels[channel] = new
    if channels:
        body["channelSettings"] = channels
    if not captured_channels(configuration):
        lines.append(Line("channelSettings.*.captureRules", UNCHANGED, "no automatically captured traffic"))
    return body, lines


def write(client, result: StepResult, method: str, url: str, body: dict, wait: float) -> None:
    """One Orchestrator write (with its Idempotency-Key), polled to COMPLETED; StepFailed otherwise."""
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    from ..account.sdk import TwilioFailure

    key = str(uuid.uuid4())
    planned = Write(method, url, body, key)
    if result.dry_run:
        result.writes.append(planned)
        return
    try:
        _, headers, answer = request(client, method, url, body, key=key)
    except (TwilioRestException, RequestException) as error:
        raise StepFailed(result, f"{method} {url} failed: {TwilioFailure.of(error).in_sentence()}") from error
    status_url = headers.get("Location") or (answer or {}).get("statusUrl")
    retry_after = _seconds(headers.get("Retry-After"))
    deadline = time.monotonic() + wait
    while status_url:
        time.sleep(min(retry_after, max(0.0, deadline - time.monotonic())))
        _, headers, operation = request(client, "GET", status_url)
        state = operation.get("status")
        if state == "COMPLETED":
            break
        if state == "FAILED":
            error = operation.get("error") or {}
            reason = error.get("detail") or error.get("title") or "no reason given"
            raise StepFailed(result, f"{method} {url}: operation {operation.get('operationId')} FAILED: {reason}")
        if time.monotonic() >= deadline:
            raise StepFailed(
                result,
                f"{method} {url}: operation {operation.get('operationId')} still {state} after {wait:g} s "
                "(--wait to wait longer); it may still complete",
            )
        retry_after = _seconds(headers.get("Retry-After"), retry_after)
    result.writes.append(planned)


def _seconds(value, default: float = 1.0) -> float:
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return default


def flex_conversations_service(client) -> str | None:
    """The Flex account's Conversations (Classic) service: the Flex configuration's Flex service instance."""
    from twilio.base.exceptions import TwilioRestException

    try:
        configuration = client.flex_api.v1.configuration().fetch()
    except TwilioRestException:
        return None
    return configuration.flex_service_instance_sid or configuration.chat_service_instance_sid


def run(
    client, configuration_id: str, service_sid: str | None, dry_run: bool = False, wait: float = DEFAULT_WAIT
) -> StepResult:
    result = StepResult("orchestrator", dry_run)
    service_sid = service_sid or flex_conversations_service(client)
    if not service_sid:
        raise TacInputError(
            "No Conversations (Classic) service known: the Flex configuration names none. "
            "Give --conversations-service IS…."
        )
    configuration = fetch(client, configuration_id)
    body, result.lines = wanted_patch(configuration, service_sid)
    if body:
        write(client, result, "PATCH", configuration_url(configuration_id), body, wait)
    return result
