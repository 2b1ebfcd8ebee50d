"""Finding the deployed Functions service and environment, in the Serverless Toolkit's order.

The service: `--service-sid`, then `serviceSid` in .twilioserverlessrc, then .twiliodeployinfo
(written by `twilio serverless:deploy`, keyed by `<account or API key SID>:<region>`), then the
service's unique name (`serviceName` in the rc, else `name` in package.json) looked up through the
Serverless API. The environment: by domain suffix (default `dev`), unique name or ZE SID. And the
environment's variables, read in one listing by every command that needs them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..contract import is_sid
from ..errors import HandoverError
from ..project import read_deploy_info, read_package_json, read_rc
from .credentials import Credentials
from .sdk import listed

DEFAULT_ENVIRONMENT = "dev"
DEPLOY_HINT = "Deploy with `twilio serverless:deploy` (or `npm run deploy`), or pass --service-sid ZS…."


class DeploymentNotFound(HandoverError):
    """No deployed service or environment; the message says how it was looked for and what to do."""


@dataclass(frozen=True)
class Deployment:
    service_sid: str
    service_found_by: str
    environment_sid: str
    domain_name: str
    build_sid: str | None

    def url(self, path: str) -> str:
        return f"https://{self.domain_name}{path}"

    def describe(self) -> list[str]:
        return [
            f"service {self.service_sid} (found by {self.service_found_by})",
            f"environment {self.environment_sid} at https://{self.domain_name}",
        ]


def _region() -> str:
    return os.environ.get("TWILIO_REGION") or "us1"


def _from_deploy_info(project_dir: Path, credentials: Credentials) -> tuple[str, str] | None:
    info = read_deploy_info(project_dir)
    for key in dict.fromkeys(
        (f"{credentials.username}:{_region()}", f"{credentials.account_sid}:{_region()}", credentials.username)
    ):
        entry = info.get(key)
        service_sid = entry.get("serviceSid") if isinstance(entry, dict) else None
        if isinstance(service_sid, str) and is_sid("ZS", service_sid):
            return service_sid, f".twiliodeployinfo ({key})"
    return None


def find_service(client, project_dir: Path, credentials: Credentials, service_sid: str | None) -> tuple[str, str]:
    """(service SID, how it was found)."""
    from twilio.base.exceptions import TwilioRestException

    if service_sid:
        return service_sid, "--service-sid"
    rc = read_rc(project_dir)
    if isinstance(rc.get("serviceSid"), str) and rc["serviceSid"]:
        return rc["serviceSid"], "serviceSid in .twilioserverlessrc"
    found = _from_deploy_info(project_dir, credentials)
    if found:
        return found
    unique_name = rc.get("serviceName") or read_package_json(project_dir).get("name")
    if not unique_name:
        raise DeploymentNotFound(
            "No deployed service found: no serviceSid in .twilioserverlessrc, "
            f"no .twiliodeployinfo, no service name. {DEPLOY_HINT}"
        )
    try:
        service = client.serverless.v1.services(unique_name).fetch()
    except TwilioRestException as error:
        if error.status != 404:
            raise
        raise DeploymentNotFound(
            f"No service named {unique_name!r} in account {credentials.account_sid}, and no serviceSid in "
            f".twilioserverlessrc or .twiliodeployinfo for it. {DEPLOY_HINT}"
        ) from error
    source = "serviceName in .twilioserverlessrc" if rc.get("serviceName") else "name in package.json"
    return service.sid, f"unique name {unique_name!r} ({source})"


def find_environment(client, service_sid: str, name: str):
    """The environment of the service whose SID, domain suffix or unique name is `name`."""
    from twilio.base.exceptions import TwilioRestException

    try:
        environments = listed(client.serverless.v1.services(service_sid).environments)
    except TwilioRestException as error:
        if error.status != 404:
            raise
        raise DeploymentNotFound(f"Service {service_sid} does not exist in this account. {DEPLOY_HINT}") from error
    for environment in environments:
        if name in (environment.sid, environment.domain_suffix or "", environment.unique_name):
            return environment
    available = ", ".join(repr(e.domain_suffix or "") for e in environments) or "none"
    raise DeploymentNotFound(
        f"Service {service_sid} has no environment {name!r} (domain suffixes: {available}). "
        "Pass --environment with one of them, or deploy to it "
        f"with `twilio serverless:deploy --environment {name}`."
    )


def locate(
    client, project_dir: Path, credentials: Credentials, service_sid: str | None, environment: str
) -> Deployment:
    sid, found_by = find_service(client, project_dir, credentials, service_sid)
    found = find_environment(client, sid, environment)
    return Deployment(sid, found_by, found.sid, found.domain_name, found.build_sid)


def environment_name(project_dir: Path, given: str | None) -> str:
    """--environment, else `environment` in .twilioserverlessrc, else dev."""
    return given if given is not None else str(read_rc(project_dir).get("environment") or DEFAULT_ENVIRONMENT)


def remote_variables(client, deployment: Deployment) -> dict[str, object]:
    """key → the environment's Variable resource, in one listing."""
    variables = client.serverless.v1.services(deployment.service_sid).environments(deployment.environment_sid).variables
    return {variable.key: variable for variable in listed(variables)}
