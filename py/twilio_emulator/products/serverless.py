"""Serverless: the Functions service a handover is deployed to, its environments, variables, builds and deployments.

A deploy is served as the Serverless Toolkit's engine (`twilio-run deploy`, @twilio-labs/serverless-api's
`deployProject`) makes it: it creates the service and the environment, lists and creates the Functions and Assets
(named by their paths), uploads one version of each, creates a build of them, reads the build's status once a
second until it is `completed` (or `failed`), sets the variables and deploys the build to the environment.
`deploy_build` seeds the same in one step, with a build completed at once.

**Uploads are assumed.** The Toolkit uploads a version (`POST /v1/Services/{ServiceSid}/Functions/{FunctionSid}/
Versions`, and the same under Assets) to serverless-upload.twilio.com as multipart/form-data with the fields Path,
Visibility and Content (a file part); twilio_serverless_v1.json describes no such operation (its Versions are
read-only). The answer assumed is the described version resource (an asset version's without links, a function
version's with the link to its content), 201 as the described creates answer; the Toolkit only reads its `sid`.

**Builds take time.** A build created through the API is `building` until the account's clock has passed its
creation by the build time (`set_build_seconds`, 1 s by default: the Toolkit, which waits 1 s between status reads,
finds it building once), then `completed`, or `failed` if `fail_next_build` asked for it. Its Runtime must be
one of RUNTIMES (Twilio's 82007, Unsupported Runtime, otherwise); without one it is the runtime of the service's
last completed build (82007 too when that one is retired, as Twilio's error page says), else node22, which Twilio
documents as the default for a service not yet deployed. RUNTIMES are those Twilio still builds on: node24 (available
since July 2026) and node22. node18 was retired on 2025-11-10 (deployments on it fail, Twilio's changelog); node20 is
assumed retired too: Twilio published no date, but the Serverless Toolkit's maintainers say new builds on it are
refused (twilio-labs/serverless-toolkit pull request #565), and Node.js 20 itself ended on 2026-04-30. A build
already deployed on a retired runtime keeps serving, as on Twilio.
Dependencies is JSON text of an array of {name, version}; the Toolkit sends it inside one more pair of double
quotes (`"[{"name":…}]"`, unescaped), which is accepted too. Only a completed build of the environment's service
may be deployed.
"""

from __future__ import annotations

import json
from datetime import timedelta

from ..errors import TwilioError, not_found
from ..formats import now_iso
from ..responses import page
from ..routes import Call, assumed_route, route
from ..state import AccountState, declare_tables

# Functions and Assets each have their resources, versions and versions' contents (by version SID). A build being
# built has its progress (when it ends, and how) until it ends; settings hold the build time and failures asked for.
TABLES = declare_tables(
    __name__,
    "serverless_services",
    "serverless_environments",
    "serverless_variables",
    "serverless_builds",
    "serverless_build_progress",
    "serverless_deployments",
    "serverless_functions",
    "serverless_function_versions",
    "serverless_function_version_contents",
    "serverless_assets",
    "serverless_asset_versions",
    "serverless_asset_version_contents",
    "serverless_settings",
)

BASE = "https://serverless.twilio.com/v1/Services"
DEFAULT_RUNTIME = "node22"
RUNTIMES = ("node22", "node24")
VISIBILITIES = ("public", "protected", "private")
BUILD_SECONDS = 1.0
KEY_MAX_CHARACTERS = 128  # the documented limits of a Variable
VALUE_MAX_BYTES = 450


# Seeding ----------------------------------------------------------------------------------------------


def add_service(
    emulator: AccountState,
    unique_name: str,
    friendly_name: str | None = None,
    include_credentials: bool = True,
    ui_editable: bool = False,
) -> dict:
    sid = emulator.new_sid("ZS")
    url = f"{BASE}/{sid}"
    service = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "friendly_name": friendly_name or unique_name,
        "unique_name": unique_name,
        "include_credentials": include_credentials,
        "ui_editable": ui_editable,
        # Twilio adds four random digits to the unique name; these come from the SID, so a run repeats.
        "domain_base": f"{unique_name}-{int(sid[2:], 16) % 10000:04d}",
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {name.lower(): f"{url}/{name}" for name in ("Environments", "Functions", "Assets", "Builds")},
    }
    emulator.table("serverless_services")[sid] = service
    return service


