"""agent_view.py: the agent view page's files and data (the browser test, tests/plugin_ai_handover/, renders it)."""

from __future__ import annotations

import json
import shutil

import pytest

from handover.errors import HandoverError
from handover.local import agent_view
from tests.conftest import PROJECT_DIR

HOSTILE = "</script><script>window.hacked = 1</script>"


@pytest.fixture
def project(tmp_path):
    """A project with the plugin's page files, and a stand-in bundle."""
    project = tmp_path / "project"
    for path in (*agent_view.SCRIPTS.values(), agent_view.STYLESHEET):
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        if path == agent_view.BUNDLE:
            (project / path).write_text("/* the bundle */", encoding="utf-8")
        else:
            shutil.copy2(PROJECT_DIR / path, project / path)
    return project


def test_the_page_loads_react_the_stand_in_then_the_bundle_with_the_tasks_as_inert_data(project, tmp_path):
    tasks = [{"taskSid": "WT1", "attributes": {"handoff": {"summary": HOSTILE}}}]
    page = agent_view.write_page(
        tmp_path / "out", tasks, project_dir=project, base_url="http://127.0.0.1:3000", token="tok", name="view"
    )
    html = page.read_text(encoding="utf-8")
    assert html.count("<script") == 5 and "</script><script>window.hacked" not in html
    assert [line.split('"')[1] for line in html.split("<script src=")[1:]] == list(agent_view.SCRIPTS)
    data = html.split("window.__AGENT_VIEW__ = ", 1)[1].split(";</script>", 1)[0]
    assert json.loads(data) == {
        "token": "tok",
        "uiAttributes": {"handoverBaseUrl": "http://127.0.0.1:3000"},
        "tasks": tasks,
    }
    assert sorted(p.name for p in page.parent.iterdir()) == sorted(["view.html", "agent-view.css", *agent_view.SCRIPTS])


def test_without_the_build_it_says_to_run_make_plugin_and_writes_nothing(project, tmp_path):
    (project / agent_view.BUNDLE).unlink()
    with pytest.raises(HandoverError, match=r"plugin-ai-handover/build/plugin-ai-handover.js: run `make plugin`"):
        agent_view.write_page(tmp_path / "out", [], project_dir=project, base_url="", token="", name="view")
    assert not (tmp_path / "out").exists()


def test_a_task_as_flex_hands_it_to_the_plugin():
    task = {"sid": "WT1", "task_channel_unique_name": "chat", "attributes": '{"a": 1}', "date_created": "2026-12-07"}
    reservation = {"sid": "WR1", "reservation_status": "accepted"}
    assert agent_view.flex_task(task, reservation) == {
        "sid": "WR1",
        "taskSid": "WT1",
        "status": "accepted",
        "taskChannelUniqueName": "chat",
        "attributes": {"a": 1},
        "dateCreated": "2026-12-07",
    }


def test_the_demos_page_shows_the_emulators_tasks_to_the_agent_signed_in(twilio, emulator, tmp_path, project):
    from twilio_emulator.agents import accept, add_worker, offer
    from twilio_emulator.products import taskrouter

    with emulator.lock:
        workflow = emulator.table("workflows")[twilio.account.workflow_sid]
        channel = taskrouter.task_channel_named(emulator, twilio.account.workspace_sid, "chat")
        accepted = taskrouter.create_task(emulator, workflow, channel, {"handoff": {"reason": "refund"}})
        waiting = taskrouter.create_task(emulator, workflow, channel, {"handoff": {"reason": "invoice"}})
    worker = add_worker(emulator, "Grace")
    try:
        reservation = accept(emulator, offer(emulator, accepted["sid"], worker["sid"])["sid"])
        page = agent_view.write_for_tasks(
            tmp_path / "out",
            emulator,
            [accepted["sid"], waiting["sid"]],
            project_dir=project,
            base_url="http://127.0.0.1:3000",
            worker_sid=worker["sid"],
        )
    finally:
        with emulator.lock:
            emulator.table("workers").pop(worker["sid"], None)
    data = page.read_text(encoding="utf-8").split("window.__AGENT_VIEW__ = ", 1)[1].split(";</script>", 1)[0]
    view = json.loads(data)
    assert [(t["sid"], t["taskSid"], t["status"]) for t in view["tasks"]] == [
        (reservation["sid"], accepted["sid"], "accepted"),
        (waiting["sid"], waiting["sid"], "pending"),
    ]
    assert view["tasks"][0]["attributes"] == {"handoff": {"reason": "refund"}}
    with emulator.lock:  # the agent's own Flex token, as the emulator's IAM validates it
        assert emulator.table("flex_tokens")[view["token"]]["worker_sid"] == worker["sid"]
