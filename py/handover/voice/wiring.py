"""`handover voice wire`: a voice AI's number answered by the deployed /voice/incoming-call.

The function answers a call with `<Connect action=…><ConversationRelay url=…/></Connect>`: the caller talks to the
voice AI (HANDOVER_VOICE_RELAY_URL), and the session's end goes where the path needs (HANDOVER_VOICE_PATH: direct, the
kit's /voice/connect-action; studio, the Studio handoff flow's incomingCall trigger, as Twilio Agent Connect points it).
Wiring sets those two variables on the deployed environment, then the number's VoiceUrl, in that order (the number
never points at a function that is not configured yet), each written only where it differs:

- the number's VoiceUrl empty: ours (created); ours already: nothing written (unchanged);
- another URL: refused, nothing written, since the number is wired elsewhere (another app, a TwiML Bin, TAC's own
  server); with `force`, ours (updated), the URL replaced reported.

A failure after a write says what was written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..account.deployment import Deployment, remote_variables
from ..contract import INCOMING_CALL, STUDIO_DEPLOY_COMMAND, STUDIO_FLOW, VOICE_PATH, VOICE_RELAY_URL
from ..errors import HandoverError, InputError
from ..lifecycle.wiring import shown_url
from ..outcomes import CREATED, DRY_RUN_WORDS, UNCHANGED, UPDATED

INCOMING_CALL_PATH = f"/voice/{INCOMING_CALL}"
WIRE_COMMAND = "handover voice wire"


class NumberNotFound(InputError):
    """The number is not one of the account's; nothing was written."""


class NumberTaken(HandoverError):
    """The number's voice URL is another's; nothing was written. The message says how to go on."""


class WirePartlyApplied(HandoverError):
    """A write failed after others were made: the message lists them."""


def voice_url(deployment: Deployment) -> str:
    return deployment.url(INCOMING_CALL_PATH)


def check_inputs(relay_url: str, path: str) -> None:
    """Usage errors before any request: a relay URL the function would refuse."""
    if not VOICE_RELAY_URL.accepts(relay_url):
        raise InputError(
            f"--relay-url {relay_url!r} is not {VOICE_RELAY_URL.expected}: give your voice AI's wss:// URL."
        )
    if not VOICE_PATH.accepts(path):
        raise InputError(f"--path must be {VOICE_PATH.expected}.")


def find_number(client, phone_number: str):
    found = client.incoming_phone_numbers.list(phone_number=phone_number, limit=1)
    if not found:
        raise NumberNotFound(
            f"{phone_number} is not a phone number of this account (IncomingPhoneNumbers lists none). Nothing was "
            "written. Give one of the account's numbers as +E.164 (Console > Phone Numbers > Active numbers)."
        )
    return found[0]


@dataclass(frozen=True)
class Write:
    what: str  # "variable HANDOVER_VOICE_PATH", "number +1…"
    method: str
    path: str
    body: dict[str, str]

    def as_json(self) -> dict:
        return {"what": self.what, "method": self.method, "path": self.path, "body": self.body}

    def __str__(self) -> str:
        return f"{self.method} {self.path} {json.dumps(self.body)}"


@dataclass
class VoiceWireResult:
    number: str
    voice_url: str
    outcome: str  # created, updated or unchanged (of the number)
    replaced: str | None
    variables: dict[str, str]  # the voice variables after the run
    dry_run: bool
    writes: list[Write] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "voice_url": self.voice_url,
            "outcome": self.outcome,
            "replaced": self.replaced,
            "variables": self.variables,
            "dry_run": self.dry_run,
            "writes": [write.as_json() for write in self.writes],
        }

    def lines(self) -> list[str]:
        outcome = DRY_RUN_WORDS[self.outcome] if self.dry_run else self.outcome
        lines = [f"number {self.number}: {outcome}", f"  voice url: {self.voice_url}"]
        lines += [f"  {name}: {value}" for name, value in self.variables.items()]
        lines += [f"  {'would send: ' if self.dry_run else ''}{write}" for write in self.writes]
        return lines

    def notes(self) -> list[str]:
        notes = []
        if self.replaced:
            notes.append(f"{'Would replace' if self.dry_run else 'Replaced'} the voice URL {self.replaced}.")
        if self.dry_run:
            notes.append("Dry run: nothing was written.")
        elif not self.writes:
            notes.append("The number was already wired; nothing was written.")
        else:
            notes.append(f"{len(self.writes)} write(s).")
        return notes


