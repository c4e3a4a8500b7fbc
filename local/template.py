"""Read template.yaml as CloudFormation and SAM read it, and describe what the local stack must run.

The local stack has no hand-written copy of the infrastructure: queues, table, bucket, secrets,
functions, routes and the SQS event source all come from here. Intrinsic functions are resolved in
two passes: names first (parameters and pseudo parameters only), then, once the local resources exist,
everything that refers to them (function environment, event source queue ARNs).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    """template.yaml cannot be read, or uses something the local stack cannot resolve."""


# Short-form tags whose long form is not simply "Fn::<Tag>".
_TAG_KEYS = {"Ref": "Ref", "Condition": "Condition"}


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that turns CloudFormation short-form tags (!Ref, !Sub…) into their long form."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = _TAG_KEYS.get(tag_suffix, f"Fn::{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            # "!GetAtt Res.Attr" splits on the first dot only: attribute names may contain dots.
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def parse_template_text(text: str) -> dict[str, Any]:
    """Parse CloudFormation YAML (or JSON, which is YAML) with short-form intrinsic tags."""
    try:
        data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass with tag constructors only
    except yaml.YAMLError as exc:
        raise TemplateError(f"template is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError("template has no Resources section")
    return data


NO_VALUE: Any = object()
"""What `!Ref AWS::NoValue` resolves to: the enclosing key or list item disappears."""

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account


@dataclass(frozen=True)
class Pseudo:
    """The pseudo parameters of one local "deployment"."""

    stack_name: str
    region: str = REGION
    account_id: str = ACCOUNT_ID

    def values(self) -> dict[str, Any]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }


RefLookup = Callable[[str], Any]
AttrLookup = Callable[[str, str], Any]


def _unresolvable_ref(name: str) -> Any:
    raise TemplateError(f"!Ref {name} cannot be resolved before the local resources exist")


def _unresolvable_attr(name: str, attr: str) -> Any:
    raise TemplateError(f"!GetAtt {name}.{attr} cannot be resolved before the local resources exist")


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Evaluates intrinsic functions against parameters, conditions and the local resources."""

    def __init__(
        self,
        template: Template,
        *,
        ref: RefLookup = _unresolvable_ref,
        attr: AttrLookup = _unresolvable_attr,
    ) -> None:
        self._template = template
        self._ref_resource = ref
        self._attr_resource = attr
        self._condition_cache: dict[str, bool] = {}

    def resolve(self, value: Any) -> Any:
        """Resolve every intrinsic inside `value`; `AWS::NoValue` entries are dropped."""
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, arg),) = value.items()
                if key == "Ref":
                    return self._ref(arg)
                if key.startswith("Fn::"):
                    return self._function(key[4:], arg)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [item for item in map(self.resolve, value) if item is not NO_VALUE]
        return value

    def condition(self, name: str) -> bool:
        """The value of a named condition of the template's Conditions section."""
        if name not in self._condition_cache:
            conditions = self._template.raw.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"unknown condition {name!r}")
            self._condition_cache[name] = bool(self._evaluate_condition(conditions[name]))
        return self._condition_cache[name]

    def _evaluate_condition(self, expr: Any) -> Any:
        if isinstance(expr, dict) and list(expr) == ["Condition"]:
            return self.condition(expr["Condition"])
        return self.resolve(expr)

    def _ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"!Ref takes a name, got {name!r}")
        pseudo = self._template.pseudo.values()
        if name in pseudo:
            return pseudo[name]
        if name in self._template.parameters:
            return self._template.parameters[name]
        if name in self._template.resources:
            return self._ref_resource(name)
        raise TemplateError(f"!Ref {name}: no such parameter or resource")

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2):
            raise TemplateError(f"!GetAtt takes Resource.Attribute, got {arg!r}")
        name, attribute = arg[0], self.resolve(arg[1])
        if name not in self._template.resources:
            raise TemplateError(f"!GetAtt {name}.{attribute}: no such resource")
        return self._attr_resource(name, str(attribute))

    def _function(self, name: str, arg: Any) -> Any:
        handler = _FUNCTIONS.get(name)
        if handler is None:
            raise TemplateError(f"Fn::{name} is not supported by the local stack")
        return handler(self, arg)

    # Each Fn:: implementation takes the resolver and the raw (unresolved) argument.
    def _fn_get_att(self, arg: Any) -> Any:
        return self._get_att(arg)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1] if len(arg) > 1 else {})
        else:
            text, variables = arg, {}

        def substitute(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"  # ${!Literal} escapes a substitution
            if token in variables:
                value = variables[token]
            elif "." in token:
                value = self._get_att(token.split(".", 1))
            else:
                value = self._ref(token)
            if isinstance(value, list | dict) or value is NO_VALUE:
                raise TemplateError(f"!Sub ${{{token}}} does not resolve to a string")
            return str(value)

        return _SUB_VARIABLE.sub(substitute, str(text))

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_equals(self, arg: Any) -> bool:
        left, right = (self.resolve(v) for v in arg)
        return str(left) == str(right) if not isinstance(left, list | dict) else left == right

    def _fn_not(self, arg: Any) -> bool:
        return not self._evaluate_condition(arg[0])

    def _fn_and(self, arg: Any) -> bool:
        return all(self._evaluate_condition(item) for item in arg)

    def _fn_or(self, arg: Any) -> bool:
        return any(self._evaluate_condition(item) for item in arg)

    def _fn_join(self, arg: Any) -> str:
        delimiter, items = arg[0], self.resolve(arg[1])
        return str(delimiter).join(str(item) for item in items)

    def _fn_split(self, arg: Any) -> list[str]:
        delimiter, text = arg[0], self.resolve(arg[1])
        return str(text).split(str(delimiter))

    def _fn_select(self, arg: Any) -> Any:
        index, items = int(self.resolve(arg[0])), self.resolve(arg[1])
        return items[index]

    def _fn_find_in_map(self, arg: Any) -> Any:
        map_name, top, second = (self.resolve(v) for v in arg[:3])
        try:
            return self._template.raw["Mappings"][map_name][top][second]
        except KeyError as exc:
            if len(arg) > 3 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                return self.resolve(arg[3]["DefaultValue"])
            raise TemplateError(f"Fn::FindInMap {map_name}/{top}/{second}: no such entry") from exc

    def _fn_base64(self, arg: Any) -> str:
        return base64.b64encode(str(self.resolve(arg)).encode()).decode()

    def _fn_length(self, arg: Any) -> int:
        return len(self.resolve(arg))

    def _fn_to_json_string(self, arg: Any) -> str:
        return json.dumps(self.resolve(arg), separators=(",", ":"))


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "GetAtt": Resolver._fn_get_att,
    "Sub": Resolver._fn_sub,
    "If": Resolver._fn_if,
    "Equals": Resolver._fn_equals,
    "Not": Resolver._fn_not,
    "And": Resolver._fn_and,
    "Or": Resolver._fn_or,
    "Join": Resolver._fn_join,
    "Split": Resolver._fn_split,
    "Select": Resolver._fn_select,
    "FindInMap": Resolver._fn_find_in_map,
    "Base64": Resolver._fn_base64,
    "Length": Resolver._fn_length,
    "ToJsonString": Resolver._fn_to_json_string,
}


