"""`make run` (`python -m local`): the whole gateway on 127.0.0.1 until Ctrl-C.

Settings come from the environment: PORT (3000), NOMI_API_URL + NOMI_API_KEY (the real NOMI; else
the sandbox), SHOPIFY_WEBHOOK_SECRETS / STRIPE_WEBHOOK_SECRETS (comma-separated, newest first;
defaults are the test secrets events/ is signed with), AWS_ENDPOINT_URL (use that AWS endpoint
instead of starting moto), SIGNUP_ALLOWED_ORIGINS (comma-separated page origins the signup route
accepts), SIGNUP_CONSENT_TEXTS (JSON array of the exact SMS consent texts the forms show),
SHOPIFY_SHOP_DOMAIN + SHOPIFY_ADMIN_TOKEN (the real store's Admin API; else the local Shopify, seeded
with SHOPIFY_SANDBOX_CUSTOMERS / SHOPIFY_SANDBOX_ORDERS).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from local.env import DEFAULT_SANDBOX_API_KEY, LocalSettings
from local.report import EventLog
from local.stack import STATE_DIR, LocalStack, StackError
from local.template import TemplateError
from sandbox.server import wait_for_stop_signal

FUNCTION_LOG = "functions.log"


def _secrets_text(secrets: tuple[str, ...], defaults: bool, variable: str) -> str:
    if defaults:
        return f"{', '.join(secrets)}  (test value; events/ is signed with it)"
    # Values you set yourself are not printed: they may be real.
    return f"{len(secrets)} secret(s) from {variable}"


def banner(stack: LocalStack, function_log: Path | None) -> list[str]:
    """What runs where, as the first lines `make run` prints."""
    info = stack.info()
    template = stack.template
    settings = stack.settings
    lines = ["nomi-gateway local stack: template.yaml on this machine, no Docker", ""]
    lines.append(f"  front door   {info.front_door_url}   (the HTTP API's routes, API Gateway v2 events)")
    lines += [f"                 {route:<28} → {function}" for route, function in info.routes.items()]
    for poller in stack.pollers:
        queue_id = stack.resources.queue_for_arn(poller.queue_arn) if stack.resources else "?"
        attributes = stack.aws.client("sqs").get_queue_attributes(
            QueueUrl=poller.queue_url, AttributeNames=["VisibilityTimeout", "RedrivePolicy"]
        )["Attributes"]
        receives = stack.resources.max_receive_counts.get(queue_id) if stack.resources else None
        lines.append(f"  queue        {queue_id}  {poller.queue_url}")
        lines.append(
            f"                 → {poller.source.function_id}: batch {poller.source.batch_size}, "
            f"window {poller.source.maximum_batching_window_seconds} s, "
            f"{'partial batch failures' if poller.source.reports_batch_item_failures else 'whole batches'}, "
            f"visibility {attributes.get('VisibilityTimeout')} s"
            + (f", DLQ after {receives} receives" if receives else "")
        )
    if info.dlq_url:
        lines.append(f"  DLQ          {info.dlq_url}")
    where = "moto, fresh state" if info.aws_embedded else "your endpoint, names with a per-run suffix"
    lines.append(
        f"  AWS          {info.aws_endpoint_url}  ({where}; region {info.region}, credentials testing/testing)"
    )
    for logical_id, name in {**info.tables, **info.buckets}.items():
        lines.append(f"                 {logical_id}: {name}")
    if info.nomi_is_sandbox:
        key = (
            settings.sandbox_api_key
            if settings.sandbox_api_key == DEFAULT_SANDBOX_API_KEY
            else "from NOMI_API_KEY"
        )
        lines.append(f"  NOMI         sandbox {info.sandbox_url}  (API key {key}; state at /_sandbox/state)")
        if settings.nomi_api_url:
            lines.append(
                "               (NOMI_API_URL is set but NOMI_API_KEY is not: the real NOMI needs both)"
            )
    else:
        lines.append(
            f"  NOMI         the real API at {info.nomi_api_url}  (key from NOMI_API_KEY, not shown)"
        )
    if stack.shopify is not None:
        lines.append(
            f"  Shopify API  local Shopify {stack.shopify.url} for {stack.shopify.shop_domain} (token "
            f"{stack.shopify.access_token}, test value; {settings.shopify_sandbox_customers} customers, "
            f"{settings.shopify_sandbox_orders} orders; state at /_shopify/state)"
        )
    elif stack.shopify_admin_url:
        lines.append(
            f"  Shopify API  the real store {stack.shopify_shop_domain} (token from SHOPIFY_ADMIN_TOKEN)"
        )
    lines.append(
        "  Shopify      "
        + _secrets_text(
            settings.shopify_webhook_secrets, settings.shopify_secrets_are_defaults, "SHOPIFY_WEBHOOK_SECRETS"
        )
    )
    lines.append(
        "  Stripe       "
        + _secrets_text(
            settings.stripe_webhook_secrets, settings.stripe_secrets_are_defaults, "STRIPE_WEBHOOK_SECRETS"
        )
    )
    if template is not None:
        origins = template.parameters.get("AllowedOrigins") or []
        origins = ", ".join(origins) if isinstance(origins, list) else str(origins)
        texts = template.parameters.get("SignupConsentTexts", "[]")
        source = "SIGNUP_ALLOWED_ORIGINS" if settings.signup_allowed_origins is not None else "default"
        lines.append(f"  signup       allowed origins ({source}): {origins}")
        lines.append(
            f"               SMS consent texts: {len(json.loads(texts))} "
            f"({'SIGNUP_CONSENT_TEXTS' if settings.signup_consent_texts is not None else 'the example form'}'s)"
        )
    if function_log is not None:
        lines.append(f"  logs         the functions' own JSON logs: {function_log}")
    if template is not None:
        lines.append(f"  stack info   {info.front_door_url}/_local/info")
    lines += ["", "Send events with `make demo` (or curl). Ctrl-C stops everything.", ""]
    return lines


@contextlib.contextmanager
def function_output(path: Path | None) -> Iterator[None]:
    """Point sys.stdout at the functions' log file while they run (Powertools logs to stdout)."""
    if path is None:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = sys.stdout
    with path.open("w", encoding="utf-8") as log_file:  # "w": a new start keeps nothing of the last
        sys.stdout = log_file
        try:
            yield
        finally:
            sys.stdout = saved


