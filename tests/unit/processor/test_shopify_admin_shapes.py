"""GraphQL Admin objects → the webhook shapes the Shopify adapter reads (the one mapping place)."""

from processor.shopify_admin.shapes import customer_webhook, legacy_id, order_webhook
from shopify_sandbox.state import customer_node, order_node


def test_legacy_id_strips_the_gid():
    assert (legacy_id("gid://shopify/Order/42"), legacy_id(42), legacy_id(None)) == ("42", "42", None)


def test_order_webhook_maps_money_enums_and_ids():
    webhook = order_webhook(order_node(2, customer_node(1)))
    assert (webhook["id"], webhook["total_price"], webhook["currency"]) == ("5931082317002", "22.02", "USD")
    assert webhook["financial_status"] == "paid"
    assert webhook["landing_site"].endswith("?sub=Clk00002")
    assert webhook["customer"]["sms_marketing_consent"]["state"] == "subscribed"
    assert webhook["customer"]["sms_marketing_consent"]["consent_collected_from"] == "SHOPIFY"
    [fulfillment] = webhook["fulfillments"]
    assert (fulfillment["status"], fulfillment["order_id"], fulfillment["tracking_company"]) == (
        "success",
        "5931082317002",
        "UPS",
    )
    assert fulfillment["tracking_numbers"] == ["1Z999AA10000000002"]


def test_order_webhook_without_customer_or_journey_keeps_none():
    node = order_node(1, None)
    node.update(customer=None, customerJourneySummary=None, fulfillments=[])
    webhook = order_webhook(node)
    assert (webhook["customer"], webhook["landing_site"], webhook["fulfillments"]) == (None, None, [])


def test_customer_webhook_embeds_both_consents_lower_cased():
    webhook = customer_webhook(customer_node(5))
    assert webhook["id"] == "7001000005"
    assert webhook["sms_marketing_consent"] == {
        "state": "pending",
        "opt_in_level": "confirmed_opt_in",
        "consent_updated_at": "2025-06-01T12:05:00Z",
        "consent_collected_from": "OTHER",
    }
    assert webhook["email_marketing_consent"]["state"] == "subscribed"
