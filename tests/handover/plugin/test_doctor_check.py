"""doctor's "flex plugin" check (handover.doctor.check_flex_plugin): whether the active plugin release loads the
kit's plugin, and at package.json's version; each warning with `handover plugin deploy` as its fix."""

from __future__ import annotations

import shutil

import pytest

from handover import doctor
from handover.plugin import bundle, deploy
from tests.handover.plugin.conftest import FIXTURE_NAME, build_fixture
from twilio_emulator.products import flex_plugins

FIX = "handover plugin deploy"


@pytest.fixture
def project(tmp_path, built_plugin):
    """A project whose plugin-ai-handover/ is the fixture plugin (built), under the kit's folder name."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.move(built_plugin, folder / bundle.DEFAULT_FOLDER)
    return folder


def check(client, project) -> tuple[str, str, str | None]:
    setup = doctor.Setup(project, None, "dev", None, client=client, flex_workspace="WS" + "0" * 32)
    [found] = doctor.check_flex_plugin(setup)
    assert found.name == "flex plugin"
    return found.status, found.detail, found.fix


def deployed(client, project):
    return deploy.deploy(client, bundle.read_bundle(bundle.read_package(project / bundle.DEFAULT_FOLDER)))


def test_no_release_warns(flex, client, project):
    assert check(client, project) == (
        doctor.WARN,
        f"no plugin release is active: Flex loads no plugin, so agents do not see {FIXTURE_NAME}",
        FIX,
    )


def test_the_released_version_passes(flex, client, project):
    result = deployed(client, project)
    flex.clear_traffic()
    assert check(client, project) == (
        doctor.PASS,
        f"the active release {result.sids['release_sid']} loads {FIXTURE_NAME} 0.1.0",
        None,
    )
    # It only reads: the active release, then its configuration's plugins.
    assert [(r.method, r.path) for r in flex.requests] == [
        ("GET", "/v1/PluginService/Releases/Active"),
        ("GET", f"/v1/PluginService/Configurations/{result.sids['configuration_sid']}/Plugins"),
    ]


def test_a_release_without_the_plugin_warns(flex, client, project):
    deployed(client, project)
    empty = client.flex_api.v1.plugin_configurations.create(name="none")
    release = client.flex_api.v1.plugin_releases.create(configuration_id=empty.sid)
    assert check(client, project) == (
        doctor.WARN,
        f"the active release {release.sid} does not load {FIXTURE_NAME}",
        FIX,
    )


def test_an_older_release_than_package_json_warns(flex, client, project):
    result = deployed(client, project)
    build_fixture(project / bundle.DEFAULT_FOLDER, "newer", version="0.2.0")
    assert check(client, project) == (
        doctor.WARN,
        f"the active release {result.sids['release_sid']} loads {FIXTURE_NAME} 0.1.0, not 0.2.0 (package.json)",
        FIX,
    )


def test_without_the_plugin_folder_it_looks_for_the_kits_plugin_name(flex, client, tmp_path):
    plugin = flex_plugins.add_plugin(flex, bundle.DEFAULT_FOLDER)
    version = client.flex_api.v1.plugins(plugin["sid"]).plugin_versions.create(
        resource_version="1.4.0", plugin_url="https://example.twil.io/plugins/plugin-ai-handover/1.4.0/bundle.js"
    )
    configuration = client.flex_api.v1.plugin_configurations.create(
        name="kit", plugins=[{"plugin_version": version.sid}]
    )
    release = client.flex_api.v1.plugin_releases.create(configuration_id=configuration.sid)
    assert check(client, tmp_path) == (
        doctor.PASS,
        f"the active release {release.sid} loads {bundle.DEFAULT_FOLDER} 1.4.0",
        None,
    )


def test_not_checked_when_the_flex_check_failed(flex, client, project):
    setup = doctor.Setup(project, None, "dev", None, client=client)
    [found] = doctor.check_flex_plugin(setup)
    assert (found.status, found.detail) == (doctor.WARN, "not checked: the flex check failed")
    assert flex.requests == []
