"""The bots' guards, guards/handoff_guard.py and guards/handoff-guard.js: one table of conversation attributes, read
alike by both (and as the kit counts a handoff), through their one call against the emulator with the real twilio
SDKs (Python and Node) behind its proxy, and a bot on the service's PostWebhookUrl that answers the customer until
the handoff is recorded, stays silent while a human agent has the conversation, and answers again once handed back.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from handover import contract
from tests.handover.conftest import FOREIGN_VARIABLES, point_at
from twilio_emulator import (
    Emulator,
    EmulatorProxy,
    FlexAccount,
    add_participant,
    customer_writes,
    messages_of,
    new_account,
    seed_flex_account,
    spec_directory,
)
from twilio_emulator.products import conversations as emulated_conversations

REPO = Path(__file__).resolve().parents[2]
PYTHON_GUARD = REPO / "guards" / "handoff_guard.py"
JS_GUARD = REPO / "guards" / "handoff-guard.js"
DRIVER = Path(__file__).with_name("guard_driver.js")
NODE_TIMEOUT_SECONDS = 60
DELIVERY_TIMEOUT_SECONDS = 10


def _load_python_guard():
    """The guard as a bot has it: a file copied in, imported by itself (it is no package of the kit's)."""
    spec = importlib.util.spec_from_file_location("handoff_guard", PYTHON_GUARD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


guard = _load_python_guard()


def node(request: dict, env: dict[str, str] | None = None):
    """The driver's answer (tests/guards/guard_driver.js) to one request, in a Node process of its own."""
    completed = subprocess.run(
        ["node", str(DRIVER)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "TZ": "UTC", **(env or {})},
        timeout=NODE_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


# The table: what the kit writes on a conversation, and what else its attributes may hold ---------------------

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=contract.CLAIM_TTL_SECONDS)
MS = timedelta(milliseconds=1)
CLAIM_ID = "7b1e4c1e-6f7a-4c59-9d55-0a3c3e1b2f10"
CUSTOMER_ATTRIBUTES = {"customer": {"name": "Ada"}, "locale": "en-GB"}
BOT_WEBHOOKS = [
    {"sid": "WH" + "1" * 32, "target": "webhook", "configuration": {"url": "http://127.0.0.1:9/bot", "method": "post"}}
]


def iso(moment: datetime) -> str:
    """A time as the kit writes it, JavaScript's toISOString(): UTC, milliseconds, Z."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def handoff(at: datetime | str, **more) -> dict:
    """The attributes of a conversation handed off at `at`, as the handoff records them (handedOffAttributes)."""
    handed_off_at = iso(at) if isinstance(at, datetime) else at
    return {**CUSTOMER_ATTRIBUTES, "handedOff": True, "handedOffAt": handed_off_at, "handoffClaimId": CLAIM_ID, **more}


HANDED_BACK = {
    "at": iso(NOW - timedelta(minutes=5)),
    "taskSid": "WT" + "2" * 32,
    "reason": "wrapup",
    "worker": {"sid": "WK" + "3" * 32, "name": "Alice"},
    "outcome": None,
    "botRestored": True,
}


@dataclass(frozen=True)
class Case:
    name: str
    attributes: str | dict | None  # the JSON text Twilio answers, the dict a bot parsed, or none
    expected: bool  # whether the conversation counts as handed off: the bot stays silent
    now: datetime = NOW
    # Whether the kit's own handoffRecordOf (Date.parse) agrees: not on times ISO 8601 does not have.
    kit_agrees: bool = True

    @property
    def text(self) -> str:
        """The attributes as Twilio holds them: JSON text."""
        return self.attributes if isinstance(self.attributes, str) else json.dumps(self.attributes or {})


def _text(attributes: dict) -> str:
    return json.dumps(attributes)


CASES = [
    # The kit's handoff record, within the window and at its edges.
    Case("a handoff a minute ago, as the kit records it", _text(handoff(NOW - timedelta(minutes=1))), True),
    Case(
        "a handoff with the bot's webhooks kept",
        _text(handoff(NOW - timedelta(minutes=1), handoffBotWebhooks=BOT_WEBHOOKS)),
        True,
    ),
    Case("the same record as a dict the bot parsed", handoff(NOW - timedelta(minutes=1)), True),
    Case("a handoff this very millisecond", _text(handoff(NOW)), True),
    Case("a handoff 1 ms inside the window", _text(handoff(NOW - WINDOW + MS)), True),
    Case("a handoff exactly the window old", _text(handoff(NOW - WINDOW)), False),
    Case("a handoff two days old", _text(handoff(NOW - 2 * WINDOW)), False),
    Case(
        "handedOffAt 5 s ahead of the bot's clock (the kit counts it)",
        _text(handoff(NOW + timedelta(seconds=5))),
        True,
    ),
    # The hand-back: the record taken away, handedBack recorded; then a second handoff after it.
    Case("handed back, as the hand-back records it", _text({**CUSTOMER_ATTRIBUTES, "handedBack": HANDED_BACK}), False),
    Case(
        "handed off again after a hand-back", _text(handoff(NOW - timedelta(minutes=1), handedBack=HANDED_BACK)), True
    ),
    Case("never handed off: the customer's attributes only", _text(CUSTOMER_ATTRIBUTES), False),
    # ISO 8601 as others write it: offsets, microseconds, no offset (UTC), a date alone.
    Case("an offset that puts it 25 h back", _text(handoff("2026-11-30T13:00:00+02:00")), False),
    Case("an offset that puts it 23 h back", _text(handoff("2026-11-30T10:00:00-03:00")), True),
    Case(
        "Python's isoformat, microseconds", _text(handoff((NOW - timedelta(hours=1, microseconds=5)).isoformat())), True
    ),
    Case("no offset is UTC", _text(handoff("2026-11-30T12:00:01")), True),
    Case("no offset is UTC, a second too old", _text(handoff("2026-11-30T12:00:00")), False),
    Case("minutes without seconds", _text(handoff("2026-12-01T11:59Z")), True),
    Case("a date alone is its midnight, UTC", _text(handoff("2026-12-01")), True),
    # No attributes, or not a JSON object.
    Case("no attributes", None, False),
    Case("empty text", "", False),
    Case("an empty object", "{}", False),
    Case("malformed JSON", _text(handoff(NOW))[:-1], False),
    Case("NaN, which Python's json reads and JSON does not", _text(handoff(NOW))[:-1] + ', "score": NaN}', False),
    Case("a JSON array of a record", _text([handoff(NOW)]), False),
    Case("JSON null", "null", False),
    Case("JSON true", "true", False),
    Case("a number", "42", False),
    Case("the record's text encoded twice", json.dumps(_text(handoff(NOW))), False),
    # A record that is not the kit's.
    Case("handedOff the text 'true'", _text(handoff(NOW, handedOff="true")), False),
    Case("handedOff 1", _text(handoff(NOW, handedOff=1)), False),
    Case("handedOff false", _text(handoff(NOW, handedOff=False)), False),
    Case("handedOff without handedOffAt", _text({"handedOff": True, "handoffClaimId": CLAIM_ID}), False),
    Case("handedOffAt null", _text(handoff(NOW, handedOffAt=None)), False),
    Case("handedOffAt not a time", _text(handoff("yesterday")), False),
    Case("handedOffAt in epoch milliseconds", _text(handoff(NOW, handedOffAt=1796126400000)), False),
    Case("handedOffAt with spaces around", _text(handoff(" " + iso(NOW) + " ")), False),
    # Times ISO 8601 does not have, which V8's Date.parse rolls over: the guards do not read them.
    Case("November 31st", _text(handoff("2026-11-31T00:00:00Z")), False, kit_agrees=False),
    Case("hour 24", _text(handoff("2026-12-01T24:00:00Z")), False, kit_agrees=False),
]
IDS = [case.name for case in CASES]


def js_request(cases: list[Case]) -> list[dict]:
    return [{"attributes": case.attributes, "now": iso(case.now)} for case in cases]


@pytest.fixture(scope="module")
def js_answers() -> dict[str, bool]:
    """The JavaScript guard's isHandedOff of every case, in one Node process."""
    return dict(zip(IDS, node({"mode": "pure", "cases": js_request(CASES)}), strict=True))


@pytest.fixture(scope="module")
def kit_answers() -> dict[str, bool]:
    """The kit's own reading of every case as text (handoffRecordOf, whose Date.parse reads a time without offset in
    the process's zone: UTC here, as in Twilio Functions)."""
    as_text = [{"attributes": case.text, "now": iso(case.now)} for case in CASES]
    return dict(zip(IDS, node({"mode": "kit", "cases": as_text}), strict=True))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_python_guard_reads_each_case(case):
    assert guard.is_handed_off(case.attributes, case.now) is case.expected


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_js_guard_reads_each_case_alike(case, js_answers):
    assert js_answers[case.name] is case.expected


@pytest.mark.parametrize("case", [case for case in CASES if case.kit_agrees], ids=lambda case: case.name)
def test_the_kit_counts_the_same_handoffs(case, kit_answers):
    assert kit_answers[case.name] is case.expected


def test_the_kit_reads_times_iso_8601_has_not_and_the_guards_do_not(kit_answers, js_answers):
    """Date.parse rolls November 31st over to December 1st: the kit would count such a record, the guards answer."""
    lenient = [case.name for case in CASES if not case.kit_agrees]
    assert lenient and all(kit_answers[name] for name in lenient)
    assert not any(js_answers[name] or guard.is_handed_off(CASES[IDS.index(name)].attributes, NOW) for name in lenient)


def test_a_naive_now_is_utc_and_no_now_is_this_moment():
    record = handoff(NOW - timedelta(hours=1))
    assert guard.is_handed_off(record, NOW.replace(tzinfo=None))
    assert not guard.is_handed_off(record, (NOW + WINDOW).replace(tzinfo=None))
    assert guard.is_handed_off(handoff(datetime.now(UTC) - timedelta(minutes=1)))
    assert not guard.is_handed_off(handoff(datetime.now(UTC) - 2 * WINDOW))


def test_what_the_kit_itself_writes_is_read_by_both_guards():
    """The kit's own helpers write the record: handedOffAttributes, then handedBackAttributes, then a handoff again."""
    written = node(
        {
            "mode": "shapes",
            "customer": CUSTOMER_ATTRIBUTES,
            "claim": {"requestedAt": iso(NOW - timedelta(minutes=1)), "againAt": iso(NOW), "claimId": CLAIM_ID},
            "ending": {
                "at": HANDED_BACK["at"],
                "taskSid": HANDED_BACK["taskSid"],
                "kind": "wrapup",
                "worker": HANDED_BACK["worker"],
                "outcome": None,
            },
        }
    )
    assert json.loads(written["handedOff"])["handedOffAt"] == iso(NOW - timedelta(minutes=1))
    assert "handedOff" not in json.loads(written["handedBack"]) and json.loads(written["handedBack"])["handedBack"]
    expected = {"handedOff": True, "handedBack": False, "again": True}
    cases = [{"attributes": written[kind], "now": iso(NOW)} for kind in expected]
    assert dict(zip(expected, node({"mode": "pure", "cases": cases}), strict=True)) == expected
    assert {kind: guard.is_handed_off(written[kind], NOW) for kind in expected} == expected


# The window is the kit's ------------------------------------------------------------------------------------------

WINDOW_LINE = re.compile(r"^(?:const )?HANDOFF_WINDOW_SECONDS = (\d+);?$", re.MULTILINE)


@pytest.mark.parametrize("path", [PYTHON_GUARD, JS_GUARD], ids=lambda path: path.name)
def test_each_guard_writes_the_kits_window_as_a_number_naming_claim_ttl_seconds(path):
    text = path.read_text(encoding="utf-8")
    (written,) = WINDOW_LINE.findall(text)
    assert int(written) == contract.CLAIM_TTL_SECONDS, f"{path.name} counts a handoff for {written} s"
    before = text[: WINDOW_LINE.search(text).start()].splitlines()[-3:]
    assert any("contract.CLAIM_TTL_SECONDS" in line for line in before), "the comment above names the kit's constant"


def test_each_guard_counts_a_handoff_for_claim_ttl_seconds():
    assert guard.HANDOFF_WINDOW_SECONDS == contract.CLAIM_TTL_SECONDS
    assert node({"mode": "window"}) == contract.CLAIM_TTL_SECONDS


# The one call, against the emulator through its proxy ---------------------------------------------------------


@pytest.fixture(scope="module")
def module_emulator() -> Emulator:
    """An emulated account of this module's own: its service-level webhook is set here, and no other test's."""
    return Emulator(spec_directory(REPO), new_account())


@pytest.fixture(scope="module")
def proxy(module_emulator):
    with EmulatorProxy(module_emulator) as running:
        yield running


@pytest.fixture
def emulator(module_emulator):
    """The module's emulator, emptied; a test fails on any spec violation or operation the emulator does not serve."""
    module_emulator.reset()
    yield module_emulator
    assert [str(v) for v in module_emulator.violations] == [], "requests broke Twilio's OpenAPI description"
    assert [str(u) for u in module_emulator.unserved] == [], "requests asked for operations not served (501)"


@pytest.fixture
def flex(emulator) -> FlexAccount:
    return seed_flex_account(emulator)


@pytest.fixture
def client(emulator, proxy, monkeypatch) -> Client:
    """The real twilio Python SDK, reaching the emulator through its proxy only."""
    point_at(proxy, monkeypatch)
    return Client(emulator.account.sid, emulator.account.auth_token)


def node_environment(emulator: Emulator, proxy: EmulatorProxy) -> dict[str, str]:
    """A Node process's way to the emulator: its proxy (HTTP_PROXY, NODE_EXTRA_CA_CERTS) and the account."""
    env = {name: value for name, value in os.environ.items() if name not in FOREIGN_VARIABLES}
    env.update(proxy.client_environment())
    env.update({"ACCOUNT_SID": emulator.account.sid, "AUTH_TOKEN": emulator.account.auth_token, "TZ": "UTC"})
    return env


def seed_conversations(emulator: Emulator, flex: FlexAccount, cases: list[Case]) -> list[str]:
    """A conversation of the service per case, holding its attributes as text (as Twilio would hold them, or as it
    would not: Twilio refuses text that is not JSON, the guards are proven to answer it anyway); their SIDs."""
    with emulator.lock:
        created = [
            emulated_conversations.add_conversation(emulator, flex.service_sid, case.name, attributes=case.text)
            for case in cases
        ]
    return [conversation["sid"] for conversation in created]


def conversation_fetches(emulator: Emulator) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in emulator.requests]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_python_guard_fetches_the_conversation_once_and_reads_it(case, emulator, flex, client):
    (sid,) = seed_conversations(emulator, flex, [case])
    assert guard.conversation_is_handed_off(client, flex.service_sid, sid, now=case.now) is case.expected
    assert conversation_fetches(emulator) == [("GET", f"/v1/Services/{flex.service_sid}/Conversations/{sid}")]


def test_the_js_guard_fetches_each_conversation_once_and_answers_as_the_python_one(emulator, flex, proxy, client):
    sids = seed_conversations(emulator, flex, CASES)
    request = {
        "mode": "fetch",
        "serviceSid": flex.service_sid,
        "cases": [{"conversationSid": sid, "now": iso(case.now)} for sid, case in zip(sids, CASES, strict=True)],
    }
    js = dict(zip(IDS, node(request, node_environment(emulator, proxy)), strict=True))
    assert conversation_fetches(emulator) == [
        ("GET", f"/v1/Services/{flex.service_sid}/Conversations/{sid}") for sid in sids
    ]
    python = {
        case.name: guard.conversation_is_handed_off(client, flex.service_sid, sid, now=case.now)
        for sid, case in zip(sids, CASES, strict=True)
    }
    assert js == python == {case.name: case.expected for case in CASES}


def test_a_failed_fetch_raises_for_the_bot_to_decide(emulator, flex, client):
    from twilio.base.exceptions import TwilioRestException

    with pytest.raises(TwilioRestException) as raised:
        guard.conversation_is_handed_off(client, flex.service_sid, "CH" + "0" * 32)
    assert raised.value.status == 404


# A bot on the service's PostWebhookUrl, end to end ---------------------------------------------------------------

CUSTOMER = "+15551230001"
AGENT = "alice"
BOT = "bot"


@dataclass
class Bot:
    """A bot on 127.0.0.1 that the service's PostWebhookUrl reaches: on each onMessageAdded (signed by the account) it
    asks the Python guard, and answers the customer unless the conversation is handed off."""

    client: Client
    auth_token: str
    heard: list[tuple[str, str, bool]] = field(default_factory=list)  # (author, body, answered)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        bot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                params = dict(parse_qsl(self.rfile.read(length).decode()))
                try:
                    status = bot.on_message_added(self.path, params, self.headers.get("X-Twilio-Signature", ""))
                except Exception as error:  # recorded for the test: a bot's failure is a test's failure
                    bot.errors.append(repr(error))
                    status = 500
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def on_message_added(self, path: str, params: dict[str, str], signature: str) -> int:
        if not RequestValidator(self.auth_token).validate(self.url, params, signature):
            self.errors.append(f"an unsigned request to {path}")
            return 403
        if params.get("EventType") != "onMessageAdded" or params.get("Author") == BOT:
            return 200
        service, conversation = params["ChatServiceSid"], params["ConversationSid"]
        answering = not guard.conversation_is_handed_off(self.client, service, conversation)
        if answering:
            self.client.conversations.v1.services(service).conversations(conversation).messages.create(
                author=BOT, body=f"The bot, to: {params['Body']}"
            )
        self.heard.append((params["Author"], params["Body"], answering))
        return 200

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def bot(client, emulator):
    started = Bot(client, emulator.account.auth_token)
    yield started
    started.stop()


def test_a_service_level_bot_answers_until_the_handoff_then_stays_silent_until_the_hand_back(
    emulator, flex, client, bot
):
    service = client.conversations.v1.services(flex.service_sid)
    service.configuration.webhooks().update(post_webhook_url=bot.url, filters=["onMessageAdded"], method="POST")
    conversation = service.conversations(flex.conversation_sid)
    add_participant(emulator, flex.conversation_sid, address=CUSTOMER)
    add_participant(emulator, flex.conversation_sid, identity=AGENT)
    conversation.update(attributes=json.dumps(CUSTOMER_ATTRIBUTES))

    def says(body: str, author: str | None = None) -> tuple[str, str, bool]:
        customer_writes(emulator, flex.conversation_sid, body, author=author)
        assert emulator.outbox.wait_idle(DELIVERY_TIMEOUT_SECONDS), "the bot's webhook was not answered in time"
        assert bot.errors == []
        return bot.heard[-1]

    assert says("Hello") == (CUSTOMER, "Hello", True)

    # The handoff's record, written through the API as the kit writes it: its own handedOffAttributes over the
    # attributes it read, with the time of the request.
    written = node(
        {
            "mode": "shapes",
            "customer": json.loads(conversation.fetch().attributes),
            "claim": {"requestedAt": iso(datetime.now(UTC)), "againAt": iso(datetime.now(UTC)), "claimId": CLAIM_ID},
            "ending": {
                "at": iso(datetime.now(UTC)),
                "taskSid": "WT" + "2" * 32,
                "kind": "wrapup",
                "worker": {"sid": "WK" + "3" * 32, "name": "Alice"},
                "outcome": None,
            },
        }
    )
    conversation.update(attributes=written["handedOff"])
    assert says("Are you there?") == (CUSTOMER, "Are you there?", False)
    assert says("Hi, I'm Alice. How can I help?", author=AGENT) == (AGENT, "Hi, I'm Alice. How can I help?", False)

    # The hand-back: the record taken away, handedBack recorded.
    conversation.update(attributes=written["handedBack"])
    assert says("Thanks, all sorted") == (CUSTOMER, "Thanks, all sorted", True)

    assert [(m["author"], m["body"]) for m in messages_of(emulator, flex.conversation_sid)] == [
        (CUSTOMER, "Hello"),
        (BOT, "The bot, to: Hello"),
        (CUSTOMER, "Are you there?"),
        (AGENT, "Hi, I'm Alice. How can I help?"),
        (CUSTOMER, "Thanks, all sorted"),
        (BOT, "The bot, to: Thanks, all sorted"),
    ]
    assert [(c.source, c.url, c.delivered) for c in emulator.outbox.sent] == [
        ("conversations.onMessageAdded", bot.url, True)
    ] * 4
