"""Each function runs locally with the permissions its template role grants — moto enforces no IAM.

The template's `Policies` of each function (inline statements, and SAM policy templates such as
`SQSSendMessagePolicy` expanded with SAM's own definitions from `samtranslator`), plus what SAM adds
to every role (logs, X-Ray with `Tracing: Active`, the SQS event source's receive/delete/attributes),
make a `Role`. A botocore event hook on every client created while the stack runs sees each AWS call
a function makes (the function is known from a context variable set around each invocation) and:

- answers `AccessDenied` without sending it when the role does not allow the action on the resource,
  as AWS would, and records the denial (code that swallows the error still shows up in `denied`);
- records every call, so `unused_grants()` can name what the template grants but nothing called
  (least privilege: a test drives every event through the stack and expects both lists empty).

Evaluation is IAM's, simplified: an explicit Deny wins, then any Allow whose action and resource
patterns (`*`, `?`) match; conditions are not evaluated (the template's roles use none).
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from local.template import NO_VALUE, Resolver, Template

CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("local_function", default=None)
"""The logical id of the function whose code is running (set by `LocalFunction.invoke`)."""

# botocore operation → IAM action where the two names differ.
_ACTION_NAMES = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("sqs", "SendMessageBatch"): "sqs:SendMessage",
    ("sqs", "DeleteMessageBatch"): "sqs:DeleteMessage",
    ("sqs", "ChangeMessageVisibilityBatch"): "sqs:ChangeMessageVisibility",
}
_S3_BUCKET_OPERATIONS = {
    "ListObjectsV2",
    "ListObjects",
    "HeadBucket",
    "GetBucketLocation",
    "GetBucketLifecycleConfiguration",
}

# What SAM attaches to every function role it creates, beyond `Policies` (managed policies by name).
_BASIC_EXECUTION = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
_XRAY_WRITE = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
SQS_EVENT_SOURCE_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
"""What an SQS event source mapping calls with its function's role (Lambda checks them on creation)."""


class PermissionsError(Exception):
    """A function's policies cannot be read (an unknown SAM policy template, a managed policy name)."""


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    label: str
    """Where it comes from: the policy template or Sid, for messages."""
    from_template: bool = True
    """False for what SAM adds on its own (not the template's to trim)."""

    def covers(self, action: str, resource: str) -> bool:
        return any(_match(a, action) for a in self.actions) and any(
            _match(r, resource, case=True) for r in self.resources
        )


def _match(pattern: str, value: str, *, case: bool = False) -> bool:
    if case:
        return fnmatch.fnmatchcase(value, pattern)
    return fnmatch.fnmatchcase(value.lower(), pattern.lower())


@dataclass(frozen=True)
class Call:
    function: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.function} called {self.action} on {self.resource}"


@dataclass
class Role:
    """The statements of one function's execution role."""

    function: str
    statements: list[Statement]

    def allows(self, action: str, resource: str) -> bool:
        relevant = [s for s in self.statements if s.covers(action, resource)]
        return any(s.effect == "Allow" for s in relevant) and not any(s.effect == "Deny" for s in relevant)


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _sam_policy_templates() -> Any:
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    return PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())


def role_of(template: Template, function_id: str, resolver: Resolver) -> Role:
    """The role SAM would create for `function_id`, its ARNs resolved to the local resources."""
    props = template.properties(function_id)
    statements: list[Statement] = []
    processor = None
    for index, policy in enumerate(props.get("Policies") or []):
        if isinstance(policy, str):
            raise PermissionsError(f"{function_id}: managed policy {policy!r} cannot be checked locally")
        resolved = resolver.resolve(policy)
        if resolved is NO_VALUE:
            continue  # `!If [Condition, policy, !Ref AWS::NoValue]` with the condition false
        if "Statement" in resolved:
            statements += _statements(resolved["Statement"], f"Policies[{index}]")
            continue
        ((name, parameters),) = resolved.items()
        processor = processor or _sam_policy_templates()
        if not processor.has(name):
            raise PermissionsError(f"{function_id}: unknown SAM policy template {name!r}")
        document = resolver.resolve(processor.convert(name, parameters or {}))
        statements += _statements(document["Statement"], name)
    statements += _implicit(template, props)
    return Role(function_id, statements)


