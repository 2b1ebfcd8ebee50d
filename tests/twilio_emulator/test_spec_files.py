"""Fetching Twilio's OpenAPI description: `npm pack` of the pinned @twilio/cli-core, its integrity, the cache."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from twilio_emulator import spec_files
from twilio_emulator.spec_files import SpecFilesError

PROJECT_DIR = Path(__file__).resolve().parents[2]
TWILIO_API = "package/src/services/twilio-api/"


def tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


MEMBERS = {
    "package/package.json": b'{"name": "@twilio/cli-core"}',
    f"{TWILIO_API}twilio_flex_v1.json": b'{"paths": {}}',
    f"{TWILIO_API}twilio_flex-api_v1.json": b'{"paths": {"/v1/FlexInsights/Query": {}}}',
    f"{TWILIO_API}index.js": b"module.exports = {};",
    f"{TWILIO_API}nested/twilio_other_v1.json": b"{}",
    "package/src/services/other/twilio_elsewhere_v1.json": b"{}",
}


@pytest.fixture
def packed(tmp_path, monkeypatch):
    """A packer that makes a small tarball like @twilio/cli-core's, and pins its integrity; it counts its calls."""
    source = tarball(tmp_path / "source.tgz", MEMBERS)
    monkeypatch.setattr(spec_files, "INTEGRITY", spec_files.integrity_of(source.read_bytes()))
    calls = []

    def pack(destination: Path) -> Path:
        calls.append(destination)
        target = destination / "twilio-cli-core-9.0.0.tgz"
        target.write_bytes(source.read_bytes())
        return target

    pack.calls = calls
    return pack


def test_the_pin_is_cli_core_9_and_its_published_integrity():
    assert (spec_files.PACKAGE, spec_files.VERSION) == ("@twilio/cli-core", "9.0.0")
    assert spec_files.INTEGRITY == (
        "sha512-FPHm5gXAUwM2oATmQi3AGYPFz4Urg5G5/vDkpUu5WqNuwueQaS93HwXjdX1OM+miuq0LMimdfbXDTLEp4Nsjfg=="
    )
    assert spec_files.cache_directory(PROJECT_DIR) == PROJECT_DIR / ".cache/twilio-oai/cli-core-9.0.0"


def test_integrity_is_npms_sha512_in_base64():
    assert spec_files.integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


def test_a_tarball_of_another_integrity_is_refused_saying_what_to_do():
    with pytest.raises(SpecFilesError) as raised:
        spec_files.check_integrity(b"not the tarball")
    message = str(raised.value)
    assert message.startswith(
        "The tarball of @twilio/cli-core@9.0.0 that npm returned has integrity "
        + spec_files.integrity_of(b"not the tarball")
    )
    assert f"but {spec_files.INTEGRITY} is pinned in " in message
    assert "Nothing was extracted." in message
    assert "run `twilio-emulator fetch-openapi` (in this project: `make install`) again" in message
    assert "`npm view @twilio/cli-core@<version> dist.integrity`" in message


def test_only_the_json_files_directly_in_twilio_api_are_extracted(tmp_path):
    source = tarball(tmp_path / "source.tgz", MEMBERS)
    (tmp_path / "out").mkdir()
    assert spec_files.extract_json_files(source, tmp_path / "out") == ["twilio_flex-api_v1.json", "twilio_flex_v1.json"]
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == [
        "twilio_flex-api_v1.json",
        "twilio_flex_v1.json",
    ]
    assert (tmp_path / "out/twilio_flex_v1.json").read_bytes() == b'{"paths": {}}'


def test_a_tarball_without_the_description_is_refused(tmp_path):
    source = tarball(tmp_path / "source.tgz", {"package/package.json": b"{}"})
    (tmp_path / "out").mkdir()
    with pytest.raises(SpecFilesError, match="has no JSON file under package/src/services/twilio-api/"):
        spec_files.extract_json_files(source, tmp_path / "out")


def test_fetch_extracts_into_the_cache_with_a_manifest_then_does_nothing(tmp_path, packed):
    project = tmp_path / "project"
    project.mkdir()
    directory, fetched = spec_files.fetch(project, packed)
    assert (directory, fetched) == (project / ".cache/twilio-oai/cli-core-9.0.0", True)
    assert json.loads((directory / "manifest.json").read_text()) == {
        "package": "@twilio/cli-core",
        "version": "9.0.0",
        "integrity": spec_files.INTEGRITY,
        "files": ["twilio_flex-api_v1.json", "twilio_flex_v1.json"],
    }
    assert sorted(path.name for path in (project / ".cache/twilio-oai").iterdir()) == ["cli-core-9.0.0"]  # no leftovers
    assert spec_files.fetch(project, packed) == (directory, False)
    assert len(packed.calls) == 1


def test_a_cache_missing_a_file_is_fetched_again(tmp_path, packed):
    directory, _ = spec_files.fetch(tmp_path, packed)
    (directory / "twilio_flex_v1.json").unlink()
    assert not spec_files.is_complete(directory)
    assert spec_files.fetch(tmp_path, packed) == (directory, True)
    assert (directory / "twilio_flex_v1.json").is_file() and len(packed.calls) == 2


def test_a_cache_of_another_pin_is_not_complete(tmp_path, packed, monkeypatch):
    directory, _ = spec_files.fetch(tmp_path, packed)
    monkeypatch.setattr(spec_files, "INTEGRITY", "sha512-another")
    assert not spec_files.is_complete(directory)


def test_a_mismatch_leaves_no_cache(tmp_path, packed, monkeypatch):
    monkeypatch.setattr(spec_files, "INTEGRITY", "sha512-pinned-elsewhere")
    with pytest.raises(SpecFilesError, match="Nothing was extracted"):
        spec_files.fetch(tmp_path, packed)
    assert list((tmp_path / ".cache/twilio-oai").iterdir()) == []


def test_main_says_what_it_did_and_exits_1_on_a_failure(tmp_path, packed, monkeypatch, capsys):
    monkeypatch.setattr(spec_files, "npm_pack", packed)
    assert spec_files.main([str(tmp_path)]) == 0
    directory = tmp_path / ".cache/twilio-oai/cli-core-9.0.0"
    assert (
        capsys.readouterr().out
        == f"Twilio's OpenAPI description (@twilio/cli-core@9.0.0, 2 files) fetched and checked: {directory}\n"
    )
    assert spec_files.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.endswith(f"2 files) already complete: {directory}\n")

    def failing(project_dir):
        raise SpecFilesError("npm was not found on PATH")

    monkeypatch.setattr(spec_files, "fetch", failing)
    assert spec_files.main([str(tmp_path)]) == 1
    assert capsys.readouterr().err == "Error: npm was not found on PATH\n"


def test_the_projects_cache_is_complete():
    """`make install` (or `twilio-emulator fetch-openapi`) filled it: the rest of the suite reads it."""
    assert spec_files.is_complete(spec_files.cache_directory(PROJECT_DIR))
