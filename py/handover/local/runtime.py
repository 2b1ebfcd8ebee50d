"""The real local Functions runtime (twilio-run with @twilio/runtime-handler), started on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import HandoverError

TWILIO_RUN = Path("node_modules/twilio-run/bin/twilio-run.js")
# What twilio-run needs in its environment to print plainly: no update check, no colours.
QUIET_NODE = {"NO_UPDATE_NOTIFIER": "1", "FORCE_COLOR": "0"}
START_TIMEOUT = 60.0


class RuntimeStartError(HandoverError):
    """twilio-run could not be started; the message says why (its log, or what to install)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalRuntime:
    """twilio-run serving the project's functions.

    twilio-run replaces the functions' `process.env` with the env file's contents, so the variables
    the functions need (credentials, configuration, the proxy) go into the env file it is given, and
    NODE_EXTRA_CA_CERTS, which Node reads at start, into the real environment of the process.
    """

    def __init__(self, project_dir: Path, env_file: dict[str, str], process_env: dict[str, str], fork: bool = False):
        self.project_dir = project_dir
        self.env_file = env_file
        self.process_env = process_env
        self.fork = fork
        self.port = free_port()
        self._directory = tempfile.TemporaryDirectory(prefix="twilio-run-")
        self.log_path = self.directory / "twilio-run.log"
        self._process: subprocess.Popen | None = None

    @property
    def directory(self) -> Path:
        """The runtime's own temporary directory (its env file and log), removed when it stops."""
        return Path(self._directory.name)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def start(self) -> LocalRuntime:
        script = self.project_dir / TWILIO_RUN
        node = shutil.which("node")
        if node is None or not script.is_file():
            raise RuntimeStartError(
                f"twilio-run is not installed in {self.project_dir}: run `make install` (npm ci) first."
            )
        env_path = self.directory / ".env"
        env_path.write_text("".join(f"{key}={value}\n" for key, value in self.env_file.items()), encoding="utf-8")
        command = [
            node,
            str(script),
            "start",
            "--cwd",
            str(self.project_dir),
            "--port",
            str(self.port),
            "--env",
            str(env_path),
        ]
        # Modules load once and stay, as in a warm deployed instance (twilio-run reloads them per call by default).
        command.append("--no-live")
        if not self.fork:
            command.append("--no-fork-process")
        environment = {**os.environ, **self.process_env, **QUIET_NODE}
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=self.project_dir,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_until_serving()
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeStartError(f"twilio-run exited with {self._process.returncode}:\n{self.log()}")
            try:
                urllib.request.urlopen(self.url("/__handover_ready"), timeout=2)
                return
            except urllib.error.HTTPError:
                return  # it answers: a 404 for a path no function has
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeStartError(
            f"twilio-run did not answer on {self.base_url} within {START_TIMEOUT:.0f} s:\n{self.log()}"
        )

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        self._directory.cleanup()

    def __enter__(self) -> LocalRuntime:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
