"""The rendered handoff flow, run as Studio runs it against the session's emulated Flex account."""

from __future__ import annotations

import json

import pytest
from twilio.rest import Client

from handover.studio.render import CALL_FAILED_MESSAGE, MESSAGING_FAILED_MESSAGE, FlowParameters, definition
from twilio_emulator import (
    Fault,
    FlowRunError,
    add_conversation,
    add_flow,
    add_orchestrated_conversation,
    run_call,
    run_execution,
    run_rest,
    studio_executions,
)
from twilio_emulator.products import taskrouter
from twilio_emulator.studio_flow import (
    LIQUID,
    LIQUID_STRINGS_AS_IS,
    FlexHandoff,
    HttpExchange,
    ResumedConversation,
    SentMessage,
    Step,
)

CUSTOMER, SENDER = "+15005550006", "+15005550001"
CALLER, CALLED, CALL_SID = "+15005550009", "+15005550002", "CA" + "1" * 32
UNKNOWN_CONVERSATION = "CH" + "0" * 32
UNKNOWN_WORKFLOW = "WW" + "0" * 32
STATIC_ATTRIBUTES = {"team": "support"}
ORCHESTRATOR = "https://conversations.twilio.com/v2/Conversations"
# Both readings of Studio's to_json on a string (documented for objects only): quoted as JSON, or printed as it is.
READINGS = [pytest.param(LIQUID, id="to_json-quotes-strings"), pytest.param(LIQUID_STRINGS_AS_IS, id="strings-as-is")]
# Addresses that break JSON unless escaped, and what the task's attributes carry for them.
AWKWARD_ADDRESSES = [
    ('web:Ada "the" Lovelace', "web:Ada 'the' Lovelace"),
    ("C:\\Users\\ada\\", "C:/Users/ada/"),
    ("two\nlines\r\n", "two lines  "),
]

TAC_PATH = [
    "Trigger",
    "request_names_conversation",
    "request_has_handoff_data",
    "fetch_participants",
    "fetch_conversation",
    "orchestrated_conversation",
    "resume_conversation",
    "messaging_to_flex",
]


@pytest.fixture(scope="module")
def channels(twilio) -> dict[str, str]:
    """Task channel unique name → TC SID in the account's workspace."""
    return {
        name: taskrouter.task_channel_named(twilio.emulator, twilio.account.workspace_sid, name)["sid"]
        for name in ("chat", "voice")
    }


def flow_for(twilio, channels, call_without_handoff: str = "hangup", workflow_sid: str | None = None) -> dict:
    parameters = FlowParameters(
        workflow_sid or twilio.account.workflow_sid,
        channels["chat"],
        channels["voice"],
        STATIC_ATTRIBUTES,
        call_without_handoff,
    )
    return definition(parameters)


@pytest.fixture(scope="module")
def flow(twilio, channels) -> dict:
    return flow_for(twilio, channels)


@pytest.fixture
def classic_conversation(twilio, emulator) -> str:
    """A new Conversations (Classic) conversation in the account's Flex service."""
    return add_conversation(emulator, twilio.account)


@pytest.fixture
def orchestrated(twilio, emulator, classic_conversation) -> dict:
    return add_orchestrated_conversation(emulator, twilio.account.service_sid, classic_conversation, CUSTOMER)


def tac_handoff(conversation_id: str, profile_id: str = "mem_profile_0000000000000000000000000a") -> dict:
    return {
        "conversationId": conversation_id,
        "storeId": "mem_store_0000000000000000000000000b",
        "profileId": profile_id,
        "attributes": {"department": "billing", "reason": "wants a refund"},
    }


def messaging_attributes(conversation_sid: str, handoff: dict) -> dict:
    return {
        **STATIC_ATTRIBUTES,
        "name": CUSTOMER,
        "customerAddress": CUSTOMER,
        "conversationSid": conversation_sid,
        "handoffData": handoff,
    }


def call_attributes(handoff: object) -> dict:
    return {
        **STATIC_ATTRIBUTES,
        "type": "inbound",
        "name": CALLER,
        "customerAddress": CALLER,
        "callSid": CALL_SID,
        "channelType": "voice",
        "handoffData": handoff,
    }


def call(**parameters: str) -> dict:
    return {
        "CallSid": CALL_SID,
        "From": CALLER,
        "To": CALLED,
        "Direction": "inbound",
        "CallStatus": "in-progress",
        **parameters,
    }


