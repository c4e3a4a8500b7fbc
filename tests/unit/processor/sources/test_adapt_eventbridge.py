"""EventBridge-delivered Shopify and Stripe events are unwrapped and mapped like direct deliveries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway_events import parse_queue_message
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import MappingSettings
from processor.sources import adapt

EXAMPLES = Path(__file__).parents[4] / "events" / "canonical"


def _adapt_queued(event: dict, settings: MappingSettings | None = None):
    """Through the real queue parser, exactly as the processor receives an EventBridge rule's message."""
    envelope = parse_queue_message(json.dumps(event))
    return adapt(envelope, envelope.payload, settings or MappingSettings())


def test_shopify_partner_event_maps_like_a_webhook_with_its_headers(load):
    [event] = _adapt_queued(load("eventbridge/shopify_orders_paid.json"))
    assert event.type == "order.paid"
    assert event.event_id == "shopify:order:5893247710294:paid"
    assert event.click_id == "Qx7LmP"
    assert event.occurred_at == datetime(
        2026, 11, 20, 16, 4, 58, 123456, tzinfo=UTC
    )  # X-Shopify-Triggered-At


def test_shopify_partner_event_and_direct_webhook_give_the_same_event(load, run):
    wrapped = load("eventbridge/shopify_orders_paid.json")
    headers = {k.lower(): v for k, v in wrapped["detail"]["metadata"].items()}
    direct = run("shopify", "orders/paid", wrapped["detail"]["payload"], headers=headers)
    assert _adapt_queued(wrapped) == direct


def test_stripe_partner_event_maps_like_a_webhook(load, run):
    wrapped = load("eventbridge/stripe_checkout_session_completed.json")
    [event] = _adapt_queued(wrapped)
    assert (event.type, event.currency, str(event.amount)) == ("order.paid", "JPY", "1500")
    assert event.event_id == "stripe:checkout:cs_live_b1BasilSession0002:paid"
    assert run("stripe", "checkout.session.completed", wrapped["detail"]) == [event]


def test_shopify_partner_event_with_truncated_payload_is_invalid(load):
    with pytest.raises(InvalidEventError, match="only the resource id"):
        _adapt_queued(load("eventbridge/shopify_truncated.json"))


def test_shopify_partner_event_without_topic_header_is_invalid(load):
    event = load("eventbridge/shopify_orders_paid.json")
    del event["detail"]["metadata"]["X-Shopify-Topic"]
    with pytest.raises(InvalidEventError, match="X-Shopify-Topic"):
        _adapt_queued(event)


def test_shopify_partner_event_without_payload_is_invalid(load):
    event = load("eventbridge/shopify_orders_paid.json")
    del event["detail"]["payload"]
    with pytest.raises(InvalidEventError, match="payload"):
        _adapt_queued(event)


def test_shopify_partner_event_of_another_detail_type_is_unsupported(load):
    event = load("eventbridge/shopify_orders_paid.json")
    event["detail-type"] = "shopifyAppUninstalled"
    with pytest.raises(UnsupportedEventError, match="shopifyAppUninstalled"):
        _adapt_queued(event)


def test_eventbridge_canonical_detail_is_adapted_as_canonical(load):
    shipped = json.loads((EXAMPLES / "order.shipped.json").read_text(encoding="utf-8"))
    event = {
        "version": "0",
        "id": "a1b2",
        "detail-type": "order.shipped",
        "source": "com.acme.warehouse",
        "time": "2026-11-23T18:02:05Z",
        "detail": shipped,
    }
    [adapted] = _adapt_queued(event)
    assert adapted.shipment_id == "SHP-558812"


def test_eventbridge_event_from_unknown_source_is_unsupported():
    event = {"version": "0", "id": "x1", "detail-type": "Object Created", "source": "aws.s3", "detail": {}}
    with pytest.raises(UnsupportedEventError, match=r"aws\.s3"):
        _adapt_queued(event)


def test_eventbridge_event_with_non_object_detail_is_invalid():
    envelope = parse_queue_message(
        json.dumps(
            {
                "id": "x2",
                "detail-type": "shopifyWebhook",
                "source": "aws.partner/shopify.com/1/n",
                "detail": [],
            }
        )
    )
    with pytest.raises(InvalidEventError, match="detail"):
        adapt(envelope, envelope.payload, MappingSettings())
