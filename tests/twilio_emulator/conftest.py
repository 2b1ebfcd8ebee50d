"""Fixtures of the product tests: one emulator per module behind its real proxy, reached with the real twilio SDK.

test_core.py drives the emulator without the proxy and defines its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioException
from twilio.rest import Client

from tests.handover.conftest import point_at
from twilio_emulator import Account, Emulator, EmulatorProxy, new_account, spec_directory
from twilio_emulator.callbacks import Outbox

PROJECT_DIR = Path(__file__).resolve().parents[2]
API_KEY_SID = "SK" + "5" * 32
API_KEY_SECRET = "api-key-secret-" + "7" * 17


@pytest.fixture(scope="module")
def account() -> Account:
    created = new_account()
    return Account(created.sid, created.auth_token, api_keys={API_KEY_SID: API_KEY_SECRET})


@pytest.fixture(scope="module")
def module_emulator(account) -> Emulator:
    return Emulator(spec_directory(PROJECT_DIR), account)


@pytest.fixture(scope="module")
def proxy(module_emulator):
    with EmulatorProxy(module_emulator) as running:
        yield running


@pytest.fixture
def emulator(module_emulator) -> Emulator:
    """The module's emulator, emptied; a test fails on any spec violation, and on any request for an operation the
    emulator does not serve (a 501)."""
    module_emulator.reset()
    yield module_emulator
    assert [str(v) for v in module_emulator.violations] == [], "traffic broke Twilio's OpenAPI description"
    unserved = [str(u) for u in module_emulator.unserved]
    assert unserved == [], "traffic asked for operations the emulator does not serve (answered 501)"


@pytest.fixture
def proxied(emulator, proxy, monkeypatch) -> EmulatorProxy:
    """The environment a client needs to reach Twilio through the proxy."""
    point_at(proxy, monkeypatch)
    return proxy


@pytest.fixture
def twilio(proxied, account) -> Client:
    return Client(account.sid, account.auth_token)


@pytest.fixture
def twilio_with_api_key(proxied, account) -> Client:
    return Client(API_KEY_SID, API_KEY_SECRET, account.sid)


@pytest.fixture
def refused(emulator):
    """Status, code and message the emulator answered to an SDK
    request that raised (a list raises a plain TwilioException)."""

    def answer(request) -> tuple[int, int, str]:
        with pytest.raises(TwilioException):
            request()
        recorded = emulator.requests[-1]
        return recorded.status, recorded.response["code"], recorded.response["message"]

    return answer


@pytest.fixture
def one_sender(emulator) -> Outbox:
    """The account's callbacks sent by one sender, so that they arrive in the order they were queued."""
    shared = emulator.outbox
    emulator.outbox = Outbox(lambda: emulator.account.auth_token, concurrency=1)
    yield emulator.outbox
    emulator.outbox.close()
    emulator.outbox = shared
