"""Flex Plugins API: plugins, their versions, configurations of plugin versions, and the releases that activate them.

Served as Twilio's Plugins API pages describe it (twilio_flex_v1.json, `/v1/PluginService/…`): a Plugin has a
unique name; a Plugin Version is one bundle URL of a plugin under a version, immutable once created (the
description has no update for it); a Configuration lists plugin versions; a Release makes one configuration
active, and only one release is active in an account: the newest ("Only one release can be active within your
account"; releases are immutable and a rollback is a new release of an earlier configuration). Archiving a
plugin, a version or a configuration is served too. `Releases/Active` answers the active release, as Twilio's
"fetch the active release" example reads it. With Basic auth Twilio's clients name a plugin by its SID or its
unique name and a version by its SID or its version (@twilio/flex-plugins-api-client's createConfiguration reads
`Plugins/<name>/Versions/<version>`), so every path parameter naming one takes either.

The `Flex-Metadata` header, which every operation describes, is checked as the string the description says and
otherwise ignored: Twilio documents nothing of its content, and @twilio/flex-plugins-api-client 7.0.0 does not
send it. The Flex configuration's `serverless_service_sids`, which the Flex plugins tooling updates when it
deploys a bundle (`POST /v1/Configuration`, JSON `{account_sid, serverless_service_sids}`), is served here too.

Where Twilio documents nothing, the emulator assumes:

- A Version is semantic versioning's MAJOR.MINOR.PATCH with an optional pre-release and build, and must be
  greater (by semver precedence) than every version of the plugin already there: a new version equal to one is
  409, code 20409; a lower one or one that is not semver is 400, code 20001. Versions list newest first (the
  client's `latest` reads the first one); so do plugins, configurations and releases (its `active` reads the
  first release).
- A unique name taken by another plugin is 409, code 20409; a description is at most 500 characters (the
  description's words), else 400. An archived plugin takes no new version, an archived version joins no new
  configuration, an archived configuration is not released (400, code 20001); the active release's configuration
  cannot be archived (400). Archiving twice answers the archived resource again.
- `Plugins` of a configuration are JSON objects `{plugin_version: FV…, phase}` (what the client sends), each a
  version of the account, at most one per plugin, `phase` 3 when not given (the client always sends 3);
  `ConfigurationId` of a release is the configuration's SID.
- A version's `private` is false unless given, `validated` true only when `ValidateStatus` is `success` (as the
  description's examples pair them); `CliVersion` and `ValidateStatus` are kept and not answered (the schema has
  no field for them).
- Unknown plugins, versions, configurations and releases are 404, code 20404; `Releases/Active` too when no
  release was ever made. The Flex configuration update takes only `serverless_service_sids` and `ui_attributes`
  (and `account_sid`, which must be the account's): any other key is 400 saying the emulator does not emulate it.
  Twilio documents the update as the items "you wish to update"; how it treats an object given for one of them is
  not documented, so the emulator assumes the strictest reading: `ui_attributes` given is the new `ui_attributes`,
  whole (a client keeps the other keys by sending them back, as the kit's plugin deploy does).
"""

from __future__ import annotations

import re

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables

TABLES = declare_tables(
    __name__, "flex_plugins", "flex_plugin_versions", "flex_plugin_configurations", "flex_plugin_releases"
)

BASE = "https://flex-api.twilio.com/v1/PluginService"
DESCRIPTION_MAX_CHARACTERS = 500
DEFAULT_PHASE = 3
ACTIVE = "Active"
# semver.org's grammar, without its leading-zero rules (Twilio documents none).
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


# Semantic versions ---------------------------------------------------------------------------------------


def semver_key(version: str) -> tuple | None:
    """A key that orders versions by semver precedence (a pre-release before its release); None if not semver."""
    match = SEMVER.match(version)
    if match is None:
        return None
    major, minor, patch, prerelease = match.groups()
    if prerelease is None:
        return (int(major), int(minor), int(patch), 1, ())
    identifiers = tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in prerelease.split("."))
    return (int(major), int(minor), int(patch), 0, identifiers)


# Seeding and reading, for tests and other modules ---------------------------------------------------------


def add_plugin(emulator: AccountState, unique_name: str, friendly_name: str | None = None, description=None) -> dict:
    sid = emulator.new_sid("FP")
    url = f"{BASE}/Plugins/{sid}"
    plugin = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "unique_name": unique_name,
        "friendly_name": friendly_name or unique_name,
        "description": description,
        "archived": False,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {"plugin_versions": f"{url}/Versions"},
    }
    emulator.table("flex_plugins")[sid] = plugin
    return plugin


def active_release(emulator: AccountState) -> dict | None:
    """The newest release, the one Flex loads; None when there was never one."""
    releases = list(emulator.table("flex_plugin_releases").values())
    return releases[-1] if releases else None


