"""The emulated Twilio account: routes, state, authentication, recording, load limits, faults and spec checks.

No sockets here: `Emulator.handle` takes a decoded HTTP request and returns a status and a body, so
the proxy (proxy.py) and tests drive the same code.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, parse_qsl, unquote, urlencode

from .limits import Limits, SyncLimit, Throttle
from .spec import Operation, Spec, Violation

Handler = Callable[["Call"], tuple[int, object]]
# Which of Twilio's load limits a request counts against: the limit and the SID whose bucket it takes from; None: none.
Metered = Callable[["Call"], tuple[SyncLimit, str] | None]
ROUTES: dict[tuple[str, str, str], Handler] = {}
METERED_ROUTES: dict[tuple[str, str, str], Metered] = {}
# Operations Twilio serves but its installed OpenAPI description does not describe: (host, method, path template) → handler.
ASSUMED_ROUTES: dict[tuple[str, str, str], Handler] = {}


def route(host: str, method: str, path_template: str, metered: Metered | None = None) -> Callable[[Handler], Handler]:
    """Register a handler for an operation, named exactly as Twilio's OpenAPI description names it.

    `metered` says which load limit a request of the operation counts against; it runs under the
    emulator's lock before any fault and before the handler.
    """

    def register(handler: Handler) -> Handler:
        ROUTES[(host, method, path_template)] = handler
        if metered is not None:
            METERED_ROUTES[(host, method, path_template)] = metered
        return handler

    return register


def assumed_route(host: str, method: str, path_template: str) -> Callable[[Handler], Handler]:
    """Register a handler for an operation the installed description lacks; its module's docstring must say what is assumed and why.

    It answers only when the description has no operation for the request. Such a request is
    authenticated, recorded (with its `operation`) and struck by faults like any other, and is no
    violation; nothing checks it or its answer against a schema, since none is installed.
    """

    def register(handler: Handler) -> Handler:
        ASSUMED_ROUTES[(host, method, path_template)] = handler
        return handler

    return register


@dataclass(frozen=True)
class AssumedOperation:
    path_template: str
    handler: Handler
    path_parameters: dict[str, str]


def find_assumed(method: str, host: str, path: str) -> AssumedOperation | None:
    """The assumed operation a request names, a literal path segment beating a parameter; None if there is none."""
    product = host.split(".")[0]
    templates = sorted(
        (template for (host_name, method_name, template) in ASSUMED_ROUTES if (host_name, method_name) == (product, method)),
        key=lambda template: template.count("{"),
    )
    for template in templates:
        match = _template_pattern(template).match(path)
        if match:
            parameters = {name: unquote(value) for name, value in match.groupdict().items()}
            return AssumedOperation(template, ASSUMED_ROUTES[(product, method, template)], parameters)
    return None


def _template_pattern(path_template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path_template)) + "$")


class TwilioError(Exception):
    """An error answered the way Twilio answers: `{code, message, more_info, status}`."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def body(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


@dataclass
class RecordedRequest:
    """One request the emulator received. The credential's secret is never kept."""

    method: str
    host: str
    path: str
    query: str
    content_type: str
    body: object
    auth_user: str | None
    operation: str | None = None
    # What the client got: None and None when the connection was dropped (before or after the handler ran).
    status: int | None = None
    response: object = None
    # The handler's answer that a fault after handling kept from the client (dropped or replaced by an
    # error), so that a test can see what Twilio did although the client never learnt it; None otherwise.
    withheld: tuple[int, object] | None = None
    started: float = 0.0
    finished: float = 0.0


DEFAULT_FAULT_CODES = {429: 20429, 500: 20500, 503: 20503}


@dataclass
class Fault:
    """Make matching requests fail: a delay, then a dropped connection or else an HTTP error (or neither).

    By default the fault strikes before the handler, so Twilio did nothing. With `after=True` the handler
    runs first (the interaction is created, the item claimed) and the fault strikes its answer: the client
    gets it late, gets the error instead, or loses the connection — the server did the work, the client
    cannot know it.
    """

    method: str
    path_contains: str
    status: int | None = None
    code: int | None = None
    delay: float = 0.0
    drop: bool = False
    times: int | None = 1  # None: every matching request
    after: bool = False

    def matches(self, method: str, path: str) -> bool:
        return method == self.method and self.path_contains in path and (self.times is None or self.times > 0)

    def error(self) -> TwilioError:
        code = self.code or DEFAULT_FAULT_CODES.get(self.status, 20001)
        return TwilioError(self.status, code, f"Injected fault {self.status}")


