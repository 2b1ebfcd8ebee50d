"""The webhooks and callbacks the emulator sends, as Twilio sends them: form-encoded POSTs (or GETs) signed with
X-Twilio-Signature, after the request that caused them has been answered.

A product's handler calls `outbox.send(...)` under the account's lock; that only queues. Senders on threads of their
own deliver, so that a receiver may call the emulator back (as a bot's webhook or a TaskRouter event handler does)
without waiting on the lock its cause holds. Only loopback addresses are delivered to: any other URL is recorded as
not delivered, never reached. A loopback `https://` URL is delivered over plain HTTP to the same port, signed over
the URL as given: a local server (twilio-run) speaks HTTP, while the URL an account holds, and Twilio signs, is the
https:// one a deployment answers at (a Function checks the signature over `https://` and its DOMAIN_NAME).

Twilio documents the signature: HMAC-SHA1 with the account's auth token over the full URL followed by every POST
parameter, sorted by name, each name then its value; base64. A GET is signed over its URL alone (the parameters in
its query). A JSON callback (Conversation Orchestrator's status callbacks) carries its body's SHA-256, hex, as the
`bodySHA256` query parameter and is signed over that URL alone, as twilio's RequestValidator checks it. What Twilio
documents nothing of, the emulator assumes, and says so: a delivery is made once (no retry of a failed one unless
`retries` is set), with a timeout of 15 s, the answer's body unread, a 2xx counting as delivered; senders deliver
concurrently (`concurrency`), so callbacks queued close together may arrive in any order, as Twilio's may.
`pause`/`release` hold them back and let them go in a chosen order, and `duplicate_next` sends the next ones twice,
so a test can play TaskRouter's documented duplicates and reordering on purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

TIMEOUT_SECONDS = 15.0
# Receivers are on this machine: a proxy of the surrounding shell must not stand between.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def signature(auth_token: str, url: str, params: dict[str, str] | None = None) -> str:
    """X-Twilio-Signature of a request to `url` with these POST parameters (None or {} for a GET)."""
    payload = url + "".join(name + params[name] for name in sorted(params or {}))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Callback:
    """One webhook or callback the emulator sent (or could not): what, to where, and what came of it."""

    source: str  # what sent it, e.g. "conversations.onMessageAdded", "taskrouter.event"
    url: str
    params: dict[str, str]
    method: str = "POST"
    body: str | None = None  # a JSON callback's body (its URL then carries bodySHA256); None: form parameters
    # Filled in when it is delivered: the receiver's status (None if none answered), why it failed, how many tries.
    status: int | None = None
    error: str | None = None
    attempts: int = 0
    queued_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Outbox:
    """The callbacks of one account, sent by `concurrency` senders; every one is kept in `sent` once tried."""

    def __init__(self, auth_token: Callable[[], str], concurrency: int = 4, retries: int = 0):
        self._auth_token = auth_token
        self.retries = retries
        self.sent: list[Callback] = []
        self._queue: deque[Callback] = deque()
        self._held: list[Callback] | None = None
        self._duplicates = 0
        self._busy = 0
        self._closed = False
        self._condition = threading.Condition()
        self._concurrency = concurrency
        self._senders: list[threading.Thread] = []

    # What products call ----------------------------------------------------------------------------------

    def send(self, source: str, url: str, params: dict[str, str], method: str = "POST") -> Callback:
        """Queue a callback; it is sent once the caller's request is answered (the caller holds the account's lock)."""
        return self._queued(Callback(source, url, {name: str(value) for name, value in params.items()}, method.upper()))

    def send_json(self, source: str, url: str, body: object) -> Callback:
        """Queue a JSON POST, its URL with the body's `bodySHA256`; sent as `send`'s are."""
        text = json.dumps(body, separators=(",", ":"))
        digest = hashlib.sha256(text.encode()).hexdigest()
        signed_url = url + ("&" if "?" in url else "?") + urlencode({"bodySHA256": digest})
        return self._queued(Callback(source, signed_url, {}, "POST", text))

    def _queued(self, callback: Callback) -> Callback:
        with self._condition:
            self._start_senders()
            self._enqueue(callback)
            if self._duplicates:
                self._duplicates -= 1
                self._enqueue(
                    Callback(callback.source, callback.url, dict(callback.params), callback.method, callback.body)
                )
        return callback

    # What tests call --------------------------------------------------------------------------------------

    def pause(self) -> None:
        """Hold every callback queued from now on until `release`."""
        with self._condition:
            if self._held is None:
                self._held = []

    def release(self, order: Callable[[list[Callback]], Iterable[Callback]] = list) -> None:
        """Send the held callbacks, in the order `order` gives them (e.g. `reversed`), and stop holding."""
        with self._condition:
            held, self._held = self._held or [], None
            if held:
                self._start_senders()
            self._queue.extend(order(held))
            self._condition.notify_all()

    def duplicate_next(self, count: int = 1) -> None:
        """Send each of the next `count` callbacks twice, as Twilio may."""
        with self._condition:
            self._duplicates += count

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent (held ones aside); False if that took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._condition.wait(left)
            return True

    def forget(self) -> None:
        """Drop what is queued or held and what was sent; what is being sent now still finishes."""
        with self._condition:
            self._queue.clear()
            self._held = None
            self._duplicates = 0
            self.sent.clear()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    # Sending ---------------------------------------------------------------------------------------------

    def _start_senders(self) -> None:
        """The senders, started with the first callback: an account that sends none runs no thread."""
        if not self._senders and not self._closed:
            self._senders = [
                threading.Thread(target=self._send_forever, name=f"twilio-emulator-callbacks-{n}", daemon=True)
                for n in range(self._concurrency)
            ]
            for sender in self._senders:
                sender.start()

    def _enqueue(self, callback: Callback) -> None:
        if self._held is not None:
            self._held.append(callback)
        else:
            self._queue.append(callback)
            self._condition.notify()

    def _send_forever(self) -> None:
        while True:
            with self._condition:
                while not self._queue and not self._closed:
                    self._condition.wait()
                if self._closed:
                    return
                callback = self._queue.popleft()
                self._busy += 1
            try:
                self._deliver(callback)
            finally:
                with self._condition:
                    self._busy -= 1
                    self.sent.append(callback)
                    self._condition.notify_all()

    def _deliver(self, callback: Callback) -> None:
        if not is_loopback_url(callback.url):
            callback.error = "not delivered: the emulator sends callbacks to loopback addresses only"
            callback.finished_at = time.monotonic()
            return
        for _ in range(1 + self.retries):
            callback.attempts += 1
            callback.status, callback.error = _request(callback, self._auth_token())
            if callback.delivered:
                break
        callback.finished_at = time.monotonic()


def _plain_http(url: str) -> str:
    """Where a loopback URL is reached: over HTTP, whatever scheme the account holds (the module's docstring)."""
    return "http://" + url.removeprefix("https://") if url.startswith("https://") else url


def _request(callback: Callback, auth_token: str) -> tuple[int | None, str | None]:
    """One try: the receiver's status, and what went wrong (None when it answered 2xx)."""
    if callback.method == "GET":
        url = callback.url + ("&" if "?" in callback.url else "?") + urlencode(callback.params)
        data, signed = None, signature(auth_token, url)
    elif callback.body is not None:
        url, data, signed = callback.url, callback.body.encode(), signature(auth_token, callback.url)
    else:
        url, data = callback.url, urlencode(callback.params).encode()
        signed = signature(auth_token, url, callback.params)
    headers = {"X-Twilio-Signature": signed, "User-Agent": "TwilioProxy/1.1 (twilio-emulator)"}
    if callback.body is not None:
        headers["Content-Type"] = "application/json"
    elif data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
    request = urllib.request.Request(_plain_http(url), data=data, headers=headers, method=callback.method)
    try:
        with _DIRECT.open(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, f"answered {error.code}"
    except (OSError, ValueError) as error:
        return None, f"not delivered: {error}"
