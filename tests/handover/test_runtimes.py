"""The Functions runtimes: what Twilio builds on and what it retired or is retiring, defined once (handover.runtimes),
warned about by `validate` (the configured runtime) and held in step with the emulator and the toolkit's default."""

from __future__ import annotations

import re
from datetime import date

import pytest
from click.testing import CliRunner

from handover import runtimes
from handover.cli import cli
from handover.functions import validate
from handover.functions.validate import Problem
from handover.project import read_rc
from tests.handover.conftest import REPO
from twilio_emulator.products import serverless

DAY = date(2026, 12, 7)
FIX = (
    'Set "runtime": "node22" in .twilioserverlessrc, then deploy again (`twilio serverless:deploy`): Twilio builds on '
    "the runtime a deploy names."
)
TO_NODE24 = FIX.replace('"node22"', '"node24"')
NODE18_RETIRED = (
    "Twilio retired node18 on 2025-11-10 (Twilio's changelog of 2025-05-29): a deploy on it fails with 82007 "
    "(Unsupported Runtime); what is deployed on it runs until it is changed"
)
# node22 given a retirement some day after any day these tests run, as Twilio would announce one.
ANNOUNCED = tuple(
    runtimes.Runtime(r.name, date(2099, 1, 1), "an announcement") if r.name == "node22" else r
    for r in runtimes.RUNTIMES
)


def write_runtime(project, runtime: str | None) -> None:
    text = '{"functionsFolder": "functions", "assetsFolder": "assets"' + (
        f', "runtime": "{runtime}"}}' if runtime else "}"
    )
    (project / ".twilioserverlessrc").write_text(text, encoding="utf-8")


def test_what_twilio_builds_on_today():
    assert runtimes.accepted(DAY) == ("node22", "node24")
    assert runtimes.problem("node22", DAY) is None
    assert runtimes.problem("node24", DAY) is None


def test_a_retired_runtime_is_retired_from_its_day_on():
    assert runtimes.problem("node18", DAY) == runtimes.RuntimeProblem("node18", True, NODE18_RETIRED, FIX)
    assert runtimes.problem("node20", date(2026, 4, 30)).retired
    before = runtimes.problem("node20", date(2026, 4, 29))
    assert (before.retired, before.message) == (
        False,
        "Twilio retires node20 on 2026-04-30 (Node.js 20's end of life; serverless-toolkit pull request #565): from "
        "then a deploy on it fails",
    )
    assert runtimes.accepted(date(2026, 4, 29)) == ("node20", "node22", "node24")


def test_a_runtime_twilio_never_had_is_retired():
    assert runtimes.problem("node-22", DAY) == runtimes.RuntimeProblem(
        "node-22", True, "'node-22' is not a runtime Twilio Functions builds on (it takes node22, node24)", FIX
    )


def test_the_project_deploys_on_a_runtime_twilio_builds_on_with_no_retirement_announced():
    assert read_rc(REPO)["runtime"] == runtimes.DEPLOY_ON
    assert runtimes.problem(runtimes.DEPLOY_ON, runtimes.today()) is None


def test_the_toolkits_default_is_a_runtime_twilio_builds_on():
    """twilio-run writes its DEFAULT_RUNTIME into a new project's .twilioserverlessrc."""
    source = (REPO / "node_modules/twilio-run/dist/templating/defaultConfig.js").read_text(encoding="utf-8")
    [default] = re.findall(r"const DEFAULT_RUNTIME = '([^']+)';", source)
    assert default in runtimes.accepted(runtimes.today())


def test_the_emulator_builds_on_exactly_what_twilio_builds_on():
    assert serverless.RUNTIMES == runtimes.accepted(runtimes.today())
    assert serverless.DEFAULT_RUNTIME in serverless.RUNTIMES


@pytest.mark.parametrize(
    ("runtime", "problems", "warnings"),
    [
        ("node22", [], []),
        ("node18", [Problem(".twilioserverlessrc", f"{NODE18_RETIRED}. {FIX}")], []),
        (
            None,
            [],
            [
                ".twilioserverlessrc: names no runtime, so Twilio builds on the service's last build's runtime (node22 "
                f"for a new service), retired or not. {FIX}"
            ],
        ),
    ],
    ids=["supported", "retired", "unnamed"],
)
def test_the_configured_runtime(project, runtime, problems, warnings):
    write_runtime(project, runtime)
    assert validate.runtime_findings(project, DAY) == (problems, warnings)


def test_a_runtime_whose_retirement_is_announced_is_a_warning(project, monkeypatch):
    monkeypatch.setattr(runtimes, "RUNTIMES", ANNOUNCED)
    assert validate.runtime_findings(project, DAY) == (
        [],
        [
            ".twilioserverlessrc: Twilio retires node22 on 2099-01-01 (an announcement): from then a deploy on it "
            f"fails. {TO_NODE24}"
        ],
    )


def test_validate_fails_on_a_retired_runtime_and_warns_on_a_retiring_one(project, monkeypatch):
    runner = CliRunner()
    write_runtime(project, "node18")
    retired = runner.invoke(cli, ["--project-dir", str(project), "validate"], catch_exceptions=False)
    assert retired.exit_code == 1
    assert retired.stdout == f".twilioserverlessrc: {NODE18_RETIRED}. {FIX}\n"
    write_runtime(project, "node22")
    monkeypatch.setattr(runtimes, "RUNTIMES", ANNOUNCED)
    retiring = runner.invoke(cli, ["--project-dir", str(project), "validate"], catch_exceptions=False)
    assert retiring.exit_code == 0
    assert retiring.stdout == ""
    assert retiring.stderr == (
        "warning: .twilioserverlessrc: Twilio retires node22 on 2099-01-01 (an announcement): from then a deploy on "
        f"it fails. {TO_NODE24}\nAll functions and assets are valid.\n"
    )
