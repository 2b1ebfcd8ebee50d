"""The handover token: which one is used, the tool URL that carries it, and keeping it out of text."""

from __future__ import annotations

import pytest

from handover import contract
from handover.account import tokens

DEPLOYED = "d" * 43
LOCAL = "L" * 43


def test_a_new_token_is_32_random_url_safe_bytes():
    first, second = tokens.new(), tokens.new()
    assert first != second
    assert len(first) == 43 and tokens.valid(first) == first
    assert contract.TOKEN_BYTES == 32


@pytest.mark.parametrize(
    ("deployed", "local", "chosen"),
    [
        (DEPLOYED, LOCAL, (DEPLOYED, False)),
        (DEPLOYED, None, (DEPLOYED, False)),
        (None, LOCAL, (LOCAL, False)),
        ("short", LOCAL, (LOCAL, False)),
        (DEPLOYED, "short", (DEPLOYED, False)),
    ],
)
def test_choose_prefers_the_deployed_token_then_dotenvs(deployed, local, chosen):
    assert tokens.choose(deployed, local) == chosen


@pytest.mark.parametrize(
    ("deployed", "local"), [(None, None), ("", ""), ("short", "has space " + "x" * 40), ("a" * 129, None)]
)
def test_choose_makes_a_new_token_when_neither_is_valid(deployed, local):
    token, new = tokens.choose(deployed, local)
    assert new is True and tokens.valid(token) == token and token not in (deployed, local)


def test_choose_makes_a_new_token_when_rotating():
    token, new = tokens.choose(DEPLOYED, LOCAL, rotate=True)
    assert new is True and tokens.valid(token) == token and token not in (DEPLOYED, LOCAL)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.twil.io/tools/flex-handover", f"https://x.twil.io/tools/flex-handover?token={DEPLOYED}"),
        ("https://x.twil.io/t?token=old", f"https://x.twil.io/t?token={DEPLOYED}"),
        ("https://x.twil.io/t?a=1&token=old&token=older&b=2", f"https://x.twil.io/t?a=1&b=2&token={DEPLOYED}"),
    ],
)
def test_with_token_sets_the_one_token_parameter(url, expected):
    assert tokens.with_token(url, DEPLOYED) == expected
    assert tokens.tokens_in(expected) == [DEPLOYED]


def test_without_query_and_tokens_in():
    assert tokens.without_query(f"https://x.twil.io/t?a=1&token={DEPLOYED}") == "https://x.twil.io/t"
    assert tokens.tokens_in("https://x.twil.io/t") == []
    assert tokens.tokens_in("https://x.twil.io/t?token=a&token=b") == ["a", "b"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"https://x.twil.io/t?token={DEPLOYED}", "https://x.twil.io/t?token=<redacted>"),
        (f"https://x.twil.io/t?a=1&token={DEPLOYED}&b=2#f", "https://x.twil.io/t?a=1&token=<redacted>&b=2#f"),
        (f'url "https://x/t?token={DEPLOYED}" is bad', 'url "https://x/t?token=<redacted>" is bad'),
        ("https://x/t?mytoken=keep&token=", "https://x/t?mytoken=keep&token=<redacted>"),
        ("https://x/t", "https://x/t"),
    ],
)
def test_redact_url_hides_every_token_parameter(text, expected):
    assert tokens.redact_url(text) == expected


def test_redact_hides_the_given_values_and_url_tokens():
    text = f"Value {DEPLOYED} refused; see https://x/t?token={LOCAL}"
    assert tokens.redact(text, DEPLOYED, None, "") == "Value <redacted> refused; see https://x/t?token=<redacted>"
