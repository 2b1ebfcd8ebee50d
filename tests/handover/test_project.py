"""Reading the project as the Serverless Toolkit does: the rc
(JSON5), the deploy info, the deployed paths; writing .env."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from dotenv import dotenv_values

from handover import project
from handover.project import DeployedFile, ProjectFileInvalid

REPO = Path(__file__).resolve().parents[2]


def test_the_rc_may_have_comments_and_trailing_commas(tmp_path):
    (tmp_path / ".twilioserverlessrc").write_text(
        '{\n  // the service\n  "serviceSid": "ZS1", /* inline */\n  "environment": "stage",\n}\n'
    )
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
    reader = {
        ".twilioserverlessrc": project.read_rc,
        ".twiliodeployinfo": project.read_deploy_info,
        "package.json": project.read_package_json,
    }[name]
    with pytest.raises(ProjectFileInvalid) as raised:
        reader(tmp_path)
    assert str(raised.value).startswith(message)


def test_missing_files_read_as_empty(tmp_path):
    assert (project.read_rc(tmp_path), project.read_deploy_info(tmp_path), project.read_package_json(tmp_path)) == (
        {},
        {},
        {},
    )


def test_the_deploy_info_is_read_as_written_by_serverless_deploy(tmp_path):
    info = {"AC" + "a" * 32 + ":us1": {"serviceSid": "ZS" + "b" * 32, "latestBuild": "ZB" + "c" * 32}}
    (tmp_path / ".twiliodeployinfo").write_text(json.dumps(info, indent="\t"))
    assert project.read_deploy_info(tmp_path) == info


def test_the_projects_files_map_to_the_paths_serverless_deploy_gives_them():
    assert project.deployed_files(REPO) == [
        DeployedFile("function", "/lifecycle/hand-back", "public", REPO / "functions/lifecycle/hand-back.js"),
        DeployedFile(
            "function", "/lifecycle/task-events", "protected", REPO / "functions/lifecycle/task-events.protected.js"
        ),
        DeployedFile("function", "/tools/flex-handover", "public", REPO / "functions/tools/flex-handover.js"),
        DeployedFile("function", "/tools/studio-handover", "public", REPO / "functions/tools/studio-handover.js"),
        DeployedFile(
            "function", "/voice/connect-action", "protected", REPO / "functions/voice/connect-action.protected.js"
        ),
        DeployedFile(
            "function", "/voice/incoming-call", "protected", REPO / "functions/voice/incoming-call.protected.js"
        ),
        DeployedFile("asset", "/lifecycle/handback.js", "private", REPO / "assets/lifecycle/handback.private.js"),
        DeployedFile("asset", "/tools/contract.js", "private", REPO / "assets/tools/contract.private.js"),
        DeployedFile("asset", "/tools/handoff.js", "private", REPO / "assets/tools/handoff.private.js"),
        DeployedFile("asset", "/tools/handover.js", "private", REPO / "assets/tools/handover.private.js"),
        DeployedFile("asset", "/voice/relay.js", "private", REPO / "assets/voice/relay.private.js"),
    ]


def test_visibility_markers_and_folders_from_the_rc(tmp_path):
    (tmp_path / ".twilioserverlessrc").write_text('{"functionsFolder": "src", "assetsFolder": "static"}')
    for name in (
        "src/a.js",
        "src/b/c.protected.js",
        "src/d.private.js",
        "src/notes.md",
        "static/logo.png",
        "static/e.private.css",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert [(f.kind, f.path, f.visibility) for f in project.deployed_files(tmp_path)] == [
        ("function", "/a", "public"),
        ("function", "/b/c", "protected"),
        ("function", "/d", "private"),
        ("asset", "/e.css", "private"),
        ("asset", "/logo.png", "public"),
    ]


# .env writing -----------------------------------------------------------------------------------------


def test_write_local_keeps_comments_blank_lines_and_other_keys(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# Twilio\nACCOUNT_SID=AC1\n\n# Flex\nFLEX_WORKSPACE_SID=WSold\nOTHER=x # trailing\n", encoding="utf-8"
    )
    project.write_local(path, {"FLEX_WORKSPACE_SID": "WSnew", "FLEX_WORKFLOW_SID": "WWnew"})
    assert path.read_text(encoding="utf-8") == (
        "# Twilio\nACCOUNT_SID=AC1\n\n# Flex\nFLEX_WORKSPACE_SID=WSnew\nOTHER=x # trailing\nFLEX_WORKFLOW_SID=WWnew\n"
    )


def test_write_local_keeps_the_export_prefix_and_spacing(tmp_path):
    path = tmp_path / ".env"
    path.write_text("export FLEX_WORKSPACE_SID=WSold\n  FLEX_WORKFLOW_SID = 'WWold'\n", encoding="utf-8")
    project.write_local(path, {"FLEX_WORKSPACE_SID": "WSnew", "FLEX_WORKFLOW_SID": "WWnew"})
    assert path.read_text(encoding="utf-8") == "export FLEX_WORKSPACE_SID=WSnew\n  FLEX_WORKFLOW_SID =WWnew\n"
    assert dotenv_values(path) == {"FLEX_WORKSPACE_SID": "WSnew", "FLEX_WORKFLOW_SID": "WWnew"}


def test_write_local_sets_every_occurrence_of_a_duplicated_key(tmp_path):
    path = tmp_path / ".env"
    path.write_text("FLEX_TASK_CHANNEL=chat\nX=1\nFLEX_TASK_CHANNEL=voice\n", encoding="utf-8")
    project.write_local(path, {"FLEX_TASK_CHANNEL": "sms"})
    assert path.read_text(encoding="utf-8") == "FLEX_TASK_CHANNEL=sms\nX=1\nFLEX_TASK_CHANNEL=sms\n"


def test_write_local_does_not_touch_a_key_that_only_starts_the_same(tmp_path):
    path = tmp_path / ".env"
    path.write_text("FLEX_WORKSPACE_SID_OLD=WSold\n# FLEX_WORKSPACE_SID=commented\n", encoding="utf-8")
    project.write_local(path, {"FLEX_WORKSPACE_SID": "WSnew"})
    assert (
        path.read_text(encoding="utf-8")
        == "FLEX_WORKSPACE_SID_OLD=WSold\n# FLEX_WORKSPACE_SID=commented\nFLEX_WORKSPACE_SID=WSnew\n"
    )


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("chat", "chat"),
        ("a b", '"a b"'),
        ("x#y", '"x#y"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("", ""),
    ],
)
def test_write_local_quotes_values_that_need_it(tmp_path, value, written):
    path = tmp_path / ".env"
    project.write_local(path, {"KEY": value})
    assert path.read_text(encoding="utf-8") == f"KEY={written}\n"
    assert dotenv_values(path) == {"KEY": value}


def test_a_new_dotenv_is_private_to_its_owner(tmp_path):
    path = tmp_path / ".env"
    project.write_local(path, {"KEY": "value"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]


def test_an_existing_dotenv_keeps_its_mode(tmp_path):
    path = tmp_path / ".env"
    path.write_text("KEY=old\n", encoding="utf-8")
    path.chmod(0o640)
    project.write_local(path, {"KEY": "new"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text(encoding="utf-8") == "KEY=new\n"


def test_a_failed_write_leaves_the_old_dotenv_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("KEY=old\n", encoding="utf-8")

    def refuse(source, destination):
        raise OSError("disk full")

    monkeypatch.setattr(project.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        project.write_local(path, {"KEY": "new"})
    assert path.read_text(encoding="utf-8") == "KEY=old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env"]
