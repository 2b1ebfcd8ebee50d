"""Serverless: the Functions service a handover is deployed to, its environments, variables and builds.

`deploy_build` leaves the account as `twilio serverless:deploy` does: Function and Asset resources
named by their paths, one version of each with its visibility, a build of them, and the environment
pointing at that build.
"""

from __future__ import annotations

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, route
from ..state import AccountState, declare_tables

# Functions and Assets each have their resources, versions and versions' contents (by version SID).
TABLES = declare_tables(
    __name__,
    "serverless_services",
    "serverless_environments",
    "serverless_variables",
    "serverless_builds",
    "serverless_functions",
    "serverless_function_versions",
    "serverless_function_version_contents",
    "serverless_assets",
    "serverless_asset_versions",
    "serverless_asset_version_contents",
)

BASE = "https://serverless.twilio.com/v1/Services"
RUNTIME = "node22"
KEY_MAX_CHARACTERS = 128  # the documented limits of a Variable
VALUE_MAX_BYTES = 450


# Seeding ----------------------------------------------------------------------------------------------


def add_service(emulator: AccountState, unique_name: str, friendly_name: str | None = None) -> dict:
    sid = emulator.new_sid("ZS")
    url = f"{BASE}/{sid}"
    service = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "friendly_name": friendly_name or unique_name,
        "unique_name": unique_name,
        "include_credentials": True,
        "ui_editable": False,
        # Twilio adds four random digits to the unique name; these come from the SID, so a run repeats.
        "domain_base": f"{unique_name}-{int(sid[2:], 16) % 10000:04d}",
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {name.lower(): f"{url}/{name}" for name in ("Environments", "Functions", "Assets", "Builds")},
    }
    emulator.table("serverless_services")[sid] = service
    return service


def add_environment(emulator: AccountState, service_sid: str, domain_suffix: str = "dev") -> dict:
    """An environment as the Serverless Toolkit creates it for a domain suffix; no build until one is deployed."""
    service = emulator.table("serverless_services")[service_sid]
    sid = emulator.new_sid("ZE")
    url = f"{service['url']}/Environments/{sid}"
    environment = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "build_sid": None,
        "unique_name": f"{domain_suffix}-environment",
        "domain_suffix": domain_suffix,
        "domain_name": f"{service['domain_base']}-{domain_suffix}.twil.io",
        "custom_domain_name": None,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {name.lower(): f"{url}/{name}" for name in ("Variables", "Deployments", "Logs")},
    }
    emulator.table("serverless_environments")[sid] = environment
    return environment


def deploy_build(
    emulator: AccountState,
    service_sid: str,
    environment_sid: str,
    files: list,
    dependencies: dict[str, str] | None = None,
) -> dict:
    """Deploy files to the environment, as `twilio serverless:deploy` does.

    `files` hold kind ("function" or "asset"), path, visibility and content, as the Toolkit maps
    the project (handover.project.deployed_files). `dependencies` are package.json's, name → version.
    """
    function_versions = [_function_version(emulator, service_sid, f) for f in files if f.kind == "function"]
    asset_versions = [_version(emulator, service_sid, f) for f in files if f.kind == "asset"]
    sid = emulator.new_sid("ZB")
    url = f"{BASE}/{service_sid}/Builds/{sid}"
    build = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "status": "completed",
        "asset_versions": [_in_build(version, "asset") for version in asset_versions],
        "function_versions": [_in_build(version, "function") for version in function_versions],
        "dependencies": [{"name": name, "version": version} for name, version in (dependencies or {}).items()],
        "runtime": RUNTIME,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {"build_status": f"{url}/Status"},
    }
    emulator.table("serverless_builds")[sid] = build
    emulator.table("serverless_environments")[environment_sid].update(build_sid=sid, date_updated=now_iso())
    return build


