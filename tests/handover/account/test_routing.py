"""Checking a Flex routing configuration with the real twilio client, through the proxy, against the emulator."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException

from handover.account import credentials, routing
from handover.account.routing import RoutingProblem
from twilio_emulator import Fault
from twilio_emulator.products import taskrouter

MISSING_WORKSPACE = "WS" + "0" * 32
MISSING_WORKFLOW = "WW" + "0" * 32


class FaultAt(Fault):
    """A fault on exactly one path (Fault matches every path that contains its own)."""

    def matches(self, method: str, path: str) -> bool:
        return super().matches(method, path) and path == self.path_contains


@pytest.fixture
def client(account_env, tmp_path):
    """The SDK client `handover` makes, with the account's credentials from the environment."""
    return credentials.client(credentials.load(tmp_path))


@pytest.fixture
def flex(twilio):
    return twilio.account


@pytest.fixture
def workspaces(twilio):
    """Make workspaces of their own for a test, each with a
    workflow and the task channels named; gone after the test."""
    emulator, made = twilio.emulator, []

    def make(*channels: str) -> tuple[str, str]:
        with emulator.lock:
            workspace = taskrouter.add_workspace(emulator, f"Workspace {len(made) + 1}")
            workflow = taskrouter.add_workflow(emulator, workspace["sid"], "Workflow")
            for name in channels:
                taskrouter.add_task_channel(emulator, workspace["sid"], name)
        made.append(workspace["sid"])
        return workspace["sid"], workflow["sid"]

    yield make
    for kind in ("task_channels", "workflows"):
        table = emulator.table(kind)
        for sid in [sid for sid, item in table.items() if item["workspace_sid"] in made]:
            del table[sid]
    for sid in made:
        del emulator.table("workspaces")[sid]


def paths(emulator) -> list[tuple[str, str, int]]:
    return [(r.method, r.path, r.status) for r in emulator.requests]


def wrong_workflow_fix(workspace_sid: str) -> str:
    return (
        f"Use a workflow of workspace {workspace_sid}: Console > TaskRouter > Workspaces > {workspace_sid} > Workflows."
    )


# Workspace and workflow -------------------------------------------------------------------------------


