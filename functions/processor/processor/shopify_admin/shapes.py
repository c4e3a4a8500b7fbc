"""GraphQL Admin API shapes → the REST webhook shapes the Shopify adapter reads. The one place where
the two vocabularies meet: the adapter never learns GraphQL, the queries ask for what is mapped here.

GraphQL ids are `gid://shopify/<Type>/<n>`; REST ids are `<n>`. GraphQL enums are upper-case (`PAID`,
`SUBSCRIBED`, `SUCCESS`); webhooks send them lower-case. Money comes as `{shopMoney {amount
currencyCode}}`; the adapter reads the shop's currency (`currency`), so shop money is what is mapped.
"""

from __future__ import annotations

from typing import Any

_ADDRESS = "firstName lastName phone provinceCode countryCodeV2"
_SMS_CONSENT = (
    "smsMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt consentCollectedFrom }"
)
_EMAIL_CONSENT = "emailMarketingConsent { marketingState marketingOptInLevel consentUpdatedAt }"

# Every field the adapter's ShopifyOrder model reads, and nothing else (cost is per field).
ORDER_QUERY = f"""query OrderForWebhook($id: ID!) {{
  order(id: $id) {{
    id name email phone createdAt updatedAt processedAt test displayFinancialStatus
    customerAcceptsMarketing clientIp
    totalPriceSet {{ shopMoney {{ amount currencyCode }} }}
    currentTotalPriceSet {{ shopMoney {{ amount currencyCode }} }}
    customAttributes {{ key value }}
    customerJourneySummary {{ firstVisit {{ landingPage }} lastVisit {{ landingPage }} }}
    customer {{ id email phone firstName lastName {_SMS_CONSENT} {_EMAIL_CONSENT} }}
    shippingAddress {{ {_ADDRESS} }}
    billingAddress {{ {_ADDRESS} }}
    fulfillments(first: 20) {{
      id name status createdAt updatedAt
      trackingInfo(first: 5) {{ company number url }}
    }}
  }}
}}"""

# The fields of one customer in the backfill's bulk query (the JSONL has one such object per line).
CUSTOMER_FIELDS = f"id email phone firstName lastName createdAt updatedAt {_SMS_CONSENT} {_EMAIL_CONSENT} defaultAddress {{ {_ADDRESS} }}"


def order_gid(order_id: str) -> str:
    return f"gid://shopify/Order/{order_id}"


def legacy_id(gid: Any) -> str | None:
    """`gid://shopify/Order/123` → `123` (a bare number is returned as text)."""
    if gid is None:
        return None
    text = str(gid)
    return text.rsplit("/", 1)[-1] if text.startswith("gid://") else text


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _address(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    return {
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "phone": node.get("phone"),
        "province_code": node.get("provinceCode"),
        "country_code": node.get("countryCodeV2"),
    }


def _consent(node: Any, *, sms: bool) -> dict[str, Any] | None:
    """A marketing consent state; only SMS consent says where it was collected."""
    if not isinstance(node, dict):
        return None
    consent = {
        "state": _lower(node.get("marketingState")),
        "opt_in_level": _lower(node.get("marketingOptInLevel")),
        "consent_updated_at": node.get("consentUpdatedAt"),
    }
    if sms:
        consent["consent_collected_from"] = node.get("consentCollectedFrom")
    return consent


def customer_webhook(node: Any) -> dict[str, Any] | None:
    """A GraphQL Customer → the `customers/update` webhook body (consent embedded, as API ≤ 2024-10)."""
    if not isinstance(node, dict):
        return None
    return {
        "id": legacy_id(node.get("id")),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "default_address": _address(node.get("defaultAddress")),
        "sms_marketing_consent": _consent(node.get("smsMarketingConsent"), sms=True),
        "email_marketing_consent": _consent(node.get("emailMarketingConsent"), sms=False),
    }


def _money(node: Any) -> tuple[str | None, str | None]:
    shop = node.get("shopMoney") if isinstance(node, dict) else None
    if not isinstance(shop, dict):
        return None, None
    return shop.get("amount"), shop.get("currencyCode")


def _landing_site(journey: Any) -> str | None:
    # REST's landing_site is the page of the visit that led to the order: the last visit, else the first.
    if not isinstance(journey, dict):
        return None
    for visit in ("lastVisit", "firstVisit"):
        page = journey.get(visit)
        if isinstance(page, dict) and page.get("landingPage"):
            return str(page["landingPage"])
    return None


def _fulfillment(node: dict[str, Any], order_id: str | None) -> dict[str, Any]:
    tracking = [t for t in node.get("trackingInfo") or [] if isinstance(t, dict)]
    companies = [t["company"] for t in tracking if t.get("company")]
    return {
        "id": legacy_id(node.get("id")),
        "order_id": order_id,
        "name": node.get("name"),
        "status": _lower(node.get("status")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "tracking_company": companies[0] if companies else None,
        "tracking_numbers": [t.get("number") for t in tracking if t.get("number")],
        "tracking_urls": [t.get("url") for t in tracking if t.get("url")],
    }


def order_webhook(node: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL Order → the `orders/*` webhook body with every field the adapter reads."""
    order_id = legacy_id(node.get("id"))
    total, currency = _money(node.get("totalPriceSet"))
    current_total, current_currency = _money(node.get("currentTotalPriceSet"))
    customer = node.get("customer") if isinstance(node.get("customer"), dict) else None
    return {
        "id": order_id,
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "email": node.get("email"),
        "contact_email": node.get("email"),
        "phone": node.get("phone"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "processed_at": node.get("processedAt"),
        "test": node.get("test"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        "total_price": total,
        "current_total_price": current_total,
        "currency": currency or current_currency,
        "landing_site": _landing_site(node.get("customerJourneySummary")),
        "note_attributes": [
            {"name": a.get("key"), "value": a.get("value")}
            for a in node.get("customAttributes") or []
            if isinstance(a, dict)
        ],
        "buyer_accepts_marketing": node.get("customerAcceptsMarketing"),
        "client_details": {"browser_ip": node.get("clientIp")} if node.get("clientIp") else None,
        "customer": (
            {
                "id": legacy_id(customer.get("id")),
                "email": customer.get("email"),
                "phone": customer.get("phone"),
                "first_name": customer.get("firstName"),
                "last_name": customer.get("lastName"),
                "sms_marketing_consent": _consent(customer.get("smsMarketingConsent"), sms=True),
                "email_marketing_consent": _consent(customer.get("emailMarketingConsent"), sms=False),
            }
            if customer
            else None
        ),
        "shipping_address": _address(node.get("shippingAddress")),
        "billing_address": _address(node.get("billingAddress")),
        "fulfillments": [
            _fulfillment(f, order_id) for f in node.get("fulfillments") or [] if isinstance(f, dict)
        ],
    }