def variables_of(emulator: AccountState, environment_sid: str) -> list[dict]:
    """The environment's variables, as its functions get them."""
    return [v for v in emulator.table("serverless_variables").values() if v["environment_sid"] == environment_sid]


def set_variable(emulator: AccountState, service_sid: str, environment_sid: str, key: str, value: str) -> dict:
    """Create the environment's variable, or change its value, as `twilio serverless:env:set` does."""
    variable = _variable_named(emulator, environment_sid, key)
    if variable is None:
        return _new_variable(emulator, service_sid, environment_sid, key, value)
    variable.update(value=value, date_updated=now_iso())
    return variable


def _resource(emulator: AccountState, service_sid: str, kind: str, path: str) -> dict:
    """The service's Function or Asset named `path`: the Toolkit reuses the one of the same friendly name."""
    table = emulator.table(f"serverless_{kind}s")
    existing = next((r for r in table.values() if r["service_sid"] == service_sid and r["friendly_name"] == path), None)
    if existing:
        return existing
    sid = emulator.new_sid("ZH")
    url = f"{BASE}/{service_sid}/{kind.title()}s/{sid}"
    resource = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "friendly_name": path,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {f"{kind}_versions": f"{url}/Versions"},
    }
    table[sid] = resource
    return resource


def _version(emulator: AccountState, service_sid: str, file) -> dict:
    kind, path, visibility = file.kind, file.path, file.visibility
    parent = _resource(emulator, service_sid, kind, path)
    sid = emulator.new_sid("ZN")
    version = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        f"{kind}_sid": parent["sid"],
        "path": path,
        "visibility": visibility,
        "date_created": now_iso(),
        "url": f"{parent['url']}/Versions/{sid}",
    }
    emulator.table(f"serverless_{kind}_versions")[sid] = version
    # The source, shaped as Twilio's Content resource; an asset's is kept too, as what was deployed.
    emulator.table(f"serverless_{kind}_version_contents")[sid] = {
        **{field: version[field] for field in ("sid", "account_sid", "service_sid", f"{kind}_sid")},
        "content": file.content,
        "url": f"{version['url']}/Content",
    }
    return version


def _function_version(emulator: AccountState, service_sid: str, file) -> dict:
    version = _version(emulator, service_sid, file)
    version["links"] = {"function_version_content": f"{version['url']}/Content"}
    return version


def _in_build(version: dict, kind: str) -> dict:
    """A version as a build lists it: no URL, and the visibility in capitals, as Twilio's example shows."""
    fields = ("sid", "account_sid", "service_sid", f"{kind}_sid", "date_created", "path")
    return {**{field: version[field] for field in fields}, "visibility": version["visibility"].upper()}


def _new_variable(emulator: AccountState, service_sid: str, environment_sid: str, key: str, value: str) -> dict:
    sid = emulator.new_sid("ZV")
    variable = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "environment_sid": environment_sid,
        "key": key,
        "value": value,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": f"{BASE}/{service_sid}/Environments/{environment_sid}/Variables/{sid}",
    }
    emulator.table("serverless_variables")[sid] = variable
    return variable


def _variable_named(emulator: AccountState, environment_sid: str, key: str) -> dict | None:
    return next(
        (
            v
            for v in emulator.table("serverless_variables").values()
            if v["environment_sid"] == environment_sid and v["key"] == key
        ),
        None,
    )


# Lookups ------------------------------------------------------------------------------------------------


def _service(call: Call, key: str) -> dict:
    """The service a path names by SID or unique name (the description leaves ServiceSid free for the name)."""
    for service in call.emulator.table("serverless_services").values():
        if key in (service["sid"], service["unique_name"]):
            return service
    raise not_found(call.path)


def _owned(call: Call, kind: str, sid: str, **parents: str) -> dict:
    """The resource, if it belongs to the parents the path names: a variable of another environment is a 404."""
    item = call.emulator.table(kind).get(sid)
    if item is None or any(item[field] != value for field, value in parents.items()):
        raise not_found(call.path)
    return item


