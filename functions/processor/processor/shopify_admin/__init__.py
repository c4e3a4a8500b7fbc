"""The Shopify GraphQL Admin API: what webhooks leave out (id-only payloads) and what the backfill reads.

- `client.AdminClient`: the transport (cost-based rate limit, time budget, timeouts, retries);
- `shapes`: GraphQL objects → the webhook shapes the adapter reads, and the queries that ask for them;
- `orders`: completing id-only order webhooks (within `processor.deadline`'s time left).

Nothing is imported here, so that importing the package loads no httpx.
"""
