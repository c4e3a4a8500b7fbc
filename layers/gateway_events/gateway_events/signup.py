"""What the ingest function queues for a signup-form post (`source: signup`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class SignupPayload(BaseModel):
    """A validated signup. IP, user agent and time are the server's observations, never the form's."""

    model_config = ConfigDict(extra="ignore")

    reference: str = Field(min_length=1, max_length=64, description="The id shown to the visitor.")
    phone: str | None = Field(default=None, description="E.164, already validated by the ingest function.")
    email: Annotated[str, Field(max_length=254)] | None = None
    first_name: Annotated[str, Field(max_length=100)] | None = None
    last_name: Annotated[str, Field(max_length=100)] | None = None
    sms_consent: bool = False
    email_consent: bool = False
    consent_text: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="The words next to the SMS box, as shown (one of the configured texts)."
    )
    email_consent_text: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="The words next to the email box, as shown."
    )
    tags: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list)
    custom_fields: dict[str, Annotated[str, Field(max_length=500)]] = Field(default_factory=dict)
    ip_address: str | None = None
    user_agent: Annotated[str, Field(max_length=512)] | None = None
    origin: Annotated[str, Field(max_length=512)] | None = None
    page_url: Annotated[str, Field(max_length=2048)] | None = None
    submitted_at: AwareDatetime = Field(description="Time the gateway received the form.")
