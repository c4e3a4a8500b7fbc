"""The local stack: AWS (moto), NOMI (sandbox or real), the front door and the SQS poller, wired from
template.yaml, started and stopped as one.

    with LocalStack(LocalSettings(port=0), root=Path(".")) as stack:
        stack.url, stack.queue_url, stack.dlq_url, stack.sandbox
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from local.aws import AwsEndpoint, Naming, Resources, new_run_suffix, provision, purge, start_aws
from local.env import (
    LocalSettings,
    base_environment,
    function_environment,
    secret_values,
)
from local.frontdoor import API_ID, Exchange, FrontDoor, HttpRequest, is_preflight
from local.observe import RETRY_LATER, attach_tap
from local.permissions import PermissionGuard, build_guard
from local.poller import BatchResult, SqsPoller
from local.report import EventLog, describe_http, describe_message
from local.runtime import FunctionRuntime, LocalFunction
from local.template import REGION, RouteSpec, Template, load_template, parse_template_text

STATE_DIR = ".local-stack"
STATE_FILE = "stack.json"
SHOPIFY_DOMAIN_PARAMETER = "ShopifyShopDomain"


class StackError(Exception):
    """The local stack could not start."""


class StackInfo(BaseModel):
    """What runs where: served on GET /_local/info and written to .local-stack/stack.json."""

    front_door_url: str
    aws_endpoint_url: str
    aws_embedded: bool
    region: str
    nomi_api_url: str
    nomi_is_sandbox: bool
    sandbox_url: str | None
    shopify_admin_url: str | None = None
    """The local Shopify (or the real store) the processor's Admin API calls reach."""
    shopify_shop_domain: str | None = None
    mapping_settings: str | None = None
    """The processor's MAPPING_SETTINGS (the backfill reads the consent texts from it)."""
    queue_url: str | None
    dlq_url: str | None
    queues: dict[str, str]
    tables: dict[str, str]
    buckets: dict[str, str]
    secrets: dict[str, str]
    routes: dict[str, str]
    """Route key → function logical id."""
    pid: int
    started_at: datetime


class QueueStatus(BaseModel):
    """The event queue right now: served on GET /_local/status (the demo waits on it)."""

    visible: int
    in_flight: int
    """Received and not yet deleted: being processed, or failed and waiting for the visibility timeout."""
    delayed: int
    processing: int
    """Records the poller holds right now."""
    dead_letters: int
    outcomes: int
    """How many outcomes the event log holds (GET /_local/outcomes?since=N reads them)."""
    retries: int
    """How many of those said "retry later" (each such record waits in flight for its retry)."""

    @property
    def settled(self) -> bool:
        """Nothing left to do before a retry: every in-flight record is one waiting for redelivery."""
        return self.visible == 0 and self.delayed == 0 and self.processing == 0

    @property
    def waiting_for_retry(self) -> int:
        return max(0, self.in_flight - self.processing)


