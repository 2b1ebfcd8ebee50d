"""Answers the products share: a resource fetched by the path's Sid, and one page of a list (by number or by token)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlencode

from .errors import TwilioError, not_found
from .routes import Call

PAGING_PARAMETERS = ("PageSize", "Page", "PageToken")
DEFAULT_TOKEN_PAGE_SIZE = 50


def fetched(call: Call, table: str) -> tuple[int, dict]:
    """The resource in `table` the path's Sid names, or Twilio's 404."""
    item = call.emulator.table(table).get(call.params["Sid"])
    if item is None:
        raise not_found(call.path)
    return 200, item


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


def token_page(call: Call, key: str, items: list[dict]) -> tuple[int, dict]:
    """One page of a list of Twilio's newer JSON APIs: `{<key>: [...], meta: {key, pageSize, …Token}}`.

    `pageSize` (default 50) and `pageToken` are the query's; a token is opaque to clients (here the base64 of
    the page's offset), and meta's pageSize is the number of items answered, as the descriptions say. A token
    the emulator did not make is answered 400.
    """
    size = int(call.query.get("pageSize", DEFAULT_TOKEN_PAGE_SIZE))
    start = _token_offset(call.query.get("pageToken"))
    chunk = items[start : start + size]
    meta: dict = {"key": key, "pageSize": len(chunk)}
    if start > 0:
        meta["previousToken"] = _page_token(max(start - size, 0))
    if start + size < len(items):
        meta["nextToken"] = _page_token(start + size)
    return 200, {key: chunk, "meta": meta}


def _page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _token_offset(token: str | None) -> int:
    if token is None:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, TypeError, KeyError):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise TwilioError(400, 20001, f"Invalid pageToken {token!r}")
    return offset