class DroppedConnection(Exception):
    """Raised by `Emulator.handle` when a fault says to close the connection without answering."""


@dataclass
class Call:
    """What a route handler gets: the request, its decoded parameters, and the account."""

    emulator: "Emulator"
    method: str
    host: str
    path: str
    params: dict
    query: dict
    body: object
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case, e.g. "if-match"
    query_string: str = ""  # as sent: `query` keeps one value of each name, this keeps repeated ones

    @property
    def base_url(self) -> str:
        return f"https://{self.host}"

    def query_values(self, name: str) -> list[str]:
        """Every value of a repeatable query parameter (e.g. TaskRouter's AssignmentStatus), in order."""
        return parse_qs(self.query_string).get(name, [])


@dataclass
class Account:
    sid: str
    auth_token: str
    api_keys: dict[str, str] = field(default_factory=dict)  # SK… → secret


class Emulator:
    """A Twilio account in memory, answering the REST API as Twilio's OpenAPI description says.

    Twilio's documented load limits are enforced unless `limits` is None (see limits.py).
    """

    def __init__(self, spec_dir: Path, account: Account, limits: Limits | None = Limits()):
        from . import products  # noqa: F401  (registers the routes)

        self.spec = Spec(spec_dir)
        self.account = account
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.faults: list[Fault] = []
        # Seconds every request waits before it is served, as a round trip to Twilio would (`handover bench`
        # sets it; 0 answers at once). Waited outside the lock, so concurrent requests overlap as on Twilio.
        self.latency = 0.0
        self.resources: dict[str, dict[str, dict]] = {}
        self._counter = itertools.count(1)
        self._clock_offset = 0.0
        self.set_limits(limits)

    # Clock ---------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The account's time: the wall clock plus what `advance` added (TTLs expire by it)."""
        return datetime.now(timezone.utc) + timedelta(seconds=self._clock_offset)

    def advance(self, seconds: float) -> None:
        """Move the account's time forward, so that a test can let a TTL pass or a rate limit refill without sleeping."""
        with self.lock:
            self._clock_offset += seconds
            self._throttle.advance(seconds)

    # Load limits ---------------------------------------------------------------------------------

    @property
    def limits(self) -> Limits | None:
        """The load limits enforced; None: none."""
        return self._throttle.limits

    def set_limits(self, limits: Limits | None) -> None:
        """Enforce `limits` (None: none) from now on, with every bucket full and no request counted in flight."""
        self._throttle = Throttle(limits)

    @property
    def in_flight(self) -> int:
        """Requests of the account being served now, their latency and fault delays included."""
        return self._throttle.in_flight

    # State ---------------------------------------------------------------------------------------

    def new_sid(self, prefix: str) -> str:
        """Deterministic SIDs, so that a run of the demo or a test reads the same every time."""
        digest = hashlib.sha256(f"{prefix}{next(self._counter)}".encode()).hexdigest()
        return prefix + digest[:32]

    def table(self, kind: str) -> dict[str, dict]:
        return self.resources.setdefault(kind, {})

    def reset(self) -> None:
        """Forget requests, violations, faults and every resource, start the load limits afresh, and set the clock back to the wall clock."""
        with self.lock:
            self.requests.clear()
            self.violations.clear()
            self.faults.clear()
            self.resources.clear()
            self._counter = itertools.count(1)
            self._clock_offset = 0.0
            self.set_limits(self.limits)

    def clear_traffic(self) -> None:
        """Forget recorded requests and pending faults; keep resources and the violations seen so far."""
        with self.lock:
            self.requests.clear()
            self.faults.clear()

    def calls(self, host: str | None = None, method: str | None = None, operation: str | None = None):
        """The recorded requests, filtered."""
        return [
            r
            for r in list(self.requests)
            if (host is None or r.host == host)
            and (method is None or r.method == method)
            and (operation is None or r.operation == operation)
        ]

    def inject(self, fault: Fault) -> Fault:
        with self.lock:
            self.faults.append(fault)
        return fault

    # Requests ------------------------------------------------------------------------------------

    def authenticate(self, authorization: str | None) -> str | None:
        """The account SID or API key SID whose credential is valid, or None."""
        user, secret = _basic_credential(authorization)
        expected = self.account.auth_token if user == self.account.sid else self.account.api_keys.get(user or "")
        return user if expected is not None and secret == expected else None

    def handle(self, method: str, host: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        path, _, query = target.partition("?")
        content_type = headers.get("content-type", "")
        auth_user = _basic_credential(headers.get("authorization"))[0]
        record = RecordedRequest(method, host, path, query, content_type, None, auth_user, started=time.monotonic())
        with self.lock:
            self.requests.append(record)
        try:
            with self._throttle.request() as admitted:
                # A request the account has no room for is refused at once, not held for the latency.
                if self.latency and admitted:
                    time.sleep(self.latency)
                status, response = self._answer(record, headers, body, admitted)
        finally:
            record.finished = time.monotonic()
        record.status, record.response = status, response
        return status, response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            fault = next((f for f in self.faults if f.matches(method, path)), None)
            if fault and fault.times is not None:
                fault.times -= 1
        return fault

    def _answer(self, record: RecordedRequest, headers: dict, body: bytes, admitted: bool) -> tuple[int, object]:
        operation = self.spec.find(record.method, record.host, record.path)
        if operation is None:
            assumed = find_assumed(record.method, record.host, record.path)
            if assumed is not None:
                return self._answer_assumed(record, assumed, headers, body, admitted)
            self._violation("unknown-endpoint", record, ["not in Twilio's OpenAPI description"])
            return 404, not_found(record.path).body()
        record.operation = f"{record.method} {operation.path_template}"
        decoded, errors = operation.check_request(record.query, body, record.content_type)
        record.body = decoded
        if errors:
            self._violation("request", record, errors)
            return 400, TwilioError(400, 20001, "Invalid request: " + "; ".join(errors)).body()
        if self.authenticate(headers.get("authorization")) is None:
            return 401, _authentication_error()
        call = self._call(record, operation.path_parameters, decoded, headers)
        metered = METERED_ROUTES.get((record.host.split(".")[0], record.method, operation.path_template))
        return self._served(record, call, admitted, metered, lambda: self._run_handler(record, operation, call))

    def _answer_assumed(
        self, record: RecordedRequest, assumed: AssumedOperation, headers: dict, body: bytes, admitted: bool,
    ) -> tuple[int, object]:
        record.operation = f"{record.method} {assumed.path_template}"
        try:
            record.body = _assumed_body(body)
        except ValueError as error:
            return 400, TwilioError(400, 20001, f"Invalid request: {error}").body()
        if self.authenticate(headers.get("authorization")) is None:
            return 401, _authentication_error()
        call = self._call(record, assumed.path_parameters, record.body, headers)
        return self._served(record, call, admitted, None, lambda: _run_assumed(assumed.handler, call))

    def _call(self, record: RecordedRequest, path_parameters: dict[str, str], body: object, headers: dict) -> Call:
        return Call(
            self, record.method, record.host, record.path, path_parameters, _query_dict(record.query), body,
            {name.lower(): value for name, value in headers.items()}, record.query,
        )

    def _served(
        self, record: RecordedRequest, call: Call, admitted: bool, metered: Metered | None, serve: Callable[[], tuple[int, object]],
    ) -> tuple[int, object]:
        """`serve`'s answer unless a load limit refuses the request, with the first matching fault struck before or after it."""
        # Limits come before faults: a request a limit refuses uses no fault up, and one a fault strikes
        # has been counted, as Twilio counts a request when it arrives.
        refusal = self._refusal(call, admitted, metered)
        if refusal is not None:
            return refusal.status, refusal.body()
        # A fault fires only on a request Twilio would have served, so a rejected request cannot use it up.
        fault = self._take_fault(record.method, record.path)
        if fault and not fault.after:
            struck = _strike(fault, record)
            if struck:
                return struck
        answer = serve()
        if fault and fault.after:
            return _strike_after(fault, record, answer)
        return answer

    def _refusal(self, call: Call, admitted: bool, metered: Metered | None) -> TwilioError | None:
        """Twilio's 429 for a request a load limit refuses; None when it may be served, its token (if it needs one) taken."""
        if not admitted:
            return TwilioError(429, 20429, "Too Many Requests: the account has as many requests in flight as Twilio serves at once")
        if metered is None:
            return None
        throttle = self._throttle
        with self.lock:
            counted = metered(call)
            if counted is None or throttle.take(*counted):
                return None
        limit, sid = counted
        rate, burst = throttle.limits.rate(limit), throttle.limits.capacity(limit)
        return TwilioError(429, 54009, f"Rate limit exceeded: {limit.value} {sid} over {rate:g} per second, its burst of {burst:g} used up")

    def _run_handler(self, record: RecordedRequest, operation: Operation, call: Call) -> tuple[int, object]:
        handler = ROUTES.get((record.host.split(".")[0], record.method, operation.path_template))
        if handler is None:
            self._violation("unknown-endpoint", record, ["described by Twilio but not emulated"])
            return 404, not_found(record.path).body()
        try:
            with self.lock:
                status, response = handler(call)
        except TwilioError as error:
            return error.status, error.body()
        response_errors = operation.check_response(status, response)
        if response_errors:
            self._violation("response", record, response_errors)
        return status, response

    def _violation(self, kind: str, record: RecordedRequest, errors: list[str]) -> None:
        with self.lock:
            self.violations.append(Violation(kind, record.method, f"https://{record.host}{record.path}", errors))


def _run_assumed(handler: Handler, call: Call) -> tuple[int, object]:
    """An assumed operation's answer, under the account's lock; a TwilioError it raises as Twilio's error body."""
    try:
        with call.emulator.lock:
            return handler(call)
    except TwilioError as error:
        return error.status, error.body()


def _authentication_error() -> dict:
    return TwilioError(401, 20003, "Authentication Error - invalid username").body()


def _assumed_body(body: bytes) -> object:
    """An assumed operation's body: JSON, as Twilio's v2 APIs take (no description says more); ValueError if it is not."""
    return json.loads(body) if body else {}


def _strike(fault: Fault, record: RecordedRequest) -> tuple[int, object] | None:
    """Wait the fault's delay (outside the lock: other requests go on), then drop or answer its error; None: answer as usual."""
    if fault.delay:
        time.sleep(fault.delay)
    if fault.drop:
        raise DroppedConnection(f"https://{record.host}{record.path}")
    return (fault.status, fault.error().body()) if fault.status else None


def _strike_after(fault: Fault, record: RecordedRequest, answer: tuple[int, object]) -> tuple[int, object]:
    """The handler's answer, late, or replaced, or never sent; what the client does not get is kept as `withheld`."""
    if fault.drop or fault.status:
        record.withheld = answer
    return _strike(fault, record) or answer


def _basic_credential(authorization: str | None) -> tuple[str | None, str | None]:
    """(user, secret) of an HTTP Basic Authorization header, or (None, None)."""
    if not authorization or not authorization.startswith("Basic "):
        return None, None
    try:
        user, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
    except ValueError:
        return None, None
    return user, secret


def _query_dict(query: str) -> dict:
    return {key: values[-1] for key, values in parse_qs(query).items()}


ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Twilio's dates: UTC, to the second


def iso(moment: datetime) -> str:
    return moment.strftime(ISO_FORMAT)


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, ISO_FORMAT).replace(tzinfo=timezone.utc)


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


