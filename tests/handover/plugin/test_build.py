"""`handover plugin build`'s package (handover.plugin.build, .bundle): the plugin's own npm scripts run in its folder,
and every way it cannot be built said with what to do."""

from __future__ import annotations

import hashlib
import json

import pytest

from handover.errors import InputError
from handover.plugin import build, bundle
from tests.handover.plugin.conftest import FIXTURE_NAME


def test_a_build_installs_when_needed_then_runs_the_plugins_build_script(plugin_dir):
    package = bundle.read_package(plugin_dir)
    assert (package.name, package.version) == (FIXTURE_NAME, "0.1.0")
    assert build.needs_install(plugin_dir)
    result = build.build(package)
    assert result.steps == ["npm ci", "npm run build"]
    content = (plugin_dir / "build" / f"{FIXTURE_NAME}.js").read_bytes()
    assert content == b'Twilio.Flex.Plugins.init("the panel");\n'
    assert (result.sha256, result.size) == (hashlib.sha256(content).hexdigest(), len(content))
    assert result.as_json()["bundle"] == {"path": str(package.bundle_path), "sha256": result.sha256, "bytes": 39}


def test_no_install_when_node_modules_is_newer_than_the_lock_file(plugin_dir):
    (plugin_dir / "node_modules").mkdir()
    (plugin_dir / "node_modules" / ".package-lock.json").write_text("{}")
    assert not build.needs_install(plugin_dir)
    assert build.build(bundle.read_package(plugin_dir)).steps == ["npm run build"]


def test_a_failing_build_says_which_step_and_its_status(plugin_dir, monkeypatch):
    monkeypatch.setenv("FIXTURE_BUILD_FAILS", "1")
    with pytest.raises(build.BuildFailed, match=r"^`npm run build` in .* exited with status 3 \(its output is above\)"):
        build.build(bundle.read_package(plugin_dir), install=False)


def test_a_build_script_that_writes_no_bundle_is_a_failed_build(plugin_dir):
    package_file = plugin_dir / "package.json"
    package_file.write_text(json.dumps({"name": FIXTURE_NAME, "version": "0.1.0", "scripts": {"build": "node -e 0"}}))
    with pytest.raises(build.BuildFailed, match=r"succeeded but left no bundle at .*build/plugin-fixture\.js"):
        build.build(bundle.read_package(plugin_dir), install=False)


def test_no_node_or_npm_on_path_is_a_usage_error_before_anything_runs(plugin_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(build.ToolMissing, match=r"node is not on PATH: building the Flex plugin needs Node\.js 20"):
        build.build(bundle.read_package(plugin_dir))
    assert not (plugin_dir / "build").exists()


def test_an_install_without_a_lock_file_is_refused(plugin_dir):
    (plugin_dir / "package-lock.json").unlink()
    with pytest.raises(InputError, match=r"has no package-lock\.json, which `npm ci` installs from"):
        build.build(bundle.read_package(plugin_dir))


def test_a_package_without_a_build_script_is_refused(plugin_dir):
    (plugin_dir / "package.json").write_text(json.dumps({"name": FIXTURE_NAME, "version": "0.1.0"}))
    with pytest.raises(InputError, match="has no `build` script"):
        build.build(bundle.read_package(plugin_dir))


@pytest.mark.parametrize(
    "content, expected",
    [
        (None, "has no package.json: it is not a Flex plugin's folder"),
        ("{not json", "is not valid JSON"),
        ("[]", "is not a JSON object"),
        ('{"name": "plugin-fixture"}', "has no version: the plugin is deployed by its name and version"),
        ('{"version": "0.1.0"}', "has no name"),
    ],
)
def test_a_folder_that_is_no_plugin_is_a_usage_error(plugin_dir, content, expected):
    package_file = plugin_dir / "package.json"
    if content is None:
        package_file.unlink()
    else:
        package_file.write_text(content)
    with pytest.raises(bundle.PluginFolderError, match=expected):
        bundle.read_package(plugin_dir)


def test_a_missing_folder_names_the_option(tmp_path):
    with pytest.raises(bundle.PluginFolderError, match=r"No plugin folder at .*\. Pass --plugin-dir"):
        bundle.read_package(bundle.plugin_folder(tmp_path, None))
    assert bundle.plugin_folder(tmp_path, None) == tmp_path / "plugin-ai-handover"
