"""The route registry: which handler answers an operation, what a handler gets (`Call`), how a path finds its template.

Products register their handlers with `route` (operations Twilio's OpenAPI description names) and
`assumed_route` (operations it lacks) when they are imported; the request pipeline looks them up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

from .limits import SyncLimit
from .state import AccountState


@dataclass
class Call:
    """What a route handler gets: the request, its decoded parameters, and the account's state."""

    emulator: AccountState
    method: str
    host: str
    path: str
    params: dict
    query: dict
    body: object
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case, e.g. "if-match"
    query_string: str = ""  # as sent: `query` keeps one value of each name, this keeps repeated ones
    # Headers the handler answers beside its body (e.g. Location, ETag); sent only with the handler's own answer.
    response_headers: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"https://{self.host}"

    def query_values(self, name: str) -> list[str]:
        """Every value of a repeatable query parameter (e.g. TaskRouter's AssignmentStatus), in order."""
        return parse_qs(self.query_string).get(name, [])


# Every host the emulator answers is a subdomain of it (the proxy intercepts no other).
TWILIO_DOMAIN = "twilio.com"

Handler = Callable[[Call], tuple[int, object]]
# Which of Twilio's load limits a request counts against: the limit and the SID whose bucket it takes from; None: none.
Metered = Callable[[Call], tuple[SyncLimit, str] | None]
# (product, method, path template), the product as `product_of` names it.
RouteKey = tuple[str, str, str]
ROUTES: dict[RouteKey, Handler] = {}
METERED_ROUTES: dict[RouteKey, Metered] = {}
# Form parameters Twilio takes on an operation though its description lacks them: name → why it is known to.
UNDESCRIBED_PARAMETERS: dict[RouteKey, dict[str, str]] = {}
# Operations Twilio serves but its installed OpenAPI description does not describe.
ASSUMED_ROUTES: dict[RouteKey, Handler] = {}
# How an API answers errors when it does not answer them as Twilio's others ({code, message, more_info, status}):
# (product, path prefix) → a function of that body giving the API's own.
ErrorStyle = Callable[[dict], dict]
ERROR_STYLES: dict[tuple[str, str], ErrorStyle] = {}


def route(
    host: str,
    method: str,
    path_template: str,
    metered: Metered | None = None,
    undescribed: dict[str, str] | None = None,
) -> Callable[[Handler], Handler]:
    """Register a handler for an operation, named exactly as Twilio's OpenAPI description names it.

    `metered` says which load limit a request of the operation counts against; it runs under the
    emulator's lock before any fault and before the handler. `undescribed` names the form parameters a
    client is known to send and Twilio to take although the description lacks them, each with the reason:
    they reach the handler as sent and are no violation; any other undescribed parameter still is.
    """

    def register(handler: Handler) -> Handler:
        ROUTES[(host, method, path_template)] = handler
        if metered is not None:
            METERED_ROUTES[(host, method, path_template)] = metered
        if undescribed:
            UNDESCRIBED_PARAMETERS[(host, method, path_template)] = dict(undescribed)
        return handler

    return register


def assumed_route(host: str, method: str, path_template: str) -> Callable[[Handler], Handler]:
    """Register a handler for an operation the installed description lacks.

    Its module's docstring must say what is assumed and why. It answers only when the description has
    no operation for the request. Such a request is authenticated, recorded (with its `operation`) and
    struck by faults like any other, and is no violation; nothing checks it or its answer against a
    schema, since none is installed.
    """

    def register(handler: Handler) -> Handler:
        ASSUMED_ROUTES[(host, method, path_template)] = handler
        return handler

    return register


def error_style(host: str, path_prefix: str) -> Callable[[ErrorStyle], ErrorStyle]:
    """Register the error shape of the API under `path_prefix` on the product (e.g. Intelligence's `/v3/`).

    The function gets Twilio's usual error body and returns the API's own; every error answered on such a
    path (a handler's, the pipeline's own 400, 401, 404 or 429, an injected fault's) is reshaped by it.
    """

    def register(style: ErrorStyle) -> ErrorStyle:
        ERROR_STYLES[(host, path_prefix)] = style
        return style

    return register


def styled_error(host: str, path: str, body: object) -> object:
    """An error body in the shape the API of the path answers; any other body unchanged."""
    product = product_of(host)
    styles = [s for (named, prefix), s in ERROR_STYLES.items() if named == product and path.startswith(prefix)]
    style = styles[0] if styles else None
    is_error = isinstance(body, dict) and set(body) == {"code", "message", "more_info", "status"}
    return style(body) if style is not None and is_error else body


def product_of(host: str) -> str:
    """The product a host serves, as routes and `twilio-emulator coverage` name it: its first label, e.g. "sync" of
    sync.twilio.com."""
    return host.split(".")[0]


def described_handler(host: str, method: str, path_template: str) -> Handler | None:
    """The handler of an operation the description names; None if the emulator does not emulate it."""
    return ROUTES.get((product_of(host), method, path_template))


def undescribed_parameters(host: str, method: str, path_template: str) -> frozenset[str]:
    """The form parameters of the operation that Twilio takes though its description lacks them."""
    return frozenset(UNDESCRIBED_PARAMETERS.get((product_of(host), method, path_template), {}))


def metering(host: str, method: str, path_template: str) -> Metered | None:
    """What counts a request of the operation against a load limit; None if no limit applies."""
    return METERED_ROUTES.get((product_of(host), method, path_template))


@dataclass(frozen=True)
class AssumedOperation:
    path_template: str
    handler: Handler
    path_parameters: dict[str, str]


def find_assumed(method: str, host: str, path: str) -> AssumedOperation | None:
    """The assumed operation a request names, a literal path segment beating a parameter; None if there is none."""
    product = product_of(host)
    templates = sorted(
        (template for (named, method_name, template) in ASSUMED_ROUTES if (named, method_name) == (product, method)),
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
