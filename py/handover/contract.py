"""The handover function's contract, in one place: the templates and the CLI both read it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

CONTRACT_VERSION = 1
SID_HEX = "[0-9a-fA-F]{32}"


def sid_pattern(prefix: str) -> str:
    return f"^{prefix}{SID_HEX}$"


def is_sid(prefix: str, value: str) -> bool:
    return re.fullmatch(sid_pattern(prefix), value) is not None


# The tools an AI agent calls, by the name of their function (functions/tools/<name>.js): one hands the
# conversation to Flex through the Interactions API, the other through a Studio flow (Twilio Agent Connect's
# handoff flow).
FLEX_HANDOVER = "flex-handover"
STUDIO_HANDOVER = "studio-handover"
TOOLS = (FLEX_HANDOVER, STUDIO_HANDOVER)
# The function TaskRouter calls with the workspace's events (functions/lifecycle/task-events.protected.js): the end
# of a task the kit created hands the customer back to the AI.
TASK_EVENTS = "task-events"
# The function Twilio calls when a ConversationRelay session ends (the <Connect action> URL of a voice AI's call,
# functions/voice/connect-action.protected.js): a caller the AI handed off is enqueued to Flex with the AI's words.
CONNECT_ACTION = "connect-action"
# The function a voice AI's number points at (functions/voice/incoming-call.protected.js): it answers the call with
# <Connect action=…><ConversationRelay url=…/></Connect>, the action leading where the chosen path needs.
INCOMING_CALL = "incoming-call"
VOICE_PATHS = ("direct", "studio")
# The TaskRouter events that end a task, each handing the conversation back: the workspace's EventsFilter needs them.
HANDBACK_EVENTS = ("task.wrapup", "task.completed", "task.canceled")

# How an operator fixes a missing or malformed variable; named in the function's 500 answers.
SET_VARIABLE_COMMAND = "handover env set --workspace-sid WS… --workflow-sid WW… [--task-channel <name>]"
STUDIO_DEPLOY_COMMAND = "handover studio deploy [--from-address +1…]"


@dataclass(frozen=True)
class ConfigVariable:
    """An environment variable of the deployed Functions service."""

    name: str
    description: str
    pattern: str
    expected: str  # what a well-formed value looks like, for error messages
    request_override: str | None = None  # the request parameter that may replace it per call
    default: str | None = None
    secret: bool = False  # never printed, logged or put in an error message
    tools: tuple[str, ...] = TOOLS  # the tools that read it: the others run without it
    set_by: str = SET_VARIABLE_COMMAND  # the command that sets it, named when it is missing or malformed

    def accepts(self, value: str) -> bool:
        return re.fullmatch(self.pattern, value) is not None


WORKSPACE = ConfigVariable(
    "FLEX_WORKSPACE_SID",
    "The TaskRouter workspace of your Flex instance (Console: TaskRouter > Workspaces)",
    sid_pattern("WS"),
    "WS followed by 32 hex characters",
    request_override="FlexWorkspaceSid",
    tools=(FLEX_HANDOVER,),
)
WORKFLOW = ConfigVariable(
    "FLEX_WORKFLOW_SID",
    "The TaskRouter workflow that routes handed-off conversations to agents",
    sid_pattern("WW"),
    "WW followed by 32 hex characters",
    request_override="FlexWorkflowSid",
    tools=(FLEX_HANDOVER, CONNECT_ACTION),
)
TASK_CHANNEL = ConfigVariable(
    "FLEX_TASK_CHANNEL",
    "The TaskRouter task channel of the created task (optional)",
    "^[A-Za-z0-9_-]{1,64}$",
    "a task channel unique name such as chat, sms or voice",
    default="chat",
    tools=(FLEX_HANDOVER,),
)
TOKEN = ConfigVariable(
    "HANDOVER_TOKEN",
    "The secret a caller presents to use the tool; `handover env set` generates it",
    "^[A-Za-z0-9_-]{43,128}$",
    "43 to 128 URL-safe characters (`handover env set` makes one from 32 random bytes)",
    secret=True,
)
ATTRIBUTES = ConfigVariable(
    "HANDOVER_ATTRIBUTES",
    'Static task attributes for routing, a JSON object such as {"department":"support","priority":"normal"} (optional)',
    r"^\s*\{[\s\S]*\}\s*$",
    "a JSON object",
    default="{}",
    tools=(*TOOLS, CONNECT_ACTION),
)
SYNC_SERVICE = ConfigVariable(
    "SYNC_SERVICE_SID",
    "The Sync service that holds the handoff claims (optional; the account's default Sync service)",
    "^(default|IS[0-9a-fA-F]{32})$",
    "IS followed by 32 hex characters, or default",
    default="default",
    tools=(*TOOLS, TASK_EVENTS, CONNECT_ACTION),
)
# A Twilio Function is killed at 10 s: the handoff answers by the deadline, whatever Twilio does.
DEADLINE = ConfigVariable(
    "HANDOVER_DEADLINE_MS",
    "How long a handoff may take before it answers 503 (optional, milliseconds; Functions stop at 10 s)",
    "^[1-9][0-9]{2,3}$",
    "a whole number of milliseconds from 100 to 9999",
    default="8000",
    tools=(*TOOLS, TASK_EVENTS, CONNECT_ACTION),
)
ATTEMPT_TIMEOUT = ConfigVariable(
    "HANDOVER_ATTEMPT_TIMEOUT_MS",
    "How long one Twilio API request may take before it is retried (optional, milliseconds)",
    "^[1-9][0-9]{1,3}$",
    "a whole number of milliseconds from 10 to 9999",
    default="2500",
    tools=(*TOOLS, TASK_EVENTS, CONNECT_ACTION),
)
STUDIO_FLOW = ConfigVariable(
    "TWILIO_STUDIO_HANDOFF_FLOW_SID",
    "The Studio flow that hands conversations to Flex (the Twilio "
    "Agent Connect handoff flow); `handover studio deploy` sets it",
    sid_pattern("FW"),
    "FW followed by 32 hex characters",
    tools=(STUDIO_HANDOVER, INCOMING_CALL),
    set_by=STUDIO_DEPLOY_COMMAND,
)
STUDIO_FROM = ConfigVariable(
    "STUDIO_FROM_ADDRESS",
    "The address the Studio execution comes from ({{flow.channel.address}}): your Twilio phone number as +E.164, "
    "whatsapp:+E.164, or a Messaging Service SID MG…",
    r"^(?:\+[1-9][0-9]{1,14}|whatsapp:\+[1-9][0-9]{1,14}|MG[0-9a-fA-F]{32})$",
    "a Twilio phone number as +E.164 (such as +15551234567), whatsapp:+E.164, or MG followed by 32 hex characters",
    tools=(STUDIO_HANDOVER,),
    set_by=STUDIO_DEPLOY_COMMAND,
)
# What the customer reads when the conversation comes back to the AI: after the agent (none unless set), and when
# no agent took the task in time (always: the customer must not wait on a queue nobody answers).
HANDBACK_MESSAGE = ConfigVariable(
    "HANDBACK_MESSAGE",
    "What the customer is told when the agent hands the conversation back to the AI (optional; nothing by default)",
    r"^[\s\S]{1,1600}$",
    "text of 1 to 1600 characters",
    default="",
    tools=(TASK_EVENTS,),
    set_by='twilio serverless:env:set --key HANDBACK_MESSAGE --value "…"',
)
NO_AGENT_MESSAGE = ConfigVariable(
    "NO_AGENT_MESSAGE",
    "What the customer is told when no agent took the conversation in time and it comes back to the AI (optional)",
    r"^[\s\S]{1,1600}$",
    "text of 1 to 1600 characters",
    default="No one from our team could take our conversation just now, so I am back to help you.",
    tools=(TASK_EVENTS,),
    set_by='twilio serverless:env:set --key NO_AGENT_MESSAGE --value "…"',
)
# Optional, per deployment: when no one can take a handoff. Outside HANDOVER_HOURS, or (HANDOVER_WHEN_NO_AGENT=answer)
# with no available worker in HANDOVER_QUEUE_SID, flex-handover creates no task and answers `no_agent_available` with
# HANDOVER_UNAVAILABLE_MESSAGE. Unset, none of it is checked and the handoff's requests are as without them. The
# pattern of HANDOVER_HOURS only checks a JSON object, as HANDOVER_ATTRIBUTES's does: the function reads it whole.
HOURS = ConfigVariable(
    "HANDOVER_HOURS",
    'The opening hours of the team, a JSON object such as {"timeZone": "Europe/Paris", "weekly": {"mon": '
    '[["09:00", "18:00"]], "tue": [["09:00", "12:00"], ["13:00", "18:00"]]}, "closed": ["2026-12-25"]}: '
    "a day not in weekly is closed (optional; always open by default)",
    r"^\s*\{[\s\S]*\}\s*$",
    'a JSON object of opening hours such as {"timeZone": "Europe/Paris", "weekly": {"mon": [["09:00", "18:00"]]}}',
    default="",
    tools=(FLEX_HANDOVER,),
    set_by='twilio serverless:env:set --key HANDOVER_HOURS --value \'{"timeZone": …, "weekly": {…}}\'',
)
QUEUE = ConfigVariable(
    "HANDOVER_QUEUE_SID",
    "The TaskRouter queue whose available workers the handoff checks (optional; not checked by default)",
    sid_pattern("WQ"),
    "WQ followed by 32 hex characters",
    default="",
    tools=(FLEX_HANDOVER,),
    set_by="twilio serverless:env:set --key HANDOVER_QUEUE_SID --value WQ…",
)
WHEN_NO_AGENT = ConfigVariable(
    "HANDOVER_WHEN_NO_AGENT",
    "What the handoff does when HANDOVER_QUEUE_SID has no available worker: queue (hand off anyway, the default) "
    "or answer (no task; the AI is told no one is available)",
    "^(queue|answer)$",
    "queue or answer",
    default="queue",
    tools=(FLEX_HANDOVER,),
    set_by="twilio serverless:env:set --key HANDOVER_WHEN_NO_AGENT --value answer",
)
UNAVAILABLE_MESSAGE = ConfigVariable(
    "HANDOVER_UNAVAILABLE_MESSAGE",
    "What the AI may tell the customer when the handoff finds no one available (optional)",
    r"^[\s\S]{1,1600}$",
    "text of 1 to 1600 characters",
    default="No one from our team is available right now.",
    tools=(FLEX_HANDOVER,),
    set_by='twilio serverless:env:set --key HANDOVER_UNAVAILABLE_MESSAGE --value "…"',
)
# The voice path (CONNECT_ACTION): what a caller hears when the session ended without a handoff (hung up, failed, or
# the AI ended it), and the fallback when no task can be made (the workflow variable missing or malformed). Each is
# TwiML Twilio plays as it is, so the pattern only checks a <Response>. (<Enqueue> puts a call on TaskRouter's voice
# task channel itself: there is no channel to configure.)
TWIML_PATTERN = r"^\s*(?:<\?xml[^>]*\?>\s*)?<Response[\s>][\s\S]*$"
TWIML_EXPECTED = "a TwiML document, <Response>…</Response>"
VOICE_ENDED_TWIML = ConfigVariable(
    "HANDOVER_VOICE_ENDED_TWIML",
    "What a caller hears when the voice AI's session ended without a handoff (optional; a polite goodbye)",
    TWIML_PATTERN,
    TWIML_EXPECTED,
    default="<Response><Say>Thank you for calling. Goodbye.</Say><Hangup/></Response>",
    tools=(CONNECT_ACTION,),
    set_by="twilio serverless:env:set --key HANDOVER_VOICE_ENDED_TWIML --value '<Response>…</Response>'",
)
VOICE_FALLBACK_TWIML = ConfigVariable(
    "HANDOVER_VOICE_FALLBACK_TWIML",
    "What a handed-off caller hears when no task can be made, FLEX_WORKFLOW_SID being missing or malformed "
    "(optional; set it to <Dial> a backup line)",
    TWIML_PATTERN,
    TWIML_EXPECTED,
    default="<Response><Say>Sorry, we cannot connect you to our team right now. Please call again later.</Say>"
    "<Hangup/></Response>",
    tools=(CONNECT_ACTION, INCOMING_CALL),
    set_by="twilio serverless:env:set --key HANDOVER_VOICE_FALLBACK_TWIML --value '<Response>…</Response>'",
)
VOICE_RELAY_URL = ConfigVariable(
    "HANDOVER_VOICE_RELAY_URL",
    "The WebSocket URL of your ConversationRelay voice AI, which /voice/incoming-call connects a caller to",
    r"^wss:[^\s'\x22<>&]+$",
    "a wss:// URL (without quotes, spaces, <, > or &)",
    tools=(INCOMING_CALL,),
    set_by="handover voice wire --number +1… --relay-url wss://…",
)
VOICE_PATH = ConfigVariable(
    "HANDOVER_VOICE_PATH",
    "Where a voice AI's handoff goes: direct (the kit's /voice/connect-action enqueues the caller) or studio (the "
    "Studio handoff flow's incomingCall trigger, as Twilio Agent Connect does) (optional)",
    "^(direct|studio)$",
    "direct or studio",
    default="direct",
    tools=(INCOMING_CALL,),
    set_by="handover voice wire --number +1… --relay-url wss://… --path studio",
)
CONFIG_VARIABLES = (
    WORKSPACE,
    WORKFLOW,
    TASK_CHANNEL,
    TOKEN,
    ATTRIBUTES,
    SYNC_SERVICE,
    DEADLINE,
    ATTEMPT_TIMEOUT,
    STUDIO_FLOW,
    STUDIO_FROM,
    HANDBACK_MESSAGE,
    NO_AGENT_MESSAGE,
    HOURS,
    QUEUE,
    WHEN_NO_AGENT,
    UNAVAILABLE_MESSAGE,
    VOICE_ENDED_TWIML,
    VOICE_FALLBACK_TWIML,
    VOICE_RELAY_URL,
    VOICE_PATH,
)


# Retries of a failed Twilio request: exponential backoff with full jitter, from this base up to this cap.
RETRY_BASE_MS = 100
RETRY_CAP_MS = 1000
# Time kept back from the deadline to give the claim back after a failed handoff.
RELEASE_RESERVE_MS = 600

# Exactly one handoff per conversation: a Sync Map item keyed by the conversation SID is created
# before the delivery (a second create of the key fails with 409/54208) and deleted if the handoff
# fails. It is the handoff's only Sync write and lives a day, so that a repeated call within the day
# is refused by that create alone. Sync allows 20 writes (and 20 reads) a second per Map, items
# included, with a 10 s burst: the claims are spread over CLAIM_SHARDS Maps by a hash of the
# conversation SID, so that an account's handoffs are not funnelled through one object. The shard
# count is part of the contract: changing it would let a claim in the old shard go unseen.
# (16 Maps fit in one second of Sync's creation limit, 20 new objects a second per service.)
CLAIM_MAP_PREFIX = "handover-claims-"
CLAIM_SHARDS = 16
CLAIM_TTL_SECONDS = 86400
# A claim this old that the conversation does not record as handed off was left by a call that
# stopped between claim and delivery (a Function lives 10 s at most): a later call may take it over.
CLAIM_STRANDED_AFTER_SECONDS = 120


def claim_shard(conversation_sid: str) -> int:
    """The shard of a conversation's claim: the first 4 bytes of the SHA-256 of its SID, modulo CLAIM_SHARDS."""
    return int.from_bytes(hashlib.sha256(conversation_sid.encode("utf-8")).digest()[:4], "big") % CLAIM_SHARDS


