"""Around the twilio SDK: a failed list page reported like a failed fetch, and one wording of a failed request.

The SDK raises TwilioRestException (status, code, message) for a refused fetch or write, but a bare
TwilioException("Unable to fetch page", response) for a refused list page. Callers and the CLI read
status and code, so lists go through `listed`, and `rest_error` converts what got through anyway.
`TwilioFailure` is how every command words a request Twilio refused, or that never reached it.
"""

from __future__ import annotations

from dataclasses import dataclass

UNREACHABLE_FIX = "Check your network or proxy, then run again."


def rest_error(error: Exception, uri: str = ""):
    """The TwilioRestException an SDK error stands for, or None when it carries no HTTP response."""
    from twilio.base.exceptions import TwilioException, TwilioRestException
    from twilio.base.version import Version
    from twilio.http.response import Response

    if isinstance(error, TwilioRestException):
        return error
    response = error.args[-1] if isinstance(error, TwilioException) and error.args else None
    if not isinstance(response, Response):
        return None
    return Version.exception("GET", uri, response, str(error.args[0]))


def listed(resources, limit: int | None = None) -> list:
    """The records of a list resource; a refused page raises TwilioRestException, as a refused fetch does."""
    from twilio.base.exceptions import TwilioException

    try:
        return resources.list(limit=limit)
    except TwilioException as error:
        converted = rest_error(error, resources._uri)
        if converted is None or converted is error:
            raise
        raise converted from error


@dataclass(frozen=True)
class TwilioFailure:
    """A failed Twilio request: Twilio's answer (HTTP status, Twilio error code, message), or no answer at all."""

    status: int | None
    code: int | None
    message: str
    method: str = ""
    uri: str = ""
    unreachable: str | None = None  # the network error's type when no answer came

    @classmethod
    def of(cls, error: BaseException) -> TwilioFailure | None:
        """The failure an SDK or network error stands for; None for any other error."""
        from requests import RequestException

        rest = rest_error(error) if isinstance(error, Exception) else None
        if rest is not None:
            return cls(rest.status, rest.code, rest.msg, rest.method, rest.uri)
        if isinstance(error, RequestException):
            return cls(None, None, "", unreachable=type(error).__name__)
        return None

    @property
    def what_to_do(self) -> str | None:
        """The fix, where the failure itself says it: Twilio refused requests carry their own message."""
        return UNREACHABLE_FIX if self.unreachable else None

    def twilio_error(self) -> str:
        """Twilio's error code and message: `Twilio error 20001: …`."""
        return f"Twilio error {self.code}: {self.message}"

    def in_sentence(self) -> str:
        """The failure inside a sentence that names the request: `HTTP 400, Twilio error 20001: …`."""
        if self.unreachable:
            return f"could not reach Twilio ({self.unreachable})"
        return f"HTTP {self.status}, {self.twilio_error()}"

    def __str__(self) -> str:
        """The failure as a message of its own, naming the request and what to do."""
        if self.unreachable:
            return f"Could not reach Twilio: {self.unreachable}. {self.what_to_do}"
        return f"Twilio answered {self.method} {self.uri} with HTTP {self.status}, error {self.code}: {self.message}"