# ---------------------------------------------------------------------------------------------------
# What the local stack runs, as read from the template.


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str | None
    attributes: dict[str, str]
    """SQS queue attributes from the template (VisibilityTimeout, MessageRetentionPeriod…), as strings."""
    redrive_target: Any = None
    """RedrivePolicy.deadLetterTargetArn, unresolved (usually !GetAtt Dlq.Arn)."""
    max_receive_count: int | None = None

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"


@dataclass(frozen=True)
class TableSpec:
    logical_id: str
    name: str | None
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    ttl_attribute: str | None = None
    global_secondary_indexes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str | None
    versioned: bool = False


@dataclass(frozen=True)
class SecretSpec:
    logical_id: str
    name: str | None
    secret_string: str | None


@dataclass(frozen=True)
class RouteSpec:
    """One HttpApi route: `Method Path` → function."""

    function_id: str
    api_id: str
    method: str
    path: str
    payload_format_version: str = "2.0"
    timeout_ms: int | None = None

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsSourceSpec:
    """An SQS event source mapping of a function, as the template configures it: a SAM `SQS` event or
    an `AWS::Lambda::EventSourceMapping` resource."""

    function_id: str
    queue: Any
    """The queue's ARN, unresolved (usually !GetAtt EventQueue.Arn)."""
    batch_size: int = 10
    maximum_batching_window_seconds: int = 0
    function_response_types: tuple[str, ...] = ()
    enabled: bool = True
    alias: str | None = None
    """The alias the mapping invokes (None: the function's $LATEST). The local stack has one copy of
    each function's code and configuration, so both run the same; it is kept for what it reports."""

    @property
    def reports_batch_item_failures(self) -> bool:
        return "ReportBatchItemFailures" in self.function_response_types


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str
    code_uri: Path
    runtime: str | None
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, Any]
    """Environment.Variables, unresolved: they refer to resources that exist only once provisioned."""
    layers: list[Any]
    name: str | None = None


