"""Tests of the emulator's request pipeline, routes and faults, driven through `Emulator.handle` without sockets."""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest

from twilio_emulator import (
    Account,
    Emulator,
    Fault,
    FlexAccount,
    RecordedRequest,
    TwilioError,
    UnservedOperation,
    Violation,
    add_conversation,
    new_account,
    seed_flex_account,
    spec_directory,
)
from twilio_emulator.faults import DroppedConnection
from twilio_emulator.products import conversations, taskrouter
from twilio_emulator.state import DECLARED_TABLES

PROJECT_DIR = Path(__file__).resolve().parents[2]
SPEC_DIR = spec_directory(PROJECT_DIR)

FLEX = "flex-api.twilio.com"
TASKROUTER = "taskrouter.twilio.com"
CONVERSATIONS = "conversations.twilio.com"
FORM = "application/x-www-form-urlencoded"

API_KEY_SID = "SK" + "5" * 32
API_KEY_SECRET = "api-key-secret-" + "7" * 17


def basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


@pytest.fixture
def account() -> Account:
    created = new_account()
    return Account(created.sid, created.auth_token, api_keys={API_KEY_SID: API_KEY_SECRET})


@pytest.fixture
def emulator(account) -> Emulator:
    return Emulator(SPEC_DIR, account)


@pytest.fixture
def flex(emulator) -> FlexAccount:
    return seed_flex_account(emulator)


class Client:
    """Requests as the Twilio SDK sends them, handed straight to `Emulator.handle`."""

    def __init__(self, emulator: Emulator, authorization: str | None):
        self.emulator, self.authorization = emulator, authorization

    def headers(self, extra: dict | None = None) -> dict:
        headers = {"authorization": self.authorization} if self.authorization else {}
        return {**headers, **(extra or {})}

    def get(self, host: str, target: str):
        return self.emulator.handle("GET", host, target, self.headers(), b"")

    def post(self, host: str, target: str, data: dict):
        return self.emulator.handle(
            "POST", host, target, self.headers({"content-type": FORM}), urlencode(data).encode()
        )


@pytest.fixture
def client(emulator, account) -> Client:
    return Client(emulator, basic(account.sid, account.auth_token))


def interaction_body(
    flex: FlexAccount,
    *,
    channel_type="web",
    initiated_by="customer",
    conversation_sid=None,
    workspace_sid=None,
    workflow_sid=None,
    task_channel="chat",
    attributes=None,
) -> dict:
    routing = {
        "workspace_sid": workspace_sid or flex.workspace_sid,
        "workflow_sid": workflow_sid or flex.workflow_sid,
        "attributes": {"customerName": "Ada", "handoff": {"reason": "refund"}} if attributes is None else attributes,
    }
    if task_channel is not None:
        routing["task_channel_unique_name"] = task_channel
    channel = {
        "type": channel_type,
        "initiated_by": initiated_by,
        "properties": {"media_channel_sid": conversation_sid or flex.conversation_sid},
    }
    return {"Channel": json.dumps(channel), "Routing": json.dumps({"properties": routing})}


def error_body(status: int, code: int, message: str) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


# Errors ----------------------------------------------------------------------------------------------


def test_twilio_error_has_twilios_shape():
    error = TwilioError(429, 20429, "Too many requests")
    assert error.body() == {
        "code": 20429,
        "message": "Too many requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    assert str(error) == "Too many requests"


# Authentication ----------------------------------------------------------------------------------------


def test_account_sid_and_auth_token_authenticate(client, flex, account, emulator):
    status, body = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert status == 200
    assert body["sid"] == flex.workspace_sid
    assert body["account_sid"] == account.sid
    assert emulator.requests[-1].auth_user == account.sid


def test_wrong_auth_token_is_401_20003(emulator, flex, account):
    status, body = Client(emulator, basic(account.sid, "0" * 32)).get(
        TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}"
    )
    assert status == 401
    assert body == error_body(401, 20003, "Authentication Error - invalid username")
    assert emulator.requests[-1].status == 401


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer abc",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
    ids=["missing", "not-basic", "bad-base64", "not-utf8"],
)
def test_missing_or_malformed_credentials_are_401(emulator, flex, authorization):
    status, body = Client(emulator, authorization).get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert status == 401
    assert body["code"] == 20003


def test_another_accounts_sid_is_401(emulator, flex, account):
    status, body = Client(emulator, basic("AC" + "9" * 32, account.auth_token)).get(
        TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}"
    )
    assert (status, body["code"]) == (401, 20003)


def test_api_key_and_secret_authenticate(emulator, flex):
    status, body = Client(emulator, basic(API_KEY_SID, API_KEY_SECRET)).get(
        TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}"
    )
    assert status == 200
    assert body["sid"] == flex.workspace_sid
    assert emulator.requests[-1].auth_user == API_KEY_SID


@pytest.mark.parametrize(
    "credential",
    [
        lambda account: (API_KEY_SID, "wrong-secret"),
        lambda account: ("SK" + "6" * 32, API_KEY_SECRET),
        lambda account: (account.sid, API_KEY_SECRET),
        lambda account: (API_KEY_SID, account.auth_token),
    ],
    ids=["api-key-wrong-secret", "unknown-api-key", "account-sid-with-api-key-secret", "api-key-with-auth-token"],
)
def test_mismatched_credentials_are_401(emulator, flex, account, credential):
    status, body = Client(emulator, basic(*credential(account))).get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert (status, body["code"]) == (401, 20003)