def claim_map_name(shard: int) -> str:
    return f"{CLAIM_MAP_PREFIX}{shard:02d}"


def claim_map_of(conversation_sid: str) -> str:
    """The unique name of the Sync Map that holds a conversation's claim."""
    return claim_map_name(claim_shard(conversation_sid))


CLAIM_MAPS = tuple(claim_map_name(shard) for shard in range(CLAIM_SHARDS))

# The task attribute under which the AI's account of the handoff lands; nothing else it sends reaches the task.
HANDOFF_ATTRIBUTE = "handoff"
# The task attribute of the Studio path (studio/agent-handoff.json): Twilio Agent Connect's HandoffData, as sent.
STUDIO_HANDOFF_ATTRIBUTE = "handoffData"
# The agent's Return to AI (functions/lifecycle/hand-back.js), which the Flex plugin calls.
HAND_BACK_PATH = "/lifecycle/hand-back"
# Where the plugin reads the Functions service's domain at run time: a key of the Flex configuration's ui_attributes,
# which `handover plugin deploy` sets.
HANDOVER_BASE_URL_UI_ATTRIBUTE = "handoverBaseUrl"

# The task attributes a handover writes beside HANDOFF_ATTRIBUTE, by path: the messaging path's (flex-handover) and
# the voice path's (connect-action). Defined here once: the functions write them, the agent's screen reads them.
HANDOFF_FIELDS = ("reason", "summary", "source", "requestedAt")
MESSAGING_TASK_ATTRIBUTES = (
    "from",
    "customerName",
    "customerAddress",
    "conversationSid",
    "conversationServiceSid",
    "channelType",
)
VOICE_TASK_ATTRIBUTES = ("from", "customerName", "customerAddress", "callSid", "calledNumber", "channelType")
# TaskRouter's limit on a task's attributes (JSON text, bytes); the voice path cuts the summary to stay inside it.
MAX_TASK_ATTRIBUTES_BYTES = 16384
# What ends a reason or summary cut to its limit, and the summary of a handoff whose data could not be read.
CUT_MARKER = " […]"
UNREADABLE_HANDOFF_SUMMARY = "[The AI asked for a person, but its handoff data could not be read.]"

