"""`backfill shopify --stack NAME`: the deployed stack's queue, table, shop, token and consent texts,
found through its outputs and the processor's own configuration (moto)."""

import io
import json
import zipfile

import boto3
import pytest
from moto import mock_aws

from cli.backfill import stack_target
from cli.common import CliError

TEXT = "Yes, text me offers from Acme."


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _deploy(variables: dict[str, str]) -> None:
    role = boto3.client("iam").create_role(
        RoleName="processor", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName="stack-Processor",
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        Environment={"Variables": variables},
    )
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "EventQueueUrl": {"Value": "https://sqs.us-east-1.amazonaws.com/123456789012/events"},
            "IdempotencyTableName": {"Value": "idempotency"},
            "ProcessorFunctionName": {"Value": "stack-Processor"},
        },
    }
    boto3.client("cloudformation").create_stack(StackName="shop-stack", TemplateBody=json.dumps(template))


@pytest.fixture
def aws():
    with mock_aws():
        yield


def test_stack_target_reads_shop_token_and_consent_texts_from_the_stack(aws):
    secret = boto3.client("secretsmanager").create_secret(Name="admin-token", SecretString="shpat_real")[
        "ARN"
    ]
    settings = {"consent_texts": {"shopify_customer": TEXT}}
    _deploy(
        {
            "SHOPIFY_SHOP_DOMAIN": "acme.myshopify.com",
            "SHOPIFY_ADMIN_TOKEN_SECRET_NAME": secret,
            "SHOPIFY_API_VERSION": "2025-10",
            "MAPPING_SETTINGS": json.dumps(settings),
        }
    )
    target = stack_target("shop-stack")
    assert (target.queue_url.endswith("/events"), target.table, target.shop_domain) == (
        True,
        "idempotency",
        "acme.myshopify.com",
    )
    assert (target.access_token, target.api_version) == ("shpat_real", "2025-10")
    assert target.settings.consent_text("shopify_customer") == TEXT
    assert "shpat_real" not in repr(target)


def test_stack_target_without_admin_access_says_which_parameter_to_set(aws):
    _deploy({"MAPPING_SETTINGS": ""})
    with pytest.raises(CliError, match="ShopifyShopDomain"):
        stack_target("shop-stack")
