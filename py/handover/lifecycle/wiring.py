"""The hand-back's wiring: the workspace's event callback pointed at the deployed `/lifecycle/task-events`.

TaskRouter POSTs a workspace's events to one URL, its EventCallbackUrl, limited to the event types its
EventsFilter lists (none listed: every event). The hand-back needs the ends of a task: HANDBACK_EVENTS. The
workspace is read first and written only where it differs, in one update:

- no EventCallbackUrl: ours, with EventsFilter the hand-back's events (created);
- ours, and the filter empty or listing them all: nothing written (unchanged);
- ours, and the filter leaving some out: the filter's events kept in their order, the missing ones added (updated);
- another URL: refused, nothing written, since it is the user's and the kit does not forward events to it; with
  `replace_theirs`, ours and the hand-back's events (updated), the URL replaced reported.

The workspace is the one the deployed function creates its tasks in: FLEX_WORKSPACE_SID on the environment,
else in .env (as `env set` reads a variable it keeps: the deployment's first), unless one is given.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ..account.deployment import Deployment, remote_variables
from ..contract import HANDBACK_EVENTS, SET_VARIABLE_COMMAND, TASK_EVENTS, WORKSPACE
from ..errors import HandoverError, InputError
from ..outcomes import CREATED, DRY_RUN_WORDS, UNCHANGED, UPDATED
from ..project import ENV_FILE, read_local

TASK_EVENTS_PATH = f"/lifecycle/{TASK_EVENTS}"
WIRE_COMMAND = "handover handback wire"

# How the workspace's callback stands against the hand-back's.
WIRED = "wired"  # ours, and every hand-back event is sent
NOT_WIRED = "not wired"  # no EventCallbackUrl: TaskRouter sends no event at all
ELSEWHERE = "elsewhere"  # another URL gets the events
EVENTS_LEFT_OUT = "events left out"  # ours, but EventsFilter leaves some of the hand-back's events out


def callback_url(deployment: Deployment) -> str:
    """Where TaskRouter must send the events: the deployed environment's task-events function."""
    return deployment.url(TASK_EVENTS_PATH)


def shown_url(url: str) -> str:
    """A URL of the user's as the kit prints it: without its query, fragment or user:password, any of which may
    carry a secret (Twilio takes basic-auth credentials in a callback URL)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def event_list(events) -> str:
    """`task.wrapup, task.completed and task.canceled`, for sentences."""
    events = list(events)
    return events[0] if len(events) == 1 else f"{', '.join(events[:-1])} and {events[-1]}"


@dataclass(frozen=True)
class Callback:
    """A workspace's event callback as TaskRouter holds it."""

    url: str | None
    events: tuple[str, ...]  # EventsFilter's event types, in its order; none: TaskRouter sends every event

    @classmethod
    def of(cls, workspace) -> Callback:
        names = (name.strip() for name in (workspace.events_filter or "").split(","))
        return cls(workspace.event_callback_url or None, tuple(name for name in names if name))

    def left_out(self) -> list[str]:
        """The hand-back's events the filter does not send (none when there is no filter: all are sent)."""
        return [event for event in HANDBACK_EVENTS if self.events and event not in self.events]

    def standing(self, ours: str) -> str:
        if not self.url:
            return NOT_WIRED
        if self.url != ours:
            return ELSEWHERE
        return EVENTS_LEFT_OUT if self.left_out() else WIRED


class WorkspaceNotFound(HandoverError):
    """The workspace to wire does not exist in the account; nothing was written."""


class CallbackTaken(HandoverError):
    """Another URL gets the workspace's events; nothing was written. The message says the two ways on."""

    def __init__(self, workspace_sid: str, found: str, ours: str):
        theirs = shown_url(found)
        super().__init__(
            f"Workspace {workspace_sid} already sends its events to {theirs} (its EventCallbackUrl), and TaskRouter "
            f"calls one URL per workspace. Nothing was written. Either run the same command with --replace to point "
            f"it at {ours} ({theirs} then gets no event: the kit does not forward them), or keep yours and have it "
            f"forward the {event_list(HANDBACK_EVENTS)} events to {ours}, re-signed with the account's auth token: "
            f"an X-Twilio-Signature computed over {ours} and the event's parameters (for example twilio's "
            "RequestValidator(auth_token).compute_signature(url, params))."
        )


def configured_workspace(deployed: str | None, local: str | None) -> tuple[str, str]:
    """(FLEX_WORKSPACE_SID, where it is set): the environment's, else .env's; an empty value counts as none.

    Raises InputError when neither has one, or the one found is malformed.
    """
    for value, where in (
        (deployed, f"{WORKSPACE.name} on the environment"),
        (local, f"{WORKSPACE.name} in {ENV_FILE}"),
    ):
        if value:
            if not WORKSPACE.accepts(value):
                raise InputError(
                    f"{where} is {value!r}, not {WORKSPACE.expected}. Pass --workspace-sid WS…, or run "
                    f"`{SET_VARIABLE_COMMAND}`."
                )
            return value, where
    raise InputError(
        f"No TaskRouter workspace to wire: {WORKSPACE.name} is set neither on the environment nor in {ENV_FILE}. "
        f"Pass --workspace-sid WS…, or run `{SET_VARIABLE_COMMAND}`."
    )


def find_workspace(client, project_dir: Path, deployment: Deployment) -> tuple[str, str]:
    """configured_workspace() from the environment's variables (one listing) and .env."""
    deployed = getattr(remote_variables(client, deployment).get(WORKSPACE.name), "value", None)
    return configured_workspace(deployed, read_local(project_dir / ENV_FILE).get(WORKSPACE.name))


