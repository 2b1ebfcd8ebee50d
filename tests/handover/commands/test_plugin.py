"""`handover plugin build` and `handover plugin deploy` through click's CliRunner: data on stdout, notes on stderr,
--json, --dry-run, and exit 0, 1 or 2."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from handover import contract
from handover.cli import cli
from tests.handover.plugin import conftest as plugin_tests
from tests.handover.plugin.conftest import FIXTURE_NAME, build_fixture
from twilio_emulator.products.serverless import add_environment, add_service

# The plugin tests' fixtures (tests/handover/plugin/conftest.py), by the names these tests take them by.
plugin_account, flex = plugin_tests.plugin_account, plugin_tests.flex
plugin_dir, built_plugin = plugin_tests.plugin_dir, plugin_tests.built_plugin


@pytest.fixture
def project(tmp_path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".twilioserverlessrc").write_text("{}")
    return folder


def run(project: Path, *args: str):
    return CliRunner().invoke(cli, ["--project-dir", str(project), "plugin", *args], catch_exceptions=False)


def test_deploy_prints_what_it_wrote_then_a_second_deploy_nothing(flex, project, built_plugin):
    first = run(project, "deploy", "--plugin-dir", str(built_plugin))
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == f"{FIXTURE_NAME} 0.1.0: deployed"
    assert lines[2].startswith("  url: https://default-") and lines[2].endswith(
        f"/plugins/{FIXTURE_NAME}/0.1.0/bundle.js"
    )
    assert [line.split()[1] for line in lines[3:]] == ["POST"] * 13
    assert first.stderr.endswith("13 write(s). Flex loads the plugin at the agents' next page load.\n")
    assert "No deployment of the kit's functions was found, so Return to AI stays disabled" in first.stderr

    again = run(project, "deploy", "--plugin-dir", str(built_plugin), "--json")
    assert again.exit_code == 0, again.output
    answer = json.loads(again.stdout)
    assert (answer["outcome"], answer["writes"], answer["dry_run"]) == ("unchanged", [], False)
    assert answer["plugin_url"] == lines[2].removeprefix("  url: ")
    assert again.stderr.endswith("is already released with this bundle; nothing was written.\n")


def test_deploy_dry_run_writes_nothing(flex, project, built_plugin):
    result = run(project, "deploy", "--plugin-dir", str(built_plugin), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"{FIXTURE_NAME} 0.1.0: to deploy"
    assert "  would send: POST https://serverless.twilio.com/v1/Services " in result.stdout
    assert result.stderr.endswith("Dry run: nothing was written.\n")
    assert [r for r in flex.requests if r.method != "GET"] == []


def test_deploy_builds_a_plugin_not_built_yet_then_deploys_it(flex, project, plugin_dir):
    result = run(project, "deploy", "--plugin-dir", str(plugin_dir), "--json")
    assert result.exit_code == 0, result.output
    assert f"Building {FIXTURE_NAME} 0.1.0 first (as `handover plugin build` does)." in result.stderr
    built = (plugin_dir / "build" / f"{FIXTURE_NAME}.js").read_bytes()
    assert json.loads(result.stdout)["bundle_sha256"] == hashlib.sha256(built).hexdigest()


def test_deploy_without_a_build_and_with_no_build_exits_1_before_any_request(flex, project, plugin_dir):
    result = run(project, "deploy", "--plugin-dir", str(plugin_dir), "--no-build")
    assert result.exit_code == 1
    assert "the plugin is not built. Run `handover plugin build` first" in result.stderr
    assert flex.requests == []


def test_deploy_of_a_taken_version_exits_1_saying_to_raise_it(flex, project, built_plugin):
    assert run(project, "deploy", "--plugin-dir", str(built_plugin)).exit_code == 0
    build_fixture(built_plugin, "another build")
    result = run(project, "deploy", "--plugin-dir", str(built_plugin))
    assert result.exit_code == 1
    assert "A Flex Plugin Version never changes: raise `version` in" in result.stderr


def test_a_missing_plugin_folder_is_a_usage_error(flex, project):
    result = run(project, "deploy")
    assert result.exit_code == 2
    assert f"No plugin folder at {project / 'plugin-ai-handover'}. Pass --plugin-dir" in result.stderr
    assert flex.requests == []


def test_build_prints_the_bundle_and_json(project, plugin_dir):
    result = run(project, "build", "--plugin-dir", str(plugin_dir), "--no-install", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert (answer["plugin"], answer["version"], answer["steps"]) == (FIXTURE_NAME, "0.1.0", ["npm run build"])
    text = run(project, "build", "--plugin-dir", str(plugin_dir), "--no-install")
    assert text.stdout.startswith(f"{FIXTURE_NAME} 0.1.0: {plugin_dir / 'build' / FIXTURE_NAME}.js (39 bytes, sha256:")


def test_a_failing_build_exits_1(project, plugin_dir, monkeypatch):
    monkeypatch.setenv("FIXTURE_BUILD_FAILS", "1")
    result = run(project, "build", "--plugin-dir", str(plugin_dir), "--no-install")
    assert result.exit_code == 1
    assert "`npm run build` in" in result.stderr and "exited with status 3" in result.stderr


def test_deploy_names_the_kits_functions_domain_in_the_flex_configuration(flex, project, built_plugin):
    service = add_service(flex, "flex-handover")
    environment = add_environment(flex, service["sid"])
    result = run(project, "deploy", "--plugin-dir", str(built_plugin), "--service-sid", service["sid"])
    assert result.exit_code == 0, result.output
    assert "No deployment" not in result.stderr
    ui_attributes = flex.table("flex_configurations")[flex.account.sid]["ui_attributes"]
    assert ui_attributes == {contract.HANDOVER_BASE_URL_UI_ATTRIBUTE: f"https://{environment['domain_name']}"}