def add_environment(
    emulator: AccountState, service_sid: str, domain_suffix: str | None = "dev", unique_name: str | None = None
) -> dict:
    """An environment as the Serverless Toolkit creates it; no build until one is deployed.

    With a domain suffix it is `<suffix>-environment` at `<domain_base>-<suffix>.twil.io`; without one (None or
    empty), `production` at `<domain_base>.twil.io`, its domain_suffix null. `unique_name` overrides the name.
    """
    service = emulator.table("serverless_services")[service_sid]
    sid = emulator.new_sid("ZE")
    url = f"{service['url']}/Environments/{sid}"
    host = f"{service['domain_base']}-{domain_suffix}" if domain_suffix else service["domain_base"]
    environment = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "build_sid": None,
        "unique_name": unique_name or (f"{domain_suffix}-environment" if domain_suffix else "production"),
        "domain_suffix": domain_suffix or None,
        "domain_name": f"{host}.twil.io",
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
    """Deploy files to the environment, as `twilio serverless:deploy` does; the build is completed at once.

    `files` have the attributes kind ("function" or "asset"), path (the Serverless path), visibility and content,
    as the toolkit maps a project's files. `dependencies` are package.json's, name → version.
    """
    function_versions = [_version(emulator, service_sid, f) for f in files if f.kind == "function"]
    asset_versions = [_version(emulator, service_sid, f) for f in files if f.kind == "asset"]
    listed = [{"name": name, "version": version} for name, version in (dependencies or {}).items()]
    runtime = _default_runtime(emulator, service_sid)
    build = _new_build(emulator, service_sid, function_versions, asset_versions, listed, runtime, "completed")
    _deploy(emulator, emulator.table("serverless_environments")[environment_sid], build)
    return build


def set_build_seconds(emulator: AccountState, seconds: float) -> None:
    """How long, on the account's clock, the builds created from now on take (a reset brings back BUILD_SECONDS)."""
    with emulator.lock:
        _build_settings(emulator)["seconds"] = seconds


def fail_next_build(emulator: AccountState) -> None:
    """Make the next build created through the API end `failed` instead of `completed` (each call, one more)."""
    with emulator.lock:
        _build_settings(emulator)["failures"] += 1


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
    return existing or _new_resource(emulator, service_sid, kind, path)


def _new_resource(emulator: AccountState, service_sid: str, kind: str, friendly_name: str) -> dict:
    sid = emulator.new_sid("ZH")
    url = f"{BASE}/{service_sid}/{kind.title()}s/{sid}"
    resource = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "friendly_name": friendly_name,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {f"{kind}_versions": f"{url}/Versions"},
    }
    emulator.table(f"serverless_{kind}s")[sid] = resource
    return resource


def _version(emulator: AccountState, service_sid: str, file) -> dict:
    parent = _resource(emulator, service_sid, file.kind, file.path)
    return _add_version(emulator, file.kind, parent, file.path, file.visibility, file.content)


def _add_version(emulator: AccountState, kind: str, parent: dict, path: str, visibility: str, content) -> dict:
    """A new version of the Function or Asset, its content kept (text, or bytes for an asset that is not UTF-8)."""
    sid = emulator.new_sid("ZN")
    version = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": parent["service_sid"],
        f"{kind}_sid": parent["sid"],
        "path": path,
        "visibility": visibility,
        "date_created": now_iso(),
        "url": f"{parent['url']}/Versions/{sid}",
    }
    if kind == "function":
        version["links"] = {"function_version_content": f"{version['url']}/Content"}
    emulator.table(f"serverless_{kind}_versions")[sid] = version
    # The source, shaped as Twilio's Content resource; an asset's is kept too, as what was deployed.
    emulator.table(f"serverless_{kind}_version_contents")[sid] = {
        **{field: version[field] for field in ("sid", "account_sid", "service_sid", f"{kind}_sid")},
        "content": content,
        "url": f"{version['url']}/Content",
    }
    return version


def _new_build(
    emulator: AccountState,
    service_sid: str,
    function_versions: list[dict],
    asset_versions: list[dict],
    dependencies: list[dict],
    runtime: str,
    status: str,
) -> dict:
    sid = emulator.new_sid("ZB")
    url = f"{BASE}/{service_sid}/Builds/{sid}"
    build = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": service_sid,
        "status": status,
        "asset_versions": [_in_build(version, "asset") for version in asset_versions],
        "function_versions": [_in_build(version, "function") for version in function_versions],
        "dependencies": dependencies,
        "runtime": runtime,
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": url,
        "links": {"build_status": f"{url}/Status"},
    }
    emulator.table("serverless_builds")[sid] = build
    return build


def _in_build(version: dict, kind: str) -> dict:
    """A version as a build lists it: no URL, and the visibility in capitals, as Twilio's example shows."""
    fields = ("sid", "account_sid", "service_sid", f"{kind}_sid", "date_created", "path")
    return {**{field: version[field] for field in fields}, "visibility": version["visibility"].upper()}


