"""Consent evidence as the adapters build it (issue 12): on the phone it was given for, with the
source's own time and the buyer's browser, once per checkout token, and test-mode events marked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from gateway_events import ContactUpsert, Order

CST = timezone(timedelta(hours=-6))
TRIGGERED = {"x-shopify-triggered-at": "2026-11-23T11:59:00Z"}


def test_checkout_sms_consent_goes_to_sms_marketing_phone_not_checkout_phone(run, load):
    payload = load("shopify/checkouts_create.json")
    payload["phone"] = "+13125550999"
    [event] = run("shopify", "checkouts/create", payload)
    assert event.person.phone == "+13125550142"
    assert event.sms_consent is not None


def test_checkout_consent_names_its_token_as_reference(run, load):
    [event] = run("shopify", "checkouts/update", load("shopify/checkouts_create.json"))
    assert event.sms_consent.reference == "9f2c5a1e7b3d4c60a8e1f0b2c3d4e5f6"
    assert event.email_consent.reference == "9f2c5a1e7b3d4c60a8e1f0b2c3d4e5f6"


def test_checkout_email_consent_carries_client_details_where_present(run, load):
    payload = load("shopify/checkouts_create.json")
    payload["client_details"] = {"browser_ip": "203.0.113.7", "user_agent": "Mozilla/5.0 (X11)"}
    [event] = run("shopify", "checkouts/update", payload)
    assert (event.email_consent.ip_address, event.email_consent.user_agent) == (
        "203.0.113.7",
        "Mozilla/5.0 (X11)",
    )


def test_order_email_consent_carries_processed_at_and_client_details(run, load):
    payload = load("shopify/orders_paid.json")
    payload["client_details"] = {"browser_ip": "198.51.100.4", "user_agent": "Mozilla/5.0 (iPhone)"}
    [event] = run("shopify", "orders/paid", payload, headers=TRIGGERED)
    consent = event.email_consent
    assert consent.timestamp == datetime(2026, 11, 20, 10, 4, 50, tzinfo=CST)  # processed_at
    assert (consent.ip_address, consent.user_agent) == ("198.51.100.4", "Mozilla/5.0 (iPhone)")


def test_order_customer_sms_consent_goes_to_customers_own_phone_when_order_phone_differs(run, load):
    payload = load("shopify/orders_paid.json")
    payload["phone"] = "+13125550777"  # e.g. a gift buyer's number typed at checkout
    order, customer = run("shopify", "orders/paid", payload, headers=TRIGGERED)
    assert isinstance(order, Order)
    assert order.person.phone == "+13125550777"
    assert order.sms_consent is None
    assert isinstance(customer, ContactUpsert)
    assert customer.person.phone == "+13125550142"
    assert customer.sms_consent.status == "subscribed"


def test_order_customer_sms_consent_without_customer_phone_yields_no_sms_evidence(run, load):
    payload = load("shopify/orders_paid.json")
    payload["customer"]["phone"] = None
    events = run("shopify", "orders/paid", payload, headers=TRIGGERED)
    assert [e.sms_consent for e in events if hasattr(e, "sms_consent")] == [None]


def test_customer_sms_consent_without_own_phone_is_not_put_on_address_phone(run, load):
    payload = load("shopify/customers_create_2024_10.json")
    payload["phone"] = None
    payload["default_address"] = {**(payload.get("default_address") or {}), "phone": "+13125550188"}
    [event] = run("shopify", "customers/create", payload)
    assert event.person.phone == "+13125550188"
    assert event.sms_consent is None


def test_shopify_test_order_is_marked_test_mode(run, load):
    payload = load("shopify/orders_paid.json")
    payload["test"] = True
    [event] = run("shopify", "orders/paid", payload, headers=TRIGGERED)
    assert event.test_mode is True


def test_shopify_orders_fulfilled_of_test_order_is_marked_test_mode(run, load):
    payload = load("shopify/orders_fulfilled.json")
    payload["test"] = True
    events = run("shopify", "orders/fulfilled", payload)
    assert events
    assert all(e.test_mode for e in events)


def test_stripe_livemode_false_event_is_marked_test_mode(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["livemode"] = False
    [event] = run("stripe", "checkout.session.completed", payload)
    assert event.test_mode is True


def test_stripe_livemode_true_event_is_live(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["livemode"] = True
    [event] = run("stripe", "checkout.session.completed", payload)
    assert event.test_mode is False


def test_customers_redact_is_an_erasure(run, load):
    [event] = run("shopify", "customers/redact", load("shopify/customers_redact.json"), headers=TRIGGERED)
    assert event.erase is True


def test_signup_contact_upsert_never_updates_an_existing_contact(run):
    payload = {
        "reference": "r-1",
        "submitted_at": "2026-11-23T12:00:00+00:00",
        "phone": "+13125550142",
        "first_name": "Mallory",
        "sms_consent": False,
        "email_consent": False,
    }
    [event] = run("signup", "signup", payload)
    assert event.update_existing is False
