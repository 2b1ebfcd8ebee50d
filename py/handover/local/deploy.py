"""The Serverless Toolkit's own deploy (`twilio-run deploy`, the engine of `twilio serverless:deploy`) against the
emulator.

A client nobody on this project wrote: which files it uploads, with what visibility, the runtime and dependencies
its build asks for, the variables it sets from `.env` and the `.twiliodeployinfo` it writes are the toolkit's own.
It reads the credentials from the project's `.env` (`ACCOUNT_SID`, `AUTH_TOKEN`), as a user's deploy does, and
reaches Twilio through the emulator's proxy (`HTTP_PROXY`, which @twilio-labs/serverless-api honours).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from twilio_emulator import EmulatorProxy

from ..errors import HandoverError
from ..project import ENV_FILE, write_local
from .runtime import QUIET_NODE, TWILIO_RUN

# What the toolkit reads of a project to deploy it; the rest of a clone (py/, tests/, …) it never looks at.
TOOLKIT_FILES = ("functions", "assets", "package.json", ".twilioserverlessrc")
DEPLOY_TIMEOUT = 120.0
# The command a user runs for the same deploy (package.json's "deploy" script is `twilio-run deploy`).
USER_COMMAND = "npm run deploy"


class DeployFailed(HandoverError):
    """`twilio-run deploy` did not deploy; the message carries what it printed."""


@dataclass(frozen=True)
class ToolkitDeploy:
    """What `twilio-run deploy --output-format json` printed of its deployment."""

    service_name: str
    service_sid: str
    environment_sid: str
    build_sid: str
    domain: str
    runtime: str
    functions: list[dict]  # {access, path, url}, as the toolkit lists them
    assets: list[dict]

    @classmethod
    def parsed(cls, printed: dict) -> ToolkitDeploy:
        fields = ("serviceName", "serviceSid", "environmentSid", "buildSid", "domain", "runtime", "functions", "assets")
        return cls(*(printed[name] for name in fields))

    def lines(self) -> list[str]:
        """The deployment as the toolkit prints it: the service, environment, build, runtime and each file's access."""
        return [
            f"Service {self.service_name} ({self.service_sid}), environment {self.environment_sid}, "
            f"build {self.build_sid}, runtime {self.runtime}",
            f"Domain https://{self.domain}",
        ] + [f"[{entry['access']}] {entry['path']}" for entry in self.functions + self.assets]


def clean_copy(project_dir: Path, target: Path, credentials: dict[str, str]) -> Path:
    """The files of the project the toolkit deploys, copied into `target`, with a `.env` holding only `credentials`
    (`ACCOUNT_SID`, `AUTH_TOKEN`): a fresh clone as a user about to deploy has it."""
    target.mkdir(parents=True, exist_ok=True)
    for name in TOOLKIT_FILES:
        source = project_dir / name
        if source.is_dir():
            shutil.copytree(source, target / name)
        else:
            shutil.copy2(source, target / name)
    write_local(target / ENV_FILE, credentials)
    return target


def deploy(project_dir: Path, proxy: EmulatorProxy, toolkit_dir: Path, environment: str = "dev") -> ToolkitDeploy:
    """Deploy `project_dir` with the twilio-run installed in `toolkit_dir`, to the emulated account behind `proxy`.

    A service of package.json's name is created, or deployed to again (`--override-existing-project`, as a
    second `twilio serverless:deploy` reuses the service its `.twiliodeployinfo` names).
    """
    script = toolkit_dir / TWILIO_RUN
    node = shutil.which("node")
    if node is None or not script.is_file():
        raise DeployFailed(f"twilio-run is not installed in {toolkit_dir}: run `make install` (npm ci) first.")
    command = [node, str(script), "deploy", "--cwd", str(project_dir), "--environment", environment]
    command += ["--override-existing-project", "--output-format", "json"]
    try:
        finished = subprocess.run(
            command,
            cwd=project_dir,
            env=_toolkit_environment(proxy),
            capture_output=True,
            text=True,
            timeout=DEPLOY_TIMEOUT,
        )
    except subprocess.TimeoutExpired as error:
        raise DeployFailed(f"twilio-run deploy did not finish within {DEPLOY_TIMEOUT:g} s") from error
    if finished.returncode != 0:
        printed = finished.stderr.strip() or finished.stdout.strip()
        raise DeployFailed(f"twilio-run deploy exited with {finished.returncode}:\n{printed}")
    try:
        return ToolkitDeploy.parsed(json.loads(finished.stdout))
    except (ValueError, KeyError, TypeError) as error:
        raise DeployFailed(f"twilio-run deploy printed no deployment: {finished.stdout.strip()!r}") from error


def _toolkit_environment(proxy: EmulatorProxy) -> dict[str, str]:
    """This process's environment with the proxy's instead of any other way to a Twilio host."""
    client = proxy.client_environment()
    kept = {
        name: value
        for name, value in os.environ.items()
        if name.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
        and not name.startswith("TWILIO_")  # TWILIO_REGION/TWILIO_EDGE would send it to another host
    }
    return {
        **kept,
        "HTTP_PROXY": client["HTTP_PROXY"],
        "NODE_EXTRA_CA_CERTS": client["NODE_EXTRA_CA_CERTS"],
        **QUIET_NODE,
    }
