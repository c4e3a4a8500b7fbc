"""`nomi-gateway check`: is the NOMI API key accepted, and what is the account's balance? With
`--stack`, also: does the processor the queue invokes run with the stack's current settings
(cli/versions.py: with SnapStart on, a deploy may leave the queue on an older version)?

The key comes from `--secret-id` (the stack's NomiApiKeySecret, as the processor reads it), `--stack`
(the same secret, found by the stack's output), or env `NOMI_API_KEY` (local work). The key is never
printed: only where it came from.

Exit codes: 0 key accepted (and balance at least `--min-balance`, and with `--stack` the queue's
processor up to date), 1 key rejected (401/403), 3 balance below `--min-balance`, 4 the queue's
published processor version has settings that differ from $LATEST (when neither 1 nor 3 applies),
2 anything else (NOMI or AWS unreachable, no key, bad arguments).
"""

from __future__ import annotations

import os
import sys
from decimal import Decimal, InvalidOperation
from typing import Any, TextIO

from cli import versions
from cli.common import CliError, aws_client, read_secret, stack_output, stack_outputs

EXIT_REJECTED = 1
EXIT_LOW_BALANCE = 3


def find_api_key(
    args: Any,
    *,
    environ: dict[str, str] | None = None,
    secretsmanager: Any = None,
    cloudformation: Any = None,
    outputs: dict[str, str] | None = None,
) -> tuple[str, str]:
    """The API key and a description of where it came from (the description is safe to print).
    `outputs` are the stack's, when the caller has read them already."""
    environ = dict(os.environ) if environ is None else environ
    secret_id = args.secret_id
    if not secret_id and args.stack:
        if outputs is None:
            outputs = stack_outputs(args.stack, cloudformation=cloudformation, endpoint_url=args.endpoint_url)
        secret_id = stack_output(outputs, "NomiApiKeySecretArn", args.stack)
    if secret_id:
        key = read_secret(secret_id, secretsmanager=secretsmanager, endpoint_url=args.endpoint_url).strip()
        return key, f"secret {secret_id}"
    key = environ.get("NOMI_API_KEY", "").strip()
    if key:
        return key, "env NOMI_API_KEY"
    raise CliError("no NOMI API key: set NOMI_API_KEY, or pass --secret-id or --stack")


def parse_min_balance(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise CliError(f"--min-balance must be a number, got {text!r}") from exc


def add_parser(subparsers: Any) -> None:
    """Register `check` on the main CLI."""
    check = subparsers.add_parser(
        "check",
        help="check the NOMI API key and balance, and with --stack the queue's processor version (prints no secret)",
    )
    check.add_argument(
        "--api-url", default=None, help="NOMI base URL (default: env NOMI_API_URL, else the real API)"
    )
    check.add_argument(
        "--secret-id", default=None, help="Secrets Manager secret holding the key (name or ARN)"
    )
    check.add_argument(
        "--stack",
        default=None,
        help="a deployed stack's name: its NomiApiKeySecretArn output, and whether the processor "
        "version its queue invokes has the stack's current settings",
    )
    check.add_argument("--min-balance", default=None, help="exit 3 when the balance is below this")
    check.add_argument("--endpoint-url", default=None, help="AWS endpoint (moto; default AWS_ENDPOINT_URL)")
    check.set_defaults(handler=run)


def run(
    args: Any,
    *,
    out: TextIO | None = None,
    environ: dict[str, str] | None = None,
    secretsmanager: Any = None,
    cloudformation: Any = None,
    lambda_client: Any = None,
) -> int:
    """Run `check`: the NOMI key, then (with `--stack`) the processor version the queue invokes."""
    out = out or sys.stdout
    outputs = None
    if args.stack:
        outputs = stack_outputs(args.stack, cloudformation=cloudformation, endpoint_url=args.endpoint_url)
    status = check_nomi(
        args,
        out=out,
        environ=environ,
        secretsmanager=secretsmanager,
        cloudformation=cloudformation,
        outputs=outputs,
    )
    if outputs is not None:
        lambda_client = lambda_client or aws_client("lambda", args.endpoint_url)
        stale = versions.run_check(outputs, args.stack, lambda_client=lambda_client, out=out)
        status = status or stale  # the key's problem first: nothing reaches NOMI without it
    return status


def check_nomi(
    args: Any,
    *,
    out: TextIO,
    environ: dict[str, str] | None = None,
    secretsmanager: Any = None,
    cloudformation: Any = None,
    outputs: dict[str, str] | None = None,
) -> int:
    """One `GET /account/balance` with the key, no retries beyond the client's own."""
    from nomi_client import NomiClient
    from nomi_client.errors import AuthenticationError, NomiError, PermissionDeniedError

    environ = dict(os.environ) if environ is None else environ
    minimum = parse_min_balance(args.min_balance)
    key, origin = find_api_key(
        args, environ=environ, secretsmanager=secretsmanager, cloudformation=cloudformation, outputs=outputs
    )
    api_url = args.api_url or environ.get("NOMI_API_URL") or None
    where = api_url or "the NOMI API"
    try:
        with NomiClient(api_key=key, base_url=api_url, max_retries=1) as client:
            balance = client.get_balance().balance
    except (AuthenticationError, PermissionDeniedError) as exc:
        out.write(f"NOMI key REJECTED by {where} ({exc.status_code}); key from {origin}\n")
        return EXIT_REJECTED
    except NomiError as exc:
        # The client's errors never carry the key (redacted in its transport).
        raise CliError(f"NOMI check failed: {type(exc).__name__}: {exc}") from exc
    out.write(f"NOMI key accepted by {where}; key from {origin}\nbalance: {balance}\n")
    if minimum is not None and balance < minimum:
        out.write(f"balance {balance} is below the minimum {minimum}\n")
        return EXIT_LOW_BALANCE
    return 0