# Messaging: Twilio Agent Connect, through Conversation Orchestrator --------------------------------------------------


def test_tac_messaging_finds_the_classic_conversation_through_the_orchestrator(
    twilio, emulator, channels, flow, classic_conversation, orchestrated
):
    handoff = tac_handoff(orchestrated["id"], orchestrated["participants"][0]["profileId"])
    run = run_rest(emulator, flow, CUSTOMER, SENDER, {"HandoffData": handoff})
    assert run.path == TAC_PATH
    assert run.resumed == ResumedConversation(classic_conversation, twilio.account.service_sid)
    assert run.variables == {
        "conversationSid": classic_conversation,
        "conversationServiceSid": twilio.account.service_sid,
    }
    assert run.flex == FlexHandoff(
        "messaging_to_flex",
        twilio.account.workflow_sid,
        channels["chat"],
        messaging_attributes(classic_conversation, handoff),
        "0",
        "86400",
    )
    assert run.messages == []


def test_tac_messaging_makes_the_flex_task_of_the_conversation_with_the_flows_attributes(
    twilio, emulator, channels, flow, classic_conversation, orchestrated
):
    handoff = tac_handoff(orchestrated["id"], orchestrated["participants"][0]["profileId"])
    run = run_rest(emulator, flow, CUSTOMER, SENDER, {"HandoffData": handoff})
    task = emulator.table("tasks")[run.task_sid]
    attributes = json.loads(task["attributes"])
    interaction_sid = attributes["flexInteractionSid"]
    assert attributes == {
        **messaging_attributes(classic_conversation, handoff),
        "channelType": "sms",
        "initiatedBy": "customer",
        "direction": "inbound",
        "flexInteractionSid": interaction_sid,
        "flexInteractionChannelSid": emulator.table("interactions")[interaction_sid]["channel"]["sid"],
        "conversations": {
            "initiated_by": "customer",
            "conversation_id": interaction_sid,
            "media": [{"type": "ChatTranscript", "sid": classic_conversation}],
        },
    }
    assert (task["workflow_sid"], task["task_channel_sid"], task["assignment_status"]) == (
        twilio.account.workflow_sid,
        channels["chat"],
        "pending",
    )


def test_a_call_sent_to_flex_is_recorded_and_makes_no_task_here(emulator, flow):
    before = len(emulator.table("tasks"))
    run = run_call(
        emulator, flow, call(HandoffData=json.dumps(tac_handoff("conv_conversation_0000000000000000000000000c")))
    )
    assert (run.flex is not None, run.task_sid, len(emulator.table("tasks"))) == (True, None, before)


def test_tac_messaging_reads_the_orchestrator_with_the_accounts_credentials(twilio, emulator, flow, orchestrated):
    run = run_rest(emulator, flow, CUSTOMER, SENDER, {"HandoffData": tac_handoff(orchestrated["id"])})
    participants_url, conversation_url = (
        f"{ORCHESTRATOR}/{orchestrated['id']}/Participants",
        f"{ORCHESTRATOR}/{orchestrated['id']}",
    )
    participants = {"participants": orchestrated["participants"], "meta": {"key": "participants", "pageSize": 2}}
    assert run.http_requests == [
        HttpExchange("GET", participants_url, 200, participants),
        HttpExchange("GET", conversation_url, 200, orchestrated),
    ]
    assert [(r.operation, r.auth_user) for r in emulator.requests] == [
        ("GET /v2/Conversations/{ConversationId}/Participants", emulator.account.sid),
        ("GET /v2/Conversations/{id}", emulator.account.sid),
    ]


# Messaging: this project's studio-handover tool names the conversation itself ----------------------------------------


def test_the_studio_handover_shape_needs_no_orchestrator(twilio, emulator, channels, flow, classic_conversation):
    handoff = {
        "conversationId": classic_conversation,
        "storeId": "",
        "profileId": "",
        "attributes": {
            **STATIC_ATTRIBUTES,
            "reason": "wants a refund",
            "summary": "The customer was charged twice.",
            "conversationSid": classic_conversation,
            "conversationServiceSid": twilio.account.service_sid,
            "channelType": "sms",
            "customerAddress": CUSTOMER,
            "customerName": CUSTOMER,
            "source": "ai-assistant",
            "requestedAt": "2026-01-02T03:04:05.000Z",
        },
    }
    run = run_rest(emulator, flow, CUSTOMER, SENDER, {"HandoffData": handoff})
    assert run.path == [
        "Trigger",
        "request_names_conversation",
        "given_conversation",
        "resume_conversation",
        "messaging_to_flex",
    ]
    assert (run.http_requests, emulator.requests) == ([], [])
    assert run.flex == FlexHandoff(
        "messaging_to_flex",
        twilio.account.workflow_sid,
        channels["chat"],
        messaging_attributes(classic_conversation, handoff),
        "0",
        "86400",
    )


