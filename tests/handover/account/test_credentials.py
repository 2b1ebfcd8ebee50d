"""Credentials: where they are read from, in which order, and errors that name variables, never secrets."""

from __future__ import annotations

import pytest

from handover.account import credentials
from handover.account.credentials import Credentials, CredentialsError

ACCOUNT = "AC" + "a" * 32
OTHER_ACCOUNT = "AC" + "b" * 32
API_KEY = "SK" + "c" * 32
TOKEN = "token-that-must-stay-secret-0123"
SECRET = "api-secret-that-must-stay-secret"


def write_env(project, text: str) -> None:
    (project / ".env").write_text(text, encoding="utf-8")


def test_auth_token_from_the_environment(tmp_path):
    found = credentials.load(tmp_path, {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN})
    assert found == Credentials(ACCOUNT, ACCOUNT, TOKEN, "the environment")
    assert found.describe() == f"account {ACCOUNT} (auth token, from the environment)"


def test_api_key_from_the_environment_wins_over_the_auth_token(tmp_path):
    found = credentials.load(
        tmp_path,
        {
            "TWILIO_ACCOUNT_SID": ACCOUNT,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_API_KEY": API_KEY,
            "TWILIO_API_SECRET": SECRET,
        },
    )
    assert found == Credentials(ACCOUNT, API_KEY, SECRET, "the environment")
    assert found.describe() == f"account {ACCOUNT} (API key {API_KEY}, from the environment)"


def test_dotenv_is_read_when_the_environment_has_none(tmp_path):
    write_env(tmp_path, f"# credentials\nTWILIO_ACCOUNT_SID={ACCOUNT}\nTWILIO_AUTH_TOKEN='{TOKEN}'\n")
    assert credentials.load(tmp_path, {}) == Credentials(ACCOUNT, ACCOUNT, TOKEN, ".env")


def test_the_environment_wins_over_dotenv(tmp_path):
    write_env(tmp_path, f"TWILIO_ACCOUNT_SID={OTHER_ACCOUNT}\nTWILIO_AUTH_TOKEN=other\n")
    found = credentials.load(tmp_path, {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_AUTH_TOKEN": TOKEN})
    assert (found.account_sid, found.source) == (ACCOUNT, "the environment")


def test_the_serverless_toolkit_names_in_dotenv_are_the_last_resort(tmp_path):
    write_env(tmp_path, f"ACCOUNT_SID={ACCOUNT}\nAUTH_TOKEN={TOKEN}\n")
    assert credentials.load(tmp_path, {}) == Credentials(ACCOUNT, ACCOUNT, TOKEN, ".env (ACCOUNT_SID, AUTH_TOKEN)")


def test_no_credentials_names_the_variables(tmp_path):
    with pytest.raises(CredentialsError) as raised:
        credentials.load(tmp_path, {})
    assert str(raised.value) == (
        "No Twilio credentials found in the environment or in the project's .env. Copy the Account SID and Auth Token "
        "from Console > Account > API keys & tokens into the project's .env as TWILIO_ACCOUNT_SID=AC… and "
        "TWILIO_AUTH_TOKEN=… (or set TWILIO_API_KEY and TWILIO_API_SECRET), then run the command again."
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_AUTH_TOKEN": TOKEN},
            "TWILIO_ACCOUNT_SID (from the environment) must be AC followed by 32 hex characters.",
        ),
        (
            {"TWILIO_ACCOUNT_SID": ACCOUNT},
            "TWILIO_ACCOUNT_SID is set in the environment but neither TWILIO_AUTH_TOKEN nor TWILIO_API_KEY is.",
        ),
        (
            {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": API_KEY},
            "TWILIO_API_KEY and TWILIO_API_SECRET go together; TWILIO_API_SECRET is missing from the environment.",
        ),
        (
            {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_SECRET": SECRET},
            "TWILIO_API_KEY and TWILIO_API_SECRET go together; TWILIO_API_KEY is missing from the environment.",
        ),
        (
            {"TWILIO_ACCOUNT_SID": ACCOUNT, "TWILIO_API_KEY": "key", "TWILIO_API_SECRET": SECRET},
            "TWILIO_API_KEY (from the environment) must be SK followed by 32 hex characters.",
        ),
    ],
)
def test_incomplete_or_malformed_credentials_say_which_variable(tmp_path, values, message):
    with pytest.raises(CredentialsError) as raised:
        credentials.load(tmp_path, values)
    assert str(raised.value).startswith(message)
    assert TOKEN not in str(raised.value) and SECRET not in str(raised.value)


def test_the_secret_is_not_in_the_repr():
    found = Credentials(ACCOUNT, API_KEY, SECRET, "the environment")
    assert SECRET not in repr(found)
    assert SECRET not in found.describe()


def test_the_client_authenticates_with_the_key_and_scopes_to_the_account():
    client = credentials.client(Credentials(ACCOUNT, API_KEY, SECRET, "the environment"))
    assert (client.username, client.password, client.account_sid) == (API_KEY, SECRET, ACCOUNT)
    retry = client.http_client.session.get_adapter("https://api.twilio.com").max_retries
    assert (retry.total, sorted(retry.status_forcelist), sorted(retry.allowed_methods)) == (
        3,
        [429, 500, 502, 503, 504],
        ["DELETE", "GET", "PUT"],
    )
    assert client.http_client.timeout == credentials.TIMEOUT_SECONDS
