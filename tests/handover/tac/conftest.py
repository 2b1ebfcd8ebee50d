"""Fixtures of the `handover tac` tests: the command, and the account cleaned of what a test made."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from handover.cli import cli


def invoke(project, *args):
    return CliRunner().invoke(cli, ["--project-dir", str(project), "tac", *args], catch_exceptions=False)


@pytest.fixture
def clean_tac(emulator):
    """The test's own services, Orchestrator, Intelligence and address configurations and flows removed after it."""
    tables = (
        "conversation_services",
        "orchestrator_configurations",
        "intelligence_configurations",
        "conversation_address_configurations",
        "studio_flows",
    )
    before = {name: set(emulator.table(name)) for name in tables}
    yield
    with emulator.lock:
        for name in tables:
            for key in set(emulator.table(name)) - before[name]:
                del emulator.table(name)[key]
        emulator.table("orchestrator_settings").clear()