def _statements(raw: Any, label: str) -> list[Statement]:
    out = []
    for statement in raw if isinstance(raw, list) else [raw]:
        out.append(
            Statement(
                effect=str(statement.get("Effect", "Allow")),
                actions=_as_tuple(statement.get("Action")),
                resources=_as_tuple(statement.get("Resource")),
                label=str(statement.get("Sid") or label),
            )
        )
    return out


def _implicit(template: Template, props: Mapping[str, Any]) -> list[Statement]:
    """The managed policies SAM attaches. Only a function's own `SQS` event brings the SQS one: for an
    explicit `AWS::Lambda::EventSourceMapping` the template's `Policies` must grant what the mapping
    calls (checked by `PermissionGuard.check_event_source`, and used there)."""
    implicit = [Statement("Allow", _BASIC_EXECUTION, ("*",), "AWSLambdaBasicExecutionRole", False)]
    if str(template.resolve_static(props.get("Tracing", ""))) == "Active":
        implicit.append(Statement("Allow", _XRAY_WRITE, ("*",), "AWSXrayWriteOnlyAccess", False))
    if any(e.get("Type") == "SQS" for e in (props.get("Events") or {}).values()):
        implicit.append(
            Statement("Allow", SQS_EVENT_SOURCE_ACTIONS, ("*",), "AWSLambdaSQSQueueExecutionRole", False)
        )
    return implicit


@dataclass(frozen=True)
class Arns:
    """How the ARN of the resource a call names is worked out (the local stack's region and account)."""

    region: str
    account: str
    secret_arns: tuple[str, ...] = ()

    def of(self, service: str, operation: str, params: Mapping[str, Any]) -> str:
        if service == "sqs" and params.get("QueueUrl"):
            name = urlsplit(str(params["QueueUrl"])).path.rstrip("/").rsplit("/", 1)[-1]
            return f"arn:aws:sqs:{self.region}:{self.account}:{name}"
        if service == "dynamodb" and params.get("TableName"):
            table = f"arn:aws:dynamodb:{self.region}:{self.account}:table/{params['TableName']}"
            return f"{table}/index/{params['IndexName']}" if params.get("IndexName") else table
        if service == "s3" and params.get("Bucket"):
            if operation in _S3_BUCKET_OPERATIONS or not params.get("Key"):
                return f"arn:aws:s3:::{params['Bucket']}"
            return f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"
        if service == "secretsmanager" and params.get("SecretId"):
            return self._secret(str(params["SecretId"]))
        return "*"

    def _secret(self, secret_id: str) -> str:
        if secret_id.startswith("arn:"):
            return secret_id
        # A name: the ARN is the name plus a random suffix (`name-AbCdEf`).
        for arn in self.secret_arns:
            if arn.rsplit(":", 1)[-1].rsplit("-", 1)[0] == secret_id:
                return arn
        return f"arn:aws:secretsmanager:{self.region}:{self.account}:secret:{secret_id}"


