"""A stand-in HTTP function: echoes what it received, or queues the body (like ingest would)."""

import json
import os

import boto3
from standin_helper import LAYER_LOADED

# Read at import, as real handlers do: the local stack must set the environment first.
QUEUE_URL = os.environ["QUEUE_URL"]
_sqs = boto3.client("sqs")


def lambda_handler(event, context):
    if event["rawPath"] == "/enqueue":
        _sqs.send_message(
            QueueUrl=QUEUE_URL,
            MessageBody=event["body"],
            MessageAttributes={"source": {"DataType": "String", "StringValue": "standin"}},
        )
        return {"statusCode": 202, "headers": {"access-control-allow-origin": "*"}, "body": "{}"}
    if event["rawPath"].startswith("/plain"):
        return {"hello": "world"}
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "cookies": ["a=1"],
        "body": json.dumps(
            {
                "event": event,
                "function_name": context.function_name,
                "remaining_ms": context.get_remaining_time_in_millis(),
                "layer": LAYER_LOADED,
                "env": {
                    k: os.environ.get(k)
                    for k in (
                        "QUEUE_URL",
                        "GREETING",
                        "OPTIONAL",
                        "SECRET_NAME",
                        "TABLE",
                        "BUCKET",
                        "QUEUE_ARN",
                        "NOMI_API_URL",
                        "STAGE",
                        "AWS_ENDPOINT_URL",
                    )
                },
            }
        ),
    }
