"""One error type: every command error is a HandoverError, turned into click's in one place; one wording of a
failed Twilio request; the words for what a write did, defined once."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import click
import pytest
import requests
from click.testing import CliRunner
from twilio.base.exceptions import TwilioRestException

import handover
from handover import outcomes
from handover.account.sdk import TwilioFailure
from handover.cli import cli
from handover.commands.base import HandoverCommand, HandoverGroup
from handover.errors import HandoverError, InputError, PartlyApplied

PACKAGE = Path(handover.__file__).parent
# Raised and caught inside one module, never out of it: not a command error.
INTERNAL = {"handover.studio.checks._RepeatedKey"}


def modules_outside_the_emulator() -> list:
    names = [info.name for info in pkgutil.walk_packages([str(PACKAGE)], "handover.")]
    return [importlib.import_module(name) for name in names if not name.startswith("twilio_emulator")]


def exception_classes() -> dict[str, type]:
    return {
        f"{module.__name__}.{name}": value
        for module in modules_outside_the_emulator()
        for name, value in vars(module).items()
        if inspect.isclass(value) and issubclass(value, BaseException) and value.__module__ == module.__name__
    }


def test_every_command_error_is_a_handover_error():
    found = exception_classes()
    assert len(found) > 20
    assert [name for name, kind in found.items() if not issubclass(kind, HandoverError) and name not in INTERNAL] == []


@pytest.mark.parametrize(
    "name",
    [
        "handover.project.ProjectNotFound",
        "handover.account.credentials.CredentialsError",
        "handover.studio.render.ParametersInvalid",
    ],
)
def test_bad_input_is_an_input_error(name):
    assert issubclass(exception_classes()[name], InputError)


@pytest.mark.parametrize(
    "name",
    [
        "handover.account.variables.EnvSetFailed",
        "handover.account.assistant_tool.RegistrationFailed",
        "handover.studio.deploy.DeployFailed",
    ],
)
def test_a_write_that_failed_part_way_is_partly_applied(name):
    assert issubclass(exception_classes()[name], PartlyApplied)


def test_a_missing_node_is_still_a_file_not_found_error():
    assert issubclass(exception_classes()["handover.functions.validate.NodeNotFound"], FileNotFoundError)


# The one place: HandoverGroup's commands


def rest_error(status: int = 403, code: int = 20403) -> TwilioRestException:
    return TwilioRestException(status, "https://example.twilio.com/v1/Things", "Injected", code, "GET")


def failing(error: BaseException) -> click.Group:
    @click.group(cls=HandoverGroup)
    def group() -> None:
        pass

    @group.command()
    def run() -> None:
        raise error

    return group


def invoke(error: BaseException):
    return CliRunner().invoke(failing(error), ["run"])


def test_every_command_of_handover_turns_its_errors_into_clicks():
    def walk(command: click.Command) -> list[click.Command]:
        below = command.commands.values() if isinstance(command, click.Group) else []
        return [command, *(found for sub in below for found in walk(sub))]

    tree = walk(cli)
    assert len(tree) > 10
    assert [
        c.name for c in tree if not isinstance(c, HandoverGroup if isinstance(c, click.Group) else HandoverCommand)
    ] == []


def test_a_handover_error_exits_1_with_its_message():
    result = invoke(HandoverError("It broke. Run it again."))
    assert (result.exit_code, result.stderr) == (1, "Error: It broke. Run it again.\n")


def test_an_input_error_exits_2_with_the_commands_usage():
    result = invoke(InputError("No project here."))
    assert result.exit_code == 2
    assert result.stderr == "Usage: group run [OPTIONS]\nTry 'group run --help' for help.\n\nError: No project here.\n"


def test_a_twilio_failure_reads_as_twilio_failure_words_it():
    result = invoke(rest_error())
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: Twilio answered GET https://example.twilio.com/v1/Things with HTTP 403, error 20403: Injected\n",
    )


def test_an_unreachable_twilio_says_what_to_do():
    result = invoke(requests.ConnectionError("refused"))
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: Could not reach Twilio: ConnectionError. Check your network or proxy, then run again.\n",
    )


def test_any_other_error_is_not_hidden():
    result = invoke(KeyError("bug"))
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


def test_click_errors_and_exits_pass_through():
    assert invoke(click.BadParameter("not a SID")).exit_code == 2
    assert invoke(click.exceptions.Exit(3)).exit_code == 3


# One wording of a failed Twilio request


def test_twilio_failure_in_a_sentence_and_alone():
    failure = TwilioFailure.of(rest_error(400, 20001))
    assert failure.in_sentence() == "HTTP 400, Twilio error 20001: Injected"
    assert failure.twilio_error() == "Twilio error 20001: Injected"
    assert failure.what_to_do is None
    unreachable = TwilioFailure.of(requests.ReadTimeout())
    assert unreachable.in_sentence() == "could not reach Twilio (ReadTimeout)"
    assert unreachable.what_to_do == "Check your network or proxy, then run again."


def test_only_sdk_and_network_errors_are_twilio_failures():
    assert TwilioFailure.of(ValueError("x")) is None
    assert TwilioFailure.of(HandoverError("x")) is None


# The words, once


def test_the_result_words_are_defined_once():
    words = {outcomes.CREATED, outcomes.UPDATED, outcomes.UNCHANGED, outcomes.FAILED, outcomes.NOT_APPLIED}
    defined_elsewhere = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "outcomes.py" or "emulator" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in words:
                defined_elsewhere.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}")
    assert defined_elsewhere == []
