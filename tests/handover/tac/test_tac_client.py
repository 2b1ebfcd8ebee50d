"""Twilio Agent Connect's own messaging handoff, through the flow `handover tac setup` deploys, against the emulator.

TAC (PyPI twilio-agent-connect 2.5.0, tests/tac_agent.py) is the client nobody here wrote: its handoff tool sets the
Orchestrator conversation INACTIVE and clears its status callbacks, then starts the flow's Studio Execution with
HandoffData; the Execution, run as Studio runs it, finds the Conversations (Classic) conversation through the
Orchestrator and sends it to Flex, whose task carries what TAC sent: the LLM's reason and the developer's summary.
"""

from __future__ import annotations

import json

import pytest

from tests.handover.studio.test_flow_runs import TAC_PATH
from tests.handover.tac.conftest import invoke
from tests.tac_agent import REASON, SUMMARY, TacSetup, hand_off_with_tac, point_tac_at, tac_of
from twilio_emulator import (
    OperationTiming,
    add_orchestrated_conversation,
    add_participant,
    orchestrated_conversation,
    orchestrator_configuration,
    seed_tac_configuration,
    set_operation_timing,
)
from twilio_emulator.products import conversations

NUMBER = "+15005550006"
CUSTOMER = "+15551230001"
TAC_WEBHOOK = "https://tac.example.com/webhook"


@pytest.fixture
def tac_setup(twilio, emulator, account_env, project, clean_tac, monkeypatch) -> TacSetup:
    """TAC's quickstart configuration (its status callback TAC's webhook), then `handover tac setup` on a
    Conversations service of the test's own: bridged, summaries attached, the handoff flow deployed."""
    set_operation_timing(emulator, OperationTiming(pending_polls=1, pending_seconds=None, retry_after=0))
    with emulator.lock:
        service = conversations.add_service(emulator, "TAC client tests")
    configuration = seed_tac_configuration(emulator, phone_number=NUMBER, status_callback_url=TAC_WEBHOOK)
    (project / ".env").write_text(
        f"FLEX_WORKSPACE_SID={twilio.account.workspace_sid}\nFLEX_WORKFLOW_SID={twilio.account.workflow_sid}\n"
    )
    tac_env = project / "tac.env"
    tac_env.write_text(f"TWILIO_CONVERSATION_CONFIGURATION_ID={configuration['id']}\nTWILIO_PHONE_NUMBER={NUMBER}\n")
    result = invoke(project, "setup", "--tac-env", str(tac_env), "--conversations-service", service)
    assert result.exit_code == 0, result.output
    flow_sid = dict(line.split("=", 1) for line in tac_env.read_text().splitlines())["TWILIO_STUDIO_HANDOFF_FLOW_SID"]
    point_tac_at(twilio.proxy, monkeypatch)
    return TacSetup(configuration["id"], NUMBER, flow_sid)


@pytest.fixture
def orchestrated(emulator, tac_setup) -> dict:
    """A customer's SMS conversation with TAC: the Conversations (Classic) one, and the Orchestrator's bridged to it."""
    configuration = orchestrator_configuration(emulator, tac_setup.configuration_id)
    service = configuration["conversationsV1Bridge"]["serviceId"]
    with emulator.lock:
        classic = conversations.add_conversation(emulator, service, "A TAC customer")["sid"]
    add_participant(emulator, classic, address=CUSTOMER)
    return add_orchestrated_conversation(
        emulator, service, classic, CUSTOMER, agent_address=NUMBER, configuration_id=tac_setup.configuration_id
    )


def test_tacs_own_handoff_reaches_a_flex_task_carrying_its_reason_and_summary(
    twilio, emulator, tac_setup, orchestrated
):
    tac = tac_of(emulator, tac_setup)
    emulator.clear_traffic()
    answered, run = hand_off_with_tac(emulator, tac, tac_setup, orchestrated)
    assert answered == {"status": "handoff_initiated", "channel": "SMS"}

    conversation_url = f"/v2/Conversations/{orchestrated['id']}"
    configuration = orchestrator_configuration(emulator, tac_setup.configuration_id)
    handoff_data = {
        "conversationId": orchestrated["id"],
        "storeId": configuration["memoryStoreId"],
        "profileId": orchestrated["participants"][0]["profileId"],
        "attributes": {"summary": SUMMARY, "reason": REASON},
    }
    # What TAC sent, in order, as the account (its API key): tac/tools/handoff.py's three steps.
    assert [(r.method, r.path, r.body, r.auth_user) for r in emulator.requests[:3]] == [
        ("PUT", conversation_url, {"status": "INACTIVE"}, emulator.account.sid),
        ("PATCH", conversation_url, {"configuration": {"statusCallbacks": []}}, emulator.account.sid),
        (
            "POST",
            f"/v2/Flows/{tac_setup.flow_sid}/Executions",
            {"To": CUSTOMER, "From": NUMBER, "Parameters": {"HandoffData": handoff_data}},
            emulator.account.sid,
        ),
    ]
    assert [r.status for r in emulator.requests[:3]] == [200, 200, 201]

    # The conversation as TAC left it: INACTIVE, no status callback of its own; its configuration keeps TAC's.
    after = orchestrated_conversation(emulator, orchestrated["id"])
    assert (after["status"], after["configuration"]["statusCallbacks"]) == ("INACTIVE", [])
    assert configuration["statusCallbacks"] == [{"url": TAC_WEBHOOK, "method": "POST"}]

    # The flow tac setup deployed took TAC's path, and the task Send to Flex made carries what TAC sent.
    assert run.path == TAC_PATH
    classic = orchestrated["participants"][0]["addresses"][0]["channelId"]
    attributes = json.loads(emulator.table("tasks")[run.task_sid]["attributes"])
    assert attributes["handoffData"] == handoff_data
    assert (attributes["conversationSid"], attributes["customerAddress"], attributes["channelType"]) == (
        classic,
        CUSTOMER,
        "sms",
    )
