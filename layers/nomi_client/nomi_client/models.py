"""Typed shapes of NOMI's answers (tolerant: unknown fields are ignored) and of the client's inputs.

NOMI formats timestamps four ways depending on the endpoint (see REFERENCE.md); `NomiDatetime`
reads all of them into aware datetimes, taking a timestamp without a zone as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "Balance",
    "Campaign",
    "CampaignPage",
    "Channel",
    "ChannelStatus",
    "ConsentEvent",
    "ConsentEventSummary",
    "ConsentHistory",
    "ConsentHistoryEvent",
    "ConsentInput",
    "ConsentSource",
    "ConsentStatus",
    "ConsentStatusValue",
    "Contact",
    "ContactPage",
    "Message",
    "MessagePage",
    "NomiDatetime",
    "SendOutcome",
    "parse_nomi_datetime",
]

ConsentStatusValue = Literal["subscribed", "unsubscribed", "pending", "transactional_only"]
ConsentSource = Literal[
    "checkout", "webform", "keyword", "api", "manual", "stop", "unsubscribe_link", "spam_report"
]
Channel = Literal["sms", "email"]


def parse_nomi_datetime(value: Any) -> Any:
    """Read `2024-03-31T21:12:30.000000Z`, `2024-03-22 17:18:00` and `2026-01-15T10:30:00+00:00`.

    A value without a zone is UTC (NOMI's servers answer in UTC). `""` reads as None, since a
    PHP backend often renders a missing date that way. Other types pass through to pydantic.
    """
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _empty_list_as_dict(value: Any) -> Any:
    # PHP renders an empty associative array as `[]`: read it as the `{}` it means.
    return {} if value == [] else value


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


NomiDatetime = Annotated[AwareDatetime, BeforeValidator(parse_nomi_datetime)]
_Tags = Annotated[list[str], BeforeValidator(_none_as_empty_list)]
_CustomVariables = Annotated[dict[str, Any], BeforeValidator(_empty_list_as_dict)]


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Balance(_Response):
    balance: Decimal


class Campaign(_Response):
    campaign_id: int
    name: str | None = None
    status: str | None = None
    number: str | None = None
    url: str | None = None
    message: str | None = None
    media: str | None = None
    revenue: Decimal = Decimal(0)
    conversions: int = 0
    sent: int = 0
    filtered: int = 0
    unsubscribed: int = 0
    delivered: int = 0
    failed: bool = False
    send_at: NomiDatetime | None = None
    sent_at: NomiDatetime | None = None
    completed_at: NomiDatetime | None = None
    updated_at: NomiDatetime | None = None
    created_at: NomiDatetime | None = None


class _Page(_Response):
    current_page: int = 1
    per_page: int = 0


class CampaignPage(_Page):
    total_campaigns: int = 0
    campaigns: list[Campaign] = Field(default_factory=list)


class ConsentEventSummary(_Response):
    """A consent event as `contacts/create` reports it for a new contact."""

    channel: str
    status: str | None = None
    source: str | None = None


class Contact(_Response):
    contact_id: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    tags: _Tags = Field(default_factory=list)
    custom_variables: _CustomVariables = Field(default_factory=dict)
    timezone: str | None = None
    state: str | None = None
    unsubscribed_at: NomiDatetime | None = None
    updated_at: NomiDatetime | None = None
    created_at: NomiDatetime | None = None
    sms_consent_status: str | None = None
    email_consent_status: str | None = None
    consent_events: list[ConsentEventSummary] = Field(default_factory=list)


class ContactPage(_Page):
    total_contacts: int = 0
    contacts: list[Contact] = Field(default_factory=list)


class ConsentEvent(_Response):
    """The event `POST /contacts/{id}/consent` recorded."""

    consent_event_id: int
    contact_id: int
    channel: str
    status: str
    source: str
    event_timestamp: NomiDatetime
    created_at: NomiDatetime | None = None


class ConsentHistoryEvent(_Response):
    id: int
    channel: str
    status: str
    source: str | None = None
    event_timestamp: NomiDatetime
    ip_address: str | None = None
    consent_text: str | None = None
    created_at: NomiDatetime | None = None


class ConsentHistory(_Response):
    contact_id: int
    current_sms_status: str | None = None
    current_email_status: str | None = None
    consent_events: list[ConsentHistoryEvent] = Field(default_factory=list)  # newest first


class ChannelStatus(_Response):
    status: str | None = None
    updated_at: NomiDatetime | None = None
    can_receive_marketing: bool
    can_receive_transactional: bool


class ConsentStatus(_Response):
    contact_id: int
    sms: ChannelStatus
    email: ChannelStatus


class Message(_Response):
    contact_id: int | None = None
    contact_first_name: str | None = None
    contact_last_name: str | None = None
    contact_phone: str | None = None
    message: str = ""
    status: str | None = None
    created_at: NomiDatetime | None = None


class MessagePage(_Page):
    total_messages: int = 0
    messages: list[Message] = Field(default_factory=list)


class SendOutcome(_Response):
    """What `send_message_safely` did: sent now, or found the message already sent."""

    status: Literal["sent", "already_sent"]
    attempts: int = Field(ge=0, description="How many times messages/create was called.")


class ConsentInput(BaseModel):
    """Consent evidence for `create_contact` (same fields as gateway_events' ConsentEvidence)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    status: ConsentStatusValue
    timestamp: AwareDatetime
    source: ConsentSource
    consent_text: Annotated[str, Field(max_length=1000)] | None = None
    ip_address: Annotated[str, Field(max_length=64)] | None = None
    user_agent: Annotated[str, Field(max_length=512)] | None = None
