"""What is deployed in a Functions environment, compared with the project's files.

The environment's build lists its function and asset versions; each function version's source is
read back through the Serverless API and compared with the local file, byte for byte, and each
version's visibility with the file's name. The Serverless API serves no asset content, so assets are
compared by path and visibility only. The build itself must run the runtime `.twilioserverlessrc` names
and install package.json's dependencies at their versions: the functions need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import runtimes
from ..errors import HandoverError
from ..project import deployed_files, read_package_json, read_rc
from .deployment import Deployment

MISSING, EXTRA, DIFFERENT = "missing", "extra", "different"
DEPLOY_FIX = "Run `twilio serverless:deploy` (or `npm run deploy`) from the project to deploy the local files."


class NoBuild(HandoverError):
    """The environment has no build deployed; the message says how to deploy one."""


@dataclass(frozen=True)
class Difference:
    kind: str  # "function", "asset" or "build"
    path: str  # a build's: "runtime" or "dependency <name>"
    problem: str  # missing (local, not deployed), extra (deployed, not local) or different
    detail: str | None = None  # how it differs, where the kind alone does not say

    @property
    def message(self) -> str:
        if self.detail:
            return self.detail
        return {
            MISSING: "is in the project but not deployed",
            EXTRA: "is deployed but not in the project",
            DIFFERENT: "differs from the deployed version",
        }[self.problem]

    def __str__(self) -> str:
        return f"{self.kind} {self.path} {self.message}"


def compare(client, deployment: Deployment, project_dir: Path) -> list[Difference]:
    """The differences between the environment's build and the project; empty when they are equal."""
    service = client.serverless.v1.services(deployment.service_sid)
    if not deployment.build_sid:
        raise NoBuild(f"Environment {deployment.environment_sid} has no build deployed. {DEPLOY_FIX}")
    build = service.builds(deployment.build_sid).fetch()
    deployed = {
        **{("function", v["path"]): v for v in build.function_versions or []},
        **{("asset", v["path"]): v for v in build.asset_versions or []},
    }
    local = {(f.kind, f.path): f for f in deployed_files(project_dir)}
    differences = [Difference(kind, path, MISSING) for kind, path in local if (kind, path) not in deployed]
    differences += [Difference(kind, path, EXTRA) for kind, path in deployed if (kind, path) not in local]
    for (kind, path), file in local.items():
        version = deployed.get((kind, path))
        if version is None:
            continue
        # A build lists the visibility in capitals (PUBLIC), a version in lower case.
        if version.get("visibility") and version["visibility"].lower() != file.visibility:
            differences.append(Difference(kind, path, DIFFERENT))
            continue
        if kind != "function":
            continue
        content = (
            service.functions(version["function_sid"])
            .function_versions(version["sid"])
            .function_version_content()
            .fetch()
            .content
        )
        if content != file.content:
            differences.append(Difference(kind, path, DIFFERENT))
    differences += build_differences(build, project_dir)
    return sorted(differences, key=lambda d: (d.kind, d.path))


def build_differences(build, project_dir: Path) -> list[Difference]:
    """How the build differs from what the project asks of it: the runtime, and each dependency's version."""
    differences = []
    runtime = read_rc(project_dir).get("runtime")
    if runtime and build.runtime != runtime:
        retiring = runtimes.problem(build.runtime, runtimes.today())
        detail = f"is {build.runtime}, not the {runtime} of .twilioserverlessrc" + (
            f" ({retiring.message})" if retiring else ""
        )
        differences.append(Difference("build", "runtime", DIFFERENT, detail))
    installed = {entry["name"]: entry["version"] for entry in build.dependencies or []}
    for name, version in read_package_json(project_dir).get("dependencies", {}).items():
        if name not in installed:
            differences.append(
                Difference("build", f"dependency {name}", MISSING, "is in package.json, not in the build")
            )
        elif installed[name] != version:
            detail = f"is {installed[name]} in the build, {version} in package.json"
            differences.append(Difference("build", f"dependency {name}", DIFFERENT, detail))
    return differences
