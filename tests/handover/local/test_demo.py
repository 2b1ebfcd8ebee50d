"""`handover demo` end to end: the embedded emulator, twilio-run and the real project."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result

from handover import contract
from handover.account import tokens
from handover.cli import cli
from handover.local import demo as walkthrough
from handover.local import runtime, stack
from twilio_emulator import (
    Account,
    Emulator,
    Fault,
    FlexAccount,
    address_configuration,
    new_account,
    orchestrator_configuration,
    spec_directory,
)

REPO = Path(__file__).resolve().parents[3]
SID = "[0-9a-f]{32}"
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
DOMAIN = r"flex-handover-\d{4}-dev\.twil\.io"
TWILIO_CALL = re.compile(r"(GET|POST|PUT|PATCH|DELETE) https://")
TTID = "[0-7][0-9a-hjkmnp-tv-z]{25}"


@dataclass
class DemoRun:
    result: Result
    account: Account
    commands: list[list[str]]  # the commands the runtime started
    emulator: Emulator

    @property
    def token(self) -> str:
        """The HANDOVER_TOKEN env set put on the emulated environment."""
        [token] = [
            v["value"] for v in self.emulator.table("serverless_variables").values() if v["key"] == "HANDOVER_TOKEN"
        ]
        return token


def run_demo(*options: str) -> DemoRun:
    """The demo on the real project with an account whose credentials the test knows."""
    account = Account(sid="AC" + secrets.token_hex(16), auth_token=secrets.token_hex(16))
    commands, emulators = [], []
    popen, seed = runtime.subprocess.Popen, stack.seed_flex_account

    def recording_popen(command, *args, **kwargs):
        commands.append(list(command))
        return popen(command, *args, **kwargs)

    def recording_seed(emulator) -> FlexAccount:
        emulators.append(emulator)
        return seed(emulator)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stack, "new_account", lambda: account)
        patch.setattr(stack, "seed_flex_account", recording_seed)
        patch.setattr(runtime.subprocess, "Popen", recording_popen)
        result = CliRunner().invoke(cli, ["--project-dir", str(REPO), "demo", *options], catch_exceptions=False)
    return DemoRun(result, account, commands, emulators[0])


@pytest.fixture(scope="module")
def demo() -> DemoRun:
    return run_demo()


@pytest.fixture(scope="module")
def output(demo) -> str:
    assert demo.result.exit_code == 0, demo.result.output
    return demo.result.stdout


def section(output: str, title: str) -> list[str]:
    """The lines of the step whose title starts with `title`, without their indent."""
    steps = output.split("\n\n")
    found = [step for step in steps if step.lstrip("\n").startswith(title)]
    assert len(found) == 1, f"no single step {title!r} in:\n{output}"
    lines = found[0].strip("\n").splitlines()
    return [line.removeprefix("   ") for line in lines[1:]]


def test_the_demo_succeeds(demo):
    assert demo.result.exit_code == 0, demo.result.output
    assert demo.result.stderr == ""


def test_the_demo_starts_from_the_account_a_user_has_and_a_clean_clone(output, demo):
    lines = section(output, "Handover demo: an AI Assistant hands a web chat customer to a human agent in Flex")
    assert re.fullmatch(
        rf"Twilio: the embedded emulator \(account {demo.account.sid}\), reached through http://127\.0\.0\.1:\d+",
        lines[0],
    )
    assert re.fullmatch(
        rf"The account before you start: Flex \(workspace WS{SID}, workflow WW{SID}\), the customer's conversation "
        rf"CH{SID} in Conversations service IS{SID}, AI Assistant aia_asst_{UUID}",
        lines[1],
    )
    assert lines[2:] == [
        "Your project: a clean clone (functions, assets, package.json, .twilioserverlessrc), with a .env holding only "
        "ACCOUNT_SID and AUTH_TOKEN"
    ]


def test_the_toolkit_deploys_the_project_first(output, demo):
    title = next(line for line in output.splitlines() if line.startswith("1. "))
    assert title == "1. npm run deploy  (twilio-run deploy: the engine of `twilio serverless:deploy`)"
    lines = section(output, "1. npm run deploy")
    [build] = demo.emulator.table("serverless_builds").values()
    [service] = demo.emulator.table("serverless_services").values()
    [environment] = demo.emulator.table("serverless_environments").values()
    assert lines[:13] == [
        f"Service flex-handover ({service['sid']}), environment {environment['sid']}, build {build['sid']}, "
        "runtime node22",
        f"Domain https://{environment['domain_name']}",
        "[protected] /lifecycle/task-events",
        "[protected] /voice/connect-action",
        "[protected] /voice/incoming-call",
        "[public] /lifecycle/hand-back",
        "[public] /tools/flex-handover",
        "[public] /tools/studio-handover",
        "[private] /lifecycle/handback.js",
        "[private] /tools/contract.js",
        "[private] /tools/handoff.js",
        "[private] /tools/handover.js",
        "[private] /voice/relay.js",
    ]
    assert lines[13] == (
        f"Wrote .twiliodeployinfo: {demo.account.sid}:us1 → service {service['sid']}, build {build['sid']}"
    )
    assert re.fullmatch(DOMAIN, environment["domain_name"])
    assert (environment["build_sid"], build["status"]) == (build["sid"], "completed")
    calls = [re.sub(rf"(ZS|ZE|ZH|ZB){SID}", r"\1…", line) for line in lines[14:]]
    uploads = [call for call in calls if call.startswith("POST https://serverless-upload.twilio.com/")]
    assert sorted(uploads) == sorted(
        ["POST https://serverless-upload.twilio.com/v1/Services/ZS…/Functions/ZH…/Versions  ->  201"] * 6
        + ["POST https://serverless-upload.twilio.com/v1/Services/ZS…/Assets/ZH…/Versions  ->  201"] * 5
    )
    assert calls[-5:] == [
        "POST https://serverless.twilio.com/v1/Services/ZS…/Builds  ->  201",
        "GET https://serverless.twilio.com/v1/Services/ZS…/Builds/ZB…/Status  ->  200",
        "GET https://serverless.twilio.com/v1/Services/ZS…/Builds/ZB…/Status  ->  200",
        "GET https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  200",
        "POST https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Deployments  ->  201",
    ]
    statuses = [
        r.response["status"]
        for r in demo.emulator.requests
        if r.operation == "GET /v1/Services/{ServiceSid}/Builds/{Sid}/Status"
    ]
    assert statuses == ["building", "completed"]


def test_env_set_finds_the_deployment_checks_the_routing_then_creates_the_variables_and_the_claim_maps(output):
    title = next(line for line in output.splitlines() if line.startswith("2. handover env set "))
    assert re.fullmatch(rf"2\. handover env set --workspace-sid WS{SID} --workflow-sid WW{SID}", title)
    lines = section(output, "2. handover env set")
    domain = re.search(rf"https://({DOMAIN})", output).group(1)
    assert re.fullmatch(rf"Found service ZS{SID} \(found by \.twiliodeployinfo \(AC{SID}:us1\)\)", lines[0])
    assert re.fullmatch(rf"Found environment ZE{SID} at https://{domain}", lines[1])
    assert lines[2:22] == [
        f"FLEX_WORKSPACE_SID  .env: created  environment {domain}: created",
        f"FLEX_WORKFLOW_SID   .env: created  environment {domain}: created",
        f"HANDOVER_TOKEN      .env: created  environment {domain}: created",
        *(f"handover-claims-{shard:02d}  Sync service default: created" for shard in range(16)),
        "22 write(s).",  # 3 in .env, 3 on the environment, 16 Maps
    ]
    calls = [re.sub(rf"(WS|WW|ZS|ZE){SID}", r"\1…", line) for line in lines[22:]]
    assert calls == [
        "GET https://taskrouter.twilio.com/v1/Workspaces/WS…  ->  200",
        "GET https://taskrouter.twilio.com/v1/Workspaces/WS…/Workflows/WW…  ->  200",
        "GET https://taskrouter.twilio.com/v1/Workspaces/WS…/TaskChannels  ->  200",
        "GET https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  200",
        "GET https://sync.twilio.com/v1/Services/default/Maps  ->  200",
        *["POST https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  201"] * 3,
        *["POST https://sync.twilio.com/v1/Services/default/Maps  ->  201"] * 16,
    ]


def test_tool_register_reads_the_token_then_creates_the_tool_with_it_and_attaches_it(output):
    lines = section(output, "3. handover tool register")
    assistant = re.search(rf"aia_asst_{UUID}", output).group(0)
    assert re.fullmatch(rf"tool aia_tool_{UUID}: created on assistant {assistant}", lines[0])
    assert re.fullmatch(rf"  url: https://{DOMAIN}/tools/flex-handover\?token=<redacted>", lines[1])
    calls = [line for line in lines if TWILIO_CALL.match(line)]
    assert [
        re.sub(
            rf"aia_(asst|tool)_{UUID}|(ZS|ZE){SID}",
            lambda m: f"aia_{m.group(1)}_…" if m.group(1) else f"{m.group(2)}…",
            call,
        )
        for call in calls
    ] == [
        "GET https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  200",
        "GET https://assistants.twilio.com/v1/Assistants/aia_asst_…/Tools  ->  200",
        "POST https://assistants.twilio.com/v1/Tools  ->  201",
        "POST https://assistants.twilio.com/v1/Assistants/aia_asst_…/Tools/aia_tool_…  ->  204",
    ]
    assert re.search(rf'"url": "https://{DOMAIN}/tools/flex-handover\?token=<redacted>"', "\n".join(lines))


def test_the_registered_url_carries_the_environments_token(demo):
    [tool] = demo.emulator.table("assistant_tools").values()
    assert tokens.tokens_in(tool["meta"]["url"]) == [demo.token]
    assert tokens.without_query(tool["meta"]["url"]).endswith(".twil.io/tools/flex-handover")


def test_handback_wire_points_the_workspaces_events_at_the_deployed_function(output):
    lines = section(output, "4. handover handback wire")
    workspace = re.search(rf"--workspace-sid (WS{SID})", output).group(1)
    domain = re.search(rf"https://({DOMAIN})", output).group(1)
    events = "task.wrapup,task.completed,task.canceled"
    assert lines[:6] == [
        f"Using workspace {workspace} (FLEX_WORKSPACE_SID on the environment).",
        f"workspace {workspace}: created",
        f"  event callback url: https://{domain}/lifecycle/task-events",
        f"  events filter: {events}",
        f"  POST /v1/Workspaces/{workspace} "
        + json.dumps({"EventCallbackUrl": f"https://{domain}/lifecycle/task-events", "EventsFilter": events}),
        "1 write(s).",
    ]
    calls = [re.sub(rf"(ZS|ZE|WS){SID}", r"\1…", line) for line in lines[6:]]
    assert calls == [
        "GET https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  200",
        "GET https://taskrouter.twilio.com/v1/Workspaces/WS…  ->  200",
        "POST https://taskrouter.twilio.com/v1/Workspaces/WS…  ->  200",
    ]


def test_the_handback_message_is_set_on_the_environment(output, demo):
    title = next(line for line in output.splitlines() if line.startswith("5. "))
    assert title == f'5. twilio serverless:env:set --key HANDBACK_MESSAGE --value "{walkthrough.HANDBACK_TEXT}"'
    lines = section(output, "5. twilio serverless:env:set")
    assert re.fullmatch(rf"HANDBACK_MESSAGE  environment {DOMAIN}: created  \(optional: .*\)", lines[0])
    assert [re.sub(rf"(ZS|ZE){SID}", r"\1…", line) for line in lines[1:]] == [
        "POST https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  201"
    ]
    variables = {v["key"]: v["value"] for v in demo.emulator.table("serverless_variables").values()}
    assert variables["HANDBACK_MESSAGE"] == walkthrough.HANDBACK_TEXT


def runtime_port(output: str) -> int:
    return int(re.search(r"Functions: twilio-run at http://127\.0\.0\.1:(\d+) ", output).group(1))


def test_the_runtime_serves_the_variables_on_the_environment_and_gets_the_workspaces_events(output, demo):
    lines = section(output, "6. twilio-run serves the deployed environment")
    assert re.fullmatch(r"Functions: twilio-run at http://127\.0\.0\.1:\d+ \(in-process\)", lines[0])
    title = next(line for line in output.splitlines() if line.startswith("2. handover env set "))
    workspace = title.split("--workspace-sid ")[1].split()[0]
    assert lines[1:5] == [
        "FLEX_WORKSPACE_SID=" + workspace,
        "FLEX_WORKFLOW_SID=" + title.split("--workflow-sid ")[1].split()[0],
        "HANDOVER_TOKEN=<redacted>",
        f"HANDBACK_MESSAGE={walkthrough.HANDBACK_TEXT}",
    ]
    local = f"https://localhost:{runtime_port(output)}/lifecycle/task-events"
    domain = re.search(rf"https://({DOMAIN})", output).group(1)
    assert lines[5:] == [
        f"For this local run, the workspace's EventCallbackUrl is this runtime's {local} (a real account keeps "
        f"step 4's https://{domain}/lifecycle/task-events)",
        f"POST https://taskrouter.twilio.com/v1/Workspaces/{workspace}  ->  200",
    ]
    stored = demo.emulator.table("workspaces")[workspace]
    assert (stored["event_callback_url"], stored["events_filter"]) == (
        local,
        "task.wrapup,task.completed,task.canceled",
    )


def test_the_demo_deploys_then_runs_twilio_run_in_process_on_what_it_deployed(demo):
    deploy, start, after_hours, *voice_paths = demo.commands
    assert [command[2] for command in voice_paths] == ["start", "start"]  # the direct and the studio voice paths
    twilio_run = str(REPO / "node_modules/twilio-run/bin/twilio-run.js")
    assert deploy[1:3] == [twilio_run, "deploy"]
    clone = deploy[deploy.index("--cwd") + 1]
    assert deploy[3:] == [
        "--cwd",
        clone,
        "--environment",
        "dev",
        "--override-existing-project",
        "--output-format",
        "json",
    ]
    assert Path(clone).name == "flex-handover" and not Path(clone).is_relative_to(REPO)
    # The clone's node_modules is the project's, linked: the runtime and the functions' dependencies.
    assert start[1:5] == [f"{clone}/node_modules/twilio-run/bin/twilio-run.js", "start", "--cwd", clone]
    assert start[-1] == "--no-fork-process"
    # Step 18's runtime: the same deployment, its own port and env file (with HANDOVER_HOURS).
    assert after_hours[1:5] == start[1:5] and after_hours[-1] == "--no-fork-process"
    assert after_hours[after_hours.index("--port") + 1] != start[start.index("--port") + 1]
    assert after_hours[after_hours.index("--env") + 1] != start[start.index("--env") + 1]
    assert not Path(clone).exists()  # the clone was a scratch directory, removed at the end


def test_the_tool_request_carries_the_token_the_session_and_identity_headers_and_the_ai_input(output):
    lines = section(output, "8. The AI Assistant calls the handover tool")
    assert re.fullmatch(r"POST http://127\.0\.0\.1:\d+/tools/flex-handover\?token=<redacted>", lines[0])
    assert lines[1] == "Content-Type: application/json"
    assert re.fullmatch(rf"X-Session-Id: webhook:conversations__IS{SID}/CH{SID}", lines[2])
    assert re.fullmatch(rf"X-Identity: flex_participant:FX{SID}", lines[3])
    assert json.loads(lines[4]) == walkthrough.AI_INPUT
    assert len(lines) == 5


def test_the_function_looks_up_the_customer_then_creates_the_interaction(output):
    lines = section(output, "9. The function calls the Twilio API")
    # The handoff's two calls, in order; what else the function reads or records is its own tests' concern.
    calls = [line for line in lines if TWILIO_CALL.match(line)]
    lookups = [
        i
        for i, call in enumerate(calls)
        if re.fullmatch(rf"GET https://conversations\.twilio\.com/v1/Services/IS{SID}/Users/FX{SID}  ->  200", call)
    ]
    interactions = [
        i for i, call in enumerate(calls) if call.startswith("POST https://flex-api.twilio.com/v1/Interactions ")
    ]
    assert len(lookups) == 1 and len(interactions) == 1 and lookups[0] < interactions[0]
    assert calls[interactions[0]] == "POST https://flex-api.twilio.com/v1/Interactions  ->  200"
    assert '"type": "web",' in "\n".join(lines)
    assert '"customerName": "Ada Lovelace",' in "\n".join(lines)


def test_the_interaction_is_for_the_conversation_of_the_session(output):
    session = next(line for line in section(output, "8. The AI Assistant") if line.startswith("X-Session-Id: "))
    conversation = session.rsplit("/", 1)[1]
    interactions = "\n".join(section(output, "9. The function calls the Twilio API"))
    assert f'"media_channel_sid": "{conversation}"' in interactions
    assert f'"conversationSid": "{conversation}",' in interactions


def test_the_function_answers_http_200_handed_off(output):
    lines = section(output, "10. The function answers the AI Assistant")
    assert lines[0] == "HTTP 200"
    answer = json.loads("\n".join(lines[1:]))
    assert answer["status"] == "handed_off"
    assert re.fullmatch(f"KD{SID}", answer["interactionSid"])
    assert answer["message"] == "I have passed our conversation to a member of our team. They will reply here shortly."
    assert '"status": "handed_off"' in output


def test_flex_queues_a_task_with_the_customers_name(output):
    title = next(line for line in output.splitlines() if line.startswith("11. Flex queues a task for a human agent: "))
    assert re.fullmatch(rf"11\. Flex queues a task for a human agent: WT{SID} \(pending, channel chat\)", title)
    lines = section(output, "11. Flex queues a task for a human agent")
    assert lines[0] == "Task attributes, as the agent's Flex UI receives them:"
    attributes = json.loads("\n".join(lines[1:]))
    assert attributes["customerName"] == "Ada Lovelace"
    assert attributes["from"] == "Ada Lovelace"
    assert attributes["channelType"] == "web"
    answer = json.loads("\n".join(section(output, "10. The function answers")[1:]))
    assert attributes["flexInteractionSid"] == answer["interactionSid"]
    assert '"customerName": "Ada Lovelace"' in output


def customer_conversation(output: str) -> str:
    return re.search(rf"X-Session-Id: webhook:conversations__IS{SID}/(CH{SID})", output).group(1)


def bot_url(output: str, conversation: str) -> str:
    return re.search(rf'"(http://127\.0\.0\.1:\d+/bot/{conversation})"', output).group(1)


def test_the_customer_chats_with_a_bot_whose_webhook_is_made_through_the_api(output, demo):
    lines = section(output, "7. The customer chats with the bot: its webhook on the conversation sends it each message")
    conversation = customer_conversation(output)
    bot = bot_url(output, conversation)
    assert re.fullmatch(
        rf"The bot: a webhook server on this machine, at http://127\.0\.0\.1:\d+; Ada Lovelace chats with it in "
        rf"conversation {conversation}",
        lines[0],
    )
    assert lines[1] == "Its webhook on the conversation, made through the API as a bot's setup makes it:"
    assert re.fullmatch(
        rf"POST https://conversations\.twilio\.com/v1/Services/IS{SID}/Conversations/{conversation}/Webhooks  ->  201",
        lines[2],
    )
    assert lines[3:13] == [
        "  Target:",
        '     "webhook"',
        "  Configuration.Url:",
        f'     "{bot}"',
        "  Configuration.Method:",
        '     "post"',
        "  Configuration.Filters:",
        *body_lines(["onMessageAdded"]),
    ]
    said = walkthrough.CUSTOMER_LINES[0]
    assert re.fullmatch(rf'Ada Lovelace writes: "{re.escape(said)}" \(message IM{SID}\)', lines[-3])
    assert lines[-2:] == [
        f"  onMessageAdded → {bot}  ->  200",
        f'→ the bot received it: "{said}", signed by Twilio (its X-Twilio-Signature holds)',
    ]


def test_the_handoff_takes_the_bots_webhook_away_and_records_it(output, demo):
    conversation = customer_conversation(output)
    deleted = re.search(
        rf"DELETE https://conversations\.twilio\.com/v1/Services/IS{SID}/Conversations/{conversation}/Webhooks/"
        rf"(WH{SID})  ->  204",
        "\n".join(section(output, "9. The function calls the Twilio API")),
    ).group(1)
    lines = section(output, "12. The bot is out of the conversation: the function deleted its webhook")
    assert lines[:2] == [
        f"The conversation's webhooks: none ({deleted} deleted, step 9)",
        "Kept on the conversation for the hand-back, as its attribute handoffBotWebhooks:",
    ]
    assert json.loads("\n".join(lines[2:])) == [
        {
            "sid": deleted,
            "target": "webhook",
            "configuration": {"url": bot_url(output, conversation), "method": "post", "filters": ["onMessageAdded"]},
        }
    ]


def test_while_handed_off_the_customers_message_reaches_only_flex(output):
    lines = section(output, "13. The customer writes while handed off: the message reaches only Flex")
    task = re.search(rf"11\. Flex queues a task for a human agent: (WT{SID})", output).group(1)
    assert re.fullmatch(rf'Ada Lovelace writes: "Is anyone there\?" \(message IM{SID}\)', lines[0])
    assert lines[1:] == [
        f"→ it reached only Flex: it waits in the conversation for the agent who accepts task {task} (pending)",
        "→ the bot received nothing: the conversation has no webhook, no onMessageAdded was sent",
    ]


def test_the_agent_leaves_and_taskrouters_event_hands_the_customer_back_to_the_bot(output, demo):
    title = next(line for line in output.splitlines() if line.startswith("14. "))
    assert title == (
        "14. Alice, an agent in Flex, takes the task, then leaves: TaskRouter's task.wrapup hands the customer back "
        "to the bot"
    )
    lines = section(output, "14. Alice, an agent in Flex")
    conversation = customer_conversation(output)
    task = re.search(rf"11\. Flex queues a task for a human agent: (WT{SID})", output).group(1)
    [worker] = demo.emulator.table("workers").values()
    assert re.fullmatch(
        rf"TaskRouter offers task {task} to Alice \(worker {worker['sid']}\): reservation WR{SID}", lines[0]
    )
    assert lines[1:5] == [
        "Alice accepts in Flex: the task is assigned, Alice joins the conversation",
        "Alice clicks Leave: she leaves the conversation, which stays open, and the task wraps up",
        "TaskRouter's event, signed, to the workspace's EventCallbackUrl:",
        f"  task.wrapup → https://localhost:{runtime_port(output)}/lifecycle/task-events  ->  200",
    ]
    assert lines[5] == "The hand-back function calls the Twilio API:"
    webhooks = f"https://conversations.twilio.com/v1/Services/{tac_ids(output)['service']}/Conversations/{conversation}"
    assert f"  POST {webhooks}/Webhooks  ->  201" in lines
    assert f"  POST {webhooks}/Messages  ->  201" in lines
    [restored] = [line for line in lines if line.startswith("The bot's webhook, made again: ")]
    assert re.fullmatch(
        rf"The bot's webhook, made again: WH{SID} \(target webhook, onMessageAdded → "
        rf"{re.escape(bot_url(output, conversation))}\)",
        restored,
    )
    start = lines.index("handedBack, as recorded on the conversation:")
    handed_back = json.loads("\n".join(lines[start + 1 : -1]))
    assert handed_back == {
        "at": handed_back["at"],
        "taskSid": task,
        "reason": "wrapup",
        "worker": {"sid": worker["sid"], "name": "Alice"},
        "outcome": None,
        "botRestored": True,
    }
    assert lines[-1] == f'The customer reads, from system: "{walkthrough.HANDBACK_TEXT}" (HANDBACK_MESSAGE)'


def test_after_the_hand_back_the_bot_receives_the_customers_messages_again(output):
    lines = section(output, "15. The customer writes again: the bot has the conversation back")
    said = walkthrough.CUSTOMER_LINES[2]
    assert lines[1:] == [
        f"  onMessageAdded → {bot_url(output, customer_conversation(output))}  ->  200",
        f'→ the bot received it: "{said}", signed by Twilio (its X-Twilio-Signature holds)',
    ]


def test_a_customer_no_agent_takes_is_told_so_and_has_the_bot_back(output, demo):
    first = customer_conversation(output)
    lines = section(output, "16. A second customer, Grace Hopper, chats with the bot and is handed off")
    second = re.search(rf"in conversation (CH{SID});", lines[0]).group(1)
    assert second != first
    assert "The AI Assistant calls the handover tool for it: HTTP 200, handed_off" in lines
    task = re.search(rf"Flex queues task (WT{SID}) \(pending\); the conversation's webhooks: none$", lines[-1]).group(1)
    lines = section(output, "17. No agent takes it in time: the workflow times the task out")
    assert lines[:3] == [
        f"TaskRouter cancels task {task}: Task canceled on Workflow timeout",
        "TaskRouter's event, signed, to the workspace's EventCallbackUrl:",
        f"  task.canceled → https://localhost:{runtime_port(output)}/lifecycle/task-events  ->  200",
    ]
    bot = re.search(rf"http://127\.0\.0\.1:\d+/bot/{second}", "\n".join(lines)).group(0)
    assert any(line.startswith("The bot's webhook, made again: WH") and line.endswith(f"→ {bot})") for line in lines)
    assert (
        f'The customer reads, from system: "{contract.NO_AGENT_MESSAGE.default}" (NO_AGENT_MESSAGE, its default)'
    ) in lines
    assert lines[-2:] == [
        f"  onMessageAdded → {bot}  ->  200",
        '→ the bot received it: "Hello? Is the assistant back?", signed by Twilio (its X-Twilio-Signature holds)',
    ]
    handed_back = json.loads(demo.emulator.table("conversations")[second]["attributes"])["handedBack"]
    assert (handed_back["reason"], handed_back["worker"], handed_back["botRestored"]) == ("canceled", None, True)


AFTER_HOURS = "18. After hours: the AI is told no one is there"
AFTER_HOURS_RUNTIME = re.compile(
    r"Functions: a second twilio-run of the deployment at http://127\.0\.0\.1:(\d+), with the environment's "
    r"variables and HANDOVER_HOURS \(started beside the steps above; the first runtime is left as it was\)"
)


def after_hours_port(output: str) -> int:
    return int(AFTER_HOURS_RUNTIME.fullmatch(section(output, AFTER_HOURS)[2]).group(1))


def next_weekday_opening(closed: str) -> str:
    """09:00 in Paris on the first weekday after the closed date, in UTC as the function answers it."""
    day = date.fromisoformat(closed) + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    opening = datetime.combine(day, dt_time(9), ZoneInfo("Europe/Paris")).astimezone(UTC)
    return opening.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_after_hours_the_ai_is_told_no_one_is_there_no_task_is_made_and_the_bot_stays(output, demo):
    lines = section(output, AFTER_HOURS)
    assert lines[0].startswith("HANDOVER_HOURS=")
    hours = json.loads(lines[0].removeprefix("HANDOVER_HOURS="))
    [closed] = hours["closed"]
    assert hours == {
        "timeZone": "Europe/Paris",
        "weekly": {day: [["09:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        "closed": [closed],
    }
    assert closed in {
        (datetime.now(ZoneInfo("Europe/Paris")) - timedelta(days=days)).date().isoformat() for days in (0, 1)
    }
    assert lines[1] == (
        f"  (the team's hours: Monday to Friday, 09:00 to 18:00 in Paris, and closed today, {closed}: after hours "
        f"whenever the demo runs. On an account: {contract.HOURS.set_by})"
    )
    assert after_hours_port(output) != runtime_port(output)

    earlier = {
        customer_conversation(output),
        re.search(rf"in conversation (CH{SID});", "\n".join(section(output, "16. "))).group(1),
    }
    third = re.fullmatch(
        rf"Katherine Johnson chats with the bot in conversation (CH{SID}); its webhook:", lines[3]
    ).group(1)
    assert third not in earlier
    service = tac_ids(output)["service"]
    conversation_url = f"https://conversations.twilio.com/v1/Services/{service}/Conversations/{third}"
    assert lines[4:6] == [
        f"  POST {conversation_url}/Webhooks  ->  201",
        "The AI Assistant calls the handover tool for her: HTTP 200",
    ]
    # The claim beside the conversation's read, the customer's name and the bot's webhooks, then the claim given back:
    # no interaction, no webhook deleted, no record on the conversation.
    answered = lines.index("The function answers the AI Assistant:")
    calls = [re.sub(r"handover-claims-\d\d", "handover-claims-NN", line) for line in lines[6:answered]]
    assert sorted(calls[:-1]) == sorted(
        [
            "  POST https://sync.twilio.com/v1/Services/default/Maps/handover-claims-NN/Items  ->  201",
            f"  GET {conversation_url}  ->  200",
            f"  GET {conversation_url}/Webhooks  ->  200",
        ]
        + [
            line
            for line in calls
            if re.fullmatch(
                rf"  GET https://conversations\.twilio\.com/v1/Services/{service}/Users/FX{SID}  ->  200", line
            )
        ]
    )
    assert (
        calls[-1]
        == f"  DELETE https://sync.twilio.com/v1/Services/default/Maps/handover-claims-NN/Items/{third}  ->  204"
    )
    told = next(index for index, line in enumerate(lines) if line.startswith("No task was created: "))
    assert json.loads("\n".join(lines[answered + 1 : told])) == {
        "status": "no_agent_available",
        "reason": "closed",
        "message": contract.UNAVAILABLE_MESSAGE.default,
        "nextOpening": next_weekday_opening(closed),
    }
    # The account's tasks then: all but TAC's (step 21) and the voice calls' (their own steps), made after this step.
    tasks = [
        t
        for t in demo.emulator.table("tasks").values()
        if "handoffData" not in json.loads(t["attributes"]) and t["task_channel_unique_name"] != "voice"
    ]
    assert lines[told] == (
        f"No task was created: the account has {len(tasks)} task(s), as before the call ({len(tasks)}); "
        "interactions of the conversation: none"
    )
    assert [t for t in tasks if json.loads(t["attributes"]).get("conversationSid") == third] == []
    bot = bot_url(output, customer_conversation(output)).rsplit("/", 1)[0] + f"/{third}"  # the same bot's server
    [webhook] = [
        w for w in demo.emulator.table("conversation_scoped_webhooks").values() if w["conversation_sid"] == third
    ]
    assert lines[told + 1] == f"The bot keeps its webhook: {webhook['sid']} (target webhook, onMessageAdded → {bot})"
    said = walkthrough.CUSTOMER_LINES[4]
    assert re.fullmatch(rf'Katherine Johnson writes: "{re.escape(said)}" \(message IM{SID}\)', lines[told + 2])
    assert lines[told + 3 :] == [
        f"  onMessageAdded → {bot}  ->  200",
        f'→ the bot received it: "{said}", signed by Twilio (its X-Twilio-Signature holds)',
    ]
    assert json.loads(demo.emulator.table("conversations")[third]["attributes"]) == {}


def test_the_after_hours_schedule_is_closed_on_the_day_it_is_made():
    monday_evening = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)  # already Tuesday in Paris
    assert walkthrough.after_hours(monday_evening)["closed"] == ["2026-12-08"]
    assert next_weekday_opening("2026-12-08") == "2026-12-09T08:00:00.000Z"
    assert next_weekday_opening("2026-12-11") == "2026-12-14T08:00:00.000Z"  # a Friday: Monday


def test_tac_starts_from_the_accounts_console_default_state(output):
    lines = section(output, "Twilio Agent Connect: TAC's virtual agent hands an SMS customer to Flex")
    assert re.fullmatch(
        rf"Conversation Orchestrator configuration conv_configuration_{TTID}, as TAC's quickstart and the Console "
        r"leave it: traffic of \+15005550006 captured, no Conversations \(Classic\) bridge, "
        r"voice closing after 30 min, status callback https://tac\.example\.com/conversations",
        lines[0],
    )
    assert re.fullmatch(
        rf"Flex messaging address \+15005550006 \(IG{SID}\): auto-creation into Flex's Studio flow FW{SID}", lines[1]
    )


def tac_ids(output: str) -> dict[str, str]:
    lines = section(output, "Twilio Agent Connect")
    return {
        "configuration": re.search(rf"conv_configuration_{TTID}", lines[0]).group(0),
        "address": re.search(rf"IG{SID}", lines[1]).group(0),
        "service": re.search(rf"X-Session-Id: webhook:conversations__(IS{SID})/", output).group(1),
        "flow": re.search(rf"studio: flow (FW{SID}) 'Agent Handoff': created", output).group(1),
    }


def test_tac_setup_makes_exactly_the_writes_the_console_default_state_needs(output, demo):
    ids = tac_ids(output)
    configuration, service, flow = ids["configuration"], ids["service"], ids["flow"]
    title = next(line for line in output.splitlines() if line.startswith("19. handover tac setup "))
    assert title == f"19. handover tac setup --address +15005550006 --tac-env tac.env --conversations-service {service}"
    lines = section(output, "19. handover tac setup")
    assert [line.split(".", 1)[0] for line in lines[:4]] == ["Plan 1", "Plan 2", "Plan 3", "Plan 4"]
    said = "\n".join(lines)
    assert f"orchestrator: conversationsV1Bridge.serviceId: updated (none → {service})" in lines
    assert (
        "orchestrator: channelSettings.VOICE.statusTimeouts: updated (inactive 5, closed 30 → inactive 1, closed 1)"
        in lines
    )
    assert "orchestrator: channelSettings.SMS.captureRules: updated (removed: +15005550006→*, *→+15005550006)" in lines
    assert f"studio: tac.env: TWILIO_STUDIO_HANDOFF_FLOW_SID: updated ({flow})" in lines
    assert "5 write(s)." in lines
    console = lines.index("What stays in the Console (Flex > Contact Center Settings > Opt-in features > Beta):")
    assert lines[console + 1 : console + 3] == [
        "  enable 'Virtual agent summary for voice'",
        "  enable 'Virtual agent summary for messaging'",
    ]
    assert "/tmp" not in said
    writes = [
        re.sub(r"(ZS|ZE|IS)[0-9a-f]{32}", r"\1…", line)
        for line in lines
        if re.match("(POST|PUT|PATCH|DELETE) https://", line)
    ]
    assert writes == [
        f"POST https://conversations.twilio.com/v1/Configuration/Addresses/{ids['address']}  ->  200",
        f"PATCH https://conversations.twilio.com/v2/ControlPlane/Configurations/{configuration}  ->  202",
        "POST https://intelligence.twilio.com/v3/ControlPlane/Configurations  ->  201",
        f"PATCH https://conversations.twilio.com/v2/ControlPlane/Configurations/{configuration}  ->  202",
        "POST https://studio.twilio.com/v2/Flows/Validate  ->  200",
        "POST https://studio.twilio.com/v2/Flows  ->  201",
        "POST https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  201",
        "POST https://serverless.twilio.com/v1/Services/ZS…/Environments/ZE…/Variables  ->  201",
    ]
    stored = orchestrator_configuration(demo.emulator, configuration)
    assert stored["conversationsV1Bridge"] == {"serviceId": service}
    assert len(stored["intelligenceConfigurationIds"]) == 1
    assert address_configuration(demo.emulator, "+15005550006")["auto_creation"]["enabled"] is False


def body_lines(value: object) -> list[str]:
    """A request body field's value as the demo prints it under the field's name."""
    return ["     " + line for line in json.dumps(value, indent=2).splitlines()]


def test_tacs_escalation_tool_makes_the_conversation_inactive_then_starts_the_studio_flow(output, demo):
    ids = tac_ids(output)
    lines = section(output, "20. TAC's escalation tool")
    conversation = re.search(rf"conv_conversation_{TTID}", lines[0]).group(0)
    [orchestrated] = demo.emulator.table("orchestrator_conversations").values()
    assert orchestrated["id"] == conversation
    [customer] = [p for p in orchestrated["participants"] if p["type"] == "CUSTOMER"]
    store = orchestrator_configuration(demo.emulator, ids["configuration"])["memoryStoreId"]
    handoff = {
        "conversationId": conversation,
        "storeId": store,
        "profileId": customer["profileId"],
        "attributes": {"reason": walkthrough.AI_INPUT["reason"]},
    }
    # As twilio-agent-connect 2.5.0's handoff tool sends them (tests/handover/tac/test_tac_client.py runs it).
    expected = [
        f"PUT https://conversations.twilio.com/v2/Conversations/{conversation}  ->  200",
        "  status:",
        '     "INACTIVE"',
        f"PATCH https://conversations.twilio.com/v2/Conversations/{conversation}  ->  200",
        "  configuration:",
        *body_lines({"statusCallbacks": []}),
        f"POST https://studio.twilio.com/v2/Flows/{ids['flow']}/Executions  ->  201",
        "  To:",
        '     "+15005550009"',
        "  From:",
        '     "+15005550006"',
        "  Parameters:",
        *body_lines({"HandoffData": handoff}),
    ]
    assert lines == expected
    fetched = [r for r in demo.emulator.requests if r.method == "GET" and r.path == f"/v2/Conversations/{conversation}"]
    # As the flow read it next (step 21): the agent's customer texting reopens it later (step 22).
    assert fetched[0].response["status"] == "INACTIVE"
    assert fetched[0].response["configuration"]["statusCallbacks"] == []
    assert orchestrator_configuration(demo.emulator, ids["configuration"])["statusCallbacks"] == [
        {"url": "https://tac.example.com/conversations", "method": "POST"}
    ]


def test_the_studio_flow_runs_to_send_to_flex_with_the_handoff_data(output, demo):
    title = next(line for line in output.splitlines() if line.startswith("21. The Studio flow runs to Send to Flex"))
    assert re.fullmatch(rf"21\. The Studio flow runs to Send to Flex: a task on workflow WW{SID}, channel chat", title)
    assert title.split("workflow ")[1].split(",")[0] == re.search(rf"--workflow-sid (WW{SID})", output).group(1)
    lines = section(output, "21. The Studio flow runs to Send to Flex")
    assert lines[0] == (
        "Path: Trigger → request_names_conversation → request_has_handoff_data → fetch_participants → "
        "fetch_conversation → orchestrated_conversation → resume_conversation → messaging_to_flex"
    )
    conversation = re.search(rf"conv_conversation_{TTID}", "\n".join(section(output, "20. TAC's"))).group(0)
    assert lines[1:4] == [
        f"GET https://conversations.twilio.com/v2/Conversations/{conversation}/Participants  ->  200",
        f"GET https://conversations.twilio.com/v2/Conversations/{conversation}  ->  200",
        "Task attributes, as the agent's Flex UI receives them:",
    ]
    attributes = json.loads("\n".join(lines[4:]))
    [execution] = [
        e for e in demo.emulator.table("studio_executions").values() if e["flow_sid"] == tac_ids(output)["flow"]
    ]
    handoff = execution["context"]["flow"]["data"]["HandoffData"]
    [classic] = [
        c for c in demo.emulator.table("conversations").values() if c["friendly_name"] == "SMS from +15005550009"
    ]
    assert attributes == {
        "name": "+15005550009",
        "customerAddress": "+15005550009",
        "conversationSid": classic["sid"],
        "handoffData": handoff,
    }
    assert handoff["conversationId"] == conversation


def test_after_the_agent_leaves_tacs_task_the_conversation_is_tacs_again(output, demo):
    title = next(line for line in output.splitlines() if line.startswith("22. "))
    task = re.fullmatch(
        rf"22\. Alice takes TAC's task (WT{SID}), then leaves: TaskRouter's task\.wrapup gives the "
        r"conversation back to TAC",
        title,
    ).group(1)
    lines = section(output, "22. Alice")
    conversation = re.search(rf"conv_conversation_{TTID}", "\n".join(section(output, "20. TAC's"))).group(0)
    assert lines[:3] == [
        'While Alice has it, the customer texts "Thank you, Alice!": Conversation Orchestrator sends TAC 0 '
        "webhook(s) (its status callbacks are cleared)",
        "Alice clicks Leave; TaskRouter's event, signed, to the workspace's EventCallbackUrl:",
        f"  task.wrapup → https://localhost:{runtime_port(output)}/lifecycle/task-events  ->  200",
    ]
    patch = f"  PATCH https://conversations.twilio.com/v2/Conversations/{conversation}  ->  200"
    assert lines.count(patch) == 1
    assert (
        f"TAC's conversation {conversation}: ACTIVE, status callbacks https://tac.example.com/conversations "
        "(its configuration's)"
    ) in lines
    assert lines[-1] == f'The customer reads, from system: "{walkthrough.HANDBACK_TEXT}" (HANDBACK_MESSAGE)'
    [patched] = [r for r in demo.emulator.requests if r.method == "PATCH" and r.path.endswith(conversation)][-1:]
    assert patched.body == {
        "status": "ACTIVE",
        "configuration": {"statusCallbacks": [{"url": "https://tac.example.com/conversations", "method": "POST"}]},
    }
    start = lines.index("handedBack, as recorded on the Conversations (Classic) conversation:") + 1
    handed_back = json.loads("\n".join(lines[start:-1]))
    assert (handed_back["taskSid"], handed_back["reason"], handed_back["orchestratorConversationId"]) == (
        task,
        "wrapup",
        conversation,
    )


def test_the_customers_next_text_goes_to_tac_after_the_hand_back(output, demo):
    text = walkthrough.TAC_CUSTOMER_LINES[1]
    lines = section(output, f'23. The customer texts again, "{text}": Conversation Orchestrator sends it to TAC')
    [sent] = [c for c in demo.emulator.outbox.sent if c.source == walkthrough.TAC_COMMUNICATION]
    assert sent.url.startswith("https://tac.example.com/conversations?bodySHA256=")
    assert lines == [
        f"COMMUNICATION_CREATED, JSON signed with bodySHA256, → {sent.url}  ->  not delivered: the demo runs no TAC "
        "server (loopback only)",
        f"Its communication's content.text, which TAC's messaging channel hands to its LLM: {text!r}",
    ]


def test_every_request_matches_twilios_openapi_description(output, demo):
    # Every request is printed but locating the deployment (before step 1) and fetching the task (step 11).
    printed = [line for line in output.splitlines() if TWILIO_CALL.match(line.strip())]
    assert (
        f"\nRequests checked against Twilio's OpenAPI description: {len(printed) + 2}, violations: 0, "
        "operations not served: 0\n"
    ) in output
    assert len(demo.emulator.requests) == len(printed) + 2
    assert (demo.emulator.violations, demo.emulator.unserved) == ([], [])


def test_the_demo_ends_with_where_to_open_the_agents_view_of_its_tasks(output, demo):
    last = output.rstrip("\n").split("\n\n")[-1]
    title, uri, *note = [line.strip() for line in last.strip("\n").splitlines()]
    tasks = list(demo.emulator.table("tasks"))
    assert title == f"The agent's view of these {len(tasks)} tasks, as the Flex plugin shows them to Alice: open"
    page = REPO / walkthrough.AGENT_VIEW_DIR / "agent-view.html"
    assert uri == page.as_uri() and page.is_file()
    view = json.loads(page.read_text().split("window.__AGENT_VIEW__ = ", 1)[1].split(";</script>", 1)[0])
    assert [task["taskSid"] for task in view["tasks"]] == tasks
    assert view["uiAttributes"] == {"handoverBaseUrl": f"http://127.0.0.1:{demo_runtime_port(demo)}"}
    assert note[-1] == "runtime while it runs: handover demo --keep-running)"


def demo_runtime_port(demo) -> str:
    """The port of the demo's first runtime, as it started it."""
    first = next(command for command in demo.commands if "start" in command)
    return first[first.index("--port") + 1]