@dataclass(frozen=True)
class CorsSpec:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class HttpApiSpec:
    logical_id: str
    cors: CorsSpec | None


IMPLICIT_HTTP_API = "ServerlessHttpApi"
"""The logical id SAM gives the HTTP API it creates for HttpApi events without an ApiId."""

# Lambda's documented defaults where the template says nothing.
_DEFAULT_TIMEOUT = 3
_DEFAULT_MEMORY = 128
_DEFAULT_SQS_BATCH = 10


class Template:
    """template.yaml, with SAM Globals applied and parameters/conditions bound to one local deployment."""

    def __init__(
        self,
        raw: Mapping[str, Any],
        *,
        root: Path,
        pseudo: Pseudo,
        parameter_overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.raw: dict[str, Any] = dict(raw)
        self.root = root
        self.pseudo = pseudo
        self.parameters = _bind_parameters(self.raw.get("Parameters") or {}, parameter_overrides or {})
        self._names = Resolver(self)
        all_resources = {
            k: _apply_globals(v, self.raw.get("Globals") or {}) for k, v in raw["Resources"].items()
        }
        self.resources: dict[str, dict[str, Any]] = all_resources
        # Resources whose Condition is false do not exist, exactly as in a deployment.
        self.resources = {k: v for k, v in all_resources.items() if self._exists(v)}

    def _exists(self, resource: Mapping[str, Any]) -> bool:
        condition = resource.get("Condition")
        return condition is None or self._names.condition(condition)

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v.get("Type") in types}

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resources[logical_id].get("Properties") or {})

    def resolve_static(self, value: Any) -> Any:
        """Resolve with parameters and pseudo parameters only (resource names, sizes, settings)."""
        return self._names.resolve(value)

    def resolver(self, *, ref: RefLookup, attr: AttrLookup) -> Resolver:
        """A resolver that also knows the provisioned resources."""
        return Resolver(self, ref=ref, attr=attr)

    # --- the resources the local stack provisions ---------------------------------------------------

    def queues(self) -> list[QueueSpec]:
        return [self._queue(k) for k in self.of_type("AWS::SQS::Queue")]

    def _queue(self, logical_id: str) -> QueueSpec:
        props = self.properties(logical_id)
        redrive = props.pop("RedrivePolicy", None)
        name = self.resolve_static(props.pop("QueueName", None))
        attributes = {
            key: _attribute_string(self.resolve_static(value))
            for key, value in props.items()
            if key in _QUEUE_ATTRIBUTES
        }
        if redrive is None:
            return QueueSpec(logical_id, name, attributes)
        if isinstance(redrive, str):
            redrive = json.loads(redrive)
        max_receive = self.resolve_static(redrive.get("maxReceiveCount"))
        return QueueSpec(
            logical_id,
            name,
            attributes,
            redrive_target=redrive.get("deadLetterTargetArn"),
            max_receive_count=int(max_receive) if max_receive is not None else None,
        )

    def tables(self) -> list[TableSpec]:
        tables = [self._table(k) for k in self.of_type("AWS::DynamoDB::Table")]
        return tables + [self._simple_table(k) for k in self.of_type("AWS::Serverless::SimpleTable")]

    def _table(self, logical_id: str) -> TableSpec:
        props = self.resolve_static(self.properties(logical_id))
        ttl = props.get("TimeToLiveSpecification") or {}
        ttl_enabled = str(ttl.get("Enabled", "false")).lower() == "true"
        return TableSpec(
            logical_id,
            props.get("TableName"),
            key_schema=props["KeySchema"],
            attribute_definitions=props["AttributeDefinitions"],
            ttl_attribute=ttl.get("AttributeName") if ttl_enabled else None,
            global_secondary_indexes=props.get("GlobalSecondaryIndexes") or [],
        )

    def _simple_table(self, logical_id: str) -> TableSpec:
        props = self.resolve_static(self.properties(logical_id))
        key = props.get("PrimaryKey") or {"Name": "id", "Type": "String"}
        short = {"String": "S", "Number": "N", "Binary": "B"}[key.get("Type", "String")]
        return TableSpec(
            logical_id,
            props.get("TableName"),
            key_schema=[{"AttributeName": key["Name"], "KeyType": "HASH"}],
            attribute_definitions=[{"AttributeName": key["Name"], "AttributeType": short}],
        )

    def buckets(self) -> list[BucketSpec]:
        return [
            BucketSpec(
                k,
                self.resolve_static(self.properties(k).get("BucketName")),
                versioned=(self.properties(k).get("VersioningConfiguration") or {}).get("Status")
                == "Enabled",
            )
            for k in self.of_type("AWS::S3::Bucket")
        ]

    def secrets(self) -> list[SecretSpec]:
        specs = []
        for logical_id in self.of_type("AWS::SecretsManager::Secret"):
            props = self.properties(logical_id)
            secret_string = self.resolve_static(props.get("SecretString"))
            specs.append(SecretSpec(logical_id, self.resolve_static(props.get("Name")), secret_string))
        return specs

    def layers(self) -> dict[str, Path]:
        """Layer logical id → the directory whose content is on the function's import path."""
        layers = {}
        for logical_id, resource in self.of_type(
            "AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"
        ).items():
            props = resource.get("Properties") or {}
            content = self.resolve_static(props.get("ContentUri") or props.get("Content"))
            if isinstance(content, str):
                layers[logical_id] = (self.root / content).resolve()
        return layers

    def functions(self) -> list[FunctionSpec]:
        return [self._function(k) for k in self.of_type("AWS::Serverless::Function")]

    def _function(self, logical_id: str) -> FunctionSpec:
        props = self.properties(logical_id)
        code_uri = self.resolve_static(props.get("CodeUri"))
        handler = self.resolve_static(props.get("Handler"))
        if not isinstance(code_uri, str) or not isinstance(handler, str):
            raise TemplateError(f"{logical_id}: the local stack needs a local CodeUri and a Handler")
        env = (props.get("Environment") or {}).get("Variables") or {}
        return FunctionSpec(
            logical_id=logical_id,
            handler=handler,
            code_uri=(self.root / code_uri).resolve(),
            runtime=self.resolve_static(props.get("Runtime")),
            timeout_seconds=int(self.resolve_static(props.get("Timeout", _DEFAULT_TIMEOUT))),
            memory_mb=int(self.resolve_static(props.get("MemorySize", _DEFAULT_MEMORY))),
            environment=dict(env),
            layers=list(props.get("Layers") or []),
            name=self.resolve_static(props.get("FunctionName")),
        )

    def _function_events(self, event_type: str) -> list[tuple[str, dict[str, Any]]]:
        events = []
        for logical_id in self.of_type("AWS::Serverless::Function"):
            for event in (self.properties(logical_id).get("Events") or {}).values():
                if event.get("Type") == event_type:
                    events.append((logical_id, dict(event.get("Properties") or {})))
        return events

    def routes(self) -> list[RouteSpec]:
        """Every HttpApi route of every function (Events of Type HttpApi)."""
        routes = []
        for function_id, props in self._function_events("HttpApi"):
            api = props.get("ApiId")
            api_id = api["Ref"] if isinstance(api, dict) and "Ref" in api else IMPLICIT_HTTP_API
            path = self.resolve_static(props.get("Path", "$default"))
            method = str(self.resolve_static(props.get("Method", "ANY"))).upper()
            timeout = self.resolve_static(props.get("TimeoutInMillis"))
            routes.append(
                RouteSpec(
                    function_id=function_id,
                    api_id=api_id,
                    method="ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method,
                    path=str(path),
                    payload_format_version=str(self.resolve_static(props.get("PayloadFormatVersion", "2.0"))),
                    timeout_ms=int(timeout) if timeout is not None else None,
                )
            )
        return routes

    def http_apis(self) -> dict[str, HttpApiSpec]:
        apis = {
            k: HttpApiSpec(k, _cors(self.resolve_static(self.properties(k).get("CorsConfiguration"))))
            for k in self.of_type("AWS::Serverless::HttpApi")
        }
        if any(route.api_id == IMPLICIT_HTTP_API for route in self.routes()):
            implicit = (self.raw.get("Globals") or {}).get("HttpApi") or {}
            apis[IMPLICIT_HTTP_API] = HttpApiSpec(
                IMPLICIT_HTTP_API, _cors(self.resolve_static(implicit.get("CorsConfiguration")))
            )
        return apis

    def sqs_sources(self) -> list[SqsSourceSpec]:
        """Every SQS event source: functions' SAM `SQS` events, and `AWS::Lambda::EventSourceMapping`
        resources on a queue of the template (a mapping of another source, or of a queue outside the
        template, has nothing local to poll)."""
        sources = [
            self._sqs_source(function_id, props["Queue"], props)
            for function_id, props in self._function_events("SQS")
        ]
        for logical_id in self.of_type("AWS::Lambda::EventSourceMapping"):
            props = self.properties(logical_id)
            if self._is_template_queue(props.get("EventSourceArn")):
                function_id, alias = self._mapping_target(logical_id, props.get("FunctionName"))
                sources.append(self._sqs_source(function_id, props["EventSourceArn"], props, alias=alias))
        return sources

    def _sqs_source(
        self, function_id: str, queue: Any, props: Mapping[str, Any], *, alias: str | None = None
    ) -> SqsSourceSpec:
        settings = self.resolve_static(
            {k: v for k, v in props.items() if k not in ("Queue", "EventSourceArn", "FunctionName")}
        )
        return SqsSourceSpec(
            function_id=function_id,
            queue=queue,
            batch_size=int(settings.get("BatchSize", _DEFAULT_SQS_BATCH)),
            maximum_batching_window_seconds=int(settings.get("MaximumBatchingWindowInSeconds", 0)),
            function_response_types=tuple(settings.get("FunctionResponseTypes") or ()),
            enabled=str(settings.get("Enabled", "true")).lower() != "false",
            alias=alias,
        )

    def _is_template_queue(self, arn: Any) -> bool:
        name, attribute = _get_att_parts(arn)
        return attribute == "Arn" and name in self.of_type("AWS::SQS::Queue")

    def _mapping_target(self, logical_id: str, value: Any) -> tuple[str, str | None]:
        """The function an event source mapping invokes, and its alias: `!Ref F`, `!GetAtt F.Arn`,
        SAM's `!Ref F.Alias` (the AutoPublishAlias), or an `!If` of those."""
        functions = self.of_type("AWS::Serverless::Function")
        if isinstance(value, dict) and list(value) == ["Fn::If"]:
            condition, when_true, when_false = value["Fn::If"]
            chosen = when_true if self._names.condition(condition) else when_false
            return self._mapping_target(logical_id, chosen)
        if isinstance(value, dict) and list(value) == ["Ref"]:
            function_id, _, attribute = str(value["Ref"]).partition(".")
            if function_id in functions and not attribute:
                return function_id, None
            if function_id in functions and attribute == "Alias":
                alias = self.resolve_static(self.properties(function_id).get("AutoPublishAlias"))
                if alias:
                    return function_id, str(alias)
        function_id, attribute = _get_att_parts(value)
        if function_id in functions and attribute == "Arn":
            return function_id, None
        raise TemplateError(f"{logical_id}: FunctionName {value!r} names no function of the template")


