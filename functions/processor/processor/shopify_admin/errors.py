"""Errors of the Shopify Admin API client. The split follows the processor's: a permanent error
dead-letters the event with its reason, a transient one has SQS retry it (`retry_after` stretches the
wait, as for NOMI's 429)."""

from __future__ import annotations

from processor.errors import InvalidEventError, TransientEventError


class ShopifyAdminError(Exception):
    """Base of every error the Shopify Admin API client raises."""


class ShopifyNotConfiguredError(ShopifyAdminError, InvalidEventError):
    """No Admin API access token (or not for this shop): the event cannot be completed, dead-letter it."""


class ShopifyNotFoundError(ShopifyAdminError, InvalidEventError):
    """The resource the event names does not exist (any more) in the shop."""


class ShopifyQueryError(ShopifyAdminError, InvalidEventError):
    """Shopify refused the query itself (GraphQL errors other than throttling and access)."""


class ShopifyTransientError(ShopifyAdminError, TransientEventError):
    """Worth retrying later: 5xx, timeouts, connection errors, throttling, or no time left to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ShopifyThrottledError(ShopifyTransientError):
    """The cost bucket is empty (THROTTLED or 429) and waiting for it would overrun the time budget."""


class ShopifyAuthError(ShopifyTransientError):
    """401/403 or ACCESS_DENIED: the token is wrong, revoked or lacks a scope. Retried, like NOMI's 401,
    so that fixing the secret recovers every event instead of dead-lettering them all meanwhile."""
