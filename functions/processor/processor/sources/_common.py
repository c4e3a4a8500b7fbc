"""Small pieces every adapter shares: source timestamps, names, addresses, click ids, error wording."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from processor.errors import InvalidEventError

_NAME_MAX = 100
_CLICK_ID_MAX = 128
_STATE_CODE = re.compile(r"^[A-Za-z0-9]{2}$")
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")


def parse_source_time(value: Any) -> datetime:
    """A source's timestamp as an aware datetime: ISO 8601 text (Shopify) or Unix seconds (Stripe).

    A time without a zone is refused: guessing the zone would falsify consent evidence.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    elif isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"Unix time {value!r} is out of range") from exc
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO 8601 time") from exc
    else:
        raise ValueError(f"expected a time, got {type(value).__name__}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"time {value!r} has no time zone")
    return parsed


SourceTime = Annotated[datetime, BeforeValidator(parse_source_time)]


class SourceModel(BaseModel):
    """Base of the source payload models: read only what we use, accept numeric ids as text."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True, str_strip_whitespace=True)


def validate_source(model: type[BaseModel], payload: Any, what: str) -> Any:
    """Parse a source payload, turning a shape error into InvalidEventError with the reason."""
    if not isinstance(payload, dict):
        raise InvalidEventError(f"{what} payload must be a JSON object, got {type(payload).__name__}")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidEventError(f"{what} payload is malformed: {summarise(exc)}") from exc


def summarise(exc: ValidationError) -> str:
    """One line per problem, with the field path, never the (possibly personal) input value."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'payload'}: {e['msg']}" for e in exc.errors())


def first(*values: str | None) -> str | None:
    """The first value that is a non-blank string."""
    for value in values:
        if value is not None and value.strip():
            return value.strip()
    return None


def clip_name(value: str | None) -> str | None:
    # Names longer than NOMI's field are clipped rather than rejected: a long name must not lose an order.
    return value[:_NAME_MAX] if value else None


# Han, kana and Hangul: scripts whose names are written family name first (山田 太郎, 김 민준), so that
# splitting at the first space would make the family name a first name.
_FAMILY_NAME_FIRST = re.compile(
    r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def split_name(full: str | None) -> tuple[str | None, str | None]:
    """'Ana María García' → ('Ana', 'María García'); a single word is a first name.

    A name in a family-name-first script is kept whole as the first name ('山田 太郎' → ('山田 太郎',
    None)): a greeting by the whole name is right, one by the family name alone as a given name is not.
    """
    if not full or not full.strip():
        return None, None
    if _FAMILY_NAME_FIRST.search(full):
        return clip_name(full.strip()), None
    parts = full.split(maxsplit=1)
    return clip_name(parts[0]), clip_name(parts[1]) if len(parts) > 1 else None


def state_code(value: str | None) -> str | None:
    """A two-character state/province code, or None (e.g. Shopify's 'JP-13' is not one NOMI can hold)."""
    if value and _STATE_CODE.match(value.strip()):
        return value.strip().upper()
    return None


def country_code(value: str | None) -> str | None:
    if value and _COUNTRY_CODE.match(value.strip()):
        return value.strip().upper()
    return None


def region_of(*candidates: tuple[str | None, str | None]) -> tuple[str | None, str | None]:
    """(state, country) of the first (state, country) pair that has either, in the order given.

    Both come from one address so that a state never pairs with another address's country.
    """
    for state, country in candidates:
        found = state_code(state), country_code(country)
        if any(found):
            return found
    return None, None


def click_id_from_url(url: str | None, parameter: str) -> str | None:
    """The value of query parameter `parameter` in a full or relative URL (Shopify's landing_site)."""
    if not url:
        return None
    try:
        query = urlsplit(url).query
    except ValueError:
        return None  # an unparsable landing URL is no reason to lose the order
    values = parse_qs(query).get(parameter)
    return valid_click_id(values[0]) if values else None


def valid_click_id(value: str | None) -> str | None:
    """A usable click id (non-blank, at most 128 characters), or None: a bad one only loses attribution."""
    if value is None:
        return None
    value = value.strip()
    return value if 0 < len(value) <= _CLICK_ID_MAX else None


def unique_in_order(*groups: Iterable[str]) -> list[str]:
    """Texts (tags, tracking numbers) in order of first appearance, without duplicates or blanks."""
    seen: dict[str, None] = {}
    for group in groups:
        for tag in group:
            if tag and tag.strip():
                seen.setdefault(tag.strip(), None)
    return list(seen)


def decimal_text(amount: Decimal) -> str:
    """An amount as plain decimal text for a custom variable ('1500', '12.50', never '1.5E+3')."""
    return format(amount, "f")
