"""The emulator through its real proxy, with the real twilio Python SDK (fixtures: conftest.py)."""

from __future__ import annotations

import http.client
import json
import re
import socket
import tempfile
import threading

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from twilio_emulator import EmulatorProxy, Fault, FlexAccount, seed_flex_account

TASKROUTER = "taskrouter.twilio.com"


@pytest.fixture
def flex(emulator) -> FlexAccount:
    emulator.reset()
    return seed_flex_account(emulator)


def proxy_connection(proxy: EmulatorProxy) -> http.client.HTTPConnection:
    host, port = proxy.url.removeprefix("http://").split(":")
    assert host == "127.0.0.1"
    return http.client.HTTPConnection(host, int(port), timeout=5)


# The proxy itself -------------------------------------------------------------------------------------


def test_client_environment_points_at_the_proxy_and_its_ca(proxy):
    environment = proxy.client_environment()
    assert proxy.url.startswith("http://127.0.0.1:")
    assert environment["HTTPS_PROXY"] == environment["HTTP_PROXY"] == proxy.url
    assert environment["REQUESTS_CA_BUNDLE"] == environment["NODE_EXTRA_CA_CERTS"] == str(proxy.ca_path)
    assert "127.0.0.1" in environment["NO_PROXY"].split(",")


def test_ca_file_exists_while_running_and_is_removed_after_stop(emulator):
    proxy = EmulatorProxy(emulator).start()
    try:
        assert proxy.ca_path.is_file()
        assert proxy.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
    finally:
        proxy.stop()
    assert not proxy.ca_path.exists()
    assert not proxy.ca_path.parent.exists()


def test_context_manager_starts_and_stops(emulator):
    with EmulatorProxy(emulator) as proxy:
        connection = proxy_connection(proxy)
        connection.request("GET", "/")
        assert connection.getresponse().status == 400
        connection.close()
        ca_path = proxy.ca_path
        assert ca_path.is_file()
    assert not ca_path.exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::1", "localhost", "example.org"])
def test_it_listens_on_an_ipv4_loopback_address_only(emulator, host):
    with pytest.raises(ValueError, match=f"loopback address only \\(127.0.0.1\\), not '{re.escape(host)}'"):
        EmulatorProxy(emulator, host)


def test_it_listens_on_the_loopback_address_and_port_given(emulator):
    with socket.socket() as probe:  # a port that is free now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with EmulatorProxy(emulator, "127.0.0.2", port) as proxy:
        assert proxy.url == f"http://127.0.0.2:{port}"
        with socket.create_connection(("127.0.0.2", port), timeout=5):
            pass