def emulated(*requests: tuple[str, str, str]) -> Emulator:
    """An emulator of a new account that got these (method, host, target) requests, with the account's credential."""
    emulator = Emulator(spec_directory(REPO), new_account())
    credential = base64.b64encode(f"{emulator.account.sid}:{emulator.account.auth_token}".encode()).decode()
    for method, host, target in requests:
        emulator.handle(method, host, target, {"authorization": f"Basic {credential}"}, b"")
    return emulator


UNSERVED = ("GET", "taskrouter.twilio.com", f"/v1/Workspaces/WS{'0' * 32}/Activities")
UNDESCRIBED = ("GET", "flex-api.twilio.com", "/v1/NoSuchThing")


def test_the_demo_fails_on_a_request_the_emulator_does_not_serve_naming_the_operation():
    emulator = emulated(UNSERVED, UNSERVED, ("GET", "studio.twilio.com", "/v2/Flows/FW" + "0" * 32 + "/Revisions"))
    with pytest.raises(walkthrough.DemoFailed) as raised:
        walkthrough.check_traffic(emulator)
    assert str(raised.value) == (
        "the emulator answered 501 to 3 requests for operations it does not serve: "
        "ListActivity (GET /v1/Workspaces/{WorkspaceSid}/Activities), "
        "ListFlowRevision (GET /v2/Flows/{Sid}/Revisions) (see twilio_emulator's README, 'What is not served')"
    )
    step = walkthrough.checked_step(emulator)
    assert step.title.endswith(": 3, violations: 0, operations not served: 3")
    assert step.lines[0] == (
        "not served (501): ListActivity (GET /v1/Workspaces/{WorkspaceSid}/Activities): "
        f"GET https://taskrouter.twilio.com{UNSERVED[2]}"
    )


