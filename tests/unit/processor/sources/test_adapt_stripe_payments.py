"""Stripe payments without Checkout (payment_intent.succeeded), Checkout's own PaymentIntents, one
revenue currency (Adaptive Pricing), and full names in family-name-first scripts."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from gateway_events import Order
from processor.plan import RecordConversion, plan
from processor.settings import MappingSettings
from processor.sources._common import split_name


def _run_event(run, event, settings=None):
    return run("stripe", event["type"], event, settings=settings)


def _intent(load, **changes):
    event = copy.deepcopy(load("stripe/payment_intent_succeeded_dahlia.json"))
    event["data"]["object"].update(changes)
    return event


def test_payment_intent_succeeded_yields_order_paid_with_receipt_email_and_shipping_phone(run, load):
    [event] = _run_event(run, load("stripe/payment_intent_succeeded_dahlia.json"))
    assert isinstance(event, Order)
    assert event.type == "order.paid"
    assert event.event_id == "stripe:payment_intent:pi_3RDahliaPaymentEl0009:paid"
    assert (event.order_id, event.amount, event.currency) == (
        "pi_3RDahliaPaymentEl0009",
        Decimal("42.00"),
        "USD",
    )
    assert event.click_id == "Pz81Kd"
    person = event.person
    assert (person.email, person.phone, person.country) == ("lee.min@example.com", "416 555 0143", "CA")
    assert (person.first_name, person.last_name) == ("Lee", "Min")


def test_payment_intent_shipping_country_is_the_phone_region(run, load):
    [event] = _run_event(run, load("stripe/payment_intent_succeeded_dahlia.json"))
    p = plan(event, MappingSettings())
    assert p.steps[0].phone == "+14165550143"
    assert isinstance(p.steps[-1], RecordConversion)


def test_payment_intent_amount_is_amount_received_in_major_units(run, load):
    [event] = _run_event(run, _intent(load, amount=5000, amount_received=3150))
    assert event.amount == Decimal("31.50")


def test_payment_intent_owned_by_a_checkout_session_is_skipped(run, load):
    owned = _intent(load, payment_details={"order_reference": "cs_live_a1B2c3D4e5"})
    assert _run_event(run, owned) == []


def test_payment_intent_without_payment_details_is_not_taken_for_checkout(run, load):
    [event] = _run_event(run, _intent(load, payment_details=None))
    assert event.order_id == "pi_3RDahliaPaymentEl0009"


# --- one currency for NOMI revenue


def test_checkout_in_customer_currency_uses_adaptive_pricing_merchant_amount(run, load):
    event = copy.deepcopy(load("stripe/checkout_session_completed_acacia.json"))
    session = event["data"]["object"]
    session.update(
        currency="eur",
        amount_total=2300,
        currency_conversion={
            "amount_subtotal": 2500,
            "amount_total": 2500,
            "fx_rate": "0.92",
            "source_currency": "usd",
        },
    )
    [order] = _run_event(run, event)
    assert (order.amount, order.currency) == (Decimal("25.00"), "USD")


def test_checkout_in_another_currency_without_conversion_records_no_conversion(run, load):
    [order] = _run_event(run, load("stripe/checkout_session_completed_basil_jpy.json"))
    p = plan(order, MappingSettings())
    assert not any(isinstance(s, RecordConversion) for s in p.steps)
    assert [s.reason for s in p.skips] == ["currency_mismatch"]


def test_stripe_currency_setting_names_the_accounts_currency(run, load):
    settings = MappingSettings(stripe_currency="JPY")
    [order] = _run_event(run, load("stripe/checkout_session_completed_basil_jpy.json"), settings)
    conversions = [s for s in plan(order, settings).steps if isinstance(s, RecordConversion)]
    assert [c.amount for c in conversions] == [Decimal("1500")]


# --- names


@pytest.mark.parametrize("name", ["山田 太郎", "王 小明", "김 민준", "やまだ たろう"])
def test_split_name_family_name_first_script_is_kept_whole(name):
    assert split_name(name) == (name, None)


def test_split_name_latin_name_still_splits_at_the_first_space():
    assert split_name("Ana María García") == ("Ana", "María García")
