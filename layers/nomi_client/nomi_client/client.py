"""`NomiClient`: one typed method per request of NOMI's API (12), page iterators, and the safe send.

Parameters are validated by pydantic (`validate_call`) and phones normalised to E.164 before any
HTTP call; answers are parsed into the models of `nomi_client.models`. Transport policy (timeouts,
retries, redaction) lives in `_transport.py`.

THE RULE for `messages/create` (NOMI has no idempotency keys, a retried send can text twice):
a send is retried automatically only after a failure known to have happened before the request
reached NOMI (connection refused, connect timeout, 429). Any other failure (timeout or reset after
the request went out, 5xx) raises `AmbiguousSendError(attempted_at=...)`. `send_message_safely`
then looks the contact's messages up and resends only if no message created at or after
`attempted_at − clock_skew` matches the template (each `[token]` matches any text, lazily; the rest
literally, with whitespace runs normalised).
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Annotated, Any, Literal, Self, TypeVar

import httpx
from pydantic import AwareDatetime, BaseModel, Field, validate_call

from nomi_client._transport import REDACTED, AuthMode, TimeLeft, Transport
from nomi_client.errors import AmbiguousSendError, ConfigurationError
from nomi_client.models import (
    Balance,
    Campaign,
    CampaignPage,
    Channel,
    ConsentEvent,
    ConsentHistory,
    ConsentInput,
    ConsentSource,
    ConsentStatus,
    ConsentStatusValue,
    Contact,
    ContactPage,
    Message,
    MessagePage,
    SendOutcome,
)
from nomi_client.phones import normalize_phone

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_CLOCK_SKEW", "NomiClient", "message_matches_template"]

DEFAULT_BASE_URL = "https://api.withnomi.ai"
DEFAULT_CLOCK_SKEW = timedelta(seconds=120)

CampaignStatus = Literal["draft", "pending", "failed", "complete"]
UnsubscribeType = Literal["sms", "email", "both"]
_Id = Annotated[int, Field(ge=1)]
_Page = Annotated[int, Field(ge=1)]
_Tags = str | Sequence[str] | None
_StateCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]

_T = TypeVar("_T")
_P = TypeVar("_P", bound=BaseModel)

_validate = validate_call(config={"arbitrary_types_allowed": True})


class NomiClient:
    """Typed client of the NOMI API. Thread-safe to share; reuses one keep-alive connection pool.

    The API key is needed by every call but `record_conversion`; a missing key raises
    `ConfigurationError` on the first keyed call (not at construction), before any HTTP.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 3,
        default_region: str = "US",
        auth: AuthMode = "query",
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
        time_left: TimeLeft | None = None,
    ) -> None:
        """`time_left`: seconds the caller may still spend (None: no limit), read before each attempt
        and each retry's wait; no timeout or sleep reaches past it (see `_transport`)."""
        url = base_url or os.environ.get("NOMI_API_URL") or DEFAULT_BASE_URL
        if not url.startswith(("http://", "https://")):
            raise ConfigurationError("base_url must start with http:// or https://")
        self.default_region = default_region
        self.clock_skew = clock_skew
        self._transport = Transport(
            base_url=url,
            api_key=api_key or os.environ.get("NOMI_API_KEY") or None,
            auth=auth,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            sleep=sleep,
            jitter=jitter,
            time_left=time_left,
        )

    def __repr__(self) -> str:
        key = REDACTED if self._transport.has_api_key else None
        return f"NomiClient(base_url={self.base_url!r}, auth={self._transport.auth!r}, api_key={key!r})"

    __str__ = __repr__

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    def close(self) -> None:
        """Close the connection pool (unless the caller passed its own `http_client`)."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- account, campaigns -------------------------------------------------------------------

    def get_balance(self) -> Balance:
        """GET /account/balance."""
        return Balance.model_validate(self._transport.request("GET", "/account/balance"))

    @_validate
    def lookup_campaigns(
        self,
        *,
        campaign_id: _Id | None = None,
        name: str | None = None,
        status: CampaignStatus | None = None,
        page: _Page = 1,
        amount: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> CampaignPage:
        """POST /campaigns/lookup: one page (`name` matches a substring)."""
        form = _Form().add("campaign_id", campaign_id).add("name", name).add("status", status)
        form.add("page", page).add("amount", amount)
        return self._post(CampaignPage, "/campaigns/lookup", form)

    @_validate
    def iter_campaigns(
        self,
        *,
        campaign_id: _Id | None = None,
        name: str | None = None,
        status: CampaignStatus | None = None,
        amount: Annotated[int, Field(ge=1, le=100)] = 100,
    ) -> Iterator[Campaign]:
        """Every campaign matching the filters, page after page."""

        def fetch(page: int) -> tuple[list[Campaign], int, int]:
            p = self.lookup_campaigns(
                campaign_id=campaign_id, name=name, status=status, page=page, amount=amount
            )
            return p.campaigns, p.per_page, p.total_campaigns

        return _iterate_pages(fetch, amount)

    # --- contacts -----------------------------------------------------------------------------

    @_validate
    def create_contact(
        self,
        *,
        phone: str,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        tags: _Tags = None,
        remove_tags: _Tags = None,
        custom_variables: Mapping[str, str | int | float | Decimal] | None = None,
        update: bool = True,
        sms_consent: ConsentInput | None = None,
        email_consent: ConsentInput | None = None,
        retry_unknown_outcome: bool = True,
    ) -> Contact:
        """POST /contacts/create. Upserts while `update` is true; consent applies to NEW contacts only.

        `retry_unknown_outcome=False`: after a timeout or 5xx whose outcome is unknown, raise
        AmbiguousSendError instead of retrying, so that the caller knows NOMI may have created the
        contact (with its consent) and that a later "existing contact" answer may be its own."""
        form = _Form().add("phone", self._phone(phone)).add("first_name", first_name)
        form.add("last_name", last_name).add("email", email).add("tags", tags)
        form.add("remove_tags", remove_tags).add_map("custom_variables", custom_variables)
        form.add("update", update)
        form.add_consent("sms_consent", sms_consent, with_text=True)
        # The reference lists no consent_text for email consent.
        form.add_consent("email_consent", email_consent, with_text=False)
        return self._post(Contact, "/contacts/create", form, idempotent=retry_unknown_outcome)

    @_validate
    def lookup_contacts(
        self,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        tags: _Tags = None,
        contact_id: _Id | None = None,
        state: _StateCode | None = None,
        page: _Page = 1,
        amount: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> ContactPage:
        """POST /contacts/lookup: one page; every tag given must match."""
        form = _Form().add("first_name", first_name).add("last_name", last_name).add("email", email)
        form.add("phone", self._phone(phone)).add("tags", tags).add("contact_id", contact_id)
        form.add("state", state.upper() if state else None).add("page", page).add("amount", amount)
        return self._post(ContactPage, "/contacts/lookup", form)

    @_validate
    def iter_contacts(
        self,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        tags: _Tags = None,
        contact_id: _Id | None = None,
        state: _StateCode | None = None,
        amount: Annotated[int, Field(ge=1, le=200)] = 200,
    ) -> Iterator[Contact]:
        """Every contact matching the filters, page after page."""
        phone = self._phone(phone)  # fail before the first page is fetched

        def fetch(page: int) -> tuple[list[Contact], int, int]:
            p = self.lookup_contacts(
                first_name=first_name,
                last_name=last_name,
                email=email,
                phone=phone,
                tags=tags,
                contact_id=contact_id,
                state=state,
                page=page,
                amount=amount,
            )
            return p.contacts, p.per_page, p.total_contacts

        return _iterate_pages(fetch, amount)

    def find_contact(
        self, *, phone: str | None = None, email: str | None = None, contact_id: int | None = None
    ) -> Contact | None:
        """The first contact matching phone/email/id, or None. At least one must be given."""
        if phone is None and email is None and contact_id is None:
            raise ValueError("find_contact needs phone, email or contact_id")
        page = self.lookup_contacts(phone=phone, email=email, contact_id=contact_id, amount=1)
        return page.contacts[0] if page.contacts else None

    @_validate
    def update_contact(
        self,
        *,
        contact_id: _Id | None = None,
        phone: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        email: str | None = None,
        tags: _Tags = None,
        remove_tags: _Tags = None,
        merge_tags: bool = True,
        custom_variables: Mapping[str, str | int | float | Decimal] | None = None,
        remove_custom_variables: Sequence[str] | None = None,
        merge_custom_variables: bool = True,
    ) -> Contact:
        """POST /contacts/update (by contact_id or phone). `merge_*=False` overwrites instead of merging."""
        _require_one("update_contact", contact_id=contact_id, phone=phone)
        form = _Form().add("contact_id", contact_id).add("phone", self._phone(phone))
        form.add("first_name", first_name).add("last_name", last_name).add("email", email)
        form.add("tags", tags).add("remove_tags", remove_tags).add("merge_tags", merge_tags)
        form.add_map("custom_variables", custom_variables)
        form.add_array("remove_custom_variables", remove_custom_variables)
        form.add("merge_custom_variables", merge_custom_variables)
        return self._post(Contact, "/contacts/update", form)

    @_validate
    def unsubscribe(
        self, *, phone: str | None = None, email: str | None = None, type: UnsubscribeType = "both"
    ) -> None:
        """POST /contacts/unsubscribe. An SMS unsubscribe can only be undone by the person (START)."""
        _require_one("unsubscribe", phone=phone, email=email)
        form = _Form().add("phone", self._phone(phone)).add("email", email).add("type", type)
        self._transport.request("POST", "/contacts/unsubscribe", form=form.fields)

    # --- consent ------------------------------------------------------------------------------

    @_validate
    def record_consent(
        self,
        contact_id: _Id,
        *,
        channel: Channel,
        status: ConsentStatusValue,
        source: ConsentSource,
        timestamp: AwareDatetime,
        consent_text: str | None = None,
        ip_address: str | None = None,
        user_agent: str | None = None,
    ) -> ConsentEvent:
        """POST /contacts/{id}/consent (JSON). May raise CoolingOffError (422, `hours_remaining`).

        Not retried once the request may have gone out: NOMI appends every call to the consent log, so
        a blind retry after a 5xx or a timeout could record the same fact twice. Such an unknown
        outcome raises `AmbiguousSendError`; check `get_consent_history` before recording again.
        """
        body: dict[str, Any] = {
            "channel": channel,
            "status": status,
            "source": source,
            "timestamp": _iso(timestamp),
        }
        optional = {"consent_text": consent_text, "ip_address": ip_address, "user_agent": user_agent}
        body.update({k: v for k, v in optional.items() if v is not None})
        data = self._transport.request(
            "POST", f"/contacts/{contact_id}/consent", json_body=body, idempotent=False
        )
        return ConsentEvent.model_validate(data)

    @_validate
    def get_consent_history(self, contact_id: _Id, *, channel: Channel | None = None) -> ConsentHistory:
        """GET /contacts/{id}/consent[?channel=]: the append-only log, newest first."""
        query = {"channel": channel} if channel else None
        data = self._transport.request("GET", f"/contacts/{contact_id}/consent", query=query)
        return ConsentHistory.model_validate(data)

    @_validate
    def get_consent_status(self, contact_id: _Id) -> ConsentStatus:
        """GET /contacts/{id}/consent/status: derived per-channel status."""
        data = self._transport.request("GET", f"/contacts/{contact_id}/consent/status")
        return ConsentStatus.model_validate(data)

    # --- conversions --------------------------------------------------------------------------

    @_validate
    def record_conversion(self, *, id: Annotated[str, Field(min_length=1)], amount: Decimal | str) -> None:
        """POST /conversion: attribute `amount` to the short link `id`. Sends NO API key.

        Not retried once the request may have gone out: /conversion has no idempotency key and nothing
        to look a conversion up with, so a retry after a 5xx or a timeout could count the sale twice.
        Such an unknown outcome raises `AmbiguousSendError`; the caller decides (at least or at most once).
        """
        form = _Form().add("id", id).add("amount", _decimal(amount))
        self._transport.request("POST", "/conversion", form=form.fields, keyed=False, idempotent=False)

    # --- messages -----------------------------------------------------------------------------

    @_validate
    def lookup_messages(
        self,
        *,
        contact_id: _Id | None = None,
        phone: str | None = None,
        page: _Page = 1,
        amount: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> MessagePage:
        """POST /messages/lookup for one contact (by contact_id or phone): one page."""
        _require_one("lookup_messages", contact_id=contact_id, phone=phone)
        form = _Form().add("contact_id", contact_id).add("phone", self._phone(phone))
        form.add("page", page).add("amount", amount)
        return self._post(MessagePage, "/messages/lookup", form)

    @_validate
    def iter_messages(
        self,
        *,
        contact_id: _Id | None = None,
        phone: str | None = None,
        amount: Annotated[int, Field(ge=1, le=100)] = 100,
    ) -> Iterator[Message]:
        """Every message of one contact, page after page."""
        _require_one("iter_messages", contact_id=contact_id, phone=phone)
        phone = self._phone(phone)

        def fetch(page: int) -> tuple[list[Message], int, int]:
            p = self.lookup_messages(contact_id=contact_id, phone=phone, page=page, amount=amount)
            return p.messages, p.per_page, p.total_messages

        return _iterate_pages(fetch, amount)

    @_validate
    def send_message(
        self,
        *,
        contact_id: _Id | None = None,
        phone: str | None = None,
        message: Annotated[str, Field(min_length=1)],
        first_name: str | None = None,
        last_name: str | None = None,
        tags: _Tags = None,
        number_id: _Id | None = None,
        media_url: str | None = None,
        promo_url: str | None = None,
    ) -> None:
        """POST /messages/create. NOT idempotent at NOMI; see THE RULE in the module docstring.

        Raises `AmbiguousSendError` when the outcome is unknown; never retries such a failure.
        """
        _require_one("send_message", contact_id=contact_id, phone=phone)
        form = _Form().add("contact_id", contact_id).add("phone", self._phone(phone))
        form.add("first_name", first_name).add("last_name", last_name).add("tags", tags)
        form.add("message", message).add("number_id", number_id).add("media_url", media_url)
        form.add("promo_url", promo_url)
        self._transport.request("POST", "/messages/create", form=form.fields, idempotent=False)

    @_validate
    def message_was_sent(
        self,
        *,
        contact_id: _Id | None = None,
        phone: str | None = None,
        message: Annotated[str, Field(min_length=1)],
        since: AwareDatetime,
    ) -> bool:
        """True if the contact has a message created at or after `since − clock_skew` whose body
        matches the template `message` (each `[token]` matches any text). Scans every page."""
        _require_one("message_was_sent", contact_id=contact_id, phone=phone)
        window_start = since - self.clock_skew
        for sent in self.iter_messages(contact_id=contact_id, phone=phone):
            if _in_window(sent, window_start) and message_matches_template(sent.message, message):
                return True
        return False

    @_validate
    def send_message_safely(
        self,
        *,
        contact_id: _Id | None = None,
        phone: str | None = None,
        message: Annotated[str, Field(min_length=1)],
        first_name: str | None = None,
        last_name: str | None = None,
        tags: _Tags = None,
        number_id: _Id | None = None,
        media_url: str | None = None,
        promo_url: str | None = None,
        attempted_since: AwareDatetime | None = None,
        expected: str | None = None,
    ) -> SendOutcome:
        """Send at most once as far as NOMI's message log can tell.

        `expected` is what to look for in the log instead of `message`: the template with the token
        values the caller knows filled in. Without it, two sends of one template to one contact (two
        parcels of an order) look alike, and the second could be taken for the first.

        If `attempted_since` is given (a checkpoint recorded an attempt that may have gone out), or a
        send ends in `AmbiguousSendError`, look the contact's messages up (`message_was_sent`) and
        return `already_sent` if a matching message exists; otherwise (re)send, at most
        `max_retries + 1` sends in all. If the lookup itself fails, its error is raised: nothing is
        resent blindly. Matching: each `[token]` of the template is a lazy wildcard, the rest literal
        with whitespace runs normalised; window: `created_at ≥ attempted_at − clock_skew` (UTC).
        """
        _require_one("send_message_safely", contact_id=contact_id, phone=phone)
        phone = self._phone(phone)
        check = dict(contact_id=contact_id, phone=phone, message=expected or message)
        if attempted_since is not None and self.message_was_sent(**check, since=attempted_since):
            return SendOutcome(status="already_sent", attempts=0)
        sends = 0
        while True:
            sends += 1
            try:
                self.send_message(
                    contact_id=contact_id,
                    phone=phone,
                    message=message,
                    first_name=first_name,
                    last_name=last_name,
                    tags=tags,
                    number_id=number_id,
                    media_url=media_url,
                    promo_url=promo_url,
                )
                return SendOutcome(status="sent", attempts=sends)
            except AmbiguousSendError as ambiguous:
                if self.message_was_sent(**check, since=ambiguous.attempted_at):
                    return SendOutcome(status="already_sent", attempts=sends)
                if sends > self.max_retries:
                    raise
                self._transport.wait_before_retry(sends - 1, ambiguous)

    # --- helpers ------------------------------------------------------------------------------

    def _phone(self, phone: str | None) -> str | None:
        return None if phone is None else normalize_phone(phone, default_region=self.default_region)

    def _post(self, model: type[_P], path: str, form: _Form, *, idempotent: bool = True) -> _P:
        answer = self._transport.request("POST", path, form=form.fields, idempotent=idempotent)
        return model.model_validate(answer)


class _Form:
    """Form fields in NOMI's wire format: booleans `true`/`false`, lists comma-joined, bracket nesting."""

    def __init__(self) -> None:
        self.fields: list[tuple[str, str]] = []

    def add(self, name: str, value: object) -> _Form:
        if value is not None:
            self.fields.append((name, _text(value)))
        return self

    def add_map(self, prefix: str, mapping: Mapping[str, object] | None) -> _Form:
        for key, value in (mapping or {}).items():
            self.add(f"{prefix}[{key}]", value)
        return self

    def add_array(self, name: str, values: Sequence[str] | None) -> _Form:
        for value in values or ():
            self.add(f"{name}[]", value)
        return self

    def add_consent(self, prefix: str, consent: ConsentInput | None, *, with_text: bool) -> _Form:
        if consent is None:
            return self
        self.add(f"{prefix}[status]", consent.status).add(f"{prefix}[timestamp]", consent.timestamp)
        self.add(f"{prefix}[source]", consent.source)
        if with_text:
            self.add(f"{prefix}[consent_text]", consent.consent_text)
        self.add(f"{prefix}[ip_address]", consent.ip_address).add(f"{prefix}[user_agent]", consent.user_agent)
        return self


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple):
        return ",".join(str(v).strip() for v in value)
    return str(value)


