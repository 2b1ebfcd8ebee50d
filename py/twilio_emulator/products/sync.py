"""Sync: the account's default service, its Maps and their Items — what a handoff needs for an atomic claim.

Creating a Map Item is the claim: Twilio refuses a key the Map already holds (409, code 54208), and a
handler runs under the emulator's lock, so of many concurrent creates of one key exactly one wins.
An Item or a Map whose TTL has passed on the emulator's clock (`Emulator.now`, moved by
`Emulator.advance`) is gone: fetching it is a 404, creating its key again succeeds.

Every path's ServiceSid may be `default`, the account's default service, which is created the
first time it is named (as Twilio provisions it), or a service's SID or unique name.

Twilio's rate limits apply to the top-level object: a request on a Map or its Items takes a token from
the Map's read (GET) or write (POST, DELETE) bucket, whichever name the path gives the Map; a request
on a Map that does not exist takes none. Creating a Map takes one from its service's creations bucket,
even when the unique name is taken.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from ..errors import TwilioError, not_found
from ..formats import iso, parse_iso
from ..limits import SyncLimit
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(__name__, "sync_services", "sync_maps", "sync_map_items")  # items: Map SID → key → Item

BASE = "https://sync.twilio.com/v1/Services"
DEFAULT_SERVICE = "default"
TTL_MAX_SECONDS = 31_536_000  # one year, the documented limit of every Sync TTL
DATA_MAX_BYTES = 16 * 1024
CREATED_BY = "system"  # what Twilio writes for an object created through the REST API


# Time -------------------------------------------------------------------------------------------------


def _now(emulator: AccountState) -> datetime:
    """The emulator's time to the second, as Sync's dates have it; expiry dates count from it."""
    return emulator.now().replace(microsecond=0)


def _expiry(emulator: AccountState, ttl: int) -> str | None:
    """The `date_expires` of a TTL given now: a TTL of 0 means the object does not expire."""
    return iso(_now(emulator) + timedelta(seconds=ttl)) if ttl else None


def _expired(emulator: AccountState, resource: dict) -> bool:
    expires = resource["date_expires"]
    return expires is not None and _moment(expires) <= emulator.now()


@lru_cache(maxsize=4096)
def _moment(text: str) -> datetime:
    """A Sync date, parsed once: expiry dates repeat (they are to the second), and every request checks some."""
    return parse_iso(text)


def _forget_expired_maps(emulator: AccountState) -> None:
    """Drop the Maps whose time has passed, with their Items, so that no request can see them again."""
    maps, items = emulator.table("sync_maps"), emulator.table("sync_map_items")
    for sid in [sid for sid, sync_map in maps.items() if _expired(emulator, sync_map)]:
        del maps[sid]
        items.pop(sid, None)


def _forget_expired_items(emulator: AccountState, items: dict[str, dict]) -> dict[str, dict]:
    """A Map's Items, without (and rid of) those whose time has passed: for the requests that read them all."""
    for key in [key for key, item in items.items() if _expired(emulator, item)]:
        del items[key]
    return items


def _live_item(emulator: AccountState, items: dict[str, dict], key: str) -> dict | None:
    """The Item `key`, or None when there is none or its time has passed (then it is dropped): a request
    touching one Item checks that one, so that a Map of many Items costs no more to serve than a small one."""
    item = items.get(key)
    if item is not None and _expired(emulator, item):
        del items[key]
        return None
    return item


# Seeding and inspection ----------------------------------------------------------------------------------


def default_sync_service(emulator: AccountState) -> dict:
    """The account's default Sync service, created the first time it is asked for."""
    with emulator.lock:
        existing = next(
            (s for s in emulator.table("sync_services").values() if s["unique_name"] == DEFAULT_SERVICE), None
        )
        return existing or _new_default_service(emulator)


def _new_default_service(emulator: AccountState) -> dict:
    sid = emulator.new_sid("IS")
    url = f"{BASE}/{sid}"
    now = iso(_now(emulator))
    service = {
        "sid": sid,
        "unique_name": DEFAULT_SERVICE,
        "account_sid": emulator.account.sid,
        "friendly_name": "Default Service",
        "date_created": now,
        "date_updated": now,
        "url": url,
        "webhook_url": None,
        "webhooks_from_rest_enabled": False,
        "reachability_webhooks_enabled": False,
        "acl_enabled": False,
        "reachability_debouncing_enabled": False,
        "reachability_debouncing_window": 5000,  # the documented default, in milliseconds
        "links": {name.lower(): f"{url}/{name}" for name in ("Documents", "Lists", "Maps", "Streams")},
    }
    emulator.table("sync_services")[sid] = service
    return service


