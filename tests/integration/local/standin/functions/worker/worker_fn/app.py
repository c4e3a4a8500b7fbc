"""A stand-in SQS function: `{"fail": true}` fails its record, `{"raise": true}` fails the batch."""

import json

SEEN = []
"""Every record this function was invoked with (the tests read it)."""


def lambda_handler(event, context):
    failures = []
    for record in event["Records"]:
        SEEN.append(record)
        body = json.loads(record["body"])
        if body.get("raise"):
            raise RuntimeError("the whole batch fails")
        if body.get("fail"):
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
