"""Answers the products share: a resource fetched by the path's Sid, and one page of a list."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from .errors import not_found
from .routes import Call

PAGING_PARAMETERS = ("PageSize", "Page", "PageToken")


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