def test_authenticate_names_the_credential(emulator, account):
    assert emulator.authenticate(basic(account.sid, account.auth_token)) == account.sid
    assert emulator.authenticate(basic(API_KEY_SID, API_KEY_SECRET)) == API_KEY_SID
    assert emulator.authenticate(basic(account.sid, API_KEY_SECRET)) is None
    assert emulator.authenticate(basic("", "")) is None
    assert emulator.authenticate(None) is None


def test_the_secret_is_never_recorded(emulator, flex, account):
    token_auth = basic(account.sid, account.auth_token)
    key_auth = basic(API_KEY_SID, API_KEY_SECRET)
    wrong_auth = basic(account.sid, "wrong-" + account.auth_token)
    emulator.inject(Fault("GET", "/Users/", status=503))
    for authorization in (token_auth, key_auth, wrong_auth):
        c = Client(emulator, authorization)
        c.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")  # success (or 401)
        c.post(FLEX, "/v1/Interactions", interaction_body(flex))  # a creation
        c.post(FLEX, "/v1/Interactions", {"Channel": "{}", "Unknown": "x"})  # a request violation
        c.get(FLEX, "/v1/NoSuchThing")  # an unknown endpoint
        c.get(CONVERSATIONS, f"/v1/Services/{flex.service_sid}/Users/{flex.webchat_identity}")  # a fault, then a fetch
    assert len(emulator.requests) == 15
    assert {r.auth_user for r in emulator.requests} == {account.sid, API_KEY_SID}
    secrets = [account.auth_token, API_KEY_SECRET, token_auth, key_auth, wrong_auth, token_auth[6:], key_auth[6:]]
    for recorded in emulator.requests:
        text = repr(recorded) + repr(vars(recorded)) + str(recorded)
        for secret in secrets:
            assert secret not in text
    for violation in emulator.violations:
        for secret in secrets:
            assert secret not in repr(violation) + str(violation)


# Unknown endpoints and request violations ---------------------------------------------------------------------


def test_unknown_endpoint_is_404_20404_and_a_violation(client, emulator):
    status, body = client.get(FLEX, "/v1/NoSuchThing?PageSize=5")
    assert status == 404
    assert body == error_body(404, 20404, "The requested resource /v1/NoSuchThing was not found")
    assert emulator.violations == [
        Violation(
            "unknown-endpoint",
            "GET",
            "https://flex-api.twilio.com/v1/NoSuchThing",
            ["not in Twilio's OpenAPI description"],
        )
    ]
    assert (
        str(emulator.violations[0])
        == "unknown-endpoint: GET https://flex-api.twilio.com/v1/NoSuchThing: not in Twilio's OpenAPI description"
    )
    recorded = emulator.requests[-1]
    assert (recorded.path, recorded.query, recorded.operation, recorded.status) == (
        "/v1/NoSuchThing",
        "PageSize=5",
        None,
        404,
    )


def test_unknown_product_is_404_and_a_violation(client, emulator):
    status, body = client.get("nosuchproduct.twilio.com", "/v1/Things")
    assert (status, body["code"]) == (404, 20404)
    assert [(v.kind, v.url) for v in emulator.violations] == [
        ("unknown-endpoint", "https://nosuchproduct.twilio.com/v1/Things")
    ]


ACTIVITIES = "/v1/Workspaces/WS" + "0" * 32 + "/Activities"
NOT_SERVED_ACTIVITIES = {
    "code": 20501,
    "message": "ListActivity (GET /v1/Workspaces/{WorkspaceSid}/Activities) is in Twilio's OpenAPI description, "
    "but the Twilio emulator does not serve it: see twilio_emulator's README, 'What is not served'",
    "more_info": "twilio_emulator's README, 'What is not served'",
    "status": 501,
}


def test_described_but_not_served_operation_is_501_naming_it_and_no_violation(client, emulator):
    assert client.get(TASKROUTER, ACTIVITIES) == (501, NOT_SERVED_ACTIVITIES)
    assert emulator.violations == []
    url = "https://taskrouter.twilio.com" + ACTIVITIES
    assert emulator.unserved == [
        UnservedOperation("ListActivity", "GET", "/v1/Workspaces/{WorkspaceSid}/Activities", url)
    ]
    assert str(emulator.unserved[0]) == f"ListActivity (GET /v1/Workspaces/{{WorkspaceSid}}/Activities): GET {url}"
    recorded = emulator.requests[-1]
    assert (recorded.operation, recorded.unserved, recorded.status, recorded.response) == (
        "GET /v1/Workspaces/{WorkspaceSid}/Activities",
        True,
        501,
        NOT_SERVED_ACTIVITIES,
    )


def test_a_served_request_is_not_marked_unserved(client, emulator, flex):
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert (emulator.requests[-1].unserved, emulator.unserved) == (False, [])


def test_an_unserved_operation_is_checked_and_authenticated_first(emulator, client):
    """What the emulator can say of the request it says, as Twilio would: a bad request and a bad credential."""
    status, body = client.get(TASKROUTER, ACTIVITIES + "?Colour=blue")
    assert (status, body["code"]) == (400, 20001)
    assert [v.kind for v in emulator.violations] == ["request"]
    status, body = Client(emulator, basic(emulator.account.sid, "not-the-token")).get(TASKROUTER, ACTIVITIES)
    assert (status, body["code"]) == (401, 20003)
    assert emulator.unserved == []