def test_a_port_in_use_raises_os_error_and_leaves_no_ca_behind(emulator, proxy, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    port = int(proxy.url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        EmulatorProxy(emulator, "127.0.0.1", port)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "target",
    ["example.org:443", "api.twilio.com:80", "eviltwilio.com:443", "api.twilio.com.example.org:443"],
)
def test_connect_to_anything_but_twilio_443_is_refused_with_403(proxy, emulator, target):
    requests_before = len(emulator.requests)
    connection = proxy_connection(proxy)
    try:
        connection.request("CONNECT", target, headers={"Host": target})
        response = connection.getresponse()
        assert response.status == 403
        assert target in response.read().decode()
    finally:
        connection.close()
    assert len(emulator.requests) == requests_before


def test_connect_to_twilio_443_is_established(proxy):
    connection = proxy_connection(proxy)
    try:
        connection.request("CONNECT", "api.twilio.com:443", headers={"Host": "api.twilio.com:443"})
        response = connection.getresponse()
        assert (response.status, response.reason) == (200, "Connection Established")
    finally:
        connection.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_plain_request_to_the_proxy_is_400(proxy, emulator, method):
    requests_before = len(emulator.requests)
    connection = proxy_connection(proxy)
    try:
        connection.request(
            method, "http://api.twilio.com/2010-04-01/Accounts.json", body=b"" if method == "POST" else None
        )
        response = connection.getresponse()
        assert response.status == 400
        assert "CONNECT" in response.read().decode()
    finally:
        connection.close()
    assert len(emulator.requests) == requests_before


# Through the Twilio SDK --------------------------------------------------------------------------------


def test_sdk_fetches_a_workspace(twilio, emulator, flex, account):
    workspace = twilio.taskrouter.v1.workspaces(flex.workspace_sid).fetch()
    assert workspace.sid == flex.workspace_sid
    assert workspace.friendly_name == "Flex Task Assignment"
    assert workspace.account_sid == account.sid
    (recorded,) = emulator.calls(host=TASKROUTER)
    assert (recorded.method, recorded.path, recorded.status) == ("GET", f"/v1/Workspaces/{flex.workspace_sid}", 200)
    assert recorded.operation == "GET /v1/Workspaces/{Sid}"
    assert recorded.auth_user == account.sid
    assert emulator.violations == []


def test_sdk_creates_an_interaction(twilio, emulator, flex):
    interaction = twilio.flex_api.v1.interaction.create(
        channel={"type": "web", "initiated_by": "customer", "properties": {"media_channel_sid": flex.conversation_sid}},
        routing={
            "properties": {
                "workspace_sid": flex.workspace_sid,
                "workflow_sid": flex.workflow_sid,
                "task_channel_unique_name": "chat",
                "attributes": {"customerName": "Ada", "handoff": {"reason": "refund"}},
            }
        },
    )
    assert interaction.sid.startswith("KD")
    task_sid = interaction.routing["properties"]["sid"]
    task = emulator.table("tasks")[task_sid]
    attributes = json.loads(task["attributes"])
    assert attributes["customerName"] == "Ada" and attributes["handoff"] == {"reason": "refund"}
    assert attributes["conversationSid"] == flex.conversation_sid
    assert attributes["flexInteractionSid"] == interaction.sid
    assert task["task_channel_unique_name"] == "chat"

    (recorded,) = emulator.calls(operation="POST /v1/Interactions")
    assert recorded.status == 200
    assert recorded.content_type.startswith("application/x-www-form-urlencoded")
    assert recorded.body["Channel"]["type"] == "web"  # the SDK's JSON text, decoded
    assert emulator.violations == []  # the SDK's encoding is what the description says

    fetched = twilio.taskrouter.v1.workspaces(flex.workspace_sid).tasks(task_sid).fetch()
    assert (fetched.sid, fetched.assignment_status) == (task_sid, "pending")


def test_sdk_raises_twilio_rest_exception_for_404(twilio, flex):
    with pytest.raises(TwilioRestException) as raised:
        twilio.taskrouter.v1.workspaces("WS" + "0" * 32).fetch()
    assert raised.value.status == 404
    assert raised.value.code == 20404
    assert "was not found" in raised.value.msg


def test_sdk_raises_twilio_rest_exception_for_an_injected_fault(twilio, emulator, flex):
    emulator.inject(Fault("GET", "/Workspaces/", status=503))
    with pytest.raises(TwilioRestException) as raised:
        twilio.taskrouter.v1.workspaces(flex.workspace_sid).fetch()
    assert (raised.value.status, raised.value.code) == (503, 20503)
    assert twilio.taskrouter.v1.workspaces(flex.workspace_sid).fetch().sid == flex.workspace_sid


def test_sdk_with_a_wrong_token_gets_401(proxied, account, flex):
    with pytest.raises(TwilioRestException) as raised:
        Client(account.sid, "0" * 32).taskrouter.v1.workspaces(flex.workspace_sid).fetch()
    assert (raised.value.status, raised.value.code) == (401, 20003)


def test_dropped_connection_fault_makes_the_sdk_raise_a_connection_error(twilio, emulator, flex):
    emulator.inject(Fault("GET", "/Workspaces/", drop=True))
    with pytest.raises(requests.exceptions.ConnectionError):
        twilio.taskrouter.v1.workspaces(flex.workspace_sid).fetch()
    (dropped,) = emulator.calls(host=TASKROUTER)
    assert dropped.status is None
    # The fault was used once; the proxy keeps serving.
    assert twilio.taskrouter.v1.workspaces(flex.workspace_sid).fetch().sid == flex.workspace_sid


def test_the_proxy_certificate_is_trusted_only_through_its_ca(proxied, monkeypatch, account, flex):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    with pytest.raises(requests.exceptions.SSLError):
        Client(account.sid, account.auth_token).taskrouter.v1.workspaces(flex.workspace_sid).fetch()


# Bugs found while writing these tests ------------------------------------------------------------------------


def test_stop_before_start_returns(emulator):
    """BUG: EmulatorProxy.stop() calls socketserver's shutdown(), which waits for serve_forever() to finish;
    if start() never ran, it waits forever (and the CA's temporary directory is never removed).
    """
    proxy = EmulatorProxy(emulator)
    stopper = threading.Thread(target=proxy.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=2)
    assert not stopper.is_alive(), "EmulatorProxy.stop() hangs when the proxy was never started"
    assert not proxy.ca_path.exists()
