"""Which source topics the gateway handles: ingest queues these and answers 200 to anything else.

The one list: the EventBridge partner rules of template.yaml filter on `partner_event_pattern()`
(written there by `python -m local.event_patterns`; a test keeps the two in step), and the processor
acknowledges any other topic that still reaches the queue.
"""

from __future__ import annotations

from typing import Any

# EventBridge partner event sources: aws.partner/shopify.com/<app id>/<name>, aws.partner/stripe.com/ed_…
SHOPIFY_PARTNER_SOURCE_PREFIX = "aws.partner/shopify.com/"
STRIPE_PARTNER_SOURCE_PREFIX = "aws.partner/stripe.com/"
SHOPIFY_PARTNER_DETAIL_TYPE = "shopifyWebhook"

SHOPIFY_TOPICS: frozenset[str] = frozenset(
    {
        "checkouts/create",
        "checkouts/update",
        "orders/create",
        "orders/paid",
        "orders/fulfilled",
        "fulfillments/create",
        "fulfillments/update",
        "customers/create",
        "customers/update",
        "customers_marketing_consent/update",
        "customers_email_marketing_consent/update",
        # Mandatory privacy topics: acknowledged, logged, and redact unsubscribes the person.
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    }
)

STRIPE_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        # Payments without Checkout (Payment Element, custom flows); Checkout's own are skipped.
        "payment_intent.succeeded",
        "customer.created",
        "customer.updated",
    }
)


_HANDLED: dict[str, frozenset[str]] = {"shopify": SHOPIFY_TOPICS, "stripe": STRIPE_EVENT_TYPES}


def is_handled(source: str, topic: str) -> bool:
    """Whether the gateway handles `topic` of `source` (sources without a topic list: always)."""
    handled = _HANDLED.get(source)
    return handled is None or topic in handled


def partner_event_pattern() -> dict[str, Any]:
    """The EventBridge event pattern that lets through only the Shopify topics and Stripe types the
    gateway handles (Shopify's topic is the `X-Shopify-Topic` header under `detail.metadata`;
    Stripe's type is the `detail-type`)."""
    return {
        "$or": [
            {
                "source": [{"prefix": SHOPIFY_PARTNER_SOURCE_PREFIX}],
                "detail-type": [SHOPIFY_PARTNER_DETAIL_TYPE],
                "detail": {"metadata": {"X-Shopify-Topic": sorted(SHOPIFY_TOPICS)}},
            },
            {
                "source": [{"prefix": STRIPE_PARTNER_SOURCE_PREFIX}],
                "detail-type": sorted(STRIPE_EVENT_TYPES),
            },
        ]
    }