_TRANSACT_WRITE = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def required(service: str, operation: str, params: Mapping[str, Any], arns: Arns) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs one call needs. Most calls need one; transactions and
    batches need each item's own action on each item's table or object, as IAM evaluates them."""
    if service == "dynamodb" and operation in ("TransactWriteItems", "TransactGetItems"):
        pairs = []
        for item in params.get("TransactItems") or []:
            for kind, body in item.items():
                action = "GetItem" if kind == "Get" else _TRANSACT_WRITE.get(kind, kind)
                pairs.append((f"dynamodb:{action}", arns.of(service, action, body)))
        return pairs
    if service == "dynamodb" and operation in ("BatchWriteItem", "BatchGetItem"):
        return [
            (f"dynamodb:{operation}", arns.of(service, operation, {"TableName": t}))
            for t in params.get("RequestItems") or {}
        ]
    if service == "s3" and operation == "DeleteObjects":
        pairs = []
        for obj in (params.get("Delete") or {}).get("Objects") or []:
            one = {"Bucket": params.get("Bucket"), "Key": obj.get("Key"), "VersionId": obj.get("VersionId")}
            one["BypassGovernanceRetention"] = params.get("BypassGovernanceRetention")
            pairs += required(service, "DeleteObject", one, arns)
        return pairs
    resource = arns.of(service, operation, params)
    if service == "s3" and operation == "DeleteObject" and params.get("VersionId"):
        pairs = [("s3:DeleteObjectVersion", resource)]
    else:
        pairs = [(_ACTION_NAMES.get((service, operation), f"{service}:{operation}"), resource)]
    if service == "s3" and params.get("BypassGovernanceRetention"):
        pairs.append(("s3:BypassGovernanceRetention", resource))
    return pairs


@dataclass
class PermissionGuard:
    """Checks (and records) every AWS call a function makes against its role while installed."""

    roles: dict[str, Role]
    arns: Arns
    calls: set[Call] = field(default_factory=set)
    denied: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _original: Any = None
    _wrapper: Any = None
    _active: bool = False

    # --- the hook ----------------------------------------------------------------------------------

    def install(self) -> None:
        """Hook every botocore client created from now on (the functions create theirs on import or use)."""
        import botocore.session

        if self._original is not None:
            return
        original = botocore.session.Session.create_client
        guard = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            client.meta.events.register("before-parameter-build", guard._check)
            client.meta.events.register("before-call", guard._refuse)
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
        self._original, self._wrapper, self._active = original, create_client, True

    def uninstall(self) -> None:
        """Stop checking; put botocore back unless a later stack's guard wrapped it since."""
        import botocore.session

        self._active = False
        if self._original is not None and botocore.session.Session.create_client is self._wrapper:
            botocore.session.Session.create_client = self._original  # type: ignore[method-assign]
        self._original = self._wrapper = None

    def _check(self, params: Mapping[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if not self._active:
            return
        function = CURRENT_FUNCTION.get()
        role = self.roles.get(function) if function else None
        if role is None:
            return  # the stack itself, a test, the poller: not a function's code
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        for action, resource in required(service, model.name, params, self.arns):
            call = Call(function, action, resource)
            if not self._record(call, role):
                context["local_permission_denied"] = call

    def _record(self, call: Call, role: Role | None) -> bool:
        """Keep `call` among the calls made; whether `role` allows it (a refusal is kept in `denied`)."""
        with self._lock:
            self.calls.add(call)
            if role is not None and role.allows(call.action, call.resource):
                return True
            self.denied.append(call)
            return False

    def _refuse(self, context: dict[str, Any], **_: Any) -> Any:
        call = context.get("local_permission_denied")
        if call is None:
            return None
        from botocore.awsrequest import AWSResponse

        message = f"local IAM check: {call} is not allowed by its template role"
        parsed = {
            "Error": {"Code": "AccessDenied", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse("", 403, {}, None), parsed

    # --- event source mappings -----------------------------------------------------------------------

    def check_event_source(self, function: str, queue_arn: str) -> list[Call]:
        """Create an SQS mapping as Lambda does: it polls with the function's role, and refuses the
        mapping unless the role may receive, delete and read the queue's attributes. Each of those is
        recorded as a call of the function (so the grants count as used); returns the ones refused,
        also in `denied`."""
        role = self.roles.get(function)
        calls = [Call(function, action, queue_arn) for action in SQS_EVENT_SOURCE_ACTIONS]
        return [call for call in calls if not self._record(call, role)]

    # --- the findings ------------------------------------------------------------------------------

    def unused_grants(self) -> list[str]:
        """Each action of the template's own Allow statements that no recorded call used."""
        unused = []
        for role in self.roles.values():
            made = [c for c in self.calls if c.function == role.function]
            for statement in role.statements:
                if not statement.from_template or statement.effect != "Allow":
                    continue
                for action in statement.actions:
                    narrow = Statement("Allow", (action,), statement.resources, statement.label)
                    if not any(narrow.covers(c.action, c.resource) for c in made):
                        unused.append(
                            f"{role.function}: {action} on {', '.join(statement.resources)} ({statement.label})"
                        )
        return sorted(unused)


def build_guard(
    template: Template, resolver: Resolver, *, sample_arn: str, secret_arns: tuple[str, ...] = ()
) -> PermissionGuard:
    """The guard for every function of the template; `sample_arn` (any provisioned ARN) gives the
    endpoint's region and account (moto's, LocalStack's), which the ARNs of calls are built with."""
    roles = {f: role_of(template, f, resolver) for f in template.of_type("AWS::Serverless::Function")}
    _, _, _, region, account = sample_arn.split(":", 5)[:5]
    return PermissionGuard(roles=roles, arns=Arns(region, account, secret_arns))


@contextlib.contextmanager
def acting_as(function_id: str) -> Iterator[None]:
    """Run the block as `function_id`'s code (its AWS calls are checked against its role)."""
    token = CURRENT_FUNCTION.set(function_id)
    try:
        yield
    finally:
        CURRENT_FUNCTION.reset(token)
