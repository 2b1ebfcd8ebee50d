"""The emulated Sync API (the default service, Maps and Map
Items), through the real proxy with the real twilio Python SDK."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from twilio_emulator import add_sync_map, add_sync_map_item, default_sync_service, sync_map_items

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SERVICES = "https://sync.twilio.com/v1/Services"
UNKNOWN_MAP = "MP" + "0" * 32
CLAIMS = "handover-claims"
DUPLICATE_KEY = "An Item with given key already exists in the Map"


@pytest.fixture
def clock(emulator, monkeypatch):
    """The emulator's clock stands at NOW, so that dates compare exactly; `emulator.advance` still moves it."""
    offset = [0.0]
    monkeypatch.setattr(emulator, "now", lambda: NOW + timedelta(seconds=offset[0]))
    monkeypatch.setattr(emulator, "advance", lambda seconds: offset.__setitem__(0, offset[0] + seconds))
    return emulator


@pytest.fixture
def service(twilio):
    return twilio.sync.v1.services("default")


@pytest.fixture
def claims(service, clock) -> dict:
    """The claims Map, created through the API; its answer as the emulator sent it."""
    service.sync_maps.create(unique_name=CLAIMS)
    return clock.requests[-1].response


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def last_answer(emulator) -> tuple[int, object]:
    recorded = emulator.requests[-1]
    return recorded.status, recorded.response


def expected_item(account, sync_map: dict, key: str, data: dict, revision: str = "0", **dates) -> dict:
    return {
        "key": key,
        "account_sid": account.sid,
        "service_sid": sync_map["service_sid"],
        "map_sid": sync_map["sid"],
        "url": f"{sync_map['url']}/Items/{key}",
        "revision": revision,
        "data": data,
        "date_expires": None,
        "date_created": iso(NOW),
        "date_updated": iso(NOW),
        "created_by": "system",
        **dates,
    }


# Service and Maps ---------------------------------------------------------------------------------------


def test_the_default_service_answers_to_default_and_to_its_sid(twilio, clock, account):
    fetched = twilio.sync.v1.services("default").fetch()
    status, answer = last_answer(clock)
    sid = answer["sid"]
    url = f"{SERVICES}/{sid}"
    assert (status, answer) == (
        200,
        {
            "sid": sid,
            "unique_name": "default",
            "account_sid": account.sid,
            "friendly_name": "Default Service",
            "date_created": iso(NOW),
            "date_updated": iso(NOW),
            "url": url,
            "webhook_url": None,
            "webhooks_from_rest_enabled": False,
            "reachability_webhooks_enabled": False,
            "acl_enabled": False,
            "reachability_debouncing_enabled": False,
            "reachability_debouncing_window": 5000,
            "links": {name.lower(): f"{url}/{name}" for name in ("Documents", "Lists", "Maps", "Streams")},
        },
    )
    assert fetched.sid.startswith("IS") and fetched.unique_name == "default"
    assert twilio.sync.v1.services(sid).fetch().sid == sid
    assert last_answer(clock) == (200, answer)
    assert default_sync_service(clock) == answer  # created once, on first mention


def test_an_unknown_service_is_404(twilio, emulator, refused):
    assert refused(twilio.sync.v1.services("IS" + "0" * 32).sync_maps(CLAIMS).fetch)[:2] == (404, 20404)


def test_a_map_is_created_by_unique_name_and_fetched_by_name_or_sid(service, clock, account):
    created = service.sync_maps.create(unique_name=CLAIMS)
    status, answer = last_answer(clock)
    service_sid = default_sync_service(clock)["sid"]
    url = f"{SERVICES}/{service_sid}/Maps/{created.sid}"
    expected = {
        "sid": created.sid,
        "unique_name": CLAIMS,
        "account_sid": account.sid,
        "service_sid": service_sid,
        "url": url,
        "links": {"items": f"{url}/Items", "permissions": f"{url}/Permissions"},
        "revision": "0",
        "date_expires": None,
        "date_created": iso(NOW),
        "date_updated": iso(NOW),
        "created_by": "system",
    }
    assert (status, answer) == (201, expected)
    for key in (CLAIMS, created.sid):
        assert service.sync_maps(key).fetch().sid == created.sid
        assert last_answer(clock) == (200, expected)
    assert [m.sid for m in service.sync_maps.list()] == [created.sid]


