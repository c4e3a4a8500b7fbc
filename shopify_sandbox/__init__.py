"""A local Shopify GraphQL Admin API for development and tests (never imported by deployed code).

from shopify_sandbox import ShopifySandbox, FaultConfig
with ShopifySandbox(access_token="shpat_test", port=0) as shop:
    shop.state.seed(customers=100, orders=10); shop.url; shop.set_faults(FaultConfig(rate=0.2))
"""

from shopify_sandbox.faults import FaultConfig
from shopify_sandbox.server import DEFAULT_SHOP, DEFAULT_TOKEN, ShopifySandbox
from shopify_sandbox.state import ShopState

__all__ = ["DEFAULT_SHOP", "DEFAULT_TOKEN", "FaultConfig", "ShopState", "ShopifySandbox"]
