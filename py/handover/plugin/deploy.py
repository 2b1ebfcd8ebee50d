"""`handover plugin deploy`: the built bundle hosted and released as the Flex plugins tooling does it.

The bundle goes to Twilio Assets as @twilio/flex-plugin-scripts' deploy puts it there: the Serverless service
named `default` ("Flex Plugins Default Service"), its environment named after the plugin (a 5-character random
domain suffix, as the tooling makes it), a new Asset per file with one version uploaded to
serverless-upload.twilio.com (multipart Path, Visibility `protected`, Content) at
`/plugins/<name>/<version>/bundle.js` (and the source map beside it), a build of the environment's current
files with those replacing any at the same paths, a deployment of it, and the service registered in the Flex
configuration's `serverless_service_sids`, with `ui_attributes.handoverBaseUrl` set to the kit's deployed Functions
environment (where Return to AI sends the agent's hand-back; the other ui_attributes sent back as they are). The
bundle's URL is then `https://<domain>/plugins/<name>/<version>/
bundle.js`. Then the Flex Plugins API, as the Flex Plugins CLI's deploy and release do: the Plugin (created if it
is not there), a private Plugin Version of that URL, a Configuration of the active release's plugins with this
version in place of any other of the plugin, and a Release of it.

Everything is read first, and only what is missing is written, in that order:

- A Plugin Version never changes, so package.json's version is the deploy's identity: a version already there
  whose changelog carries this bundle's SHA-256 is this build (nothing uploaded, no version created); one with
  another bundle, or a version not above the plugin's latest, stops the deploy before any write (raise the
  version in package.json). The Serverless side is written only for a version not yet created, or when the
  environment's build no longer holds the bundle's path.
- The configuration and release are written only when the active release does not already load this version.

So a second deploy of the same build writes nothing. `dry_run` reads the same and writes nothing. A write that
fails raises DeployFailed naming the writes applied before it; running again resumes from what is missing.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import contract
from ..account.sdk import TwilioFailure, listed
from ..errors import HandoverError, PartlyApplied
from ..outcomes import UNCHANGED
from .bundle import Bundle

SERVICE_UNIQUE_NAME = "default"
SERVICE_FRIENDLY_NAME = "Flex Plugins Default Service"
DOMAIN_SUFFIX_LENGTH = 5
VISIBILITY = "protected"
SERVERLESS = "https://serverless.twilio.com/v1/Services"
UPLOADS = "https://serverless-upload.twilio.com/v1/Services"
PLUGIN_SERVICE = "https://flex-api.twilio.com/v1/PluginService"
FLEX_CONFIGURATION = "https://flex-api.twilio.com/v1/Configuration"
CHANGELOG = "Deployed by handover plugin deploy; bundle sha256:{sha256}"
BUNDLE_HASH = re.compile(r"sha256:([0-9a-f]{64})")
CONFIGURATION_DESCRIPTION = "Released by handover plugin deploy"
PHASE = 3  # the phase the Flex plugins tooling gives every plugin
BUILD_POLL_SECONDS = 1.0  # as the tooling polls a build
BUILD_TIMEOUT_SECONDS = 600
BUILDING, BUILT = "building", "completed"  # a Serverless build's statuses before and after it succeeds
DEPLOY_COMMAND = "handover plugin deploy"
NEW = "(new)"  # a SID that exists only once a write of the dry run is made
NOTHING_WRITTEN = "Nothing was written."
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")

DEPLOYED, TO_DEPLOY = "deployed", "to deploy"


class VersionConflict(HandoverError):
    """package.json's version cannot be deployed (taken by another bundle, or not above the latest); nothing
    was written."""


class NoFlex(HandoverError):
    """The account has no Flex; nothing was written."""


class DeployFailed(PartlyApplied):
    """A write failed part-way; `result` lists the writes applied before it."""

    def __init__(self, result: DeployResult, why: str):
        applied = "; ".join(str(write) for write in result.applied) or "nothing"
        super().__init__(
            f"{why}. Applied before the failure: {applied}. Run `{DEPLOY_COMMAND}` again: it writes only what is "
            "still missing."
        )
        self.result = result


def semver_key(version: str) -> tuple | None:
    """Semantic versioning's precedence as a sort key (a pre-release before its release); None if not semver."""
    match = SEMVER.match(version)
    if match is None:
        return None
    *numbers, prerelease = match.groups()
    release = tuple(int(number) for number in numbers)
    if prerelease is None:
        return (*release, 1, ())
    return (*release, 0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in prerelease.split(".")))


