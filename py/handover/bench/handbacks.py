"""The hand-back at contact-center scale: many tasks ending at once, TaskRouter's events sent as Twilio sends them.

N conversations, each with the bot's webhook, are handed off by the flex-handover tool beforehand (setup, not
measured: no emulated latency, no limits), their tasks accepted by a Flex agent. Then every task wraps up at a
random moment of the window and is completed at once after (TaskRouter's documented duplicates: two ending events
per task, task.wrapup then task.completed), at Twilio's limits, time-scaled as the spike is (scale.py). The
workspace's events reach functions/lifecycle/task-events signed, through an outbox of `senders` concurrent senders
(Twilio sends callbacks concurrently, so the two events of a task may be handled at the same moment and arrive in
either order).

What counts is the end state of each conversation: the bot's webhook back exactly once, the hand-back recorded,
the customer told once; and that no event was answered 5xx without a later event of its task answered 2xx.
"""

from __future__ import annotations

import base64
import json
import random
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from twilio_emulator import Emulator, Limits
from twilio_emulator.agents import accept, add_worker, complete, offer, wrap_up
from twilio_emulator.callbacks import Callback, Outbox

from .. import contract
from ..errors import HandoverError
from ..lifecycle.wiring import TASK_EVENTS_PATH
from . import stats
from .handoffs import HANDED_OFF, Stage, new_conversations
from .scale import ACCOUNT_CONCURRENCY_LIMITED, SYNC_RATE_LIMITED

# What the customer reads at the hand-back (the runtime's HANDBACK_MESSAGE), so that "told twice" can be seen.
HANDBACK_MESSAGE = "You are back with our assistant. Ask me anything else."
# The bot's webhook: a loopback URL nothing listens on. This scenario sends the bot nothing (a system message reaches
# no bot), and whatever the emulator would send there stays on this machine, recorded as not delivered.
BOT_URL = "http://127.0.0.1:9/bot/{conversation}"
SETUP_CALLERS = 32  # the setup's handoffs in flight at once
SOURCE = "taskrouter.event"
_ENDINGS = ("task.wrapup", "task.completed")  # each task's two ending events, in the order TaskRouter sends them
# The same wrap-up moments every run.
WRAPUPS_SEED = 20261208
EXAMPLES = 5  # unfinished 5xx answers named in the results


class SetupFailed(HandoverError):
    """The hand-back burst could not be set up (a handoff that did not hand off); the message says which."""


@dataclass(frozen=True)
class HandbackBurst:
    conversations: int
    window_seconds: float  # Twilio time within which every task wraps up and completes
    time_scale: float
    latency_ms: float  # Twilio's round trip, in Twilio time
    senders: int  # the outbox's concurrent senders of TaskRouter's events
    timeout_seconds: float  # how long the events may take to be answered, after the last task's end


def handback_burst(stage: Stage, plan: HandbackBurst) -> dict:
    """Hand off `plan.conversations` conversations, then end all their tasks within the window; what came of it."""
    emulator = stage.emulator
    setup_started = time.monotonic()
    tasks = _handed_off(stage, plan.conversations)
    worker = add_worker(emulator, "Benchmark agent")
    for task_sid in tasks.values():
        accept(emulator, offer(emulator, task_sid, worker["sid"])["sid"])
    setup_seconds = time.monotonic() - setup_started

    arrivals = random.Random(WRAPUPS_SEED)
    window = plan.window_seconds * plan.time_scale
    schedule = sorted((arrivals.uniform(0, window), task_sid) for task_sid in tasks.values())
    outbox = Outbox(lambda: emulator.account.auth_token, concurrency=plan.senders)
    first_request = len(emulator.requests)
    try:
        with _wired(stage, outbox), _at_twilios_limits(emulator, plan):
            started = time.monotonic()
            lateness = _end_tasks(emulator, schedule, started)
            last_end = time.monotonic()
            settled_in_time = outbox.wait_idle(plan.timeout_seconds)
            finished = time.monotonic()
    finally:
        outbox.close()
        with emulator.lock:
            emulator.table("workers").pop(worker["sid"], None)
    requests = emulator.requests[first_request:]
    events = [c for c in list(outbox.sent) if c.source == SOURCE]
    outcome = conversations_after(emulator, tasks, events)
    refused = Counter(
        request.response.get("code")
        for request in requests
        if request.status == 429 and isinstance(request.response, dict)
    )
    unfinished = unfinished_server_errors(events)
    latency = {
        "all": _twilio_ms(events, plan.time_scale),
        **{kind: _twilio_ms([c for c in events if _type(c) == kind], plan.time_scale) for kind in _ENDINGS},
    }
    return {
        "conversations": plan.conversations,
        "window_seconds": plan.window_seconds,
        "time_scale": plan.time_scale,
        "latency_ms": plan.latency_ms,
        "senders": plan.senders,
        "timeout_seconds": plan.timeout_seconds,
        "setup_seconds": round(setup_seconds, 1),
        "ending_seconds": round(last_end - started, 1),
        "wall_seconds": round(finished - started, 1),
        "settled_in_time": settled_in_time,
        "wrapup_lateness_ms": stats.summary(lateness),
        "events": len(events),
        "events_by_type": dict(Counter(_type(c) for c in events)),
        "answers": dict(Counter(_status(c) for c in events)),
        "server_errors": sum(1 for c in events if c.status is not None and c.status >= 500),
        "unanswered": sum(1 for c in events if c.status is None),
        "unfinished_server_errors": len(unfinished),
        "unfinished_examples": unfinished[:EXAMPLES],
        **outcome,
        "twilio_requests": len(requests),
        "sync_requests": sum(1 for request in requests if request.host.startswith("sync.")),
        "sync_rate_limited": refused[SYNC_RATE_LIMITED],
        "concurrency_limited": refused[ACCOUNT_CONCURRENCY_LIMITED],
        "peak_requests_in_flight": stats.peak_overlap([(r.started, r.finished) for r in requests]),
        # In Twilio time: queued by TaskRouter to answered by the function, divided by the scale.
        "event_latency_twilio_ms": latency,
        "samples": {"wall_ms": [round(ms, 2) for ms in _latencies(events, plan.time_scale)]},
    }