def _default_runtime(emulator: AccountState, service_sid: str) -> str:
    """The runtime of the service's last completed build; DEFAULT_RUNTIME for a service not yet built."""
    builds = emulator.table("serverless_builds").values()
    runtimes = [b["runtime"] for b in builds if b["service_sid"] == service_sid and b["status"] == "completed"]
    return runtimes[-1] if runtimes else DEFAULT_RUNTIME


def _build_settings(emulator: AccountState) -> dict:
    return emulator.table("serverless_settings").setdefault("builds", {"seconds": BUILD_SECONDS, "failures": 0})


def _schedule(emulator: AccountState, build_sid: str) -> None:
    """When the build ends, and how: failed if a failure was asked for, else completed."""
    settings = _build_settings(emulator)
    failing = settings["failures"] > 0
    settings["failures"] -= failing
    emulator.table("serverless_build_progress")[build_sid] = {
        "ends": emulator.now() + timedelta(seconds=settings["seconds"]),
        "status": "failed" if failing else "completed",
    }


def _settle_builds(emulator: AccountState) -> None:
    """End every build whose build time has passed on the account's clock."""
    progress = emulator.table("serverless_build_progress")
    for sid, outcome in list(progress.items()):
        if emulator.now() >= outcome["ends"]:
            emulator.table("serverless_builds")[sid].update(status=outcome["status"], date_updated=now_iso())
            del progress[sid]


def _deploy(emulator: AccountState, environment: dict, build: dict) -> dict:
    """A deployment of the build to the environment, which runs the build from now on."""
    sid = emulator.new_sid("ZD")
    deployment = {
        "sid": sid,
        "account_sid": emulator.account.sid,
        "service_sid": environment["service_sid"],
        "environment_sid": environment["sid"],
        "build_sid": build["sid"],
        "date_created": now_iso(),
        "date_updated": now_iso(),
        "url": f"{environment['url']}/Deployments/{sid}",
    }
    emulator.table("serverless_deployments")[sid] = deployment
    environment.update(build_sid=build["sid"], date_updated=now_iso())
    return deployment


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


def _resource_of(call: Call, kind: str, sid: str) -> dict:
    """The Function or Asset of the path's service."""
    service = _service(call, call.params["ServiceSid"])
    return _owned(call, f"serverless_{kind}s", sid, service_sid=service["sid"])


def _parent(call: Call, kind: str) -> dict:
    """The Function or Asset whose versions the path names ({FunctionSid} or {AssetSid})."""
    return _resource_of(call, kind, call.params[f"{kind.title()}Sid"])


def _version_of(call: Call, kind: str) -> dict:
    parent = _parent(call, kind)
    return _owned(call, f"serverless_{kind}_versions", call.params["Sid"], **{f"{kind}_sid": parent["sid"]})


def _build(call: Call) -> dict:
    """The path's build of the path's service, as it is now on the account's clock."""
    _settle_builds(call.emulator)
    service = _service(call, call.params["ServiceSid"])
    return _owned(call, "serverless_builds", call.params["Sid"], service_sid=service["sid"])


# Request rules ------------------------------------------------------------------------------------------


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


def _refuse_taken_service_name(call: Call, unique_name: str) -> None:
    if any(s["unique_name"] == unique_name for s in call.emulator.table("serverless_services").values()):
        raise TwilioError(409, 20409, f"A Service with UniqueName {unique_name!r} already exists")


def _refuse_taken_environment(call: Call, service_sid: str, unique_name: str, domain_suffix: str | None) -> None:
    """A service's environments differ in unique name and in domain suffix (production's being none)."""
    for environment in call.emulator.table("serverless_environments").values():
        if environment["service_sid"] == service_sid and (
            environment["unique_name"] == unique_name or environment["domain_suffix"] == domain_suffix
        ):
            raise TwilioError(409, 20409, "Environment with this UniqueName or DomainSuffix already exists.")


def _versions_in(call: Call, kind: str, service_sid: str, sids: list[str]) -> list[dict]:
    """The versions a build names, each of which must be a version of the service."""
    table = call.emulator.table(f"serverless_{kind}_versions")
    for sid in sids:
        if sid not in table or table[sid]["service_sid"] != service_sid:
            title = kind.title()
            raise TwilioError(400, 20001, f"{title}Versions: {sid} is no {title} Version of service {service_sid}")
    return [table[sid] for sid in sids]


