"""template.yaml's Admin API wiring, resolved as CloudFormation would for each way of configuring it: the
processor reads exactly the secret it is allowed to read (moto enforces no IAM, so this is checked here)."""

from pathlib import Path

import pytest

from local.template import load_template

pytestmark = pytest.mark.integration

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"
EXISTING = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-token-AbCdEf"


def _processor(**overrides):
    template = load_template(TEMPLATE, stack_name="s", parameter_overrides=overrides)
    resolver = template.resolver(ref=lambda name: f"ref:{name}", attr=lambda name, attr: f"{name}.{attr}")
    # Environment and Policies only: the rest needs real values (VersionDescription splits layer ARNs).
    processor = template.properties("ProcessorFunction")
    properties = resolver.resolve({key: processor[key] for key in ("Environment", "Policies")})
    secrets = [
        p["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
        for p in properties["Policies"]
        if isinstance(p, dict) and "AWSSecretsManagerGetSecretValuePolicy" in p
    ]
    return template, properties["Environment"]["Variables"], secrets


def test_admin_template_without_shop_domain_has_no_token_secret_or_grant():
    template, variables, secrets = _processor()
    assert "ShopifyAdminTokenSecret" not in template.resources
    assert "SHOPIFY_ADMIN_TOKEN_SECRET_NAME" not in variables
    assert not any("ShopifyAdmin" in str(s) for s in secrets)


def test_admin_template_with_shop_domain_creates_the_secret_the_processor_may_read():
    template, variables, secrets = _processor(ShopifyShopDomain="acme.myshopify.com")
    assert "ShopifyAdminTokenSecret" in template.resources
    assert variables["SHOPIFY_SHOP_DOMAIN"] == "acme.myshopify.com"
    assert variables["SHOPIFY_ADMIN_TOKEN_SECRET_NAME"] == "ref:ShopifyAdminTokenSecret"
    assert "ref:ShopifyAdminTokenSecret" in secrets


def test_admin_template_with_an_existing_secret_reads_and_grants_that_one():
    template, variables, secrets = _processor(
        ShopifyShopDomain="acme.myshopify.com", ShopifyAdminTokenSecretArn=EXISTING
    )
    assert "ShopifyAdminTokenSecret" not in template.resources
    assert variables["SHOPIFY_ADMIN_TOKEN_SECRET_NAME"] == EXISTING
    assert EXISTING in secrets
