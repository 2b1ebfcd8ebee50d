"""The project deployed by the Serverless Toolkit's own engine (`twilio-run deploy`) against the emulator, then
configured and checked by the `handover` commands on what was deployed, with nothing seeded but the account a user
has before they start: Flex, the Conversations service with its conversation, an AI Assistant."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from dotenv import dotenv_values

from handover.cli import cli
from handover.local import deploy
from handover.local.stack import seed_deployment
from handover.project import INTENDED_FILES
from tests.handover.conftest import point_at
from twilio_emulator import (
    Emulator,
    EmulatorProxy,
    FlexAccount,
    add_assistant,
    new_account,
    seed_flex_account,
    spec_directory,
)
from twilio_emulator.products import serverless

REPO = Path(__file__).resolve().parents[3]
SID = "[0-9a-f]{32}"
# What the project means to deploy, written out: the tools public (the handover token protects them), TaskRouter's
# event callback protected (only Twilio calls it), the agent's hand-back public (the agent's Flex token protects it),
# the modules they load through Runtime.getAssets() private.
EXPECTED_FILES = {
    ("function", "/tools/flex-handover", "public"),
    ("function", "/tools/studio-handover", "public"),
    ("function", "/lifecycle/task-events", "protected"),
    ("function", "/lifecycle/hand-back", "public"),
    ("function", "/voice/connect-action", "protected"),
    ("function", "/voice/incoming-call", "protected"),
    ("asset", "/lifecycle/handback.js", "private"),
    ("asset", "/tools/contract.js", "private"),
    ("asset", "/tools/handoff.js", "private"),
    ("asset", "/tools/handover.js", "private"),
    ("asset", "/voice/relay.js", "private"),
}
UPLOADS = {
    "POST /v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions",
    "POST /v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions",
}


@dataclass
class Account:
    emulator: Emulator
    proxy: EmulatorProxy
    flex: FlexAccount
    assistant_id: str

    @property
    def credentials(self) -> dict[str, str]:
        """The .env lines a user writes before deploying."""
        return {"ACCOUNT_SID": self.emulator.account.sid, "AUTH_TOKEN": self.emulator.account.auth_token}


@dataclass
class Deployed:
    clone: Path
    result: deploy.ToolkitDeploy
    first_request: int  # the index of the deploy's first request in the emulator's record
    last_request: int

    def requests(self, account: Account):
        return account.emulator.requests[self.first_request : self.last_request]


@pytest.fixture(scope="module")
def account() -> Account:
    """A new account as it is before a user starts: no Functions service, no variables, no Sync Maps."""
    emulator = Emulator(spec_directory(REPO), new_account())
    flex = seed_flex_account(emulator)
    assistant_id = add_assistant(emulator, "Support Assistant")["id"]
    with EmulatorProxy(emulator) as proxy:
        yield Account(emulator, proxy, flex, assistant_id)
    assert [str(v) for v in emulator.violations] == [], "requests broke Twilio's OpenAPI description"


@pytest.fixture(scope="module")
def shell(account):
    """This process pointed at the emulator through the proxy, with no credentials but the clone's .env."""
    with pytest.MonkeyPatch.context() as patch:
        point_at(account.proxy, patch)
        yield


def deployed_by_toolkit(account: Account, clone: Path) -> Deployed:
    first = len(account.emulator.requests)
    result = deploy.deploy(clone, account.proxy, REPO)
    return Deployed(clone, result, first, len(account.emulator.requests))


def clone_of(tmp_path_factory, account: Account, name: str) -> Path:
    return deploy.clean_copy(REPO, tmp_path_factory.mktemp(name) / "flex-handover", account.credentials)


def renamed(clone: Path, service_name: str) -> Path:
    """The clone deployed as a service of its own (package.json's name), beside the project's."""
    package = json.loads((clone / "package.json").read_text(encoding="utf-8"))
    (clone / "package.json").write_text(json.dumps({**package, "name": service_name}), encoding="utf-8")
    return clone


@pytest.fixture(scope="module")
def first(tmp_path_factory, account) -> Deployed:
    return deployed_by_toolkit(account, clone_of(tmp_path_factory, account, "first"))


