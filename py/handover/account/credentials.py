"""The Twilio credentials of the commands that talk to an account, and the SDK client made from them.

Read from the process environment first, then from the project's .env (python-dotenv), as
`TWILIO_ACCOUNT_SID` with `TWILIO_AUTH_TOKEN`, or with `TWILIO_API_KEY` + `TWILIO_API_SECRET`.
The Serverless Toolkit's own names in .env (`ACCOUNT_SID`, `AUTH_TOKEN`) are the last resort, so a
project set up for `twilio serverless:deploy` works as it is. Secrets never leave this module
except inside the SDK's Authorization header.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..contract import is_sid
from ..errors import InputError
from ..project import ENV_FILE, read_local

# How long one request may take, and how idempotent requests are retried on Twilio's 429 and 5xx.
TIMEOUT_SECONDS = 30
RETRIES = 3
RETRY_BACKOFF_SECONDS = 0.5
RETRY_STATUSES = (429, 500, 502, 503, 504)

HOW_TO_SET = (
    "Set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET) "
    "in the environment or in the project's .env."
)


# What a first run without any credentials is told: where they are, and where they go.
NO_CREDENTIALS = "No Twilio credentials found in the environment or in the project's .env"
CREDENTIALS_NEXT_STEP = (
    "Copy the Account SID and Auth Token from Console > Account > API keys & tokens into the project's .env as "
    "TWILIO_ACCOUNT_SID=AC… and TWILIO_AUTH_TOKEN=… (or set TWILIO_API_KEY and TWILIO_API_SECRET), then run the "
    "command again."
)


class CredentialsError(InputError):
    """Credentials are missing or malformed; the message names the variables, never a secret."""


class NoCredentials(CredentialsError):
    """None at all: the message is the first step to take."""

    def __init__(self):
        super().__init__(f"{NO_CREDENTIALS}. {CREDENTIALS_NEXT_STEP}")


@dataclass(frozen=True)
class Credentials:
    account_sid: str
    username: str  # the account SID, or the API key SID
    password: str = field(repr=False)
    source: str  # where they were found, for the "found … in …" line

    @property
    def kind(self) -> str:
        return "API key" if self.username.startswith("SK") else "auth token"

    def describe(self) -> str:
        via = f"API key {self.username}" if self.kind == "API key" else "auth token"
        return f"account {self.account_sid} ({via}, from {self.source})"


def _from(values: Mapping[str, str | None], source: str) -> Credentials | None:
    account_sid = values.get("TWILIO_ACCOUNT_SID")
    if not account_sid:
        return None
    if not is_sid("AC", account_sid):
        raise CredentialsError(
            f"TWILIO_ACCOUNT_SID (from {source}) must be AC followed by 32 hex characters. {HOW_TO_SET}"
        )
    api_key, api_secret = values.get("TWILIO_API_KEY"), values.get("TWILIO_API_SECRET")
    if api_key or api_secret:
        if not (api_key and api_secret):
            missing = "TWILIO_API_SECRET" if api_key else "TWILIO_API_KEY"
            raise CredentialsError(
                f"TWILIO_API_KEY and TWILIO_API_SECRET go together; {missing} is missing from {source}."
            )
        if not is_sid("SK", api_key):
            raise CredentialsError(f"TWILIO_API_KEY (from {source}) must be SK followed by 32 hex characters.")
        return Credentials(account_sid, api_key, api_secret, source)
    auth_token = values.get("TWILIO_AUTH_TOKEN")
    if not auth_token:
        raise CredentialsError(
            f"TWILIO_ACCOUNT_SID is set in {source} but neither TWILIO_AUTH_TOKEN nor TWILIO_API_KEY is. {HOW_TO_SET}"
        )
    return Credentials(account_sid, account_sid, auth_token, source)


def load(project_dir: Path, environ: Mapping[str, str] | None = None) -> Credentials:
    """The credentials to use, or CredentialsError saying which variables to set."""
    environ = os.environ if environ is None else environ
    dotenv = read_local(project_dir / ENV_FILE)
    found = _from(environ, "the environment") or _from(dotenv, ".env")
    if found:
        return found
    if dotenv.get("ACCOUNT_SID") and dotenv.get("AUTH_TOKEN"):
        toolkit_names = {"TWILIO_ACCOUNT_SID": dotenv["ACCOUNT_SID"], "TWILIO_AUTH_TOKEN": dotenv["AUTH_TOKEN"]}
        return _from(toolkit_names, ".env (ACCOUNT_SID, AUTH_TOKEN)")
    raise NoCredentials()


def client(credentials: Credentials):
    """The twilio SDK client: its own auth, user agent and HTTP stack, retrying idempotent requests."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client
    from urllib3.util.retry import Retry

    retry = Retry(
        total=RETRIES,
        backoff_factor=RETRY_BACKOFF_SECONDS,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "PUT", "DELETE"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    http_client = TwilioHttpClient(timeout=TIMEOUT_SECONDS, max_retries=retry)
    return Client(credentials.username, credentials.password, credentials.account_sid, http_client=http_client)