class LocalStack:
    """Everything `make run` runs, in this process. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        settings: LocalSettings,
        *,
        root: Path,
        log: EventLog | None = None,
        visibility_timeout: int | None = None,
        poll_wait_seconds: int = 1,
        parameter_overrides: Mapping[str, Any] | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """`visibility_timeout` overrides the template's (tests: 1 s); `state_dir` None writes no state file."""
        self.settings = settings
        self.root = root.resolve()
        self.log = log or EventLog()
        self._visibility_timeout = visibility_timeout
        self._poll_wait_seconds = poll_wait_seconds
        self._parameter_overrides = dict(parameter_overrides or {})
        self._state_dir = state_dir
        self.template: Template | None = None
        self.aws: AwsEndpoint | None = None
        self.resources: Resources | None = None
        self.sandbox: Any = None
        self.shopify: Any = None
        """The local Shopify (shopify_sandbox.ShopifySandbox), unless the real store is configured."""
        self.shopify_admin_url: str | None = None
        self.shopify_shop_domain: str | None = None
        self.mapping_settings: str | None = None
        self.captcha: Any = None  # local.captcha.FakeCaptchaVerifier, when the template asks for a CAPTCHA
        self.nomi_api_url = ""
        self.front_door: FrontDoor | None = None
        self.runtime: FunctionRuntime | None = None
        self.permissions: PermissionGuard | None = None
        """Each function's AWS calls checked against its template role (see local/permissions.py)."""
        self.pollers: list[SqsPoller] = []
        self._detach: list[Callable[[], None]] = []
        self._tapped: set[str] = set()
        self._info: StackInfo | None = None
        self.exchanges: deque[Exchange] = deque(maxlen=1000)
        """The front door's recent requests and answers (which function each reached)."""
        self._stack_name = settings.stack_name

    # --- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        external = bool(self.settings.aws_endpoint_url)
        suffix = new_run_suffix() if external else None
        # On a shared endpoint every run gets its own names: nothing of a previous run is reused.
        self._stack_name = f"{self.settings.stack_name}-{suffix}" if suffix else self.settings.stack_name
        template_path = self.root / "template.yaml"
        declared = (parse_template_text(template_path.read_text(encoding="utf-8")).get("Parameters")) or {}
        overrides = self.settings.template_parameters(declared)
        shopify_token = None
        if SHOPIFY_DOMAIN_PARAMETER in declared:
            shopify_token = self._start_shopify()
            # The stack's own Shopify, unless the caller overrides it (a test switches it off with "").
            overrides[SHOPIFY_DOMAIN_PARAMETER] = self.shopify_shop_domain
        self.template = load_template(
            template_path,
            stack_name=self._stack_name,
            parameter_overrides={**overrides, **self._parameter_overrides},
        )
        self.aws = start_aws(endpoint_url=self.settings.aws_endpoint_url, region=REGION)
        nomi_key = self._start_nomi()
        self.resources = provision(
            self.template,
            self.aws,
            naming=Naming(self._stack_name, suffix),
            secret_values=secret_values(self.settings, nomi_key, shopify_token),
            visibility_timeout=self._visibility_timeout,
        )
        self.front_door = FrontDoor(
            routes=self.template.routes(),
            cors={k: v.cors for k, v in self.template.http_apis().items()},
            invoke=self.invoke,
            host=self.settings.host,
            port=self.settings.port,
            local_api={
                "info": lambda _query: self.info().model_dump(mode="json"),
                "status": lambda _query: self.status().model_dump(mode="json"),
                "outcomes": lambda query: self.log.outcomes_since(int(query.get("since", "0") or 0)),
            },
            on_arrival=self._report_arrival,
            on_exchange=self._report_exchange,
        )
        self._name_http_apis(self.template, self.resources, self.front_door.url)
        self.permissions = self._guard_permissions(self.template, self.resources)
        self.runtime = self._load_functions(self.template, self.resources, self.aws, nomi_key)
        self.pollers = self._create_pollers(self.template, self.resources, self.aws, self.runtime)
        self.front_door.start()
        for poller in self.pollers:
            poller.start()
        self._info = self._build_info()
        self._write_state()

    def _start_nomi(self) -> str:
        """Start the sandbox unless the real NOMI is configured; returns the key the functions use."""
        if self.settings.uses_real_nomi:
            self.nomi_api_url = str(self.settings.nomi_api_url)
            return str(self.settings.nomi_api_key)
        from sandbox import SandboxServer

        self.sandbox = SandboxServer(api_key=self.settings.sandbox_api_key, host="127.0.0.1", port=0)
        self.nomi_api_url = self.sandbox.url
        return self.settings.sandbox_api_key

    def _start_shopify(self) -> str:
        """Start the local Shopify unless the real store is configured; returns the Admin API token."""
        if self.settings.uses_real_shopify:
            self.shopify_shop_domain = str(self.settings.shopify_shop_domain)
            self.shopify_admin_url = f"https://{self.shopify_shop_domain}"
            return str(self.settings.shopify_admin_token)
        from shopify_sandbox import ShopifySandbox

        self.shopify = ShopifySandbox(host="127.0.0.1", port=0).start()
        self.shopify.state.seed(
            customers=self.settings.shopify_sandbox_customers, orders=self.settings.shopify_sandbox_orders
        )
        self.shopify_shop_domain = self.shopify.shop_domain
        self.shopify_admin_url = self.shopify.url
        return self.shopify.access_token

    @staticmethod
    def _name_http_apis(template: Template, resources: Resources, url: str) -> None:
        for api_id in template.http_apis():
            resources.refs[api_id] = API_ID
            resources.attrs[(api_id, "ApiEndpoint")] = url

    @staticmethod
    def _guard_permissions(template: Template, resources: Resources) -> PermissionGuard:
        """Installed before the functions are imported, so that every client they make is checked."""
        guard = build_guard(
            template,
            template.resolver(ref=resources.ref, attr=resources.attr),
            sample_arn=next(
                iter(resources.queue_arns.values()), f"arn:aws:sqs:{REGION}:{template.pseudo.account_id}:none"
            ),
            secret_arns=tuple(resources.secrets.values()),
        )
        guard.install()
        return guard

    def _load_functions(
        self, template: Template, resources: Resources, aws: AwsEndpoint, nomi_key: str
    ) -> FunctionRuntime:
        resolver = template.resolver(ref=resources.ref, attr=resources.attr)
        layers = template.layers()
        runtime = FunctionRuntime(base_environment(aws_endpoint_url=aws.url, region=aws.region))
        self.runtime = runtime  # closed by stop() even if a later import fails
        for spec in template.functions():
            environment = function_environment(
                spec,
                resolver,
                nomi_api_url=self.nomi_api_url,
                nomi_api_key=nomi_key,
                shopify_admin_url=self.shopify_admin_url,
            )
            self.mapping_settings = environment.get("MAPPING_SETTINGS", self.mapping_settings)
            if environment.get("SIGNUP_CAPTCHA_PROVIDER", "none") != "none":
                environment["SIGNUP_CAPTCHA_VERIFY_URL"] = self._fake_captcha_url()
            layer_dirs = [
                layers[ref["Ref"]]
                for ref in spec.layers
                if isinstance(ref, dict) and ref.get("Ref") in layers
            ]
            runtime.load(
                spec,
                name=str(resources.ref(spec.logical_id)),
                environment=environment,
                layer_dirs=layer_dirs,
            )
        return runtime

    def _create_pollers(
        self, template: Template, resources: Resources, aws: AwsEndpoint, runtime: FunctionRuntime
    ) -> list[SqsPoller]:
        resolver = template.resolver(ref=resources.ref, attr=resources.attr)
        pollers = []
        for source in template.sqs_sources():
            if not source.enabled:
                continue
            queue_id = resources.queue_for_arn(str(resolver.resolve(source.queue)))
            self._check_event_source(source.function_id, resources.queue_arns[queue_id])
            self._tap(runtime.functions[source.function_id])
            pollers.append(
                SqsPoller(
                    sqs=aws.client("sqs"),
                    queue_url=resources.queue_urls[queue_id],
                    queue_arn=resources.queue_arns[queue_id],
                    source=source,
                    invoke=lambda event, fid=source.function_id: self.invoke(fid, event),
                    wait_seconds=self._poll_wait_seconds,
                    on_receive=self._report_receive,
                    on_batch=self._report_batch,
                    on_error=lambda text: self.log.event("error", text),
                    region=aws.region,
                )
            )
        return pollers

    def _check_event_source(self, function_id: str, queue_arn: str) -> None:
        """Lambda refuses a mapping whose function's role cannot poll the queue: say so (the calls are
        in `permissions.denied`), and poll anyway so that the rest of the stack can be looked at."""
        if self.permissions is None:
            return
        for call in self.permissions.check_event_source(function_id, queue_arn):
            self.log.event(
                "error", f"event source mapping refused: {call} is not allowed by its template role"
            )

    def _fake_captcha_url(self) -> str:
        """Local CAPTCHA checks go to a fake siteverify on loopback (token local.captcha.PASS_TOKEN)."""
        if self.captcha is None:
            from local.captcha import FakeCaptchaVerifier

            self.captcha = FakeCaptchaVerifier().start()
        return self.captcha.url

    def _tap(self, function: LocalFunction) -> None:
        detach = attach_tap(function.module, self.log)
        if detach is not None:
            self._detach.append(detach)
            self._tapped.add(function.spec.logical_id)

    def stop(self) -> None:
        """Stop everything this stack started, newest first; safe to call twice."""
        if self.front_door is not None:
            self.front_door.stop()
            self.front_door = None
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        for detach in self._detach:
            detach()
        self._detach = []
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None
        if self.permissions is not None:
            self.permissions.uninstall()  # its findings stay readable
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if self.shopify is not None:
            self.shopify.stop()
            self.shopify = None
        if self.captcha is not None:
            self.captcha.stop()
            self.captcha = None
        if self.aws is not None:
            if not self.aws.embedded and self.resources is not None:
                for problem in purge(self.resources, self.aws):
                    self.log.say(f"note: could not delete {problem}")
            self.aws.stop()
            self.aws = None
        self._remove_state()

    # --- invoking ----------------------------------------------------------------------------------

    def function(self, logical_id: str) -> LocalFunction:
        if self.runtime is None:
            raise StackError("the stack is not running")
        return self.runtime.functions[logical_id]

    def invoke(self, function_id: str, event: dict[str, Any]) -> Any:
        return self.function(function_id).invoke(event)

    # --- what runs where ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.front_door is None:
            raise StackError("the stack is not running")
        return self.front_door.url

    @property
    def queue_url(self) -> str | None:
        return self.pollers[0].queue_url if self.pollers else None

    @property
    def dlq_url(self) -> str | None:
        if self.resources is None or not self.pollers:
            return None
        queue_id = self.resources.queue_for_arn(self.pollers[0].queue_arn)
        dlq_id = self.resources.dead_letter_queues.get(queue_id)
        return self.resources.queue_urls.get(dlq_id) if dlq_id else None

    def info(self) -> StackInfo:
        if self._info is None:
            self._info = self._build_info()
        return self._info

    def _build_info(self) -> StackInfo:
        if self.resources is None or self.aws is None or self.front_door is None:
            raise StackError("the stack is not running")
        return StackInfo(
            front_door_url=self.front_door.url,
            aws_endpoint_url=self.aws.url,
            aws_embedded=self.aws.embedded,
            region=self.aws.region,
            nomi_api_url=self.nomi_api_url,
            nomi_is_sandbox=self.sandbox is not None,
            sandbox_url=self.sandbox.url if self.sandbox is not None else None,
            shopify_admin_url=self.shopify_admin_url,
            shopify_shop_domain=self.shopify_shop_domain,
            mapping_settings=self.mapping_settings,
            queue_url=self.queue_url,
            dlq_url=self.dlq_url,
            queues=dict(self.resources.queue_urls),
            tables=dict(self.resources.tables),
            buckets=dict(self.resources.buckets),
            secrets=dict(self.resources.secrets),
            routes={r.route_key: r.function_id for r in self.front_door.table.routes},
            pid=os.getpid(),
            started_at=datetime.now(UTC),
        )

    def _write_state(self) -> None:
        if self._state_dir is None:
            return
        self._state_dir.mkdir(parents=True, exist_ok=True)
        (self._state_dir / STATE_FILE).write_text(
            self.info().model_dump_json(indent=2) + "\n", encoding="utf-8"
        )

    def _remove_state(self) -> None:
        if self._state_dir is not None:
            with contextlib.suppress(FileNotFoundError):
                (self._state_dir / STATE_FILE).unlink()

    # --- waiting -----------------------------------------------------------------------------------

    def _queue_counts(self, queue_url: str) -> dict[str, int]:
        if self.aws is None:
            raise StackError("the stack is not running")
        attributes = self.aws.client("sqs").get_queue_attributes(
            QueueUrl=queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return {k: int(v) for k, v in attributes.items()}

    def status(self) -> QueueStatus:
        """The event source queues and the DLQ, as counts."""
        totals = {"ApproximateNumberOfMessages": 0, "ApproximateNumberOfMessagesNotVisible": 0}
        totals["ApproximateNumberOfMessagesDelayed"] = 0
        for poller in self.pollers:
            for key, value in self._queue_counts(poller.queue_url).items():
                totals[key] += value
        dlq = self.dlq_url
        dead = self._queue_counts(dlq)["ApproximateNumberOfMessages"] if dlq else 0
        return QueueStatus(
            visible=totals["ApproximateNumberOfMessages"],
            in_flight=totals["ApproximateNumberOfMessagesNotVisible"],
            delayed=totals["ApproximateNumberOfMessagesDelayed"],
            processing=sum(p.processing for p in self.pollers),
            dead_letters=dead,
            outcomes=len(self.log.outcomes),
            retries=sum(1 for o in self.log.outcomes_since(0) if o.get("outcome") == RETRY_LATER),
        )

    def queue_depth(self) -> int:
        """Messages visible, in flight or delayed on the event source queues."""
        status = self.status()
        return status.visible + status.in_flight + status.delayed

    def wait_until_drained(self, timeout: float = 30.0, *, interval: float = 0.05) -> bool:
        """Wait until the event source queues are empty (every record deleted or dead-lettered)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.queue_depth() == 0:
                return True
            time.sleep(interval)
        return False

    # --- the event log -----------------------------------------------------------------------------

    def _report_arrival(self, request: HttpRequest, route: RouteSpec | None) -> None:
        headers = {k.lower(): v for k, v in request.headers}
        if is_preflight(request.method, headers):
            self.log.event("received", f"OPTIONS {_path(request)} · CORS preflight from {headers['origin']}")
            return
        target = route.function_id if route else "no route (API Gateway answers 404)"
        summary = describe_http(headers, request.body)
        self.log.event("received", f"{request.method} {_path(request)} → {target} · {summary}")

    def _report_exchange(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        line = f"{exchange.status} in {exchange.duration_ms:.0f} ms · {exchange.request.method} {_path(exchange.request)}"
        if exchange.status == 403 and _path(exchange.request).startswith("/signup"):
            origin = dict((k.lower(), v) for k, v in exchange.request.headers).get("origin")
            line += (
                f" · origin {origin} is not allowed: add it to SIGNUP_ALLOWED_ORIGINS"
                if origin
                else " · no Origin header (browsers always send one; scripts must too)"
            )
        if exchange.error:
            line += f" · handler error: {exchange.error}"
        self.log.event("answered", line)

    def _report_receive(self, poller: SqsPoller, messages: list[dict[str, Any]]) -> None:
        now_ms = time.time() * 1000
        for message in messages:
            attributes = message.get("Attributes") or {}
            sent = int(attributes.get("SentTimestamp", now_ms))
            receives = attributes.get("ApproximateReceiveCount", "?")
            self.log.event(
                "queued",
                f"{describe_message(message)} · {now_ms - sent:.0f} ms in queue, receive #{receives} → {poller.source.function_id}",
            )

    def _report_batch(self, poller: SqsPoller, result: BatchResult) -> None:
        if result.error:
            self.log.event(
                "outcome", f"batch of {len(result.messages)} failed, all retried later: {result.error}"
            )
            return
        if poller.source.function_id in self._tapped:
            return  # the function's own log lines said what became of each record
        for message in result.succeeded:
            self.log.event("outcome", f"{describe_message(message)} → handled")
        for message in result.failed:
            self.log.event(
                "outcome", f"{describe_message(message)} → failed, retried after the visibility timeout"
            )


def _path(request: HttpRequest) -> str:
    # The query string can carry personal data (?phone=…): the log shows the path only.
    return request.target.split("?", 1)[0]


def read_state(state_dir: Path) -> StackInfo | None:
    """The state file of a stack started from this clone, if one is running."""
    try:
        return StackInfo.model_validate(json.loads((state_dir / STATE_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
