"""`backfill shopify`: what one exported customer becomes (the consent rules), the resume token, progress."""

import io
import json

import pytest

from cli.backfill import Progress, ResumeToken, Tally, decide
from cli.common import CliError
from processor.settings import MappingSettings
from shopify_sandbox.state import customer_node

SHOP = "acme.myshopify.com"
WITH_TEXT = MappingSettings(consent_texts={"shopify_customer": "Yes, text me offers from Acme."})


def line(index: int, **changes) -> str:
    node = customer_node(index)
    node.pop("__typename")
    for key, value in changes.items():
        node[key] = value
    return json.dumps(node)


def test_decide_sms_opt_in_outside_checkout_carries_the_configured_text_and_original_time():
    decision = decide(line(2), WITH_TEXT, shop_domain=SHOP)  # kind 2: SUBSCRIBED, collected OTHER
    sms = decision.event.sms_consent
    assert (sms.status, sms.source, sms.consent_text) == (
        "subscribed",
        "api",
        "Yes, text me offers from Acme.",
    )
    assert sms.timestamp.isoformat() == "2025-06-01T12:02:00+00:00"


def test_decide_sms_opt_in_from_checkout_is_source_checkout():
    decision = decide(line(1), MappingSettings(), shop_domain=SHOP)  # kind 1: collected SHOPIFY
    assert decision.event.sms_consent.source == "checkout"


def test_decide_sms_opt_in_without_configured_text_is_dropped_with_a_reason():
    # Customer 3: SMS opt-in outside checkout, no email opt-in; no shopify_customer text configured.
    decision = decide(line(3, emailMarketingConsent=None), MappingSettings(), shop_domain=SHOP)
    assert (decision.event, decision.skip) == (None, "sms_opt_in_without_consent_text")


def test_decide_keeps_the_email_opt_in_when_the_sms_one_lacks_its_text():
    decision = decide(line(4), MappingSettings(), shop_domain=SHOP)  # email subscribed (4 % 3 != 0)
    assert decision.event.sms_consent is None
    assert decision.event.email_consent.status == "subscribed"
    assert decision.notes == ["sms_opt_in_without_consent_text"]


def test_decide_opt_out_rides_along_with_an_imported_customer():
    decision = decide(line(16), WITH_TEXT, shop_domain=SHOP)  # kind 6: SMS unsubscribed, email subscribed
    assert decision.event.sms_consent.status == "unsubscribed"


def test_decide_customer_without_any_opt_in_is_skipped():
    assert decide(line(27), WITH_TEXT, shop_domain=SHOP).skip == "no_opt_in"  # kind 7, email not subscribed


def test_decide_email_subscriber_without_phone_is_skipped_no_phone():
    assert decide(line(19), WITH_TEXT, shop_domain=SHOP).skip == "no_phone"  # kind 9, email subscribed


def test_decide_event_id_is_the_same_for_the_same_consent_facts():
    first = decide(line(2), WITH_TEXT, shop_domain=SHOP).event
    again = decide(line(2, firstName="Changed"), WITH_TEXT, shop_domain=SHOP).event
    assert first.event_id == again.event_id
    assert first.event_id.startswith("shopify:backfill:customer:7001000002:")


def test_decide_event_id_changes_when_the_consent_changes():
    consent = dict(customer_node(2)["smsMarketingConsent"], consentUpdatedAt="2026-01-01T00:00:00Z")
    first = decide(line(2), WITH_TEXT, shop_domain=SHOP).event
    changed = decide(line(2, smsMarketingConsent=consent), WITH_TEXT, shop_domain=SHOP).event
    assert first.event_id != changed.event_id


def test_decide_garbage_line_is_skipped_with_a_reason():
    assert decide("{not json", WITH_TEXT, shop_domain=SHOP).skip == "unreadable_line"


def test_resume_token_round_trips():
    token = ResumeToken("gid://shopify/BulkOperation/7", 1200, SHOP)
    assert ResumeToken.decode(token.encode()) == token


def test_resume_token_that_is_not_one_is_refused():
    with pytest.raises(CliError, match="resume token"):
        ResumeToken.decode("garbage!")


def test_progress_line_shows_counts_rate_and_eta():
    tally = Tally(read=500, queued=450, total=1000)
    tally.skipped["no_opt_in"] = 50
    out = io.StringIO()
    Progress(out, enabled=True).show(tally.progress_line(), force=True)
    text = out.getvalue()
    assert text.startswith("\r")
    assert "read 500/1,000" in text
    assert "queued 450" in text
    assert "skipped 50" in text
    assert "ETA" in text


def test_progress_is_silent_off_a_terminal():
    out = io.StringIO()
    Progress(out, enabled=False).show("anything", force=True)
    assert out.getvalue() == ""


def test_decide_never_attaches_sms_consent_to_an_address_phone():
    address = dict(customer_node(2)["defaultAddress"], phone="+12125559999")
    decision = decide(line(2, phone=None, defaultAddress=address), WITH_TEXT, shop_domain=SHOP)
    assert decision.event.sms_consent is None  # the email opt-in (2 % 3 != 0) is still imported
    assert decision.notes == ["sms_consent_without_customer_phone"]