def test_an_unserved_operation_uses_no_fault_up(client, emulator):
    fault = emulator.inject(Fault("GET", "/Activities", status=503))
    assert client.get(TASKROUTER, ACTIVITIES) == (501, NOT_SERVED_ACTIVITIES)
    assert fault.times == 1


def test_unserved_operations_outlive_clear_traffic_not_reset(client, emulator):
    client.get(TASKROUTER, ACTIVITIES)
    emulator.clear_traffic()
    assert [u.operation_id for u in emulator.unserved] == ["ListActivity"]
    emulator.reset()
    assert emulator.unserved == []


def test_an_unserved_operation_answers_in_its_apis_error_shape(client, emulator):
    status, body = client.get("intelligence.twilio.com", "/v3/Conversations")
    assert (status, body) == (
        501,
        {
            "code": 20501,
            "message": "ListConversations (GET /v3/Conversations) is in Twilio's OpenAPI description, but the Twilio "
            "emulator does not serve it: see twilio_emulator's README, 'What is not served'",
            "httpStatusCode": 501,
            "userError": False,
            "params": {"twilioErrorCodeUrl": "twilio_emulator's README, 'What is not served'"},
        },
    )


def test_request_violation_is_400_and_recorded(client, emulator, flex):
    status, body = client.post(FLEX, "/v1/Interactions", {**interaction_body(flex), "Colour": "blue"})
    assert status == 400
    assert body == error_body(400, 20001, "Invalid request: body parameter 'Colour' is not in the description")
    assert emulator.violations == [
        Violation(
            "request",
            "POST",
            "https://flex-api.twilio.com/v1/Interactions",
            ["body parameter 'Colour' is not in the description"],
        )
    ]
    recorded = emulator.requests[-1]
    assert (recorded.operation, recorded.status, recorded.content_type) == ("POST /v1/Interactions", 400, FORM)
    assert recorded.body["Channel"]["type"] == "web"  # the decoded body is kept
    assert emulator.table("tasks") == {} and emulator.table("interactions") == {}


def test_request_violations_are_all_listed(client, emulator):
    status, body = client.get(CONVERSATIONS, "/v1/Services/IS123/Users/alice?Extra=1")
    assert status == 400
    errors = [
        "path ChatServiceSid: 'IS123' is too short",
        "path ChatServiceSid: 'IS123' does not match '^IS[0-9a-fA-F]{32}$'",
        "query parameter 'Extra' is not in the description",
    ]
    assert body["message"] == "Invalid request: " + "; ".join(errors)
    assert emulator.violations[-1].kind == "request"
    assert emulator.violations[-1].errors == errors


def test_valid_traffic_leaves_no_violations(client, emulator, flex):
    status, created = client.post(FLEX, "/v1/Interactions", interaction_body(flex))
    assert status == 200
    task_sid = created["routing"]["properties"]["sid"]
    for target, host in [
        (f"/v1/Interactions/{created['sid']}", FLEX),
        (f"/v1/Workspaces/{flex.workspace_sid}", TASKROUTER),
        (f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{flex.workflow_sid}", TASKROUTER),
        (f"/v1/Workspaces/{flex.workspace_sid}/Tasks/{task_sid}", TASKROUTER),
        (f"/v1/Workspaces/{flex.workspace_sid}/TaskChannels", TASKROUTER),
        (f"/v1/Services/{flex.service_sid}/Conversations/{flex.conversation_sid}", CONVERSATIONS),
        (f"/v1/Services/{flex.service_sid}/Users/{flex.webchat_identity}", CONVERSATIONS),
    ]:
        assert client.get(host, target)[0] == 200, target
    assert emulator.violations == []


def test_an_answer_is_what_the_client_got_however_the_resource_changes_later(client, emulator, flex):
    status, fetched = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert (status, fetched["friendly_name"]) == (200, "Flex Task Assignment")
    emulator.table("workspaces")[flex.workspace_sid]["friendly_name"] = "Renamed"
    assert fetched["friendly_name"] == "Flex Task Assignment"
    assert emulator.requests[-1].response["friendly_name"] == "Flex Task Assignment"
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[1]["friendly_name"] == "Renamed"


def test_a_response_that_breaks_the_description_is_a_violation(client, emulator, flex):
    emulator.table("workspaces")[flex.workspace_sid]["prioritize_queue_order"] = "RANDOM"
    status, _ = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert status == 200  # answered anyway; the violation is recorded for the test to see
    assert emulator.violations == [
        Violation(
            "response",
            "GET",
            f"https://taskrouter.twilio.com/v1/Workspaces/{flex.workspace_sid}",
            ["response.prioritize_queue_order: 'RANDOM' is not one of ['FIFO', 'LIFO']"],
        )
    ]


# Faults ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(429, 20429), (500, 20500), (503, 20503), (502, 20001)])
def test_fault_status_has_a_default_code(client, emulator, flex, status, code):
    fault = emulator.inject(Fault("GET", "/Workspaces/", status=status))
    assert emulator.faults == [fault]
    answer = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert answer == (status, error_body(status, code, f"Injected fault {status}"))
    assert fault.times == 0
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200


def test_fault_with_its_own_code(client, emulator, flex):
    emulator.inject(Fault("GET", "/Workspaces/", status=500, code=20999))
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}") == (
        500,
        error_body(500, 20999, "Injected fault 500"),
    )