def invoke(clone: Path, *args: str):
    return CliRunner().invoke(cli, ["--project-dir", str(clone), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def configured(first, account, shell) -> Deployed:
    """The first deployment after `handover env set`, `handover tool register` and `handover handback wire`, run in
    the clone."""
    flex = account.flex
    env_set = invoke(
        first.clone, "env", "set", "--workspace-sid", flex.workspace_sid, "--workflow-sid", flex.workflow_sid
    )
    assert env_set.exit_code == 0, env_set.output
    register = invoke(first.clone, "tool", "register", "--assistant-id", account.assistant_id)
    assert register.exit_code == 0, register.output
    wire = invoke(first.clone, "handback", "wire")
    assert wire.exit_code == 0, wire.output
    return first


@pytest.fixture(scope="module")
def second(configured, account) -> Deployed:
    """The configured clone deployed again, as a user's next `twilio serverless:deploy`."""
    return deployed_by_toolkit(account, configured.clone)


def build_of(account: Account, build_sid: str) -> dict:
    return account.emulator.table("serverless_builds")[build_sid]


def served(build: dict) -> set[tuple[str, str, str]]:
    """(kind, path, visibility) of every file the build serves."""
    return {
        (kind, version["path"], version["visibility"].lower())
        for kind in ("function", "asset")
        for version in build[f"{kind}_versions"]
    }


def sources(account: Account, build: dict) -> dict[str, str]:
    """path → the source the build's version of it holds."""
    return {
        version["path"]: account.emulator.table(f"serverless_{kind}_version_contents")[version["sid"]]["content"]
        for kind in ("function", "asset")
        for version in build[f"{kind}_versions"]
    }


def assert_deployed_as_intended(account: Account, deployed: Deployed) -> None:
    """The build the toolkit made serves exactly the intended files, each with its intended visibility."""
    build = build_of(account, deployed.result.build_sid)
    missing = sorted(EXPECTED_FILES - served(build))
    unexpected = sorted(served(build) - EXPECTED_FILES)
    assert (missing, unexpected) == ([], []), f"not deployed as intended: missing {missing}, unexpected {unexpected}"


# The first deploy ------------------------------------------------------------------------------------------


def test_the_written_out_files_are_the_projects_intention():
    assert {(kind, path, visibility) for (kind, path), visibility in INTENDED_FILES.items()} == EXPECTED_FILES


def test_the_toolkit_deploys_exactly_the_intended_files_with_their_visibility(first, account):
    assert_deployed_as_intended(account, first)
    printed = {(entry["access"], entry["path"]) for entry in first.result.functions + first.result.assets}
    assert printed == {(visibility, path) for _, path, visibility in EXPECTED_FILES}
    assert {entry["url"] for entry in first.result.functions} == {
        f"https://{first.result.domain}/tools/flex-handover",
        f"https://{first.result.domain}/tools/studio-handover",
        f"https://{first.result.domain}/lifecycle/task-events",
        f"https://{first.result.domain}/lifecycle/hand-back",
        f"https://{first.result.domain}/voice/connect-action",
        f"https://{first.result.domain}/voice/incoming-call",
    }


def test_every_deployed_file_is_the_local_one_byte_for_byte(first, account):
    local = {
        "/tools/flex-handover": "functions/tools/flex-handover.js",
        "/tools/studio-handover": "functions/tools/studio-handover.js",
        "/lifecycle/task-events": "functions/lifecycle/task-events.protected.js",
        "/lifecycle/hand-back": "functions/lifecycle/hand-back.js",
        "/voice/connect-action": "functions/voice/connect-action.protected.js",
        "/voice/incoming-call": "functions/voice/incoming-call.protected.js",
        "/voice/relay.js": "assets/voice/relay.private.js",
        "/lifecycle/handback.js": "assets/lifecycle/handback.private.js",
        "/tools/contract.js": "assets/tools/contract.private.js",
        "/tools/handoff.js": "assets/tools/handoff.private.js",
        "/tools/handover.js": "assets/tools/handover.private.js",
    }
    expected = {path: (REPO / file).read_bytes().decode("utf-8") for path, file in local.items()}
    assert sources(account, build_of(account, first.result.build_sid)) == expected


def test_the_build_runs_node22_with_the_dependencies_of_package_json(first, account):
    build = build_of(account, first.result.build_sid)
    assert (build["runtime"], build["status"], first.result.runtime) == ("node22", "completed", "node22")
    assert build["dependencies"] == [
        {"name": "@twilio/runtime-handler", "version": "2.1.0"},
        {"name": "twilio", "version": "6.2.0"},
        {"name": "twilio-flex-token-validator", "version": "1.6.0"},
    ]
    package = json.loads((REPO / "package.json").read_text(encoding="utf-8"))
    assert {d["name"]: d["version"] for d in build["dependencies"]} == package["dependencies"]


def test_the_environment_runs_the_build_at_its_domain(first, account):
    [environment] = [
        e
        for e in account.emulator.table("serverless_environments").values()
        if e["sid"] == first.result.environment_sid
    ]
    service = account.emulator.table("serverless_services")[first.result.service_sid]
    assert (service["unique_name"], environment["domain_suffix"], environment["build_sid"]) == (
        "flex-handover",
        "dev",
        first.result.build_sid,
    )
    assert first.result.domain == environment["domain_name"]
    assert re.fullmatch(r"flex-handover-\d{4}-dev\.twil\.io", first.result.domain)


def test_deployinfo_names_the_service_and_its_build(first, account):
    info = json.loads((first.clone / ".twiliodeployinfo").read_text(encoding="utf-8"))
    assert info == {
        f"{account.emulator.account.sid}:us1": {
            "serviceSid": first.result.service_sid,
            "latestBuild": first.result.build_sid,
        }
    }


def test_the_deploy_uploads_no_credentials_and_no_variable_of_an_empty_env(first, account):
    variables = serverless.variables_of(account.emulator, first.result.environment_sid)
    assert variables == []  # the clone's .env holds ACCOUNT_SID and AUTH_TOKEN only, which the toolkit never uploads


def test_the_build_moves_from_building_to_completed_as_the_toolkit_polls_it(first, account):
    requests = first.requests(account)
    [created] = [r for r in requests if r.operation == "POST /v1/Services/{ServiceSid}/Builds"]
    polled = [
        r.response["status"] for r in requests if r.operation == "GET /v1/Services/{ServiceSid}/Builds/{Sid}/Status"
    ]
    assert (created.status, created.response["status"]) == (201, "building")
    assert polled == ["building", "completed"]


def test_only_the_uploads_go_unchecked_by_the_description(first, account):
    requests = first.requests(account)
    assumed = {r.operation for r in requests if r.host == "serverless-upload.twilio.com"}
    assert assumed == UPLOADS
    assert {r.host for r in requests} == {"serverless.twilio.com", "serverless-upload.twilio.com"}
    assert all(r.status in (200, 201) for r in requests), [(r.operation, r.status) for r in requests if r.status >= 300]
    # 6 functions and 5 assets: one resource and one version each
    assert sorted(r.operation for r in requests if r.method == "POST") == sorted(
        [
            "POST /v1/Services",
            "POST /v1/Services/{ServiceSid}/Environments",
            *["POST /v1/Services/{ServiceSid}/Functions"] * 6,
            *["POST /v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions"] * 6,
            *["POST /v1/Services/{ServiceSid}/Assets"] * 5,
            *["POST /v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions"] * 5,
            "POST /v1/Services/{ServiceSid}/Builds",
            "POST /v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments",
        ]
    )


def test_the_seeded_deployment_other_tests_start_from_is_what_the_toolkit_leaves(first, account):
    """The tests and the bench seed a deployment (scenario.seed_deployed_service) to save a deploy each: it must
    leave the build the toolkit's deploy leaves."""
    emulator = account.emulator
    seeded = seed_deployment(emulator, REPO, unique_name="flex-handover-seeded")
    by_toolkit, by_seed = build_of(account, first.result.build_sid), build_of(account, seeded.build_sid)
    assert served(by_seed) == served(by_toolkit) == EXPECTED_FILES
    assert (by_seed["runtime"], by_seed["dependencies"], by_seed["status"]) == (
        by_toolkit["runtime"],
        by_toolkit["dependencies"],
        by_toolkit["status"],
    )
    assert set(by_seed) == set(by_toolkit)
    assert sources(account, by_seed) == sources(account, by_toolkit)
    environment = emulator.table("serverless_environments")[seeded.environment_sid]
    assert (environment["build_sid"], environment["domain_suffix"]) == (seeded.build_sid, "dev")


# The commands on what was deployed -------------------------------------------------------------------------


def test_env_set_and_tool_register_configure_the_deployment_they_find_by_deployinfo(configured, account):
    flex, emulator = account.flex, account.emulator
    env = dotenv_values(configured.clone / ".env")
    deployed = {v["key"]: v["value"] for v in serverless.variables_of(emulator, configured.result.environment_sid)}
    assert deployed == {
        "FLEX_WORKSPACE_SID": flex.workspace_sid,
        "FLEX_WORKFLOW_SID": flex.workflow_sid,
        "HANDOVER_TOKEN": env["HANDOVER_TOKEN"],
    }
    assert {key: env[key] for key in ("FLEX_WORKSPACE_SID", "FLEX_WORKFLOW_SID")} == {
        "FLEX_WORKSPACE_SID": flex.workspace_sid,
        "FLEX_WORKFLOW_SID": flex.workflow_sid,
    }
    # The claim Maps are env set's own: the account had none.
    created_maps = [
        r.body["UniqueName"] for r in emulator.requests if r.operation == "POST /v1/Services/{ServiceSid}/Maps"
    ]
    assert sorted(created_maps) == [f"handover-claims-{shard:02d}" for shard in range(16)]
    [tool] = emulator.table("assistant_tools").values()
    assert (
        tool["meta"]["url"] == f"https://{configured.result.domain}/tools/flex-handover?token={env['HANDOVER_TOKEN']}"
    )


def test_validate_deployed_passes_on_what_the_toolkit_deployed(configured, account):
    result = invoke(configured.clone, "validate", "--deployed")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Using account {account.emulator.account.sid} (auth token, from .env (ACCOUNT_SID, AUTH_TOKEN)).",
        f"Using service {configured.result.service_sid} (found by .twiliodeployinfo "
        f"({account.emulator.account.sid}:us1)).",
        f"Using environment {configured.result.environment_sid} at https://{configured.result.domain}.",
        "All functions and assets are valid and deployed as they are.",
    ]


def test_doctor_passes_every_check_of_the_direct_path(configured, account):
    result = invoke(configured.clone, "doctor", "--assistant-id", account.assistant_id)
    assert result.exit_code == 0, result.output
    verdicts = [line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert verdicts == [
        *(
            f"PASS  {name}"
            for name in (
                "credentials",
                "flex",
                "local configuration",
                "workspace and workflow",
                "task channel",
                "generated files",
                "deployment",
                "deployed functions",
                "deployed variables",
                "sync claim maps",
                "hand-back events",
                "assistant tool",
            )
        ),
        # The Studio and TAC paths are not set up here, nor the Flex plugin released: not checked, and said so.
        *(
            f"WARN  {name}"
            for name in (
                "flex plugin",
                "studio flow",
                "studio flow routing",
                "tac bridge",
                "tac voice on hangup",
                "tac captured traffic",
                "tac summaries",
                "tac addresses",
            )
        ),
    ]
    assert (
        f"PASS  deployment: service {configured.result.service_sid} (found by .twiliodeployinfo "
        f"({account.emulator.account.sid}:us1)); environment {configured.result.environment_sid} at "
        f"https://{configured.result.domain}"
    ) in result.stdout.splitlines()


# A second deploy -------------------------------------------------------------------------------------------


def test_a_second_deploy_makes_a_new_build_of_the_same_service_and_keeps_the_variables(second, configured, account):
    emulator = account.emulator
    before = {v["key"]: v["value"] for v in serverless.variables_of(emulator, second.result.environment_sid)}
    assert (second.result.service_sid, second.result.environment_sid) == (
        configured.result.service_sid,
        configured.result.environment_sid,
    )
    assert second.result.build_sid != configured.result.build_sid
    environment = emulator.table("serverless_environments")[second.result.environment_sid]
    assert environment["build_sid"] == second.result.build_sid
    assert_deployed_as_intended(account, second)
    # .env now holds what env set wrote; uploading it again changes nothing, and the credentials stay home.
    requests = second.requests(account)
    assert [r for r in requests if "/Variables" in r.path and r.method == "POST"] == []
    assert set(before) == {"FLEX_WORKSPACE_SID", "FLEX_WORKFLOW_SID", "HANDOVER_TOKEN"}
    # The resources are reused; only new versions were uploaded.
    operations = [r.operation for r in requests if r.method == "POST"]
    assert "POST /v1/Services" not in operations
    assert "POST /v1/Services/{ServiceSid}/Functions" not in operations
    info = json.loads((second.clone / ".twiliodeployinfo").read_text(encoding="utf-8"))
    assert info[f"{emulator.account.sid}:us1"]["latestBuild"] == second.result.build_sid
    assert invoke(second.clone, "validate", "--deployed").exit_code == 0


# Broken changes the deploy test catches ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "renamed_from", "renamed_to", "not_served", "named"),
    [
        (
            "private-asset-made-public",
            "assets/tools/handoff.private.js",
            "assets/tools/handoff.js",
            ("asset", "/tools/handoff.js", "private"),
            "assets/tools/handoff.js: would be deployed public at /tools/handoff.js; it must be private: "
            "name it assets/tools/handoff.private.js",
        ),
        (
            "function-no-longer-deployed",
            "functions/tools/studio-handover.js",
            "functions/tools/studio-handover.mjs",
            ("function", "/tools/studio-handover", "public"),
            "functions/tools/studio-handover.js: is missing: `twilio serverless:deploy` would not serve the function "
            "/tools/studio-handover",
        ),
    ],
)
def test_a_broken_change_deployed_by_the_toolkit_is_caught(
    tmp_path_factory, account, shell, change, renamed_from, renamed_to, not_served, named
):
    clone = renamed(clone_of(tmp_path_factory, account, change), f"flex-handover-{change}")
    (clone / renamed_from).rename(clone / renamed_to)
    broken = deployed_by_toolkit(account, clone)

    with pytest.raises(AssertionError, match=re.escape(f"missing [{not_served!r}]")):
        assert_deployed_as_intended(account, broken)
    result = invoke(clone, "validate", "--deployed")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [named]


def test_a_function_whose_path_the_toolkit_refuses_fails_the_deploy_before_any_write(tmp_path_factory, account):
    clone = renamed(clone_of(tmp_path_factory, account, "bad-path"), "flex-handover-bad-path")
    shutil.copy2(clone / "functions/tools/flex-handover.js", clone / "functions/tools/flex-handover(v2).js")
    before = len(account.emulator.requests)

    with pytest.raises(deploy.DeployFailed, match=r"Path cannot contain any of the following characters") as failed:
        deploy.deploy(clone, account.proxy, REPO)
    assert account.emulator.requests[before:] == []
    assert account.emulator.account.auth_token not in str(failed.value)
    assert not (clone / ".twiliodeployinfo").exists()


# The runner's own failures ---------------------------------------------------------------------------------


def test_without_twilio_run_the_deploy_says_what_to_install(tmp_path, account):
    with pytest.raises(deploy.DeployFailed) as failed:
        deploy.deploy(tmp_path, account.proxy, tmp_path)
    assert str(failed.value) == f"twilio-run is not installed in {tmp_path}: run `make install` (npm ci) first."


def test_a_deploy_that_does_not_finish_in_time_fails(tmp_path_factory, account, monkeypatch):
    clone = renamed(clone_of(tmp_path_factory, account, "slow"), "flex-handover-slow")
    monkeypatch.setattr(deploy, "DEPLOY_TIMEOUT", 0.01)
    with pytest.raises(deploy.DeployFailed) as failed:
        deploy.deploy(clone, account.proxy, REPO)
    assert str(failed.value) == "twilio-run deploy did not finish within 0.01 s"


def test_a_deploy_that_prints_no_deployment_fails(tmp_path, account, monkeypatch):
    printed = subprocess.CompletedProcess([], 0, stdout="Deployed!\n", stderr="")
    monkeypatch.setattr(deploy.subprocess, "run", lambda *args, **kwargs: printed)
    with pytest.raises(deploy.DeployFailed) as failed:
        deploy.deploy(tmp_path, account.proxy, REPO)
    assert str(failed.value) == "twilio-run deploy printed no deployment: 'Deployed!'"
