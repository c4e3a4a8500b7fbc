"""The local Shopify over real HTTP on 127.0.0.1: auth, schema checks, cost and throttling, bulk
operations and their JSONL file, and fault injection."""

import json

import httpx
import pytest

from shopify_sandbox import FaultConfig, ShopifySandbox
from shopify_sandbox.state import customer_node

pytestmark = pytest.mark.integration

BULK = "mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id status } userErrors { message code } } }"
CUSTOMERS = (
    "{ customers { edges { node { id phone smsMarketingConsent { marketingState consentUpdatedAt } } } } }"
)
STATUS = (
    "query($id: ID!) { node(id: $id) { ... on BulkOperation { id status objectCount rootObjectCount url } } }"
)


@pytest.fixture
def shop():
    with ShopifySandbox(access_token="shpat_test", port=0) as running:
        running.state.seed(customers=12, orders=3)
        yield running


def post(shop, query, variables=None, token="shpat_test", version="2026-07"):
    return httpx.post(
        f"{shop.url}/admin/api/{version}/graphql.json",
        json={"query": query, "variables": variables or {}},
        headers={"X-Shopify-Access-Token": token},
        timeout=10,
    )


def test_shopify_sandbox_bad_token_is_401_with_shopifys_body(shop):
    answer = post(shop, "{ currentBulkOperation { id } }", token="wrong")
    assert answer.status_code == 401
    assert "Invalid API key or access token" in answer.json()["errors"]


def test_shopify_sandbox_order_query_answers_exactly_the_selected_fields(shop):
    order_id = next(iter(shop.state.orders))
    answer = post(
        shop,
        "query($id: ID!) { order(id: $id) { name totalPriceSet { shopMoney { amount } } } }",
        {"id": order_id},
    )
    assert answer.json()["data"] == {
        "order": {"name": "#1000", "totalPriceSet": {"shopMoney": {"amount": "20.00"}}}
    }


def test_shopify_sandbox_unknown_field_is_a_graphql_error_naming_it(shop):
    body = post(shop, '{ order(id: "x") { name landingSite } }').json()
    assert body["errors"][0]["message"] == "Field 'landingSite' doesn't exist on type 'Order'"
    assert "data" not in body


def test_shopify_sandbox_reports_cost_and_refunds_the_unused_points(shop):
    cost = post(shop, "{ currentBulkOperation { id } }").json()["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (2, 1)
    assert cost["throttleStatus"]["maximumAvailable"] == 2000.0
    assert cost["throttleStatus"]["currentlyAvailable"] >= 1999.0


def test_shopify_sandbox_throttles_when_the_bucket_cannot_pay(shop):
    httpx.post(f"{shop.url}/_shopify/bucket", json={"available": 1, "restore_rate": 0.001}, timeout=10)
    body = post(shop, "{ currentBulkOperation { id } }").json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None


def test_shopify_sandbox_bulk_operation_completes_and_serves_jsonl(shop):
    started = post(shop, BULK, {"q": CUSTOMERS}).json()["data"]["bulkOperationRunQuery"]
    assert started["userErrors"] == []
    operation_id = started["bulkOperation"]["id"]
    statuses = [post(shop, STATUS, {"id": operation_id}).json()["data"]["node"] for _ in range(2)]
    assert [s["status"] for s in statuses] == ["RUNNING", "COMPLETED"]
    lines = httpx.get(statuses[1]["url"], timeout=10).text.splitlines()
    assert len(lines) == int(statuses[1]["rootObjectCount"]) == 12
    expected = customer_node(0)
    assert json.loads(lines[0]) == {
        "id": expected["id"],
        "phone": expected["phone"],
        "smsMarketingConsent": {
            "marketingState": "SUBSCRIBED",
            "consentUpdatedAt": expected["smsMarketingConsent"]["consentUpdatedAt"],
        },
    }


def test_shopify_sandbox_refuses_a_second_bulk_query_while_one_runs(shop):
    post(shop, BULK, {"q": CUSTOMERS})
    errors = post(shop, BULK, {"q": CUSTOMERS}).json()["data"]["bulkOperationRunQuery"]["userErrors"]
    assert errors[0]["code"] == "OPERATION_IN_PROGRESS"


def test_shopify_sandbox_invalid_bulk_query_is_a_user_error(shop):
    answer = post(shop, BULK, {"q": "{ customers { edges { node { bogus } } } }"}).json()
    [error] = answer["data"]["bulkOperationRunQuery"]["userErrors"]
    assert "bogus" in error["message"]


def test_shopify_sandbox_injected_503_then_normal_answers(shop):
    shop.set_faults(FaultConfig(rate=1.0, kinds=("503",), limit=1))
    assert post(shop, "{ currentBulkOperation { id } }").status_code == 503
    assert post(shop, "{ currentBulkOperation { id } }").status_code == 200


def test_shopify_sandbox_injected_throttle_is_a_throttled_error(shop):
    shop.set_faults(FaultConfig(rate=1.0, kinds=("throttle",), operations=("order",)))
    assert post(shop, '{ order(id: "x") { id } }').json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert "errors" not in post(shop, "{ currentBulkOperation { id } }").json()


def test_shopify_sandbox_injected_drop_resets_the_connection(shop):
    shop.set_faults(FaultConfig(rate=1.0, kinds=("drop",)))
    with pytest.raises(httpx.TransportError):
        post(shop, "{ currentBulkOperation { id } }")


def test_shopify_sandbox_injected_bulk_failure_ends_the_operation_failed(shop):
    operation_id = post(shop, BULK, {"q": CUSTOMERS}).json()["data"]["bulkOperationRunQuery"][
        "bulkOperation"
    ]["id"]
    shop.set_faults(FaultConfig(rate=1.0, kinds=("bulk_failed",)))
    node = post(shop, STATUS, {"id": operation_id}).json()["data"]["node"]
    assert (node["status"], node["url"]) == ("FAILED", None)


def test_shopify_sandbox_seed_is_deterministic():
    first, second = ShopifySandbox(port=0), ShopifySandbox(port=0)
    try:
        first.state.seed(customers=5, orders=5, seed=3)
        second.state.seed(customers=5, orders=5, seed=3)
        assert first.state.orders == second.state.orders
    finally:
        first._server.server_close()
        second._server.server_close()
