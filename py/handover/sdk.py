"""Around the twilio SDK: a failed list page reported like a failed fetch.

The SDK raises TwilioRestException (status, code, message) for a refused fetch or write, but a bare
TwilioException("Unable to fetch page", response) for a refused list page. Callers and the CLI read
status and code, so lists go through `listed`, and `rest_error` converts what got through anyway.
"""

from __future__ import annotations


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