def run(
    settings: LocalSettings, root: Path, out: TextIO, *, state_dir: Path, function_logs_on_console: bool
) -> int:
    log_path = None if function_logs_on_console else state_dir / FUNCTION_LOG
    log = EventLog(out)
    with function_output(log_path):
        stack = LocalStack(settings, root=root, log=log, state_dir=state_dir)
        try:
            stack.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                print(
                    f"port {settings.port} is in use (another `make run`?): try PORT=3001 make run", file=out
                )
                return 1
            raise
        try:
            for line in banner(stack, log_path):
                log.say(line)
            wait_for_stop_signal()
            log.say("\nstopping…")
        finally:
            stack.stop()
    print("stopped.", file=out)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, help="front door port (default $PORT or 3000; 0 picks one)")
    parser.add_argument(
        "--function-logs",
        choices=("file", "console"),
        default="file",
        help="where the functions' JSON logs go",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=Path(STATE_DIR), help="where stack.json and functions.log go"
    )
    args = parser.parse_args(argv)
    # Powertools warns on every batch that emitted no metric; locally that is noise.
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    out = sys.stdout
    try:
        settings = LocalSettings.from_environ(os.environ)
        if args.port is not None:
            settings = settings.model_copy(update={"port": args.port})
        return run(
            settings,
            Path.cwd(),
            out,
            state_dir=args.state_dir,
            function_logs_on_console=args.function_logs == "console",
        )
    except (ValidationError, TemplateError, StackError) as exc:
        print(f"cannot start the local stack: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Ctrl-C while starting: whatever had started is already stopped.
        print("stopped.", file=out)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
