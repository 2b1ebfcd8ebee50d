"""The handover token: which one a deployment uses, where it comes from, and keeping it out of output.

The deployed function answers only callers that present the environment's HANDOVER_TOKEN, and an AI
Assistant's tool can present it only in its URL's query. So the token travels in the tool URL, and
everything the commands print shows `<redacted>` in its place unless --show-secrets asks for it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..contract import TOKEN, TOKEN_BYTES, TOKEN_QUERY_PARAMETER
from ..errors import HandoverError
from ..project import ENV_FILE, read_local
from .deployment import remote_variables

REDACTED = "<redacted>"
ENV_SET_FIRST = "Run `handover env set --workspace-sid WS… --workflow-sid WW…` first; it makes one."


class NoToken(HandoverError):
    """No valid handover token where the command looked; the message says where, and what to run."""


def new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def valid(value: str | None) -> str | None:
    """The value if it is a well-formed handover token, else None."""
    return value if value and TOKEN.accepts(value) else None


def choose(deployed: str | None, local: str | None, rotate: bool = False) -> tuple[str, bool]:
    """(the token `env set` writes, whether it is new): the deployed one, else .env's, else a new one."""
    reused = None if rotate else valid(deployed) or valid(local)
    return (reused, False) if reused else (new(), True)


def of_environment(client, deployment) -> str | None:
    """The deployed environment's valid HANDOVER_TOKEN, from the one listing `env set` makes too."""
    return valid(getattr(remote_variables(client, deployment).get(TOKEN.name), "value", None))


def of_dotenv(project_dir: Path) -> str | None:
    return valid(read_local(project_dir / ENV_FILE).get(TOKEN.name))


def for_tool(client, deployment, project_dir: Path | None) -> tuple[str, str]:
    """(token, where it came from) for the tool URL: the deployment's, else (given a project) .env's."""
    places = []
    if deployment is not None:
        token = of_environment(client, deployment)
        if token:
            return token, f"environment {deployment.environment_sid}"
        places.append(f"on environment {deployment.environment_sid}")
    if project_dir is not None:
        token = of_dotenv(project_dir)
        if token:
            return token, ".env"
        places.append("in .env")
    raise NoToken(
        f"No valid {TOKEN.name} {' or '.join(places)}, and the tool URL must carry the deployment's. {ENV_SET_FIRST}"
    )


# URLs and text --------------------------------------------------------------------------------------


def with_token(url: str, token: str) -> str:
    """The URL with `token` as its only token query parameter; its other parameters kept."""
    parts = urlsplit(url)
    query = [
        (key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != TOKEN_QUERY_PARAMETER
    ]
    return urlunsplit(parts._replace(query=urlencode([*query, (TOKEN_QUERY_PARAMETER, token)])))


def without_query(url: str) -> str:
    """The URL a tool is recognised by: the same whatever token (or other query) it carries."""
    return urlunsplit(urlsplit(url)._replace(query=""))


def tokens_in(url: str) -> list[str]:
    return [
        value for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True) if key == TOKEN_QUERY_PARAMETER
    ]


_TOKEN_IN_QUERY = re.compile(rf"([?&]{re.escape(TOKEN_QUERY_PARAMETER)}=)[^&#\s\"']*")


def redact_url(url: str) -> str:
    """The URL (or any text holding URLs) with every token query parameter's value shown as <redacted>."""
    return _TOKEN_IN_QUERY.sub(lambda match: match.group(1) + REDACTED, url)


def redact(text: str, *secret_values: str | None) -> str:
    """The text with each secret value, and any URL's token, shown as <redacted>."""
    for value in secret_values:
        if value:
            text = text.replace(value, REDACTED)
    return redact_url(text)