def _dependencies(text: str) -> list[dict]:
    """Dependencies as JSON text of [{name, version}], bare or in the one more pair of quotes the Toolkit adds."""
    unquoted = text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text
    try:
        dependencies = json.loads(unquoted)
    except ValueError:
        dependencies = None
    if not isinstance(dependencies, list) or not all(_is_dependency(d) for d in dependencies):
        raise TwilioError(400, 20001, f"Dependencies must be a JSON array of {{name, version}} objects, got {text!r}")
    return [{"name": d["name"], "version": d["version"]} for d in dependencies]


def _is_dependency(item: object) -> bool:
    return isinstance(item, dict) and all(isinstance(item.get(field), str) for field in ("name", "version"))


def _runtime(emulator: AccountState, service_sid: str, requested: str | None) -> str:
    runtime = requested or _default_runtime(emulator, service_sid)
    if runtime not in RUNTIMES:
        raise TwilioError(400, 82007, f"Unsupported Runtime {runtime!r}: the runtimes are {', '.join(RUNTIMES)}")
    return runtime


def _deployable(call: Call, service_sid: str, build_sid: str | None) -> dict:
    """The build a deployment names: a completed build of the environment's service."""
    if build_sid is None:
        raise TwilioError(400, 20001, "BuildSid is required: the emulator deploys a build")
    _settle_builds(call.emulator)
    build = call.emulator.table("serverless_builds").get(build_sid)
    if build is None or build["service_sid"] != service_sid:
        raise TwilioError(400, 20001, f"BuildSid {build_sid} is no Build of service {service_sid}")
    if build["status"] != "completed":
        status = build["status"]
        raise TwilioError(400, 20001, f"Build {build_sid}'s status is {status}: only a completed build may be deployed")
    return build


def _upload_fields(call: Call, kind: str) -> tuple[str, str, object]:
    """Path, visibility and content of an upload: a multipart form of Path, Visibility and Content (a file)."""
    if not call.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise TwilioError(400, 20001, "A version is uploaded as multipart/form-data")
    path, visibility, file = (call.body.get(name) for name in ("Path", "Visibility", "Content"))
    if not isinstance(path, str) or not path:
        raise TwilioError(400, 20001, "Path is required")
    if visibility not in VISIBILITIES:
        raise TwilioError(400, 20001, f"Visibility must be one of {', '.join(VISIBILITIES)}, got {visibility!r}")
    if not isinstance(file, dict):
        raise TwilioError(400, 20001, "Content must be a file part (with a filename)")
    if kind == "function" and not isinstance(file["content"], str):
        raise TwilioError(400, 20001, "A Function's Content must be UTF-8 text")
    return path, visibility, file["content"]


# Routes: services and environments ----------------------------------------------------------------------


@route("serverless", "GET", "/v1/Services")
def list_services(call: Call):
    return page(call, "services", list(call.emulator.table("serverless_services").values()))


@route("serverless", "POST", "/v1/Services")
def create_service(call: Call):
    body = call.body
    _refuse_taken_service_name(call, body["UniqueName"])
    options = {
        "include_credentials": body.get("IncludeCredentials", True),
        "ui_editable": body.get("UiEditable", False),
    }
    return 201, add_service(call.emulator, body["UniqueName"], body["FriendlyName"], **options)


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


@route(
    "serverless",
    "POST",
    "/v1/Services/{ServiceSid}/Environments",
    # The Serverless Toolkit's createEnvironmentFromSuffix has sent it on every `twilio serverless:deploy` since
    # 2019 ("this property currently doesn't exist but for the future lets set it"), and Twilio takes it.
    undescribed={"FriendlyName": "sent by the Serverless Toolkit's deploy, which Twilio accepts"},
)
def create_environment(call: Call):
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    unique_name, domain_suffix = call.body["UniqueName"], call.body.get("DomainSuffix") or None
    _refuse_taken_environment(call, service_sid, unique_name, domain_suffix)
    return 201, add_environment(call.emulator, service_sid, domain_suffix, unique_name)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments/{Sid}")
def fetch_environment(call: Call):
    return 200, _environment(call, call.params["Sid"])


# Routes: variables --------------------------------------------------------------------------------------


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