def add_sync_map(emulator: AccountState, unique_name: str | None = None, ttl: int = 0) -> dict:
    """A Map of the default service, as `POST /v1/Services/default/Maps` creates it."""
    with emulator.lock:
        _forget_expired_maps(emulator)
        return _new_map(emulator, default_sync_service(emulator)["sid"], unique_name, ttl)


def add_sync_map_item(emulator: AccountState, map_name: str, key: str, data: dict, ttl: int = 0) -> dict:
    """An Item of the default service's Map named `map_name` (its SID or unique name)."""
    with emulator.lock:
        _forget_expired_maps(emulator)
        sync_map = _map_named(emulator, default_sync_service(emulator)["sid"], map_name)
        if sync_map is None:
            raise KeyError(f"no Sync Map {map_name!r} in the default service")
        return _new_item(emulator, sync_map, key, data, ttl)


def sync_map_items(emulator: AccountState, map_name: str) -> dict[str, dict]:
    """The unexpired Items of the default service's Map `map_name`, by key; empty if there is no such Map."""
    with emulator.lock:
        _forget_expired_maps(emulator)
        sync_map = _map_named(emulator, default_sync_service(emulator)["sid"], map_name)
        return (
            dict(_forget_expired_items(emulator, emulator.table("sync_map_items")[sync_map["sid"]])) if sync_map else {}
        )


def _new_map(emulator: AccountState, service_sid: str, unique_name: str | None, ttl: int) -> dict:
    sid = emulator.new_sid("MP")
    url = f"{BASE}/{service_sid}/Maps/{sid}"
    now = iso(_now(emulator))
    sync_map = {
        "sid": sid,
        "unique_name": unique_name,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "url": url,
        "links": {"items": f"{url}/Items", "permissions": f"{url}/Permissions"},
        "revision": "0",
        "date_expires": _expiry(emulator, ttl),
        "date_created": now,
        "date_updated": now,
        "created_by": CREATED_BY,
    }
    emulator.table("sync_maps")[sid] = sync_map
    emulator.table("sync_map_items")[sid] = {}
    return sync_map


def _new_item(emulator: AccountState, sync_map: dict, key: str, data: dict, ttl: int) -> dict:
    now = iso(_now(emulator))
    item = {
        "key": key,
        "account_sid": emulator.account.sid,
        "service_sid": sync_map["service_sid"],
        "map_sid": sync_map["sid"],
        "url": f"{sync_map['url']}/Items/{quote(key, safe='')}",
        "revision": "0",
        "data": json.loads(json.dumps(data)),  # a copy: the caller's dict must not change the stored item
        "date_expires": _expiry(emulator, ttl),
        "date_created": now,
        "date_updated": now,
        "created_by": CREATED_BY,
    }
    emulator.table("sync_map_items")[sync_map["sid"]][key] = item
    return item


def _map_named(emulator: AccountState, service_sid: str, name: str) -> dict | None:
    return next(
        (
            m
            for m in emulator.table("sync_maps").values()
            if m["service_sid"] == service_sid and name in (m["sid"], m["unique_name"])
        ),
        None,
    )


# Lookups --------------------------------------------------------------------------------------------------


def _service_named(emulator: AccountState, key: str) -> dict | None:
    """The service `key` names: `default`, or a service's SID or unique name; None if there is none."""
    if key == DEFAULT_SERVICE:
        return default_sync_service(emulator)
    return next((s for s in emulator.table("sync_services").values() if key in (s["sid"], s["unique_name"])), None)


def _service(call: Call, key: str) -> dict:
    """The service a path names, or Twilio's 404."""
    service = _service_named(call.emulator, key)
    if service is None:
        raise not_found(call.path)
    return service


def _find_map(emulator: AccountState, service_key: str, map_key: str) -> dict | None:
    """The unexpired Map `map_key` (its SID or unique name) of
    the service `service_key` names; None if there is none."""
    _forget_expired_maps(emulator)
    service = _service_named(emulator, service_key)
    return _map_named(emulator, service["sid"], map_key) if service else None


