"""Setting the handover's configuration variables in .env and on the deployed Functions environment.

Both sides are compared first and written only where a value differs, so a second identical run
writes nothing. The deployed side takes one listing, then one create per missing key and one update
per changed key; a write that fails stops the run and the result says exactly what was applied.

HANDOVER_TOKEN is managed beside the given values: the deployed environment's valid token, else
.env's, else a new one (always a new one when rotating), written to each side where it differs.
Its value is kept out of the result's lines, its JSON (unless asked for) and its error.

With `claim_maps` (and a deployment), the 16 Sync Maps that hold the handoff claims are made sure of
too: listed once before anything is written, and the missing ones created after the variables, so a
stop part-way says exactly which Maps were created and which were not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ..contract import CLAIM_MAPS, SYNC_SERVICE, TOKEN
from ..errors import HandoverError, PartlyApplied
from ..outcomes import CREATED, FAILED, NOT_APPLIED, UNCHANGED, UPDATED
from ..project import ENV_FILE, read_local, write_local
from . import tokens
from .deployment import Deployment, remote_variables
from .sdk import TwilioFailure, listed

NOTHING_WRITTEN = "Nothing was written."

# Sync answers a create of a Map whose unique name the service already has with 409/54301: a concurrent
# creator (another run, or the function's own first handoff in that shard) made it, so it is there.
UNIQUE_NAME_TAKEN = 54301
# Sync allows 20 new objects a second per service, beyond that 429/54009. The 16 creates fit in one
# second's allowance, but other creators in the service share it: a refused create did nothing, so it
# is tried again after 0.1, 0.2, 0.4 and 0.8 s, five tries in all over 1.5 s, past a full refill.
MAP_CREATE_TRIES = 5
MAP_CREATE_BACKOFF_SECONDS = 0.1
_sleep = time.sleep  # replaced by the tests to see the backoff without waiting


@dataclass
class VariableResult:
    """What happened (or, in a dry run, would happen) to one variable on each side; None: side not touched."""

    key: str
    local: str | None = None
    remote: str | None = None


@dataclass
class ClaimMapResult:
    """What happened (or, in a dry run, would happen) to one claim
    Map: created, unchanged (it was there), failed, not applied."""

    name: str
    action: str


@dataclass
class EnvSetResult:
    variables: list[VariableResult]
    dry_run: bool
    local_file: str | None = None
    deployment: Deployment | None = None
    error: str | None = None  # why the run stopped part-way
    token: str | None = field(default=None, repr=False)  # the HANDOVER_TOKEN written (or, in a dry run, to write)
    token_is_new: bool = False  # made by this run rather than reused
    token_rotated: bool = False
    sync_service: str | None = None  # the Sync service of the claim Maps: an IS SID or default
    claim_maps: list[ClaimMapResult] | None = None  # None: not looked at (no deployment, or not asked)

    @property
    def complete(self) -> bool:
        return self.error is None

    def claim_maps_with(self, *actions: str) -> list[str]:
        return [m.name for m in self.claim_maps or [] if m.action in actions]

    @property
    def writes(self) -> int:
        """The writes this run made (or, in a dry run, would make): each variable per side, each Map created."""
        changed = sum(
            1
            for v in self.variables
            for action in (v.local, v.remote)
            if action not in (None, UNCHANGED, FAILED, NOT_APPLIED)
        )
        return changed + len(self.claim_maps_with(CREATED))

    @property
    def token_variable(self) -> VariableResult:
        [variable] = [v for v in self.variables if v.key == TOKEN.name]
        return variable

    @property
    def token_in_effect(self) -> str | None:
        """The token .env or the environment holds after the run; None when it is nowhere (or only a dry run's)."""
        if self.token is None or (self.dry_run and self.token_is_new):
            return None
        variable = self.token_variable
        return self.token if {variable.local, variable.remote} & {CREATED, UPDATED, UNCHANGED} else None

    def as_json(self, show_secrets: bool = False) -> dict:
        deployment = self.deployment
        secrets = {"handover_token": self.token_in_effect} if show_secrets else {}
        return {
            "dry_run": self.dry_run,
            "complete": self.complete,
            "local_file": self.local_file,
            "deployment": None
            if deployment is None
            else {
                "service_sid": deployment.service_sid,
                "service_found_by": deployment.service_found_by,
                "environment_sid": deployment.environment_sid,
                "domain_name": deployment.domain_name,
            },
            "variables": [{"key": v.key, "local": v.local, "remote": v.remote} for v in self.variables],
            **(
                {}
                if self.claim_maps is None
                else {
                    "sync_service": self.sync_service,
                    "claim_maps": [{"name": m.name, "action": m.action} for m in self.claim_maps],
                }
            ),
            "error": self.error,
            **secrets,
        }

    def applied(self) -> str:
        """What a run that stopped part-way applied, side by side, and the claim Maps it did not make."""
        applied = [
            f"{v.key} in {self.local_file} ({v.local})" for v in self.variables if v.local not in (None, UNCHANGED)
        ]
        applied += [
            f"{v.key} on the environment ({v.remote})" for v in self.variables if v.remote in (CREATED, UPDATED)
        ]
        created = self.claim_maps_with(CREATED)
        if created:
            applied.append(f"Sync Maps {', '.join(created)} (created)")
        not_applied = [v.key for v in self.variables if v.remote in (FAILED, NOT_APPLIED)]
        missing = self.claim_maps_with(FAILED, NOT_APPLIED)
        return (
            f"Applied: {', '.join(applied) or 'nothing'}."
            + (f" Not applied on the environment: {', '.join(not_applied)}." if not_applied else "")
            + (f" Not created in Sync service {self.sync_service}: {', '.join(missing)}." if missing else "")
            + " Run the same command again to finish; it writes only what is still missing."
        )


class EnvSetFailed(PartlyApplied):
    """A write failed part-way; `result` says what was applied before it, and so does the message."""

    def __init__(self, result: EnvSetResult):
        super().__init__(f"Stopped: {result.error}. {result.applied()}")
        self.result = result


class SyncServiceProblem(HandoverError):
    """The configured Sync service is malformed or does not exist;
    found before anything was written. Says how to fix it."""


SYNC_SERVICE_FIX = (
    f"Set {SYNC_SERVICE.name} to the IS SID of one of the account's Sync services (Console > Sync > Services), "
    "or remove it to use the account's default Sync service."
)


def _action(current: str | None, wanted: str) -> str:
    return CREATED if current is None else UNCHANGED if current == wanted else UPDATED


def local_actions(path: Path, values: dict[str, str]) -> dict[str, str]:
    current = read_local(path)
    return {key: _action(current.get(key), value) for key, value in values.items()}


# The Sync claim Maps ---------------------------------------------------------------------------------


def sync_service_of(given: str | None, remote: str | None, local: str | None) -> tuple[str, str]:
    """(the Sync service of the claims, where it comes from): the value being set, else the deployed
    environment's, else .env's, else the function's default; an empty value counts as none, as for the function.

    Raises SyncServiceProblem for a value the function would refuse.
    """
    for value, where in (
        (given, f"{SYNC_SERVICE.name} being set"),
        (remote, f"{SYNC_SERVICE.name} on the environment"),
        (local, f"{SYNC_SERVICE.name} in {ENV_FILE}"),
    ):
        if value:
            if not SYNC_SERVICE.accepts(value):
                raise SyncServiceProblem(f"{where} is {value!r}, not {SYNC_SERVICE.expected}. {SYNC_SERVICE_FIX}")
            return value, where
    return SYNC_SERVICE.default, "the account's default"


def existing_claim_maps(client, service: str, where: str) -> set[str]:
    """The claim Maps the service has, from one listing of its Maps (every page).

    A service that does not exist raises SyncServiceProblem; any other refusal, TwilioRestException.
    """
    from twilio.base.exceptions import TwilioRestException

    try:
        names = {sync_map.unique_name for sync_map in listed(client.sync.v1.services(service).sync_maps)}
    except TwilioRestException as error:
        if error.status != 404:
            raise
        raise SyncServiceProblem(
            f"Sync service {service} ({where}) does not exist in this account. {SYNC_SERVICE_FIX}"
        ) from error
    return names & set(CLAIM_MAPS)


def _create_claim_map(maps, name: str) -> str:
    """Create the Map: created, or unchanged when a concurrent creator made it; a rate-limited create is tried again."""
    from twilio.base.exceptions import TwilioRestException

    for attempt in range(1, MAP_CREATE_TRIES + 1):
        try:
            maps.create(unique_name=name)
            return CREATED
        except TwilioRestException as error:
            if error.status == 409 and error.code == UNIQUE_NAME_TAKEN:
                return UNCHANGED
            # 429: Sync's 54009 (creations per service) or the account's 20429; either did nothing.
            if error.status != 429 or attempt == MAP_CREATE_TRIES:
                raise
            _sleep(MAP_CREATE_BACKOFF_SECONDS * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def _create_claim_maps(client, result: EnvSetResult) -> None:
    """Create the Maps the listing found missing, in order; the first that fails stops the run."""
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    maps = client.sync.v1.services(result.sync_service).sync_maps
    pending = [m for m in result.claim_maps or [] if m.action == CREATED]
    for position, claim_map in enumerate(pending):
        try:
            claim_map.action = _create_claim_map(maps, claim_map.name)
        except (TwilioRestException, RequestException) as error:
            claim_map.action = FAILED
            for later in pending[position + 1 :]:
                later.action = NOT_APPLIED
            why = TwilioFailure.of(error).in_sentence()
            result.error = tokens.redact(
                f"creating Sync Map {claim_map.name} in Sync service {result.sync_service} failed: {why}", result.token
            )
            raise EnvSetFailed(result) from error


# The deployed environment ---------------------------------------------------------------------------


def set_variables(
    client,
    project_dir: Path,
    values: dict[str, str],
    deployment: Deployment | None,
    local: bool = True,
    dry_run: bool = False,
    rotate_token: bool = False,
    claim_maps: bool = False,
) -> EnvSetResult:
    """Write `values` and HANDOVER_TOKEN into .env (when local) and onto the deployment (when given);
    with `claim_maps` and a deployment, create the claim Maps the Sync service lacks, after the variables.

    See the module docstring. .env's token is reused even when only the deployment is written.
    Raises SyncServiceProblem, having written nothing, when the Sync service is malformed or missing.
    """
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    env_file = project_dir / ENV_FILE
    existing = remote_variables(client, deployment) if deployment else {}
    local_values = read_local(env_file)
    token, token_is_new = tokens.choose(
        getattr(existing.get(TOKEN.name), "value", None), local_values.get(TOKEN.name), rotate=rotate_token
    )
    values = {**values, TOKEN.name: token}
    results = {key: VariableResult(key) for key in values}
    result = EnvSetResult(
        list(results.values()),
        dry_run,
        ENV_FILE if local else None,
        deployment,
        token=token,
        token_is_new=token_is_new,
        token_rotated=rotate_token,
    )
    if claim_maps and deployment is not None:
        # Read before anything is written: a wrong service stops the run with nothing applied.
        try:
            service, where = sync_service_of(
                values.get(SYNC_SERVICE.name),
                getattr(existing.get(SYNC_SERVICE.name), "value", None),
                local_values.get(SYNC_SERVICE.name),
            )
            there = existing_claim_maps(client, service, where)
        except SyncServiceProblem as problem:
            raise SyncServiceProblem(f"{problem} {NOTHING_WRITTEN}") from problem
        result.sync_service = service
        result.claim_maps = [ClaimMapResult(name, UNCHANGED if name in there else CREATED) for name in CLAIM_MAPS]
    if local:
        for key, action in local_actions(env_file, values).items():
            results[key].local = action
        if not dry_run and any(r.local != UNCHANGED for r in results.values()):
            write_local(env_file, values)
    if deployment is None:
        return result
    for key, value in values.items():
        results[key].remote = _action(getattr(existing.get(key), "value", None), value)
    if dry_run:
        return result
    variables = client.serverless.v1.services(deployment.service_sid).environments(deployment.environment_sid).variables
    pending = [r for r in result.variables if r.remote != UNCHANGED]
    for position, variable_result in enumerate(pending):
        key = variable_result.key
        try:
            if variable_result.remote == CREATED:
                variables.create(key=key, value=values[key])
            else:
                variables(existing[key].sid).update(value=values[key])
        except (TwilioRestException, RequestException) as error:
            variable_result.remote = FAILED
            for later in pending[position + 1 :]:
                later.remote = NOT_APPLIED
            for claim_map in result.claim_maps or []:
                if claim_map.action == CREATED:
                    claim_map.action = NOT_APPLIED
            # Twilio's message might quote what was sent; the token never reaches the output that way.
            result.error = tokens.redact(
                f"setting {key} on environment {deployment.environment_sid} failed: "
                f"{TwilioFailure.of(error).in_sentence()}",
                token,
            )
            raise EnvSetFailed(result) from error
    _create_claim_maps(client, result)
    return result
