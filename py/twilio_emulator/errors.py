"""Twilio's error answer, which every handler raises to refuse a request as Twilio would."""

from __future__ import annotations


class TwilioError(Exception):
    """An error answered the way Twilio answers: `{code, message, more_info, status}`."""

    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = dict(headers or {})  # response headers beside the body, e.g. X-Conflicting-Resource-Id

    def body(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
            "status": self.status,
        }


def not_found(path: str) -> TwilioError:
    return TwilioError(404, 20404, f"The requested resource {path} was not found")
