"""Reading the project as the Serverless Toolkit does: the rc (JSON5), the deploy info, the deployed paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from handover import project
from handover.project import DeployedFile, ProjectFileInvalid

REPO = Path(__file__).resolve().parents[2]


def test_the_rc_may_have_comments_and_trailing_commas(tmp_path):
    (tmp_path / ".twilioserverlessrc").write_text('{\n  // the service\n  "serviceSid": "ZS1", /* inline */\n  "environment": "stage",\n}\n')
    assert project.read_rc(tmp_path) == {"serviceSid": "ZS1", "environment": "stage"}


def test_the_projects_own_rc_is_read():
    assert project.read_rc(REPO) == {"runtime": "node22", "functionsFolder": "functions", "assetsFolder": "assets"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (".twilioserverlessrc", "{ serviceSid: ", ".twilioserverlessrc is not valid: "),
        (".twiliodeployinfo", "{", ".twiliodeployinfo is not valid: "),
        ("package.json", "[1]", "package.json must hold a JSON object. Fix or remove it."),
    ],
)
def test_an_unreadable_project_file_says_which(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    reader = {".twilioserverlessrc": project.read_rc, ".twiliodeployinfo": project.read_deploy_info, "package.json": project.read_package_json}[name]
    with pytest.raises(ProjectFileInvalid) as raised:
        reader(tmp_path)
    assert str(raised.value).startswith(message)


def test_missing_files_read_as_empty(tmp_path):
    assert (project.read_rc(tmp_path), project.read_deploy_info(tmp_path), project.read_package_json(tmp_path)) == ({}, {}, {})


def test_the_deploy_info_is_read_as_written_by_serverless_deploy(tmp_path):
    info = {"AC" + "a" * 32 + ":us1": {"serviceSid": "ZS" + "b" * 32, "latestBuild": "ZB" + "c" * 32}}
    (tmp_path / ".twiliodeployinfo").write_text(json.dumps(info, indent="\t"))
    assert project.read_deploy_info(tmp_path) == info


def test_the_projects_files_map_to_the_paths_serverless_deploy_gives_them():
    assert project.deployed_files(REPO) == [
        DeployedFile("function", "/tools/flex-handover", "public", REPO / "functions/tools/flex-handover.js"),
        DeployedFile("function", "/tools/studio-handover", "public", REPO / "functions/tools/studio-handover.js"),
        DeployedFile("asset", "/tools/contract.js", "private", REPO / "assets/tools/contract.private.js"),
        DeployedFile("asset", "/tools/handoff.js", "private", REPO / "assets/tools/handoff.private.js"),
        DeployedFile("asset", "/tools/handover.js", "private", REPO / "assets/tools/handover.private.js"),
    ]


def test_visibility_markers_and_folders_from_the_rc(tmp_path):
    (tmp_path / ".twilioserverlessrc").write_text('{"functionsFolder": "src", "assetsFolder": "static"}')
    for name in ("src/a.js", "src/b/c.protected.js", "src/d.private.js", "src/notes.md", "static/logo.png", "static/e.private.css"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [(f.kind, f.path, f.visibility) for f in project.deployed_files(tmp_path)] == [
        ("function", "/a", "public"),
        ("function", "/b/c", "protected"),
        ("function", "/d", "private"),
        ("asset", "/e.css", "private"),
        ("asset", "/logo.png", "public"),
    ]
