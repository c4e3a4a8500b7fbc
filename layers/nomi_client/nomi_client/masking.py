"""Masking of personal data before anything is logged: the one place the gateway does it.

Phones keep their country prefix and last three digits, emails their first letter and domain: enough
to tell two people apart in a log, never enough to reach one. Imports nothing heavy (ingest, the
processor and the dev tools all use it).
"""

from __future__ import annotations

import re
from typing import Any

_EMAIL_IN_TEXT = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
# Not inside a word: digit runs of UUIDs, hashes and ARNs are ids, not phone numbers.
_PHONE_IN_TEXT = re.compile(r"(?<![\w-])\+?\d[\d ().-]{5,}\d(?!\w)")
_DATE_LIKE = re.compile(r"\d{4}-\d{2}-\d{2}")


def mask_phone(phone: str) -> str:
    """`+15555550123` → `+1*******123`."""
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:2] + "*" * (len(phone) - 5) + phone[-3:]


def mask_email(email: str) -> str:
    """`jane@example.com` → `j***@example.com`; without a domain, `***`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if local and domain else "***"


def mask_text(text: str) -> str:
    """`text` with every email address and phone-like number in it masked (dates and ids left alone)."""
    text = _EMAIL_IN_TEXT.sub(r"\1***\2", text)

    def mask_number(match: re.Match[str]) -> str:
        found = match.group()
        digits = re.sub(r"\D", "", found)
        if not 7 <= len(digits) <= 15 or _DATE_LIKE.match(found):
            return found
        return mask_phone(("+" if found.startswith("+") else "") + digits)

    return _PHONE_IN_TEXT.sub(mask_number, text)


def mask(value: Any) -> Any:
    """A JSON-like value with every string in it masked (outcome dicts before they are logged)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    return value
