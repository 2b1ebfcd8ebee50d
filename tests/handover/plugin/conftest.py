"""Fixtures of the plugin's build and deploy: a fixture plugin of the tests' own (the kit's plugin-ai-handover/ is
built by its own tests), and an emulated Flex account of its own per module, emptied before each test, so that a
deploy's requests compare exactly whatever ran before."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.handover.conftest import point_at
from twilio_emulator import Emulator, EmulatorProxy, new_account, seed_flex_account, spec_directory
from twilio_emulator.products.serverless import set_build_seconds

REPO = Path(__file__).resolve().parents[3]
FIXTURE_PLUGIN = Path(__file__).with_name("fixture_plugin")
FIXTURE_NAME = "plugin-fixture"


@pytest.fixture
def plugin_dir(tmp_path) -> Path:
    """A copy of the fixture plugin, not built."""
    copy = tmp_path / FIXTURE_NAME
    shutil.copytree(FIXTURE_PLUGIN, copy)
    return copy


def build_fixture(folder: Path, text: str = "the panel", version: str | None = None) -> None:
    """What the fixture's `npm run build` writes, without running npm (the build's own tests run it)."""
    if version is not None:
        package_file = folder / "package.json"
        package = json.loads(package_file.read_text(encoding="utf-8"))
        package_file.write_text(json.dumps({**package, "version": version}, indent=2), encoding="utf-8")
    (folder / "build").mkdir(exist_ok=True)
    (folder / "build" / f"{FIXTURE_NAME}.js").write_text(f"Twilio.Flex.Plugins.init({text!r});\n".replace("'", '"'))
    (folder / "build" / f"{FIXTURE_NAME}.js.map").write_text('{"version":3,"sources":["index.js"]}')


@pytest.fixture
def built_plugin(plugin_dir) -> Path:
    build_fixture(plugin_dir)
    return plugin_dir


@pytest.fixture(scope="module")
def plugin_account():
    emulator = Emulator(spec_directory(REPO), new_account())
    with EmulatorProxy(emulator) as proxy:
        yield emulator, proxy


@pytest.fixture
def flex(plugin_account, monkeypatch) -> Emulator:
    """A new Flex account (builds complete at once), this process pointed at it with its credentials; a test fails
    on any spec violation or unserved operation."""
    emulator, proxy = plugin_account
    emulator.reset()
    seed_flex_account(emulator)
    set_build_seconds(emulator, 0)
    emulator.clear_traffic()
    point_at(proxy, monkeypatch)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", emulator.account.sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", emulator.account.auth_token)
    yield emulator
    assert [str(v) for v in emulator.violations] == [], "requests broke Twilio's OpenAPI description"
    assert [str(u) for u in emulator.unserved] == [], "requests asked for operations the emulator does not serve"


@pytest.fixture
def client(flex):
    from handover.account import credentials

    return credentials.client(credentials.load(REPO))
