"""Which source topics the gateway handles: ingest queues these and answers 200 to anything else."""

SHOPIFY_TOPICS: frozenset[str] = frozenset(
    {
        "checkouts/create",
        "checkouts/update",
        "orders/create",
        "orders/paid",
        "orders/fulfilled",
        "fulfillments/create",
        "fulfillments/update",
        "customers/create",
        "customers/update",
        "customers_marketing_consent/update",
        "customers_email_marketing_consent/update",
        # Mandatory privacy topics: acknowledged, logged, and redact unsubscribes the person.
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    }
)

STRIPE_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
        # Payments without Checkout (Payment Element, custom flows); Checkout's own are skipped.
        "payment_intent.succeeded",
        "customer.created",
        "customer.updated",
    }
)