def test_fault_times_counts_down(client, emulator, flex):
    fault = emulator.inject(Fault("POST", "/v1/Interactions", status=503, times=2))
    statuses = [client.post(FLEX, "/v1/Interactions", interaction_body(flex))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert fault.times == 0
    assert len(emulator.table("tasks")) == 1


def test_a_rejected_request_does_not_use_up_a_fault(client, emulator, flex, account):
    fault = emulator.inject(Fault("GET", "/Workspaces/", status=503))
    intruder = Client(emulator, basic(account.sid, "wrong-token-" + "0" * 20))
    assert intruder.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 401
    assert client.get(TASKROUTER, "/v1/Workspaces/WS123")[0] == 400
    assert fault.times == 1
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 503


def test_fault_with_times_none_persists(client, emulator, flex):
    fault = emulator.inject(Fault("GET", "/Workspaces/", status=429, times=None))
    statuses = [client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] for _ in range(4)]
    assert statuses == [429, 429, 429, 429]
    assert fault.times is None


def test_fault_matches_method_and_path(client, emulator, flex):
    other_method = emulator.inject(Fault("POST", "/Workspaces/", status=500))
    other_path = emulator.inject(Fault("GET", "/Tasks/", status=500))
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert (other_method.times, other_path.times) == (1, 1)
    assert other_path.matches("GET", f"/v1/Workspaces/{flex.workspace_sid}/Tasks/WT1")
    assert not other_path.matches("GET", f"/v1/Workspaces/{flex.workspace_sid}")
    assert not other_method.matches("GET", f"/v1/Workspaces/{flex.workspace_sid}")
    assert not Fault("GET", "/Tasks/", times=0).matches("GET", "/v1/Workspaces/WS1/Tasks/WT1")


def test_the_first_matching_fault_applies(client, emulator, flex):
    first = emulator.inject(Fault("GET", "/Workspaces/", status=429))
    second = emulator.inject(Fault("GET", "/Workspaces/", status=500))
    statuses = [client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] for _ in range(3)]
    assert statuses == [429, 500, 200]
    assert (first.times, second.times) == (0, 0)


def test_dropped_connection_fault_raises(client, emulator, flex):
    emulator.inject(Fault("GET", "/Workspaces/", drop=True))
    with pytest.raises(
        DroppedConnection, match=re.escape(f"https://taskrouter.twilio.com/v1/Workspaces/{flex.workspace_sid}")
    ):
        client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    dropped = emulator.requests[-1]
    assert dropped.status is None and dropped.response is None
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200


def replace_real_time(monkeypatch, emulator: Emulator, monotonic, sleep) -> None:
    """The real time the emulator's requests take, made up: when they start and finish, and what they wait."""
    monkeypatch.setattr(emulator.clock, "monotonic", monotonic)
    monkeypatch.setattr(emulator.clock, "wait", sleep)


@pytest.fixture
def clock(monkeypatch, emulator) -> SimpleNamespace:
    """The emulator's clock, made up: it starts at 100.0 and each sleep moves it on, without waiting."""
    made_up = SimpleNamespace(now=100.0, sleeps=[])

    def sleep(seconds):
        made_up.sleeps.append(seconds)
        made_up.now += seconds

    replace_real_time(monkeypatch, emulator, lambda: made_up.now, sleep)
    return made_up


def test_delay_fault_waits_before_answering(client, emulator, flex, clock):
    emulator.inject(Fault("GET", "/Workspaces/", delay=2.5))
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert clock.sleeps == [2.5]
    delayed = emulator.requests[-1]
    assert (delayed.started, delayed.finished) == (100.0, 102.5)
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert clock.sleeps == [2.5]  # the fault was used once


def test_delay_and_status_combine(client, emulator, flex, monkeypatch):
    sleeps = []
    replace_real_time(monkeypatch, emulator, lambda: 0.0, sleeps.append)
    emulator.inject(Fault("GET", "/Workspaces/", delay=1.0, status=503))
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 503
    assert sleeps == [1.0]


def test_latency_delays_every_request_within_its_recorded_time(client, emulator, flex, clock):
    emulator.latency = 0.05
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert client.get(TASKROUTER, f"/v1/Workspaces/{'WS' + '0' * 32}")[0] == 404
    assert clock.sleeps == [0.05, 0.05]  # every request, answered or refused
    assert [(r.started, r.finished) for r in emulator.requests] == [(100.0, 100.05), (100.05, 100.1)]


def test_no_latency_by_default(client, emulator, flex, monkeypatch):
    sleeps = []
    replace_real_time(monkeypatch, emulator, lambda: 0.0, sleeps.append)
    assert emulator.latency == 0.0
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert sleeps == []


def test_latency_is_waited_outside_the_lock_so_concurrent_requests_overlap(client, emulator, flex, monkeypatch):
    served, waits = [], []

    def sleep(seconds):
        waits.append(seconds)
        if len(waits) == 1:  # while the first request waits, another one is served
            other = threading.Thread(
                target=lambda: served.append(client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0])
            )
            other.start()
            other.join(timeout=5)

    replace_real_time(monkeypatch, emulator, lambda: 0.0, sleep)
    emulator.latency = 30.0
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0] == 200
    assert (served, waits) == ([200], [30.0, 30.0])


