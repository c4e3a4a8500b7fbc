"""`python -m shopify_sandbox`: serve the local Shopify GraphQL Admin API until Ctrl-C (see README.md)."""

from __future__ import annotations

import argparse
import contextlib
import os
import threading

from shopify_sandbox.faults import ALL_KINDS, FaultConfig
from shopify_sandbox.server import DEFAULT_SHOP, DEFAULT_TOKEN, ShopifySandbox


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m shopify_sandbox", description="A local Shopify Admin API."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SHOPIFY_SANDBOX_PORT") or 4020))
    parser.add_argument("--access-token", default=DEFAULT_TOKEN, help="the token clients must send")
    parser.add_argument("--shop-domain", default=DEFAULT_SHOP)
    parser.add_argument("--customers", type=int, default=100, help="customers to seed")
    parser.add_argument("--orders", type=int, default=20, help="orders to seed")
    parser.add_argument("--seed", type=int, default=0, help="makes the seeded shop and the faults repeatable")
    parser.add_argument("--bulk-polls", type=int, default=2, help="polls before a bulk operation completes")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of answers that fail (0-1)")
    parser.add_argument("--fault-kinds", default=",".join(ALL_KINDS), help="comma list (also bulk_failed)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    faults = FaultConfig(
        rate=args.fault_rate,
        kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
        seed=args.seed,
    )
    shop = ShopifySandbox(
        access_token=args.access_token,
        shop_domain=args.shop_domain,
        host=args.host,
        port=args.port,
        bulk_polls=args.bulk_polls,
        faults=faults,
    ).start()
    shop.state.seed(customers=args.customers, orders=args.orders, seed=args.seed)
    print(
        f"local Shopify {args.shop_domain} on {shop.url}/admin/api/<version>/graphql.json "
        f"(inspect: {shop.url}/_shopify/state; Ctrl-C stops)",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
    shop.stop()


if __name__ == "__main__":
    main()
