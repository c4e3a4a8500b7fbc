"""The planner's shipped SMS (rendered text, carrier links, recipient rule) and its money (one
currency, the currency's decimals, conversions that survive a bad phone, the conversion policy)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from processor_fakes import NOW, person, shipped

from gateway_events import parse_canonical_event
from processor.carriers import tracking_url
from processor.plan import RecordConversion, SendTransactional, UpsertContact, plan, render_message
from processor.settings import MappingSettings

SETTINGS = MappingSettings()


def _shipped(**more):
    return parse_canonical_event(shipped(**more))


def _order(**more):
    event = {
        "type": "order.paid",
        "event_id": "o-1",
        "occurred_at": NOW.isoformat(),
        "order_id": "9",
        "order_name": "#1042",
        "person": person(),
        "amount": "12.50",
        "currency": "USD",
        "click_id": "click-1",
        **more,
    }
    return parse_canonical_event(event)


def _send(p) -> SendTransactional:
    return next(s for s in p.steps if isinstance(s, SendTransactional))


def _reasons(p) -> list[str]:
    return [s.reason for s in p.skips]


# --- the shipped SMS is rendered in the gateway ---------------------------------------------


def test_plan_two_parcels_of_one_contact_each_carry_their_own_link():
    first = _send(plan(_shipped(shipment_id="A", tracking_urls=["https://t.example/A"]), SETTINGS))
    second = _send(plan(_shipped(shipment_id="B", tracking_urls=["https://t.example/B"]), SETTINGS))
    assert first.message.endswith("Track it: https://t.example/A")
    assert second.message.endswith("Track it: https://t.example/B")


def test_plan_shipped_still_writes_the_tracking_custom_variables():
    upsert = plan(_shipped(), SETTINGS).steps[0]
    assert isinstance(upsert, UpsertContact)
    assert upsert.custom_variables["tracking_url"] == "https://track.example/1Z999"
    assert upsert.custom_variables["order_id"] == "#1042"


def test_plan_shipped_leaves_tokens_it_cannot_fill_for_nomi():
    settings = MappingSettings(shipped_template="Hi [first_name] in [state]: [tracking_url]")
    message = _send(plan(_shipped(), settings)).message
    assert message == "Hi Ada in [state]: https://track.example/1Z999"


def test_render_message_drops_brackets_from_values_so_they_cannot_become_tokens():
    assert render_message("Hi [first_name]!", {"first_name": "[tracking_url]"}) == "Hi tracking_url!"


def test_render_message_blank_name_leaves_no_space_before_the_comma():
    assert render_message("Hi [first_name], it shipped", {"first_name": ""}) == "Hi, it shipped"


def test_render_message_keeps_the_templates_own_spacing():
    text = render_message(
        "Bonjour [first_name] ! Suivi : [tracking_url]", {"first_name": "Ada", "tracking_url": "u"}
    )
    assert text == "Bonjour Ada ! Suivi : u"


# --- tracking links -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("carrier", "number", "start"),
    [
        ("UPS", "1Z999AA10123456784", "https://www.ups.com/track?tracknum=1Z999AA10123456784"),
        ("USPS", "9400111899223197428490", "https://tools.usps.com/go/TrackConfirmAction?tLabels=94001"),
        ("FedEx", "449044304137821", "https://www.fedex.com/fedextrack/?trknbr=449044304137821"),
        ("DHL Express", "JD014600006281230703", "https://www.dhl.com/"),
        ("Royal Mail", "AB123456789GB", "https://www.royalmail.com/track-your-item#/tracking-results/AB1"),
        ("Canada Post", "1234567890123456", "https://www.canadapost-postescanada.ca/"),
        ("Australia Post", "33ABC1234567", "https://auspost.com.au/mypost/track/details/33ABC1234567"),
        ("Japan Post (EN)", "EJ123456789JP", "https://trackings.post.japanpost.jp/"),
    ],
)
def test_tracking_url_known_carrier_builds_its_tracking_page(carrier, number, start):
    url = tracking_url(carrier, number)
    assert url is not None
    assert url.startswith(start)
    assert number in url


def test_tracking_url_unknown_carrier_or_odd_number_has_none():
    assert tracking_url("Bob's Couriers", "123456") is None
    assert tracking_url("UPS", "1Z99/../../x") is None


def test_plan_shipped_number_only_known_carrier_texts_the_built_link():
    p = plan(_shipped(tracking_urls=[], tracking_numbers=["1Z999AA10123456784"], carrier="UPS"), SETTINGS)
    assert _send(p).message.endswith("Track it: https://www.ups.com/track?tracknum=1Z999AA10123456784")
    assert p.steps[0].custom_variables["tracking_url"].startswith("https://www.ups.com/")


def test_plan_shipped_number_only_unknown_carrier_uses_the_template_without_link():
    p = plan(_shipped(tracking_urls=[], tracking_numbers=["XY123456"], carrier="Local Van"), SETTINGS)
    message = _send(p).message
    assert message == "Hi Ada, your order #1042 has shipped. Tracking number: XY123456"
    assert "Track it" not in message


def test_settings_template_without_link_refuses_the_link_token():
    with pytest.raises(ValueError, match="tracking_url"):
        MappingSettings(shipped_template_without_link="Track: [tracking_url]")


# --- who is texted --------------------------------------------------------------------------


def test_plan_shipped_buyer_phone_is_preferred_over_the_recipient():
    gift = {"phone": "+15555550199", "first_name": "Gift", "last_name": "Friend"}
    p = plan(_shipped(recipient=gift), SETTINGS)
    assert _send(p).phone == "+15555550100"
    assert _send(p).message.startswith("Hi Ada,")


def test_plan_shipped_without_buyer_phone_texts_recipient_without_buyer_name_or_email():
    gift = {"phone": "+15555550199", "first_name": "Gift", "last_name": "Friend"}
    buyer = {"phone": None, "first_name": "Ada", "email": "ada@example.com"}
    p = plan(_shipped(recipient=gift, person=buyer), SETTINGS)
    upsert, send = p.steps
    assert (upsert.phone, upsert.first_name, upsert.email) == ("+15555550199", "Gift", None)
    assert send.phone == "+15555550199"
    assert "Ada" not in send.message


# --- junk phones ----------------------------------------------------------------------------


def test_plan_shipped_phone_with_letters_is_no_phone_no_sms_and_a_reason():
    p = plan(_shipped(phone="555-555-SHIP"), SETTINGS)
    assert p.steps == ()
    assert _reasons(p) == ["invalid_phone"]


def test_plan_order_paid_junk_phone_keeps_the_conversion():
    p = plan(_order(person=person("555-555-SHIP")), SETTINGS)
    assert [type(s) for s in p.steps] == [RecordConversion]
    assert _reasons(p) == ["invalid_phone"]


# --- money ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [("10", "USD", "10.00"), ("10.5", "EUR", "10.50"), ("12800", "JPY", "12800"), ("12.34", "KWD", "12.340")],
)
def test_plan_order_total_has_the_currency_decimals(amount, currency, text):
    p = plan(_order(amount=amount, currency=currency, click_id=None), SETTINGS)
    assert p.steps[0].custom_variables["last_order_total"] == text


def test_plan_conversion_in_another_currency_than_revenue_is_skipped_with_reason():
    p = plan(_order(currency="JPY", amount="1500"), MappingSettings(revenue_currency="usd"))
    assert not any(isinstance(s, RecordConversion) for s in p.steps)
    assert _reasons(p) == ["currency_mismatch"]


def test_plan_conversion_in_another_currency_than_the_shop_is_skipped():
    p = plan(_order(currency="JPY", amount="1500", shop_currency="USD"), SETTINGS)
    assert _reasons(p) == ["currency_mismatch"]


def test_plan_conversion_in_the_shop_currency_is_recorded():
    p = plan(_order(currency="JPY", amount="1500", shop_currency="JPY"), SETTINGS)
    [conversion] = [s for s in p.steps if isinstance(s, RecordConversion)]
    assert conversion.amount == Decimal("1500")


def test_plan_conversion_policy_setting_reaches_the_step():
    default = next(s for s in plan(_order(), SETTINGS).steps if isinstance(s, RecordConversion))
    strict = MappingSettings(conversion_delivery="at_most_once")
    at_most = next(s for s in plan(_order(), strict).steps if isinstance(s, RecordConversion))
    assert (default.at_most_once, at_most.at_most_once) == (False, True)
