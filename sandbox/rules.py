"""NOMI's documented rules that do not depend on the sandbox's state: phones, tokens, formats, costs."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from decimal import Decimal

import phonenumbers
from phonenumbers import geocoder
from phonenumbers import timezone as phone_timezones

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico",
}  # fmt: skip
_STATE_CODES_BY_NAME = {name.lower(): code for code, name in US_STATES.items()}

UNKNOWN_TIMEZONE = "Etc/Unknown"
DEFAULT_REGION = "US"
_TOKEN = re.compile(r"\[([A-Za-z0-9_]+)\]")

# GSM 03.38: the basic set costs one septet per character, the extension set two.
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = set("^{}\\[~]|€\f")


class InvalidPhoneError(ValueError):
    """A phone number that cannot be read as a possible number."""


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> phonenumbers.PhoneNumber:
    """Parse `raw` as NOMI does: lenient about punctuation, strict about length.

    `is_possible_number` rather than `is_valid_number`, because the reference's own example
    (`5555555555` → `+15555555555`) is a fictional 555 number that is possible but not valid.
    """
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(f"The phone number '{raw}' is not a valid phone number.") from exc
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneError(f"The phone number '{raw}' is not a valid phone number.")
    return parsed


def e164(parsed: phonenumbers.PhoneNumber) -> str:
    """The E.164 text of a parsed number, e.g. `+15555555555`."""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def timezone_for(parsed: phonenumbers.PhoneNumber) -> str:
    """One IANA zone when the number pins one down, else `Etc/Unknown` (as NOMI's examples show)."""
    zones = phone_timezones.time_zones_for_number(parsed)
    return zones[0] if len(zones) == 1 else UNKNOWN_TIMEZONE


def state_for(parsed: phonenumbers.PhoneNumber) -> str | None:
    """Two-letter US state from the area code's geography, or None when it is not a US place."""
    if phonenumbers.region_code_for_number(parsed) != "US":
        return None
    place = geocoder.description_for_number(parsed, "en")
    if ", " in place:
        code = place.rsplit(", ", 1)[1]
        return code if code in US_STATES else None
    return _STATE_CODES_BY_NAME.get(place.lower())


def render_tokens(text: str, values: dict[str, str]) -> str:
    """Replace each `[key]` whose key is known; unknown tokens stay verbatim (single pass)."""

    def substitute(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return _TOKEN.sub(substitute, text)


def sms_segments(text: str) -> int:
    """How many SMS segments a body costs: GSM-7 160/153 septets, else UCS-2 70/67 units."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text):
        units = sum(2 if ch in _GSM_EXTENSION else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return math.ceil(units / multi)


def contact_time(moment: datetime) -> str:
    """Contacts and campaigns' updated_at/created_at: `2024-03-31T21:12:30.000000Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plain_time(moment: datetime) -> str:
    """Messages' created_at and campaigns' send_at: `2023-07-29 17:33:02` (UTC, no zone)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def consent_time(moment: datetime) -> str:
    """Consent endpoints: `2026-01-15T10:30:00+00:00`."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def money(amount: Decimal) -> int | float:
    """Revenue as a JSON number: an integer when whole (as in NOMI's examples), else 2 decimals."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(round(amount, 2))