def to_json_text(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def fetched(call: Call, kind: str) -> tuple[int, dict]:
    """The resource of `kind` the path's Sid names, or Twilio's 404."""
    item = call.emulator.table(kind).get(call.params["Sid"])
    if item is None:
        raise not_found(call.path)
    return 200, item


PAGING_PARAMETERS = ("PageSize", "Page", "PageToken")


def page(call: Call, key: str, items: list[dict]) -> tuple[int, dict]:
    """One page of a Twilio list response, linking to the pages before and after it.

    The links keep the request's filters, as Twilio's do, so that a client following next_page_url
    reads on in the same filtered list.
    """
    size, number = int(call.query.get("PageSize", 50)), int(call.query.get("Page", 0))
    filters = [(name, value) for name, value in parse_qsl(call.query_string) if name not in PAGING_PARAMETERS]

    def url(page_number: int) -> str:
        return f"{call.base_url}{call.path}?{urlencode([*filters, ('PageSize', size), ('Page', page_number)])}"

    meta = {
        "page": number,
        "page_size": size,
        "first_page_url": url(0),
        "previous_page_url": url(number - 1) if number > 0 else None,
        "url": url(number),
        "next_page_url": url(number + 1) if (number + 1) * size < len(items) else None,
        "key": key,
    }
    return 200, {key: items[number * size : (number + 1) * size], "meta": meta}
