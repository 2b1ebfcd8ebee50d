"""Twilio's error answer, which every handler raises to refuse a request as Twilio would."""

from __future__ import annotations

# Where an answer about an emulator gap sends the reader: the section of the emulator's own page (README.md).
NOT_SERVED_SECTION = "twilio_emulator's README, 'What is not served'"


class TwilioError(Exception):
    """An error answered the way Twilio answers: `{code, message, more_info, status}`.

    `more_info` is Twilio's page of the code unless given.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        headers: dict[str, str] | None = None,
        more_info: str | None = None,
    ):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})  # response headers beside the body, e.g. X-Conflicting-Resource-Id
        self.more_info = more_info or f"https://www.twilio.com/docs/errors/{code}"

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "more_info": self.more_info, "status": self.status}


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")


def not_served(operation_id: str, method: str, path_template: str) -> TwilioError:
    """The 501 of an operation Twilio's description has and the emulator does not serve: its gap, not the client's.

    Twilio documents no code for this (it serves what it describes): 20501 follows the emulator's 20000 + status.
    """
    return TwilioError(
        501,
        20501,
        f"{operation_id} ({method} {path_template}) is in Twilio's OpenAPI description, but the Twilio emulator "
        f"does not serve it: see {NOT_SERVED_SECTION}",
        more_info=NOT_SERVED_SECTION,
    )
