"""AWS for the local stack: moto's server on 127.0.0.1 (or an endpoint you run), and the template's
queues, table, bucket and secrets created on it.

Every start is fresh: an embedded moto is reset when it starts; on an external endpoint the resource
names carry a per-run suffix and the resources are deleted when the stack stops.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from local.template import Template

LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
"""Dummy credentials: moto accepts any, and real credentials must never reach a local stack."""


class AwsError(Exception):
    """The local AWS endpoint could not be started or a resource could not be created on it."""


@dataclass
class AwsEndpoint:
    """Where the local AWS answers, and whether this process owns it."""

    url: str
    region: str
    embedded: bool
    _server: Any = None
    _session: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self) -> boto3.session.Session:
        # One session: botocore caches the service models per session (a new one costs ~0.3 s).
        with self._lock:
            if self._session is None:
                self._session = boto3.session.Session(
                    aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                    aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                    region_name=self.region,
                )
            return self._session

    def client(self, service: str) -> Any:
        """A new client (clients are thread-safe; the session that makes them is not)."""
        session = self.session()
        # Few retries and short timeouts: locally a failure should show at once, not after a minute.
        config = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
        with self._lock:
            return session.client(service, endpoint_url=self.url, config=config)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def start_aws(*, endpoint_url: str | None, region: str) -> AwsEndpoint:
    """Use `endpoint_url` when given; otherwise start moto's server on a free loopback port."""
    if endpoint_url:
        return AwsEndpoint(url=endpoint_url.rstrip("/"), region=region, embedded=False)
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request at INFO: the local stack prints its own one line per event instead.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = AwsEndpoint(url=f"http://{host}:{port}", region=region, embedded=True, _server=server)
    # moto's backends are process-wide: a second stack in the same process must not see the first's.
    _reset_moto(endpoint.url)
    return endpoint


def _reset_moto(url: str) -> None:
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310 - loopback URL we built
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        response.read()


@dataclass
class Resources:
    """The provisioned resources, by template logical id, as !Ref and !GetAtt see them."""

    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)
    queue_urls: dict[str, str] = field(default_factory=dict)
    queue_arns: dict[str, str] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    """Secret logical id → ARN."""
    dead_letter_queues: dict[str, str] = field(default_factory=dict)
    """Queue logical id → the logical id of its dead-letter queue."""
    max_receive_counts: dict[str, int] = field(default_factory=dict)

    def ref(self, logical_id: str) -> Any:
        return self.refs[logical_id]

    def attr(self, logical_id: str, attribute: str) -> Any:
        try:
            return self.attrs[(logical_id, attribute)]
        except KeyError as exc:
            raise AwsError(f"!GetAtt {logical_id}.{attribute} has no local value") from exc

    def queue_for_arn(self, arn: str) -> str:
        for logical_id, queue_arn in self.queue_arns.items():
            if queue_arn == arn:
                return logical_id
        raise AwsError(f"no local queue has the ARN {arn}")


@dataclass(frozen=True)
class Naming:
    """How local resources are named: the template's names, or `<stack>-<LogicalId>` where it has none."""

    stack_name: str
    suffix: str | None = None

    def name(self, logical_id: str, declared: str | None, *, max_length: int = 80) -> str:
        base = declared or f"{self.stack_name}-{logical_id}"
        if self.suffix and self.suffix not in base:
            stem, dot, ext = base.partition(".fifo")
            base = f"{stem}-{self.suffix}{dot}{ext}"
        return base[:max_length]

    def bucket_name(self, logical_id: str, declared: str | None) -> str:
        return self.name(logical_id, declared, max_length=63).lower()


def new_run_suffix() -> str:
    return secrets.token_hex(3)


def provision(
    template: Template,
    endpoint: AwsEndpoint,
    *,
    naming: Naming,
    secret_values: dict[str, str],
    visibility_timeout: int | None = None,
) -> Resources:
    """Create the template's queues, tables, buckets and secrets; return what !Ref/!GetAtt resolve to.

    `secret_values` gives the SecretString of secrets by logical id (webhook secrets, NOMI key);
    `visibility_timeout` overrides every queue's (tests use a second instead of minutes).
    """
    resources = Resources()
    try:
        _create_queues(template, endpoint, naming, resources, visibility_timeout)
        _create_tables(template, endpoint, naming, resources)
        _create_buckets(template, endpoint, naming, resources)
        _create_secrets(template, endpoint, naming, resources, secret_values)
    except (ClientError, BotoCoreError) as exc:
        raise AwsError(f"creating the local resources on {endpoint.url} failed: {exc}") from exc
    _name_the_rest(template, naming, resources)
    return resources