def test_a_map_without_a_unique_name_is_addressed_by_its_sid(service, clock):
    created = service.sync_maps.create()
    assert last_answer(clock)[1]["unique_name"] is None
    assert service.sync_maps(created.sid).fetch().sid == created.sid


def test_a_unique_name_already_taken_is_409_54301(service, emulator, refused, claims):
    assert refused(lambda: service.sync_maps.create(unique_name=CLAIMS)) == (409, 54301, "Unique name already exists")
    assert len(service.sync_maps.list()) == 1


@pytest.mark.parametrize("map_key", [UNKNOWN_MAP, "no-such-map"])
def test_an_unknown_map_is_404(service, emulator, refused, claims, map_key):
    """Twilio documents 54200, but its live API answers a missing Map with the generic 20404."""
    sync_map = service.sync_maps(map_key)
    for request in (
        sync_map.fetch,
        sync_map.sync_map_items.list,
        lambda: sync_map.sync_map_items.create(key="CH1", data={"claimed_by": "flex"}),
        sync_map.sync_map_items("CH1").fetch,
    ):
        assert refused(request)[:2] == (404, 20404)


def test_a_deleted_map_takes_its_items_with_it(service, clock, claims):
    service.sync_maps(CLAIMS).sync_map_items.create(key="CH1", data={})
    assert service.sync_maps(CLAIMS).delete() is True
    assert sync_map_items(clock, CLAIMS) == {}
    service.sync_maps.create(unique_name=CLAIMS)  # the name is free again
    assert sync_map_items(clock, CLAIMS) == {}


# Items ----------------------------------------------------------------------------------------------------


