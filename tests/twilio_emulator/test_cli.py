"""`twilio-emulator`: the emulator started as a process of its own and reached with the plain Python SDK from another,
the coverage report, fetch-openapi, and every bad input."""

from __future__ import annotations

import json
import os
import queue
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.handover.conftest import FOREIGN_VARIABLES
from twilio_emulator import cli, spec_directory, spec_files

PROJECT_DIR = Path(__file__).resolve().parents[2]
SPEC_DIR = spec_directory(PROJECT_DIR)
STARTED_WITHIN = 30  # seconds: the imports and the description's files, on a slow machine
STOPPED_WITHIN = 15
# What the process's environment must not bring from the test's: a way to Twilio, credentials, the description.
INHERITED_SETTINGS = (
    *FOREIGN_VARIABLES,
    *("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"),
    "TWILIO_EMULATOR_OPENAPI_DIR",
)
ENVIRONMENT_NAMES = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NODE_EXTRA_CA_CERTS",
    "NODE_OPTIONS",
    "REQUESTS_CA_BUNDLE",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "CURL_CA_BUNDLE",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
]


def clean_environment(**settings: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in INHERITED_SETTINGS}, **settings}


class Started:
    """`twilio-emulator start` in a process of its own, each of its output streams read line by line by a thread."""

    def __init__(self, *options: str, cwd: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "twilio_emulator.cli", "start", "--openapi-dir", str(SPEC_DIR), *options],
            cwd=cwd,
            env=clean_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stdout, self.stderr = queue.Queue(), queue.Queue()
        self._readers = [
            threading.Thread(target=_read_lines, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def line(self, lines: queue.Queue, within: float = STARTED_WITHIN) -> str:
        """The next line of `lines` (self.stdout or self.stderr), waited for `within` seconds at most."""
        try:
            line = lines.get(timeout=within)
        except queue.Empty:
            raise AssertionError(f"no line from the emulator within {within} s") from None
        assert line is not None, f"the emulator exited ({self.process.poll()}) before writing it"
        return line

    def stop(self, signal_number: int = signal.SIGINT) -> tuple[int, list[str]]:
        """Its exit code once `signal_number` stopped it (killed if it did not), and the stderr lines not read yet."""
        try:
            self.process.send_signal(signal_number)
            code = self.process.wait(timeout=STOPPED_WITHIN)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait(timeout=STOPPED_WITHIN)
        for reader in self._readers:
            reader.join(timeout=STOPPED_WITHIN)
        return code, list(iter(self.stderr.get_nowait, None))


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)  # the end of the stream


# Python run in a process of its own with the environment `start` printed: the plain SDK, nothing emulator-specific.
SDK_SCRIPT = textwrap.dedent(
    """
    import json
    import sys

    from twilio.rest import Client

    flex = json.loads(sys.argv[1])
    client = Client()  # TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN from the environment
    workspaces = [workspace.sid for workspace in client.taskrouter.v1.workspaces.list()]
    conversation = client.conversations.v1.services(flex["service_sid"]).conversations(flex["conversation_sid"])
    conversation.update(attributes=json.dumps({"from": "a second process"}))
    created = client.conversations.v1.address_configurations.create(type="sms", address="+15005550006")
    fetched = client.conversations.v1.address_configurations(created.sid).fetch()
    print(json.dumps({
        "workspaces": workspaces,
        "attributes": json.loads(conversation.fetch().attributes),
        "address": [created.sid, fetched.sid, fetched.address],
    }))
    """
)


@pytest.fixture(scope="module")
def started(tmp_path_factory):
    """`twilio-emulator start --json --seed flex` in a process of its own, and its JSON line."""
    emulator = Started("--json", "--seed", "flex", cwd=tmp_path_factory.mktemp("started"))
    try:
        yield emulator, json.loads(emulator.line(emulator.stdout))
    finally:
        emulator.stop()


def test_it_prints_one_json_line_of_what_a_client_needs(started):
    emulator, printed = started
    environment, ca_file = printed["environment"], printed["ca_file"]
    assert list(environment) == ENVIRONMENT_NAMES
    assert printed["proxy_url"].startswith("http://127.0.0.1:")
    assert environment["HTTPS_PROXY"] == environment["HTTP_PROXY"] == printed["proxy_url"]
    assert {environment[name] for name in ENVIRONMENT_NAMES if name.endswith(("_CERTS", "_BUNDLE", "_FILE"))} == {
        ca_file
    }
    assert Path(ca_file).read_text(encoding="utf-8").startswith("-----BEGIN CERTIFICATE-----")
    preload = environment["NODE_OPTIONS"].removeprefix('--require "').removesuffix('"')
    assert Path(preload).name == "node_https_proxy.js" and Path(preload).is_file()
    assert environment["TWILIO_ACCOUNT_SID"].startswith("AC") and len(environment["TWILIO_AUTH_TOKEN"]) == 32
    assert sorted(printed["flex"]) == [
        "conversation_sid",
        "service_sid",
        "webchat_identity",
        "webchat_name",
        "workflow_sid",
        "workspace_sid",
    ]
    assert emulator.line(emulator.stderr).startswith(f"twilio-emulator: listening on {printed['proxy_url']} ")


def test_a_second_process_uses_it_with_the_plain_sdk_pointed_by_the_environment(started, tmp_path):
    _, printed = started
    flex = printed["flex"]
    finished = subprocess.run(
        [sys.executable, "-c", SDK_SCRIPT, json.dumps(flex)],
        cwd=tmp_path,
        env=clean_environment(**printed["environment"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    answered = json.loads(finished.stdout)
    assert flex["workspace_sid"] in answered["workspaces"]
    assert answered["attributes"] == {"from": "a second process"}
    created, fetched, address = answered["address"]
    assert (created[:2], fetched, address) == ("IG", created, "+15005550006")


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_it_with_exit_0_and_a_summary(tmp_path, signal_number):
    env_file = tmp_path / "emulator.env"
    emulator = Started("--seed", "none", "--env-file", str(env_file), cwd=tmp_path)
    try:
        printed = [emulator.line(emulator.stdout) for _ in ENVIRONMENT_NAMES]
        assert emulator.line(emulator.stderr).startswith("twilio-emulator: listening on http://127.0.0.1:")
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        assert env_file.read_text(encoding="utf-8") == "".join(printed)
        assert [line.split("=", 1)[0] for line in printed] == [f"export {name}" for name in ENVIRONMENT_NAMES]
        # A shell sources the file, then the SDK makes one request the emulator serves and one it does not.
        script = (
            "from twilio.rest import Client; from twilio.base.exceptions import TwilioRestException\n"
            "client = Client(); print(len(client.taskrouter.v1.workspaces.list()))\n"
            "try: client.taskrouter.v1.workspaces('WS' + '0' * 32).activities.create(friendly_name='Break')\n"
            "except TwilioRestException as refused: print(refused.status)\n"
        )
        command = f'. {env_file} && {sys.executable} -c "$SCRIPT"'
        finished = subprocess.run(
            ["sh", "-c", command],
            env=clean_environment(SCRIPT=script),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (finished.returncode, finished.stdout) == (0, "0\n501\n"), finished.stderr
    finally:
        code, stderr = emulator.stop(signal_number)
    assert code == 0
    assert [line.rstrip("\n") for line in stderr[-2:]] == [
        "twilio-emulator: stopped; requests: 2, violations: 0, unserved operations (501): 1",
        "  not served (501): CreateActivity (POST /v1/Workspaces/{WorkspaceSid}/Activities): "
        f"POST https://taskrouter.twilio.com/v1/Workspaces/WS{'0' * 32}/Activities",
    ]


# Bad input ------------------------------------------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "localhost"])
def test_a_host_other_than_loopback_is_refused_with_exit_2_and_nothing_started(runner, monkeypatch, host):
    made = []
    monkeypatch.setattr(cli, "Emulator", lambda *args, **kwargs: made.append(args))
    result = runner.invoke(cli.main, ["start", "--host", host, "--openapi-dir", str(SPEC_DIR)])
    assert result.exit_code == 2
    assert (result.stdout, made) == ("", [])
    assert f"Invalid value for '--host': {host!r} is not a loopback address" in result.stderr


def test_a_port_in_use_is_a_clear_error(runner, started):
    _, printed = started
    port = printed["proxy_url"].rsplit(":", 1)[1]
    result = runner.invoke(cli.main, ["start", "--port", port, "--openapi-dir", str(SPEC_DIR)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")


def test_an_env_file_that_cannot_be_written_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-folder" / "emulator.env"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "twilio_emulator.cli",
            "start",
            "--env-file",
            str(missing),
            "--openapi-dir",
            str(SPEC_DIR),
        ],
        env=clean_environment(),
        capture_output=True,
        text=True,
        timeout=STARTED_WITHIN,
    )
    assert (finished.returncode, finished.stdout) == (1, "")
    assert finished.stderr == f"Error: cannot write {missing}: No such file or directory\n"


MISSING = (
    "Error: Twilio's OpenAPI description was not found in {}. Run `twilio-emulator fetch-openapi` (in this project"
)


@pytest.mark.parametrize("command", [["start"], ["coverage"], ["coverage", "--json"]])
def test_a_missing_openapi_dir_says_to_fetch_it(runner, tmp_path, command):
    missing = tmp_path / "none"
    result = runner.invoke(cli.main, [*command, "--openapi-dir", str(missing)])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr.startswith(MISSING.format(missing))


def test_the_openapi_dir_is_the_environments_else_the_cache_under_the_current_folder(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TWILIO_EMULATOR_OPENAPI_DIR", raising=False)
    result = runner.invoke(cli.main, ["coverage"])
    assert result.stderr.startswith(MISSING.format(tmp_path / ".cache/twilio-oai/cli-core-9.0.0"))
    monkeypatch.setenv("TWILIO_EMULATOR_OPENAPI_DIR", str(SPEC_DIR))
    result = runner.invoke(cli.main, ["coverage"])
    assert result.exit_code == 0
    assert (
        result.stderr
        == f"Operations of Twilio's OpenAPI description in {SPEC_DIR}, by whether the emulator serves them.\n"
    )


# coverage -------------------------------------------------------------------------------------------------------


def coverage(runner: CliRunner, *options: str):
    return runner.invoke(cli.main, ["coverage", "--openapi-dir", str(SPEC_DIR), *options])


def test_coverage_json_has_every_product_with_its_operations_and_the_totals(runner):
    result = coverage(runner, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert sorted(report) == ["products", "totals"]
    products = {product["product"]: product for product in report["products"]}
    taskrouter = products["taskrouter"]
    assert sorted(taskrouter) == ["assumed", "counts", "host", "not_served", "product", "served", "used"]
    assert (taskrouter["host"], taskrouter["used"]) == ("taskrouter.twilio.com", True)
    assert {"operation_id": "FetchWorkspace", "method": "GET", "path": "/v1/Workspaces/{Sid}"} in taskrouter["served"]
    assert {
        "operation_id": "ListActivity",
        "method": "GET",
        "path": "/v1/Workspaces/{WorkspaceSid}/Activities",
    } in taskrouter["not_served"]
    for product in products.values():
        assert product["counts"] == {key: len(product[key]) for key in ("served", "not_served", "assumed")}
    assert report["totals"] == {
        key: sum(product["counts"][key] for product in products.values()) for key in ("served", "not_served", "assumed")
    }
    assert report["totals"]["served"] + report["totals"]["not_served"] == 1687


def test_coverage_lists_what_is_not_served_of_the_products_the_emulator_uses(runner):
    result = coverage(runner)
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["product", "served", "not", "served", "assumed", "used"]
    [taskrouter] = [line for line in lines if line.startswith("taskrouter ")]
    served, not_served, assumed, used = taskrouter.split()[1:]
    assert (int(served) + int(not_served), assumed, used) == (61, "0", "yes")
    assert [line.split() for line in lines if line.startswith("voice ")] == [["voice", "0", "53", "0"]]
    assert f"taskrouter: {not_served} of 61 not served:" in lines
    assert [line.split() for line in lines if line.endswith(" /v1/Workspaces/{WorkspaceSid}/Activities")][0] == [
        "ListActivity",
        "GET",
        "/v1/Workspaces/{WorkspaceSid}/Activities",
    ]
    assert not [line for line in lines if line.startswith("voice:")]
    assert "voice: 53 of 53 not served:" in coverage(runner, "--all").stdout.splitlines()


def test_coverage_of_one_product_lists_every_operation(runner):
    lines = coverage(runner, "--product", "taskrouter").stdout.splitlines()
    assert lines[1].startswith("taskrouter ") and lines[2].startswith("total ")
    assert "served:" in lines and "not served:" in lines
    served = lines[lines.index("served:") + 1 : lines.index("not served:")]
    assert ["FetchWorkspace", "GET", "/v1/Workspaces/{Sid}"] in [line.split() for line in served]


def test_coverage_of_an_unknown_product_is_a_usage_error_naming_the_products(runner):
    result = coverage(runner, "--product", "no-such-product")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "Invalid value for --product: no product 'no-such-product'; the products: accounts, api," in (
        result.stderr.replace("\n", " ")
    )
    assert coverage(runner, "--product", "taskrouter", "--all").exit_code == 2


# fetch-openapi, help ---------------------------------------------------------------------------------------------


def test_fetch_openapi_leaves_a_complete_cache_alone(runner):
    result = runner.invoke(cli.main, ["fetch-openapi", str(PROJECT_DIR)])
    assert result.exit_code == 0
    assert result.stdout == (
        f"Twilio's OpenAPI description (@twilio/cli-core@9.0.0, {len(list(SPEC_DIR.glob('twilio_*.json')))} files) "
        f"already complete: {SPEC_DIR}\n"
    )


def test_fetch_openapi_says_what_to_do_when_it_cannot(runner, tmp_path, monkeypatch):
    monkeypatch.setattr(spec_files.shutil, "which", lambda name: None)
    result = runner.invoke(cli.main, ["fetch-openapi", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: npm was not found on PATH: install Node.js 20 or later (with npm), then run "
        "`twilio-emulator fetch-openapi` (in this project: `make install`).\n"
    )


def test_help_lists_every_command_with_its_one_line_help(runner):
    result = runner.invoke(cli.main, ["-h"])
    assert result.exit_code == 0
    commands = result.stdout.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in commands] == ["coverage", "fetch-openapi", "start"]
    for name in ("coverage", "fetch-openapi", "start"):
        helped = runner.invoke(cli.main, [name, "--help"])
        assert helped.exit_code == 0
        assert "Example:\n\n      twilio-emulator " + name in helped.stdout


def test_the_start_help_says_the_token_is_a_throwaway(runner):
    text = " ".join(runner.invoke(cli.main, ["start", "-h"]).stdout.split())
    assert "That token is the emulator's own throwaway credential, made for this run: no real account's." in text


def test_version(runner):
    assert runner.invoke(cli.main, ["--version"]).stdout == "twilio-emulator 0.1.0\n"


def test_python_dash_m_runs_it_under_its_name():
    finished = subprocess.run(
        [sys.executable, "-m", "twilio_emulator.cli", "--help"], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0
    assert finished.stdout.startswith("Usage: twilio-emulator [OPTIONS] COMMAND [ARGS]...")
