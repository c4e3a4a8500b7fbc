"""Settings of the local stack (from the environment) and the functions' environment it builds.

The functions get the template's own variables with every !Ref resolved to the local resources, plus
what Lambda would give them (region) and what a local run needs (the AWS endpoint, dummy credentials,
the NOMI URL). Webhook secrets and the NOMI key go into the local Secrets Manager, as in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from local.aws import LOCAL_CREDENTIALS
from local.template import NO_VALUE, REGION, FunctionSpec, Resolver

# The documented local test values (events/README.md): the files of events/ are signed with them.
DEFAULT_SHOPIFY_SECRETS = ("shpss_test_secret",)
DEFAULT_STRIPE_SECRETS = ("whsec_test_secret",)
DEFAULT_SANDBOX_API_KEY = "test-key"
# Origins a page served from this machine has (`python -m http.server 8000`), besides the template's.
LOCAL_SIGNUP_ORIGINS = ("http://localhost:8000", "http://127.0.0.1:8000")

# Which template secret holds which setting (contracts §5 logical ids).
SHOPIFY_SECRET_ID = "ShopifyWebhookSecret"  # noqa: S105 - a logical id, not a secret
STRIPE_SECRET_ID = "StripeWebhookSecret"  # noqa: S105
NOMI_KEY_SECRET_ID = "NomiApiKeySecret"  # noqa: S105
SHOPIFY_ADMIN_SECRET_ID = "ShopifyAdminTokenSecret"  # noqa: S105


def _split_secrets(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class LocalSettings(BaseModel):
    """What `make run` reads from the environment; every default is a local test value."""

    model_config = ConfigDict(frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=3000, ge=0, le=65535, description="Front door port; 0 picks a free one.")
    aws_endpoint_url: str | None = Field(
        default=None, description="Use this AWS endpoint instead of starting moto."
    )
    nomi_api_url: str | None = None
    nomi_api_key: str | None = None
    shopify_webhook_secrets: tuple[str, ...] = DEFAULT_SHOPIFY_SECRETS
    stripe_webhook_secrets: tuple[str, ...] = DEFAULT_STRIPE_SECRETS
    stack_name: str = "nomi-gateway-local"
    shopify_shop_domain: str | None = Field(
        default=None,
        description="With SHOPIFY_ADMIN_TOKEN: the real store's Admin API instead of the local Shopify.",
    )
    shopify_admin_token: str | None = None
    shopify_sandbox_customers: int = Field(
        default=100, ge=0, description="Customers the local Shopify is seeded with."
    )
    shopify_sandbox_orders: int = Field(default=20, ge=0)
    signup_allowed_origins: tuple[str, ...] | None = Field(
        default=None,
        description="SIGNUP_ALLOWED_ORIGINS; None: the template's AllowedOrigins + LOCAL_SIGNUP_ORIGINS.",
    )
    signup_consent_texts: tuple[str, ...] | None = Field(
        default=None,
        description="SIGNUP_CONSENT_TEXTS (JSON array); None: the template's SignupConsentTexts.",
    )

    @field_validator("signup_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        return _split_secrets(value)

    @field_validator("signup_consent_texts", mode="before")
    @classmethod
    def _texts_from_json(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        try:
            texts = json.loads(value)
        except ValueError as exc:
            raise ValueError(
                'SIGNUP_CONSENT_TEXTS must be a JSON array of strings, e.g. ["I agree ..."]'
            ) from exc
        if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ValueError("SIGNUP_CONSENT_TEXTS must be a JSON array of non-empty strings")
        return tuple(texts)

    def template_parameters(self, template_defaults: Mapping[str, Any]) -> dict[str, str]:
        """The template parameters these settings set (AllowedOrigins, SignupConsentTexts,
        ProcessTestEvents), of those `template_defaults` (the template's Parameters section) declares."""
        origins = self.signup_allowed_origins
        if origins is None:
            declared = str((template_defaults.get("AllowedOrigins") or {}).get("Default") or "")
            origins = tuple(dict.fromkeys([*_split_secrets(declared), *LOCAL_SIGNUP_ORIGINS]))
        parameters = {"AllowedOrigins": ",".join(origins)}
        if self.signup_consent_texts is not None:
            parameters["SignupConsentTexts"] = json.dumps(list(self.signup_consent_texts))
        # Local traffic is test traffic (events/, Stripe test keys, Shopify test orders): a deployed
        # stack skips it by default, the local one acts on it so that the demo shows every effect.
        parameters["ProcessTestEvents"] = "true"
        # A template without the signup route (the tests' stand-in) declares neither.
        return {name: value for name, value in parameters.items() if name in template_defaults}

    @field_validator("shopify_webhook_secrets", "stripe_webhook_secrets", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        # The environment gives "newest,older"; a list is taken as is.
        return _split_secrets(value)

    @field_validator("shopify_webhook_secrets", "stripe_webhook_secrets")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("at least one webhook secret is needed")
        return value

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> LocalSettings:
        mapping = {
            "port": "PORT",
            "aws_endpoint_url": "AWS_ENDPOINT_URL",
            "nomi_api_url": "NOMI_API_URL",
            "nomi_api_key": "NOMI_API_KEY",
            "shopify_webhook_secrets": "SHOPIFY_WEBHOOK_SECRETS",
            "stripe_webhook_secrets": "STRIPE_WEBHOOK_SECRETS",
            "shopify_shop_domain": "SHOPIFY_SHOP_DOMAIN",
            "shopify_admin_token": "SHOPIFY_ADMIN_TOKEN",
            "shopify_sandbox_customers": "SHOPIFY_SANDBOX_CUSTOMERS",
            "shopify_sandbox_orders": "SHOPIFY_SANDBOX_ORDERS",
            "signup_allowed_origins": "SIGNUP_ALLOWED_ORIGINS",
            "signup_consent_texts": "SIGNUP_CONSENT_TEXTS",
        }
        values = {field: environ[var] for field, var in mapping.items() if environ.get(var)}
        return cls.model_validate(values)

    @property
    def uses_real_nomi(self) -> bool:
        """The real NOMI only when both its URL and a key are given; otherwise the sandbox."""
        return bool(self.nomi_api_url and self.nomi_api_key)

    @property
    def uses_real_shopify(self) -> bool:
        """The real store's Admin API only when both its domain and a token are given."""
        return bool(self.shopify_shop_domain and self.shopify_admin_token)

    @property
    def sandbox_api_key(self) -> str:
        return self.nomi_api_key or DEFAULT_SANDBOX_API_KEY

    @property
    def shopify_secrets_are_defaults(self) -> bool:
        return self.shopify_webhook_secrets == DEFAULT_SHOPIFY_SECRETS

    @property
    def stripe_secrets_are_defaults(self) -> bool:
        return self.stripe_webhook_secrets == DEFAULT_STRIPE_SECRETS


def secret_values(
    settings: LocalSettings, nomi_api_key: str, shopify_admin_token: str | None = None
) -> dict[str, str]:
    """SecretString of each template secret, by logical id (comma-separated, newest first)."""
    values = {
        SHOPIFY_SECRET_ID: ",".join(settings.shopify_webhook_secrets),
        STRIPE_SECRET_ID: ",".join(settings.stripe_webhook_secrets),
        NOMI_KEY_SECRET_ID: nomi_api_key,
    }
    if shopify_admin_token is not None:
        values[SHOPIFY_ADMIN_SECRET_ID] = shopify_admin_token
    return values


def base_environment(*, aws_endpoint_url: str, region: str = REGION) -> dict[str, str]:
    """What every local function gets besides its template variables."""
    return {
        "AWS_ENDPOINT_URL": aws_endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **LOCAL_CREDENTIALS,
        # No X-Ray daemon locally: Powertools' tracer would only warn.
        "POWERTOOLS_TRACE_DISABLED": "true",
    }


def _env_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def function_environment(
    spec: FunctionSpec,
    resolver: Resolver,
    *,
    nomi_api_url: str,
    nomi_api_key: str | None,
    shopify_admin_url: str | None = None,
) -> dict[str, str]:
    """The template's Environment.Variables of `spec`, resolved, with NOMI pointed at the local target.

    `nomi_api_key` is set directly only where the template itself declares NOMI_API_KEY; otherwise the
    function reads it from the secret named by NOMI_API_KEY_SECRET_NAME, as deployed.
    """
    variables = {
        name: _env_string(value)
        for name, value in resolver.resolve(spec.environment).items()
        if value is not NO_VALUE
    }
    if "NOMI_API_URL" in variables or "NOMI_API_KEY_SECRET_NAME" in variables:
        variables["NOMI_API_URL"] = nomi_api_url
    if "NOMI_API_KEY" in variables and nomi_api_key is not None:
        variables["NOMI_API_KEY"] = nomi_api_key
    if variables.get("SHOPIFY_SHOP_DOMAIN") and shopify_admin_url:
        variables["SHOPIFY_ADMIN_API_URL"] = shopify_admin_url
    return variables
