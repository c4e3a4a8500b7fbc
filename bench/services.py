"""AWS (a moto server) and NOMI (the sandbox) in a process of their own, for the measured handlers.

In the handler's own process the mocks would share its interpreter lock: their CPU would be charged to
the handler's concurrency and memory. Here they run beside it, as DynamoDB and NOMI do in production.
`python -m bench.services --latency-ms N` prints one JSON line (the env overrides that point a handler
at them) and serves until its stdin closes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from bench import payloads
from bench.runtime import (
    FUNCTION_ENV,
    NOMI_TEST_KEY,
    REPO,
    SERVICE_KEYS,
    SHARED_FLAG,
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    function_env,
    require_modules,
)


class ServicesFailedError(RuntimeError):
    """The services process did not start."""


def create_aws_resources() -> dict[str, str]:
    """The table, queues, bucket and secrets of template.yaml; returns the env overrides they imply."""
    import boto3

    dynamodb = boto3.client("dynamodb")
    table = FUNCTION_ENV["IDEMPOTENCY_TABLE"]
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"}
    )
    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="bench-events")["QueueUrl"]
    dlq_url = sqs.create_queue(QueueName="bench-events-dlq")["QueueUrl"]
    boto3.client("s3").create_bucket(Bucket=FUNCTION_ENV["PAYLOAD_BUCKET"])
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=FUNCTION_ENV["SHOPIFY_SECRET_NAME"], SecretString=SHOPIFY_SECRET)
    secrets.create_secret(Name=FUNCTION_ENV["STRIPE_SECRET_NAME"], SecretString=STRIPE_SECRET)
    return {"QUEUE_URL": queue_url, "DLQ_URL": dlq_url}


def serve(latency_ms: float) -> None:
    """Start both, announce them on stdout, serve until stdin closes."""
    from moto.server import ThreadedMotoServer

    from sandbox import FaultConfig, SandboxServer

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # boto3 sends every service there
    faults = FaultConfig(latency_ms=latency_ms)
    try:
        overrides = create_aws_resources()
        with SandboxServer(
            api_key=NOMI_TEST_KEY, host="127.0.0.1", port=0, faults=faults, log_requests=False
        ) as sandbox:
            sandbox.seed_campaign(name="bench", short_link_id=payloads.CLICK_ID)
            print(
                json.dumps({**overrides, "AWS_ENDPOINT_URL": endpoint, "NOMI_API_URL": sandbox.url}),
                flush=True,
            )
            sys.stdin.read()
    finally:
        moto.stop()


def set_nomi_latency(nomi_url: str, latency_ms: float) -> None:
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        f"{nomi_url}/_sandbox/faults",
        data=json.dumps({"latency_ms": latency_ms}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - the loopback sandbox
        pass


@contextmanager
def external_services(*, latency_ms: float = 0.0) -> Iterator[dict[str, str]]:
    """The env overrides that point a handler at AWS and NOMI: those of the shared services process
    when `python -m bench` started one (its NOMI latency set for the duration), else a process of our own."""
    if os.environ.get(SHARED_FLAG):
        overrides = {key: os.environ[key] for key in SERVICE_KEYS}
        set_nomi_latency(overrides["NOMI_API_URL"], latency_ms)
        try:
            yield overrides
        finally:
            set_nomi_latency(overrides["NOMI_API_URL"], 0.0)
        return
    require_modules("sandbox")
    # stderr to a file, not a pipe: the moto server logs every request and a full pipe would stall it.
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.services", "--latency-ms", str(latency_ms)],
            env=function_env(),
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        stdin, stdout = process.stdin, process.stdout
        if stdin is None or stdout is None:  # cannot happen with PIPE; narrows the types
            raise ServicesFailedError("bench.services has no pipes")
        try:
            line = stdout.readline()
            if not line:
                log.seek(0)
                raise ServicesFailedError(f"bench.services exited: {log.read()[-500:]}")
            yield json.loads(line)
        finally:
            stdin.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.services")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    serve(parser.parse_args().latency_ms)


if __name__ == "__main__":
    main()