def wire(
    client,
    deployment: Deployment,
    phone_number: str,
    relay_url: str,
    path: str,
    force: bool = False,
    dry_run: bool = False,
) -> VoiceWireResult:
    """Set the voice variables where they differ, then point the number at incoming-call: see the module docstring."""
    check_inputs(relay_url, path)
    number = find_number(client, phone_number)
    ours = voice_url(deployment)
    current = number.voice_url or None
    if current not in (None, ours) and not force:
        raise NumberTaken(
            f"{phone_number} already answers calls at {shown_url(current)} (its VoiceUrl). Nothing was written. Run "
            f"the same command with --force to point it at {ours}, or leave it and have that TwiML connect to "
            f'ConversationRelay with <Connect action="{_action_hint(deployment, path)}">.'
        )
    remote = remote_variables(client, deployment)
    if path == "studio" and not getattr(remote.get(STUDIO_FLOW.name), "value", None):
        raise InputError(
            f"--path studio needs the Studio handoff flow: {STUDIO_FLOW.name} is not set on the environment. Nothing "
            f"was written. Run `{STUDIO_DEPLOY_COMMAND}` first."
        )
    wanted = {VOICE_RELAY_URL.name: relay_url, VOICE_PATH.name: path}
    variables = deployment_variables(client, deployment)
    writes = [
        Write(f"variable {key}", "POST", _variable_path(deployment, remote.get(key)), {"Key": key, "Value": value})
        for key, value in wanted.items()
        if getattr(remote.get(key), "value", None) != value
    ]
    outcome = UNCHANGED if current == ours else UPDATED if current else CREATED
    if outcome != UNCHANGED:
        writes.append(
            Write(
                f"number {phone_number}",
                "POST",
                f"/2010-04-01/Accounts/{number.account_sid}/IncomingPhoneNumbers/{number.sid}.json",
                {"VoiceUrl": ours, "VoiceMethod": "POST"},
            )
        )
    result = VoiceWireResult(
        phone_number, ours, outcome, shown_url(current) if outcome == UPDATED else None, wanted, dry_run, writes
    )
    if dry_run:
        return result
    made: list[str] = []
    for write in writes:
        try:
            if write.what.startswith("variable"):
                key, value = write.body["Key"], write.body["Value"]
                existing = remote.get(key)
                if existing is None:
                    variables.create(key=key, value=value)
                else:
                    variables(existing.sid).update(value=value)
            else:
                client.incoming_phone_numbers(number.sid).update(voice_url=ours, voice_method="POST")
        except Exception as error:
            applied = ", ".join(made) if made else "nothing"
            raise WirePartlyApplied(
                f"Writing the {write.what} failed: {error}. Written before it: {applied}. Run `{WIRE_COMMAND}` again: "
                "it writes only what still differs."
            ) from error
        made.append(write.what)
    return result


def deployment_variables(client, deployment: Deployment):
    return client.serverless.v1.services(deployment.service_sid).environments(deployment.environment_sid).variables


def _variable_path(deployment: Deployment, existing) -> str:
    base = f"/v1/Services/{deployment.service_sid}/Environments/{deployment.environment_sid}/Variables"
    return base if existing is None else f"{base}/{existing.sid}"


def _action_hint(deployment: Deployment, path: str) -> str:
    return (
        deployment.url("/voice/connect-action")
        if path == "direct"
        else "the Studio flow's webhook…?Trigger=incomingCall"
    )