def active_plugins(emulator: AccountState) -> list[dict]:
    """What the active release loads: each configured plugin (as the API answers it), empty when none."""
    release = active_release(emulator)
    if release is None:
        return []
    configuration = emulator.table("flex_plugin_configurations")[release["configuration_sid"]]
    return [_configured(emulator, configuration, entry) for entry in configuration["_plugins"]]


# Lookups ----------------------------------------------------------------------------------------------------


def _plugin(call: Call, key: str) -> dict:
    """The plugin a path names by SID or unique name."""
    for plugin in call.emulator.table("flex_plugins").values():
        if key in (plugin["sid"], plugin["unique_name"]):
            return plugin
    raise not_found(call.path)


def _versions_of(emulator: AccountState, plugin_sid: str) -> list[dict]:
    return [v for v in emulator.table("flex_plugin_versions").values() if v["plugin_sid"] == plugin_sid]


def _version(call: Call, plugin: dict, key: str) -> dict:
    """The plugin's version a path names by SID or version."""
    for version in _versions_of(call.emulator, plugin["sid"]):
        if key in (version["sid"], version["version"]):
            return version
    raise not_found(call.path)


def _configuration(call: Call, sid: str) -> dict:
    configuration = call.emulator.table("flex_plugin_configurations").get(sid)
    if configuration is None:
        raise not_found(call.path)
    return configuration


def _newest_first(items) -> list[dict]:
    return list(reversed(list(items)))


def _public(resource: dict) -> dict:
    """A resource as answered: without the emulator's own keys (those starting with an underscore)."""
    return {key: value for key, value in resource.items() if not key.startswith("_")}


def _invalid(message: str) -> TwilioError:
    return TwilioError(400, 20001, message)


def _check_description(description: object) -> None:
    if isinstance(description, str) and len(description) > DESCRIPTION_MAX_CHARACTERS:
        raise _invalid(f"Description is {len(description)} characters: at most {DESCRIPTION_MAX_CHARACTERS}")


def _configured(emulator: AccountState, configuration: dict, entry: dict) -> dict:
    """A plugin version as a configuration lists it: the version and its plugin, joined."""
    version = emulator.table("flex_plugin_versions")[entry["plugin_version"]]
    plugin = emulator.table("flex_plugins")[version["plugin_sid"]]
    return {
        "account_sid": emulator.account.sid,
        "configuration_sid": configuration["sid"],
        "plugin_sid": plugin["sid"],
        "plugin_version_sid": version["sid"],
        "phase": entry["phase"],
        "plugin_url": version["plugin_url"],
        "unique_name": plugin["unique_name"],
        "plugin_archived": plugin["archived"],
        "friendly_name": plugin["friendly_name"],
        "description": plugin["description"],
        "version": version["version"],
        "plugin_version_archived": version["archived"],
        "changelog": version["changelog"],
        "private": version["private"],
        "date_created": configuration["date_created"],
        "url": f"{configuration['url']}/Plugins/{plugin['sid']}",
    }


# Routes: plugins ---------------------------------------------------------------------------------------------


@route("flex-api", "GET", "/v1/PluginService/Plugins")
def list_plugins(call: Call):
    return page(call, "plugins", _newest_first(call.emulator.table("flex_plugins").values()))


@route("flex-api", "POST", "/v1/PluginService/Plugins")
def create_plugin(call: Call):
    body = call.body
    unique_name = body["UniqueName"]
    _check_description(body.get("Description"))
    if any(p["unique_name"] == unique_name for p in call.emulator.table("flex_plugins").values()):
        raise TwilioError(409, 20409, f"A Flex Plugin with UniqueName {unique_name!r} already exists")
    return 201, add_plugin(call.emulator, unique_name, body.get("FriendlyName"), body.get("Description"))


@route("flex-api", "GET", "/v1/PluginService/Plugins/{Sid}")
def fetch_plugin(call: Call):
    return 200, _plugin(call, call.params["Sid"])


@route("flex-api", "POST", "/v1/PluginService/Plugins/{Sid}")
def update_plugin(call: Call):
    """FriendlyName and Description are each optional: what is not given stays."""
    plugin = _plugin(call, call.params["Sid"])
    _check_description(call.body.get("Description"))
    for field, name in (("friendly_name", "FriendlyName"), ("description", "Description")):
        if name in call.body:
            plugin[field] = call.body[name]
    plugin["date_updated"] = now_iso()
    return 200, plugin


@route("flex-api", "POST", "/v1/PluginService/Plugins/{Sid}/Archive")
def archive_plugin(call: Call):
    plugin = _plugin(call, call.params["Sid"])
    if not plugin["archived"]:
        plugin.update(archived=True, date_updated=now_iso())
    return 200, {key: value for key, value in plugin.items() if key != "links"}