@pytest.mark.parametrize("liquid", READINGS)
@pytest.mark.parametrize(("address", "carried"), AWKWARD_ADDRESSES)
def test_an_address_with_quotes_backslashes_or_newlines_still_reaches_flex(
    twilio, emulator, flow, classic_conversation, liquid, address, carried
):
    handoff = {
        "conversationId": classic_conversation,
        "storeId": "",
        "profileId": "",
        "attributes": {"conversationSid": classic_conversation, "conversationServiceSid": twilio.account.service_sid},
    }
    run = run_rest(emulator, flow, address, SENDER, {"HandoffData": handoff}, liquid=liquid)
    assert run.path[-1] == "messaging_to_flex"
    assert run.flex.attributes == {
        **STATIC_ATTRIBUTES,
        "name": carried,
        "customerAddress": carried,
        "conversationSid": classic_conversation,
        "handoffData": handoff,
    }


# Messaging: every failure says sorry and reaches no one ---------------------------------------------------------------


def sorry_steps(*taken: tuple[str, str, str]) -> list[Step]:
    return [Step(*step) for step in taken] + [Step("messaging_sorry", "send-message", "sent")]


SORRY = SentMessage(SENDER, CUSTOMER, MESSAGING_FAILED_MESSAGE)


def test_an_unknown_orchestrator_conversation_says_sorry(emulator, flow):
    run = run_rest(
        emulator, flow, CUSTOMER, SENDER, {"HandoffData": tac_handoff("conv_conversation_00000000000000000000000000")}
    )
    assert run.steps == sorry_steps(
        ("Trigger", "trigger", "incomingRequest"),
        ("request_names_conversation", "split-based-on", "noMatch"),
        ("request_has_handoff_data", "split-based-on", "match"),
        ("fetch_participants", "make-http-request", "failed"),
    )
    assert [exchange.status_code for exchange in run.http_requests] == [404]
    assert (run.messages, run.resumed, run.flex) == ([SORRY], None, None)


def test_an_orchestrator_outage_says_sorry(emulator, flow, orchestrated):
    emulator.inject(Fault("GET", "/Participants", status=503))
    run = run_rest(emulator, flow, CUSTOMER, SENDER, {"HandoffData": tac_handoff(orchestrated["id"])})
    assert run.path == TAC_PATH[:4] + ["messaging_sorry"]
    assert (run.messages, run.flex) == ([SORRY], None)


def test_a_conversation_that_cannot_be_resumed_says_sorry(twilio, emulator, flow):
    orchestrated = add_orchestrated_conversation(emulator, twilio.account.service_sid, UNKNOWN_CONVERSATION, CUSTOMER)
    run = run_rest(emulator, flow, CUSTOMER, SENDER, {"HandoffData": tac_handoff(orchestrated["id"])})
    assert run.steps == sorry_steps(
        ("Trigger", "trigger", "incomingRequest"),
        ("request_names_conversation", "split-based-on", "noMatch"),
        ("request_has_handoff_data", "split-based-on", "match"),
        ("fetch_participants", "make-http-request", "success"),
        ("fetch_conversation", "make-http-request", "success"),
        ("orchestrated_conversation", "set-variables", "next"),
        ("resume_conversation", "resume-conversation", "failed"),
    )
    assert (run.messages, run.resumed, run.flex) == ([SORRY], None, None)


@pytest.mark.parametrize(
    "parameters",
    [{}, {"HandoffData": {}}, {"HandoffData": {"conversationId": "", "attributes": {"conversationServiceSid": " "}}}],
)
def test_no_handoff_data_says_sorry(emulator, flow, parameters):
    run = run_rest(emulator, flow, CUSTOMER, SENDER, parameters)
    assert run.path == ["Trigger", "request_names_conversation", "request_has_handoff_data", "messaging_sorry"]
    assert (run.messages, run.http_requests, run.flex) == ([SORRY], [], None)


# Voice ---------------------------------------------------------------------------------------------------------------


