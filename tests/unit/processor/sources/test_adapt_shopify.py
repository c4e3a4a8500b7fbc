"""Shopify webhooks → canonical events: one test per row of docs/mapping.md, and the edge cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from gateway_events import ConsentChange, ContactUpsert, Order, OrderShipped
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import MappingSettings

CST = timezone(timedelta(hours=-6))
TRIGGERED = {"x-shopify-triggered-at": "2026-11-20T16:04:58.123456789Z", "x-shopify-topic": "orders/paid"}


# --- checkouts/create|update


def test_checkout_with_sms_and_email_opt_in_yields_upsert_with_both_consents(run, load):
    [event] = run("shopify", "checkouts/create", load("shopify/checkouts_create.json"))
    assert isinstance(event, ContactUpsert)
    assert event.person.phone == "+13125550142"  # the number typed into the SMS box
    assert (event.person.first_name, event.person.last_name) == ("Maya", "Patel")
    assert (event.person.email, event.person.state, event.person.country) == (
        "maya.patel@example.com",
        "IL",
        "US",
    )
    assert event.sms_consent.status == "subscribed"
    assert event.sms_consent.source == "checkout"
    assert event.sms_consent.timestamp == datetime(2026, 11, 20, 10, 2, 37, tzinfo=CST)
    assert event.sms_consent.consent_text == "Text me with news and offers"
    assert event.email_consent.status == "subscribed"
    assert event.email_consent.consent_text == "Email me with news and offers"
    assert event.tags == ["shopify"]


def test_checkout_event_id_and_time_are_the_checkouts_not_the_deliverys(run, load):
    [event] = run("shopify", "checkouts/update", load("shopify/checkouts_create.json"))
    assert event.event_id == "shopify:checkout:9f2c5a1e7b3d4c60a8e1f0b2c3d4e5f6:2026-11-20T10:02:37-06:00"
    assert event.occurred_at == datetime(2026, 11, 20, 10, 2, 37, tzinfo=CST)


def test_checkout_create_and_update_of_one_state_share_the_event_id(run, load):
    payload = load("shopify/checkouts_create.json")
    [created] = run("shopify", "checkouts/create", payload)
    [updated] = run("shopify", "checkouts/update", payload)
    assert created.event_id == updated.event_id


def test_checkout_consent_text_comes_from_settings(run, load):
    settings = MappingSettings(
        consent_texts={"shopify_checkout": "Yes, text me deals from Acme. Reply STOP."}
    )
    [event] = run("shopify", "checkouts/create", load("shopify/checkouts_create.json"), settings=settings)
    assert event.sms_consent.consent_text == "Yes, text me deals from Acme. Reply STOP."


def test_checkout_guest_phone_only_on_billing_address_is_used_without_consent(run, load):
    [event] = run("shopify", "checkouts/update", load("shopify/checkouts_update_guest_billing_phone.json"))
    assert event.person.phone == "030 1234567"
    assert (event.person.first_name, event.person.last_name) == ("Lena", "Müller")
    assert (event.person.state, event.person.country) == ("BE", "DE")
    assert event.person.email is None
    assert event.sms_consent is None
    assert event.email_consent is None


def test_checkout_without_any_phone_still_yields_upsert_with_phone_none(run, load):
    payload = load("shopify/checkouts_update_guest_billing_phone.json")
    payload["billing_address"]["phone"] = None
    [event] = run("shopify", "checkouts/update", payload)
    assert event.person.phone is None


def test_checkout_sms_opt_in_without_sms_phone_has_no_sms_evidence(run, load):
    payload = load("shopify/checkouts_create.json")
    payload["sms_marketing_phone"] = None
    [event] = run("shopify", "checkouts/create", payload)
    # The contact may still be the shipping phone, but the SMS box's consent is nobody's.
    assert event.person.phone == "(312) 555-0199"
    assert event.sms_consent is None


def test_checkout_without_times_is_invalid(run, load):
    payload = load("shopify/checkouts_create.json")
    del payload["created_at"], payload["updated_at"]
    with pytest.raises(InvalidEventError, match="created_at"):
        run("shopify", "checkouts/create", payload)


# --- orders/create, orders/paid


def test_orders_paid_yields_order_paid_with_amount_and_click_id(run, load):
    [event] = run("shopify", "orders/paid", load("shopify/orders_paid.json"), headers=TRIGGERED)
    assert isinstance(event, Order)
    assert event.type == "order.paid"
    assert event.event_id == "shopify:order:5893247710294:paid"
    assert (event.order_id, event.order_name) == ("5893247710294", "#1042")
    assert (event.amount, event.currency) == (Decimal("118.40"), "USD")  # shop currency, not presentment CAD
    assert event.click_id == "Qx7LmP"
    assert event.custom_variables == {}  # the planner derives the order variables from these fields
    assert event.occurred_at == datetime(2026, 11, 20, 16, 4, 58, 123456, tzinfo=UTC)
    assert event.person.phone == "+13125550142"


def test_orders_paid_carries_embedded_customer_consent_and_buyer_email_opt_in(run, load):
    [event] = run("shopify", "orders/paid", load("shopify/orders_paid.json"), headers=TRIGGERED)
    assert event.sms_consent.source == "checkout"  # consent_collected_from SHOPIFY
    assert event.sms_consent.timestamp == datetime(2026, 11, 20, 10, 4, 50, tzinfo=CST)
    assert event.email_consent.status == "subscribed"
    # processed_at (checkout completed), not created_at (10:04:51).
    assert event.email_consent.timestamp == datetime(2026, 11, 20, 10, 4, 50, tzinfo=CST)


def test_orders_paid_prefers_current_total_after_an_edit(run, load):
    payload = load("shopify/orders_paid.json")
    payload["current_total_price"] = "90.00"
    [event] = run("shopify", "orders/paid", payload, headers=TRIGGERED)
    assert event.amount == Decimal("90.00")


def test_orders_paid_without_triggered_at_uses_receipt_time(run, load):
    [event] = run("shopify", "orders/paid", load("shopify/orders_paid.json"))
    assert event.occurred_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_orders_paid_click_parameter_name_comes_from_settings(run, load):
    payload = load("shopify/orders_paid.json")
    payload["landing_site"] = "https://shop.example.com/?ref=ABC999&sub=other"
    [event] = run("shopify", "orders/paid", payload, settings=MappingSettings(click_parameter="ref"))
    assert event.click_id == "ABC999"


def test_orders_paid_with_unparsable_landing_site_has_no_click_id(run, load):
    payload = load("shopify/orders_paid.json")
    payload["landing_site"] = "http://[broken/?sub=x"
    [event] = run("shopify", "orders/paid", payload)
    assert event.click_id is None


def test_orders_create_yields_order_placed_in_jpy_with_click_id_from_note_attributes(run, load):
    [event] = run("shopify", "orders/create", load("shopify/orders_create_japan.json"))
    assert event.type == "order.placed"
    assert event.event_id == "shopify:order:5893247719999:placed"
    assert event.occurred_at == datetime(2026, 11, 22, 14, 30, 5, tzinfo=timezone(timedelta(hours=9)))
    assert (event.amount, event.currency) == (Decimal("15000"), "JPY")
    assert event.click_id == "JPclick9"


def test_orders_create_international_unicode_person_from_shipping_address(run, load):
    [event] = run("shopify", "orders/create", load("shopify/orders_create_japan.json"))
    assert event.person.phone == "090-1234-5678"  # shipping before billing
    assert (event.person.first_name, event.person.last_name) == ("太郎", "山田")
    assert event.person.country == "JP"
    assert event.person.state is None  # 'JP-13' is no two-letter code
    assert event.email_consent is None
    assert event.sms_consent is None


def test_orders_create_without_currency_is_invalid(run, load):
    payload = load("shopify/orders_create_japan.json")
    del payload["currency"]
    with pytest.raises(InvalidEventError, match="currency"):
        run("shopify", "orders/create", payload)


def test_orders_create_with_text_total_is_invalid(run, load):
    payload = load("shopify/orders_create_japan.json")
    payload["total_price"] = payload["current_total_price"] = "lots"
    with pytest.raises(InvalidEventError, match="total_price"):
        run("shopify", "orders/create", payload)


# --- orders/fulfilled, fulfillments/create|update


def test_orders_fulfilled_yields_one_shipped_per_live_fulfillment_with_tracking(run, load):
    events = run("shopify", "orders/fulfilled", load("shopify/orders_fulfilled.json"))
    assert [e.shipment_id for e in events] == ["4987654321001"]  # cancelled and untracked ones skipped
    [event] = events
    assert isinstance(event, OrderShipped)
    assert event.event_id == "shopify:fulfillment:4987654321001"
    assert (event.order_id, event.order_name, event.carrier) == ("5893247710294", "#1042", "UPS")
    assert event.tracking_numbers == ["1Z999AA10123456784", "1Z999AA10123456795"]
    assert len(event.tracking_urls) == 2
    assert event.person.phone == "(312) 555-0199"


def test_fulfillments_create_without_tracking_yields_nothing(run, load):
    assert run("shopify", "fulfillments/create", load("shopify/fulfillments_create_no_tracking.json")) == []


def test_fulfillments_update_with_tracking_yields_shipped_with_order_name_from_fulfillment_name(run, load):
    [event] = run("shopify", "fulfillments/update", load("shopify/fulfillments_update_tracking.json"))
    assert event.event_id == "shopify:fulfillment:4987654322001"
    assert (event.order_id, event.order_name, event.shipment_id) == (
        "5893247710294",
        "#1042",
        "4987654322001",
    )
    assert event.tracking_numbers == ["JD014600006281230703", "JD014600006281230710"]
    assert event.tracking_urls[1].endswith("230710")
    assert event.carrier == "DHL Express"
    assert event.occurred_at == datetime(2026, 11, 21, 9, 2, 13, tzinfo=CST)
    # The buyer's phone is not in a fulfillment (the processor recalls it); the destination's is the
    # recipient's, without the buyer's email.
    assert (event.person.phone, event.person.email) == (None, "maya.patel@example.com")
    assert (event.recipient.phone, event.recipient.email) == ("(312) 555-0199", None)
    assert (event.recipient.first_name, event.recipient.state) == ("Maya", "IL")


def test_fulfillment_and_orders_fulfilled_name_the_same_shipment_alike(run, load):
    order = load("shopify/orders_fulfilled.json")
    fulfillment = load("shopify/fulfillments_update_tracking.json")
    order["fulfillments"][0]["id"] = fulfillment["id"]
    from_order = run("shopify", "orders/fulfilled", order)[0]
    [from_fulfillment] = run("shopify", "fulfillments/update", fulfillment)
    assert from_order.event_id == from_fulfillment.event_id
    assert from_order.shipment_id == from_fulfillment.shipment_id


def test_fulfillment_with_only_singular_tracking_number_is_shipped(run, load):
    payload = load("shopify/fulfillments_update_tracking.json")
    payload["tracking_numbers"], payload["tracking_urls"], payload["tracking_url"] = [], [], None
    [event] = run("shopify", "fulfillments/update", payload)
    assert event.tracking_numbers == ["JD014600006281230703"]
    assert event.tracking_urls == []


def test_cancelled_fulfillment_with_tracking_yields_nothing(run, load):
    payload = load("shopify/fulfillments_update_tracking.json")
    payload["status"] = "cancelled"
    assert run("shopify", "fulfillments/update", payload) == []


def test_fulfillment_without_order_id_is_invalid(run, load):
    payload = load("shopify/fulfillments_update_tracking.json")
    del payload["order_id"]
    with pytest.raises(InvalidEventError, match="order_id"):
        run("shopify", "fulfillments/update", payload)


def test_fulfillment_without_phone_still_yields_shipped_with_phone_none(run, load):
    payload = load("shopify/fulfillments_update_tracking.json")
    payload["destination"] = None
    [event] = run("shopify", "fulfillments/update", payload)
    assert event.person.phone is None


# --- customers/create|update (old embedded consent vs 2025-01 payloads)


def test_customers_create_old_api_embedded_consent_yields_upsert_with_consent(run, load):
    [event] = run("shopify", "customers/create", load("shopify/customers_create_2024_10.json"))
    assert isinstance(event, ContactUpsert)
    assert event.event_id == "shopify:customer:7482930116758:2026-11-20T09:58:12-06:00"
    assert event.person.phone == "+13125550142"
    assert event.sms_consent.status == "subscribed"
    assert event.sms_consent.source == "checkout"
    assert event.sms_consent.timestamp == datetime(2026, 11, 20, 9, 58, 10, tzinfo=CST)
    assert event.sms_consent.consent_text == "Text me with news and offers"
    assert event.email_consent.status == "subscribed"
    assert event.email_consent.source == "api"
    assert event.tags == ["shopify"]  # Shopify's own customer tags are not copied


def test_customers_update_2025_01_payload_yields_upsert_without_consent(run, load):
    [event] = run("shopify", "customers/update", load("shopify/customers_update_2025_01.json"))
    assert event.sms_consent is None
    assert event.email_consent is None
    assert event.person.phone == "06 12 34 56 78"  # from the default address
    assert (event.person.first_name, event.person.last_name) == ("Chloé", "Lefèvre")
    assert (event.person.country, event.person.state) == ("FR", None)


def test_customers_embedded_not_subscribed_sms_state_gives_no_evidence(run, load):
    payload = load("shopify/customers_create_2024_10.json")
    payload["sms_marketing_consent"]["state"] = "not_subscribed"
    [event] = run("shopify", "customers/create", payload)
    assert event.sms_consent is None


def test_customers_without_id_is_invalid(run, load):
    payload = load("shopify/customers_update_2025_01.json")
    del payload["id"]
    with pytest.raises(InvalidEventError, match="id"):
        run("shopify", "customers/update", payload)


# --- consent topics (API 2025-01+)


def test_sms_consent_update_subscribed_from_checkout_yields_consent_change(run, load):
    [event] = run(
        "shopify",
        "customers_marketing_consent/update",
        load("shopify/customers_marketing_consent_update.json"),
    )
    assert isinstance(event, ConsentChange)
    assert (event.channel, event.person.phone) == ("sms", "+13125550142")
    assert event.evidence.status == "subscribed"
    assert event.evidence.source == "checkout"
    assert event.evidence.timestamp == datetime(2026, 11, 20, 16, 2, 37, tzinfo=UTC)
    assert event.evidence.consent_text == "Text me with news and offers"
    assert event.event_id == "shopify:consent:sms:7482930116758:2026-11-20T16:02:37+00:00"
    assert event.occurred_at == event.evidence.timestamp


@pytest.mark.parametrize(
    ("state", "status"),
    [("unsubscribed", "unsubscribed"), ("PENDING", "pending"), ("redacted", "unsubscribed")],
)
def test_sms_consent_update_states_map_to_nomi_statuses(run, load, state, status):
    payload = load("shopify/customers_marketing_consent_update.json")
    payload["sms_marketing_consent"]["state"] = state
    [event] = run("shopify", "customers_marketing_consent/update", payload)
    assert event.evidence.status == status


@pytest.mark.parametrize("state", ["not_subscribed", "invalid", None])
def test_sms_consent_update_without_a_decision_yields_nothing(run, load, state):
    payload = load("shopify/customers_marketing_consent_update.json")
    payload["sms_marketing_consent"]["state"] = state
    assert run("shopify", "customers_marketing_consent/update", payload) == []


def test_sms_consent_update_collected_elsewhere_has_source_api_and_customer_text(run, load):
    payload = load("shopify/customers_marketing_consent_update.json")
    payload["sms_marketing_consent"]["consent_collected_from"] = "OTHER"
    settings = MappingSettings(consent_texts={"shopify_customer": "Opted in by phone with staff"})
    [event] = run("shopify", "customers_marketing_consent/update", payload, settings=settings)
    assert event.evidence.source == "api"
    assert event.evidence.consent_text == "Opted in by phone with staff"


def test_sms_consent_update_without_time_uses_triggered_at(run, load):
    payload = load("shopify/customers_marketing_consent_update.json")
    payload["sms_marketing_consent"]["consent_updated_at"] = None
    [event] = run("shopify", "customers_marketing_consent/update", payload, headers=TRIGGERED)
    assert event.evidence.timestamp == datetime(2026, 11, 20, 16, 4, 58, 123456, tzinfo=UTC)


def test_sms_consent_update_with_unknown_state_is_invalid(run, load):
    payload = load("shopify/customers_marketing_consent_update.json")
    payload["sms_marketing_consent"]["state"] = "maybe"
    with pytest.raises(InvalidEventError, match="maybe"):
        run("shopify", "customers_marketing_consent/update", payload)


def test_email_consent_update_unsubscribed_yields_email_consent_change(run, load):
    [event] = run(
        "shopify",
        "customers_email_marketing_consent/update",
        load("shopify/customers_email_marketing_consent_update.json"),
    )
    assert (event.channel, event.person.email, event.person.phone) == (
        "email",
        "maya.patel@example.com",
        None,
    )
    assert (event.evidence.status, event.evidence.source) == ("unsubscribed", "api")
    assert event.evidence.consent_text is None
    assert event.evidence.timestamp == datetime(2026, 11, 23, 8, 0, tzinfo=CST)


def test_email_consent_update_without_consent_object_is_invalid(run, load):
    payload = load("shopify/customers_email_marketing_consent_update.json")
    del payload["email_marketing_consent"]
    with pytest.raises(InvalidEventError, match="email_marketing_consent"):
        run("shopify", "customers_email_marketing_consent/update", payload)


# --- privacy topics


def test_customers_redact_unsubscribes_phone_and_email_from_both_channels(run, load):
    headers = {"x-shopify-triggered-at": "2026-11-23T09:00:00Z"}
    [event] = run("shopify", "customers/redact", load("shopify/customers_redact.json"), headers=headers)
    assert isinstance(event, ConsentChange)
    assert event.channel == "both"
    assert (event.person.phone, event.person.email) == ("+13125550142", "maya.patel@example.com")
    assert (event.evidence.status, event.evidence.source) == ("unsubscribed", "api")
    assert event.evidence.timestamp == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert event.event_id == "shopify:redact:7482930116758"


@pytest.mark.parametrize(
    ("topic", "fixture"),
    [("customers/data_request", "customers_data_request.json"), ("shop/redact", "shop_redact.json")],
)
def test_privacy_topics_without_nomi_effect_yield_nothing(run, load, topic, fixture):
    assert run("shopify", topic, load(f"shopify/{fixture}")) == []


# --- topic handling


def test_unknown_shopify_topic_is_unsupported(run):
    with pytest.raises(UnsupportedEventError, match="products/create"):
        run("shopify", "products/create", {"id": 1, "title": "Shirt"})


def test_payload_holding_only_the_id_is_invalid(run):
    with pytest.raises(InvalidEventError, match="only the resource id"):
        run("shopify", "orders/paid", {"id": 5893247710294})


def test_topic_switched_off_in_settings_yields_nothing(run, load):
    settings = MappingSettings(enabled_topics={"shopify": ["orders/paid"]})
    assert run("shopify", "checkouts/create", load("shopify/checkouts_create.json"), settings=settings) == []


def test_payload_that_is_not_an_object_is_invalid(run):
    with pytest.raises(InvalidEventError, match="JSON object"):
        run("shopify", "orders/paid", ["not", "an", "order"])


def test_overlong_phone_is_invalid_with_reason_naming_the_field(run, load):
    payload = load("shopify/customers_update_2025_01.json")
    payload["phone"] = "+1" + "5" * 40
    with pytest.raises(InvalidEventError, match=r"Person: phone") as caught:
        run("shopify", "customers/update", payload)
    assert "5555555555" not in str(caught.value)  # no personal data in the reason