def _type(callback: Callback) -> str:
    return callback.params.get("EventType", "?")


def _status(callback: Callback) -> str:
    return str(callback.status) if callback.status is not None else "no answer"


def _latencies(events: list[Callback], time_scale: float) -> list[float]:
    return [(c.finished_at - c.queued_at) * 1000 / time_scale for c in events if c.finished_at is not None]


def _twilio_ms(events: list[Callback], time_scale: float) -> dict:
    return stats.summary(_latencies(events, time_scale))


# Setup ---------------------------------------------------------------------------------------------------------


def _handed_off(stage: Stage, count: int) -> dict[str, str]:
    """`count` conversations, each with the bot's webhook, handed off through the tool: conversation → its task.

    Setup, not measured: without emulated latency or limits, so that it takes seconds, not minutes.
    """
    emulator = stage.emulator
    sids = new_conversations(stage, count)
    latency_before, limits_before = emulator.latency, emulator.limits
    emulator.latency = 0.0
    emulator.set_limits(None)
    try:
        for sid in sids:
            _add_bot_webhook(emulator, stage.account.service_sid, sid)
        with ThreadPoolExecutor(max_workers=SETUP_CALLERS, thread_name_prefix="handback-setup") as pool:
            answers = list(pool.map(lambda sid: stage.caller.call(stage.caller.headers(sid)), sids))
    finally:
        emulator.latency = latency_before
        emulator.set_limits(limits_before)
    refused = Counter(f"{a.status} {a.outcome}" for a in answers if (a.status, a.outcome) != (200, HANDED_OFF))
    if refused:
        raise SetupFailed(f"hand-back burst: the setup's handoffs answered {dict(refused)}, not all 200 handed_off")
    tasks = tasks_by_conversation(emulator)
    return {sid: tasks[sid] for sid in sids}


def _add_bot_webhook(emulator: Emulator, service_sid: str, conversation_sid: str) -> None:
    """The bot's conversation-scoped webhook, made through the API as the bot's setup makes it."""
    account = emulator.account
    credential = base64.b64encode(f"{account.sid}:{account.auth_token}".encode()).decode()
    body = urllib.parse.urlencode(
        {
            "Target": "webhook",
            "Configuration.Url": BOT_URL.format(conversation=conversation_sid),
            "Configuration.Method": "post",
            "Configuration.Filters": "onMessageAdded",
        }
    ).encode()
    answer = emulator.respond(
        "POST",
        "conversations.twilio.com",
        f"/v1/Services/{service_sid}/Conversations/{conversation_sid}/Webhooks",
        {"authorization": f"Basic {credential}", "content-type": "application/x-www-form-urlencoded"},
        body,
    )
    if answer.status != 201:
        raise SetupFailed(f"hand-back burst: the bot's webhook was answered {answer.status}: {answer.body}")


def tasks_by_conversation(emulator: Emulator) -> dict[str, str]:
    """The task of each conversation's Flex interaction (the routing's attributes name the conversation)."""
    with emulator.lock:
        interactions = list(emulator.table("interactions").values())
    return {
        json.loads(i["routing"]["properties"]["attributes"])["conversationSid"]: i["routing"]["properties"]["sid"]
        for i in interactions
    }


