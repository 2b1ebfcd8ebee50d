"""Twilio's load limits in the emulator (twilio_emulator.limits), driven through `Emulator.handle` without sockets."""

from __future__ import annotations

import base64
import json
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from twilio_emulator import (
    Emulator,
    Fault,
    Limits,
    add_sync_map,
    default_sync_service,
    limits,
    new_account,
    spec_directory,
    sync_map_items,
)

SPEC_DIR = spec_directory(Path(__file__).resolve().parents[2])
SYNC = "sync.twilio.com"
MAPS = "/v1/Services/default/Maps"
CLAIMS = "handover-claims"
ITEM_CREATE = "POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items"
TOO_MANY_REQUESTS = "Too Many Requests: the account has as many requests in flight as Twilio serves at once"


def error_body(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def rate_limited(what: str, sid: str, burst: int) -> dict:
    return error_body(429, 54009, f"Rate limit exceeded: {what} {sid} over 20 per second, its burst of {burst} used up")


class Sync:
    """Sync requests as the Twilio SDK sends them, handed straight
    to `Emulator.handle`; each returns the answer's status."""

    def __init__(self, emulator: Emulator):
        self.emulator = emulator
        account = emulator.account
        self.authorization = "Basic " + base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()

    def request(self, method: str, path: str, data: dict | None = None) -> int:
        headers = {"authorization": self.authorization}
        if data is not None:
            headers["content-type"] = "application/x-www-form-urlencoded"
        return self.emulator.handle(method, SYNC, path, headers, urlencode(data or {}).encode())[0]

    def create_map(self, unique_name: str) -> int:
        return self.request("POST", MAPS, {"UniqueName": unique_name})

    def create_item(self, map_key: str, key: str) -> int:
        return self.request("POST", f"{MAPS}/{map_key}/Items", {"Key": key, "Data": json.dumps({"claimed_by": "flex"})})

    def fetch_map(self, map_key: str) -> int:
        return self.request("GET", f"{MAPS}/{map_key}")

    def item_writes(self, map_key: str, count: int, first: int = 0) -> list[int]:
        return [self.create_item(map_key, f"CH{number}") for number in range(first, first + count)]


@pytest.fixture
def real_clock(monkeypatch) -> SimpleNamespace:
    """The monotonic clock the buckets read, made up and standing still unless a test moves `now`."""
    made_up = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(limits, "time", SimpleNamespace(monotonic=lambda: made_up.now))
    return made_up


@pytest.fixture
def emulator(real_clock) -> Emulator:
    """An emulator with Twilio's limits, as every emulator has by default; a test fails on any spec violation."""
    created = Emulator(SPEC_DIR, new_account())
    yield created
    assert [str(v) for v in created.violations] == [], "a 429 of a limit is an answer, not a violation"


@pytest.fixture
def sync(emulator) -> Sync:
    return Sync(emulator)


@pytest.fixture
def claims(emulator) -> dict:
    """The claims Map, seeded (which counts against no limit)."""
    return add_sync_map(emulator, CLAIMS)


# The limits ------------------------------------------------------------------------------------------------


def test_the_defaults_are_twilios_documented_limits_and_on_by_default(emulator):
    assert Limits() == Limits(
        sync_object_reads_per_second=20.0,
        sync_object_writes_per_second=20.0,
        sync_burst_window_seconds=10.0,
        sync_creations_per_second=20.0,
        account_concurrency=100,
        time_scale=1.0,
    )
    assert emulator.limits == Limits()


def test_scaled_is_a_copy_with_another_time_scale():
    twilio = Limits()
    assert twilio.scaled(10.0) == Limits(time_scale=10.0)
    assert twilio.time_scale == 1.0


@pytest.mark.parametrize(
    "setting", ["sync_object_writes_per_second", "sync_burst_window_seconds", "account_concurrency", "time_scale"]
)
def test_a_limit_must_be_above_zero(setting):
    with pytest.raises(ValueError, match=f"{setting} must be above 0, not 0"):
        Limits(**{setting: 0})


# Writes and reads of one Map ---------------------------------------------------------------------------------


def test_200_writes_to_a_map_pass_and_the_201st_is_429_54009_and_recorded(sync, emulator, claims):
    assert sync.item_writes(CLAIMS, 200) == [201] * 200
    assert sync.create_item(CLAIMS, "CH200") == 429
    refused = emulator.requests[-1]
    assert (refused.operation, refused.status, refused.response) == (
        ITEM_CREATE,
        429,
        rate_limited("writes to Sync object", claims["sid"], 200),
    )
    assert "CH200" not in sync_map_items(emulator, CLAIMS)  # the handler never ran


def test_after_a_second_exactly_20_more_writes_pass_since_a_refusal_takes_no_token(sync, emulator, claims):
    sync.item_writes(CLAIMS, 200)
    assert sync.item_writes(CLAIMS, 5, first=200) == [429] * 5
    emulator.advance(1)
    assert sync.item_writes(CLAIMS, 21, first=300) == [201] * 20 + [429]


def test_every_write_to_a_map_or_its_items_counts_against_the_map_by_name_or_sid(sync, emulator, claims):
    """Creates, updates and deletes of Items under any key, and the Map's own update, share one bucket."""
    assert sync.item_writes(CLAIMS, 98) == [201] * 98
    assert sync.item_writes(claims["sid"], 98, first=98) == [201] * 98
    assert sync.request("POST", f"{MAPS}/{CLAIMS}/Items/CH1", {"Data": json.dumps({"claimed_by": "assistant"})}) == 200
    assert sync.request("DELETE", f"{MAPS}/{claims['sid']}/Items/CH2") == 204
    assert sync.request("POST", f"{MAPS}/{CLAIMS}", {"CollectionTtl": 3600}) == 200
    assert sync.request("POST", f"{MAPS}/{claims['sid']}/Items/no-such-key", {"Data": "{}"}) == 404  # the Map exists
    assert sync.create_item(claims["sid"], "CH1000") == 429
    assert sync.request("DELETE", f"{MAPS}/{CLAIMS}") == 429


def test_two_maps_have_separate_buckets(sync, emulator, claims):
    other = add_sync_map(emulator, "other-claims")
    sync.item_writes(CLAIMS, 200)
    assert sync.create_item(CLAIMS, "CH200") == 429
    assert sync.item_writes(other["sid"], 201) == [201] * 200 + [429]
    assert emulator.requests[-1].response == rate_limited("writes to Sync object", other["sid"], 200)


def test_reads_have_their_own_bucket(sync, emulator, claims):
    sync.item_writes(CLAIMS, 200)
    assert sync.create_item(CLAIMS, "CH200") == 429
    reads = (
        lambda: sync.fetch_map(CLAIMS),
        lambda: sync.request("GET", f"{MAPS}/{claims['sid']}/Items"),
        lambda: sync.request("GET", f"{MAPS}/{CLAIMS}/Items/CH1"),
    )
    assert [reads[number % 3]() for number in range(200)] == [200] * 200
    assert sync.fetch_map(claims["sid"]) == 429
    assert emulator.requests[-1].response == rate_limited("reads of Sync object", claims["sid"], 200)
    emulator.advance(1)
    assert sync.item_writes(CLAIMS, 21, first=200) == [201] * 20 + [429]  # reads took nothing from the writes


def test_a_map_that_does_not_exist_takes_nothing(sync, emulator):
    unknown_service = "/v1/Services/IS" + "0" * 32 + f"/Maps/{CLAIMS}/Items"
    for _ in range(100):
        assert sync.create_item(CLAIMS, "CH1") == 404
        assert sync.fetch_map("MP" + "0" * 32) == 404
        assert sync.request("POST", unknown_service, {"Key": "CH1", "Data": "{}"}) == 404
    add_sync_map(emulator, CLAIMS)
    assert sync.item_writes(CLAIMS, 201) == [201] * 200 + [429]


# New Maps in a service ------------------------------------------------------------------------------------


def test_new_maps_count_against_their_service_at_20_per_second_with_no_burst(sync, emulator):
    """A creation refused for a taken unique name (409) counts too; ten quiet seconds still allow only 20."""
    assert [sync.create_map(f"claims-{number}") for number in range(19)] == [201] * 19
    assert sync.create_map("claims-0") == 409
    assert sync.create_map("claims-19") == 429
    assert emulator.requests[-1].response == rate_limited(
        "new objects in Sync service", default_sync_service(emulator)["sid"], 20
    )
    assert len(emulator.table("sync_maps")) == 19
    emulator.advance(10)
    assert [sync.create_map(f"claims-{number}") for number in range(19, 40)] == [201] * 20 + [429]


def test_creations_take_nothing_from_the_maps_they_create(sync, emulator):
    assert sync.create_map(CLAIMS) == 201
    assert sync.item_writes(CLAIMS, 201) == [201] * 200 + [429]


# Time --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("time_scale", "refilled"), [(1.0, 20), (10.0, 2), (0.5, 40)])
def test_time_scale_stretches_the_refill_in_real_time_and_advance_moves_twilio_time(
    sync, emulator, real_clock, time_scale, refilled
):
    emulator.set_limits(Limits().scaled(time_scale))
    add_sync_map(emulator, CLAIMS)
    assert sync.item_writes(CLAIMS, 201) == [201] * 200 + [429]  # the burst is the same
    real_clock.now += 1.0
    assert sync.item_writes(CLAIMS, refilled + 1, first=1000) == [201] * refilled + [429]
    emulator.advance(1)
    assert sync.item_writes(CLAIMS, 21, first=2000) == [201] * 20 + [429]


def test_set_limits_and_reset_refill_every_bucket(sync, emulator, claims):
    sync.item_writes(CLAIMS, 200)
    assert sync.create_item(CLAIMS, "CH200") == 429
    emulator.set_limits(Limits(sync_object_writes_per_second=1.0))
    assert emulator.limits == Limits(sync_object_writes_per_second=1.0)
    assert sync.item_writes(CLAIMS, 11, first=200) == [201] * 10 + [429]
    emulator.reset()
    assert emulator.limits == Limits(sync_object_writes_per_second=1.0)  # reset keeps the limits
    add_sync_map(emulator, CLAIMS)
    assert sync.item_writes(CLAIMS, 11) == [201] * 10 + [429]


# Concurrency -------------------------------------------------------------------------------------------------


@contextmanager
def requests_held_in_flight(emulator: Emulator, count: int, monkeypatch):
    """`count` requests held in the emulator's latency until the block ends.

    Yields their `statuses` (filled in once they are answered) and the `waits` begun, theirs and any later request's.
    """
    release = threading.Event()
    held = SimpleNamespace(statuses=[], waits=[])

    def wait(seconds: float) -> None:
        held.waits.append(seconds)
        release.wait(timeout=10)

    monkeypatch.setattr(emulator.clock, "wait", wait)
    emulator.latency = 60.0
    sync = Sync(emulator)
    threads = [
        threading.Thread(target=lambda: held.statuses.append(sync.request("GET", "/v1/Services/default")))
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while emulator.in_flight < count and time.monotonic() < deadline:
        time.sleep(0.005)
    try:
        assert emulator.in_flight == count
        yield held
    finally:
        emulator.latency = 0.0
        release.set()
        for thread in threads:
            thread.join(timeout=10)


def test_the_101st_concurrent_request_is_429_20429_at_once_without_handler_or_fault(sync, emulator, monkeypatch):
    fault = emulator.inject(Fault("POST", "/Maps", status=503))
    with requests_held_in_flight(emulator, 100, monkeypatch) as held:
        assert sync.create_map(CLAIMS) == 429
        refused = emulator.requests[-1]
        assert (refused.operation, refused.status, refused.response) == (
            "POST /v1/Services/{ServiceSid}/Maps",
            429,
            error_body(429, 20429, TOO_MANY_REQUESTS),
        )
        assert len(held.waits) == 100  # refused at once, not held for the latency
        assert emulator.in_flight == 100  # and never counted
    assert held.statuses == [200] * 100
    assert emulator.in_flight == 0
    assert emulator.table("sync_maps") == {} and fault.times == 1  # no Map created, the fault still waiting
    assert sync.create_map(CLAIMS) == 503


def test_limits_none_turns_every_limit_off(sync, emulator, monkeypatch):
    emulator.set_limits(None)
    assert emulator.limits is None
    assert [sync.create_map(f"claims-{number}") for number in range(30)] == [201] * 30
    assert sync.item_writes("claims-0", 250) == [201] * 250
    assert [sync.fetch_map("claims-0") for _ in range(250)] == [200] * 250
    with requests_held_in_flight(emulator, 100, monkeypatch) as held:
        emulator.latency = 0.0  # the 101st is not held
        assert sync.fetch_map("claims-0") == 200
        assert emulator.in_flight == 100  # still counted, never refused
    assert held.statuses == [200] * 100
    assert emulator.in_flight == 0


def test_an_emulator_made_without_limits_has_none(real_clock):
    unlimited = Emulator(SPEC_DIR, new_account(), limits=None)
    add_sync_map(unlimited, CLAIMS)
    assert unlimited.limits is None
    assert Sync(unlimited).item_writes(CLAIMS, 201) == [201] * 201


# Faults ----------------------------------------------------------------------------------------------------


def test_faults_fire_with_limits_on(sync, emulator, claims):
    fault = emulator.inject(Fault("POST", "/Items", status=503, times=2))
    assert sync.item_writes(CLAIMS, 3) == [503, 503, 201]
    assert fault.times == 0


@pytest.mark.parametrize("after", [False, True], ids=["before-the-handler", "after-the-handler"])
def test_a_limit_comes_before_faults_a_refused_request_uses_none_and_a_struck_one_its_token(
    sync, emulator, claims, after
):
    sync.item_writes(CLAIMS, 200)
    fault = emulator.inject(Fault("POST", "/Items", status=503, after=after))
    assert sync.create_item(CLAIMS, "CH200") == 429
    assert fault.times == 1 and emulator.requests[-1].withheld is None
    emulator.advance(1)
    assert sync.item_writes(CLAIMS, 21, first=300) == [503] + [201] * 19 + [429]
    assert fault.times == 0