def _map(call: Call, key: str) -> dict:
    """The path's Map, by SID or unique name, within the path's service.

    Twilio documents 54200 "Map not found", but its live API answers a missing Map with the generic
    20404, so the emulator does too.
    """
    sync_map = _find_map(call.emulator, call.params["ServiceSid"], key)
    if sync_map is None:
        raise not_found(call.path)
    return sync_map


def _items(call: Call) -> tuple[dict, dict[str, dict]]:
    sync_map = _map(call, call.params["MapSid"])
    return sync_map, call.emulator.table("sync_map_items")[sync_map["sid"]]


def _item(call: Call) -> tuple[dict, dict[str, dict], dict]:
    sync_map, items = _items(call)
    item = _live_item(call.emulator, items, call.params["Key"])
    if item is None:
        raise TwilioError(404, 54201, "The specified Map Item does not exist")
    return sync_map, items, item


# Rules ----------------------------------------------------------------------------------------------------


def _checked_ttl(ttl: int | None) -> int | None:
    if ttl is not None and not 0 <= ttl <= TTL_MAX_SECONDS:
        raise TwilioError(
            400, 54011, f"Invalid TTL: it must be empty or an integer between 0 and {TTL_MAX_SECONDS} seconds"
        )
    return ttl


def _ttl(body: dict, name: str) -> int | None:
    """The TTL a body gives: `name` (ItemTtl or CollectionTtl) wins over its alias `Ttl`, as the description says."""
    return _checked_ttl(body.get(name, body.get("Ttl")))


def _collection_ttl(call: Call, sync_map: dict) -> None:
    """An Item's CollectionTtl restarts its Map's TTL (a keep-alive); the alias Ttl belongs to the Item here."""
    ttl = _checked_ttl(call.body.get("CollectionTtl"))
    if ttl is not None:
        sync_map.update(date_expires=_expiry(call.emulator, ttl), date_updated=iso(_now(call.emulator)))


def _check_data(data: dict) -> None:
    size = len(json.dumps(data, separators=(",", ":")).encode("utf-8"))
    if size > DATA_MAX_BYTES:
        raise TwilioError(413, 54006, f"Request entity too large: data is {size} bytes, at most {DATA_MAX_BYTES}")


def _check_revision(call: Call, item: dict) -> None:
    """Honour If-Match: the mutation happens only if the Item's revision is the one given."""
    expected = call.headers.get("if-match")
    if expected is not None and expected != item["revision"]:
        raise TwilioError(412, 54205, "The revision of the Map Item does not match the expected revision")


def _refuse_taken_unique_name(call: Call, service_sid: str, unique_name: str) -> None:
    if _map_named(call.emulator, service_sid, unique_name) is not None:
        raise TwilioError(409, 54301, "Unique name already exists")


# Load limits ----------------------------------------------------------------------------------------------


def _map_traffic(call: Call) -> tuple[SyncLimit, str] | None:
    """A read (GET) or a write of the path's Map, counted by its SID; nothing when there is no such Map."""
    # A Map's own paths name it `Sid`, its Items' paths `MapSid`.
    map_key = call.params["MapSid"] if "MapSid" in call.params else call.params["Sid"]
    sync_map = _find_map(call.emulator, call.params["ServiceSid"], map_key)
    if sync_map is None:
        return None
    return (SyncLimit.OBJECT_READS if call.method == "GET" else SyncLimit.OBJECT_WRITES), sync_map["sid"]


def _map_creation(call: Call) -> tuple[SyncLimit, str] | None:
    """A new object in the path's service, counted by the service's SID; nothing when there is no such service."""
    service = _service_named(call.emulator, call.params["ServiceSid"])
    return (SyncLimit.CREATIONS, service["sid"]) if service else None


# Routes ---------------------------------------------------------------------------------------------------


@route("sync", "GET", "/v1/Services/{Sid}")
def fetch_service(call: Call):
    return 200, _service(call, call.params["Sid"])


@route("sync", "GET", "/v1/Services/{ServiceSid}/Maps")
def list_maps(call: Call):
    _forget_expired_maps(call.emulator)
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    return page(call, "maps", [m for m in call.emulator.table("sync_maps").values() if m["service_sid"] == service_sid])