_QUEUE_ATTRIBUTES = {
    "VisibilityTimeout",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
}


def _get_att_parts(value: Any) -> tuple[str | None, str | None]:
    """(resource, attribute) of a `Fn::GetAtt` (list or dotted string form); (None, None) otherwise."""
    if not (isinstance(value, dict) and list(value) == ["Fn::GetAtt"]):
        return None, None
    arg = value["Fn::GetAtt"]
    parts = arg.split(".", 1) if isinstance(arg, str) else list(arg)
    if len(parts) != 2 or not all(isinstance(part, str) for part in parts):
        return None, None
    return parts[0], parts[1]


def _attribute_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _bind_parameters(declared: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(overrides) - set(declared)
    if unknown:
        raise TemplateError(f"parameter overrides name unknown parameters: {', '.join(sorted(unknown))}")
    bound: dict[str, Any] = {}
    for name, spec in declared.items():
        value = overrides.get(name, (spec or {}).get("Default"))
        if value is None:
            raise TemplateError(f"parameter {name} has no Default and no local value")
        kind = str((spec or {}).get("Type", "String"))
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            # As CloudFormation: "" is [""] (one empty item), so !Select [0, …] still works.
            items = value.split(",") if isinstance(value, str) else list(value)
            bound[name] = [str(item).strip() for item in items]
        else:
            # A !Ref to a parameter is always a string, Number included (FindInMap keys rely on it).
            bound[name] = _attribute_string(value)
    return bound


_GLOBAL_SECTIONS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
    "AWS::Serverless::LayerVersion": "LayerVersion",
}


