"""Twilio's OpenAPI description, fetched: the twilio-oai JSON files the Twilio CLI ships in `@twilio/cli-core`.

`twilio-emulator fetch-openapi [FOLDER]` (this project's `make install` runs `main`) packs the pinned version with
`npm pack`, which downloads the one tarball and installs nothing (no dependency tree), checks the tarball against the
pinned integrity, and extracts only the JSON files of `package/src/services/twilio-api/` into a cache in the folder
(default: the current one), `.cache/twilio-oai/cli-core-<version>/`. A cache that is already complete is left alone:
no npm, no network.

The version and its integrity are pinned here and nowhere else; to move to a newer release, change both
(`npm view @twilio/cli-core@<version> dist.integrity` prints the integrity) and fetch again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

PACKAGE = "@twilio/cli-core"
VERSION = "9.0.0"
INTEGRITY = "sha512-FPHm5gXAUwM2oATmQi3AGYPFz4Urg5G5/vDkpUu5WqNuwueQaS93HwXjdX1OM+miuq0LMimdfbXDTLEp4Nsjfg=="

# Where the JSON files are inside the tarball, and where they go in the project.
MEMBER_DIRECTORY = "package/src/services/twilio-api/"
CACHE_ROOT = Path(".cache/twilio-oai")
CACHE_PATH = CACHE_ROOT / f"cli-core-{VERSION}"
# Written last, so that its presence means every file listed in it was extracted.
MANIFEST = "manifest.json"
# What a message tells the user to run to fetch the description.
FETCH_COMMAND = "`twilio-emulator fetch-openapi` (in this project: `make install`)"

# Packs `PACKAGE@VERSION` into the given folder and returns the tarball's path.
Packer = Callable[[Path], Path]


class SpecFilesError(RuntimeError):
    """The description could not be fetched or did not check out; the message says what to do."""


def cache_directory(project_dir: Path) -> Path:
    """The folder of the pinned description's JSON files in the project."""
    return project_dir / CACHE_PATH


def is_complete(directory: Path) -> bool:
    """Whether `directory` holds every file its manifest lists, fetched from the pinned version and integrity."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pinned = manifest.get("package") == PACKAGE and manifest.get("version") == VERSION
    files = manifest.get("files")
    return (
        pinned
        and manifest.get("integrity") == INTEGRITY
        and isinstance(files, list)
        and bool(files)
        and all((directory / name).is_file() for name in files)
    )


def integrity_of(data: bytes) -> str:
    """npm's Subresource Integrity string of a tarball: `sha512-` and the base64 of its SHA-512 digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def check_integrity(data: bytes, expected: str | None = None) -> None:
    """SpecFilesError, saying what to do, unless the tarball's integrity is `expected` (default: the pinned one)."""
    expected = expected or INTEGRITY
    found = integrity_of(data)
    if found != expected:
        raise SpecFilesError(
            f"The tarball of {PACKAGE}@{VERSION} that npm returned has integrity {found}, "
            f"but {expected} is pinned in {__file__}. Nothing was extracted. "
            "Check that your npm registry (`npm config get registry`) serves the public npm tarball, "
            f"then run {FETCH_COMMAND} again. If you meant to change the version, pin the new VERSION "
            "and its INTEGRITY together (`npm view @twilio/cli-core@<version> dist.integrity`)."
        )


def npm_pack(destination: Path) -> Path:
    """`npm pack PACKAGE@VERSION` into `destination`: the one tarball, no install, no scripts run."""
    npm = shutil.which("npm")
    if npm is None:
        raise SpecFilesError(
            f"npm was not found on PATH: install Node.js 20 or later (with npm), then run {FETCH_COMMAND}."
        )
    command = [
        npm,
        "pack",
        f"{PACKAGE}@{VERSION}",
        "--pack-destination",
        str(destination),
        "--json",
        "--ignore-scripts",
    ]
    try:
        finished = subprocess.run(command, cwd=destination, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise SpecFilesError(
            f"`npm pack {PACKAGE}@{VERSION}` took over 5 minutes: check the network, then run {FETCH_COMMAND} again."
        ) from None
    if finished.returncode != 0:
        raise SpecFilesError(
            f"`npm pack {PACKAGE}@{VERSION}` failed (exit {finished.returncode}): {finished.stderr.strip()[-800:]}\n"
            f"Check the network and npm's registry settings, then run {FETCH_COMMAND} again."
        )
    tarballs = sorted(destination.glob("*.tgz"))
    if len(tarballs) != 1:
        raise SpecFilesError(
            f"`npm pack {PACKAGE}@{VERSION}` left {len(tarballs)} tarballs in {destination}, expected 1."
        )
    return tarballs[0]


def extract_json_files(tarball: Path, directory: Path) -> list[str]:
    """Extract the JSON files directly in MEMBER_DIRECTORY (not the .js beside them) into `directory`; their names."""
    names: list[str] = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.name.startswith(MEMBER_DIRECTORY):
                continue
            name = member.name[len(MEMBER_DIRECTORY) :]
            if "/" in name or not name.endswith(".json") or not member.isfile():
                continue
            source = archive.extractfile(member)
            if source is None:
                continue
            (directory / name).write_bytes(source.read())
            names.append(name)
    if not names:
        raise SpecFilesError(
            f"{tarball.name} has no JSON file under {MEMBER_DIRECTORY}: is {PACKAGE}@{VERSION} the right package?"
        )
    return sorted(names)


def fetch(project_dir: Path, pack: Packer | None = None) -> tuple[Path, bool]:
    """Make the cache complete; (its folder, whether anything was fetched). A complete cache is not touched.

    `pack` gets the tarball (default: `npm_pack`).
    """
    target = cache_directory(project_dir)
    if is_complete(target):
        return target, False
    root = project_dir / CACHE_ROOT
    root.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="pack-", dir=root) as packing,
        tempfile.TemporaryDirectory(prefix="extract-", dir=root) as extracting,
    ):
        tarball = (pack or npm_pack)(Path(packing))
        check_integrity(tarball.read_bytes())
        staged = Path(extracting) / "files"
        staged.mkdir()
        names = extract_json_files(tarball, staged)
        manifest = {"package": PACKAGE, "version": VERSION, "integrity": INTEGRITY, "files": names}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        # Swapped in whole: a run that stops half-way leaves no half-filled cache behind.
        if target.exists():
            shutil.rmtree(target)
        os.replace(staged, target)
    return target, True


def main(argv: list[str] | None = None) -> int:
    project_dir = Path(argv[0] if argv else os.getcwd()).resolve()
    try:
        directory, fetched = fetch(project_dir)
    except SpecFilesError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    count = len(json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["files"])
    state = "fetched and checked" if fetched else "already complete"
    print(f"Twilio's OpenAPI description ({PACKAGE}@{VERSION}, {count} files) {state}: {directory}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