def test_a_call_with_handoff_data_goes_to_flex_with_it_parsed(twilio, channels, emulator, flow):
    handoff = tac_handoff("conv_conversation_0000000000000000000000000c")
    run = run_call(emulator, flow, call(HandoffData=json.dumps(handoff)))
    assert run.steps == [
        Step("Trigger", "trigger", "incomingCall"),
        Step("call_has_handoff_data", "split-based-on", "match"),
        Step("call_handoff_data", "set-variables", "next"),
        Step("call_to_flex", "send-to-flex", "callComplete"),
    ]
    assert run.flex == FlexHandoff(
        "call_to_flex", twilio.account.workflow_sid, channels["voice"], call_attributes(handoff), "0", "3600"
    )
    assert (run.said, run.messages, emulator.requests) == ([], [], [])


@pytest.mark.parametrize("liquid", READINGS)
@pytest.mark.parametrize(("caller", "carried"), [*AWKWARD_ADDRESSES, (CALLER, CALLER)])
def test_a_caller_of_any_address_goes_to_flex_in_either_reading_of_to_json(
    twilio, channels, emulator, flow, liquid, caller, carried
):
    handoff = tac_handoff("conv_conversation_0000000000000000000000000c")
    run = run_call(emulator, flow, call(From=caller, HandoffData=json.dumps(handoff)), liquid=liquid)
    assert run.flex == FlexHandoff(
        "call_to_flex",
        twilio.account.workflow_sid,
        channels["voice"],
        {**call_attributes(handoff), "name": carried, "customerAddress": carried},
        "0",
        "3600",
    )


def test_the_old_attributes_fail_when_to_json_prints_a_string_as_it_is(twilio, channels, emulator):
    """What the flow held before: to_json on plain strings. JSON only if to_json quotes strings."""
    old = flow_for(twilio, channels)
    to_flex = next(state for state in old["states"] if state["name"] == "call_to_flex")
    to_flex["properties"]["attributes"] = (
        '{"name": {{trigger.call.From | to_json}}, "customerAddress": {{trigger.call.From | to_json}}, '
        '"callSid": {{trigger.call.CallSid | to_json}}, "channelType": "voice", '
        '"handoffData": {{flow.variables.handoffData}}}'
    )
    parameters = call(HandoffData=json.dumps(tac_handoff("conv_conversation_0000000000000000000000000c")))
    assert run_call(emulator, old, parameters).steps[-1] == Step("call_to_flex", "send-to-flex", "callComplete")
    assert run_call(emulator, old, parameters, liquid=LIQUID_STRINGS_AS_IS).steps[-2:] == [
        Step("call_to_flex", "send-to-flex", "failedToEnqueue"),
        Step("call_sorry", "say-play", "audioComplete"),
    ]


def test_a_call_without_handoff_data_hangs_up(emulator, flow):
    run = run_call(emulator, flow, call())
    assert run.steps == [
        Step("Trigger", "trigger", "incomingCall"),
        Step("call_has_handoff_data", "split-based-on", "noMatch"),
    ]
    assert (run.flex, run.said) == (None, [])


def test_a_call_without_handoff_data_goes_to_flex_when_the_flow_says_so(twilio, channels, emulator):
    run = run_call(emulator, flow_for(twilio, channels, call_without_handoff="flex"), call())
    assert run.path == ["Trigger", "call_has_handoff_data", "call_without_handoff_data", "call_to_flex"]
    assert run.flex == FlexHandoff(
        "call_to_flex", twilio.account.workflow_sid, channels["voice"], call_attributes(None), "0", "3600"
    )


def test_a_call_flex_cannot_enqueue_hears_sorry(twilio, channels, emulator):
    run = run_call(
        emulator,
        flow_for(twilio, channels, workflow_sid=UNKNOWN_WORKFLOW),
        call(HandoffData=json.dumps(tac_handoff("conv_conversation_0000000000000000000000000c"))),
    )
    assert run.steps[-2:] == [
        Step("call_to_flex", "send-to-flex", "failedToEnqueue"),
        Step("call_sorry", "say-play", "audioComplete"),
    ]
    assert (run.flex, run.said) == (None, [CALL_FAILED_MESSAGE])


def test_handoff_data_that_is_not_json_makes_the_attributes_invalid_and_the_caller_hears_sorry(emulator, flow):
    run = run_call(emulator, flow, call(HandoffData="not json"))
    assert run.path == ["Trigger", "call_has_handoff_data", "call_handoff_data", "call_to_flex", "call_sorry"]
    assert (run.flex, run.said) == (None, [CALL_FAILED_MESSAGE])


