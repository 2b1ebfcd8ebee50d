"""Setting the handover's configuration variables in .env and on the deployed Functions environment.

Both sides are compared first and written only where a value differs, so a second identical run
writes nothing. The deployed side takes one listing, then one create per missing key and one update
per changed key; a write that fails stops the run and the result says exactly what was applied.

HANDOVER_TOKEN is managed beside the given values: the deployed environment's valid token, else
.env's, else a new one (always a new one when rotating), written to each side where it differs.
Its value is kept out of the result's lines, its JSON (unless asked for) and its error.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import tokens
from .contract import TOKEN
from .deployment import Deployment
from .sdk import listed

CREATED, UPDATED, UNCHANGED, FAILED, NOT_APPLIED = "created", "updated", "unchanged", "failed", "not applied"
ENV_FILE = ".env"


@dataclass
class VariableResult:
    """What happened (or, in a dry run, would happen) to one variable on each side; None: side not touched."""

    key: str
    local: str | None = None
    remote: str | None = None


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

    @property
    def complete(self) -> bool:
        return self.error is None

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
            "deployment": None if deployment is None else {
                "service_sid": deployment.service_sid,
                "service_found_by": deployment.service_found_by,
                "environment_sid": deployment.environment_sid,
                "domain_name": deployment.domain_name,
            },
            "variables": [{"key": v.key, "local": v.local, "remote": v.remote} for v in self.variables],
            "error": self.error,
            **secrets,
        }


class EnvSetFailed(Exception):
    """A write failed part-way; `result` says what was applied before it."""

    def __init__(self, result: EnvSetResult):
        super().__init__(result.error)
        self.result = result


def _action(current: str | None, wanted: str) -> str:
    return CREATED if current is None else UNCHANGED if current == wanted else UPDATED


# .env lines -----------------------------------------------------------------------------------------

def _assignment(key: str) -> re.Pattern:
    return re.compile(rf"^(\s*(?:export\s+)?{re.escape(key)}\s*=).*$")


def _quoted(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_./:@+-]*", value) else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_local(path: Path) -> dict[str, str | None]:
    """The file's variables as python-dotenv reads them; none when there is no file."""
    from dotenv import dotenv_values

    return dotenv_values(path) if path.is_file() else {}


def local_actions(path: Path, values: dict[str, str]) -> dict[str, str]:
    current = read_local(path)
    return {key: _action(current.get(key), value) for key, value in values.items()}


def write_local(path: Path, values: dict[str, str]) -> None:
    """Set each key in the file, keeping every other line and comment; a key given twice is set everywhere."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    for key, value in values.items():
        pattern, assigned = _assignment(key), False
        for index, line in enumerate(lines):
            match = pattern.match(line)
            if match:
                lines[index], assigned = f"{match.group(1)}{_quoted(value)}", True
        if not assigned:
            lines.append(f"{key}={_quoted(value)}")
    # Written whole or not at all; a new .env is private to its owner, as it holds credentials.
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o600
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".env.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# The deployed environment ---------------------------------------------------------------------------

def remote_variables(client, deployment: Deployment) -> dict[str, object]:
    """key → the Variable resource, in one listing."""
    variables = client.serverless.v1.services(deployment.service_sid).environments(deployment.environment_sid).variables
    return {variable.key: variable for variable in listed(variables)}


def set_variables(
    client,
    project_dir: Path,
    values: dict[str, str],
    deployment: Deployment | None,
    local: bool = True,
    dry_run: bool = False,
    rotate_token: bool = False,
) -> EnvSetResult:
    """Write `values` and HANDOVER_TOKEN into .env (when local) and onto the deployment (when given).

    See the module docstring. .env's token is reused even when only the deployment is written.
    """
    from requests import RequestException
    from twilio.base.exceptions import TwilioRestException

    env_file = project_dir / ENV_FILE
    existing = remote_variables(client, deployment) if deployment else {}
    token, token_is_new = tokens.choose(
        getattr(existing.get(TOKEN.name), "value", None), read_local(env_file).get(TOKEN.name), rotate=rotate_token
    )
    values = {**values, TOKEN.name: token}
    results = {key: VariableResult(key) for key in values}
    result = EnvSetResult(
        list(results.values()), dry_run, ENV_FILE if local else None, deployment,
        token=token, token_is_new=token_is_new, token_rotated=rotate_token,
    )
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
            why = (
                f"HTTP {error.status}, Twilio error {error.code}: {error.msg}"
                if isinstance(error, TwilioRestException)
                else f"could not reach Twilio ({type(error).__name__})"
            )
            # Twilio's message might quote what was sent; the token never reaches the output that way.
            result.error = tokens.redact(f"setting {key} on environment {deployment.environment_sid} failed: {why}", token)
            raise EnvSetFailed(result) from error
    return result