@contextmanager
def _wired(stage: Stage, outbox: Outbox) -> Iterator[None]:
    """The workspace's ending events to the runtime's task-events, as `handback wire` leaves it (at the runtime's
    loopback https URL, which the outbox delivers over plain HTTP), sent by `outbox`; as it was on the way out."""
    emulator = stage.emulator
    url = f"https://localhost:{stage.caller.port}{TASK_EVENTS_PATH}"
    with emulator.lock:
        workspace = emulator.table("workspaces")[stage.account.workspace_sid]
        before = workspace.get("event_callback_url"), workspace.get("events_filter"), emulator.outbox
        workspace["event_callback_url"], workspace["events_filter"] = url, ",".join(contract.HANDBACK_EVENTS)
        emulator.outbox = outbox
    try:
        yield
    finally:
        with emulator.lock:
            workspace["event_callback_url"], workspace["events_filter"], emulator.outbox = before


@contextmanager
def _at_twilios_limits(emulator: Emulator, plan: HandbackBurst) -> Iterator[None]:
    """Twilio's documented limits and round trip, time-scaled, for the window only (full buckets at its start)."""
    latency_before, limits_before = emulator.latency, emulator.limits
    emulator.latency = plan.latency_ms * plan.time_scale / 1000
    emulator.set_limits(Limits().scaled(plan.time_scale))
    try:
        yield
    finally:
        emulator.latency = latency_before
        emulator.set_limits(limits_before)


def _end_tasks(emulator: Emulator, schedule: list[tuple[float, str]], start: float) -> list[float]:
    """Each task wrapped up at its moment and completed right after; how late (ms) each wrap-up came."""
    lateness = []
    for moment, task_sid in schedule:
        time.sleep(max(0.0, start + moment - time.monotonic()))
        lateness.append(max(0.0, time.monotonic() - start - moment) * 1000)
        wrap_up(emulator, task_sid)
        complete(emulator, task_sid)
    return lateness


# What came of it -----------------------------------------------------------------------------------------------


def conversations_after(emulator: Emulator, tasks: dict[str, str], events: list[Callback]) -> dict:
    """Each conversation's end state: its bot webhooks, its hand-back record of its task, the message told.

    A conversation whose task still had an event being delivered when the wait ended is `unsettled`, counted
    apart: neither done nor lost (the machine was too slow for the wait, which proves nothing either way).
    """
    answered = Counter(c.params.get("TaskSid") for c in events)
    with emulator.lock:
        webhooks = Counter(w["conversation_sid"] for w in emulator.table("conversation_scoped_webhooks").values())
        told = Counter(
            m["conversation_sid"]
            for m in emulator.table("conversation_messages").values()
            if m.get("body") == HANDBACK_MESSAGE
        )
        attributes = {sid: json.loads(emulator.table("conversations")[sid]["attributes"] or "{}") for sid in tasks}
    done = lost = doubled = told_once = unsettled = 0
    for sid, task_sid in tasks.items():
        if answered[task_sid] < len(_ENDINGS):
            unsettled += 1
            continue
        record = attributes[sid].get("handedBack") or {}
        handed_back = record.get("taskSid") == task_sid and record.get("botRestored") is True
        if webhooks[sid] > 1 or told[sid] > 1:
            doubled += 1
        if webhooks[sid] == 0 or not handed_back:
            lost += 1
        if webhooks[sid] == 1 and handed_back:
            done += 1
        told_once += told[sid] == 1
    return {
        "handed_back": done,
        "lost": lost,
        "doubled": doubled,
        "told_once": told_once,
        "unsettled": unsettled,
    }


def unfinished_server_errors(events: list[Callback]) -> list[str]:
    """The events answered 5xx that no later event of the same task finished: no event of that task was answered
    2xx after the 5xx answer came (finished_at). A retryable 503 whose task's next event was then answered 200 is
    not one; a 5xx answered after its task's every 2xx answer is, whatever the conversation's state (TaskRouter
    would have to send that event again, which it does not promise)."""
    by_task: dict[str, list[Callback]] = defaultdict(list)
    for callback in events:
        by_task[callback.params.get("TaskSid", "?")].append(callback)
    unfinished = []
    for task_sid, callbacks in by_task.items():
        for failed in callbacks:
            if failed.status is None or failed.status < 500:
                continue
            later = [
                c
                for c in callbacks
                if c is not failed
                and c.status is not None
                and 200 <= c.status < 300
                and (c.finished_at or 0) > (failed.finished_at or 0)
            ]
            if not later:
                unfinished.append(f"{_type(failed)} of {task_sid} answered {failed.status}")
    return sorted(unfinished)