def read(client, workspace_sid: str, where: str) -> Callback:
    from twilio.base.exceptions import TwilioRestException

    try:
        return Callback.of(client.taskrouter.v1.workspaces(workspace_sid).fetch())
    except TwilioRestException as error:
        if error.status != 404:
            raise
        raise WorkspaceNotFound(
            f"TaskRouter workspace {workspace_sid} ({where}) does not exist in this account. Nothing was written. "
            "Use the workspace of your Flex instance (Console > TaskRouter > Workspaces): pass --workspace-sid WS…, "
            f"or run `{SET_VARIABLE_COMMAND}`."
        ) from error


@dataclass(frozen=True)
class WorkspaceUpdate:
    """The one write: `POST /v1/Workspaces/{Sid}` with the fields that differ (None: left as it is)."""

    workspace_sid: str
    event_callback_url: str | None
    events_filter: str

    method = "POST"

    @property
    def path(self) -> str:
        return f"/v1/Workspaces/{self.workspace_sid}"

    @property
    def body(self) -> dict[str, str]:
        """The parameters as Twilio takes them."""
        url = {} if self.event_callback_url is None else {"EventCallbackUrl": self.event_callback_url}
        return {**url, "EventsFilter": self.events_filter}

    def send(self, client) -> None:
        fields = {} if self.event_callback_url is None else {"event_callback_url": self.event_callback_url}
        client.taskrouter.v1.workspaces(self.workspace_sid).update(**fields, events_filter=self.events_filter)

    def as_json(self) -> dict:
        return {"method": self.method, "path": self.path, "body": self.body}

    def __str__(self) -> str:
        return f"{self.method} {self.path} {json.dumps(self.body)}"


@dataclass(frozen=True)
class WireResult:
    """What `handback wire` did (or, in a dry run, would do) to the workspace's event callback."""

    workspace_sid: str
    url: str  # ours
    events: tuple[str, ...]  # the EventsFilter after the run; none: every event
    outcome: str  # created, updated or unchanged
    replaced: str | None  # the other URL replaced, as shown_url prints it
    dry_run: bool
    write: WorkspaceUpdate | None  # made, or in a dry run to make

    def as_json(self) -> dict:
        return {
            "workspace": self.workspace_sid,
            "url": self.url,
            "events_filter": list(self.events),
            "outcome": self.outcome,
            "replaced": self.replaced,
            "dry_run": self.dry_run,
            "write": self.write.as_json() if self.write else None,
        }

    # How the result reads (printers.py would hold these beside the other commands' lines).

    def lines(self) -> list[str]:
        """The workspace and what happened to its callback, the callback after the run, then the write."""
        outcome = DRY_RUN_WORDS[self.outcome] if self.dry_run else self.outcome
        events = ",".join(self.events) or "none (TaskRouter sends every event)"
        lines = [
            f"workspace {self.workspace_sid}: {outcome}",
            f"  event callback url: {self.url}",
            f"  events filter: {events}",
        ]
        if self.write is not None:
            lines.append(f"  {'would send: ' if self.dry_run else ''}{self.write}")
        return lines

    def notes(self) -> list[str]:
        """For stderr: the URL replaced, then how many writes."""
        notes = []
        if self.replaced:
            notes.append(
                f"{'Would replace' if self.dry_run else 'Replaced'} the EventCallbackUrl {self.replaced}: it "
                f"{'would get' if self.dry_run else 'gets'} no event of workspace {self.workspace_sid} "
                f"{'then' if self.dry_run else 'now'} (the kit does not forward them)."
            )
        if self.dry_run:
            notes.append("Dry run: nothing was written.")
        elif self.write is None:
            notes.append("The hand-back was already wired; nothing was written.")
        else:
            notes.append("1 write(s).")
        return notes


def plan(workspace_sid: str, found: Callback, ours: str, replace_theirs: bool = False) -> WireResult:
    """What to write, from the callback found: see the module docstring. Raises CallbackTaken for another URL."""
    standing = found.standing(ours)
    if standing == WIRED:
        return WireResult(workspace_sid, ours, found.events, UNCHANGED, None, False, None)
    if standing == EVENTS_LEFT_OUT:
        events = (*found.events, *found.left_out())
        write = WorkspaceUpdate(workspace_sid, None, ",".join(events))
        return WireResult(workspace_sid, ours, events, UPDATED, None, False, write)
    if standing == ELSEWHERE and not replace_theirs:
        raise CallbackTaken(workspace_sid, found.url, ours)
    write = WorkspaceUpdate(workspace_sid, ours, ",".join(HANDBACK_EVENTS))
    replaced = shown_url(found.url) if standing == ELSEWHERE else None
    return WireResult(workspace_sid, ours, HANDBACK_EVENTS, UPDATED if replaced else CREATED, replaced, False, write)


def wire(
    client, workspace_sid: str, where: str, deployment: Deployment, replace_theirs: bool = False, dry_run: bool = False
) -> WireResult:
    """Read the workspace's callback, then write what differs (unless a dry run). A refused write raises the SDK's
    error, with nothing applied: the update is the only write."""
    found = read(client, workspace_sid, where)
    result = replace(plan(workspace_sid, found, callback_url(deployment), replace_theirs), dry_run=dry_run)
    if result.write is not None and not dry_run:
        result.write.send(client)
    return result
