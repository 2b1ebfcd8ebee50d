"""Fixtures of the command's tests."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import pytest

from handover import contract
from handover.local.stack import seed_deployment
from twilio_emulator import DeployedService, default_sync_service

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's functions, assets and .twilioserverlessrc, with the real node_modules linked in."""
    copy = tmp_path / "project"
    copy.mkdir()
    for directory in ("functions", "assets"):
        shutil.copytree(REPO / directory, copy / directory)
    shutil.copy2(REPO / ".twilioserverlessrc", copy / ".twilioserverlessrc")
    (copy / "node_modules").symlink_to(REPO / "node_modules", target_is_directory=True)
    return copy


# Settings of the surrounding environment that would compete with the ones under test: how a client reaches
# Twilio (the emulator's tests clear these), and the credentials the commands would otherwise pick up.
FOREIGN_PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "CURL_CA_BUNDLE",
    "TWILIO_EDGE",
    "TWILIO_REGION",
)
FOREIGN_VARIABLES = (
    *FOREIGN_PROXY_VARIABLES,
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
)
_service_names = itertools.count(1)


def point_at(proxy, patch: pytest.MonkeyPatch) -> None:
    """This process's way to Twilio: the emulator's proxy only, and no credentials from the surrounding shell."""
    for name in FOREIGN_VARIABLES:
        patch.delenv(name, raising=False)
    for name, value in proxy.client_environment().items():
        patch.setenv(name, value)


@pytest.fixture
def account_env(twilio, emulator, monkeypatch):
    """This process pointed at the emulator as a user's shell would be: the proxy, and the account's credentials."""
    point_at(twilio.proxy, monkeypatch)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", emulator.account.sid)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", emulator.account.auth_token)
    return twilio


API_KEY_SECRET = "api-key-secret-that-must-never-be-printed"


@pytest.fixture
def api_key(twilio, account_env, monkeypatch) -> str:
    """Credentials as an API key of the account (secret API_KEY_SECRET)
    instead of the auth token; revoked after the test."""
    key = "SK" + "5" * 32
    twilio.emulator.account.api_keys[key] = API_KEY_SECRET
    monkeypatch.delenv("TWILIO_AUTH_TOKEN")
    monkeypatch.setenv("TWILIO_API_KEY", key)
    monkeypatch.setenv("TWILIO_API_SECRET", API_KEY_SECRET)
    yield key
    del twilio.emulator.account.api_keys[key]


@pytest.fixture
def deployed(twilio, project) -> DeployedService:
    """The project copy deployed to a new service (a name of its own) with a dev environment."""
    return seed_deployment(twilio.emulator, project, unique_name=f"flex-handover-{next(_service_names)}")


def writes(emulator) -> list[tuple[str, str, object]]:
    """(method, path, decoded body) of every request that would change the account."""
    return [(r.method, r.path, r.body) for r in emulator.requests if r.method != "GET"]


# A Sync service of the tests' own, for the claim Maps of `env set` and `doctor` ---------------------------


def add_sync_service(emulator) -> str:
    """A Sync service of the account beside its default one, shaped as the default one, with no Maps; its SID."""
    with emulator.lock:
        default = default_sync_service(emulator)
        sid = emulator.new_sid("IS")
        emulator.table("sync_services")[sid] = {
            **default,
            "sid": sid,
            "unique_name": None,
            "friendly_name": "Handover tests",
            "url": default["url"].replace(default["sid"], sid),
            "links": {name: link.replace(default["sid"], sid) for name, link in default["links"].items()},
        }
    return sid


def remove_sync_service(emulator, sid: str) -> None:
    with emulator.lock:
        for map_sid in [m["sid"] for m in emulator.table("sync_maps").values() if m["service_sid"] == sid]:
            del emulator.table("sync_maps")[map_sid]
            emulator.table("sync_map_items").pop(map_sid, None)
        del emulator.table("sync_services")[sid]


def add_maps(emulator, service_sid: str, names) -> None:
    """Maps of these unique names in the service, shaped as the default service's claim Maps (made before the tests)."""
    with emulator.lock:
        template = next(m for m in emulator.table("sync_maps").values() if m["unique_name"] == contract.CLAIM_MAPS[0])
        for name in names:
            sid = emulator.new_sid("MP")
            url = f"https://sync.twilio.com/v1/Services/{service_sid}/Maps/{sid}"
            emulator.table("sync_maps")[sid] = {
                **template,
                "sid": sid,
                "unique_name": name,
                "service_sid": service_sid,
                "url": url,
                "links": {"items": f"{url}/Items", "permissions": f"{url}/Permissions"},
            }
            emulator.table("sync_map_items")[sid] = {}


@pytest.fixture
def sync_service(emulator):
    """A Sync service with no Maps yet, gone again (with its Maps) after the test."""
    sid = add_sync_service(emulator)
    yield sid
    remove_sync_service(emulator, sid)
