"""The plugin's folder and what its build leaves: package.json's `name` and `version`, `build/<name>.js`.

A Flex plugin built with @twilio/flex-plugin-scripts writes its production bundle to `build/<name>.js` (and a
source map beside it) under the plugin's folder; its package.json names the plugin and its version, which
`handover plugin deploy` deploys as the Flex plugins tooling does (the name is the Plugin's unique name, the
version its Plugin Version's).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import HandoverError, InputError

DEFAULT_FOLDER = "plugin-ai-handover"
PACKAGE_FILE = "package.json"
BUILD_FOLDER = "build"
BUILD_COMMAND = "handover plugin build"


class PluginFolderError(InputError):
    """The plugin folder, or its package.json, cannot be used; the message says which and how to fix it."""


class NotBuilt(HandoverError):
    """The plugin has no production bundle yet; nothing was written."""


@dataclass(frozen=True)
class PluginPackage:
    """The plugin's folder and what its package.json says."""

    folder: Path
    name: str
    version: str
    scripts: dict

    @property
    def bundle_path(self) -> Path:
        return self.folder / BUILD_FOLDER / f"{self.name}.js"

    @property
    def source_map_path(self) -> Path:
        return self.folder / BUILD_FOLDER / f"{self.name}.js.map"


@dataclass(frozen=True)
class Bundle:
    """The built bundle (and its source map, when the build wrote one), with the bundle's SHA-256."""

    package: PluginPackage
    content: bytes
    source_map: bytes | None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def plugin_folder(project_dir: Path, given: str | None) -> Path:
    """The folder given (relative to the working directory), else the kit's, DEFAULT_FOLDER in the project."""
    return Path(given) if given else project_dir / DEFAULT_FOLDER


def read_package(folder: Path) -> PluginPackage:
    """The plugin's package.json; PluginFolderError when the folder, the file or its name and version are missing."""
    if not folder.is_dir():
        raise PluginFolderError(
            f"No plugin folder at {folder}. Pass --plugin-dir with the folder of the Flex plugin (the one holding "
            f"its package.json), or run from the kit's checkout, which has {DEFAULT_FOLDER}/."
        )
    package_file = folder / PACKAGE_FILE
    try:
        package = json.loads(package_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PluginFolderError(f"{folder} has no {PACKAGE_FILE}: it is not a Flex plugin's folder.") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise PluginFolderError(f"{package_file} is not valid JSON ({error}). Fix it, then run again.") from None
    if not isinstance(package, dict):
        raise PluginFolderError(f"{package_file} is not a JSON object. Fix it, then run again.")
    name, version = package.get("name"), package.get("version")
    for field, value in (("name", name), ("version", version)):
        if not isinstance(value, str) or not value:
            raise PluginFolderError(f"{package_file} has no {field}: the plugin is deployed by its name and version.")
    scripts = package.get("scripts") if isinstance(package.get("scripts"), dict) else {}
    return PluginPackage(folder, name, version, scripts)


def read_bundle(package: PluginPackage) -> Bundle:
    """The production bundle the build left; NotBuilt, saying how to build it, when there is none."""
    try:
        content = package.bundle_path.read_bytes()
    except FileNotFoundError:
        raise NotBuilt(
            f"{package.bundle_path} does not exist: the plugin is not built. Run `{BUILD_COMMAND}` first "
            "(npm run build in the plugin's folder). Nothing was written."
        ) from None
    if not content.strip():
        raise NotBuilt(f"{package.bundle_path} is empty. Run `{BUILD_COMMAND}` again. Nothing was written.")
    source_map = package.source_map_path.read_bytes() if package.source_map_path.is_file() else None
    return Bundle(package, content, source_map)