# Faults after the handler: Twilio did the work, the client does not learn it -------------------------------


def test_a_fault_after_the_handler_drops_the_answer_of_work_done(client, emulator, flex):
    emulator.inject(Fault("POST", "/v1/Interactions", drop=True, after=True))
    with pytest.raises(DroppedConnection, match="https://flex-api.twilio.com/v1/Interactions"):
        client.post(FLEX, "/v1/Interactions", interaction_body(flex))
    (interaction,) = emulator.table("interactions").values()  # created all the same
    (task,) = emulator.table("tasks").values()
    assert interaction["routing"]["properties"]["sid"] == task["sid"]
    dropped = emulator.requests[-1]
    assert (dropped.status, dropped.response) == (None, None)  # the client got nothing
    assert dropped.withheld == (200, interaction)  # what Twilio would have answered
    assert dropped.operation == "POST /v1/Interactions"
    assert emulator.violations == []


def test_a_fault_after_the_handler_replaces_the_answer_with_its_error(client, emulator, flex):
    fault = emulator.inject(Fault("POST", "/v1/Interactions", status=504, code=20504, after=True))
    answer = client.post(FLEX, "/v1/Interactions", interaction_body(flex))
    assert answer == (504, error_body(504, 20504, "Injected fault 504"))
    (interaction,) = emulator.table("interactions").values()
    recorded = emulator.requests[-1]
    assert (recorded.status, recorded.response) == answer
    assert recorded.withheld == (200, interaction)
    assert fault.times == 0


def test_a_fault_after_the_handler_delays_the_answer_once_the_work_is_done(client, emulator, flex, monkeypatch):
    clock = SimpleNamespace(now=100.0, tasks_while_waiting=[])

    def sleep(seconds):
        clock.tasks_while_waiting.append(len(emulator.table("tasks")))
        clock.now += seconds

    replace_real_time(monkeypatch, emulator, lambda: clock.now, sleep)
    emulator.inject(Fault("POST", "/v1/Interactions", delay=30.0, after=True))
    status, interaction = client.post(FLEX, "/v1/Interactions", interaction_body(flex))
    assert status == 200
    assert clock.tasks_while_waiting == [1]  # the task existed while the client was still waiting
    delayed = emulator.requests[-1]
    assert (delayed.status, delayed.response, delayed.withheld) == (200, interaction, None)  # late, but delivered
    assert (delayed.started, delayed.finished) == (100.0, 130.0)


def test_a_delay_after_the_handler_does_not_hold_the_account(client, emulator, flex, monkeypatch):
    """While one answer is held back, other requests are served: the delay is outside the emulator's lock."""
    served = []

    def sleep(seconds):
        other = threading.Thread(
            target=lambda: served.append(client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")[0])
        )
        other.start()
        other.join(timeout=5)

    replace_real_time(monkeypatch, emulator, lambda: 0.0, sleep)
    emulator.inject(Fault("POST", "/v1/Interactions", delay=30.0, after=True))
    assert client.post(FLEX, "/v1/Interactions", interaction_body(flex))[0] == 200
    assert served == [200]


def test_a_fault_after_the_handler_counts_down_its_times(client, emulator, flex):
    fault = emulator.inject(Fault("POST", "/v1/Interactions", status=500, times=2, after=True))
    statuses = [client.post(FLEX, "/v1/Interactions", interaction_body(flex))[0] for _ in range(3)]
    assert statuses == [500, 500, 200]
    assert fault.times == 0
    assert len(emulator.table("tasks")) == 3  # every request did the work
    assert [r.withheld is not None for r in emulator.requests] == [True, True, False]


def test_a_fault_after_the_handler_strikes_a_refusal_too_but_not_a_rejected_request(client, emulator, flex, account):
    """The handler's own 400 is an answer like any other; a request refused before the handler uses nothing up."""
    fault = emulator.inject(Fault("POST", "/v1/Interactions", status=503, times=2, after=True))
    intruder = Client(emulator, basic(account.sid, "wrong-token-" + "0" * 20))
    assert intruder.post(FLEX, "/v1/Interactions", interaction_body(flex))[0] == 401
    assert fault.times == 2
    refused = client.post(FLEX, "/v1/Interactions", interaction_body(flex, channel_type="carrier-pigeon"))
    assert refused[0] == 503
    assert emulator.requests[-1].withheld[0] == 400
    assert fault.times == 1
    assert emulator.table("tasks") == {}


def test_faults_strike_before_the_handler_by_default(client, emulator, flex):
    fault = emulator.inject(Fault("POST", "/v1/Interactions", status=503))
    assert fault.after is False
    assert client.post(FLEX, "/v1/Interactions", interaction_body(flex))[0] == 503
    assert emulator.table("interactions") == {} and emulator.table("tasks") == {}
    assert emulator.requests[-1].withheld is None


# Recording -------------------------------------------------------------------------------------------------


def test_requests_are_recorded(client, emulator, flex, account):
    client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}/TaskChannels?PageSize=10")
    (recorded,) = emulator.requests
    assert isinstance(recorded, RecordedRequest)
    assert (recorded.method, recorded.host, recorded.path, recorded.query) == (
        "GET",
        TASKROUTER,
        f"/v1/Workspaces/{flex.workspace_sid}/TaskChannels",
        "PageSize=10",
    )
    assert recorded.operation == "GET /v1/Workspaces/{WorkspaceSid}/TaskChannels"
    assert recorded.status == 200
    assert [c["unique_name"] for c in recorded.response["channels"]] == ["default", "chat", "sms", "voice"]
    assert recorded.auth_user == account.sid
    assert recorded.finished >= recorded.started > 0