def test_the_demo_fails_on_a_violation_first():
    with pytest.raises(walkthrough.DemoFailed, match="^1 requests broke Twilio's OpenAPI description$"):
        walkthrough.check_traffic(emulated(UNDESCRIBED, UNSERVED))


def test_the_demo_passes_traffic_the_emulator_served_and_vouched_for():
    emulator = emulated(("GET", "taskrouter.twilio.com", "/v1/Workspaces"))
    assert emulator.requests[-1].status == 200
    assert walkthrough.check_traffic(emulator) is None


def test_the_auth_token_is_never_printed(demo):
    result, account = demo.result, demo.account
    assert account.sid in result.output, "the demo did not use the patched account"
    assert account.auth_token not in result.output
    assert account.auth_token.lower() not in result.output.lower()
    assert account.auth_token not in re.findall(r"[0-9a-fA-F]{32}", result.output)


def test_the_handover_token_is_never_printed_and_the_handoff_succeeds_with_it(demo, output):
    assert tokens.valid(demo.token) == demo.token
    assert demo.token not in demo.result.output
    assert output.count("<redacted>") == 4  # the tool's URL twice (step 3), the runtime's variable (6), the call (8)
    assert section(output, "10. The function answers the AI Assistant")[0] == "HTTP 200"


def test_the_runtimes_are_stopped_after_the_demo(output):
    for port in (runtime_port(output), after_hours_port(output)):
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0, f"twilio-run still listens on {port}"