# Routes: plugin versions --------------------------------------------------------------------------------------


@route("flex-api", "GET", "/v1/PluginService/Plugins/{PluginSid}/Versions")
def list_plugin_versions(call: Call):
    plugin = _plugin(call, call.params["PluginSid"])
    versions = [_public(v) for v in _versions_of(call.emulator, plugin["sid"])]
    return page(call, "plugin_versions", _newest_first(versions))


@route("flex-api", "POST", "/v1/PluginService/Plugins/{PluginSid}/Versions")
def create_plugin_version(call: Call):
    emulator, body = call.emulator, call.body
    plugin = _plugin(call, call.params["PluginSid"])
    if plugin["archived"]:
        raise _invalid(f"Flex Plugin {plugin['unique_name']} is archived: it takes no new version")
    version = body["Version"]
    key = semver_key(version)
    if key is None:
        raise _invalid(f"Version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    existing = _versions_of(emulator, plugin["sid"])
    if any(v["version"] == version for v in existing):
        raise TwilioError(409, 20409, f"Flex Plugin {plugin['unique_name']} already has version {version}")
    latest = max(existing, key=lambda v: semver_key(v["version"]), default=None)
    if latest is not None and key < semver_key(latest["version"]):
        raise _invalid(
            f"Version {version} of Flex Plugin {plugin['unique_name']} must be greater than its latest, "
            f"{latest['version']}"
        )
    sid = emulator.new_sid("FV")
    created = {
        "sid": sid,
        "plugin_sid": plugin["sid"],
        "account_sid": emulator.account.sid,
        "version": version,
        "plugin_url": body["PluginUrl"],
        "changelog": body.get("Changelog"),
        "private": body.get("Private", False),
        "archived": False,
        "validated": body.get("ValidateStatus") == "success",
        "date_created": now_iso(),
        "url": f"{plugin['url']}/Versions/{sid}",
        "_cli_version": body.get("CliVersion"),
        "_validate_status": body.get("ValidateStatus"),
    }
    emulator.table("flex_plugin_versions")[sid] = created
    return 201, _public(created)


@route("flex-api", "GET", "/v1/PluginService/Plugins/{PluginSid}/Versions/{Sid}")
def fetch_plugin_version(call: Call):
    plugin = _plugin(call, call.params["PluginSid"])
    return 200, _public(_version(call, plugin, call.params["Sid"]))


@route("flex-api", "POST", "/v1/PluginService/Plugins/{PluginSid}/Versions/{Sid}/Archive")
def archive_plugin_version(call: Call):
    version = _version(call, _plugin(call, call.params["PluginSid"]), call.params["Sid"])
    version["archived"] = True
    return 200, {key: value for key, value in _public(version).items() if key != "validated"}


# Routes: configurations ----------------------------------------------------------------------------------------


def _configuration_entries(call: Call, given: list) -> list[dict]:
    """The plugin versions a configuration lists: each an unarchived version of the account, one per plugin."""
    versions, entries, plugins_seen = call.emulator.table("flex_plugin_versions"), [], set()
    for item in given:
        if not isinstance(item, dict) or not isinstance(item.get("plugin_version"), str):
            raise _invalid(f"Plugins: {item!r} is not an object naming a plugin_version (FV…)")
        version = versions.get(item["plugin_version"])
        if version is None:
            raise _invalid(f"Plugins: {item['plugin_version']} is no Flex Plugin Version of this account")
        if version["archived"]:
            raise _invalid(f"Plugins: Flex Plugin Version {version['sid']} is archived")
        if version["plugin_sid"] in plugins_seen:
            raise _invalid(f"Plugins: two versions of Flex Plugin {version['plugin_sid']}; a configuration takes one")
        phase = item.get("phase", DEFAULT_PHASE)
        if not isinstance(phase, int) or isinstance(phase, bool):
            raise _invalid(f"Plugins: phase {phase!r} of {version['sid']} is not an integer")
        plugins_seen.add(version["plugin_sid"])
        entries.append({"plugin_version": version["sid"], "phase": phase})
    return entries


@route("flex-api", "GET", "/v1/PluginService/Configurations")
def list_configurations(call: Call):
    configurations = [_public(c) for c in call.emulator.table("flex_plugin_configurations").values()]
    return page(call, "configurations", _newest_first(configurations))


@route("flex-api", "POST", "/v1/PluginService/Configurations")
def create_configuration(call: Call):
    emulator, body = call.emulator, call.body
    entries = _configuration_entries(call, body.get("Plugins", []))
    sid = emulator.new_sid("FJ")
    url = f"{BASE}/Configurations/{sid}"
    configuration = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "name": body["Name"],
        "description": body.get("Description"),
        "archived": False,
        "date_created": now_iso(),
        "url": url,
        "links": {"plugins": f"{url}/Plugins"},
        "_plugins": entries,
    }
    emulator.table("flex_plugin_configurations")[sid] = configuration
    return 201, _public(configuration)


