"""Twilio Agent Connect (PyPI `twilio-agent-connect` 2.5.0) as the tests' virtual agent: its own code, not a stand-in.

TAC reaches Twilio with httpx, which honours HTTPS_PROXY and SSL_CERT_FILE: `point_tac_at` sets them to the
emulator's proxy and its CA, and turns TAC's usage analytics off (TAC_ANALYTICS_DISABLED=true), so nothing leaves the
machine. TAC authenticates as its API key; the emulator's account takes its SID and auth token as one.

`escalate` runs TAC's messaging escalation, `create_studio_handoff_tool` (tac/tools/handoff.py), as an LLM would
call it: the conversation set INACTIVE, its status callbacks cleared, then the Studio Execution of the handoff flow
with HandoffData. `hand_off_with_tac` then runs that Execution as Studio would (studio_flow.run_execution), so that
its Send to Flex makes the Flex task.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from twilio_emulator import Emulator, EmulatorProxy, run_execution, studio_executions
from twilio_emulator.studio_flow import FlowRun

# What TAC's handoff tool is told by the LLM (`reason`) and given by the developer (`attributes`): Flex shows both.
REASON = "The customer asks for a refund of a double charge"
SUMMARY = "Charged twice for order 1042 on 2 December; wants one charge refunded. Verified the customer's email."


def point_tac_at(proxy: EmulatorProxy, patch: pytest.MonkeyPatch) -> None:
    """TAC's httpx clients through the emulator's proxy, trusting its CA; no analytics."""
    environment = proxy.client_environment()
    patch.setenv("HTTPS_PROXY", environment["HTTPS_PROXY"])
    patch.setenv("NO_PROXY", environment["NO_PROXY"])
    patch.setenv("SSL_CERT_FILE", environment["REQUESTS_CA_BUNDLE"])
    patch.setenv("TAC_ANALYTICS_DISABLED", "true")


@dataclass(frozen=True)
class TacSetup:
    """What TAC's .env names: its Orchestrator configuration, its number and the handoff flow."""

    configuration_id: str
    phone_number: str
    flow_sid: str


def tac_of(emulator: Emulator, setup: TacSetup):
    """TAC as its quickstart builds it, with Conversation Orchestrator (it reads its configuration at once)."""
    from tac import TAC, TACConfig

    account = emulator.account
    return TAC(
        TACConfig(
            account_sid=account.sid,
            auth_token=account.auth_token,
            api_key=account.sid,
            api_secret=account.auth_token,
            phone_number=setup.phone_number,
            conversation_configuration_id=setup.configuration_id,
            studio_handoff_flow_sid=setup.flow_sid,
            log_level="WARNING",
        )
    )


def session_of(orchestrated: dict):
    """TAC's session of an SMS conversation after the customer's message, as its messaging channel leaves it."""
    from tac.models.session import AuthorInfo, ConversationSession

    customer, agent = orchestrated["participants"]
    return ConversationSession(
        conversation_id=orchestrated["id"],
        profile_id=customer["profileId"],
        channel="SMS",
        author_info=AuthorInfo(address=customer["addresses"][0]["address"], participant_id=customer["id"]),
        ai_agent_info=AuthorInfo(address=agent["addresses"][0]["address"], participant_id=agent["id"]),
    )


def escalate(tac, orchestrated: dict, reason: str = REASON, summary: str = SUMMARY) -> dict:
    """TAC's own handoff tool, called as the LLM calls it; what it answers the LLM."""
    from tac.tools.handoff import create_studio_handoff_tool

    tool = create_studio_handoff_tool(tac, session_of(orchestrated), attributes={"summary": summary})
    return asyncio.run(tool(reason=reason))


def hand_off_with_tac(emulator: Emulator, tac, setup: TacSetup, orchestrated: dict) -> tuple[dict, FlowRun]:
    """TAC hands the conversation off, and Studio runs the Execution it started: TAC's answer, and the run (its
    `task_sid` the Flex task)."""
    before = {execution["sid"] for execution in studio_executions(emulator, setup.flow_sid)}
    answered = escalate(tac, orchestrated)
    assert answered == {"status": "handoff_initiated", "channel": "SMS"}, answered
    (execution,) = [e for e in studio_executions(emulator, setup.flow_sid) if e["sid"] not in before]
    return answered, run_execution(emulator, execution)
