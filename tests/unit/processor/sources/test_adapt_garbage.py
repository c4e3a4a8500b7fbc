"""Whatever arrives, an adapter answers with canonical events or a permanent error, never anything else."""

from __future__ import annotations

import contextlib
import copy

from adapter_support import RECEIVED_AT, load_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_events import Envelope
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import KNOWN_TOPICS, MappingSettings
from processor.sources import adapt

SETTINGS = MappingSettings()
PERMANENT = (InvalidEventError, UnsupportedEventError)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)

# Realistic payloads whose fields get replaced by garbage: reaches far deeper than random objects do.
SEEDS: list[tuple[str, str, str]] = [
    ("shopify", "checkouts/create", "shopify/checkouts_create.json"),
    ("shopify", "orders/paid", "shopify/orders_paid.json"),
    ("shopify", "orders/fulfilled", "shopify/orders_fulfilled.json"),
    ("shopify", "fulfillments/update", "shopify/fulfillments_update_tracking.json"),
    ("shopify", "customers/create", "shopify/customers_create_2024_10.json"),
    ("shopify", "customers_marketing_consent/update", "shopify/customers_marketing_consent_update.json"),
    (
        "shopify",
        "customers_email_marketing_consent/update",
        "shopify/customers_email_marketing_consent_update.json",
    ),
    ("shopify", "customers/redact", "shopify/customers_redact.json"),
    ("stripe", "checkout.session.completed", "stripe/checkout_session_completed_acacia.json"),
    (
        "stripe",
        "checkout.session.async_payment_succeeded",
        "stripe/checkout_session_async_payment_succeeded_clover.json",
    ),
    ("stripe", "customer.created", "stripe/customer_created_dahlia.json"),
    ("eventbridge", "shopifyWebhook", "eventbridge/shopify_orders_paid.json"),
    ("eventbridge", "checkout.session.completed", "eventbridge/stripe_checkout_session_completed.json"),
]


def _adapt(source: str, topic: str, payload: object, headers: dict[str, str] | None = None) -> None:
    envelope = Envelope(
        source=source,
        event_id="garbage-1",
        topic=topic,
        received_at=RECEIVED_AT,
        headers=headers or {},
        payload=payload if payload is not None else {},
    )
    with contextlib.suppress(*PERMANENT):
        adapt(envelope, payload, SETTINGS)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path to a value inside nested dicts/lists."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(document: object, path: tuple, new: object) -> object:
    mutated = copy.deepcopy(document)
    target = mutated
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return mutated


ALL_TOPICS = [(source, topic) for source, topics in KNOWN_TOPICS.items() for topic in sorted(topics)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_TOPICS), json_values)
def test_adapt_random_payload_for_any_topic_raises_only_permanent_errors(source_topic, payload):
    source, topic = source_topic
    _adapt(source, topic, payload)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.data(), json_values)
def test_adapt_realistic_payload_with_one_field_garbled_raises_only_permanent_errors(seed, data, garbage):
    source, topic, fixture = seed
    document = load_fixture(fixture)
    path = data.draw(st.sampled_from(_paths(document)))
    _adapt(source, topic, _replace(document, path, garbage))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["x-shopify-triggered-at", "x-shopify-topic"]), st.text(max_size=40)))
def test_adapt_garbage_shopify_headers_raise_only_permanent_errors(headers):
    _adapt("shopify", "orders/paid", load_fixture("shopify/orders_paid.json"), headers)


@settings(max_examples=200, deadline=None)
@given(json_values, st.text(max_size=30))
def test_adapt_garbage_signup_and_canonical_raise_only_permanent_errors(payload, topic):
    for source in ("signup", "canonical", "eventbridge"):
        _adapt(source, topic or "x", payload)
