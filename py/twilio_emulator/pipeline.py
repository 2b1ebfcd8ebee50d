"""The Emulator: the account's state (state.py) behind the pipeline every request goes through.

A request is recorded and counted in flight, held for the latency, matched to an operation of Twilio's
OpenAPI description (or an assumed one), checked, authenticated, refused if a load limit says so (the
account's concurrency, a Sync rate), struck by a fault, and answered by its product's handler, whose
answer (an error it raises included) is checked in turn. A described operation no product serves is
answered 501 once checked and authenticated, and listed in `Emulator.unserved`: a gap of the emulator,
not the client's fault, so no violation. A handler may answer headers beside its body
(`Call.response_headers`: Location, ETag, …), which `respond` returns and the proxy sends; an API with its
own error shape (routes.error_style) gets every error on its paths in that shape.

No sockets here: `Emulator.handle` takes a decoded HTTP request and returns a status and a body, so the
proxy (proxy.py), the flow runner (studio_flow.py) and tests drive the same code. The pipeline finds
handlers through the route registry (routes.py) and never imports a product.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from functools import partial
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qs

from .errors import TwilioError, not_found, not_served
from .faults import Fault, strike, strike_after, take_fault
from .limits import Limits, Throttle
from .recording import RecordedRequest, UnservedOperation
from .routes import (
    AssumedOperation,
    Call,
    Handler,
    Metered,
    described_handler,
    find_assumed,
    metering,
    styled_error,
    undescribed_parameters,
)
from .spec import Operation, Spec, Violation
from .state import Account, AccountState

Answer = tuple[int, object]


class Response(NamedTuple):
    """What the client gets: the status, the JSON body (None: no body) and the headers beside it."""

    status: int
    body: object
    headers: dict[str, str]


class Emulator(AccountState):
    """A Twilio account in memory, answering the REST API as Twilio's OpenAPI description says.

    Twilio's documented load limits are enforced unless `limits` is None (see limits.py).
    """

    def __init__(self, spec_dir: Path, account: Account, limits: Limits | None = Limits()):
        super().__init__(account)
        self.spec = Spec(spec_dir)
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        # Requests for operations the description has and the emulator does not serve, answered 501.
        self.unserved: list[UnservedOperation] = []
        self.faults: list[Fault] = []
        # Seconds every request waits before it is served, as a round trip to Twilio would (`handover bench`
        # sets it; 0 answers at once). Waited outside the lock, so concurrent requests overlap as on Twilio.
        self.latency = 0.0
        self.set_limits(limits)

    def advance(self, seconds: float) -> None:
        """Move the account's time forward: a test lets a TTL pass or a rate limit refill without sleeping."""
        with self.lock:
            self.clock.advance(seconds)
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

    # Traffic -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget requests, violations, unserved operations, faults and every resource, start the load limits afresh,
        set the clock back."""
        with self.lock:
            self.requests.clear()
            self.violations.clear()
            self.unserved.clear()
            self.faults.clear()
            self.outbox.forget()
            super().reset()
            self.set_limits(self.limits)

    def clear_traffic(self) -> None:
        """Forget recorded requests, pending faults and the callbacks sent; keep resources, and the violations and
        unserved operations seen so far."""
        with self.lock:
            self.requests.clear()
            self.faults.clear()
            self.outbox.forget()

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

    def handle(self, method: str, host: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """The status and body of the answer to a request (`respond` gives its headers too)."""
        response = self.respond(method, host, target, headers, body)
        return response.status, response.body

    def respond(self, method: str, host: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        """The answer to a request, with the headers its handler set (none for an error the pipeline made)."""
        path, _, query = target.partition("?")
        content_type = headers.get("content-type", "")
        auth_user = _basic_credential(headers.get("authorization"))[0]
        started = self.clock.monotonic()
        record = RecordedRequest(method, host, path, query, content_type, None, auth_user, started=started)
        record.idempotency_key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), None)
        with self.lock:
            self.requests.append(record)
        try:
            with self._throttle.request() as admitted:
                # A request the account has no room for is refused at once, not held for the latency.
                if self.latency and admitted:
                    self.clock.wait(self.latency)
                status, response = self._answer(record, headers, body, admitted)
        finally:
            record.finished = self.clock.monotonic()
        if status >= 400:
            response = styled_error(host, path, response)
        record.status, record.response = status, response
        return Response(status, response, dict(record.response_headers))

    def _answer(self, record: RecordedRequest, headers: dict, body: bytes, admitted: bool) -> Answer:
        operation = self.spec.find(record.method, record.host, record.path)
        if operation is None:
            assumed = find_assumed(record.method, record.host, record.path)
            if assumed is not None:
                return self._answer_assumed(record, assumed, headers, body, admitted)
            self._violation("unknown-endpoint", record, ["not in Twilio's OpenAPI description"])
            return 404, not_found(record.path).body()
        record.operation = f"{record.method} {operation.path_template}"
        undescribed = undescribed_parameters(record.host, record.method, operation.path_template)
        decoded, errors = operation.check_request(record.query, body, record.content_type, headers, undescribed)
        record.body = decoded
        if errors:
            self._violation("request", record, errors)
            return 400, TwilioError(400, 20001, "Invalid request: " + "; ".join(errors)).body()
        if self.authenticate(headers.get("authorization")) is None:
            return 401, _authentication_error()
        handler = described_handler(record.host, record.method, operation.path_template)
        if handler is None:
            return self._unserved(record, operation)
        call = self._call(record, operation.path_parameters, decoded, headers)
        metered = metering(record.host, record.method, operation.path_template)
        return self._served(
            record, call, admitted, metered, partial(self._run_handler, record, operation, handler, call)
        )

    def _unserved(self, record: RecordedRequest, operation: Operation) -> Answer:
        """501: the emulator does not serve the operation. Before limits and faults: what Twilio would do is unknown."""
        record.unserved = True
        with self.lock:
            self.unserved.append(
                UnservedOperation(operation.operation_id, record.method, operation.path_template, record.url)
            )
        return 501, not_served(operation.operation_id, record.method, operation.path_template).body()

    def _answer_assumed(
        self,
        record: RecordedRequest,
        assumed: AssumedOperation,
        headers: dict,
        body: bytes,
        admitted: bool,
    ) -> Answer:
        record.operation = f"{record.method} {assumed.path_template}"
        try:
            record.body = _assumed_body(body, record.content_type)
        except ValueError as error:
            return 400, TwilioError(400, 20001, f"Invalid request: {error}").body()
        if self.authenticate(headers.get("authorization")) is None:
            return 401, _authentication_error()
        call = self._call(record, assumed.path_parameters, record.body, headers)
        return self._served(record, call, admitted, None, lambda: _run_assumed(assumed.handler, call))

    def _call(self, record: RecordedRequest, path_parameters: dict[str, str], body: object, headers: dict) -> Call:
        return Call(
            self,
            record.method,
            record.host,
            record.path,
            path_parameters,
            _query_dict(record.query),
            body,
            {name.lower(): value for name, value in headers.items()},
            record.query,
        )

    def _served(
        self,
        record: RecordedRequest,
        call: Call,
        admitted: bool,
        metered: Metered | None,
        serve: Callable[[], Answer],
    ) -> Answer:
        """`serve`'s answer unless a load limit refuses the request, the first matching fault struck before or after."""
        # Limits come before faults: a request a limit refuses uses no fault up, and one a fault strikes
        # has been counted, as Twilio counts a request when it arrives.
        refusal = self._refusal(call, admitted, metered)
        if refusal is not None:
            return refusal.status, refusal.body()
        # A fault fires only on a request Twilio would have served, so a rejected request cannot use it up.
        with self.lock:
            fault = take_fault(self.faults, record.method, record.path)
        if fault and not fault.after:
            struck = strike(fault, record, self.clock)
            if struck:
                return struck
        answer = serve()
        if fault and fault.after:
            struck = strike_after(fault, record, answer, self.clock)
            if struck is not answer:
                record.response_headers = {}  # the handler's headers went with its withheld answer
            return struck
        return answer

    def _refusal(self, call: Call, admitted: bool, metered: Metered | None) -> TwilioError | None:
        """Twilio's 429 for a request a load limit refuses; None when it may be served, its token (if any) taken."""
        if not admitted:
            return TwilioError(
                429,
                20429,
                "Too Many Requests: the account has as many requests in flight as Twilio serves at once",
            )
        if metered is None:
            return None
        throttle = self._throttle
        with self.lock:
            counted = metered(call)
            if counted is None or throttle.take(*counted):
                return None
        limit, sid = counted
        rate, burst = throttle.limits.rate(limit), throttle.limits.capacity(limit)
        message = f"Rate limit exceeded: {limit.value} {sid} over {rate:g} per second, its burst of {burst:g} used up"
        return TwilioError(429, 54009, message)

    def _run_handler(self, record: RecordedRequest, operation: Operation, handler: Handler, call: Call) -> Answer:
        """The operation's answer; one its handler returns (not an error it raises) is checked against the spec."""
        try:
            with self.lock:
                # A copy, taken under the lock: the answer is what the client got, however the resource changes
                # later, and the proxy encodes it outside the lock while other requests may change the resource.
                status, response = handler(call)
                response = copy.deepcopy(response)
            record.response_headers = dict(call.response_headers)
        except TwilioError as error:
            # An error the handler raised is Twilio's answer too: where the operation describes it, it is checked.
            status, response = error.status, styled_error(record.host, record.path, error.body())
            record.response_headers = dict(error.headers)
        response_errors = operation.check_response(status, response)
        if response_errors:
            self._violation("response", record, response_errors)
        return status, response

    def _violation(self, kind: str, record: RecordedRequest, errors: list[str]) -> None:
        with self.lock:
            self.violations.append(Violation(kind, record.method, record.url, errors))


