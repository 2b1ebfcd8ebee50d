"""The emulator, its TLS proxy and the local runtime, wired together as the demo, the bench and the tests use them."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from twilio_emulator import (
    DeployedService,
    Emulator,
    EmulatorProxy,
    FlexAccount,
    SpecNotFound,
    new_account,
    seed_deployed_service,
    seed_flex_account,
    spec_directory,
)

from ..errors import HandoverError
from ..project import deployed_files, read_package_json
from .runtime import LocalRuntime


class EmulatorUnavailable(HandoverError):
    """The emulator cannot start: Twilio's OpenAPI description is not installed. The message says how to install it."""


def function_environment(
    emulator: Emulator, proxy: EmulatorProxy, account: FlexAccount, **config: str | None
) -> dict[str, str]:
    """The env file of the runtime: credentials, the Flex configuration and the proxy.

    `config` adds or overrides the function's variables (FLEX_*, HANDOVER_TOKEN: the function answers
    500 without a token); None leaves a variable out.
    """
    client = proxy.client_environment()
    values = {
        "ACCOUNT_SID": emulator.account.sid,
        "AUTH_TOKEN": emulator.account.auth_token,
        # In forked mode the function's process gets only these variables, so the proxy's CA is here too.
        "HTTP_PROXY": client["HTTP_PROXY"],
        "NODE_EXTRA_CA_CERTS": client["NODE_EXTRA_CA_CERTS"],
        "FLEX_WORKSPACE_SID": account.workspace_sid,
        "FLEX_WORKFLOW_SID": account.workflow_sid,
        **config,
    }
    return {key: value for key, value in values.items() if value is not None}


def seed_deployment(emulator: Emulator, project_dir: Path, unique_name: str = "flex-handover") -> DeployedService:
    """A new service whose dev environment runs a build of the project, as `twilio serverless:deploy` leaves it."""
    dependencies = read_package_json(project_dir).get("dependencies", {})
    return seed_deployed_service(emulator, deployed_files(project_dir), dependencies, unique_name)


def start_runtime(
    project_dir: Path,
    emulator: Emulator,
    proxy: EmulatorProxy,
    account: FlexAccount,
    fork: bool = False,
    **config: str | None,
) -> LocalRuntime:
    """twilio-run serving the project against the emulator. Beside the env file, its own process gets what Node reads
    at start: the proxy's CA, and the preload that sends Node's default HTTPS agent through the proxy (the Flex
    token validator's requests; the twilio library's own agent needs only the env file's HTTP_PROXY)."""
    client = proxy.client_environment()
    process_env = {name: client[name] for name in ("NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "HTTPS_PROXY")}
    return LocalRuntime(
        project_dir, function_environment(emulator, proxy, account, **config), process_env, fork=fork
    ).start()


@contextmanager
def python_client_environment(proxy: EmulatorProxy):
    """Point this process's twilio SDK (requests) at the proxy for the duration."""
    names = ("HTTPS_PROXY", "REQUESTS_CA_BUNDLE", "NO_PROXY")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: proxy.client_environment()[name] for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def emulated_account(project_dir: Path):
    """A new emulated Flex account behind its TLS proxy; the proxy stops at the end."""
    try:
        emulator = Emulator(spec_directory(project_dir), new_account())
    except SpecNotFound as error:
        raise EmulatorUnavailable(str(error)) from error
    account = seed_flex_account(emulator)
    with EmulatorProxy(emulator) as proxy:
        yield emulator, proxy, account
