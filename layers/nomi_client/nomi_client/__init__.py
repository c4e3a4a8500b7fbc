"""Typed client of the NOMI SMS/email API (package `nomi_client`).

Names are imported lazily (module `__getattr__`): `import nomi_client.phones` must not pull in httpx
or pydantic's models, because ingest only needs phone normalisation and must start fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and IDEs only; nothing here runs at import time
    from nomi_client.client import NomiClient, message_matches_template
    from nomi_client.errors import (
        AmbiguousSendError,
        APIConnectionError,
        APITimeoutError,
        AuthenticationError,
        ConfigurationError,
        CoolingOffError,
        DeadlineExceededError,
        NomiAPIError,
        NomiError,
        NotFoundError,
        PermissionDeniedError,
        PhoneNumberError,
        RateLimitError,
        ServerError,
        TransportError,
        ValidationError,
    )
    from nomi_client.models import (
        Balance,
        Campaign,
        CampaignPage,
        ChannelStatus,
        ConsentEvent,
        ConsentHistory,
        ConsentInput,
        ConsentStatus,
        Contact,
        ContactPage,
        Message,
        MessagePage,
        SendOutcome,
    )
    from nomi_client.phones import normalize_phone

_EXPORTS: dict[str, str] = {
    "NomiClient": "nomi_client.client",
    "message_matches_template": "nomi_client.client",
    "normalize_phone": "nomi_client.phones",
    **{
        name: "nomi_client.errors"
        for name in (
            "AmbiguousSendError",
            "APIConnectionError",
            "APITimeoutError",
            "AuthenticationError",
            "ConfigurationError",
            "CoolingOffError",
            "DeadlineExceededError",
            "NomiAPIError",
            "NomiError",
            "NotFoundError",
            "PermissionDeniedError",
            "PhoneNumberError",
            "RateLimitError",
            "ServerError",
            "TransportError",
            "ValidationError",
        )
    },
    **{
        name: "nomi_client.models"
        for name in (
            "Balance",
            "Campaign",
            "CampaignPage",
            "ChannelStatus",
            "ConsentEvent",
            "ConsentHistory",
            "ConsentInput",
            "ConsentStatus",
            "Contact",
            "ContactPage",
            "Message",
            "MessagePage",
            "SendOutcome",
        )
    },
}

__all__ = [
    "APIConnectionError",
    "APITimeoutError",
    "AmbiguousSendError",
    "AuthenticationError",
    "Balance",
    "Campaign",
    "CampaignPage",
    "ChannelStatus",
    "ConfigurationError",
    "ConsentEvent",
    "ConsentHistory",
    "ConsentInput",
    "ConsentStatus",
    "Contact",
    "ContactPage",
    "CoolingOffError",
    "DeadlineExceededError",
    "Message",
    "MessagePage",
    "NomiAPIError",
    "NomiClient",
    "NomiError",
    "NotFoundError",
    "PermissionDeniedError",
    "PhoneNumberError",
    "RateLimitError",
    "SendOutcome",
    "ServerError",
    "TransportError",
    "ValidationError",
    "message_matches_template",
    "normalize_phone",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nomi_client' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