def test_a_workflow_of_the_workspace_is_no_problem(client, emulator, flex):
    assert routing.check_workspace_and_workflow(client, flex.workspace_sid, flex.workflow_sid) is None
    assert paths(emulator) == [
        ("GET", f"/v1/Workspaces/{flex.workspace_sid}", 200),
        ("GET", f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{flex.workflow_sid}", 200),
    ]


def test_a_workspace_that_does_not_exist(client, emulator, flex):
    assert routing.check_workspace_and_workflow(client, MISSING_WORKSPACE, flex.workflow_sid) == RoutingProblem(
        f"TaskRouter workspace {MISSING_WORKSPACE} does not exist in this account.",
        'Use the workspace of your Flex instance: Console > TaskRouter > Workspaces ("Flex Task Assignment").',
    )
    assert paths(emulator) == [("GET", f"/v1/Workspaces/{MISSING_WORKSPACE}", 404)]


def test_a_workflow_of_another_workspace_names_that_workspace(client, emulator, flex, workspaces):
    workspaces()  # one more workspace to search that does not have it
    owner, foreign_workflow = workspaces()
    assert routing.check_workspace_and_workflow(client, flex.workspace_sid, foreign_workflow) == RoutingProblem(
        f"TaskRouter workflow {foreign_workflow} is not in workspace "
        f"{flex.workspace_sid}: it belongs to workspace {owner}.",
        wrong_workflow_fix(flex.workspace_sid),
    )
    searched = paths(emulator)
    assert searched[:3] == [
        ("GET", f"/v1/Workspaces/{flex.workspace_sid}", 200),
        ("GET", f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{foreign_workflow}", 404),
        ("GET", "/v1/Workspaces", 200),
    ]
    assert searched[-1] == ("GET", f"/v1/Workspaces/{owner}/Workflows/{foreign_workflow}", 200)
    assert ("GET", f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{foreign_workflow}", 404) not in searched[3:], (
        "the given workspace is not searched twice"
    )


def test_a_workflow_that_exists_nowhere(client, emulator, flex, workspaces):
    other, _ = workspaces()
    assert routing.check_workspace_and_workflow(client, flex.workspace_sid, MISSING_WORKFLOW) == RoutingProblem(
        f"TaskRouter workflow {MISSING_WORKFLOW} is not in workspace {flex.workspace_sid}: it does not exist in any "
        "workspace of this account.",
        wrong_workflow_fix(flex.workspace_sid),
    )
    assert ("GET", f"/v1/Workspaces/{other}/Workflows/{MISSING_WORKFLOW}", 404) in paths(emulator)


@pytest.mark.parametrize(
    "refused",
    ["workspace", "workflow", "workspaces listing", "search"],
)
def test_an_error_other_than_not_found_is_raised_not_reported_as_a_problem(client, emulator, flex, workspaces, refused):
    other, _ = workspaces()
    path = {
        "workspace": f"/v1/Workspaces/{flex.workspace_sid}",
        "workflow": f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{MISSING_WORKFLOW}",
        "workspaces listing": "/v1/Workspaces",
        "search": f"/v1/Workspaces/{other}/Workflows/{MISSING_WORKFLOW}",
    }[refused]
    emulator.inject(FaultAt("GET", path, status=403, code=20403, times=None))
    with pytest.raises(TwilioRestException) as raised:
        routing.check_workspace_and_workflow(client, flex.workspace_sid, MISSING_WORKFLOW)
    assert (raised.value.method, raised.value.status, raised.value.code) == ("GET", 403, 20403)
    assert raised.value.uri == path.removeprefix("/v1")
    assert raised.value.msg.endswith("Injected fault 403")
    assert paths(emulator)[-1] == ("GET", path, 403)


# Task channel ------------------------------------------------------------------------------------------


def test_a_task_channel_of_the_workspace_is_no_problem(client, emulator, workspaces):
    workspace, _ = workspaces("chat", "voice")
    assert routing.check_task_channel(client, workspace, "voice") is None
    assert paths(emulator) == [("GET", f"/v1/Workspaces/{workspace}/TaskChannels", 200)]


def test_a_missing_task_channel_lists_the_workspaces_channels(client, workspaces):
    workspace, _ = workspaces("chat", "voice")
    assert routing.check_task_channel(client, workspace, "sms") == RoutingProblem(
        f"Workspace {workspace} has no task channel 'sms' (it has: chat, voice).",
        "Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task Channels.",
    )


def test_the_unique_name_is_matched_exactly(client, workspaces):
    workspace, _ = workspaces("chat")
    assert (
        routing.check_task_channel(client, workspace, "Chat").message
        == f"Workspace {workspace} has no task channel 'Chat' (it has: chat)."
    )


def test_a_workspace_without_task_channels_says_none(client, workspaces):
    workspace, _ = workspaces()
    assert (
        routing.check_task_channel(client, workspace, "chat").message
        == f"Workspace {workspace} has no task channel 'chat' (it has: none)."
    )


def test_a_channel_on_the_second_page_is_found(client, emulator, workspaces):
    names = [f"channel-{number:02d}" for number in range(51)]
    workspace, _ = workspaces(*names)
    assert routing.check_task_channel(client, workspace, "channel-50") is None
    assert [(method, status) for method, _, status in paths(emulator)] == [("GET", 200), ("GET", 200)]


def test_the_channels_of_a_missing_workspace_are_an_error_not_a_problem(client, emulator):
    with pytest.raises(TwilioRestException) as raised:
        routing.check_task_channel(client, MISSING_WORKSPACE, "chat")
    assert (raised.value.status, raised.value.code, raised.value.uri) == (
        404,
        20404,
        f"/Workspaces/{MISSING_WORKSPACE}/TaskChannels",
    )
    assert (
        raised.value.msg
        == f"Unable to fetch page: The requested resource /v1/Workspaces/{MISSING_WORKSPACE}/TaskChannels was not found"
    )


# Both -----------------------------------------------------------------------------------------------------


def test_check_passes_a_flex_configuration(client, flex):
    assert routing.check(client, flex.workspace_sid, flex.workflow_sid, "chat") is None


def test_check_reports_the_workflow_before_the_task_channel(client, emulator, flex):
    problem = routing.check(client, flex.workspace_sid, MISSING_WORKFLOW, "no-such-channel")
    assert problem.message.startswith(
        f"TaskRouter workflow {MISSING_WORKFLOW} is not in workspace {flex.workspace_sid}"
    )
    assert not [r for r in emulator.requests if r.path.endswith("/TaskChannels")]


def test_check_reports_a_missing_channel_of_a_good_workflow(client, workspaces):
    workspace, workflow = workspaces("chat")
    assert routing.check(client, workspace, workflow, "sms") == RoutingProblem(
        f"Workspace {workspace} has no task channel 'sms' (it has: chat).",
        "Pass --task-channel with one of those, or create the channel in Console > TaskRouter > Task Channels.",
    )