@dataclass(frozen=True)
class Write:
    """One request that changes the account: its method, URL and parameters (file contents by size and hash)."""

    step: str
    method: str
    url: str
    body: dict

    def as_json(self) -> dict:
        return {"step": self.step, "method": self.method, "url": self.url, "body": self.body}

    def __str__(self) -> str:
        return f"{self.method} {self.url} {json.dumps(self.body)}"


@dataclass
class DeployResult:
    """What `plugin deploy` did (or, in a dry run, would do)."""

    plugin: str
    version: str
    sha256: str
    dry_run: bool
    plugin_url: str | None = None  # None only in a dry run that would create the environment
    writes: list[Write] = field(default_factory=list)  # made, or in a dry run to make
    sids: dict[str, str | None] = field(default_factory=dict)

    @property
    def outcome(self) -> str:
        """deployed, unchanged (nothing to write), or in a dry run with writes to make, to deploy."""
        if not self.writes:
            return UNCHANGED
        return TO_DEPLOY if self.dry_run else DEPLOYED

    @property
    def applied(self) -> list[Write]:
        return [] if self.dry_run else self.writes

    def as_json(self) -> dict:
        return {
            "plugin": self.plugin,
            "version": self.version,
            "bundle_sha256": self.sha256,
            "plugin_url": self.plugin_url,
            "outcome": self.outcome,
            "dry_run": self.dry_run,
            "writes": [write.as_json() for write in self.writes],
            **self.sids,
        }


@dataclass
class Found:
    """What the account holds of the deploy, read before any write."""

    service: object = None
    environment: object = None
    build: object = None
    plugin: object = None
    version: object = None  # the Plugin Version of package.json's version, if there is one
    active_release: object = None
    active_plugins: list = field(default_factory=list)  # the active configuration's configured plugins
    registered_services: list[str] = field(default_factory=list)
    ui_attributes: dict = field(default_factory=dict)  # the Flex configuration's, which Flex UI hands the plugin


def _missing(error: Exception) -> bool:
    failure = TwilioFailure.of(error)
    return failure is not None and failure.status == 404


def _fetch_or_none(fetch: Callable):
    from twilio.base.exceptions import TwilioRestException

    try:
        return fetch()
    except TwilioRestException as error:
        if not _missing(error):
            raise
        return None