# An execution the emulator recorded ----------------------------------------------------------------------------------


@pytest.fixture
def deployed_flow(emulator, flow):
    """The flow as `handover studio deploy` leaves it; removed afterwards, since the account is the session's."""
    created = add_flow(emulator, "Flow runs under test", flow)
    yield created
    with emulator.lock:
        del emulator.table("studio_flows")[created["sid"]]
        for execution in studio_executions(emulator, created["sid"]):
            del emulator.table("studio_executions")[execution["sid"]]


def test_a_recorded_execution_runs_with_the_context_it_got(
    twilio, account_env, emulator, channels, deployed_flow, classic_conversation, orchestrated
):
    handoff = tac_handoff(orchestrated["id"])
    client = Client(emulator.account.sid, emulator.account.auth_token)
    client.studio.v2.flows(deployed_flow["sid"]).executions.create(
        to=CUSTOMER, from_=SENDER, parameters={"HandoffData": handoff}
    )
    (execution,) = studio_executions(emulator, deployed_flow["sid"])
    run = run_execution(emulator, execution)
    assert run.path == TAC_PATH
    assert run.flex == FlexHandoff(
        "messaging_to_flex",
        twilio.account.workflow_sid,
        channels["chat"],
        messaging_attributes(classic_conversation, handoff),
        "0",
        "86400",
    )


# The runner itself ----------------------------------------------------------------------------------------------------


def tiny_flow(*states: dict) -> dict:
    trigger = {
        "name": "Trigger",
        "type": "trigger",
        "transitions": [{"event": "incomingRequest", "next": states[0]["name"]}],
        "properties": {},
    }
    return {"initial_state": "Trigger", "states": [trigger, *states]}


def say(name: str, body: str) -> dict:
    return {"name": name, "type": "send-message", "transitions": [{"event": "sent"}], "properties": {"body": body}}


@pytest.mark.parametrize(
    ("team", "told"), [("sales", "to sales"), (" Sales ", "to sales"), ("sales team", "elsewhere"), ("", "elsewhere")]
)
def test_equal_to_ignores_case_and_surrounding_spaces_as_studio_does(emulator, team, told):
    split = {
        "name": "split",
        "type": "split-based-on",
        "transitions": [
            {"event": "noMatch", "next": "elsewhere"},
            {
                "event": "match",
                "next": "sales",
                "conditions": [{"arguments": ["{{flow.data.team}}"], "type": "equal_to", "value": "sales"}],
            },
        ],
        "properties": {"input": "{{flow.data.team}}"},
    }
    run = run_rest(
        emulator,
        tiny_flow(split, say("sales", "to sales"), say("elsewhere", "elsewhere")),
        CUSTOMER,
        SENDER,
        {"team": team},
    )
    assert run.messages == [SentMessage(SENDER, CUSTOMER, told)]


def test_a_flow_that_loops_is_stopped(emulator):
    again = {
        "name": "again",
        "type": "set-variables",
        "transitions": [{"event": "next", "next": "again"}],
        "properties": {"variables": [{"key": "n", "value": "1"}]},
    }
    with pytest.raises(FlowRunError, match="more than 100 steps"):
        run_rest(emulator, tiny_flow(again), CUSTOMER, SENDER, {})


@pytest.mark.parametrize(
    ("state", "error"),
    [
        (
            {"name": "wait", "type": "send-and-wait-for-reply", "transitions": [], "properties": {}},
            "wait: the runner does not know the widget type 'send-and-wait-for-reply'",
        ),
        (
            {
                "name": "play",
                "type": "say-play",
                "transitions": [],
                "properties": {"play": "https://example.com/a.mp3"},
            },
            "play: the runner does not honour play of a say-play widget",
        ),
        (say("broken", "{{ flow.data.x | no_such_filter }}"), "broken.body: unknown filter 'no_such_filter'"),
        (
            {
                "name": "out",
                "type": "make-http-request",
                "transitions": [],
                "properties": {"method": "GET", "url": "https://example.com/"},
            },
            "out: the runner reaches only Twilio (the emulator), not https://example.com/",
        ),
    ],
)
def test_what_the_runner_cannot_run_is_an_error(emulator, state, error):
    with pytest.raises(FlowRunError) as raised:
        run_rest(emulator, tiny_flow(state), CUSTOMER, SENDER, {})
    assert str(raised.value).splitlines()[0] == error