# Where a caller puts the handover token: the tool URL's query (an AI Assistant tool cannot set
# headers), or a header for callers that can.
TOKEN_QUERY_PARAMETER = "token"
TOKEN_HEADER = "X-Handover-Token"
TOKEN_BYTES = 32

# An identity header is recorded as given, up to this many characters.
MAX_IDENTITY_LENGTH = 256

# What the AI tells the human agent; longer text is cut to these lengths, never rejected.
MAX_REASON_LENGTH = 500
MAX_SUMMARY_LENGTH = 4000


@dataclass(frozen=True)
class ToolParameter:
    """A field of the body the AI sends: every tool schema (the AI Assistant's, the agent frameworks') is made of these.

    The function cuts a longer text to `max_length`, never rejects it, so the limit is told to the model in the
    description, not enforced as a schema's maxLength (a framework that validated it would refuse the handoff).
    """

    name: str
    purpose: str
    max_length: int
    required: bool

    @property
    def description(self) -> str:
        return f"{self.purpose} (at most {self.max_length} characters; longer text is cut)."


TOOL_PARAMETERS = (
    ToolParameter(
        "reason", "Why you hand the conversation to a human agent, in a sentence or two", MAX_REASON_LENGTH, True
    ),
    ToolParameter(
        "summary",
        "What the customer wanted and what was already tried, for the agent who takes over",
        MAX_SUMMARY_LENGTH,
        False,
    ),
)
# The headers an agent's code (not the model) sets on the call: the conversation to hand off, and the customer.
SESSION_HEADER = "X-Session-Id"
IDENTITY_HEADER = "X-Identity"

HANDED_OFF_MESSAGE = "I have passed our conversation to a member of our team. They will reply here shortly."
FAILED_MESSAGE = "I could not reach a member of our team just now."
TRY_AGAIN_MESSAGE = "I could not reach a member of our team just now. Please try again in a minute."
ALREADY_HANDED_OFF_MESSAGE = "A member of our team already has our conversation. They will reply here shortly."
