"""Id-only EventBridge orders end to end on the local stack: with the local Shopify configured, the order
is fetched over the GraphQL Admin API and processed as the full webhook (contact, conversion); without
a token it is dead-lettered with a reason that says how to configure one, and no conversion is recorded."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from local.env import LocalSettings
from local.report import EventLog
from local.stack import LocalStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _start(**overrides):
    return LocalStack(
        LocalSettings(port=0, shopify_sandbox_customers=5, shopify_sandbox_orders=3),
        root=ROOT,
        log=EventLog(quiet=True),
        visibility_timeout=1,
        poll_wait_seconds=0,
        parameter_overrides=overrides,
    )


def id_only_event(order_id: str, shop_domain: str, topic: str = "orders/paid") -> dict:
    """What the EventBridge rule puts on the queue when Shopify cut the payload down to its id."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "shopifyWebhook",
        "source": "aws.partner/shopify.com/123456789/nomi-gateway",
        "account": "123456789012",
        "time": now,
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "metadata": {
                "X-Shopify-Topic": topic,
                "X-Shopify-Shop-Domain": shop_domain,
                "X-Shopify-API-Version": "2026-07",
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-Triggered-At": now,
            },
            "payload": {"id": int(order_id)},
        },
    }


def _send(stack, event: dict) -> None:
    stack.aws.client("sqs").send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps(event))
    assert stack.wait_until_drained(timeout=60)


def _dead_letters(stack) -> list[dict]:
    answer = stack.aws.client("sqs").receive_message(
        QueueUrl=stack.dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageAttributeNames=["All"]
    )
    return answer.get("Messages", [])


def _first_order(stack) -> dict:
    return next(iter(stack.shopify.state.orders.values()))


# One stack at a time: two local stacks in one process share sys.modules and os.environ, so the
# second would run on the first one's function modules (function scope tears each down first).
@pytest.fixture
def configured():
    # The seeded customers' SMS opt-ins were taken outside checkout: their language must be configured.
    with _start(ShopifyCustomerSmsConsentText="Text me offers from the local shop") as stack:
        yield stack


@pytest.fixture
def unconfigured():
    with _start(ShopifyShopDomain="") as stack:
        yield stack


def test_id_only_order_is_fetched_and_records_its_conversion(configured):
    order = _first_order(configured)
    order_id = order["id"].rsplit("/", 1)[1]
    click_id = order["customerJourneySummary"]["lastVisit"]["landingPage"].split("sub=")[1]
    configured.sandbox.seed_campaign(name="Backfill test", short_link_id=click_id)
    _send(configured, id_only_event(order_id, configured.shopify.shop_domain))
    conversions = configured.sandbox.state.snapshot()["conversions"]
    assert [(c["short_link_id"], Decimal(str(c["amount"]))) for c in conversions] == [
        (click_id, Decimal(order["totalPriceSet"]["shopMoney"]["amount"]))
    ]
    assert _dead_letters(configured) == []
    assert "order" in [r["operation"] for r in configured.shopify.state.requests]


def test_id_only_order_under_throttling_and_a_503_is_processed_once(configured):
    from shopify_sandbox import FaultConfig

    order = list(configured.shopify.state.orders.values())[1]
    click_id = order["customerJourneySummary"]["lastVisit"]["landingPage"].split("sub=")[1]
    configured.sandbox.seed_campaign(name="Faults", short_link_id=click_id)
    configured.shopify.set_faults(
        FaultConfig(rate=1.0, kinds=("throttle", "503"), operations=("order",), limit=2)
    )
    try:
        _send(configured, id_only_event(order["id"].rsplit("/", 1)[1], configured.shopify.shop_domain))
    finally:
        configured.shopify.set_faults(FaultConfig())
    conversions = [
        c for c in configured.sandbox.state.snapshot()["conversions"] if c["short_link_id"] == click_id
    ]
    assert len(conversions) == 1
    # Two injected failures (recorded with status 0), waited out and retried, then the answer.
    statuses = [r["status"] for r in configured.shopify.state.requests if r["operation"] == "order"]
    assert statuses[-3:] == [0, 0, 200]


def test_id_only_order_without_a_token_is_dead_lettered_with_how_to_configure(unconfigured):
    order = _first_order(unconfigured)
    _send(unconfigured, id_only_event(order["id"].rsplit("/", 1)[1], unconfigured.shopify.shop_domain))
    letters = _dead_letters(unconfigured)
    reasons = [m["MessageAttributes"]["error_reason"]["StringValue"] for m in letters]
    assert len(reasons) == 1
    assert "ShopifyAdminTokenSecret" in reasons[0]
    assert unconfigured.sandbox.state.snapshot()["conversions"] == []
    assert unconfigured.shopify.state.requests == []
