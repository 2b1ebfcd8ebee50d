"""The account's tables: each declared by the product that owns it, every other name an error that says which exist."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from twilio_emulator import Emulator, new_account, products, spec_directory
from twilio_emulator.state import DECLARED_TABLES, UnknownTable, declare_tables

PROJECT_DIR = Path(__file__).resolve().parents[2]

PRODUCT_MODULES = [
    importlib.import_module(f"{products.__name__}.{module.name}") for module in pkgutil.iter_modules(products.__path__)
]


@pytest.fixture
def new_emulator() -> Emulator:
    return Emulator(spec_directory(PROJECT_DIR), new_account())


@pytest.mark.parametrize("product", PRODUCT_MODULES, ids=lambda module: module.__name__.rpartition(".")[2])
def test_each_product_declares_its_tables_and_a_new_emulator_has_them_empty(product, new_emulator):
    assert product.TABLES, f"{product.__name__} declares no table"
    assert {name: new_emulator.table(name) for name in product.TABLES} == {name: {} for name in product.TABLES}


def test_every_declared_table_is_listed_by_the_product_that_declared_it():
    """No table is declared outside a product's TABLES, nor listed by a product that did not declare it."""
    owners = {name: product.__name__ for product in PRODUCT_MODULES for name in product.TABLES}
    assert owners == DECLARED_TABLES


def test_an_unknown_table_name_raises_naming_the_declared_ones(new_emulator):
    with pytest.raises(UnknownTable) as raised:
        new_emulator.table("sync_map_item")
    message = str(raised.value)
    assert message.startswith("no table 'sync_map_item': the products declare ")
    assert [name for name in DECLARED_TABLES if not re.search(rf"\b{name}\b", message)] == []


def test_an_unknown_table_is_not_a_key_error_so_no_handling_of_a_missing_resource_hides_it():
    """A misspelt table must not pass for a missing resource, which callers catch as KeyError.

    (set_conversation_attributes, for one, raises KeyError when there is no such conversation.)
    """
    assert not issubclass(UnknownTable, KeyError) and issubclass(UnknownTable, LookupError)


def test_a_table_another_product_declared_cannot_be_declared_again():
    owners = r"twilio_emulator\.products\.taskrouter and tests"
    with pytest.raises(ValueError, match=rf"table 'tasks' is declared by both {owners}"):
        declare_tables("tests", "tasks")


def test_reset_empties_every_table_and_keeps_them_declared(new_emulator):
    new_emulator.table("tasks")["WT1"] = {"sid": "WT1"}
    new_emulator.reset()
    assert new_emulator.table("tasks") == {}
    with pytest.raises(UnknownTable):
        new_emulator.table("task")
