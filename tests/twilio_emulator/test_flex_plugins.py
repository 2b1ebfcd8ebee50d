"""The emulated Flex Plugins API: through the real proxy with the real twilio Python SDK, and with a client nobody
here wrote, @twilio/flex-plugins-api-client's toolkit (as the Flex Plugins CLI deploys and releases)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from twilio.base.exceptions import TwilioRestException

from tests.handover.conftest import FOREIGN_VARIABLES
from twilio_emulator import seed_flex_account
from twilio_emulator.products import flex_plugins
from twilio_emulator.products.serverless import add_service

REPO = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("flex_plugins_client.js")
NAME = "plugin-ai-handover"
BUNDLES = "https://default-1234-abcde.twil.io/plugins/plugin-ai-handover"
NODE_TIMEOUT_SECONDS = 60


def bundle(version: str) -> str:
    return f"{BUNDLES}/{version}/bundle.js"


def refused(call) -> tuple[int, int, str]:
    """Twilio's status, code and message (without the SDK's "Unable to create record: ") of a refused request."""
    with pytest.raises(TwilioRestException) as raised:
        call()
    return raised.value.status, raised.value.code, re.sub(r"^Unable to \w+ record: ", "", raised.value.msg)


@pytest.fixture
def plugins(twilio):
    return twilio.flex_api.v1


def deployed(plugins, versions=("1.0.0",), name=NAME):
    plugin = plugins.plugins.create(unique_name=name, friendly_name="AI handover")
    made = [
        plugins.plugins(plugin.sid).plugin_versions.create(resource_version=v, plugin_url=bundle(v)) for v in versions
    ]
    return plugin, made


# The real client --------------------------------------------------------------------------------------------


def test_the_flex_plugins_api_client_deploys_configures_releases_and_lists_through_the_emulator(
    emulator, proxied, account
):
    """Its toolkit's deploy (upsert the plugin, create a version), createConfiguration from the active release,
    release, and its list and describe scripts: every request described, every answer the toolkit reads right."""
    environment = {k: v for k, v in os.environ.items() if k not in FOREIGN_VARIABLES}
    environment.update(
        proxied.client_environment(), TWILIO_ACCOUNT_SID=account.sid, TWILIO_AUTH_TOKEN=account.auth_token
    )
    request = {"name": NAME, "url": BUNDLES, "versions": ["0.1.0", "0.2.0"], "changelog": "The AI's handoff"}
    completed = subprocess.run(
        ["node", str(DRIVER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        env=environment,
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    steps = json.loads(completed.stdout)
    assert "error" not in steps, steps.get("error")

    first, second = steps["deployed"]
    assert (first["version"], second["version"]) == ("0.1.0", "0.2.0")
    assert first["pluginSid"] == second["pluginSid"] and second["url"] == bundle("0.2.0") and second["isPrivate"]
    # The configuration the toolkit built from the (empty) active release holds the version it was given.
    [configured] = steps["configuration"]["plugins"]
    assert (configured["pluginVersionSid"], configured["version"], configured["phase"]) == (
        second["pluginVersionSid"],
        "0.2.0",
        3,
    )
    release = steps["describedRelease"]
    assert release["isActive"] and release["configurationSid"] == steps["configuration"]["sid"]
    assert [p["name"] for p in release["configuration"]["plugins"]] == [NAME]
    # Lists: newest first, as the toolkit's `latest` and `active` read them.
    assert [v["version"] for v in steps["versions"]["plugin_versions"]] == ["0.2.0", "0.1.0"]
    assert [v["isActive"] for v in steps["versions"]["plugin_versions"]] == [True, False]
    assert steps["describedVersion"]["version"] == "0.2.0" and steps["describedVersion"]["isActive"]
    assert [p["name"] for p in steps["plugins"]["plugins"]] == [NAME]
    assert steps["releases"]["releases"][0]["sid"] == steps["release"]["releaseSid"]
    # A version is immutable: the same version again is refused, and the toolkit reports Twilio's error.
    assert steps["redeploy"]["refused"]
    assert (steps["redeploy"]["error"]["status"], steps["redeploy"]["error"]["code"]) == (409, 20409)

    writes = [(r.method, r.path) for r in emulator.requests if r.method == "POST"]
    plugin_sid = first["pluginSid"]
    assert writes == [
        ("POST", "/v1/PluginService/Plugins"),
        ("POST", f"/v1/PluginService/Plugins/{plugin_sid}/Versions"),
        ("POST", f"/v1/PluginService/Plugins/{NAME}"),  # the upsert's update of an existing plugin
        ("POST", f"/v1/PluginService/Plugins/{plugin_sid}/Versions"),
        ("POST", "/v1/PluginService/Configurations"),
        ("POST", "/v1/PluginService/Releases"),
        ("POST", f"/v1/PluginService/Plugins/{plugin_sid}/Versions"),  # the refused redeploy
    ]
    created = emulator.calls(method="POST", operation="POST /v1/PluginService/Configurations")[0]
    assert created.body["Plugins"] == [{"plugin_version": second["pluginVersionSid"], "phase": 3}]


# Plugins ------------------------------------------------------------------------------------------------------


def test_a_plugin_is_fetched_by_sid_or_unique_name_and_its_unique_name_is_unique(plugins, emulator):
    plugin = plugins.plugins.create(unique_name=NAME, friendly_name="AI handover", description="From the AI")
    assert (plugin.unique_name, plugin.friendly_name, plugin.description, plugin.archived) == (
        NAME,
        "AI handover",
        "From the AI",
        False,
    )
    assert plugins.plugins(NAME).fetch().sid == plugins.plugins(plugin.sid).fetch().sid == plugin.sid
    assert (
        plugin.links["plugin_versions"] == f"https://flex-api.twilio.com/v1/PluginService/Plugins/{plugin.sid}/Versions"
    )
    assert refused(lambda: plugins.plugins.create(unique_name=NAME)) == (
        409,
        20409,
        f"A Flex Plugin with UniqueName {NAME!r} already exists",
    )
    assert refused(lambda: plugins.plugins("unknown-plugin").fetch())[:2] == (404, 20404)


def test_a_plugin_description_is_at_most_500_characters(plugins, emulator):
    status, code, message = refused(lambda: plugins.plugins.create(unique_name=NAME, description="x" * 501))
    assert (status, code) == (400, 20001) and "at most 500" in message
    assert emulator.table("flex_plugins") == {}


def test_a_plugin_update_changes_what_it_gives(plugins, emulator):
    plugins.plugins.create(unique_name=NAME, friendly_name="Old", description="Kept")
    updated = plugins.plugins(NAME).update(friendly_name="New")
    assert (updated.friendly_name, updated.description) == ("New", "Kept")


# Versions -------------------------------------------------------------------------------------------------------


def test_versions_must_increase_by_semver_and_are_unique(plugins, emulator):
    plugin, (first,) = deployed(plugins, ("1.2.0",))
    versions = plugins.plugins(plugin.sid).plugin_versions
    assert (first.version, first.plugin_url, first.private, first.archived, first.validated) == (
        "1.2.0",
        bundle("1.2.0"),
        False,
        False,
        False,
    )
    assert refused(lambda: versions.create(resource_version="1.2.0", plugin_url=bundle("1.2.0"))) == (
        409,
        20409,
        f"Flex Plugin {NAME} already has version 1.2.0",
    )
    # 1.10.0 is greater than 1.2.0 numerically, not as text; a pre-release of 1.2.0 is lower than 1.2.0.
    versions.create(resource_version="1.10.0-beta.1", plugin_url=bundle("1.10.0-beta.1"))
    assert refused(lambda: versions.create(resource_version="1.2.0-rc.1", plugin_url=bundle("rc"))) == (
        400,
        20001,
        f"Version 1.2.0-rc.1 of Flex Plugin {NAME} must be greater than its latest, 1.10.0-beta.1",
    )
    assert refused(lambda: versions.create(resource_version="v2", plugin_url=bundle("v2"))) == (
        400,
        20001,
        "Version 'v2' is not a semantic version (MAJOR.MINOR.PATCH)",
    )
    listed = [v.version for v in versions.list()]
    assert listed == ["1.10.0-beta.1", "1.2.0"]  # newest first


def test_semver_precedence():
    ordered = ["0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0"]
    keys = [flex_plugins.semver_key(v) for v in ordered]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert flex_plugins.semver_key("1.0.0+build.5") == flex_plugins.semver_key("1.0.0")
    assert flex_plugins.semver_key("1.0") is None


def test_a_version_is_fetched_by_sid_or_version_and_keeps_what_it_was_given(plugins, emulator):
    plugin = plugins.plugins.create(unique_name=NAME)
    created = plugins.plugins(NAME).plugin_versions.create(
        resource_version="0.1.0",
        plugin_url=bundle("0.1.0"),
        changelog="First",
        private=True,
        cli_version="7.1.2",
        validate_status="success",
    )
    assert (created.private, created.validated, created.changelog) == (True, True, "First")
    by_version = plugins.plugins(NAME).plugin_versions("0.1.0").fetch()
    by_sid = plugins.plugins(plugin.sid).plugin_versions(created.sid).fetch()
    assert by_version.sid == by_sid.sid == created.sid
    assert refused(lambda: plugins.plugins(NAME).plugin_versions("9.9.9").fetch())[:2] == (404, 20404)


def test_an_archived_plugin_takes_no_version_and_an_archived_version_joins_no_configuration(plugins, emulator):
    plugin, (version,) = deployed(plugins)
    archived = plugins.plugin_version_archive(plugin.sid, version.sid).update()
    assert archived.archived
    assert refused(lambda: plugins.plugin_configurations.create(name="c", plugins=[{"plugin_version": version.sid}]))[
        :2
    ] == (400, 20001)
    assert plugins.plugin_archive(NAME).update().archived
    status, code, message = refused(
        lambda: plugins.plugins(plugin.sid).plugin_versions.create(resource_version="2.0.0", plugin_url=bundle("2.0.0"))
    )
    assert (status, code, message) == (400, 20001, f"Flex Plugin {NAME} is archived: it takes no new version")


# Configurations and releases ------------------------------------------------------------------------------------


def test_a_configuration_lists_versions_and_a_release_makes_it_active(plugins, emulator):
    plugin, (_, second) = deployed(plugins, ("1.0.0", "1.1.0"))
    other, (other_version,) = deployed(plugins, ("3.0.0",), name="plugin-other")
    assert refused(lambda: plugins.plugin_releases("Active").fetch())[:2] == (404, 20404)
    configuration = plugins.plugin_configurations.create(
        name="Kit",
        description="The kit's plugin",
        plugins=[{"plugin_version": second.sid, "phase": 3}, {"plugin_version": other_version.sid}],
    )
    configured = {p.unique_name: p for p in plugins.plugin_configurations(configuration.sid).plugins.list()}
    assert set(configured) == {NAME, "plugin-other"}
    ours = configured[NAME]
    assert (ours.plugin_sid, ours.plugin_version_sid, ours.version, ours.plugin_url, ours.phase) == (
        plugin.sid,
        second.sid,
        "1.1.0",
        bundle("1.1.0"),
        3,
    )
    fetched = plugins.plugin_configurations(configuration.sid).plugins(NAME).fetch()
    assert fetched.plugin_version_sid == second.sid
    release = plugins.plugin_releases.create(configuration_id=configuration.sid)
    assert plugins.plugin_releases("Active").fetch().sid == release.sid
    assert [p["unique_name"] for p in flex_plugins.active_plugins(emulator)] == [NAME, "plugin-other"]
    # A later release is the active one; the active configuration cannot be archived.
    later = plugins.plugin_configurations.create(name="Only ours", plugins=[{"plugin_version": second.sid}])
    newer = plugins.plugin_releases.create(configuration_id=later.sid)
    assert plugins.plugin_releases("Active").fetch().sid == newer.sid
    assert [r.sid for r in plugins.plugin_releases.list()] == [newer.sid, release.sid]
    assert refused(lambda: plugins.plugin_configuration_archive(later.sid).update())[:2] == (400, 20001)
    assert plugins.plugin_configuration_archive(configuration.sid).update().archived
    status, code, _ = refused(lambda: plugins.plugin_releases.create(configuration_id=configuration.sid))
    assert (status, code) == (400, 20001)


@pytest.mark.parametrize(
    "entries, expected",
    [
        ([{"plugin_version": "FV" + "0" * 32}], "is no Flex Plugin Version of this account"),
        ([{"phase": 3}], "is not an object naming a plugin_version"),
        ("twice", "a configuration takes one"),
        ([{"plugin_version": "mine", "phase": "first"}], "is not an integer"),
    ],
)
def test_a_configuration_names_versions_of_the_account_one_per_plugin(plugins, emulator, entries, expected):
    _, (first, second) = deployed(plugins, ("1.0.0", "1.1.0"))
    if entries == "twice":
        entries = [{"plugin_version": first.sid}, {"plugin_version": second.sid}]
    entries = [{**e, "plugin_version": first.sid} if e.get("plugin_version") == "mine" else e for e in entries]
    status, code, message = refused(lambda: plugins.plugin_configurations.create(name="c", plugins=entries))
    assert (status, code) == (400, 20001) and expected in message
    assert emulator.table("flex_plugin_configurations") == {}


def test_the_flex_configuration_registers_serverless_services(twilio, emulator, proxied):
    seed_flex_account(emulator)
    service = add_service(emulator, "default", "Flex Plugins Default Service")
    response = twilio.request(
        "POST",
        "https://flex-api.twilio.com/v1/Configuration",
        data={"account_sid": emulator.account.sid, "serverless_service_sids": [service["sid"]]},
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert twilio.flex_api.v1.configuration().fetch().serverless_service_sids == [service["sid"]]
    refused_update = twilio.request(
        "POST",
        "https://flex-api.twilio.com/v1/Configuration",
        data={"ui_version": "2.17.1"},
        headers={"Content-Type": "application/json"},
    )
    assert refused_update.status_code == 400
    assert "only serverless_service_sids and ui_attributes" in json.loads(refused_update.text)["message"]


def test_the_flex_configuration_takes_ui_attributes_whole(twilio, emulator, proxied):
    seed_flex_account(emulator)
    update = "https://flex-api.twilio.com/v1/Configuration"
    json_body = {"Content-Type": "application/json"}
    for ui_attributes in ({"a": 1, "b": {"c": 2}}, {"b": 3}):
        response = twilio.request("POST", update, data={"ui_attributes": ui_attributes}, headers=json_body)
        assert response.status_code == 200
        assert twilio.flex_api.v1.configuration().fetch().ui_attributes == ui_attributes
    refused = twilio.request("POST", update, data={"ui_attributes": ["a"]}, headers=json_body)
    assert refused.status_code == 400
    assert "ui_attributes must be a JSON object" in json.loads(refused.text)["message"]