def _run_assumed(handler: Handler, call: Call) -> Answer:
    """An assumed operation's answer, under the account's lock; a TwilioError it raises as Twilio's error body."""
    try:
        with call.emulator.lock:
            status, response = handler(call)
            return status, copy.deepcopy(response)  # as _run_handler's answers
    except TwilioError as error:
        return error.status, styled_error(call.host, call.path, error.body())


def _authentication_error() -> dict:
    return TwilioError(401, 20003, "Authentication Error - invalid username").body()


def _assumed_body(body: bytes, content_type: str) -> object:
    """An assumed operation's body; ValueError if it is not what its content type says.

    multipart/form-data (Serverless's uploads) is a dict of its fields (`_form_fields`); any other body is JSON,
    as Twilio's v2 APIs take (no description says more).
    """
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        return _form_fields(body, content_type)
    return json.loads(body) if body else {}


def _form_fields(body: bytes, content_type: str) -> dict:
    """Each field of a multipart form: its text, or for a file part {filename, content_type, content}.

    A file's content is its text if it is UTF-8, else its bytes.
    """
    header = b"Content-Type: " + content_type.encode() + b"\r\n\r\n"
    message = BytesParser(policy=policy.default).parsebytes(header + body)
    defects = [defect for part in message.walk() for defect in part.defects]
    if defects:  # the parser's account of what is wrong, e.g. "The claimed start boundary was never found."
        raise ValueError(f"malformed multipart/form-data body: {defects[0].__doc__}")
    return dict(_form_field(part) for part in message.iter_parts())


def _form_field(part: EmailMessage) -> tuple[str, object]:
    name, filename = part.get_param("name", header="content-disposition"), part.get_filename()
    if not name:
        raise ValueError("malformed multipart/form-data body: a part has no name")
    if part.is_multipart():
        raise ValueError(f"malformed multipart/form-data body: the part {name!r} is itself multipart")
    content = _text_or_bytes(part.get_payload(decode=True))
    if filename is not None:
        return name, {"filename": filename, "content_type": part.get_content_type(), "content": content}
    if isinstance(content, bytes):
        raise ValueError(f"malformed multipart/form-data body: the field {name!r} is not UTF-8 text")
    return name, content


def _text_or_bytes(content: bytes) -> str | bytes:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content


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