def test_calls_filters_by_host_method_and_operation(client, emulator, flex):
    client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    client.post(FLEX, "/v1/Interactions", interaction_body(flex))
    client.get(CONVERSATIONS, f"/v1/Services/{flex.service_sid}/Users/{flex.webchat_identity}")
    client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{flex.workflow_sid}")
    client.get(FLEX, "/v1/Nothing")

    assert [r.path for r in emulator.calls()] == [r.path for r in emulator.requests]
    assert len(emulator.calls()) == 5
    assert [r.path for r in emulator.calls(host=TASKROUTER)] == [
        f"/v1/Workspaces/{flex.workspace_sid}",
        f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{flex.workflow_sid}",
    ]
    assert [r.path for r in emulator.calls(method="POST")] == ["/v1/Interactions"]
    assert [r.host for r in emulator.calls(operation="GET /v1/Services/{ChatServiceSid}/Users/{Sid}")] == [
        CONVERSATIONS
    ]
    assert [r.path for r in emulator.calls(host=FLEX, method="GET")] == ["/v1/Nothing"]
    assert emulator.calls(host=FLEX, operation="GET /v1/Workspaces/{Sid}") == []
    assert emulator.calls(method="DELETE") == []


def resources(emulator: Emulator) -> dict[str, dict]:
    """The account's tables that hold anything, by name."""
    return {name: emulator.table(name) for name in DECLARED_TABLES if emulator.table(name)}


def test_reset_forgets_everything(client, emulator, flex):
    first_sids = (flex.workspace_sid, flex.workflow_sid)
    emulator.inject(Fault("GET", "/Workspaces/", status=500, times=None))
    client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    client.get(FLEX, "/v1/Nothing")
    assert emulator.requests and emulator.violations and emulator.faults and resources(emulator)

    emulator.reset()
    assert (emulator.requests, emulator.violations, emulator.faults, resources(emulator)) == ([], [], [], {})
    status, body = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}")
    assert (status, body["code"]) == (404, 20404)  # the workspace is gone; the fault too
    emulator.reset()
    again = seed_flex_account(emulator)
    assert (again.workspace_sid, again.workflow_sid) == first_sids  # SIDs start over


# SIDs ----------------------------------------------------------------------------------------------------------


def test_sids_are_deterministic(emulator):
    other = Emulator(SPEC_DIR, new_account())
    assert seed_flex_account(emulator) == seed_flex_account(other)
    assert [emulator.new_sid("WT") for _ in range(3)] == [other.new_sid("WT") for _ in range(3)]


def test_sids_have_twilios_shape_and_are_distinct(emulator, flex):
    sids = [emulator.new_sid("WT") for _ in range(50)]
    assert all(re.fullmatch(r"WT[0-9a-f]{32}", sid) for sid in sids)
    assert len(set(sids)) == 50
    assert re.fullmatch(r"WS[0-9a-f]{32}", flex.workspace_sid)
    assert re.fullmatch(r"WW[0-9a-f]{32}", flex.workflow_sid)
    assert re.fullmatch(r"IS[0-9a-f]{32}", flex.service_sid)
    assert re.fullmatch(r"CH[0-9a-f]{32}", flex.conversation_sid)
    assert flex.session_id == f"webhook:conversations__{flex.service_sid}/{flex.conversation_sid}"


# Flex Interactions ---------------------------------------------------------------------------------------------


def test_interaction_creates_a_task_with_routing_attributes_and_flexs_keys(client, emulator, flex, account):
    routing_attributes = {"customerName": "Ada", "handoff": {"reason": "refund", "summary": "wants a refund"}}
    status, interaction = client.post(FLEX, "/v1/Interactions", interaction_body(flex, attributes=routing_attributes))
    assert status == 200
    assert re.fullmatch(r"KD[0-9a-f]{32}", interaction["sid"])
    assert interaction["channel"]["type"] == "web"
    channel_sid = interaction["channel"]["sid"]
    assert re.fullmatch(r"UO[0-9a-f]{32}", channel_sid)
    assert interaction["url"] == f"https://flex-api.twilio.com/v1/Interactions/{interaction['sid']}"

    (task,) = emulator.table("tasks").values()
    chat = taskrouter.task_channel_named(emulator, flex.workspace_sid, "chat")
    properties = interaction["routing"]["properties"]
    assert properties["sid"] == task["sid"]
    assert (task["workspace_sid"], task["workflow_sid"]) == (flex.workspace_sid, flex.workflow_sid)
    assert (task["task_channel_unique_name"], task["task_channel_sid"]) == ("chat", chat["sid"])
    assert task["assignment_status"] == "pending"
    assert task["account_sid"] == account.sid
    assert properties["attributes"] == task["attributes"]
    assert json.loads(task["attributes"]) == {
        **routing_attributes,
        "conversationSid": flex.conversation_sid,
        "channelType": "web",
        "initiatedBy": "customer",
        "direction": "inbound",
        "flexInteractionSid": interaction["sid"],
        "flexInteractionChannelSid": channel_sid,
        "conversations": {
            "initiated_by": "customer",
            "conversation_id": interaction["sid"],
            "media": [{"type": "ChatTranscript", "sid": flex.conversation_sid}],
        },
    }

    # TaskRouter answers for the task, and Flex for the interaction.
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}/Tasks/{task['sid']}") == (200, task)
    assert client.get(FLEX, f"/v1/Interactions/{interaction['sid']}") == (200, interaction)
    assert emulator.violations == []