@route("serverless", "DELETE", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Variables/{Sid}")
def delete_variable(call: Call):
    del call.emulator.table("serverless_variables")[_variable(call)["sid"]]
    return 204, None


# Routes: functions, assets and their versions -------------------------------------------------------------


def _list_resources(call: Call, kind: str):
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    resources = [r for r in call.emulator.table(f"serverless_{kind}s").values() if r["service_sid"] == service_sid]
    return page(call, f"{kind}s", resources)


def _create_resource(call: Call, kind: str):
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    return 201, _new_resource(call.emulator, service_sid, kind, call.body["FriendlyName"])


def _list_versions(call: Call, kind: str):
    parent_sid = _parent(call, kind)["sid"]
    versions = call.emulator.table(f"serverless_{kind}_versions").values()
    return page(call, f"{kind}_versions", [v for v in versions if v[f"{kind}_sid"] == parent_sid])


def _upload(call: Call, kind: str):
    parent = _parent(call, kind)
    path, visibility, content = _upload_fields(call, kind)
    return 201, _add_version(call.emulator, kind, parent, path, visibility, content)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions")
def list_functions(call: Call):
    return _list_resources(call, "function")


@route("serverless", "POST", "/v1/Services/{ServiceSid}/Functions")
def create_function(call: Call):
    return _create_resource(call, "function")


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions/{Sid}")
def fetch_function(call: Call):
    return 200, _resource_of(call, "function", call.params["Sid"])


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions")
def list_function_versions(call: Call):
    return _list_versions(call, "function")


@assumed_route("serverless-upload", "POST", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions")
def upload_function_version(call: Call):
    return _upload(call, "function")


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions/{Sid}")
def fetch_function_version(call: Call):
    return 200, _version_of(call, "function")


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions/{Sid}/Content")
def fetch_function_version_content(call: Call):
    return 200, call.emulator.table("serverless_function_version_contents")[_version_of(call, "function")["sid"]]


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Assets")
def list_assets(call: Call):
    return _list_resources(call, "asset")


@route("serverless", "POST", "/v1/Services/{ServiceSid}/Assets")
def create_asset(call: Call):
    return _create_resource(call, "asset")


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Assets/{Sid}")
def fetch_asset(call: Call):
    return 200, _resource_of(call, "asset", call.params["Sid"])


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions")
def list_asset_versions(call: Call):
    return _list_versions(call, "asset")


@assumed_route("serverless-upload", "POST", "/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions")
def upload_asset_version(call: Call):
    return _upload(call, "asset")


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions/{Sid}")
def fetch_asset_version(call: Call):
    return 200, _version_of(call, "asset")


# Routes: builds and deployments ---------------------------------------------------------------------------


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Builds")
def list_builds(call: Call):
    _settle_builds(call.emulator)
    service_sid = _service(call, call.params["ServiceSid"])["sid"]
    builds = [b for b in call.emulator.table("serverless_builds").values() if b["service_sid"] == service_sid]
    return page(call, "builds", builds)


@route("serverless", "POST", "/v1/Services/{ServiceSid}/Builds")
def create_build(call: Call):
    _settle_builds(call.emulator)
    service_sid, body = _service(call, call.params["ServiceSid"])["sid"], call.body
    function_versions = _versions_in(call, "function", service_sid, body.get("FunctionVersions", []))
    asset_versions = _versions_in(call, "asset", service_sid, body.get("AssetVersions", []))
    if not function_versions and not asset_versions:
        raise TwilioError(400, 20001, "At least one function version or asset version is required")
    dependencies = _dependencies(body.get("Dependencies", "[]"))
    runtime = _runtime(call.emulator, service_sid, body.get("Runtime"))
    build = _new_build(call.emulator, service_sid, function_versions, asset_versions, dependencies, runtime, "building")
    _schedule(call.emulator, build["sid"])
    return 201, build


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Builds/{Sid}")
def fetch_build(call: Call):
    return 200, _build(call)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Builds/{Sid}/Status")
def fetch_build_status(call: Call):
    build = _build(call)
    return 200, {
        **{f: build[f] for f in ("sid", "account_sid", "service_sid", "status")},
        "url": f"{build['url']}/Status",
    }


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments")
def list_deployments(call: Call):
    environment_sid = _environment(call, call.params["EnvironmentSid"])["sid"]
    deployments = call.emulator.table("serverless_deployments").values()
    return page(call, "deployments", [d for d in deployments if d["environment_sid"] == environment_sid])


@route("serverless", "POST", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments")
def create_deployment(call: Call):
    environment = _environment(call, call.params["EnvironmentSid"])
    build = _deployable(call, environment["service_sid"], call.body.get("BuildSid"))
    return 201, _deploy(call.emulator, environment, build)


@route("serverless", "GET", "/v1/Services/{ServiceSid}/Environments/{EnvironmentSid}/Deployments/{Sid}")
def fetch_deployment(call: Call):
    environment_sid = _environment(call, call.params["EnvironmentSid"])["sid"]
    return 200, _owned(call, "serverless_deployments", call.params["Sid"], environment_sid=environment_sid)