def _create_queues(
    template: Template,
    endpoint: AwsEndpoint,
    naming: Naming,
    resources: Resources,
    visibility_timeout: int | None,
) -> None:
    sqs = endpoint.client("sqs")
    specs = template.queues()
    for spec in specs:
        name = naming.name(spec.logical_id, spec.name)
        attributes = dict(spec.attributes)
        if visibility_timeout is not None:
            attributes["VisibilityTimeout"] = str(visibility_timeout)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resources.queue_urls[spec.logical_id] = url
        resources.queue_arns[spec.logical_id] = arn
        resources.refs[spec.logical_id] = url
        resources.attrs[(spec.logical_id, "Arn")] = arn
        resources.attrs[(spec.logical_id, "QueueName")] = name
        resources.attrs[(spec.logical_id, "QueueUrl")] = url
    # Redrive policies name other queues' ARNs: set them once every queue exists.
    resolver = template.resolver(ref=resources.ref, attr=resources.attr)
    for spec in specs:
        if spec.redrive_target is None:
            continue
        target_arn = resolver.resolve(spec.redrive_target)
        policy = {"deadLetterTargetArn": target_arn, "maxReceiveCount": spec.max_receive_count or 10}
        sqs.set_queue_attributes(
            QueueUrl=resources.queue_urls[spec.logical_id],
            Attributes={"RedrivePolicy": json.dumps(policy)},
        )
        resources.dead_letter_queues[spec.logical_id] = resources.queue_for_arn(target_arn)
        resources.max_receive_counts[spec.logical_id] = int(policy["maxReceiveCount"])


def _create_tables(template: Template, endpoint: AwsEndpoint, naming: Naming, resources: Resources) -> None:
    dynamodb = endpoint.client("dynamodb")
    for spec in template.tables():
        name = naming.name(spec.logical_id, spec.name, max_length=255)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": spec.key_schema,
            "AttributeDefinitions": spec.attribute_definitions,
            "BillingMode": "PAY_PER_REQUEST",
        }
        if spec.global_secondary_indexes:
            kwargs["GlobalSecondaryIndexes"] = [
                {k: v for k, v in index.items() if k != "ProvisionedThroughput"}
                for index in spec.global_secondary_indexes
            ]
        arn = dynamodb.create_table(**kwargs)["TableDescription"]["TableArn"]
        if spec.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
            )
        resources.tables[spec.logical_id] = name
        resources.refs[spec.logical_id] = name
        resources.attrs[(spec.logical_id, "Arn")] = arn


def _create_buckets(template: Template, endpoint: AwsEndpoint, naming: Naming, resources: Resources) -> None:
    s3 = endpoint.client("s3")
    for spec in template.buckets():
        name = naming.bucket_name(spec.logical_id, spec.name)
        if endpoint.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": endpoint.region})
        if spec.versioned:  # the receipts bucket: a redact must find every version to delete
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        resources.buckets[spec.logical_id] = name
        resources.refs[spec.logical_id] = name
        resources.attrs[(spec.logical_id, "Arn")] = f"arn:aws:s3:::{name}"
        resources.attrs[(spec.logical_id, "DomainName")] = f"{name}.s3.amazonaws.com"


def _create_secrets(
    template: Template,
    endpoint: AwsEndpoint,
    naming: Naming,
    resources: Resources,
    secret_values: dict[str, str],
) -> None:
    client = endpoint.client("secretsmanager")
    for spec in template.secrets():
        name = naming.name(spec.logical_id, spec.name, max_length=512)
        value = secret_values.get(spec.logical_id, spec.secret_string)
        if value is None:
            # GenerateSecretString in a deployment; any value will do locally.
            value = secrets.token_urlsafe(24)
        arn = client.create_secret(Name=name, SecretString=value)["ARN"]
        resources.secrets[spec.logical_id] = arn
        resources.refs[spec.logical_id] = arn
        resources.attrs[(spec.logical_id, "Id")] = arn


def _name_the_rest(template: Template, naming: Naming, resources: Resources) -> None:
    """Resources the local stack does not create (functions, roles, rules…) still need a !Ref value."""
    region, account = template.pseudo.region, template.pseudo.account_id
    for logical_id, resource in template.resources.items():
        if logical_id in resources.refs:
            continue
        kind = str(resource.get("Type", ""))
        name = naming.name(logical_id, None, max_length=64)
        if kind in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            declared = template.resolve_static((resource.get("Properties") or {}).get("FunctionName"))
            name = declared or name
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        else:
            arn = f"arn:aws:{kind.split('::')[1].lower() if '::' in kind else 'local'}:{region}:{account}:{name}"
        resources.refs[logical_id] = name
        resources.attrs[(logical_id, "Arn")] = arn


def purge(resources: Resources, endpoint: AwsEndpoint) -> list[str]:
    """Delete what `provision` created (for external endpoints); returns the problems met, if any."""
    problems: list[str] = []

    def attempt(what: str, call: Any, **kwargs: Any) -> None:
        try:
            call(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            problems.append(f"{what}: {exc}")

    sqs, dynamodb = endpoint.client("sqs"), endpoint.client("dynamodb")
    s3, secretsmanager = endpoint.client("s3"), endpoint.client("secretsmanager")
    for url in resources.queue_urls.values():
        attempt(f"queue {url}", sqs.delete_queue, QueueUrl=url)
    for name in resources.tables.values():
        attempt(f"table {name}", dynamodb.delete_table, TableName=name)
    for name in resources.buckets.values():
        attempt(f"bucket {name}", _empty_and_delete_bucket, s3=s3, bucket=name)
    for arn in resources.secrets.values():
        attempt(f"secret {arn}", secretsmanager.delete_secret, SecretId=arn, ForceDeleteWithoutRecovery=True)
    return problems


def _empty_and_delete_bucket(*, s3: Any, bucket: str) -> None:
    # Every version and delete marker: a versioned bucket with any left cannot be deleted.
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=bucket)