def read(client, bundle: Bundle) -> Found:
    """Every read the deploy needs (Serverless, the Flex configuration, the Plugins API), before any write."""
    name = bundle.package.name
    found = Found()
    services = listed(client.serverless.v1.services)
    found.service = next((s for s in services if s.unique_name == SERVICE_UNIQUE_NAME), None)
    if found.service is not None:
        environments = listed(client.serverless.v1.services(found.service.sid).environments)
        found.environment = next((e for e in environments if e.unique_name == name), None)
    if found.environment is not None and found.environment.build_sid:
        found.build = client.serverless.v1.services(found.service.sid).builds(found.environment.build_sid).fetch()
    flex = client.flex_api.v1
    configuration = _fetch_or_none(lambda: flex.configuration().fetch())
    if configuration is None:
        raise NoFlex(
            f"Account {client.account_sid} has no Flex instance (its Flex configuration is not found), so it has no "
            f"agents' screen to load the plugin in. Create one in Console > Flex > Overview, or use the account that "
            f"has Flex. {NOTHING_WRITTEN}"
        )
    found.registered_services = list(configuration.serverless_service_sids or [])
    found.ui_attributes = dict(configuration.ui_attributes or {})
    found.plugin = _fetch_or_none(lambda: flex.plugins(name).fetch())
    if found.plugin is not None and found.plugin.archived:
        raise VersionConflict(
            f"Flex Plugin {name} ({found.plugin.sid}) is archived, and an archived plugin takes no new version. "
            f"Deploy under another `name` in {bundle.package.folder / 'package.json'}. {NOTHING_WRITTEN}"
        )
    if found.plugin is not None:
        versions = listed(flex.plugins(found.plugin.sid).plugin_versions)
        _check_version(bundle, versions)
        found.version = next((v for v in versions if v.version == bundle.package.version), None)
    found.active_release = _fetch_or_none(lambda: flex.plugin_releases("Active").fetch())
    if found.active_release is not None:
        found.active_plugins = listed(flex.plugin_configurations(found.active_release.configuration_sid).plugins)
    return found


def released_version(client, name: str):
    """(the active release, the plugin as its configuration lists it): None for what is not there."""
    flex = client.flex_api.v1
    release = _fetch_or_none(lambda: flex.plugin_releases("Active").fetch())
    if release is None:
        return None, None
    configured = listed(flex.plugin_configurations(release.configuration_sid).plugins)
    return release, next((p for p in configured if p.unique_name == name), None)


def _check_version(bundle: Bundle, versions: list) -> None:
    """VersionConflict unless package.json's version is this bundle's, or above every version of the plugin."""
    package = bundle.package
    where = f"{package.folder / 'package.json'}"
    ours = semver_key(package.version)
    if ours is None:
        raise VersionConflict(
            f"{where} has version {package.version!r}, not a semantic version (MAJOR.MINOR.PATCH), which Flex Plugin "
            f"Versions are. Fix it, build, and deploy again. {NOTHING_WRITTEN}"
        )
    same = next((v for v in versions if v.version == package.version), None)
    if same is not None:
        deployed = BUNDLE_HASH.search(same.changelog or "")
        if deployed is None or deployed.group(1) != bundle.sha256:
            shown = f"bundle sha256:{deployed.group(1)}" if deployed else "a bundle not deployed by the kit"
            raise VersionConflict(
                f"{package.name} {package.version} is already deployed ({same.sid}, {shown}), and this build is "
                f"another (sha256:{bundle.sha256}). A Flex Plugin Version never changes: raise `version` in {where}, "
                f"run `handover plugin build`, then deploy again. {NOTHING_WRITTEN}"
            )
        return
    keyed = [(semver_key(v.version), v.version) for v in versions if semver_key(v.version) is not None]
    latest = max(keyed, default=None)
    if latest is not None and ours < latest[0]:
        raise VersionConflict(
            f"{package.name} {package.version} is below its latest deployed version, {latest[1]}: Flex Plugin "
            f"Versions only increase. Raise `version` in {where} above {latest[1]}, build, and deploy again. "
            f"{NOTHING_WRITTEN}"
        )


def bundle_path(name: str, version: str, file: str = "bundle.js") -> str:
    """Where the Flex plugins tooling puts a plugin version's file in the Serverless environment."""
    return f"/plugins/{name}/{version}/{file}"


