"""The agent's view of tasks as a page to open in a browser: the Flex plugin's production build
(plugin-ai-handover/build/plugin-ai-handover.js) over the tasks, in a page that gives it what Flex gives a plugin
(plugin-ai-handover/agent-view/flex-stand-in.js: React, `Twilio.Flex`, the components it adds to, `Actions`, a
Manager with the agent's Flex token and the hand-back's URL). Not Flex UI itself: what the plugin adds, as it renders.

The browser test (tests/plugin_ai_handover/) loads it; the demo writes one for the tasks it made (`write_for_tasks`)
and prints where it is. The page's files sit beside it, so it opens from a file:// URL as from a web server.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from twilio_emulator import Emulator
from twilio_emulator.products.iam import issue_flex_token

from ..errors import HandoverError

PLUGIN_DIR = "plugin-ai-handover"
BUNDLE = f"{PLUGIN_DIR}/build/plugin-ai-handover.js"
# The page's scripts, in the order it loads them (name in the page → file of the project).
SCRIPTS = {
    "react.js": f"{PLUGIN_DIR}/node_modules/react/umd/react.production.min.js",
    "react-dom.js": f"{PLUGIN_DIR}/node_modules/react-dom/umd/react-dom.production.min.js",
    "flex-stand-in.js": f"{PLUGIN_DIR}/agent-view/flex-stand-in.js",
    "plugin-ai-handover.js": BUNDLE,
}
STYLESHEET = f"{PLUGIN_DIR}/agent-view/agent-view.css"


def flex_task(task: dict, reservation: dict) -> dict:
    """An emulated TaskRouter task and its reservation as Flex hands the task to a plugin's components (ITask's fields
    the plugin reads): the reservation's SID and status, the task's SID, channel, parsed attributes, creation time."""
    return {
        "sid": reservation["sid"],
        "taskSid": task["sid"],
        "status": reservation["reservation_status"],
        "taskChannelUniqueName": task["task_channel_unique_name"],
        "attributes": json.loads(task["attributes"]),
        "dateCreated": task["date_created"],
    }


def write_page(out_dir: Path, tasks: list[dict], *, project_dir: Path, base_url: str, token: str, name: str) -> Path:
    """Write `<name>.html` (and the files it loads) into `out_dir` for these Flex tasks (flex_task's shape): the agent
    signed in with `token`, the hand-back at `base_url` (the Functions service's, as ui_attributes.handoverBaseUrl
    gives it). The page's path."""
    missing = [path for path in (*SCRIPTS.values(), STYLESHEET) if not (project_dir / path).is_file()]
    if missing:
        raise HandoverError(
            f"The agent view needs {', '.join(missing)}: run `make plugin` (it installs and builds the Flex plugin)."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    for page_name, source in (*SCRIPTS.items(), ("agent-view.css", STYLESHEET)):
        shutil.copy2(project_dir / source, out_dir / page_name)
    view = {"token": token, "uiAttributes": {"handoverBaseUrl": base_url}, "tasks": tasks}
    # JSON inside a script element: every < escaped, so that no text of a task can end the script.
    data = json.dumps(view).replace("<", "\\u003c")
    scripts = "".join(f'<script src="{page_name}"></script>' for page_name in SCRIPTS)
    page = out_dir / f"{name}.html"
    page.write_text(
        '<!doctype html><html><head><meta charset="utf-8"><title>The agent\'s view</title>'
        '<link rel="icon" href="data:,"><link rel="stylesheet" href="agent-view.css"></head>'
        f'<body><div id="root"></div><script>window.__AGENT_VIEW__ = {data};</script>{scripts}</body></html>',
        encoding="utf-8",
    )
    return page


def write_for_tasks(
    out_dir: Path, emulator: Emulator, task_sids: list[str], *, project_dir: Path, base_url: str, worker_sid: str
) -> Path:
    """The agent view of the emulator's tasks as the agent `worker_sid` sees them (signed in with a Flex token the
    emulator issues; each task through its latest reservation, or as offered where it has none): the page's path,
    `agent-view.html` in `out_dir`. Return to AI on it reaches `base_url` while that runtime runs."""
    tasks = []
    with emulator.lock:
        for task_sid in task_sids:
            task = emulator.table("tasks")[task_sid]
            reservations = [r for r in emulator.table("reservations").values() if r["task_sid"] == task_sid]
            reservation = reservations[-1] if reservations else {"sid": task_sid, "reservation_status": "pending"}
            tasks.append(flex_task(task, reservation))
    token = issue_flex_token(emulator, worker_sid)
    return write_page(out_dir, tasks, project_dir=project_dir, base_url=base_url, token=token, name="agent-view")