def test_interaction_without_task_channel_uses_default(client, emulator, flex):
    status, interaction = client.post(FLEX, "/v1/Interactions", interaction_body(flex, task_channel=None))
    assert status == 200
    assert interaction["routing"]["properties"]["task_channel_unique_name"] == "default"


def test_interaction_on_another_conversation(client, emulator, flex):
    other = add_conversation(emulator, flex, "Second customer")
    status, interaction = client.post(FLEX, "/v1/Interactions", interaction_body(flex, conversation_sid=other))
    assert status == 200
    assert json.loads(interaction["routing"]["properties"]["attributes"])["conversationSid"] == other


def _workspace_and_workflow(emulator) -> tuple[str, str]:
    workspace = taskrouter.add_workspace(emulator, "Another workspace")
    workflow = taskrouter.add_workflow(emulator, workspace["sid"], "Elsewhere")
    return workspace["sid"], workflow["sid"]


@pytest.mark.parametrize(
    "case",
    [
        "channel-type",
        "initiated-by",
        "conversation",
        "workspace",
        "foreign-workflow",
        "unknown-workflow",
        "task-channel",
        "channel-not-object",
        "routing-missing",
        "attributes-not-object",
    ],
)
def test_interaction_errors_are_400(client, emulator, flex, case):
    unknown_conversation, unknown_workspace = "CH" + "0" * 32, "WS" + "0" * 32
    if case == "channel-type":
        body = interaction_body(flex, channel_type="carrier-pigeon")
        message = (
            "Invalid channel type 'carrier-pigeon'; "
            "expected one of chat, email, gbm, messenger, sms, voice, web, whatsapp"
        )
    elif case == "initiated-by":
        body = interaction_body(flex, initiated_by="robot")
        message = "Invalid initiated_by 'robot'"
    elif case == "conversation":
        body = interaction_body(flex, conversation_sid=unknown_conversation)
        message = f"Invalid media_channel_sid: conversation {unknown_conversation} not found"
    elif case == "workspace":
        body = interaction_body(flex, workspace_sid=unknown_workspace)
        message = f"Invalid workspace_sid: workspace {unknown_workspace} not found"
    elif case == "foreign-workflow":
        _, foreign_workflow = _workspace_and_workflow(emulator)
        body = interaction_body(flex, workflow_sid=foreign_workflow)
        message = f"Invalid workflow_sid: workflow {foreign_workflow} not found in workspace {flex.workspace_sid}"
    elif case == "unknown-workflow":
        body = interaction_body(flex, workflow_sid="WW" + "0" * 32)
        message = f"Invalid workflow_sid: workflow {'WW' + '0' * 32} not found in workspace {flex.workspace_sid}"
    elif case == "task-channel":
        body = interaction_body(flex, task_channel="fax")
        message = f"Invalid task_channel_unique_name: no task channel 'fax' in workspace {flex.workspace_sid}"
    elif case == "channel-not-object":
        body = {**interaction_body(flex), "Channel": '"web"'}
        message = "Channel must be a JSON object"
    elif case == "routing-missing":
        body = {"Channel": interaction_body(flex)["Channel"]}
        message = "Routing.properties must be a JSON object"
    else:
        body = interaction_body(flex, attributes=["not", "an", "object"])
        message = "Routing.properties.attributes must be a JSON object"
    tasks_before = dict(emulator.table("tasks"))

    status, answer = client.post(FLEX, "/v1/Interactions", body)

    assert (status, answer) == (400, error_body(400, 20001, message))
    assert emulator.table("tasks") == tasks_before
    assert emulator.table("interactions") == {}
    assert emulator.violations == []  # Flex's own refusal, not a breach of the description
    assert emulator.requests[-1].status == 400


def test_a_workflow_of_another_workspace_is_fine_in_its_own_workspace(client, emulator, flex):
    workspace_sid, workflow_sid = _workspace_and_workflow(emulator)
    taskrouter.add_task_channel(emulator, workspace_sid, "chat")
    status, interaction = client.post(
        FLEX, "/v1/Interactions", interaction_body(flex, workspace_sid=workspace_sid, workflow_sid=workflow_sid)
    )
    assert status == 200
    assert interaction["routing"]["properties"]["workspace_sid"] == workspace_sid


def test_unknown_interaction_is_404(client, flex):
    sid = "KD" + "0" * 32
    assert client.get(FLEX, f"/v1/Interactions/{sid}") == (
        404,
        error_body(404, 20404, f"The requested resource /v1/Interactions/{sid} was not found"),
    )


# Conversations ----------------------------------------------------------------------------------------------