def test_an_item_is_created_fetched_updated_and_deleted(service, clock, account, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    data = {"claimed_by": "flex", "task": {"sid": "WT" + "1" * 32}}

    created = items.create(key="CH1", data=data)
    expected = expected_item(account, claims, "CH1", data)
    assert last_answer(clock) == (201, expected)
    assert (created.key, created.data, created.revision) == ("CH1", data, "0")

    assert items("CH1").fetch().data == data
    assert last_answer(clock) == (200, expected)
    assert service.sync_maps(claims["sid"]).sync_map_items("CH1").fetch().key == "CH1"  # the Map by SID too

    clock.advance(30)
    updated = items("CH1").update(data={"claimed_by": "assistant"})
    expected = expected_item(
        account, claims, "CH1", {"claimed_by": "assistant"}, "1", date_updated=iso(NOW + timedelta(seconds=30))
    )
    assert last_answer(clock) == (200, expected)  # data is replaced whole, not merged
    assert updated.revision == "1"
    assert sync_map_items(clock, CLAIMS) == {"CH1": expected}

    assert items("CH1").delete() is True
    assert last_answer(clock) == (204, None)
    assert sync_map_items(clock, CLAIMS) == {}


def test_a_key_already_in_the_map_is_409_54208(service, emulator, refused, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    items.create(key="CH1", data={"claimed_by": "flex"})
    assert refused(lambda: items.create(key="CH1", data={"claimed_by": "assistant"})) == (409, 54208, DUPLICATE_KEY)
    assert sync_map_items(emulator, CLAIMS)["CH1"]["data"] == {"claimed_by": "flex"}  # the first claim stands


def test_the_sdk_exception_carries_the_code_and_message(service, emulator, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    items.create(key="CH1", data={})
    with pytest.raises(TwilioRestException) as raised:
        items.create(key="CH1", data={})
    # The SDK puts its own words before Twilio's message.
    assert (raised.value.status, raised.value.code, raised.value.msg) == (
        409,
        54208,
        f"Unable to create record: {DUPLICATE_KEY}",
    )


def test_an_unknown_key_is_404_54201(service, emulator, refused, claims):
    item = service.sync_maps(CLAIMS).sync_map_items("no-such-key")
    for request in (item.fetch, lambda: item.update(data={}), item.delete):
        assert refused(request) == (404, 54201, "The specified Map Item does not exist")


def test_items_are_listed_in_key_order(service, emulator, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    for key in ("CH2", "CH3", "CH1"):
        items.create(key=key, data={})
    assert [i.key for i in items.list()] == ["CH1", "CH2", "CH3"]
    assert [i.key for i in items.list(order="desc")] == ["CH3", "CH2", "CH1"]
    assert [i.key for i in items.list(from_="CH2", bounds="exclusive")] == ["CH3"]
    assert last_answer(emulator)[1]["meta"]["key"] == "items"


def test_an_update_without_parameters_or_with_a_ttl_out_of_range_is_400(service, emulator, refused, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    items.create(key="CH1", data={})
    assert refused(items("CH1").update)[:2] == (400, 54010)
    assert refused(lambda: items("CH1").update(item_ttl=31_536_001))[:2] == (400, 54011)
    assert refused(lambda: items.create(key="CH2", data={}, item_ttl=-1))[:2] == (400, 54011)


def test_data_over_16_kib_is_413_54006(service, emulator, refused, claims):
    big = {"text": "x" * (16 * 1024)}
    assert refused(lambda: service.sync_maps(CLAIMS).sync_map_items.create(key="CH1", data=big))[:2] == (413, 54006)


# If-Match -------------------------------------------------------------------------------------------------


def test_if_match_guards_an_update(service, emulator, refused, claims):
    item = service.sync_maps(CLAIMS).sync_map_items("CH1")
    service.sync_maps(CLAIMS).sync_map_items.create(key="CH1", data={"claimed_by": "flex"})
    assert refused(lambda: item.update(data={"claimed_by": "assistant"}, if_match="7")) == (
        412,
        54205,
        "The revision of the Map Item does not match the expected revision",
    )
    assert sync_map_items(emulator, CLAIMS)["CH1"]["revision"] == "0"

    assert item.update(data={"claimed_by": "assistant"}, if_match="0").revision == "1"
    assert refused(lambda: item.update(data={"claimed_by": "flex"}, if_match="0"))[:2] == (412, 54205)  # now stale


def test_if_match_guards_a_delete(twilio, service, emulator, claims):
    """twilio-python 9 drops if_match on delete(), so the header is sent with the SDK's own request()."""
    service.sync_maps(CLAIMS).sync_map_items.create(key="CH1", data={})
    url = sync_map_items(emulator, CLAIMS)["CH1"]["url"]
    stale = twilio.request("DELETE", url, headers={"If-Match": "3"})
    assert (stale.status_code, json.loads(stale.text)["code"]) == (412, 54205)
    assert "CH1" in sync_map_items(emulator, CLAIMS)
    assert twilio.request("DELETE", url, headers={"If-Match": "0"}).status_code == 204
    assert sync_map_items(emulator, CLAIMS) == {}


# TTL ------------------------------------------------------------------------------------------------------


def test_an_item_is_gone_once_its_ttl_has_passed(service, clock, refused, account, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    items.create(key="CH1", data={"claimed_by": "flex"}, item_ttl=60)
    assert last_answer(clock) == (
        201,
        expected_item(account, claims, "CH1", {"claimed_by": "flex"}, date_expires=iso(NOW + timedelta(seconds=60))),
    )

    clock.advance(59)
    assert items("CH1").fetch().key == "CH1"
    assert refused(lambda: items.create(key="CH1", data={"claimed_by": "assistant"}))[:2] == (409, 54208)

    clock.advance(1)
    assert refused(items("CH1").fetch) == (404, 54201, "The specified Map Item does not exist")
    assert sync_map_items(clock, CLAIMS) == {}
    items.create(key="CH1", data={"claimed_by": "assistant"})  # the key can be claimed again
    assert last_answer(clock)[0] == 201
    assert sync_map_items(clock, CLAIMS)["CH1"]["data"] == {"claimed_by": "assistant"}


def test_ttl_is_an_alias_of_item_ttl_and_item_ttl_wins(service, clock, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    items.create(key="CH1", data={}, ttl=10)
    items.create(key="CH2", data={}, ttl=10, item_ttl=20)
    expiries = {key: item["date_expires"] for key, item in sync_map_items(clock, CLAIMS).items()}
    assert expiries == {"CH1": iso(NOW + timedelta(seconds=10)), "CH2": iso(NOW + timedelta(seconds=20))}


def test_an_update_restarts_a_ttl_only_when_given_one(service, clock, claims):
    items = service.sync_maps(CLAIMS).sync_map_items
    items.create(key="CH1", data={}, item_ttl=60)
    clock.advance(50)
    items("CH1").update(data={"step": 2})
    assert sync_map_items(clock, CLAIMS)["CH1"]["date_expires"] == iso(NOW + timedelta(seconds=60))
    items("CH1").update(item_ttl=60)
    assert sync_map_items(clock, CLAIMS)["CH1"]["date_expires"] == iso(NOW + timedelta(seconds=110))
    items("CH1").update(item_ttl=0)  # 0: no expiry
    assert sync_map_items(clock, CLAIMS)["CH1"]["date_expires"] is None


def test_a_map_expires_and_collection_ttl_keeps_it_alive(service, clock, refused):
    service.sync_maps.create(unique_name=CLAIMS, ttl=100)
    assert last_answer(clock)[1]["date_expires"] == iso(NOW + timedelta(seconds=100))
    clock.advance(50)
    assert service.sync_maps(CLAIMS).update(collection_ttl=100).date_expires == NOW + timedelta(seconds=150)  # from now
    clock.advance(40)
    service.sync_maps(CLAIMS).sync_map_items.create(
        key="CH1", data={}, collection_ttl=100
    )  # the keep-alive of an item write
    clock.advance(90)
    assert service.sync_maps(CLAIMS).fetch().date_expires == NOW + timedelta(seconds=190)
    clock.advance(10)
    assert refused(service.sync_maps(CLAIMS).fetch)[:2] == (404, 20404)
    assert sync_map_items(clock, CLAIMS) == {}


def test_the_emulator_clock_moves_forward_without_sleeping(emulator, service):
    """The real clock (not the frozen one): wall time plus what advance() added; reset() sets it back."""
    before = datetime.now(UTC)
    assert before <= emulator.now() <= datetime.now(UTC)
    add_sync_map(emulator, CLAIMS)
    add_sync_map_item(emulator, CLAIMS, "CH1", {"claimed_by": "flex"}, ttl=3600)
    emulator.advance(3599)
    assert emulator.now() - datetime.now(UTC) > timedelta(seconds=3598)
    assert service.sync_maps(CLAIMS).sync_map_items("CH1").fetch().key == "CH1"
    emulator.advance(2)
    assert sync_map_items(emulator, CLAIMS) == {}
    emulator.reset()
    assert emulator.now() - datetime.now(UTC) < timedelta(seconds=1)


# The claim ------------------------------------------------------------------------------------------------


def test_twenty_concurrent_creates_of_one_key_have_exactly_one_winner(proxied, emulator, account, claims):
    """Each thread has its own SDK client and connection; all fire at once through the proxy."""
    start = threading.Barrier(20)
    outcomes: list[tuple] = []

    def claim(worker: int) -> None:
        items = Client(account.sid, account.auth_token).sync.v1.services("default").sync_maps(CLAIMS).sync_map_items
        start.wait()
        try:
            item = items.create(key="CH1", data={"claimed_by": f"worker-{worker}"})
            outcomes.append((201, item.data["claimed_by"]))
        except TwilioRestException as error:
            outcomes.append((error.status, error.code, error.msg))

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    wins = [o for o in outcomes if o[0] == 201]
    assert len(outcomes) == 20 and len(wins) == 1
    assert (
        sorted(o for o in outcomes if o[0] != 201) == [(409, 54208, f"Unable to create record: {DUPLICATE_KEY}")] * 19
    )
    assert sync_map_items(emulator, CLAIMS)["CH1"]["data"] == {"claimed_by": wins[0][1]}
    assert len(emulator.calls(operation="POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items")) == 20


def test_an_api_key_claims_an_item(twilio_with_api_key, emulator, account):
    service = twilio_with_api_key.sync.v1.services("default")
    service.sync_maps.create(unique_name=CLAIMS)
    assert service.sync_maps(CLAIMS).sync_map_items.create(key="CH1", data={"claimed_by": "flex"}).key == "CH1"
    assert {r.auth_user for r in emulator.requests} == set(account.api_keys)
    assert {r.status for r in emulator.requests} == {201}


# Seeding helpers ------------------------------------------------------------------------------------------


def test_seeded_maps_and_items_are_what_the_api_serves(service, clock, account):
    seeded_map = add_sync_map(clock, CLAIMS)
    seeded = add_sync_map_item(clock, CLAIMS, "CH1", {"claimed_by": "flex"}, ttl=60)
    assert seeded == expected_item(
        account, seeded_map, "CH1", {"claimed_by": "flex"}, date_expires=iso(NOW + timedelta(seconds=60))
    )
    assert service.sync_maps(CLAIMS).sync_map_items("CH1").fetch().data == {"claimed_by": "flex"}
    assert last_answer(clock) == (200, seeded)
    assert sync_map_items(clock, CLAIMS) == {"CH1": seeded}
    assert sync_map_items(clock, "no-such-map") == {}
    with pytest.raises(KeyError):
        add_sync_map_item(clock, "no-such-map", "CH1", {})
