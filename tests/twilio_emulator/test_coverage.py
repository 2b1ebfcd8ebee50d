"""What the emulator serves of Twilio's OpenAPI description, per product, from the real description in .cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from twilio_emulator import CoveredOperation, ProductCoverage, coverage_by_product, spec_directory
from twilio_emulator.routes import ROUTES
from twilio_emulator.spec import Spec

PROJECT_DIR = Path(__file__).resolve().parents[2]
# The products the emulator registers routes for: the kit's.
USED = {
    "api",
    "assistants",
    "conversations",
    "flex-api",
    "iam",
    "intelligence",
    "serverless",
    "serverless-upload",
    "studio",
    "sync",
    "taskrouter",
}


@pytest.fixture(scope="module")
def products() -> dict[str, ProductCoverage]:
    return {product.product: product for product in coverage_by_product(Spec(spec_directory(PROJECT_DIR)))}


def test_every_product_of_the_description_is_reported_by_its_hosts_first_label(products):
    assert len(products) == 44  # the 43 hosts of @twilio/cli-core 9.0.0's files, and serverless-upload
    assert products["flex-api"].host == "flex-api.twilio.com"
    assert products["preview-iam"].host == "preview-iam.twilio.com"
    assert {name for name, product in products.items() if product.used} == USED


def test_every_operation_described_is_counted_once(products):
    # content.twilio.com's v1 operations are in twilio_content_v1.json and twilio_content_sdk.json both.
    assert len(products["content"].served + products["content"].not_served) == 11
    assert sum(len(product.served) + len(product.not_served) for product in products.values()) == 1687


def test_every_registered_route_is_reported_served(products):
    served = {(name, o.method, o.path) for name, product in products.items() for o in product.served}
    assert served == set(ROUTES)


def test_an_operation_the_emulator_does_not_serve_is_listed_not_served(products):
    taskrouter = products["taskrouter"]
    activities = CoveredOperation("GET", "/v1/Workspaces/{WorkspaceSid}/Activities", "ListActivity")
    assert activities in taskrouter.not_served
    assert activities not in taskrouter.served
    assert CoveredOperation("GET", "/v1/Workspaces/{Sid}", "FetchWorkspace") in taskrouter.served
    assert len(taskrouter.served) + len(taskrouter.not_served) == 61


def test_a_product_never_used_serves_nothing(products):
    voice = products["voice"]
    assert (voice.served, voice.assumed, voice.used) == ((), (), False)
    assert len(voice.not_served) == 53


def test_assumed_operations_are_reported_beside_the_described_ones(products):
    uploads = products["serverless-upload"]
    assert (uploads.served, uploads.not_served) == ((), ())
    assert uploads.assumed == (
        CoveredOperation("POST", "/v1/Services/{ServiceSid}/Assets/{AssetSid}/Versions", None),
        CoveredOperation("POST", "/v1/Services/{ServiceSid}/Functions/{FunctionSid}/Versions", None),
    )
    assert uploads.used
