"""Phone numbers to E.164, the form NOMI answers with (`5555555555` in, `+15555555555` out).

Imports neither httpx nor boto3: ingest uses this module on its hot path.

A number is accepted when it is *possible* for its country (right length and shape), not only when
it is in a range that is assigned today: NOMI's own examples use `555` numbers, and numbering plans
change faster than the metadata bundled in a deployed layer. Anything shorter, longer, or not a
number at all fails here, before any HTTP call.
"""

from __future__ import annotations

import re

import phonenumbers

from nomi_client.errors import PhoneNumberError

__all__ = ["PhoneNumberError", "normalize_phone"]

_MAX_RAW_LENGTH = 64
# phonenumbers reads letters as keypad digits (`555-555-SHIP` → 555-555-7447): a vanity text is no
# SMS-capable number someone typed as theirs. Only an extension marker may carry letters.
_EXTENSION = re.compile(r"(?i)\s*(?:ext\.?|extension|x|#)\s*\d{1,7}\s*$")
_LETTER = re.compile(r"[^\W\d_]")


def normalize_phone(raw: str, *, default_region: str = "US") -> str:
    """Return `raw` in E.164 (`+15555555555`); `default_region` applies when it has no country code.

    Raises `PhoneNumberError` (a `ValueError`) with a message that names the problem but not the
    number itself (phone numbers are personal data and messages end up in logs).
    """
    if not isinstance(raw, str) or not raw.strip():
        raise PhoneNumberError("phone number is empty")
    if len(raw) > _MAX_RAW_LENGTH:
        raise PhoneNumberError(f"phone number is longer than {_MAX_RAW_LENGTH} characters")
    if _LETTER.search(_EXTENSION.sub("", raw)):
        raise PhoneNumberError("not a phone number (it contains letters)")
    region = default_region.upper() if default_region else None
    try:
        parsed = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneNumberError(
            f"not a phone number ({_describe_parse_error(exc)}; default region {region})"
        ) from exc
    if not phonenumbers.is_possible_number(parsed):
        reason = phonenumbers.is_possible_number_with_reason(parsed)
        raise PhoneNumberError(
            f"invalid phone number for country code +{parsed.country_code} ({_describe_reason(reason)})"
        )
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _describe_parse_error(exc: phonenumbers.NumberParseException) -> str:
    names = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code or no default region",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return names.get(exc.error_type, "unparseable")


def _describe_reason(reason: int) -> str:
    names = {
        phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.ValidationResult.TOO_SHORT: "too short",
        phonenumbers.ValidationResult.TOO_LONG: "too long",
        phonenumbers.ValidationResult.INVALID_LENGTH: "wrong length",
    }
    return names.get(reason, "not a possible number")
