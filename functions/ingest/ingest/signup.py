"""The signup form: body parsing (JSON or a plain HTML form post), validation, origin allowlist.

The form's own fields are the visitor's words; IP address, user agent and time are the server's
observations and are never read from the body.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qs

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from gateway_events import SignupPayload
from ingest.config import normalize_consent_text
from nomi_client.phones import PhoneNumberError, normalize_phone

HONEYPOT_FIELD = "website"  # hidden from people by CSS; bots fill it
# What CAPTCHA widgets post (ingest.captcha reads them; kept here so that signup.py need not import it).
CAPTCHA_FIELDS = frozenset(
    {"cf-turnstile-response", "h-captcha-response", "g-recaptcha-response", "captcha_token"}
)
# Form fields that are neither data nor custom fields: submit buttons, redirect targets, the honeypot,
# CAPTCHA tokens, and what only the server may say (a body claiming an IP or a time is not even kept
# as a custom field).
IGNORED_FIELDS = frozenset(
    {HONEYPOT_FIELD, "submit", "redirect", "_next", "_redirect"}
    | {"ip_address", "user_agent", "submitted_at", "received_at", "reference", "origin", "body_sha256"}
    | CAPTCHA_FIELDS
)
KNOWN_FIELDS = frozenset(
    {"phone", "email", "first_name", "last_name", "sms_consent", "email_consent", "consent_text", "tags"}
    | {"email_consent_text", "page_url", "custom_fields", "custom"}
)
MAX_CUSTOM_FIELDS = 20
MAX_TAGS = 20
MAX_FORM_FIELDS = 100
_CUSTOM_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,63}$")
_CUSTOM_BRACKETS = re.compile(r"^custom\[(.*)\]$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SignupBodyError(ValueError):
    """The body is neither a JSON object nor a form post (400), or has a media type we do not read."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class SignupValidationError(ValueError):
    """One or more fields are wrong; `errors` says which, one entry per problem."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _checkbox(value: object) -> object:
    # An unchecked box sends nothing, a checked one `on` (or its value=); pydantic reads on/off/true/1.
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return value


def _tag_list(value: object) -> object:
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        return items
    tags: list[object] = []
    for item in items:
        if isinstance(item, str):
            tags.extend(part.strip() for part in item.split(",") if part.strip())
        else:
            tags.append(item)  # pydantic reports it as "not a string"
    return tags


# The length limit must sit on the str, not on `str | None`: there pydantic raises TypeError (a 500)
# for an explicit JSON null instead of accepting it as absent.
_Str32 = Annotated[Annotated[str, Field(max_length=32)] | None, BeforeValidator(_blank_to_none)]
_Str100 = Annotated[Annotated[str, Field(max_length=100)] | None, BeforeValidator(_blank_to_none)]
_Str254 = Annotated[Annotated[str, Field(max_length=254)] | None, BeforeValidator(_blank_to_none)]
_Str1000 = Annotated[Annotated[str, Field(max_length=1000)] | None, BeforeValidator(_blank_to_none)]
_Str2048 = Annotated[Annotated[str, Field(max_length=2048)] | None, BeforeValidator(_blank_to_none)]
_Checkbox = Annotated[bool, BeforeValidator(_checkbox)]


class SignupForm(BaseModel):
    """The fields a signup form may send, after body parsing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: _Str32 = None
    email: _Str254 = None
    first_name: _Str100 = None
    last_name: _Str100 = None
    sms_consent: _Checkbox = False
    email_consent: _Checkbox = False
    consent_text: _Str1000 = None
    email_consent_text: _Str1000 = None
    tags: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], BeforeValidator(_tag_list)] = (
        Field(default_factory=list, max_length=MAX_TAGS)
    )
    custom_fields: dict[str, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=dict, max_length=MAX_CUSTOM_FIELDS
    )
    page_url: _Str2048 = None

    @field_validator("phone")
    @classmethod
    def _normalise_phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        region = (info.context or {}).get("default_region", "US")
        try:
            return normalize_phone(value, default_region=region)
        except PhoneNumberError as exc:
            raise PydanticCustomError("phone", "not a valid phone number") from exc

    @field_validator("email")
    @classmethod
    def _looks_like_email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise PydanticCustomError("email", "not a valid email address")
        return value

    @field_validator("custom_fields", mode="before")
    @classmethod
    def _custom_values_are_text(cls, value: object) -> object:
        if not isinstance(value, dict):
            return value
        return {k: str(v) if isinstance(v, int | float | bool) else v for k, v in value.items()}

    @field_validator("custom_fields")
    @classmethod
    def _custom_keys_are_names(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if not _CUSTOM_KEY.match(key):
                raise PydanticCustomError(
                    "custom_key",
                    "custom field name {key!r} must be 1-64 letters, digits, _ . - or space",
                    {"key": key[:70]},
                )
        return value


def parse_body(body: bytes, content_type: str | None) -> dict[str, Any]:
    """The submitted fields as a dict, from JSON or `application/x-www-form-urlencoded`."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/json" or (not media_type and body.lstrip().startswith(b"{")):
        return _parse_json(body)
    if media_type in ("application/x-www-form-urlencoded", ""):
        return _parse_form(body)
    raise SignupBodyError(
        f"unsupported content type {media_type!r}: send application/json or application/x-www-form-urlencoded",
        status=415,
    )


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than Python's recursion limit is bad input, not a crash.
        raise SignupBodyError("body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise SignupBodyError("body must be a JSON object")
    return data


def _parse_form(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_FORM_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SignupBodyError("body is not a valid form post") from exc
    # Repeated names: tags keep every value; anything else keeps the last (hidden "false" + checkbox).
    return {name: values if name == "tags" else values[-1] for name, values in pairs.items()}


def is_honeypot_filled(fields: Mapping[str, Any]) -> bool:
    value = fields.get(HONEYPOT_FIELD)
    return bool(value.strip()) if isinstance(value, str) else bool(value)


def split_custom_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Known fields as they are; `custom[name]`, a `custom`/`custom_fields` object and unknown names
    gathered into `custom_fields`."""
    known: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for name, value in fields.items():
        bracket = _CUSTOM_BRACKETS.match(name)
        if name in IGNORED_FIELDS:
            continue
        if bracket:
            custom[bracket.group(1)] = value
        elif name in ("custom", "custom_fields") and isinstance(value, dict):
            custom.update(value)
        elif name in KNOWN_FIELDS:
            known[name] = value
        else:
            custom[name] = value
    if custom:
        known["custom_fields"] = custom
    return known


def validate_signup(
    fields: Mapping[str, Any],
    *,
    default_region: str,
    consent_texts: tuple[str, ...],
    email_consent_texts: tuple[str, ...] = (),
) -> SignupForm:
    """Validate the submitted fields; every problem is reported at once, per field.

    `consent_texts` are the SMS consent texts the merchant's forms show (normalised): an SMS opt-in
    is recorded only with one of them, in the merchant's own spelling. `email_consent_texts`, when
    given, bind the email box's words the same way; when empty they are recorded as posted.
    """
    try:
        form = SignupForm.model_validate(
            split_custom_fields(fields), context={"default_region": default_region}
        )
    except ValidationError as exc:
        raise SignupValidationError([_field_error(e) for e in exc.errors()]) from exc
    errors = _cross_field_errors(form)
    sms_text = _configured_text(form.consent_text, consent_texts) if form.sms_consent else None
    if form.sms_consent and form.consent_text is not None and sms_text is None:
        errors.append(
            {"field": "consent_text", "message": "does not match a consent text this gateway knows"}
        )
    email_text = form.email_consent_text if form.email_consent else None
    if email_text is not None and email_consent_texts:
        email_text = _configured_text(email_text, email_consent_texts)
        if email_text is None:
            errors.append(
                {
                    "field": "email_consent_text",
                    "message": "does not match an email consent text this gateway knows",
                }
            )
    if errors:
        raise SignupValidationError(errors)
    # Only a ticked box's words are evidence; the text of an unticked box is not kept.
    return form.model_copy(update={"consent_text": sms_text, "email_consent_text": email_text})


def _configured_text(posted: str | None, configured: tuple[str, ...]) -> str | None:
    """The configured text the posted one matches after whitespace normalisation, or None."""
    if posted is None:
        return None
    wanted = normalize_consent_text(posted)
    return next((text for text in configured if text == wanted), None)


def _cross_field_errors(form: SignupForm) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if form.phone is None:
        # NOMI keys every contact on its phone: an email alone could only be thanked and dropped.
        errors.append({"field": "phone", "message": "a phone number is required"})
    if form.sms_consent and form.consent_text is None:
        errors.append(
            {"field": "consent_text", "message": "the consent text shown is required for SMS consent"}
        )
    if form.email_consent and form.email is None:
        errors.append({"field": "email", "message": "an email address is required for email consent"})
    return errors


def _field_error(error: Any) -> dict[str, str]:
    loc = [str(part) for part in error["loc"]]
    if loc[:1] == ["custom_fields"] and len(loc) > 1:
        field = f"custom[{loc[1]}]"
    elif loc:
        field = ".".join(loc)
    else:
        field = "body"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return {"field": field, "message": message}


def new_reference() -> str:
    """A short, URL-safe, unguessable id the site can show (96 random bits)."""
    return secrets.token_urlsafe(12)


def build_payload(
    form: SignupForm,
    *,
    reference: str,
    ip_address: str | None,
    user_agent: str | None,
    origin: str | None,
    referer: str | None,
    received_at: datetime,
) -> SignupPayload:
    """The queued signup: the form's fields plus what the server itself observed."""
    return SignupPayload(
        reference=reference,
        phone=form.phone,
        email=form.email,
        first_name=form.first_name,
        last_name=form.last_name,
        sms_consent=form.sms_consent,
        email_consent=form.email_consent,
        consent_text=form.consent_text,
        email_consent_text=form.email_consent_text,
        tags=form.tags,
        custom_fields=form.custom_fields,
        ip_address=ip_address,
        user_agent=(user_agent or "")[:512] or None,
        origin=(origin or "")[:512] or None,
        page_url=(form.page_url or referer or "")[:2048] or None,
        submitted_at=received_at,
    )


def origin_allowed(origin: str | None, allowed: tuple[str, ...]) -> bool:
    """The Origin must be on the list (`*` allows any). Browsers send it on every cross-site POST, so
    a request without one is a script, and a script is how other people's phones get subscribed."""
    if origin is None:
        return False
    return "*" in allowed or origin.rstrip("/").lower() in allowed


def cors_headers(origin: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """CORS answer headers for an allowed browser origin (none for others or for no origin)."""
    if origin is None or not origin_allowed(origin, allowed):
        return {}
    return {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST, OPTIONS",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "600",
        "vary": "Origin",
    }