def test_the_demo_in_forked_mode_succeeds():
    run = run_demo("--fork")
    result, account, commands = run.result, run.account, run.commands
    assert result.exit_code == 0, result.output
    assert [command[2] for command in commands] == ["deploy", "start", "start", "start", "start"]
    assert "--no-fork-process" not in commands[1] and "--no-fork-process" not in commands[2]
    output = result.stdout
    assert re.search(r"Functions: twilio-run at http://127\.0\.0\.1:\d+ \(forked process per request\)", output)
    assert "POST https://flex-api.twilio.com/v1/Interactions  ->  200" in output
    assert "\n   HTTP 200\n" in output
    assert '"status": "handed_off"' in output
    assert '"customerName": "Ada Lovelace"' in output
    assert "violations: 0" in output
    assert account.auth_token not in result.output
    assert run.token not in result.output


def test_a_failed_handoff_exits_1(monkeypatch):
    """Flex refuses every interaction (a 400, which no retry changes): the function answers 502, the demo says so."""
    seed = stack.seed_flex_account

    def seed_with_flex_failing(emulator) -> FlexAccount:
        emulator.inject(Fault("POST", "/v1/Interactions", status=400, code=20001, times=None))
        return seed(emulator)

    monkeypatch.setattr(stack, "seed_flex_account", seed_with_flex_failing)
    result = CliRunner().invoke(cli, ["--project-dir", str(REPO), "demo"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "\n   HTTP 502\n" in result.stdout
    assert '"status": "failed"' in result.stdout
    assert "\n21. The Studio flow runs to Send to Flex: " in result.stdout  # the TAC path runs all the same
    assert result.stderr.startswith("Error: the handoff did not complete (HTTP 502, ")


def test_a_hand_back_that_cannot_restore_the_bot_exits_1_saying_where_it_stopped(monkeypatch):
    """Conversations refuses every webhook from the agent's Leave on (a 500, retried by the function until its
    deadline): the hand-back answers TaskRouter 503, the demo shows it, stops the loop there and fails."""
    leave, start_runtime = walkthrough.leave, walkthrough.start_runtime
    # A deadline of 1.5 s, not the production 8 s, so that the hand-back gives up sooner.
    monkeypatch.setattr(
        walkthrough,
        "start_runtime",
        lambda *args, **config: start_runtime(
            *args, **config, HANDOVER_DEADLINE_MS="1500", HANDOVER_ATTEMPT_TIMEOUT_MS="250"
        ),
    )

    def leave_with_webhooks_failing(emulator, task_sid):
        emulator.inject(Fault("POST", "/Webhooks", status=500, times=None))
        return leave(emulator, task_sid)

    monkeypatch.setattr(walkthrough, "leave", leave_with_webhooks_failing)
    result = CliRunner().invoke(cli, ["--project-dir", str(REPO), "demo"], catch_exceptions=False)
    assert result.exit_code == 1
    lines = section(result.stdout, "14. Alice, an agent in Flex")
    assert re.fullmatch(r"  task\.wrapup → https://localhost:\d+/lifecycle/task-events  ->  503", lines[4])
    assert not [line for line in lines if line.startswith("The bot's webhook, made again")]
    assert re.search(r"  POST https://conversations\.twilio\.com/\S+/Webhooks  ->  500", "\n".join(lines))
    # The loop stops where it failed.
    assert "\n15. " not in result.stdout and "\n17. " not in result.stdout and "\n18. " not in result.stdout
    assert "\n21. The Studio flow runs to Send to Flex: " in result.stdout  # the TAC path runs all the same
    assert result.stderr == (
        "Error: the hand-back did not happen (step 14): task.wrapup was answered 503 by /lifecycle/task-events; "
        "the bot's webhook was not made again; no hand-back is recorded on the conversation; "
        "the customer was not told HANDBACK_MESSAGE\n"
    )
    # Told nothing while the bot could not come back: the event that finishes the hand-back tells them once.
    assert "from system" not in "\n".join(lines)


def test_a_workflow_outside_the_workspace_stops_the_demo_at_env_set(monkeypatch):
    seed = stack.seed_flex_account

    def seed_without_the_workflow(emulator) -> FlexAccount:
        account = seed(emulator)
        return FlexAccount(**{**account.__dict__, "workflow_sid": "WW" + "0" * 32})

    monkeypatch.setattr(stack, "seed_flex_account", seed_without_the_workflow)
    result = CliRunner().invoke(cli, ["--project-dir", str(REPO), "demo"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "3. handover tool register" not in result.stdout
    assert result.stderr.startswith(f"Error: TaskRouter workflow WW{'0' * 32} is not in workspace WS")
    assert result.stderr.endswith("it does not exist in any workspace of this account.\n")


def test_a_missing_openapi_description_exits_1(monkeypatch, tmp_path):
    monkeypatch.setenv("TWILIO_EMULATOR_OPENAPI_DIR", str(tmp_path / "none"))
    result = CliRunner().invoke(cli, ["--project-dir", str(REPO), "demo"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Twilio's OpenAPI description was not found in ")
    assert "TWILIO_EMULATOR_OPENAPI_DIR" in result.stderr


def test_keep_running_prints_a_working_curl_command_that_reads_the_token_from_a_private_file(monkeypatch):
    printed: list[str] = []
    seen: dict = {}
    sleep = time.sleep

    def call_the_printed_curl_then_stop(seconds: float) -> None:
        if seconds != 3600:  # the runtime's own waits
            return sleep(seconds)
        [command] = [line.strip() for line in printed if line.strip().startswith("curl ")]
        [token_file] = re.findall(r"\$\(cat ([^)]+)\)", command)
        seen["mode"] = stat.S_IMODE(os.stat(token_file).st_mode)
        seen["token"] = Path(token_file).read_text(encoding="utf-8")
        # As the user's shell runs it: loopback, no proxy.
        environment = {name: value for name, value in os.environ.items() if "proxy" not in name.lower()}
        answer = subprocess.run(
            ["bash", "-c", command + " -w '\n%{http_code}'"],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        )
        seen["body"], seen["status"] = answer.stdout.rsplit("\n", 1)
        raise KeyboardInterrupt

    monkeypatch.setattr(walkthrough.time, "sleep", call_the_printed_curl_then_stop)
    walkthrough.run(REPO, printed.append, keep_running=True)
    assert seen["mode"] == 0o600
    assert tokens.valid(seen["token"]) == seen["token"]
    assert seen["status"] == "200", seen["body"]  # the function took the token (a 401 otherwise)
    assert seen["token"] not in "\n".join(printed)
    tail = printed[-5:]
    assert tail[0] == "\nThe emulator and the runtime keep running. Call the handover tool again with:"
    assert re.fullmatch(
        r'   curl -sS -X POST "http://127\.0\.0\.1:\d+/tools/flex-handover\?token=\$\(cat /\S+/handover-token\)" '
        r"-H 'Content-Type: application/json' -H 'X-Session-Id: webhook:conversations__IS\w+/CH\w+' "
        r"-H 'X-Identity: flex_participant:FX\w+' --data '\{.*\}'",
        tail[1],
    )
    assert re.fullmatch(r"\(/\S+/handover-token holds the handover token, readable by you only\.\)", tail[2])
    assert tail[3:] == ["Press Ctrl-C to stop.", "Stopped."]
    assert not Path(re.findall(r"\$\(cat ([^)]+)\)", tail[1])[0]).exists(), "the token file outlives the runtime"


def test_a_voice_call_on_each_path_reaches_flex_with_the_ais_reason_and_summary(output):
    direct = "\n".join(section(output, "25. The voice AI hands the caller off (direct path)"))
    assert '<Connect action="https://localhost:' in direct and '/voice/connect-action"><ConversationRelay' in direct
    assert '<Enqueue workflowSid="WW' in direct
    assert f'"summary": "{walkthrough.AI_INPUT["summary"]}"' in direct and '"channelType": "voice"' in direct
    studio = "\n".join(section(output, "27. The voice AI hands the caller off (studio path)"))
    assert '?Trigger=incomingCall"><ConversationRelay' in studio
    assert "Path: Trigger → call_has_handoff_data → call_handoff_data → call_to_flex" in studio
    assert f'"summary": "{walkthrough.AI_INPUT["summary"]}"' in studio
    assert section(output, "26. handover voice wire")[0].endswith(": unchanged")
