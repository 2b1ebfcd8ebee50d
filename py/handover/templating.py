"""The jinja2 environment every template of the package renders in: an undefined name is an error.

Each package keeps its templates beside its code (functions/templates, account/templates, studio/templates)
and renders them through `environment`, so none needs another's internals.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined


def environment(directory: Path) -> Environment:
    """The environment of the templates in `directory`: undefined names are errors, never empty text."""
    return Environment(
        loader=FileSystemLoader(directory),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(directory: Path, template: str, /, **variables: object) -> str:
    """The text of `template` in `directory` for these variables (any names: the first two are positional only)."""
    return environment(directory).get_template(template).render(**variables)