def _multipart(fields: dict[str, str], file_name: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body of the fields and one file part `Content`, and its Content-Type."""
    boundary = "handover-" + secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="Content"; filename="{file_name}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _upload(client, url: str, path: str, content: bytes, content_type: str) -> str:
    """Upload one asset version as the tooling does; its SID. A refused upload raises TwilioRestException."""
    from twilio.base.exceptions import TwilioRestException

    body, header = _multipart({"Path": path, "Visibility": VISIBILITY}, path.rsplit("/", 1)[-1], content, content_type)
    response = client.request("POST", url, data=body, headers={"Content-Type": header})
    answer = json.loads(response.text or "{}") if response.text else {}
    if not 200 <= response.status_code < 300:
        message = answer.get("message", response.text) if isinstance(answer, dict) else response.text
        code = answer.get("code") if isinstance(answer, dict) else None
        raise TwilioRestException(response.status_code, url, message, code, "POST")
    return answer["sid"]


class _JsonBody:
    """A JSON body for the SDK's `configuration().update(body=…)`, which sends `body.to_dict()`."""

    def __init__(self, value: dict):
        self.value = value

    def to_dict(self) -> dict:
        return self.value


class _Deployer:
    """Makes the deploy's writes in order (or, in a dry run, only lists them), recording each one made."""

    def __init__(self, client, bundle: Bundle, found: Found, result: DeployResult, poll_seconds, timeout_seconds):
        self.client, self.bundle, self.found, self.result = client, bundle, found, result
        self.poll_seconds, self.timeout_seconds = poll_seconds, timeout_seconds
        self.name, self.version = bundle.package.name, bundle.package.version

    def write(self, step: str, method: str, url: str, body: dict, send: Callable):
        """Send the write (not in a dry run) and record it; its answer, None in a dry run."""
        from requests import RequestException
        from twilio.base.exceptions import TwilioException

        planned = Write(step, method, url, body)
        if self.result.dry_run:
            self.result.writes.append(planned)
            return None
        try:
            answer = send()
        except (TwilioException, RequestException) as error:
            failure = TwilioFailure.of(error)
            why = failure.in_sentence() if failure else str(error)
            raise DeployFailed(self.result, f"{step.capitalize()} ({method} {url}) failed: {why}") from error
        self.result.writes.append(planned)
        return answer

    # The Serverless side ------------------------------------------------------------------------------------

    def host_bundle(self) -> None:
        found, serverless = self.found, self.client.serverless.v1
        service_sid = found.service.sid if found.service else None
        if service_sid is None:
            body = {"UniqueName": SERVICE_UNIQUE_NAME, "FriendlyName": SERVICE_FRIENDLY_NAME}
            created = self.write(
                "service",
                "POST",
                SERVERLESS,
                body,
                lambda: serverless.services.create(
                    unique_name=SERVICE_UNIQUE_NAME, friendly_name=SERVICE_FRIENDLY_NAME
                ),
            )
            service_sid = created.sid if created else NEW
        environment = found.environment
        if environment is None:
            suffix = "".join(
                secrets.choice(string.ascii_lowercase + string.digits) for _ in range(DOMAIN_SUFFIX_LENGTH)
            )
            environment = self.write(
                "environment",
                "POST",
                f"{SERVERLESS}/{service_sid}/Environments",
                {"UniqueName": self.name, "DomainSuffix": suffix},
                lambda: serverless.services(service_sid).environments.create(
                    unique_name=self.name, domain_suffix=suffix
                ),
            )
        environment_sid = environment.sid if environment else NEW
        if environment is not None:
            self.result.plugin_url = f"https://{environment.domain_name}{bundle_path(self.name, self.version)}"
        self.result.sids.update(service_sid=service_sid, environment_sid=environment_sid)
        if self._bundle_hosted():
            return
        files = [(bundle_path(self.name, self.version), self.bundle.content, "application/javascript")]
        if self.bundle.source_map is not None:
            files.append(
                (bundle_path(self.name, self.version, "bundle.js.map"), self.bundle.source_map, "application/json")
            )
        uploaded = [self._upload(service_sid, path, content, kind) for path, content, kind in files]
        build_sid = self._build(service_sid, [path for path, _, _ in files], uploaded)
        self.write(
            "deployment",
            "POST",
            f"{SERVERLESS}/{service_sid}/Environments/{environment_sid}/Deployments",
            {"BuildSid": build_sid},
            lambda: (
                serverless.services(service_sid).environments(environment_sid).deployments.create(build_sid=build_sid)
            ),
        )

    def _bundle_hosted(self) -> bool:
        """Whether the Plugin Version exists and the environment's build still serves its bundle's path."""
        build = self.found.build
        paths = {version["path"] for version in (build.asset_versions or [])} if build is not None else set()
        return self.found.version is not None and bundle_path(self.name, self.version) in paths

    def _upload(self, service_sid: str, path: str, content: bytes, content_type: str) -> str:
        serverless = self.client.serverless.v1
        asset = self.write(
            "asset",
            "POST",
            f"{SERVERLESS}/{service_sid}/Assets",
            {"FriendlyName": self.name},
            lambda: serverless.services(service_sid).assets.create(friendly_name=self.name),
        )
        asset_sid = asset.sid if asset else NEW
        url = f"{UPLOADS}/{service_sid}/Assets/{asset_sid}/Versions"
        summary = {"Path": path, "Visibility": VISIBILITY, "Content": f"{len(content)} bytes, {content_type}"}
        version_sid = self.write(
            "upload", "POST", url, summary, lambda: _upload(self.client, url, path, content, content_type)
        )
        return version_sid or NEW

    def _build(self, service_sid: str, paths: list[str], asset_versions: list[str]) -> str:
        """A build of the environment's current files with the uploaded ones in place of any at their paths,
        followed until it completes; its SID."""
        build, serverless = self.found.build, self.client.serverless.v1
        kept_assets = [v["sid"] for v in (build.asset_versions or []) if v["path"] not in paths] if build else []
        functions = [v["sid"] for v in (build.function_versions or [])] if build else []
        dependencies = json.dumps(build.dependencies or []) if build else "[]"
        assets = [*kept_assets, *asset_versions]
        body = {"AssetVersions": assets, "FunctionVersions": functions, "Dependencies": dependencies}
        created = self.write(
            "build",
            "POST",
            f"{SERVERLESS}/{service_sid}/Builds",
            body,
            lambda: serverless.services(service_sid).builds.create(
                asset_versions=assets, function_versions=functions, dependencies=dependencies
            ),
        )
        if created is None:
            return NEW
        self._wait_for(service_sid, created.sid)
        return created.sid

    def _wait_for(self, service_sid: str, build_sid: str) -> None:
        status = self.client.serverless.v1.services(service_sid).builds(build_sid).build_status
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            state = status().fetch().status
            if state == BUILT:
                return
            if state != BUILDING or time.monotonic() > deadline:
                why = f"ended {state}" if state != BUILDING else f"was still {state} after {self.timeout_seconds:.0f} s"
                raise DeployFailed(
                    self.result,
                    f"Serverless build {build_sid} of the bundle {why} (Console > Functions and Assets > Services > "
                    f"{SERVICE_UNIQUE_NAME} shows its logs)",
                )
            time.sleep(self.poll_seconds)

    def configure_flex(self, handover_base_url: str | None) -> None:
        """The Flex configuration, in one update of what differs: the service in its serverless_service_sids, as the
        tooling registers it, and the kit's Functions domain in ui_attributes.handoverBaseUrl, for Return to AI."""
        body = {"account_sid": self.client.account_sid}
        service_sid = self.result.sids["service_sid"]
        if service_sid not in self.found.registered_services:
            body["serverless_service_sids"] = [*self.found.registered_services, service_sid]
        key = contract.HANDOVER_BASE_URL_UI_ATTRIBUTE
        if handover_base_url and self.found.ui_attributes.get(key) != handover_base_url:
            # Sent whole: how Flex merges an object given for one item is not documented.
            body["ui_attributes"] = {**self.found.ui_attributes, key: handover_base_url}
        if len(body) == 1:
            return
        self.write(
            "flex configuration",
            "POST",
            FLEX_CONFIGURATION,
            body,
            lambda: self.client.flex_api.v1.configuration().update(body=_JsonBody(body)),
        )

    # The Flex Plugins API ------------------------------------------------------------------------------------

    def plugin_and_version(self) -> None:
        flex, found = self.client.flex_api.v1, self.found
        plugin = found.plugin
        if plugin is None:
            plugin = self.write(
                "plugin",
                "POST",
                f"{PLUGIN_SERVICE}/Plugins",
                {"UniqueName": self.name, "FriendlyName": self.name},
                lambda: flex.plugins.create(unique_name=self.name, friendly_name=self.name),
            )
        plugin_sid = plugin.sid if plugin else NEW
        version = found.version
        if version is None:
            url = (
                self.result.plugin_url
                or f"https://(the new environment's domain){bundle_path(self.name, self.version)}"
            )
            changelog = CHANGELOG.format(sha256=self.bundle.sha256)
            body = {"Version": self.version, "PluginUrl": url, "Private": True, "Changelog": changelog}
            version = self.write(
                "version",
                "POST",
                f"{PLUGIN_SERVICE}/Plugins/{plugin_sid}/Versions",
                body,
                lambda: flex.plugins(plugin_sid).plugin_versions.create(
                    resource_version=self.version, plugin_url=url, private=True, changelog=changelog
                ),
            )
        else:
            self.result.plugin_url = version.plugin_url
        self.result.sids.update(plugin_sid=plugin_sid, version_sid=version.sid if version else NEW)

    def release(self) -> None:
        flex, found = self.client.flex_api.v1, self.found
        version_sid = self.result.sids["version_sid"]
        active = found.active_release
        if any(p.plugin_version_sid == version_sid for p in found.active_plugins):
            self.result.sids.update(configuration_sid=active.configuration_sid, release_sid=active.sid)
            return
        plugin_sid = self.result.sids["plugin_sid"]
        others = [p for p in found.active_plugins if p.plugin_sid != plugin_sid and p.unique_name != self.name]
        plugins = [{"plugin_version": p.plugin_version_sid, "phase": p.phase} for p in others]
        plugins.append({"plugin_version": version_sid, "phase": PHASE})
        name = f"{self.name}@{self.version}"
        body = {"Name": name, "Plugins": plugins, "Description": CONFIGURATION_DESCRIPTION}
        configuration = self.write(
            "configuration",
            "POST",
            f"{PLUGIN_SERVICE}/Configurations",
            body,
            lambda: flex.plugin_configurations.create(
                name=name, plugins=plugins, description=CONFIGURATION_DESCRIPTION
            ),
        )
        configuration_sid = configuration.sid if configuration else NEW
        release = self.write(
            "release",
            "POST",
            f"{PLUGIN_SERVICE}/Releases",
            {"ConfigurationId": configuration_sid},
            lambda: flex.plugin_releases.create(configuration_id=configuration_sid),
        )
        self.result.sids.update(configuration_sid=configuration_sid, release_sid=release.sid if release else NEW)


def deploy(
    client,
    bundle: Bundle,
    dry_run: bool = False,
    handover_base_url: str | None = None,
    poll_seconds: float = BUILD_POLL_SECONDS,
    timeout_seconds: float = BUILD_TIMEOUT_SECONDS,
) -> DeployResult:
    """Read everything, then write what is missing (see the module docstring); in a dry run, write nothing.
    `handover_base_url`: the kit's deployed Functions environment (https://<domain>), for Return to AI; None leaves
    ui_attributes as they are."""
    found = read(client, bundle)
    package = bundle.package
    result = DeployResult(package.name, package.version, bundle.sha256, dry_run)
    deployer = _Deployer(client, bundle, found, result, poll_seconds, timeout_seconds)
    deployer.host_bundle()
    deployer.configure_flex(handover_base_url)
    deployer.plugin_and_version()
    deployer.release()
    return result
