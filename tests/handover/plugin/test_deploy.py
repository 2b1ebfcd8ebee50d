"""`handover plugin deploy`'s package (handover.plugin.deploy) against the emulator: the exact requests of a first
deploy, nothing written by a second one or a dry run, version conflicts refused before any write, a failure
half-way reported with what was applied, and a deploy resuming from it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess

import pytest

from handover.plugin import bundle, deploy
from tests.handover.conftest import FOREIGN_VARIABLES
from tests.handover.plugin.conftest import FIXTURE_NAME, REPO, build_fixture
from twilio_emulator import Fault
from twilio_emulator.products import flex_plugins
from twilio_emulator.products.serverless import add_environment, add_service, deploy_build

PLUGINS = "/v1/PluginService"
API_CLIENT_DRIVER = REPO / "tests/twilio_emulator/flex_plugins_client.js"


def built(folder):
    return bundle.read_bundle(bundle.read_package(folder))


def writes(emulator) -> list[tuple[str, str, str]]:
    return [(r.method, r.host, r.path) for r in emulator.requests if r.method != "GET"]


def sid_of(emulator, operation: str) -> str:
    return emulator.calls(operation=operation)[-1].response["sid"]


def test_a_first_deploy_hosts_the_bundle_as_the_tooling_does_then_releases_it(flex, client, built_plugin):
    plugin_build = built(built_plugin)
    result = deploy.deploy(client, plugin_build)

    service = sid_of(flex, "POST /v1/Services")
    environment = sid_of(flex, "POST /v1/Services/{ServiceSid}/Environments")
    bundle_asset, map_asset = [r.response["sid"] for r in flex.calls(operation="POST /v1/Services/{ServiceSid}/Assets")]
    build = sid_of(flex, "POST /v1/Services/{ServiceSid}/Builds")
    plugin = sid_of(flex, f"POST {PLUGINS}/Plugins")
    assert writes(flex) == [
        ("POST", "serverless.twilio.com", "/v1/Services"),
        ("POST", "serverless.twilio.com", f"/v1/Services/{service}/Environments"),
        ("POST", "serverless.twilio.com", f"/v1/Services/{service}/Assets"),
        ("POST", "serverless-upload.twilio.com", f"/v1/Services/{service}/Assets/{bundle_asset}/Versions"),
        ("POST", "serverless.twilio.com", f"/v1/Services/{service}/Assets"),
        ("POST", "serverless-upload.twilio.com", f"/v1/Services/{service}/Assets/{map_asset}/Versions"),
        ("POST", "serverless.twilio.com", f"/v1/Services/{service}/Builds"),
        ("POST", "serverless.twilio.com", f"/v1/Services/{service}/Environments/{environment}/Deployments"),
        ("POST", "flex-api.twilio.com", "/v1/Configuration"),
        ("POST", "flex-api.twilio.com", f"{PLUGINS}/Plugins"),
        ("POST", "flex-api.twilio.com", f"{PLUGINS}/Plugins/{plugin}/Versions"),
        ("POST", "flex-api.twilio.com", f"{PLUGINS}/Configurations"),
        ("POST", "flex-api.twilio.com", f"{PLUGINS}/Releases"),
    ]
    bodies = {r.operation: r.body for r in flex.requests if r.method == "POST"}
    assert bodies["POST /v1/Services"] == {"UniqueName": "default", "FriendlyName": "Flex Plugins Default Service"}
    environment_body = bodies["POST /v1/Services/{ServiceSid}/Environments"]
    assert environment_body["UniqueName"] == FIXTURE_NAME and len(environment_body["DomainSuffix"]) == 5
    uploads = flex.calls(host="serverless-upload.twilio.com")
    assert [(u.body["Path"], u.body["Visibility"], u.body["Content"]["content"]) for u in uploads] == [
        (f"/plugins/{FIXTURE_NAME}/0.1.0/bundle.js", "protected", plugin_build.content.decode()),
        (f"/plugins/{FIXTURE_NAME}/0.1.0/bundle.js.map", "protected", plugin_build.source_map.decode()),
    ]
    versions = [u.response["sid"] for u in uploads]
    # No FunctionVersions: the environment had no build, and the SDK sends no empty list.
    assert bodies["POST /v1/Services/{ServiceSid}/Builds"] == {"AssetVersions": versions, "Dependencies": "[]"}
    assert bodies["POST /v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments"] == {"BuildSid": build}
    assert bodies["POST /v1/Configuration"] == {"account_sid": flex.account.sid, "serverless_service_sids": [service]}
    assert bodies[f"POST {PLUGINS}/Plugins"] == {"UniqueName": FIXTURE_NAME, "FriendlyName": FIXTURE_NAME}
    domain = flex.table("serverless_environments")[environment]["domain_name"]
    url = f"https://{domain}/plugins/{FIXTURE_NAME}/0.1.0/bundle.js"
    sha256 = hashlib.sha256(plugin_build.content).hexdigest()
    assert bodies[f"POST {PLUGINS}/Plugins/{{PluginSid}}/Versions"] == {
        "Version": "0.1.0",
        "PluginUrl": url,
        "Private": True,
        "Changelog": f"Deployed by handover plugin deploy; bundle sha256:{sha256}",
    }
    version = sid_of(flex, f"POST {PLUGINS}/Plugins/{{PluginSid}}/Versions")
    assert bodies[f"POST {PLUGINS}/Configurations"] == {
        "Name": f"{FIXTURE_NAME}@0.1.0",
        "Plugins": [{"plugin_version": version, "phase": 3}],
        "Description": "Released by handover plugin deploy",
    }
    configuration = sid_of(flex, f"POST {PLUGINS}/Configurations")
    assert bodies[f"POST {PLUGINS}/Releases"] == {"ConfigurationId": configuration}
    assert [(p["unique_name"], p["version"], p["plugin_url"]) for p in flex_plugins.active_plugins(flex)] == [
        (FIXTURE_NAME, "0.1.0", url)
    ]
    assert (result.outcome, result.plugin_url, result.sha256, len(result.writes)) == ("deployed", url, sha256, 13)
    assert result.sids == {
        "service_sid": service,
        "environment_sid": environment,
        "plugin_sid": plugin,
        "version_sid": version,
        "configuration_sid": configuration,
        "release_sid": sid_of(flex, f"POST {PLUGINS}/Releases"),
    }


def test_the_flex_plugins_api_client_sees_the_deployed_version_active(flex, client, built_plugin, plugin_account):
    """What `handover plugin deploy` leaves, as @twilio/flex-plugins-api-client's describePlugin reads it."""
    result = deploy.deploy(client, built(built_plugin))
    environment = {k: v for k, v in os.environ.items() if k not in FOREIGN_VARIABLES}
    environment.update(
        plugin_account[1].client_environment(),
        TWILIO_ACCOUNT_SID=flex.account.sid,
        TWILIO_AUTH_TOKEN=flex.account.auth_token,
    )
    completed = subprocess.run(
        ["node", str(API_CLIENT_DRIVER)],
        input=json.dumps({"describe": FIXTURE_NAME}),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    described = json.loads(completed.stdout)
    assert "error" not in described, described.get("error")
    assert described["activeVersion"] == "0.1.0"
    [version] = described["describedPlugin"]["versions"]
    assert (version["url"], version["isPrivate"]) == (result.plugin_url, True)


def test_a_second_deploy_of_the_same_build_writes_nothing(flex, client, built_plugin):
    first = deploy.deploy(client, built(built_plugin))
    flex.clear_traffic()
    again = deploy.deploy(client, built(built_plugin))
    assert writes(flex) == []
    assert (again.outcome, again.writes, again.plugin_url) == ("unchanged", [], first.plugin_url)
    assert again.sids == first.sids


BASE_URL = "https://flex-handover-1234-dev.twil.io"


def test_the_kits_functions_domain_goes_into_ui_attributes_beside_the_ones_there(flex, client, built_plugin):
    configuration = flex.table("flex_configurations")[flex.account.sid]
    configuration["ui_attributes"] = {"theme": {"isLight": True}}
    deploy.deploy(client, built(built_plugin), handover_base_url=BASE_URL)
    service = sid_of(flex, "POST /v1/Services")
    [update] = flex.calls(operation="POST /v1/Configuration")
    assert update.body == {
        "account_sid": flex.account.sid,
        "serverless_service_sids": [service],
        "ui_attributes": {"theme": {"isLight": True}, "handoverBaseUrl": BASE_URL},
    }
    flex.clear_traffic()
    assert deploy.deploy(client, built(built_plugin), handover_base_url=BASE_URL).writes == []
    moved = "https://flex-handover-5678-dev.twil.io"
    result = deploy.deploy(client, built(built_plugin), handover_base_url=moved)
    assert [w.step for w in result.writes] == ["flex configuration"]
    [update] = flex.calls(operation="POST /v1/Configuration")
    assert update.body == {
        "account_sid": flex.account.sid,
        "ui_attributes": {"theme": {"isLight": True}, "handoverBaseUrl": moved},
    }


def test_without_the_kits_deployment_ui_attributes_are_left_alone(flex, client, built_plugin):
    flex.table("flex_configurations")[flex.account.sid]["ui_attributes"] = {"theme": {"isLight": True}}
    deploy.deploy(client, built(built_plugin))
    [update] = flex.calls(operation="POST /v1/Configuration")
    assert "ui_attributes" not in update.body
    assert flex.table("flex_configurations")[flex.account.sid]["ui_attributes"] == {"theme": {"isLight": True}}


def test_a_dry_run_reads_and_writes_nothing_and_lists_every_write(flex, client, built_plugin):
    result = deploy.deploy(client, built(built_plugin), dry_run=True)
    assert writes(flex) == []
    assert [(w.step, w.method) for w in result.writes] == [
        ("service", "POST"),
        ("environment", "POST"),
        ("asset", "POST"),
        ("upload", "POST"),
        ("asset", "POST"),
        ("upload", "POST"),
        ("build", "POST"),
        ("deployment", "POST"),
        ("flex configuration", "POST"),
        ("plugin", "POST"),
        ("version", "POST"),
        ("configuration", "POST"),
        ("release", "POST"),
    ]
    assert result.writes[3].url == "https://serverless-upload.twilio.com/v1/Services/(new)/Assets/(new)/Versions"
    assert result.writes[3].body["Content"].endswith("bytes, application/javascript")
    assert result.plugin_url is None and (result.as_json()["dry_run"], result.outcome) == (True, "to deploy")
    # After a real deploy, a dry run of the same build has nothing to write either.
    deploy.deploy(client, built(built_plugin))
    flex.clear_traffic()
    assert deploy.deploy(client, built(built_plugin), dry_run=True).writes == []
    assert writes(flex) == []


def test_a_new_version_reuses_the_service_keeps_the_others_files_and_plugins_and_replaces_ours(
    flex, client, built_plugin
):
    """The environment's other files stay in the build; the active release's other plugins stay released."""
    deploy.deploy(client, built(built_plugin))
    other = flex_plugins.add_plugin(flex, "plugin-theirs")
    theirs = client.flex_api.v1.plugins(other["sid"]).plugin_versions.create(
        resource_version="2.0.0", plugin_url="https://example.twil.io/theirs.js"
    )
    ours = flex_plugins.active_plugins(flex)[0]["plugin_version_sid"]
    configuration = client.flex_api.v1.plugin_configurations.create(
        name="theirs and ours", plugins=[{"plugin_version": theirs.sid, "phase": 2}, {"plugin_version": ours}]
    )
    client.flex_api.v1.plugin_releases.create(configuration_id=configuration.sid)
    build_fixture(built_plugin, "the panel, better", version="0.2.0")
    flex.clear_traffic()

    result = deploy.deploy(client, built(built_plugin))
    steps = [w.step for w in result.writes]
    assert steps == ["asset", "upload", "asset", "upload", "build", "deployment", "version", "configuration", "release"]
    build = flex.calls(operation="POST /v1/Services/{ServiceSid}/Builds")[0].body
    assert len(build["AssetVersions"]) == 4  # 0.1.0's bundle and map, and 0.2.0's
    created = flex.calls(operation=f"POST {PLUGINS}/Configurations")[0].body
    assert created["Plugins"] == [
        {"plugin_version": theirs.sid, "phase": 2},
        {"plugin_version": result.sids["version_sid"], "phase": 3},
    ]
    assert sorted((p["unique_name"], p["version"]) for p in flex_plugins.active_plugins(flex)) == [
        (FIXTURE_NAME, "0.2.0"),
        ("plugin-theirs", "2.0.0"),
    ]


def test_the_same_version_with_another_bundle_is_refused_before_any_write(flex, client, built_plugin):
    deploy.deploy(client, built(built_plugin))
    build_fixture(built_plugin, "something else")
    flex.clear_traffic()
    with pytest.raises(deploy.VersionConflict) as refused:
        deploy.deploy(client, built(built_plugin))
    message = str(refused.value)
    assert f"{FIXTURE_NAME} 0.1.0 is already deployed" in message
    assert "raise `version` in" in message and message.endswith("Nothing was written.")
    assert writes(flex) == []


def test_a_version_below_the_latest_is_refused_before_any_write(flex, client, built_plugin):
    build_fixture(built_plugin, version="0.3.0")
    deploy.deploy(client, built(built_plugin))
    build_fixture(built_plugin, "older", version="0.2.9")
    flex.clear_traffic()
    with pytest.raises(deploy.VersionConflict, match=r"0\.2\.9 is below its latest deployed version, 0\.3\.0"):
        deploy.deploy(client, built(built_plugin))
    assert writes(flex) == []


def test_a_version_that_is_not_semver_is_refused(flex, client, built_plugin):
    flex_plugins.add_plugin(flex, FIXTURE_NAME)
    build_fixture(built_plugin, version="1.0")
    with pytest.raises(deploy.VersionConflict, match="not a semantic version"):
        deploy.deploy(client, built(built_plugin))
    assert writes(flex) == []


def test_an_archived_plugin_is_refused(flex, client, built_plugin):
    plugin = flex_plugins.add_plugin(flex, FIXTURE_NAME)
    plugin["archived"] = True
    with pytest.raises(deploy.VersionConflict, match="is archived"):
        deploy.deploy(client, built(built_plugin))
    assert writes(flex) == []


def test_a_failure_half_way_says_what_was_applied_and_a_rerun_finishes(flex, client, built_plugin):
    flex.inject(Fault("POST", f"{PLUGINS}/Plugins", status=500))
    with pytest.raises(deploy.DeployFailed) as failed:
        deploy.deploy(client, built(built_plugin))
    message = str(failed.value)
    assert message.startswith(
        "Plugin (POST https://flex-api.twilio.com/v1/PluginService/Plugins) failed: HTTP 500, Twilio error 20500"
    )
    applied = failed.value.result.applied
    assert [w.step for w in applied] == [
        "service",
        "environment",
        "asset",
        "upload",
        "asset",
        "upload",
        "build",
        "deployment",
        "flex configuration",
    ]
    assert all(str(w) in message for w in applied)
    assert message.endswith("Run `handover plugin deploy` again: it writes only what is still missing.")
    assert flex_plugins.active_plugins(flex) == []

    flex.clear_traffic()
    resumed = deploy.deploy(client, built(built_plugin))
    assert [w.step for w in resumed.writes] == [
        "asset",
        "upload",
        "asset",
        "upload",
        "build",
        "deployment",
        "plugin",
        "version",
        "configuration",
        "release",
    ]
    assert [p["unique_name"] for p in flex_plugins.active_plugins(flex)] == [FIXTURE_NAME]


def test_a_failed_serverless_build_stops_the_deploy_and_says_so(flex, client, built_plugin):
    from twilio_emulator.products.serverless import fail_next_build

    fail_next_build(flex)
    with pytest.raises(deploy.DeployFailed, match=r"Serverless build ZB\w+ of the bundle ended failed") as failed:
        deploy.deploy(client, built(built_plugin), poll_seconds=0)
    assert [w.step for w in failed.value.result.applied][-1] == "build"
    assert writes(flex)[-1][2].endswith("/Builds")


def test_an_existing_default_service_environment_and_build_are_reused(flex, client, built_plugin):
    service = add_service(flex, "default", "Flex Plugins Default Service")
    environment = add_environment(flex, service["sid"], "abcde", unique_name=FIXTURE_NAME)
    flex.table("flex_configurations")[flex.account.sid]["serverless_service_sids"] = [service["sid"]]

    class File:
        kind, path, visibility, content = "asset", "/plugins/plugin-other/1.0.0/bundle.js", "protected", "x"

    earlier = deploy_build(flex, service["sid"], environment["sid"], [File()])
    result = deploy.deploy(client, built(built_plugin))
    assert [w.step for w in result.writes][0] == "asset"
    assert "service" not in {w.step for w in result.writes} and "flex configuration" not in {
        w.step for w in result.writes
    }
    build = flex.calls(operation="POST /v1/Services/{ServiceSid}/Builds")[0].body
    assert build["AssetVersions"][0] == earlier["asset_versions"][0]["sid"]
    assert result.plugin_url == f"https://{environment['domain_name']}/plugins/{FIXTURE_NAME}/0.1.0/bundle.js"


def test_an_account_without_flex_is_refused_before_any_write(flex, client, built_plugin):
    del flex.table("flex_configurations")[flex.account.sid]
    with pytest.raises(deploy.NoFlex, match=r"has no Flex instance .* Nothing was written\."):
        deploy.deploy(client, built(built_plugin))
    assert writes(flex) == []


def test_no_build_is_a_clear_error():
    package = bundle.PluginPackage(bundle.Path("/nonexistent/plugin-fixture"), FIXTURE_NAME, "0.1.0", {})
    with pytest.raises(bundle.NotBuilt, match=r"Run `handover plugin build` first .* Nothing was written\."):
        bundle.read_bundle(package)
