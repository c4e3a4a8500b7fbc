"""The Shopify Admin API transport: cost-based throttling, the time budget, errors, retries.

Shopify is played by an in-memory httpx transport answering from a script of responses."""

import json

import httpx
import pytest

from processor.errors import PermanentEventError, TransientEventError
from processor.shopify_admin.client import AdminClient
from processor.shopify_admin.errors import (
    ShopifyAuthError,
    ShopifyQueryError,
    ShopifyThrottledError,
    ShopifyTransientError,
)

QUERY = "{ currentBulkOperation { id } }"


def cost(requested=10, actual=10, available=1000.0, restore=50.0, maximum=1000.0):
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": maximum,
                "currentlyAvailable": available,
                "restoreRate": restore,
            },
        }
    }


def ok(data=None, **cost_fields):
    return httpx.Response(
        200, json={"data": data or {"currentBulkOperation": None}, "extensions": cost(**cost_fields)}
    )


def throttled(requested=100, available=20.0, restore=50.0):
    body = {
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
        "extensions": cost(requested=requested, actual=None, available=available, restore=restore),
    }
    return httpx.Response(200, json=body)


class FakeShopify:
    """Answers requests from a list, recording what was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(fake, *, remaining=lambda: 1000.0, sleeps=None, max_retries=3):
    """A client whose sleeps are recorded in `sleeps` and advance its clock, without waiting."""
    now = [0.0]
    recorded = sleeps if sleeps is not None else []

    def sleep(seconds):
        recorded.append(seconds)
        now[0] += seconds

    return AdminClient(
        shop_domain="shop.myshopify.com",
        access_token="shpat_secret",
        http_client=httpx.Client(transport=httpx.MockTransport(fake)),
        sleep=sleep,
        clock=lambda: now[0],
        jitter=lambda: 1.0,
        remaining_seconds=remaining,
        max_retries=max_retries,
    )


def test_admin_client_request_carries_token_version_and_query():
    fake = FakeShopify(ok())
    client(fake).graphql(QUERY, {"a": 1}, api_version="2025-10")
    request = fake.requests[0]
    assert str(request.url) == "https://shop.myshopify.com/admin/api/2025-10/graphql.json"
    assert request.headers["X-Shopify-Access-Token"] == "shpat_secret"
    assert json.loads(request.content) == {"query": QUERY, "variables": {"a": 1}}


def test_admin_client_throttled_waits_by_the_restore_rate_then_succeeds():
    sleeps = []
    fake = FakeShopify(throttled(requested=100, available=20.0, restore=50.0), ok())
    assert client(fake, sleeps=sleeps).graphql(QUERY) == {"currentBulkOperation": None}
    assert sleeps == [pytest.approx(80 / 50)]


def test_admin_client_throttled_beyond_the_time_budget_raises_transient_without_sleeping():
    sleeps = []
    fake = FakeShopify(throttled(requested=1000, available=0.0, restore=50.0))
    with pytest.raises(ShopifyThrottledError) as caught:
        client(fake, sleeps=sleeps, remaining=lambda: 5.0).graphql(QUERY)
    assert sleeps == []
    assert caught.value.retry_after == pytest.approx(20.0)
    assert isinstance(caught.value, TransientEventError)


def test_admin_client_429_is_throttling_too():
    sleeps = []
    fake = FakeShopify(httpx.Response(429, headers={"Retry-After": "2"}), ok())
    client(fake, sleeps=sleeps).graphql(QUERY)
    assert sleeps == [2.0]


def test_admin_client_paces_a_query_the_bucket_cannot_pay_for():
    sleeps = []
    # The first answer leaves 5 points; the same query asked 105 last time: wait (105-5)/50 s first.
    fake = FakeShopify(ok(requested=105, actual=105, available=5.0, restore=50.0), ok())
    shopify = client(fake, sleeps=sleeps)
    shopify.graphql(QUERY)
    shopify.graphql(QUERY)
    assert sleeps == [pytest.approx(2.0)]


def test_admin_client_bad_token_raises_auth_error_at_once():
    fake = FakeShopify(httpx.Response(401, json={"errors": "[API] Invalid API key or access token"}))
    with pytest.raises(ShopifyAuthError, match="read_orders"):
        client(fake).graphql(QUERY)
    assert len(fake.requests) == 1


def test_admin_client_server_error_is_retried_then_succeeds():
    fake = FakeShopify(httpx.Response(503), httpx.ConnectError("refused"), ok())
    assert client(fake).graphql(QUERY) == {"currentBulkOperation": None}
    assert len(fake.requests) == 3


def test_admin_client_server_errors_exhaust_retries_as_transient():
    fake = FakeShopify(*(httpx.Response(500) for _ in range(3)))
    with pytest.raises(ShopifyTransientError, match="500"):
        client(fake, max_retries=2).graphql(QUERY)


def test_admin_client_graphql_error_is_permanent_with_the_message():
    body = {"errors": [{"message": "Field 'bogus' doesn't exist on type 'Order'"}]}
    fake = FakeShopify(httpx.Response(200, json=body))
    with pytest.raises(ShopifyQueryError, match="bogus") as caught:
        client(fake).graphql(QUERY)
    assert isinstance(caught.value, PermanentEventError)


def test_admin_client_access_denied_is_an_auth_error():
    body = {
        "errors": [{"message": "Access denied for order field.", "extensions": {"code": "ACCESS_DENIED"}}]
    }
    with pytest.raises(ShopifyAuthError):
        client(FakeShopify(httpx.Response(200, json=body))).graphql(QUERY)


def test_admin_client_no_time_left_raises_before_any_request():
    fake = FakeShopify(ok())
    with pytest.raises(ShopifyTransientError, match="no time left"):
        client(fake, remaining=lambda: 1.0).graphql(QUERY)
    assert fake.requests == []


def test_admin_client_request_timeout_never_outlasts_the_budget():
    seen = []

    def handler(request):
        seen.append(request.extensions["timeout"]["read"])
        return ok()

    client(handler, remaining=lambda: 4.0).graphql(QUERY)
    assert seen == [pytest.approx(2.0)]


def test_admin_client_repr_hides_the_token():
    assert "shpat_secret" not in repr(client(FakeShopify()))
