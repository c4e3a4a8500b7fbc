"""Stripe events → canonical events, across the API versions the gateway claims (acacia … endive)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from gateway_events import ContactUpsert, Order
from processor.errors import InvalidEventError, UnsupportedEventError
from processor.settings import MappingSettings
from processor.sources.stripe import to_major_units


def _run_event(run, event, settings=None):
    return run("stripe", event["type"], event, settings=settings)


# --- checkout.session.completed / async_payment_succeeded


def test_completed_paid_acacia_yields_order_paid_with_shipping_region_and_metadata_click(run, load):
    [event] = _run_event(run, load("stripe/checkout_session_completed_acacia.json"))
    assert isinstance(event, Order)
    assert event.type == "order.paid"
    assert event.event_id == "stripe:checkout:cs_test_a1AcaciaSession0001:paid"
    assert event.occurred_at == datetime.fromtimestamp(1763719200, tz=UTC)
    assert (event.order_id, event.amount, event.currency) == (
        "cs_test_a1AcaciaSession0001",
        Decimal("49.99"),
        "USD",
    )
    assert event.click_id == "Zr81kd"  # metadata wins over client_reference_id
    assert event.person.phone == "+15125550177"
    assert (event.person.first_name, event.person.last_name) == ("Sam", "Rivera")
    assert (event.person.state, event.person.country) == ("CO", "US")  # shipping (top-level in acacia)
    assert event.custom_variables == {}  # the planner derives the order variables from these fields
    assert event.tags == ["stripe"]


def test_completed_promotions_opt_in_is_email_consent_at_event_time(run, load):
    [event] = _run_event(run, load("stripe/checkout_session_completed_acacia.json"))
    assert event.email_consent.status == "subscribed"
    assert event.email_consent.source == "checkout"
    assert event.email_consent.timestamp == datetime.fromtimestamp(1763719200, tz=UTC)
    assert event.email_consent.consent_text == "Keep me updated with news and personalized offers"
    assert event.sms_consent is None


def test_completed_basil_jpy_reads_collected_information_and_client_reference_click(run, load):
    [event] = _run_event(run, load("stripe/checkout_session_completed_basil_jpy.json"))
    assert (event.amount, event.currency) == (Decimal("1500"), "JPY")
    assert event.click_id == "Hk3nQ2"
    # Name from shipping details, kept whole: Japanese names are written family name first.
    assert (event.person.first_name, event.person.last_name) == ("佐藤 花子", None)
    assert event.person.country == "JP"
    assert event.person.state is None  # 'Osaka' is no two-letter code
    assert event.person.phone == "+819012345678"
    assert event.email_consent is None


def test_completed_basil_shape_and_acacia_shape_give_the_same_person(run, load):
    basil = load("stripe/checkout_session_completed_basil_jpy.json")
    acacia = load("stripe/checkout_session_completed_basil_jpy.json")
    session = acacia["data"]["object"]
    session["shipping_details"] = session.pop("collected_information")["shipping_details"]
    acacia["api_version"] = "2024-09-30.acacia"
    assert _run_event(run, basil)[0].person == _run_event(run, acacia)[0].person


def test_client_reference_id_is_no_click_when_settings_say_so(run, load):
    settings = MappingSettings(stripe_client_reference_is_click_id=False)
    [event] = _run_event(run, load("stripe/checkout_session_completed_basil_jpy.json"), settings)
    assert event.click_id is None


def test_completed_unpaid_endive_kwd_yields_order_placed_with_three_decimals(run, load):
    [event] = _run_event(run, load("stripe/checkout_session_completed_endive_kwd_unpaid.json"))
    assert event.type == "order.placed"
    assert event.event_id == "stripe:checkout:cs_live_c1EndiveSession0003:placed"
    assert (event.amount, event.currency) == (Decimal("12.345"), "KWD")
    assert event.click_id == "Kw55aa"  # metadata under the click parameter's name
    assert event.person.phone is None  # phone collection off: still emitted, the planner skips it
    assert (event.person.first_name, event.person.last_name) == ("نورة", "الصباح")
    assert event.email_consent.status == "unsubscribed"  # promotions opt_out
    assert event.email_consent.consent_text is None


def test_async_payment_succeeded_clover_yields_order_paid_for_the_same_session(run, load):
    [event] = _run_event(run, load("stripe/checkout_session_async_payment_succeeded_clover.json"))
    assert event.type == "order.paid"
    assert event.event_id == "stripe:checkout:cs_live_c1EndiveSession0003:paid"
    assert event.person.phone == "+96550001234"
    assert event.person.country == "KW"


def test_completed_no_payment_required_yields_order_paid(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["data"]["object"]["payment_status"] = "no_payment_required"
    payload["data"]["object"]["amount_total"] = 0
    [event] = _run_event(run, payload)
    assert (event.type, event.amount) == ("order.paid", Decimal("0.00"))


def test_completed_setup_mode_yields_contact_upsert(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    session = payload["data"]["object"]
    session.update(mode="setup", amount_total=None, currency=None, payment_status="no_payment_required")
    [event] = _run_event(run, payload)
    assert isinstance(event, ContactUpsert)
    assert event.email_consent.status == "subscribed"


def test_completed_with_unknown_payment_status_is_invalid(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["data"]["object"]["payment_status"] = "partially_paid"
    with pytest.raises(InvalidEventError, match="payment_status"):
        _run_event(run, payload)


def test_completed_without_amount_is_invalid(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    del payload["data"]["object"]["amount_total"]
    with pytest.raises(InvalidEventError, match="amount_total"):
        _run_event(run, payload)


def test_completed_with_fractional_amount_is_invalid(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["data"]["object"]["amount_total"] = 49.5
    with pytest.raises(InvalidEventError, match="amount_total"):
        _run_event(run, payload)


def test_completed_carrying_another_object_is_invalid(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["data"]["object"]["object"] = "payment_intent"
    with pytest.raises(InvalidEventError, match="payment_intent"):
        _run_event(run, payload)


def test_unknown_promotions_value_is_invalid(run, load):
    payload = load("stripe/checkout_session_completed_acacia.json")
    payload["data"]["object"]["consent"]["promotions"] = "maybe"
    with pytest.raises(InvalidEventError, match="promotions"):
        _run_event(run, payload)


# --- amounts


@pytest.mark.parametrize(
    ("amount", "currency", "major"),
    [
        (1250, "usd", Decimal("12.50")),
        (1500, "jpy", Decimal("1500")),
        (990, "KRW", Decimal("990")),
        (12345, "kwd", Decimal("12.345")),
        (1000, "bhd", Decimal("1.000")),
        (5, "eur", Decimal("0.05")),
        (0, "xof", Decimal("0")),
    ],
)
def test_minor_units_become_exact_major_units(amount, currency, major):
    assert to_major_units(amount, currency) == major
    assert str(to_major_units(amount, currency)) == str(major)


# --- customer.created|updated


def test_customer_created_yields_upsert_with_phone_from_shipping(run, load):
    [event] = _run_event(run, load("stripe/customer_created_dahlia.json"))
    assert isinstance(event, ContactUpsert)
    assert event.event_id == "stripe:evt_1TDahlia000000000000005"
    assert event.occurred_at == datetime.fromtimestamp(1763650000, tz=UTC)
    assert event.person.phone == "416-555-0123"
    assert (event.person.first_name, event.person.last_name) == ("Oliver", None)
    assert (event.person.state, event.person.country) == ("ON", "CA")
    assert event.sms_consent is None
    assert event.email_consent is None


def test_customer_updated_splits_name_on_whitespace(run, load):
    [event] = _run_event(run, load("stripe/customer_updated_acacia.json"))
    assert (event.person.first_name, event.person.last_name) == ("Sam", "Rivera Jr.")
    assert (event.person.state, event.person.email) == ("TX", "sam.rivera@example.com")


# --- shape and type checks


def test_unhandled_stripe_type_is_unsupported(run):
    with pytest.raises(UnsupportedEventError, match=r"invoice\.paid"):
        run("stripe", "invoice.paid", {"id": "evt_1", "type": "invoice.paid"})


def test_envelope_topic_that_differs_from_event_type_is_invalid(run, load):
    payload = load("stripe/customer_created_dahlia.json")
    with pytest.raises(InvalidEventError, match="does not match"):
        run("stripe", "customer.updated", payload)


def test_event_without_created_is_invalid(run, load):
    payload = load("stripe/customer_created_dahlia.json")
    del payload["created"]
    with pytest.raises(InvalidEventError, match="created"):
        _run_event(run, payload)


def test_event_without_data_object_is_invalid(run, load):
    payload = load("stripe/customer_created_dahlia.json")
    payload["data"] = {"object": "cus_1"}
    with pytest.raises(InvalidEventError, match=r"data\.object"):
        _run_event(run, payload)