def _user(emulator, identity):
    return next(u for u in emulator.table("conversation_users").values() if u["identity"] == identity)


def test_user_fetch_by_sid(client, emulator, flex):
    user = _user(emulator, flex.webchat_identity)
    status, body = client.get(CONVERSATIONS, f"/v1/Services/{flex.service_sid}/Users/{user['sid']}")
    assert status == 200
    assert body == user
    assert (body["identity"], body["friendly_name"]) == (flex.webchat_identity, "Ada Lovelace")


def test_user_fetch_by_identity(client, emulator, flex):
    status, body = client.get(CONVERSATIONS, f"/v1/Services/{flex.service_sid}/Users/{flex.webchat_identity}")
    assert status == 200
    assert body["sid"] == _user(emulator, flex.webchat_identity)["sid"]
    assert body["friendly_name"] == flex.webchat_name


def test_unknown_user_is_404(client, flex):
    target = f"/v1/Services/{flex.service_sid}/Users/nobody"
    assert client.get(CONVERSATIONS, target) == (
        404,
        error_body(404, 20404, f"The requested resource {target} was not found"),
    )


def test_user_of_another_service_is_404(client, emulator, flex):
    other_service = conversations.add_service(emulator, "Other service")
    status, body = client.get(CONVERSATIONS, f"/v1/Services/{other_service}/Users/{flex.webchat_identity}")
    assert (status, body["code"]) == (404, 20404)


def test_conversation_fetch_and_404(client, emulator, flex):
    status, body = client.get(CONVERSATIONS, f"/v1/Services/{flex.service_sid}/Conversations/{flex.conversation_sid}")
    assert status == 200
    assert body["sid"] == flex.conversation_sid and body["chat_service_sid"] == flex.service_sid
    other_service = conversations.add_service(emulator, "Other service")
    status, body = client.get(CONVERSATIONS, f"/v1/Services/{other_service}/Conversations/{flex.conversation_sid}")
    assert (status, body["code"]) == (404, 20404)


# TaskRouter --------------------------------------------------------------------------------------------------


def test_unknown_workspace_is_404(client):
    assert client.get(TASKROUTER, f"/v1/Workspaces/{'WS' + '0' * 32}")[0] == 404
    assert client.get(TASKROUTER, f"/v1/Workspaces/{'WS' + '0' * 32}/TaskChannels")[0] == 404


def test_workflow_of_another_workspace_is_404(client, emulator, flex):
    other_workspace, _ = _workspace_and_workflow(emulator)
    assert client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}/Workflows/{flex.workflow_sid}")[0] == 200
    status, body = client.get(TASKROUTER, f"/v1/Workspaces/{other_workspace}/Workflows/{flex.workflow_sid}")
    assert (status, body["code"]) == (404, 20404)


def test_task_channels_are_listed_per_workspace(client, emulator, flex):
    other_workspace, _ = _workspace_and_workflow(emulator)
    taskrouter.add_task_channel(emulator, other_workspace, "email")
    status, body = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}/TaskChannels")
    assert status == 200
    assert [c["unique_name"] for c in body["channels"]] == ["default", "chat", "sms", "voice"]
    assert body["meta"]["key"] == "channels"
    assert body["meta"]["page_size"] == 50
    status, body = client.get(TASKROUTER, f"/v1/Workspaces/{other_workspace}/TaskChannels")
    assert [c["unique_name"] for c in body["channels"]] == ["email"]


# Bugs found while writing these tests ----------------------------------------------------------------------


def test_a_channel_type_that_is_not_a_string_is_answered_400(client, emulator, flex):
    """BUG: `Channel` is untyped in the description, so any JSON passes the spec check; flex.py then does
    `channel.get("type") not in CHANNEL_TYPES`, which raises TypeError (unhashable list) out of
    `Emulator.handle` instead of answering Twilio's 400. Through the proxy the client sees a dropped connection.
    The same happens for a list/object media_channel_sid, workspace_sid or workflow_sid (`in dict`/`.get`).
    """
    body = {**interaction_body(flex), "Channel": json.dumps({"type": ["web"], "initiated_by": "customer"})}
    status, answer = client.post(FLEX, "/v1/Interactions", body)
    assert (status, answer["code"]) == (400, 20001)


def test_a_list_page_smaller_than_the_list_links_to_the_next_page(client, flex):
    """BUG: page() (responses.py) cuts the list to PageSize but always answers next_page_url None, so a client that
    pages (the SDK's `task_channels.list(page_size=2)`) silently gets 2 of the workspace's 4 task channels.
    """
    status, body = client.get(TASKROUTER, f"/v1/Workspaces/{flex.workspace_sid}/TaskChannels?PageSize=2")
    assert status == 200
    assert len(body["channels"]) == 4 or body["meta"]["next_page_url"] is not None


def test_a_percent_encoded_identity_is_decoded(client, emulator, flex):
    """BUG: the path is matched and its parameters are used without percent-decoding. The Twilio SDK (through
    requests) sends users('ada lovelace') as /Users/ada%20lovelace; Twilio decodes it, the emulator answers 404.
    """
    conversations.add_user(emulator, flex.service_sid, "ada lovelace", "Ada")
    status, body = client.get(CONVERSATIONS, f"/v1/Services/{flex.service_sid}/Users/ada%20lovelace")
    assert status == 200
    assert body["identity"] == "ada lovelace"
