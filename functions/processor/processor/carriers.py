"""Tracking pages of well-known carriers, for a shipment that names its carrier and number but no URL.

Carrier names are matched loosely (case, spaces and punctuation ignored; Shopify's `tracking_company`
values such as "DHL Express" or "Japan Post (EN)" included). An unknown carrier, or a number that is
not plain letters, digits and dashes, gets no link: the planner then uses the template without one.
"""

from __future__ import annotations

import re

_UPS = "https://www.ups.com/track?tracknum={number}"
_USPS = "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}"
_FEDEX = "https://www.fedex.com/fedextrack/?trknbr={number}"
_DHL = "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={number}"
_ROYAL_MAIL = "https://www.royalmail.com/track-your-item#/tracking-results/{number}"
_CANADA_POST = "https://www.canadapost-postescanada.ca/track-reperer/en#/details/{number}"
_AUSTRALIA_POST = "https://auspost.com.au/mypost/track/details/{number}"
_JAPAN_POST = (
    "https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={number}&locale={locale}"
)

# Normalised carrier name (lower case, letters and digits only) → tracking page.
_TRACKING_PAGES: dict[str, str] = {
    "ups": _UPS,
    "unitedparcelservice": _UPS,
    "usps": _USPS,
    "unitedstatespostalservice": _USPS,
    "fedex": _FEDEX,
    "federalexpress": _FEDEX,
    "dhl": _DHL,
    "dhlexpress": _DHL,
    "royalmail": _ROYAL_MAIL,
    "canadapost": _CANADA_POST,
    "postescanada": _CANADA_POST,
    "australiapost": _AUSTRALIA_POST,
    "auspost": _AUSTRALIA_POST,
    "japanpost": _JAPAN_POST.replace("{locale}", "en"),
    "japanposten": _JAPAN_POST.replace("{locale}", "en"),
    "japanpostja": _JAPAN_POST.replace("{locale}", "ja"),
    "日本郵便": _JAPAN_POST.replace("{locale}", "ja"),
}
_NOT_NAME = re.compile(r"[\W_]+")
# Letters, digits and inner dashes only: nothing that could change the URL's meaning.
_TRACKING_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{2,48}[A-Za-z0-9]$")


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's tracking page for `number`, or None when the carrier or the number is unusable."""
    if not carrier or not number:
        return None
    page = _TRACKING_PAGES.get(_NOT_NAME.sub("", carrier.lower()))
    number = number.replace(" ", "")
    if page is None or not _TRACKING_NUMBER.match(number):
        return None
    return page.format(number=number)