def _environment(call: Call, sid: str) -> dict:
    service = _service(call, call.params["ServiceSid"])
    return _owned(call, "serverless_environments", sid, service_sid=service["sid"])


def _variable(call: Call) -> dict:
    environment = _environment(call, call.params["EnvironmentSid"])
    return _owned(call, "serverless_variables", call.params["Sid"], environment_sid=environment["sid"])


def _function_version_of(call: Call) -> dict:
    service = _service(call, call.params["ServiceSid"])
    function = _owned(call, "serverless_functions", call.params["FunctionSid"], service_sid=service["sid"])
    return _owned(call, "serverless_function_versions", call.params["Sid"], function_sid=function["sid"])


# Variable rules -----------------------------------------------------------------------------------------


def _check_limits(key: str, value: str) -> None:
    if len(key) > KEY_MAX_CHARACTERS:
        raise TwilioError(400, 20001, f"Key must be at most {KEY_MAX_CHARACTERS} characters long, got {len(key)}")
    size = len(value.encode("utf-8"))
    if size > VALUE_MAX_BYTES:
        raise TwilioError(400, 20001, f"Value must be at most {VALUE_MAX_BYTES} bytes, got {size}")


def _refuse_taken_key(call: Call, environment_sid: str, key: str) -> None:
    """Keys are unique in an environment; Serverless answers a conflict with 409."""
    if _variable_named(call.emulator, environment_sid, key) is not None:
        raise TwilioError(409, 20409, f"A Variable with key {key!r} already exists in environment {environment_sid}")


# Routes -------------------------------------------------------------------------------------------------


@route("serverless", "GET", "/v1/Services")
def list_services(call: Call):
    return page(call, "services", list(call.emulator.table("serverless_services").values()))


@route("serverless", "GET", "/v1/Services/{Sid}")
def fetch_service(call: Call):
    return 200, _service(call, call.params["Sid"])


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments")
def list_environments(call: Call):
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    environments = [
        e for e in call.emulator.table("serverless_environments").values() if e["service_sid"] == service_sid
    ]
    return page(call, "environments", environments)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments/{Sid}")
def fetch_environment(call: Call):
    return 200, _environment(call, call.params["Sid"])


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables")
def list_variables(call: Call):
    environment_sid = _environment(call, call.params["EnvironmentSid"])["sid"]
    return page(call, "variables", variables_of(call.emulator, environment_sid))


@route("serverless", "POST", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables")
def create_variable(call: Call):
    environment = _environment(call, call.params["EnvironmentSid"])
    key, value = call.body["Key"], call.body["Value"]
    _check_limits(key, value)
    _refuse_taken_key(call, environment["sid"], key)
    return 201, _new_variable(call.emulator, environment["service_sid"], environment["sid"], key, value)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables/{Sid}")
def fetch_variable(call: Call):
    return 200, _variable(call)


@route("serverless", "POST", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables/{Sid}")
def update_variable(call: Call):
    """Key and Value are each optional: what is not given stays."""
    variable = _variable(call)
    key, value = call.body.get("Key", variable["key"]), call.body.get("Value", variable["value"])
    _check_limits(key, value)
    if key != variable["key"]:
        _refuse_taken_key(call, variable["environment_sid"], key)
    variable.update(key=key, value=value, date_updated=now_iso())
    return 200, variable


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Builds/{Sid}")
def fetch_build(call: Call):
    service = _service(call, call.params["ServiceSid"])
    return 200, _owned(call, "serverless_builds", call.params["Sid"], service_sid=service["sid"])


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions/{Sid}")
def fetch_function_version(call: Call):
    return 200, _function_version_of(call)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions/{Sid}/Content")
def fetch_function_version_content(call: Call):
    return 200, call.emulator.table("serverless_function_version_contents")[_function_version_of(call)["sid"]]
