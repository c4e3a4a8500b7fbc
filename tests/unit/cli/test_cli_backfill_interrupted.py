"""`backfill shopify` interrupted mid-file (the download fails): it prints a resume token, and the run
resumed from it reads the rest, queueing each customer once (moto SQS and DynamoDB, a fake Shopify)."""

import io
import json

import boto3
import pytest
from moto import mock_aws

from cli.backfill import Options, ResumeToken, Target, backfill
from processor.settings import MappingSettings
from processor.shopify_admin.errors import ShopifyTransientError
from shopify_sandbox.state import customer_node

SHOP = "acme.myshopify.com"
LINES = [json.dumps({k: v for k, v in customer_node(i).items() if k != "__typename"}) for i in range(250)]


class FakeShopify:
    """A completed bulk operation whose file download breaks after `break_after` lines, once."""

    def __init__(self, break_after: int | None):
        self.break_after = break_after
        self.started = 0

    def graphql(self, query, variables=None, *, api_version=None):
        if "bulkOperationRunQuery" in query:
            self.started += 1
            return {
                "bulkOperationRunQuery": {
                    "bulkOperation": {"id": "gid://shopify/BulkOperation/9"},
                    "userErrors": [],
                }
            }
        node = {
            "id": variables["id"],
            "status": "COMPLETED",
            "rootObjectCount": str(len(LINES)),
            "url": "https://x/f",
        }
        return {"node": node}

    def download_lines(self, url):
        for index, line in enumerate(LINES):
            if self.break_after is not None and index == self.break_after:
                self.break_after = None
                raise ShopifyTransientError("bulk result file download failed: ReadError")
            yield line


@pytest.fixture
def target():
    with mock_aws():
        queue = boto3.client("sqs").create_queue(QueueName="events")["QueueUrl"]
        boto3.client("dynamodb").create_table(
            TableName="idem",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        settings = MappingSettings(consent_texts={"shopify_customer": "Yes, text me."})
        yield Target(queue_url=queue, table="idem", shop_domain=SHOP, access_token="t", settings=settings)


def _queued(target) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=target.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def test_backfill_interrupted_prints_a_token_and_the_resumed_run_queues_the_rest_once(target):
    shopify = FakeShopify(break_after=130)
    err = io.StringIO()
    with pytest.raises(ShopifyTransientError):
        backfill(target, Options(), out=io.StringIO(), err=err, admin=shopify, progress=False)
    token = ResumeToken.decode(err.getvalue().rsplit("--resume ", 1)[1].strip())
    assert token.lines_done == 100  # the last chunk fully queued and recorded
    resumed = backfill(
        target, Options(resume=token), out=io.StringIO(), err=io.StringIO(), admin=shopify, progress=False
    )
    assert (resumed.read, shopify.started) == (150, 1)  # the same bulk operation, after line 100
    everyone = backfill(
        target,
        Options(dry_run=True),
        out=io.StringIO(),
        err=io.StringIO(),
        admin=FakeShopify(None),
        progress=False,
    )
    assert _queued(target) == everyone.skipped["already_queued"] == 200  # 250 customers, 200 with an opt-in
