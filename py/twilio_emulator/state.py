"""The account's state: its credentials, its resources in tables each product declares, its SIDs and its clock.

A table is a dict of the product's resources (by SID, or as the product keys them). Only the tables a
product declared with `declare_tables` exist, so a misspelt name fails loudly instead of reading as an
empty table.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime

from .callbacks import Outbox
from .clock import Clock

Table = dict[str, dict]
# Every declared table → the module that declared it; filled as the products are imported, before any account exists.
DECLARED_TABLES: dict[str, str] = {}


class UnknownTable(LookupError):
    """A table no product declared: a typo, or a product that forgot to declare it."""


def declare_tables(owner: str, *names: str) -> tuple[str, ...]:
    """Declare the tables the module `owner` keeps its resources in; a name another module declared is an error."""
    for name in names:
        holder = DECLARED_TABLES.setdefault(name, owner)
        if holder != owner:
            raise ValueError(f"table {name!r} is declared by both {holder} and {owner}")
    return names


@dataclass
class Account:
    sid: str
    auth_token: str
    api_keys: dict[str, str] = field(default_factory=dict)  # SK… → secret


class AccountState:
    """What a route handler reads and changes: the account's credentials, tables, SIDs and time, under one lock.

    The Emulator (pipeline.py) is one, with the request pipeline on top; a handler's `call.emulator` is it.
    """

    def __init__(self, account: Account):
        self.account = account
        self.lock = threading.RLock()
        self.clock = Clock()
        # The webhooks and callbacks the account sends (callbacks.py), signed with its auth token as it is then.
        self.outbox = Outbox(lambda: self.account.auth_token)
        self._forget_resources()

    def now(self) -> datetime:
        """The account's time: the wall clock plus what a test advanced (TTLs expire by it)."""
        return self.clock.now()

    def new_sid(self, prefix: str) -> str:
        """Deterministic SIDs, so that a run of the demo or a test reads the same every time."""
        digest = hashlib.sha256(f"{prefix}{next(self._sids)}".encode()).hexdigest()
        return prefix + digest[:32]

    def table(self, name: str) -> Table:
        """The declared table `name`; UnknownTable, naming the declared ones, for any other name."""
        try:
            return self._tables[name]
        except KeyError:
            known = ", ".join(sorted(self._tables))
            raise UnknownTable(f"no table {name!r}: the products declare {known}") from None

    def reset(self) -> None:
        """Every declared table empty, SIDs counted afresh, and the account's time back to the wall clock."""
        with self.lock:
            self._forget_resources()
            self.clock.set_back()

    def _forget_resources(self) -> None:
        """Every declared table empty, and SIDs counted from the start again: the resources of a new account."""
        self._tables: dict[str, Table] = {name: {} for name in DECLARED_TABLES}
        self._sids = itertools.count(1)
