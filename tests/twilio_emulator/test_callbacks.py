"""The callbacks the emulator sends: signed as Twilio signs them (checked with the twilio SDK's own validator), to
loopback addresses only, after the cause is answered, and duplicated, reordered or retried on purpose."""

from __future__ import annotations

import threading

import pytest
from twilio.request_validator import RequestValidator

from tests.webhook_receiver import Receiver
from twilio_emulator.callbacks import Outbox, is_loopback_url, signature

AUTH_TOKEN = "12345678901234567890123456789012"


@pytest.fixture(scope="module")
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture
def outbox(receiver):
    receiver.received.clear()
    receiver.statuses.clear()
    sending = Outbox(lambda: AUTH_TOKEN)
    yield sending
    sending.close()


def test_a_post_is_signed_as_twilio_signs_it(outbox, receiver):
    url = f"{receiver.base}/bot?x=1"
    outbox.send("test.event", url, {"EventType": "onMessageAdded", "Body": "Hello, é"})
    assert outbox.wait_idle()
    (got,) = receiver.received
    assert got["params"] == {"EventType": "onMessageAdded", "Body": "Hello, é"}
    assert got["content_type"].startswith("application/x-www-form-urlencoded")
    assert RequestValidator(AUTH_TOKEN).validate(url, got["params"], got["signature"])
    assert not RequestValidator("another-token-of-32-characters-!").validate(url, got["params"], got["signature"])
    (sent,) = outbox.sent
    assert (sent.delivered, sent.status, sent.attempts, sent.error) == (True, 200, 1, None)


def test_a_loopback_https_url_is_reached_over_http_and_signed_as_given(outbox, receiver):
    url = receiver.base.replace("http://", "https://") + "/lifecycle/task-events"
    outbox.send("test.event", url, {"EventType": "task.completed"})
    assert outbox.wait_idle()
    (got,) = receiver.received
    assert got["path"] == "/lifecycle/task-events"
    assert RequestValidator(AUTH_TOKEN).validate(url, got["params"], got["signature"])


def test_a_get_is_signed_over_its_url_with_the_parameters_in_the_query(outbox, receiver):
    outbox.send("test.event", f"{receiver.base}/status", {"CallSid": "CA1"}, method="GET")
    assert outbox.wait_idle()
    (got,) = receiver.received
    assert got["method"] == "GET" and got["path"] == "/status?CallSid=CA1"
    assert RequestValidator(AUTH_TOKEN).validate(f"{receiver.base}/status?CallSid=CA1", {}, got["signature"])


def test_the_signature_is_the_documented_hmac():
    # Twilio's documented example: https://www.twilio.com/docs/usage/security#validating-requests
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234", "From": "+12349013030"}
    params |= {"To": "+18005551212"}
    url = "https://example.com/myapp.php?foo=1&bar=2"
    assert signature(AUTH_TOKEN, url, params) == RequestValidator(AUTH_TOKEN).compute_signature(url, params)


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:3000/x", True),
        ("http://localhost/x", True),
        ("http://[::1]:8080/x", True),
        ("http://127.8.9.1/x", True),
        ("https://example.com/x", False),
        ("http://10.0.0.1/x", False),
        ("http://192.168.1.1/x", False),
        ("not a url", False),
    ],
)
def test_only_loopback_addresses_are_delivered_to(url, loopback):
    assert is_loopback_url(url) is loopback


def test_another_address_is_recorded_as_not_delivered_and_never_reached(outbox, receiver):
    outbox.send("test.event", "https://bot.example.com/hook", {"A": "1"})
    assert outbox.wait_idle()
    (sent,) = outbox.sent
    assert (sent.delivered, sent.status, sent.attempts) == (False, None, 0)
    assert sent.error == "not delivered: the emulator sends callbacks to loopback addresses only"
    assert receiver.received == []


def test_held_callbacks_wait_for_their_release(outbox, receiver):
    outbox.pause()
    for n in range(3):
        outbox.send("test.event", f"{receiver.base}/e{n}", {"N": str(n)})
    assert outbox.wait_idle() and receiver.received == []
    outbox.release(reversed)
    assert outbox.wait_idle()
    assert sorted(r["path"] for r in receiver.received) == ["/e0", "/e1", "/e2"]


def test_reversed_release_with_one_sender_arrives_exactly_reversed(receiver):
    receiver.received.clear()
    outbox = Outbox(lambda: AUTH_TOKEN, concurrency=1)
    outbox.pause()
    for n in range(3):
        outbox.send("test.event", f"{receiver.base}/r{n}", {"N": str(n)})
    outbox.release(reversed)
    assert outbox.wait_idle()
    assert [r["path"] for r in receiver.received] == ["/r2", "/r1", "/r0"]
    outbox.close()


def test_duplicate_next_sends_the_next_callback_twice_and_then_once(outbox, receiver):
    outbox.duplicate_next()
    outbox.send("test.event", f"{receiver.base}/twice", {"A": "1"})
    outbox.send("test.event", f"{receiver.base}/once", {"A": "2"})
    assert outbox.wait_idle()
    assert sorted(r["path"] for r in receiver.received) == ["/once", "/twice", "/twice"]


def test_a_failed_delivery_is_not_retried_unless_asked(outbox, receiver):
    receiver.statuses["/flaky"] = [500, 200]
    outbox.send("test.event", f"{receiver.base}/flaky", {"A": "1"})
    assert outbox.wait_idle()
    (sent,) = outbox.sent
    assert (sent.delivered, sent.status, sent.attempts, sent.error) == (False, 500, 1, "answered 500")


def test_retries_try_a_failed_delivery_again(receiver):
    receiver.received.clear()
    receiver.statuses["/flaky"] = [503, 200]
    outbox = Outbox(lambda: AUTH_TOKEN, retries=2)
    outbox.send("test.event", f"{receiver.base}/flaky", {"A": "1"})
    assert outbox.wait_idle()
    (sent,) = outbox.sent
    assert (sent.delivered, sent.status, sent.attempts) == (True, 200, 2)
    outbox.close()


def test_forget_drops_what_is_held_and_what_was_sent(outbox, receiver):
    outbox.send("test.event", f"{receiver.base}/a", {})
    assert outbox.wait_idle()
    outbox.pause()
    outbox.send("test.event", f"{receiver.base}/b", {})
    outbox.forget()
    outbox.release()
    assert outbox.wait_idle()
    assert outbox.sent == [] and [r["path"] for r in receiver.received] == ["/a"]


def test_an_account_that_sends_nothing_runs_no_sender_thread():
    before = {t.name for t in threading.enumerate()}
    idle = Outbox(lambda: AUTH_TOKEN)
    assert {t.name for t in threading.enumerate()} == before
    assert idle.wait_idle(0.1)