@route("flex-api", "GET", "/v1/PluginService/Configurations/{Sid}")
def fetch_configuration(call: Call):
    return 200, _public(_configuration(call, call.params["Sid"]))


@route("flex-api", "POST", "/v1/PluginService/Configurations/{Sid}/Archive")
def archive_configuration(call: Call):
    configuration = _configuration(call, call.params["Sid"])
    release = active_release(call.emulator)
    if release is not None and release["configuration_sid"] == configuration["sid"]:
        raise _invalid(f"Configuration {configuration['sid']} is the active release's: release another one first")
    configuration["archived"] = True
    return 200, {key: value for key, value in _public(configuration).items() if key != "links"}


@route("flex-api", "GET", "/v1/PluginService/Configurations/{ConfigurationSid}/Plugins")
def list_configured_plugins(call: Call):
    configuration = _configuration(call, call.params["ConfigurationSid"])
    listed = [_configured(call.emulator, configuration, entry) for entry in configuration["_plugins"]]
    return page(call, "plugins", listed)


@route("flex-api", "GET", "/v1/PluginService/Configurations/{ConfigurationSid}/Plugins/{PluginSid}")
def fetch_configured_plugin(call: Call):
    configuration = _configuration(call, call.params["ConfigurationSid"])
    plugin = _plugin(call, call.params["PluginSid"])
    for entry in configuration["_plugins"]:
        configured = _configured(call.emulator, configuration, entry)
        if configured["plugin_sid"] == plugin["sid"]:
            return 200, configured
    raise not_found(call.path)


# Routes: releases ------------------------------------------------------------------------------------------------


@route("flex-api", "GET", "/v1/PluginService/Releases")
def list_releases(call: Call):
    return page(call, "releases", _newest_first(call.emulator.table("flex_plugin_releases").values()))


@route("flex-api", "POST", "/v1/PluginService/Releases")
def create_release(call: Call):
    emulator = call.emulator
    configuration = emulator.table("flex_plugin_configurations").get(call.body["ConfigurationId"])
    if configuration is None:
        raise _invalid(f"ConfigurationId {call.body['ConfigurationId']} is no Flex Plugin Configuration")
    if configuration["archived"]:
        raise _invalid(f"Configuration {configuration['sid']} is archived: it cannot be released")
    sid = emulator.new_sid("FK")
    release = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "configuration_sid": configuration["sid"],
        "date_created": now_iso(),
        "url": f"{BASE}/Releases/{sid}",
    }
    emulator.table("flex_plugin_releases")[sid] = release
    return 201, release


@route("flex-api", "GET", "/v1/PluginService/Releases/{Sid}")
def fetch_release(call: Call):
    sid = call.params["Sid"]
    release = active_release(call.emulator) if sid == ACTIVE else call.emulator.table("flex_plugin_releases").get(sid)
    if release is None:
        raise not_found(call.path)
    return 200, release


# Route: the Flex configuration's Serverless services --------------------------------------------------------------


@route("flex-api", "POST", "/v1/Configuration")
def update_configuration(call: Call):
    """The Flex configuration's `serverless_service_sids`, as the Flex plugins tooling registers its service, and its
    `ui_attributes`, which Flex UI hands its plugins (replaced whole: see the module's docstring)."""
    configuration = call.emulator.table("flex_configurations").get(call.emulator.account.sid)
    if configuration is None:
        raise not_found(call.path)
    body = call.body if isinstance(call.body, dict) else {}
    others = sorted(set(body) - {"account_sid", "serverless_service_sids", "ui_attributes"})
    if others:
        raise _invalid(
            "The emulator updates only serverless_service_sids and ui_attributes of the Flex configuration, "
            f"not {others}"
        )
    if body.get("account_sid", call.emulator.account.sid) != call.emulator.account.sid:
        raise _invalid(f"account_sid {body['account_sid']} is not this account's")
    sids = body.get("serverless_service_sids")
    if sids is not None:
        services = call.emulator.table("serverless_services")
        if not isinstance(sids, list) or not all(isinstance(sid, str) and sid in services for sid in sids):
            raise _invalid(f"serverless_service_sids {sids!r} must list Serverless services of this account")
        configuration["serverless_service_sids"] = list(sids)
    if "ui_attributes" in body:
        if not isinstance(body["ui_attributes"], dict):
            raise _invalid(f"ui_attributes must be a JSON object, not {body['ui_attributes']!r}")
        configuration["ui_attributes"] = dict(body["ui_attributes"])
    configuration["date_updated"] = now_iso()
    return 200, configuration