@route("sync", "POST", "/v1/Services/{ServiceSid}/Maps", metered=_map_creation)
def create_map(call: Call):
    """UniqueName is optional; a name in use by another Map of the service is a 409."""
    _forget_expired_maps(call.emulator)
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    unique_name = call.body.get("UniqueName")
    if unique_name is not None:
        _refuse_taken_unique_name(call, service_sid, unique_name)
    ttl = _ttl(call.body, "CollectionTtl") or 0
    return 201, _new_map(call.emulator, service_sid, unique_name, ttl)


@route("sync", "GET", "/v1/Services/{ServiceSid}/Maps/{Sid}", metered=_map_traffic)
def fetch_map(call: Call):
    return 200, _map(call, call.params["Sid"])


@route("sync", "POST", "/v1/Services/{ServiceSid}/Maps/{Sid}", metered=_map_traffic)
def update_map(call: Call):
    """Only the TTL can change; it counts from now."""
    sync_map = _map(call, call.params["Sid"])
    ttl = _ttl(call.body, "CollectionTtl")
    if ttl is not None:
        sync_map.update(date_expires=_expiry(call.emulator, ttl), date_updated=iso(_now(call.emulator)))
    return 200, sync_map


@route("sync", "DELETE", "/v1/Services/{ServiceSid}/Maps/{Sid}", metered=_map_traffic)
def delete_map(call: Call):
    """Deleting a Map deletes its Items."""
    sync_map = _map(call, call.params["Sid"])
    del call.emulator.table("sync_maps")[sync_map["sid"]]
    call.emulator.table("sync_map_items").pop(sync_map["sid"], None)
    return 204, None


@route("sync", "GET", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items", metered=_map_traffic)
def list_map_items(call: Call):
    """Items in key order; Order=desc reverses it, From starts at a key (Bounds=exclusive skips that key)."""
    _, items = _items(call)
    descending = call.query.get("Order") == "desc"
    listed = sorted(
        _forget_expired_items(call.emulator, items).values(), key=lambda item: item["key"], reverse=descending
    )
    start = call.query.get("From")
    if start is not None:
        inclusive = call.query.get("Bounds", "inclusive") == "inclusive"
        listed = [
            item
            for item in listed
            if (item["key"] == start and inclusive) or (item["key"] < start if descending else item["key"] > start)
        ]
    return page(call, "items", listed)


@route("sync", "POST", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items", metered=_map_traffic)
def create_map_item(call: Call):
    """The atomic claim: a key the Map already holds is refused with 409/54208, so one creator of a key wins."""
    sync_map, items = _items(call)
    key, data = call.body["Key"], call.body["Data"]
    if _live_item(call.emulator, items, key) is not None:
        raise TwilioError(409, 54208, "An Item with given key already exists in the Map")
    _check_data(data)
    ttl = _ttl(call.body, "ItemTtl") or 0
    _collection_ttl(call, sync_map)
    return 201, _new_item(call.emulator, sync_map, key, data, ttl)


@route("sync", "GET", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}", metered=_map_traffic)
def fetch_map_item(call: Call):
    return 200, _item(call)[2]


@route("sync", "POST", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}", metered=_map_traffic)
def update_map_item(call: Call):
    """Data replaces the Item's data whole (no merge); a TTL given restarts from now, else the expiry stays."""
    sync_map, _, item = _item(call)
    _check_revision(call, item)
    # CollectionTtl alone is not an update: the description allows it only beside Data or a TTL.
    if not any(name in call.body for name in ("Data", "Ttl", "ItemTtl")):
        raise TwilioError(400, 54010, "No parameters specified: expected Data, ItemTtl or Ttl")
    if "Data" in call.body:
        _check_data(call.body["Data"])
    ttl = _ttl(call.body, "ItemTtl")
    _collection_ttl(call, sync_map)
    if "Data" in call.body:
        item["data"] = json.loads(json.dumps(call.body["Data"]))
    if ttl is not None:
        item["date_expires"] = _expiry(call.emulator, ttl)
    item.update(revision=str(int(item["revision"]) + 1), date_updated=iso(_now(call.emulator)))
    return 200, item


@route("sync", "DELETE", "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}", metered=_map_traffic)
def delete_map_item(call: Call):
    _, items, item = _item(call)
    _check_revision(call, item)
    del items[item["key"]]
    return 204, None