def _decimal(amount: Decimal | str) -> Decimal:
    """A finite decimal amount (money stays decimal: no float rounding on the wire)."""
    try:
        value = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"amount must be a decimal number, not {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"amount must be finite, not {amount!r}")
    return value


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, as the collection's examples write timestamps."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _require_one(method: str, **options: object) -> None:
    if all(v is None for v in options.values()):
        raise ValueError(f"{method} needs one of: {', '.join(options)}")


def _iterate_pages(fetch: Callable[[int], tuple[list[_T], int, int]], amount: int) -> Iterator[_T]:
    """Yield items page after page until a page is empty or short, or `total` items were seen.

    "Short" is judged against min(requested amount, echoed per_page): NOMI once echoes a per_page
    that is not the amount asked for, and trusting either alone could stop early or never.
    """
    seen = 0
    page = 1
    while True:
        items, per_page, total = fetch(page)
        yield from items
        seen += len(items)
        expected = min(amount, per_page) if per_page > 0 else amount
        if not items or len(items) < expected or seen >= total:
            return
        page += 1


_TOKEN = re.compile(r"\[[A-Za-z0-9_.\-]+\]")
_SPACE = re.compile(r"\s+")


def message_matches_template(body: str, template: str) -> bool:
    """Whether `body` (as NOMI stored it) could be `template` rendered.

    Each `[token]` matches any text (lazily, possibly empty; so a stored, unrendered template also
    matches); the rest matches literally, except that whitespace runs match any whitespace run (and
    may vanish next to a token, as when `[last_name]` renders empty). The whole body must match.
    """
    pieces = _TOKEN.split(template.strip())
    pattern: list[str] = []
    for index, literal in enumerate(pieces):
        if index:
            pattern.append(r".*?")
        pattern.append(_literal_pattern(literal, token_before=index > 0, token_after=index < len(pieces) - 1))
    return re.fullmatch("".join(pattern), body.strip(), flags=re.DOTALL) is not None


def _literal_pattern(literal: str, *, token_before: bool, token_after: bool) -> str:
    chunks = _SPACE.split(literal)
    pattern = r"\s+".join(re.escape(chunk) for chunk in chunks)
    if token_before and literal[:1].isspace():
        pattern = r"\s*" + pattern.removeprefix(r"\s+")
    if token_after and literal[-1:].isspace():
        pattern = pattern.removesuffix(r"\s+") + r"\s*"
    return pattern


def _in_window(sent: Message, window_start: datetime) -> bool:
    # A message without a timestamp cannot be placed in time: count it, erring against a double send.
    return sent.created_at is None or sent.created_at >= window_start
