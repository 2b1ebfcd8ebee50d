"""The emulated Serverless API, through the real proxy with the real twilio Python SDK."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handover.emulator import DeployedService, seed_deployed_service, set_variable
from handover.emulator.products import serverless
from handover.project import DeployedFile

PROJECT_DIR = Path(__file__).resolve().parents[3]
FLEX_HANDOVER_SOURCE = (PROJECT_DIR / "functions/tools/flex-handover.js").read_text(encoding="utf-8")
NOW = "2026-01-02T03:04:05Z"
SERVICES = "https://serverless.twilio.com/v1/Services"
UNKNOWN = {
    "service": "ZS" + "0" * 32,
    "environment": "ZE" + "0" * 32,
    "variable": "ZV" + "0" * 32,
    "build": "ZB" + "0" * 32,
}


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    """Every date the Serverless emulation writes is NOW, so that answers compare exactly."""
    monkeypatch.setattr(serverless, "now_iso", lambda: NOW)


@pytest.fixture
def deployed(emulator) -> DeployedService:
    return seed_deployed_service(emulator, PROJECT_DIR)


def last_answer(emulator) -> tuple[int, object]:
    recorded = emulator.requests[-1]
    return recorded.status, recorded.response


def expected_variable(account, deployed: DeployedService, sid: str, key: str, value: str) -> dict:
    return {
        "sid": sid,
        "account_sid": account.sid,
        "service_sid": deployed.service_sid,
        "environment_sid": deployed.environment_sid,
        "key": key,
        "value": value,
        "date_created": NOW,
        "date_updated": NOW,
        "url": f"{SERVICES}/{deployed.service_sid}/Environments/{deployed.environment_sid}/Variables/{sid}",
    }


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")


# Services ---------------------------------------------------------------------------------------------


def test_a_deployed_service_is_listed_and_fetched_by_sid_or_unique_name(twilio, emulator, deployed, account):
    sid, url = deployed.service_sid, f"{SERVICES}/{deployed.service_sid}"
    domain_base = deployed.domain_name.removesuffix("-dev.twil.io")
    assert re.fullmatch(r"flex-handover-\d{4}", domain_base)
    expected = {
        "sid": sid,
        "account_sid": account.sid,
        "friendly_name": "flex-handover",
        "unique_name": "flex-handover",
        "include_credentials": True,
        "ui_editable": False,
        "domain_base": domain_base,
        "date_created": NOW,
        "date_updated": NOW,
        "url": url,
        "links": {
            "environments": f"{url}/Environments",
            "functions": f"{url}/Functions",
            "assets": f"{url}/Assets",
            "builds": f"{url}/Builds",
        },
    }

    (listed,) = twilio.serverless.v1.services.list()
    assert (listed.sid, listed.unique_name, listed.domain_base) == (sid, "flex-handover", domain_base)
    status, answer = last_answer(emulator)
    assert (status, answer["services"], answer["meta"]["key"]) == (200, [expected], "services")

    for key in (sid, "flex-handover"):
        service = twilio.serverless.v1.services(key).fetch()
        assert last_answer(emulator) == (200, expected)
        assert service.sid == sid
        assert service.date_created == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert emulator.calls(operation="GET /v1/Services/{Sid}")[-1].path == "/v1/Services/flex-handover"


@pytest.mark.parametrize("key", [UNKNOWN["service"], "no-such-service"])
def test_an_unknown_service_is_404(twilio, emulator, refused, deployed, key):
    for request in (twilio.serverless.v1.services(key).fetch, twilio.serverless.v1.services(key).environments.list):
        assert refused(request)[:2] == (404, 20404)


# Environments -------------------------------------------------------------------------------------------


def test_the_dev_environment_is_listed_and_fetched(twilio, emulator, deployed, account):
    url = f"{SERVICES}/{deployed.service_sid}/Environments/{deployed.environment_sid}"
    expected = {
        "sid": deployed.environment_sid,
        "account_sid": account.sid,
        "service_sid": deployed.service_sid,
        "build_sid": deployed.build_sid,
        "unique_name": "dev-environment",
        "domain_suffix": "dev",
        "domain_name": deployed.domain_name,
        "custom_domain_name": None,
        "date_created": NOW,
        "date_updated": NOW,
        "url": url,
        "links": {"variables": f"{url}/Variables", "deployments": f"{url}/Deployments", "logs": f"{url}/Logs"},
    }
    service = twilio.serverless.v1.services(deployed.service_sid)

    (listed,) = service.environments.list()
    assert (listed.sid, listed.domain_suffix) == (deployed.environment_sid, "dev")
    status, answer = last_answer(emulator)
    assert (status, answer["environments"], answer["meta"]["key"]) == (200, [expected], "environments")

    environment = service.environments(deployed.environment_sid).fetch()
    assert last_answer(emulator) == (200, expected)
    assert (environment.domain_name, environment.build_sid) == (deployed.domain_name, deployed.build_sid)
    # The service may be named by its unique name here too.
    assert (
        twilio.serverless.v1.services("flex-handover").environments(deployed.environment_sid).fetch().sid
        == deployed.environment_sid
    )


def test_an_environment_of_another_service_is_404(twilio, emulator, refused, deployed):
    other = serverless.add_service(emulator, "other-service")
    other_environment = serverless.add_environment(emulator, other["sid"], "stage")
    assert other_environment["domain_name"] == f"{other['domain_base']}-stage.twil.io"
    assert other_environment["unique_name"] == "stage-environment"

    assert [e.sid for e in twilio.serverless.v1.services(other["sid"]).environments.list()] == [
        other_environment["sid"]
    ]
    for service_sid, environment_sid in [
        (other["sid"], deployed.environment_sid),
        (deployed.service_sid, UNKNOWN["environment"]),
    ]:
        target = f"/v1/Services/{service_sid}/Environments/{environment_sid}"
        assert refused(twilio.serverless.v1.services(service_sid).environments(environment_sid).fetch) == (
            404,
            20404,
            f"The requested resource {target} was not found",
        )


# Variables ------------------------------------------------------------------------------------------------


def test_a_variable_is_created_listed_fetched_and_updated(twilio, emulator, deployed, account):
    variables = twilio.serverless.v1.services(deployed.service_sid).environments(deployed.environment_sid).variables

    created = variables.create(key="FLEX_WORKFLOW_SID", value="WW" + "1" * 32)
    assert re.fullmatch(r"ZV[0-9a-f]{32}", created.sid)
    expected = expected_variable(account, deployed, created.sid, "FLEX_WORKFLOW_SID", "WW" + "1" * 32)
    assert last_answer(emulator) == (201, expected)
    assert emulator.requests[-1].body == {"Key": "FLEX_WORKFLOW_SID", "Value": "WW" + "1" * 32}

    assert [v.key for v in variables.list()] == ["FLEX_WORKFLOW_SID"]
    status, answer = last_answer(emulator)
    assert (status, answer["variables"], answer["meta"]["key"]) == (200, [expected], "variables")
    assert variables(created.sid).fetch().value == "WW" + "1" * 32
    assert last_answer(emulator) == (200, expected)

    updated = variables(created.sid).update(value="WW" + "2" * 32)  # only the value: the key stays
    assert (updated.key, updated.value) == ("FLEX_WORKFLOW_SID", "WW" + "2" * 32)
    assert last_answer(emulator) == (200, {**expected, "value": "WW" + "2" * 32})
    renamed = variables(created.sid).update(key="HANDOVER_WORKFLOW_SID")  # only the key: the value stays
    assert (renamed.key, renamed.value) == ("HANDOVER_WORKFLOW_SID", "WW" + "2" * 32)
    assert variables(created.sid).fetch().key == "HANDOVER_WORKFLOW_SID"


def test_a_key_already_in_the_environment_is_a_409_conflict(twilio, emulator, refused, deployed):
    taken = set_variable(
        emulator, deployed.service_sid, deployed.environment_sid, "FLEX_WORKSPACE_SID", "WS" + "1" * 32
    )
    variables = twilio.serverless.v1.services(deployed.service_sid).environments(deployed.environment_sid).variables

    message = f"A Variable with key 'FLEX_WORKSPACE_SID' already exists in environment {deployed.environment_sid}"
    assert refused(lambda: variables.create(key="FLEX_WORKSPACE_SID", value="WS" + "2" * 32)) == (409, 20409, message)
    assert [(v.key, v.value) for v in variables.list()] == [("FLEX_WORKSPACE_SID", "WS" + "1" * 32)]

    other = variables.create(key="FLEX_WORKFLOW_SID", value="WW" + "1" * 32)
    assert refused(lambda: variables(other.sid).update(key="FLEX_WORKSPACE_SID")) == (409, 20409, message)
    assert variables(other.sid).fetch().key == "FLEX_WORKFLOW_SID"
    assert variables(taken["sid"]).update(key="FLEX_WORKSPACE_SID").sid == taken["sid"]  # its own key is not taken


def test_the_same_key_in_another_environment_is_no_conflict(twilio, emulator, deployed):
    production = serverless.add_environment(emulator, deployed.service_sid, "prod")
    service = twilio.serverless.v1.services(deployed.service_sid)
    service.environments(deployed.environment_sid).variables.create(key="MODE", value="dev")
    assert service.environments(production["sid"]).variables.create(key="MODE", value="prod").value == "prod"
    assert [v.value for v in service.environments(production["sid"]).variables.list()] == ["prod"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("K" * 129, "v", "Key must be at most 128 characters long, got 129"),
        ("KEY", "v" * 451, "Value must be at most 450 bytes, got 451"),
        ("KEY", "é" * 226, "Value must be at most 450 bytes, got 452"),  # 226 characters, but 452 bytes
    ],
    ids=["key-129-characters", "value-451-bytes", "value-452-utf8-bytes"],
)
def test_a_key_or_value_over_the_documented_limits_is_400(twilio, emulator, refused, deployed, key, value, message):
    variables = twilio.serverless.v1.services(deployed.service_sid).environments(deployed.environment_sid).variables
    assert refused(lambda: variables.create(key=key, value=value)) == (400, 20001, message)
    assert variables.list() == []

    existing = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "EXISTING", "before")
    assert refused(lambda: variables(existing["sid"]).update(key=key, value=value)) == (400, 20001, message)
    assert (variables(existing["sid"]).fetch().key, variables(existing["sid"]).fetch().value) == ("EXISTING", "before")


def test_a_key_and_value_at_the_limits_are_accepted(twilio, emulator, deployed):
    variables = twilio.serverless.v1.services(deployed.service_sid).environments(deployed.environment_sid).variables
    created = variables.create(key="K" * 128, value="é" * 225)  # 450 bytes
    assert (created.key, created.value) == ("K" * 128, "é" * 225)


def test_a_variable_of_another_environment_is_404(twilio, emulator, refused, deployed):
    production = serverless.add_environment(emulator, deployed.service_sid, "prod")
    variable = set_variable(emulator, deployed.service_sid, production["sid"], "MODE", "prod")
    elsewhere = (
        twilio.serverless.v1.services(deployed.service_sid)
        .environments(deployed.environment_sid)
        .variables(variable["sid"])
    )
    for request in (elsewhere.fetch, lambda: elsewhere.update(value="changed")):
        assert refused(request)[:2] == (404, 20404)
    unknown = (
        twilio.serverless.v1.services(deployed.service_sid)
        .environments(deployed.environment_sid)
        .variables(UNKNOWN["variable"])
    )
    assert refused(unknown.fetch)[:2] == (404, 20404)
    unknown_environment = twilio.serverless.v1.services(deployed.service_sid).environments(UNKNOWN["environment"])
    assert refused(unknown_environment.variables.list)[:2] == (404, 20404)
    assert emulator.table("serverless_variables")[variable["sid"]]["value"] == "prod"


def test_set_variable_creates_then_changes_the_value(emulator, deployed, account):
    created = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "MODE", "dev")
    assert created == expected_variable(account, deployed, created["sid"], "MODE", "dev")
    changed = set_variable(emulator, deployed.service_sid, deployed.environment_sid, "MODE", "test")
    assert changed is created and changed["value"] == "test"
    assert list(emulator.table("serverless_variables")) == [created["sid"]]


def test_an_api_key_reaches_the_variables(twilio_with_api_key, emulator, deployed, account):
    variables = (
        twilio_with_api_key.serverless.v1.services(deployed.service_sid)
        .environments(deployed.environment_sid)
        .variables
    )
    assert variables.create(key="MODE", value="dev").key == "MODE"
    assert [v.key for v in variables.list()] == ["MODE"]
    assert {r.auth_user for r in emulator.requests} == set(account.api_keys)


# Builds and versions --------------------------------------------------------------------------------------------


def test_the_build_lists_the_project_as_deployed(twilio, emulator, deployed, account):
    build = twilio.serverless.v1.services(deployed.service_sid).builds(deployed.build_sid).fetch()
    function_versions = sorted(emulator.table("serverless_function_versions").values(), key=lambda v: v["path"])
    asset_versions = sorted(emulator.table("serverless_asset_versions").values(), key=lambda v: v["path"])
    url = f"{SERVICES}/{deployed.service_sid}/Builds/{deployed.build_sid}"
    common = {"account_sid": account.sid, "service_sid": deployed.service_sid, "date_created": NOW}
    dependencies = json.loads((PROJECT_DIR / "package.json").read_text())["dependencies"]
    assert last_answer(emulator) == (
        200,
        {
            "sid": deployed.build_sid,
            "account_sid": account.sid,
            "service_sid": deployed.service_sid,
            "status": "completed",
            "asset_versions": [
                {
                    **common,
                    "sid": version["sid"],
                    "asset_sid": version["asset_sid"],
                    "path": path,
                    "visibility": "PRIVATE",
                }
                for version, path in zip(
                    asset_versions, ["/tools/contract.js", "/tools/handoff.js", "/tools/handover.js"], strict=True
                )
            ],
            "function_versions": [
                {
                    **common,
                    "sid": version["sid"],
                    "function_sid": version["function_sid"],
                    "path": path,
                    "visibility": "PUBLIC",
                }
                for version, path in zip(
                    function_versions, ["/tools/flex-handover", "/tools/studio-handover"], strict=True
                )
            ],
            "dependencies": [{"name": name, "version": version} for name, version in dependencies.items()],
            "runtime": "node22",
            "date_created": NOW,
            "date_updated": NOW,
            "url": url,
            "links": {"build_status": f"{url}/Status"},
        },
    )
    assert (build.status, build.runtime) == ("completed", "node22")
    assert sorted(v["path"] for v in build.function_versions) == ["/tools/flex-handover", "/tools/studio-handover"]
    assert {"name": "@twilio/runtime-handler", "version": dependencies["@twilio/runtime-handler"]} in build.dependencies


def test_an_unknown_build_or_one_of_another_service_is_404(twilio, emulator, refused, deployed):
    other = serverless.add_service(emulator, "other-service")
    for service_sid, build_sid in [(other["sid"], deployed.build_sid), (deployed.service_sid, UNKNOWN["build"])]:
        assert refused(twilio.serverless.v1.services(service_sid).builds(build_sid).fetch)[:2] == (404, 20404)


def flex_handover_version(emulator) -> dict:
    (version,) = [
        v for v in emulator.table("serverless_function_versions").values() if v["path"] == "/tools/flex-handover"
    ]
    return version


def test_a_function_version_and_its_content(twilio, emulator, deployed, account):
    version = flex_handover_version(emulator)
    function_sid = version["function_sid"]
    url = f"{SERVICES}/{deployed.service_sid}/Functions/{function_sid}/Versions/{version['sid']}"
    versions = twilio.serverless.v1.services(deployed.service_sid).functions(function_sid).function_versions

    fetched = versions(version["sid"]).fetch()
    common = {
        "sid": version["sid"],
        "account_sid": account.sid,
        "service_sid": deployed.service_sid,
        "function_sid": function_sid,
    }
    assert last_answer(emulator) == (
        200,
        {
            **common,
            "path": "/tools/flex-handover",
            "visibility": "public",
            "date_created": NOW,
            "url": url,
            "links": {"function_version_content": f"{url}/Content"},
        },
    )
    assert (fetched.path, fetched.visibility) == ("/tools/flex-handover", "public")

    content = versions(version["sid"]).function_version_content().fetch()
    assert last_answer(emulator) == (200, {**common, "content": FLEX_HANDOVER_SOURCE, "url": f"{url}/Content"})
    assert content.content == FLEX_HANDOVER_SOURCE


def test_a_function_version_under_the_wrong_parents_is_404(twilio, emulator, refused, deployed):
    version = flex_handover_version(emulator)
    asset = next(iter(emulator.table("serverless_assets").values()))
    other = serverless.add_service(emulator, "other-service")
    for service_sid, function_sid in [(other["sid"], version["function_sid"]), (deployed.service_sid, asset["sid"])]:
        versions = twilio.serverless.v1.services(service_sid).functions(function_sid).function_versions(version["sid"])
        for request in (versions.fetch, versions.function_version_content().fetch):
            assert refused(request)[:2] == (404, 20404)


# Deploying as the Serverless Toolkit does -------------------------------------------------------------------------


def test_files_deploy_with_the_toolkits_paths_and_visibility(twilio, emulator, tmp_path):
    write(
        tmp_path,
        {
            "functions/tools/flex-handover.js": "exports.handler = () => {};",
            "functions/admin/report.protected.js": "// protected",
            "functions/internal/helper.private.js": "// private",
            "functions/my function.js": "// spaces become dashes",
            "functions/notes.md": "not a function: only .js files are",
            "assets/tools/handover.private.js": "// a private asset keeps its extension",
            "assets/styles/site.protected.css": "body {}",
            "assets/index.html": "<html></html>",
            "assets/.DS_Store": "skipped by the Toolkit",
        },
    )
    deployed = seed_deployed_service(emulator, tmp_path, unique_name="toolkit-paths")

    build = twilio.serverless.v1.services("toolkit-paths").builds(deployed.build_sid).fetch()
    assert sorted((v["path"], v["visibility"]) for v in build.function_versions) == [
        ("/admin/report", "PROTECTED"),
        ("/internal/helper", "PRIVATE"),
        ("/my-function", "PUBLIC"),
        ("/tools/flex-handover", "PUBLIC"),
    ]
    assert sorted((v["path"], v["visibility"]) for v in build.asset_versions) == [
        ("/index.html", "PUBLIC"),
        ("/styles/site.css", "PROTECTED"),
        ("/tools/handover.js", "PRIVATE"),
    ]
    assert build.dependencies == []  # no package.json
    assert deployed.domain_name.startswith("toolkit-paths-") and deployed.domain_name.endswith("-dev.twil.io")
    contents = {c["content"] for c in emulator.table("serverless_asset_version_contents").values()}
    assert contents == {"// a private asset keeps its extension", "body {}", "<html></html>"}


def test_a_new_deploy_reuses_the_function_of_the_same_path(twilio, emulator, deployed, tmp_path):
    first = flex_handover_version(emulator)
    (tmp_path / "v2.js").write_text("// v2")
    second_version = DeployedFile("function", "/tools/flex-handover", "public", tmp_path / "v2.js")
    build = serverless.deploy_build(emulator, deployed.service_sid, deployed.environment_sid, [second_version])
    service = twilio.serverless.v1.services(deployed.service_sid)

    assert service.environments(deployed.environment_sid).fetch().build_sid == build["sid"]
    (second,) = service.builds(build["sid"]).fetch().function_versions
    assert (second["function_sid"], second["path"]) == (first["function_sid"], "/tools/flex-handover")
    assert second["sid"] != first["sid"]
    versions = service.functions(first["function_sid"]).function_versions
    assert versions(second["sid"]).function_version_content().fetch().content == "// v2"
    assert versions(first["sid"]).function_version_content().fetch().content == FLEX_HANDOVER_SOURCE
    assert len(emulator.table("serverless_functions")) == 2  # flex-handover and studio-handover, each once
