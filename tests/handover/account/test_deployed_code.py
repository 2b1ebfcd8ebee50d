"""`handover validate --deployed`: the environment's build compared with the project, through the CLI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from handover.account import deployed_code
from handover.cli import cli
from handover.project import deployed_files
from tests.handover.conftest import writes
from twilio_emulator.products.serverless import add_environment, deploy_build

FUNCTION = "functions/tools/flex-handover.js"
CONTRACT = "assets/tools/contract.private.js"
DEPLOY_FIX = "Run `twilio serverless:deploy` (or `npm run deploy`) from the project to deploy the local files."
HANDLER = "exports.handler = function (context, event, callback) { return callback(null, 'ok'); };\n"
TEMPLATE_PROBLEM = "differs from its template: run `handover generate` (edit the template, not the generated file)"


@dataclass(frozen=True)
class Uploaded:
    """A file as `twilio serverless:deploy` uploads it: what deploy_build takes."""

    kind: str
    path: str
    visibility: str
    content: str


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def validate(runner, project: Path, deployed, *args: str):
    return runner.invoke(
        cli,
        ["--project-dir", str(project), "validate", "--deployed", "--service-sid", deployed.service_sid, *args],
        catch_exceptions=False,
    )


def uploads(project: Path) -> list[Uploaded]:
    return [Uploaded(f.kind, f.path, f.visibility, f.content) for f in deployed_files(project)]


def redeploy(emulator, deployed, files: list[Uploaded], dependencies: dict[str, str] | None = None) -> dict:
    build = deploy_build(emulator, deployed.service_sid, deployed.environment_sid, files, dependencies)
    emulator.clear_traffic()
    return build


def add_file(project: Path, relative: str, text: str) -> None:
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def using(emulator, deployed) -> list[str]:
    return [
        f"Using account {emulator.account.sid} (auth token, from the environment).",
        f"Using service {deployed.service_sid} (found by --service-sid).",
        f"Using environment {deployed.environment_sid} at https://{deployed.domain_name}.",
    ]


def test_a_fresh_deployment_passes(runner, account_env, emulator, project, deployed):
    result = validate(runner, project, deployed)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == using(emulator, deployed) + [
        "All functions and assets are valid and deployed as they are."
    ]
    build = emulator.table("serverless_builds")[deployed.build_sid]
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments"),
        ("GET", f"/v1/Services/{deployed.service_sid}/Builds/{deployed.build_sid}"),
    ] + [
        (
            "GET",
            f"/v1/Services/{deployed.service_sid}/Functions/{function['function_sid']}/Versions/{function['sid']}/Content",
        )
        for function in build["function_versions"]
    ]
    assert len(build["function_versions"]) == 6
    assert writes(emulator) == []
    assert emulator.account.auth_token not in result.output


def test_a_fresh_deployment_passes_as_json(runner, account_env, emulator, project, deployed):
    result = validate(runner, project, deployed, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_a_locally_edited_function_differs(runner, account_env, emulator, project, deployed):
    path = project / FUNCTION
    path.write_text(path.read_text(encoding="utf-8") + "// a local change\n", encoding="utf-8")
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["/tools/flex-handover: function differs from the deployed version"]
    assert result.stderr.splitlines()[-1] == f"1 problem(s) found. {DEPLOY_FIX}"


def test_a_locally_edited_contract_differs_from_its_template_only(runner, account_env, emulator, project, deployed):
    # Assets are compared by path (the Serverless API serves no asset content): the template check names it.
    path = project / CONTRACT
    path.write_text(path.read_text(encoding="utf-8") + "// a local change\n", encoding="utf-8")
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"{CONTRACT}: {TEMPLATE_PROBLEM}"]
    assert writes(emulator) == []


def test_a_function_deployed_from_another_source_differs(runner, account_env, emulator, project, deployed):
    redeploy(
        emulator,
        deployed,
        [
            f if f.kind == "asset" else Uploaded(f.kind, f.path, f.visibility, f.content + "\n")
            for f in uploads(project)
        ],
    )
    result = validate(runner, project, deployed, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {"path": "/lifecycle/hand-back", "problem": "function differs from the deployed version"},
        {"path": "/lifecycle/task-events", "problem": "function differs from the deployed version"},
        {"path": "/tools/flex-handover", "problem": "function differs from the deployed version"},
        {"path": "/tools/studio-handover", "problem": "function differs from the deployed version"},
        {"path": "/voice/connect-action", "problem": "function differs from the deployed version"},
        {"path": "/voice/incoming-call", "problem": "function differs from the deployed version"},
    ]
    assert result.stderr.splitlines()[-1] == f"6 problem(s) found. {DEPLOY_FIX}"


@pytest.mark.parametrize(
    ("kind", "visibility", "lines"),
    [
        (
            "function",
            "protected",  # /lifecycle/task-events is protected already: only the public functions differ
            [
                "/lifecycle/hand-back: function differs from the deployed version",
                "/tools/flex-handover: function differs from the deployed version",
                "/tools/studio-handover: function differs from the deployed version",
            ],
        ),
        (
            "asset",
            "public",
            [
                "/lifecycle/handback.js: asset differs from the deployed version",
                *(
                    f"/tools/{name}.js: asset differs from the deployed version"
                    for name in ("contract", "handoff", "handover")
                ),
                "/voice/relay.js: asset differs from the deployed version",
            ],
        ),
    ],
)
def test_a_file_deployed_with_another_visibility_differs(
    runner, account_env, emulator, project, deployed, kind, visibility, lines
):
    redeploy(
        emulator,
        deployed,
        [Uploaded(f.kind, f.path, visibility if f.kind == kind else f.visibility, f.content) for f in uploads(project)],
    )
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == lines


def test_a_local_file_with_windows_line_endings_equals_what_the_toolkit_uploaded(
    runner, account_env, emulator, project, deployed
):
    path = project / FUNCTION
    path.write_bytes(path.read_text(encoding="utf-8").replace("\n", "\r\n").encode())
    redeploy(emulator, deployed, uploads(project))
    deployed_source = next(
        c["content"] for c in emulator.table("serverless_function_version_contents").values() if "\r\n" in c["content"]
    )
    assert deployed_source == path.read_bytes().decode("utf-8")
    result = validate(runner, project, deployed, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []


def test_extra_missing_and_different_are_each_named(runner, account_env, emulator, project, deployed):
    files = uploads(project)
    extra = Uploaded("function", "/deployed-only", "public", HANDLER)
    redeploy(emulator, deployed, files + [extra])
    add_file(project, "functions/local-only.js", HANDLER)
    add_file(project, "assets/local-only.txt", "not deployed\n")
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    not_served = (
        "which the project does not serve: the Serverless Toolkit uploads every .js file under functions/ and every "
        "file under assets/, so move it out of them"
    )
    assert result.stdout.splitlines() == [
        f"functions/local-only.js: would be deployed (public) at /local-only, {not_served}",
        f"assets/local-only.txt: would be deployed (public) at /local-only.txt, {not_served}",
        "/local-only.txt: asset is in the project but not deployed",
        "/deployed-only: function is deployed but not in the project",
        "/local-only: function is in the project but not deployed",
    ]
    assert result.stderr.splitlines()[-1] == f"5 problem(s) found. {DEPLOY_FIX}"
    json_result = validate(runner, project, deployed, "--json")
    assert json.loads(json_result.stdout)[2:] == [
        {"path": "/local-only.txt", "problem": "asset is in the project but not deployed"},
        {"path": "/deployed-only", "problem": "function is deployed but not in the project"},
        {"path": "/local-only", "problem": "function is in the project but not deployed"},
    ]
    assert writes(emulator) == []


def test_a_deployed_asset_removed_from_the_project_is_extra(runner, account_env, emulator, project, deployed):
    (project / "assets/tools/handover.private.js").unlink()
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    assert "/tools/handover.js: asset is deployed but not in the project" in result.stdout.splitlines()


def test_an_asset_missing_from_the_build(runner, account_env, emulator, project, deployed):
    redeploy(emulator, deployed, [f for f in uploads(project) if f.kind == "function"])
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "/lifecycle/handback.js: asset is in the project but not deployed",
        *(
            f"/tools/{name}.js: asset is in the project but not deployed"
            for name in ("contract", "handoff", "handover")
        ),
        "/voice/relay.js: asset is in the project but not deployed",
    ]
    build_requests = [r.path for r in emulator.requests if "/Content" in r.path]
    assert len(build_requests) == 6, "only functions have their content read"


def test_an_environment_without_a_build_says_to_deploy(runner, account_env, emulator, project, deployed):
    environment = add_environment(emulator, deployed.service_sid, "stage")
    result = validate(runner, project, deployed, "--environment", "stage")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        result.stderr.splitlines()[-1] == f"Error: Environment {environment['sid']} has no build deployed. {DEPLOY_FIX}"
    )
    assert [(r.method, r.path) for r in emulator.requests] == [
        ("GET", f"/v1/Services/{deployed.service_sid}/Environments")
    ]


def test_without_deployed_no_request_is_made(runner, account_env, emulator, project, deployed):
    result = runner.invoke(cli, ["--project-dir", str(project), "validate"], catch_exceptions=False)
    assert result.exit_code == 0
    assert emulator.requests == []


def test_difference_reads_as_a_sentence():
    assert (
        str(deployed_code.Difference("asset", "/a.css", deployed_code.EXTRA))
        == "asset /a.css is deployed but not in the project"
    )


def test_a_build_of_another_runtime_or_other_dependencies_differs(runner, account_env, emulator, project, deployed):
    (project / "package.json").write_text(
        json.dumps({"name": "flex-handover", "dependencies": {"@twilio/runtime-handler": "2.1.0", "twilio": "6.2.0"}}),
        encoding="utf-8",
    )
    build = redeploy(emulator, deployed, uploads(project), {"twilio": "5.0.0"})
    build["runtime"] = "node24"  # as a deploy with another .twilioserverlessrc left it
    result = validate(runner, project, deployed)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "dependency @twilio/runtime-handler: build is in package.json, not in the build",
        "dependency twilio: build is 5.0.0 in the build, 6.2.0 in package.json",
        "runtime: build is node24, not the node22 of .twilioserverlessrc",
    ]
    assert result.stderr.splitlines()[-1] == f"3 problem(s) found. {DEPLOY_FIX}"
    assert writes(emulator) == []


def test_a_build_with_the_runtime_and_dependencies_asked_for_passes(runner, account_env, emulator, project, deployed):
    dependencies = {"@twilio/runtime-handler": "2.1.0", "twilio": "6.2.0"}
    (project / "package.json").write_text(json.dumps({"name": "flex-handover", "dependencies": dependencies}))
    redeploy(emulator, deployed, uploads(project), dependencies)
    result = validate(runner, project, deployed)
    assert result.exit_code == 0, result.output
