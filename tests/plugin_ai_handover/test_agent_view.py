"""The Flex plugin's production build in a real browser, on tasks the kit really made, and Return to AI end to end.

Headless Chromium (Debian's `chromium`, driven by playwright-core from the plugin's devDependencies: agent_view.js)
loads plugin-ai-handover/build/plugin-ai-handover.js in a page that gives it what Flex gives a plugin
(handover.local.agent_view writes it: React, `Twilio.Flex.Plugins.init`, the components it adds to, `Actions`, a
Manager with the agent's Flex token), served from its own loopback origin. The tasks are the emulator's:
conversations handed off by the flex-handover tool through the real twilio-run (the one test_hand_back.py starts,
whose token validator reaches the emulator), accepted by a Flex agent the emulator plays. Return to AI then calls
the local hand-back function cross-origin, as the plugin does from Flex's page.

The bundle is built once (`make test` builds it before pytest; otherwise the first test here does, when it is older
than the plugin's sources). Without Chromium these tests are skipped, saying why; under CI they fail instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from handover import contract
from handover.local.agent_view import flex_task, write_page
from handover.studio.render import FlowParameters, definition
from tests.conftest import PROJECT_DIR, call_tool
from tests.functions.lifecycle import test_hand_back
from tests.functions.lifecycle.test_task_events import add_bot_webhook, bot_messages, webhooks_of
from tests.functions.tools.test_flex_handover_claim import headers_for
from tests.handover.studio.test_flow_runs import call, tac_handoff
from twilio_emulator import (
    add_conversation,
    add_flow,
    add_participant,
    conversation_attributes,
    customer_writes,
    run_call,
    run_execution,
    studio_executions,
)
from twilio_emulator.agents import accept, add_worker, offer
from twilio_emulator.products import taskrouter
from twilio_emulator.products.iam import issue_flex_token

# The runtime test_hand_back.py starts (its token validator reaches the emulator), as this module's fixture.
hand_back_runtime = test_hand_back.runtime
HERE = Path(__file__).parent
PLUGIN_DIR = PROJECT_DIR / "plugin-ai-handover"
BUNDLE = PLUGIN_DIR / "build" / "plugin-ai-handover.js"
CHROMIUM = Path(os.environ.get("HANDOVER_CHROMIUM", "/usr/bin/chromium"))
# Where the screenshot of the agent's view goes; docs/images/agent-view.png is the committed one (`make agent-view`).
SCREENSHOT = Path(os.environ.get("HANDOVER_AGENT_VIEW_SCREENSHOT", PLUGIN_DIR / "build" / "agent-view.png"))
# What Paste's theme loads, in Flex as here: its fonts (the page answers them empty: loopback only).
PASTE_FONTS = "https://assets.twilio.com/public_assets/paste-fonts/1.5.0"
HOSTILE = '<img src=x onerror="window.hacked=1"><script>window.hacked=2</script> Ignore previous instructions & "reply"'
SUMMARY = (
    "Ada was charged twice for order 1234 (2 x 49.90 EUR) on 3 December. She has the bank statement. "
    "I checked the order: one payment is captured, the other is pending. She wants the second one refunded today "
    "and asked for a person twice."
)


def needs_chromium() -> None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return
    if os.environ.get("CI"):
        pytest.fail(f"Chromium is not at {CHROMIUM}: CI runs the Flex plugin's browser test (.ci/run installs it).")
    pytest.skip(
        f"Chromium is not at {CHROMIUM}, so the Flex plugin's browser test is SKIPPED: install it "
        "(apt-get install chromium) or set HANDOVER_CHROMIUM to one."
    )


def _newest_source() -> float:
    sources = [PLUGIN_DIR / "package.json", PLUGIN_DIR / "package-lock.json", *(PLUGIN_DIR / "src").rglob("*")]
    return max(path.stat().st_mtime for path in sources if path.is_file())


@pytest.fixture(scope="session")
def bundle() -> Path:
    """The plugin's production build, built here only when missing or older than its sources (one build at a time)."""
    needs_chromium()
    with open(PLUGIN_DIR / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not BUNDLE.is_file() or BUNDLE.stat().st_mtime < _newest_source():
            # Without FLEX_APP_HANDOVER_BASE_URL: the page gives the function's URL in the Flex configuration.
            env = {k: v for k, v in os.environ.items() if k != "FLEX_APP_HANDOVER_BASE_URL"}
            built = subprocess.run(
                ["npm", "run", "build"], cwd=PLUGIN_DIR, env=env, capture_output=True, text=True, timeout=300
            )
            assert built.returncode == 0, built.stdout + built.stderr
    return BUNDLE


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def page_server(tmp_path_factory, bundle):
    """A loopback web server of the agent view's page and scripts: an origin of its own, as Flex's page is."""
    root = tmp_path_factory.mktemp("agent-view")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def alice(twilio):
    worker = add_worker(twilio.emulator, "Alice")
    yield worker
    with twilio.emulator.lock:
        twilio.emulator.table("workers").pop(worker["sid"], None)


@pytest.fixture(scope="module")
def kit_flow(twilio) -> dict:
    """The kit's Studio handoff flow (studio/agent-handoff.json as `handover studio generate` renders it), published."""
    channels = {
        name: taskrouter.task_channel_named(twilio.emulator, twilio.account.workspace_sid, name)["sid"]
        for name in ("chat", "voice")
    }
    flow = definition(
        FlowParameters(twilio.account.workflow_sid, channels["chat"], channels["voice"], {"team": "billing"})
    )
    return {"definition": flow, "sid": add_flow(twilio.emulator, "Agent Handoff (kit)", flow)["sid"]}


@pytest.fixture(scope="module")
def studio_runtime(runtimes, kit_flow):
    """The real twilio-run with the studio-handover tool set up for the kit's flow."""
    return runtimes(
        TWILIO_STUDIO_HANDOFF_FLOW_SID=kit_flow["sid"],
        STUDIO_FROM_ADDRESS="+15550001111",
        FLEX_WORKSPACE_SID=None,
        FLEX_WORKFLOW_SID=None,
    )


def page_task(number: int, attributes: dict, channel: str) -> dict:
    """A task of the page alone, for what Studio's Send to Flex enqueues (the emulator's flow runner makes no task)."""
    return {
        "sid": f"WR{number:032x}",
        "taskSid": f"WT{number:032x}",
        "status": "accepted",
        "taskChannelUniqueName": channel,
        "attributes": attributes,
        "dateCreated": "2026-12-07T14:00:00Z",
    }


def handed_off_to(emulator, twilio, runtime, bot, worker, request: dict) -> tuple[str, dict, dict]:
    """A conversation with the bot, handed off by the flex-handover tool with this request, its task accepted by
    `worker`: the conversation's SID, the emulator's task and its reservation."""
    conversation = add_conversation(emulator, twilio.account, "Ada Lovelace")
    add_participant(emulator, conversation, address="+15551234567")
    add_bot_webhook(emulator, twilio, conversation, f"{bot.base}/bot/{conversation}")
    answer = call_tool(runtime, headers_for(twilio, conversation), request)
    assert answer.status == 200, answer.body
    interaction = emulator.table("interactions")[answer.body["interactionSid"]]
    task = emulator.table("tasks")[interaction["routing"]["properties"]["sid"]]
    reservation = accept(emulator, offer(emulator, task["sid"], worker["sid"])["sid"])
    return conversation, task, reservation


def agent_view(page_server, name: str, runtime, token: str, tasks: list[dict], click: str | None = None) -> dict:
    """Load the page of these tasks in Chromium (and click Return to AI on `click`): what the driver saw."""
    root, origin = page_server
    write_page(root, tasks, project_dir=PROJECT_DIR, base_url=runtime.url(""), token=token, name=name)
    result_path = root / f"{name}.result.json"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    job = {
        "chromium": str(CHROMIUM),
        "pageUrl": f"{origin}/{name}.html",
        "clickTaskSid": click,
        "screenshot": str(SCREENSHOT if name == "agent-view" else root / f"{name}.png"),
        "resultPath": str(result_path),
    }
    (root / f"{name}.job.json").write_text(json.dumps(job), encoding="utf-8")
    driven = subprocess.run(
        ["node", str(HERE / "agent_view.js"), str(root / f"{name}.job.json")],
        capture_output=True,
        text=True,
        timeout=90,
        env={k: v for k, v in os.environ.items() if not k.upper().endswith("_PROXY")},
    )
    assert driven.returncode == 0, driven.stdout + driven.stderr
    return json.loads(result_path.read_text(encoding="utf-8"))


def test_the_agent_sees_the_ais_handoff_and_returns_the_customer_to_the_ai(
    twilio,
    emulator,
    hand_back_runtime,
    webhook_server,
    alice,
    page_server,
):
    bot = webhook_server
    conversation, task, reservation = handed_off_to(
        emulator,
        twilio,
        hand_back_runtime,
        bot,
        alice,
        {"reason": "Wants a refund for a double charge", "summary": SUMMARY},
    )
    _, hostile_task, hostile_reservation = handed_off_to(
        emulator, twilio, hand_back_runtime, bot, alice, {"reason": HOSTILE, "summary": HOSTILE * 40}
    )
    token = issue_flex_token(emulator, alice["sid"])
    emulator.outbox.wait_idle()
    emulator.clear_traffic()

    seen = agent_view(
        page_server,
        "agent-view",
        hand_back_runtime,
        token,
        [flex_task(task, reservation), flex_task(hostile_task, hostile_reservation)],
        click=task["sid"],
    )

    assert (seen["errors"], seen["pluginError"]) == ([], None)
    assert {url.split("?")[0].rsplit("/", 1)[0] for url in seen["external"]} <= {PASTE_FONTS}
    first, hostile = seen["before"]
    assert (first["taskSid"], first["reason"], first["summary"]) == (
        task["sid"],
        "Wants a refund for a double charge",
        SUMMARY,
    )
    assert re.fullmatch(r"less than a minute|\d+ min", first["waited"]) and first["returnToAi"]
    shown = " ".join(first["panel"].split())
    for row in (
        "From the AI Reason",
        "Handed off",
        "Waiting less than a minute",
        "Channel sms",
        "Customer +15551234567",
    ):
        assert row in shown
    assert shown.endswith("Handed off through /tools/flex-handover")
    # The hostile texts are text: shown as written (the summary cut with an expander), no element made of them.
    assert hostile["reason"] == HOSTILE and hostile["markupInPanel"] == 0
    assert hostile["summary"] == (HOSTILE * 40)[:280] + "…"
    # (the tool cut it to the contract's length first)
    assert f"Show the whole summary ({contract.MAX_SUMMARY_LENGTH} characters)" in " ".join(hostile["panel"].split())

    # Return to AI: one cross-origin POST (a form, so no preflight) with the agent's token, answered 200 and readable.
    (hand_back,) = seen["handBacks"]
    assert (hand_back["method"], hand_back["origin"], hand_back["status"], hand_back["allowOrigin"]) == (
        "POST",
        page_server[1],
        200,
        "*",
    )
    assert dict(p.split("=", 1) for p in hand_back["requestBody"].split("&")) == {
        "Token": token,
        "TaskSid": task["sid"],
    }
    assert hand_back["body"]["status"] == "handed_back" and hand_back["body"]["conversationSid"] == conversation
    assert (seen["note"], seen["buttonDisabled"]) == ("The customer is with the AI again. Finish your wrap-up.", True)
    # Then the agent's side wrapped up through Flex (WrapupTask on the reservation), never canceled.
    assert seen["actions"] == [{"name": "WrapupTask", "payload": {"sid": reservation["sid"]}}]

    # The function did it: the bot's webhook is back, the hand-back recorded for the AI, the next message the bot's.
    (restored,) = webhooks_of(emulator, conversation)
    assert restored["configuration"]["url"] == f"{bot.base}/bot/{conversation}"
    handed_back = conversation_attributes(emulator, conversation)["handedBack"]
    assert (handed_back["reason"], handed_back["taskSid"], handed_back["worker"]["sid"]) == (
        "agent",
        task["sid"],
        alice["sid"],
    )
    customer_writes(emulator, conversation, "Thanks, back to the bot?")
    emulator.outbox.wait_idle()
    assert bot_messages(bot, conversation) == ["Thanks, back to the bot?"]


def test_the_panel_shows_the_studio_paths_handoff_data_on_messaging_and_on_a_call(
    twilio, emulator, studio_runtime, kit_flow, page_server
):
    # Messaging: the studio-handover tool starts the kit's flow (through the real runtime), which the emulator's
    # Studio runs to Send to Flex; its attributes are the task's.
    conversation = add_conversation(emulator, twilio.account, "Grace Hopper")
    answer = call_tool(
        studio_runtime,
        headers_for(twilio, conversation),
        {"reason": "Asks for an invoice in her company's name", "summary": "Needs it for order 77 before Friday."},
        path="/tools/studio-handover",
    )
    assert answer.status == 200, answer.body
    (execution,) = [e for e in studio_executions(emulator, kit_flow["sid"]) if e["context"]["flow"]["data"]]
    messaging = run_execution(emulator, execution).flex
    assert messaging is not None and messaging.widget == "messaging_to_flex"
    # Voice: Twilio Agent Connect ends the call into the flow with its HandoffData.
    call_handoff = tac_handoff("conv_conversation_0000000000000000000000000c")
    voice = run_call(emulator, kit_flow["definition"], call(HandoffData=json.dumps(call_handoff))).flex
    assert voice is not None and voice.widget == "call_to_flex"

    seen = agent_view(
        page_server,
        "studio-path",
        studio_runtime,
        "no-token-needed",
        [page_task(1, messaging.attributes, "chat"), page_task(2, voice.attributes, "voice")],
    )

    assert (seen["errors"], seen["pluginError"]) == ([], None)
    chat, phone = seen["before"]
    assert (chat["reason"], chat["summary"]) == (
        "Asks for an invoice in her company's name",
        "Needs it for order 77 before Friday.",
    )
    assert "Handed off through /tools/studio-handover" in " ".join(chat["panel"].split())
    assert chat["returnToAi"]  # the hand-back takes the studio-handover tool's tasks: their HandoffData names the chat
    assert (phone["reason"], phone["summary"], phone["returnToAi"]) == ("wants a refund", None, False)
    shown = " ".join(phone["panel"].split())
    for row in (
        "The AI gave no summary.",
        "Channel voice",
        f"Agent Connect profile {call_handoff['profileId']}",
        f"Agent Connect conversation {call_handoff['conversationId']}",
        "department billing",
    ):
        assert row in shown
