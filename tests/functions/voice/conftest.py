"""Fixtures of the voice path's tests: the Studio handoff flow as `handover studio deploy` makes it."""

from __future__ import annotations

import pytest

from handover.studio.render import FlowParameters, definition
from twilio_emulator import add_flow
from twilio_emulator.products import taskrouter


@pytest.fixture(scope="module")
def studio_flow_sid(twilio) -> str:
    """The Studio handoff flow rendered from py/handover/studio/templates/agent-handoff.json.j2, published."""
    voice_channel = taskrouter.task_channel_named(twilio.emulator, twilio.account.workspace_sid, "voice")["sid"]
    chat_channel = taskrouter.task_channel_named(twilio.emulator, twilio.account.workspace_sid, "chat")["sid"]
    parameters = FlowParameters(twilio.account.workflow_sid, chat_channel, voice_channel, {"team": "voice"}, "hangup")
    # A name of its own: `tac setup` finds its flow by name in the same session account.
    return add_flow(twilio.emulator, "Agent Handoff (voice tests)", definition(parameters))["sid"]
