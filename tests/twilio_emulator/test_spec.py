"""Unit tests of twilio_emulator.spec: finding operations in twilio-oai and checking requests and responses."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from twilio_emulator import SPEC_PACKAGE_PATH, SpecNotFound, spec_directory
from twilio_emulator.spec import Spec, SpecDocument

PROJECT_DIR = Path(__file__).resolve().parents[2]
FORM = "application/x-www-form-urlencoded"

SERVICE_SID = "IS" + "a" * 32
CONVERSATION_SID = "CH" + "b" * 32
WORKSPACE_SID = "WS" + "c" * 32
FLOW_SID = "FW" + "d" * 32


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec(spec_directory(PROJECT_DIR))


def form(pairs) -> bytes:
    """A form body; `pairs` is a dict or a list of (key, value), so that a key can repeat."""
    return urlencode(pairs).encode()


# Locating the description ------------------------------------------------------------------------


def test_spec_directory_is_the_cache_make_install_fills(monkeypatch):
    monkeypatch.delenv("TWILIO_EMULATOR_OPENAPI_DIR", raising=False)
    assert spec_directory(PROJECT_DIR) == PROJECT_DIR / ".cache/twilio-oai/cli-core-9.0.0"
    assert SPEC_PACKAGE_PATH == Path(".cache/twilio-oai/cli-core-9.0.0")


def test_spec_directory_follows_handover_openapi_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TWILIO_EMULATOR_OPENAPI_DIR", str(tmp_path))
    assert spec_directory(PROJECT_DIR) == tmp_path


def test_a_directory_without_the_description_raises_spec_not_found_saying_what_to_do(tmp_path):
    with pytest.raises(SpecNotFound) as raised:
        Spec(tmp_path)
    assert str(raised.value) == (
        f"Twilio's OpenAPI description was not found in {tmp_path}. Run `twilio-emulator fetch-openapi` (in this "
        "project: `make install`): it fetches the twilio-oai files of the pinned @twilio/cli-core into "
        ".cache/twilio-oai/cli-core-9.0.0 of the folder it runs in. Or point TWILIO_EMULATOR_OPENAPI_DIR (the "
        "command's --openapi-dir) at a folder of twilio_*.json files."
    )


# Finding the operation ---------------------------------------------------------------------------


def test_literal_segment_beats_parameter(spec):
    # twilio_studio_v2.json lists /v2/Flows/{Sid} before /v2/Flows/Validate: order alone would pick the parameter.
    operation = spec.find("POST", "studio.twilio.com", "/v2/Flows/Validate")
    assert operation is not None
    assert operation.path_template == "/v2/Flows/Validate"
    assert operation.path_parameters == {}
    assert operation.definition["requestBody"]["content"][FORM]["schema"]["title"] == "UpdateFlowValidateRequest"


def test_parameter_segment_matches_any_other_value(spec):
    operation = spec.find("POST", "studio.twilio.com", f"/v2/Flows/{FLOW_SID}")
    assert operation is not None
    assert operation.path_template == "/v2/Flows/{Sid}"
    assert operation.path_parameters == {"Sid": FLOW_SID}
    assert operation.method == "POST"


def test_path_parameters_are_taken_from_the_path(spec):
    operation = spec.find("get", "conversations.twilio.com", f"/v1/Services/{SERVICE_SID}/Users/alice")
    assert operation is not None
    assert operation.method == "GET"
    assert operation.path_template == "/v1/Services/{ChatServiceSid}/Users/{Sid}"
    assert operation.path_parameters == {"ChatServiceSid": SERVICE_SID, "Sid": "alice"}


def test_host_and_version_choose_the_document(spec):
    flex = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    assert flex is not None and flex.document.path.name == "twilio_flex_v1.json"
    taskrouter = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert taskrouter is not None and taskrouter.document.path.name == "twilio_taskrouter_v1.json"
    core_api = spec.find("GET", "api.twilio.com", "/2010-04-01/Accounts/" + "AC" + "e" * 32 + ".json")
    assert core_api is not None and core_api.document.path.name == "twilio_api_v2010.json"
    assert core_api.path_template == "/2010-04-01/Accounts/{Sid}.json"


def test_unknown_path_is_none(spec):
    assert spec.find("GET", "flex-api.twilio.com", "/v1/NoSuchResource") is None
    assert spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}/extra/segments/here") is None


def test_unknown_host_is_none(spec):
    assert spec.find("GET", "nosuchproduct.twilio.com", "/v1/Interactions") is None


def test_unknown_version_is_none(spec):
    assert spec.find("POST", "flex-api.twilio.com", "/v9/Interactions") is None


def test_method_not_described_for_the_path_is_none(spec):
    assert spec.find("DELETE", "flex-api.twilio.com", "/v1/Interactions") is None
    assert spec.find("GET", "studio.twilio.com", "/v2/Flows/Validate") is None


# Form decoding -----------------------------------------------------------------------------------


def test_untyped_form_parameters_are_json_text(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    channel = {"type": "web", "initiated_by": "customer", "properties": {"media_channel_sid": CONVERSATION_SID}}
    decoded, errors = operation.check_request("", form({"Channel": json.dumps(channel), "Routing": "{}"}), FORM)
    assert errors == []
    assert decoded == {"Channel": channel, "Routing": {}}


def test_untyped_form_parameter_that_is_not_json_is_an_error(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    decoded, errors = operation.check_request("", form({"Channel": "{not json"}), FORM)
    assert errors == ["body Channel: expected JSON text (Twilio encodes objects in form bodies as JSON)"]
    assert decoded == {}


def test_integers_booleans_and_repeated_keys_are_decoded(spec):
    operation = spec.find("POST", "conversations.twilio.com", "/v1/Configuration/Addresses")
    body = form(
        [
            ("Type", "sms"),
            ("Address", "+15550100"),
            ("AutoCreation.Enabled", "true"),
            ("AutoCreation.StudioRetryCount", "3"),
            ("AutoCreation.WebhookFilters", "onMessageAdded"),
            ("AutoCreation.WebhookFilters", "onMessageUpdated"),
        ]
    )
    decoded, errors = operation.check_request("", body, FORM)
    assert errors == []
    assert decoded == {
        "Type": "sms",
        "Address": "+15550100",
        "AutoCreation.Enabled": True,
        "AutoCreation.StudioRetryCount": 3,
        "AutoCreation.WebhookFilters": ["onMessageAdded", "onMessageUpdated"],
    }


def test_false_negative_integers_and_single_array_items_are_decoded(spec):
    operation = spec.find("POST", "conversations.twilio.com", "/v1/Configuration/Addresses")
    body = form(
        [
            ("Type", "sms"),
            ("Address", "+15550100"),
            ("AutoCreation.Enabled", "false"),
            ("AutoCreation.StudioRetryCount", "-2"),
            ("AutoCreation.WebhookFilters", "onMessageAdded"),
        ]
    )
    decoded, errors = operation.check_request("", body, FORM)
    assert errors == []
    assert decoded["AutoCreation.Enabled"] is False
    assert decoded["AutoCreation.StudioRetryCount"] == -2
    assert decoded["AutoCreation.WebhookFilters"] == ["onMessageAdded"]


def test_badly_typed_integer_and_boolean_are_errors(spec):
    operation = spec.find("POST", "conversations.twilio.com", "/v1/Configuration/Addresses")
    body = form(
        {"Type": "sms", "Address": "+15550100", "AutoCreation.Enabled": "True", "AutoCreation.StudioRetryCount": "3.5"}
    )
    decoded, errors = operation.check_request("", body, FORM)
    assert errors == [
        "body AutoCreation.Enabled: expected true or false, got 'True'",
        "body AutoCreation.StudioRetryCount: expected an integer, got '3.5'",
    ]
    assert "AutoCreation.Enabled" not in decoded and "AutoCreation.StudioRetryCount" not in decoded


def test_a_parameter_given_twice_is_an_error(spec):
    operation = spec.find("POST", "conversations.twilio.com", "/v1/Configuration/Addresses")
    decoded, errors = operation.check_request("", form([("Type", "sms"), ("Address", "a"), ("Address", "b")]), FORM)
    assert errors == ["body Address: given 2 times, expected once"]
    assert "Address" not in decoded


@pytest.mark.parametrize(
    ("schema", "values", "expected"),
    [
        ({"type": "string"}, ["42"], ("42", None)),
        ({"type": "integer"}, ["42"], (42, None)),
        ({"type": "integer"}, ["4x"], (None, "expected an integer, got '4x'")),
        ({"type": "number"}, ["2.5"], (2.5, None)),
        ({"type": "number"}, ["two"], (None, "expected a number, got 'two'")),
        ({"type": "boolean"}, ["true"], (True, None)),
        ({"type": "boolean"}, ["false"], (False, None)),
        ({"type": "boolean"}, ["yes"], (None, "expected true or false, got 'yes'")),
        ({"type": "object"}, ['{"a": [1]}'], ({"a": [1]}, None)),
        ({"type": "object"}, ["a=1"], (None, "expected JSON text (Twilio encodes objects in form bodies as JSON)")),
        ({}, ["[1, 2]"], ([1, 2], None)),
        ({"type": "array", "items": {"type": "integer"}}, ["1", "2"], ([1, 2], None)),
        ({"type": "array", "items": {"type": "integer"}}, ["1", "x"], ([1, None], "expected an integer, got 'x'")),
        ({"type": "string"}, ["a", "b"], (None, "given 2 times, expected once")),
    ],
)
def test_decode_form_value_by_schema(spec, schema, values, expected):
    document = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions").document
    assert document.decode_form_value(schema, values) == expected


def test_decode_form_value_follows_references(spec):
    document = spec.find("POST", "conversations.twilio.com", "/v1/Configuration/Addresses").document
    assert isinstance(document, SpecDocument)
    # An enum of strings behind a $ref: a string, not JSON text.
    assert document.decode_form_value({"$ref": "#/components/schemas/configuration_address_enum_type"}, ["sms"]) == (
        "sms",
        None,
    )


def test_a_body_that_is_not_form_encoded_is_an_error(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    decoded, errors = operation.check_request("", b"Channel", FORM)
    assert decoded == {}
    assert errors == ["body is not form-encoded: bad query field: 'Channel'"]


def test_a_form_content_type_with_charset_is_accepted(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    decoded, errors = operation.check_request("", form({"Channel": "{}"}), FORM + "; charset=utf-8")
    assert errors == []
    assert decoded == {"Channel": {}}


# Required fields, patterns, enums and unknown parameters -----------------------------------------


def test_a_missing_required_field_is_an_error(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    decoded, errors = operation.check_request("", form({"Routing": "{}"}), FORM)
    assert errors == ["body: 'Channel' is a required property"]
    assert decoded == {"Routing": {}}


def test_an_empty_body_misses_every_required_field(spec):
    operation = spec.find("POST", "studio.twilio.com", "/v2/Flows/Validate")
    _, errors = operation.check_request("", b"", FORM)
    assert sorted(errors) == [
        "body: 'Definition' is a required property",
        "body: 'FriendlyName' is a required property",
        "body: 'Status' is a required property",
    ]


def test_a_path_parameter_that_breaks_its_pattern_is_an_error(spec):
    operation = spec.find("GET", "conversations.twilio.com", "/v1/Services/IS123/Users/alice")
    assert operation is not None
    _, errors = operation.check_request("", b"", "")
    assert errors == [
        "path ChatServiceSid: 'IS123' is too short",
        "path ChatServiceSid: 'IS123' does not match '^IS[0-9a-fA-F]{32}$'",
    ]


def test_a_well_formed_path_parameter_passes(spec):
    operation = spec.find("GET", "conversations.twilio.com", f"/v1/Services/{SERVICE_SID}/Users/alice")
    assert operation.check_request("", b"", "") == ({}, [])


def test_a_body_field_that_breaks_its_pattern_is_an_error(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    _, errors = operation.check_request("", form({"Channel": "{}", "InteractionContextSid": "HQ1"}), FORM)
    assert errors == [
        "body.InteractionContextSid: 'HQ1' is too short",
        "body.InteractionContextSid: 'HQ1' does not match '^HQ[0-9a-fA-F]{32}$'",
    ]


def test_a_value_outside_a_referenced_enum_is_an_error(spec):
    operation = spec.find(
        "POST", "conversations.twilio.com", f"/v1/Services/{SERVICE_SID}/Conversations/{CONVERSATION_SID}"
    )
    decoded, errors = operation.check_request("", form({"State": "bogus"}), FORM)
    assert errors == ["body.State: 'bogus' is not one of ['inactive', 'active', 'closed', 'initializing']"]
    assert decoded == {"State": "bogus"}


def test_a_value_inside_a_referenced_enum_passes(spec):
    operation = spec.find(
        "POST", "conversations.twilio.com", f"/v1/Services/{SERVICE_SID}/Conversations/{CONVERSATION_SID}"
    )
    assert operation.check_request("", form({"State": "closed"}), FORM) == ({"State": "closed"}, [])


def test_path_and_body_errors_are_reported_together(spec):
    operation = spec.find("POST", "conversations.twilio.com", f"/v1/Services/IS123/Conversations/{CONVERSATION_SID}")
    _, errors = operation.check_request("", form({"State": "bogus"}), FORM)
    assert errors == [
        "path ChatServiceSid: 'IS123' is too short",
        "path ChatServiceSid: 'IS123' does not match '^IS[0-9a-fA-F]{32}$'",
        "body.State: 'bogus' is not one of ['inactive', 'active', 'closed', 'initializing']",
    ]


def test_an_unknown_body_parameter_is_reported(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    decoded, errors = operation.check_request("", form({"Channel": "{}", "Chanel": "{}"}), FORM)
    assert errors == ["body parameter 'Chanel' is not in the description"]
    assert decoded == {"Channel": {}}


def test_an_unknown_query_parameter_is_reported(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}/TaskChannels")
    _, errors = operation.check_request("PageSize=5&Foo=1", b"", "")
    assert errors == ["query parameter 'Foo' is not in the description"]


def test_query_parameters_are_decoded_and_checked_by_schema(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}/TaskChannels")
    assert operation.check_request("PageSize=5&Page=0&PageToken=PT1", b"", "") == ({}, [])
    assert operation.check_request("PageSize=abc", b"", "")[1] == ["query PageSize: expected an integer, got 'abc'"]
    assert operation.check_request("PageSize=0", b"", "")[1] == ["query PageSize: 0 is less than the minimum of 1"]
    assert operation.check_request("PageSize=5&PageSize=6", b"", "")[1] == [
        "query PageSize: given 2 times, expected once"
    ]


def test_a_body_on_an_operation_without_one_is_an_error(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    _, errors = operation.check_request("", b"FriendlyName=x", FORM)
    assert errors == ["a GET to this endpoint takes no body"]


# Content types and JSON bodies ---------------------------------------------------------------------


def test_json_sent_to_a_form_endpoint_is_the_wrong_content_type(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    decoded, errors = operation.check_request("", b'{"Channel": {}}', "application/json")
    assert decoded == {}
    assert errors == ["body is application/json, the description expects application/x-www-form-urlencoded"]


def test_an_untyped_body_is_the_wrong_content_type(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Interactions")
    _, errors = operation.check_request("", b"Channel=%7B%7D", "")
    assert errors == ["body is untyped, the description expects application/x-www-form-urlencoded"]


def test_a_form_sent_to_a_json_endpoint_is_the_wrong_content_type(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Configuration")
    _, errors = operation.check_request("", b"a=1", FORM)
    assert errors == ["body is application/x-www-form-urlencoded, the description expects application/json"]


def test_a_json_body_is_decoded(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Configuration")
    assert operation.check_request("", b'{"ui_attributes": {"a": 1}}', "application/json") == (
        {"ui_attributes": {"a": 1}},
        [],
    )


def test_an_empty_optional_json_body_is_accepted(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Configuration")
    assert operation.check_request("", b"", "") == ({}, [])
    assert operation.check_request("", b"", "application/json") == ({}, [])


def test_invalid_json_body_is_an_error(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Configuration")
    decoded, errors = operation.check_request("", b'{"a": ', "application/json")
    assert decoded == {}
    assert errors == ["body is not valid JSON: Expecting value: line 1 column 7 (char 6)"]


def test_a_json_body_of_the_wrong_type_is_an_error(spec):
    operation = spec.find("POST", "flex-api.twilio.com", "/v1/Configuration")
    decoded, errors = operation.check_request("", b"[1, 2]", "application/json")
    assert decoded == [1, 2]
    assert errors == ["body: [1, 2] is not of type 'object'"]


# Responses -----------------------------------------------------------------------------------------


def _workspace(sid: str) -> dict:
    return {
        "account_sid": "AC" + "f" * 32,
        "friendly_name": "Flex Task Assignment",
        "sid": sid,
        "url": f"https://taskrouter.twilio.com/v1/Workspaces/{sid}",
        "multi_task_enabled": True,
        "prioritize_queue_order": "FIFO",
    }


def test_a_response_that_matches_its_description_passes(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert operation.check_response(200, _workspace(WORKSPACE_SID)) == []


def test_a_response_whose_sid_breaks_its_pattern_is_reported(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert operation.check_response(200, _workspace("WS" + "z" * 32)) == [
        f"response.sid: '{'WS' + 'z' * 32}' does not match '^WS[0-9a-fA-F]{{32}}$'"
    ]
    assert operation.check_response(200, _workspace("WSbad")) == [
        "response.sid: 'WSbad' is too short",
        "response.sid: 'WSbad' does not match '^WS[0-9a-fA-F]{32}$'",
    ]


def test_a_response_breaking_a_referenced_enum_is_reported(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    body = {**_workspace(WORKSPACE_SID), "prioritize_queue_order": "RANDOM"}
    assert operation.check_response(200, body) == [
        "response.prioritize_queue_order: 'RANDOM' is not one of ['FIFO', 'LIFO']"
    ]


def test_an_undescribed_success_status_is_reported(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert operation.check_response(201, _workspace(WORKSPACE_SID)) == ["status 201 is not a described response (200)"]


def test_an_undescribed_error_status_is_not_reported(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert operation.check_response(404, {"code": 20404}) == []


def test_a_body_on_a_bodiless_response_is_reported(spec):
    operation = spec.find("DELETE", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert operation.check_response(204, None) == []
    assert operation.check_response(204, {"sid": WORKSPACE_SID}) == ["status 204 is described without a body"]


# Bugs found while writing these tests ---------------------------------------------------------------


def test_integer_path_parameter_is_decoded_before_checking(spec):
    """BUG: path parameters are checked as raw strings, so a described integer never validates.

    twilio_events_v1.json describes SchemaVersion in /v1/Schemas/{Id}/Versions/{SchemaVersion} as an
    integer; `check_request` reports "path SchemaVersion: '1' is not of type 'integer'" for every request.
    Query parameters go through `decode_form_value`; path parameters do not.
    """
    operation = spec.find("GET", "events.twilio.com", "/v1/Schemas/com.twilio.messaging.message.delivered/Versions/1")
    assert operation is not None and operation.path_template == "/v1/Schemas/{Id}/Versions/{SchemaVersion}"
    assert operation.check_request("", b"", "") == ({}, [])


# @twilio/cli-core's folder: several documents a host, .js files beside them --------------------------------

CONFIGURATION_ID = "conv_configuration_01k1etk2y5f1y9fpe2epfdtvv2"


def test_a_host_is_served_by_every_document_its_servers_name(spec):
    names = [document.path.name for document in spec.documents_for("flex-api.twilio.com")]
    assert names == ["twilio_flex-api_v1.json", "twilio_flex_v1.json", "twilio_flex_v2.json"]
    assert spec.find("POST", "flex-api.twilio.com", "/v1/Interactions").document.path.name == "twilio_flex_v1.json"
    assert spec.find("POST", "flex-api.twilio.com", "/v2/WebChats").document.path.name == "twilio_flex_v2.json"


def test_a_path_described_without_methods_has_no_operation(spec):
    # twilio_flex-api_v1.json lists /v1/FlexInsights/Query with its servers and no method.
    assert spec.document_for("flex-api.twilio.com", "/v1/FlexInsights/Query").path.name == "twilio_flex-api_v1.json"
    assert spec.find("GET", "flex-api.twilio.com", "/v1/FlexInsights/Query") is None
    assert spec.find("POST", "flex-api.twilio.com", "/v1/FlexInsights/Query") is None


def test_conversations_v1_and_v2_share_a_host(spec):
    assert spec.find("GET", "conversations.twilio.com", "/v1/Configuration/Addresses").document.path.name == (
        "twilio_conversations_v1.json"
    )
    operation = spec.find("PATCH", "conversations.twilio.com", f"/v2/ControlPlane/Configurations/{CONFIGURATION_ID}")
    assert operation.document.path.name == "twilio_conversations_v2.json"
    assert operation.path_template == "/v2/ControlPlane/Configurations/{id}"
    assert operation.path_parameters == {"id": CONFIGURATION_ID}


def test_files_other_than_the_json_descriptions_are_ignored(tmp_path):
    for name in ("twilio_flex_v1.json", "twilio_flex-api_v1.json"):
        (tmp_path / name).write_text((spec_directory(PROJECT_DIR) / name).read_text())
    (tmp_path / "index.js").write_text("module.exports = require('./api-browser');")
    (tmp_path / "manifest.json").write_text("{}")
    loaded = Spec(tmp_path)
    assert [document.path.name for document in loaded.documents_for("flex-api.twilio.com")] == [
        "twilio_flex-api_v1.json",
        "twilio_flex_v1.json",
    ]
    assert loaded.documents_for("taskrouter.twilio.com") == ()


def test_documents_are_parsed_once_per_folder(spec):
    again = Spec(spec_directory(PROJECT_DIR))
    assert again.documents_for("studio.twilio.com")[0] is spec.documents_for("studio.twilio.com")[0]


# Header parameters ------------------------------------------------------------------------------------------

IDEMPOTENCY_KEY = "01890a5d-aa0f-7c80-b8e6-0242ac140004"


def test_a_described_header_is_checked_by_its_schema(spec):
    operation = spec.find("PATCH", "conversations.twilio.com", f"/v2/ControlPlane/Configurations/{CONFIGURATION_ID}")
    body = b'{"description": "Bridged"}'
    assert operation.check_request("", body, "application/json", {"Idempotency-Key": IDEMPOTENCY_KEY})[1] == []
    assert operation.check_request("", body, "application/json", {"idempotency-key": IDEMPOTENCY_KEY})[1] == []
    assert operation.check_request("", body, "application/json")[1] == []  # not required
    _, errors = operation.check_request("", body, "application/json", {"Idempotency-Key": "again-please"})
    assert errors == [
        "header Idempotency-Key: 'again-please' does not match "
        "'^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'"
    ]


def test_headers_the_operation_does_not_describe_are_not_checked(spec):
    operation = spec.find("GET", "taskrouter.twilio.com", f"/v1/Workspaces/{WORKSPACE_SID}")
    assert operation.check_request("", b"", "", {"User-Agent": "twilio-python/9.13.0", "X-Anything": "1"}) == ({}, [])


# Described error answers ------------------------------------------------------------------------------------


def test_a_described_error_answer_is_checked_through_its_reference(spec):
    operation = spec.find("GET", "conversations.twilio.com", f"/v2/ControlPlane/Configurations/{CONFIGURATION_ID}")
    assert operation.definition["responses"]["404"] == {"$ref": "#/components/responses/NotFound"}
    error = {"code": 20404, "message": "not found", "more_info": "https://www.twilio.com/docs/errors/20404"}
    error["status"] = 404
    assert operation.check_response(404, error) == []
    mistyped = operation.check_response(404, {**error, "code": "20404"})
    assert mistyped == ["response.code: '20404' is not of type 'integer'"]


def test_intelligence_describes_its_own_error_shape(spec):
    path = "/v3/ControlPlane/Configurations/intelligence_configuration_01k6fc25s7epm9qtk8rszbv3q5"
    operation = spec.find("GET", "intelligence.twilio.com", path)
    classic = {"code": 20404, "message": "not found", "more_info": "https://www.twilio.com/docs/errors/20404"}
    classic["status"] = 404
    assert operation.check_response(404, classic) == ["response: 'httpStatusCode' is a required property"]
    assert operation.check_response(404, {"code": 20404, "message": "not found", "httpStatusCode": 404}) == []