def _apply_globals(resource: Mapping[str, Any], globals_: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge, lists append (globals first), scalars are overridden."""
    section = _GLOBAL_SECTIONS.get(str(resource.get("Type")))
    merged = dict(resource)
    if section and globals_.get(section):
        merged["Properties"] = _merge_globals(globals_[section], resource.get("Properties") or {})
    return merged


def _merge_globals(global_value: Any, local_value: Any) -> Any:
    if _is_plain_map(global_value) and _is_plain_map(local_value):
        merged = dict(global_value)
        for key, value in local_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in global_value else value
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return global_value + local_value
    return local_value


def _is_plain_map(value: Any) -> bool:
    # An intrinsic ({"Ref": ...}, {"Fn::If": ...}) is a value, not a map to merge into.
    return isinstance(value, dict) and not (
        len(value) == 1 and (next(iter(value)) == "Ref" or next(iter(value)).startswith("Fn::"))
    )


def _as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _cors(config: Any) -> CorsSpec | None:
    if config is None or config is False:
        return None
    if config is True:
        # `CorsConfiguration: true` allows any origin with the default methods/headers.
        return CorsSpec(allow_origins=("*",), allow_methods=("*",), allow_headers=("*",))
    return CorsSpec(
        allow_origins=_as_tuple(config.get("AllowOrigins")),
        allow_methods=tuple(m.upper() for m in _as_tuple(config.get("AllowMethods"))),
        allow_headers=tuple(h.lower() for h in _as_tuple(config.get("AllowHeaders"))),
        expose_headers=tuple(h.lower() for h in _as_tuple(config.get("ExposeHeaders"))),
        max_age=int(config["MaxAge"]) if config.get("MaxAge") is not None else None,
        allow_credentials=str(config.get("AllowCredentials", "false")).lower() == "true",
    )


def load_template(
    path: Path,
    *,
    stack_name: str,
    parameter_overrides: Mapping[str, Any] | None = None,
) -> Template:
    """Read template.yaml (the repository root is its directory: CodeUri/ContentUri are relative to it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc}") from exc
    return Template(
        parse_template_text(text),
        root=path.parent.resolve(),
        pseudo=Pseudo(stack_name=stack_name),
        parameter_overrides=parameter_overrides,
    )
