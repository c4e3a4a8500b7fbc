"""`nomi-gateway consent show --phone|--email`: the consent receipts the gateway keeps for one person.

For a merchant who must prove consent: every opt-in NOMI accepted, with its exact text, page, time,
IP address, user agent and the hash of the request it came in. Receipts are found by the keyed
pseudonym of the phone or email (the stack's IdentityHashKey), never by the value itself.
Deployed: `--stack NAME` (outputs ConsentReceiptsBucketName, IdentityHashKeyArn); local: `--local`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cli.common import CliError, aws_client, local_stack_info, read_secret, stack_output, stack_outputs


def add_parser(subcommands: Any) -> None:
    parser = subcommands.add_parser("consent", help="consent receipts of one person")
    actions = parser.add_subparsers(dest="consent_command", required=True)
    show = actions.add_parser("show", help="print one phone's or email's consent receipts (JSON lines)")
    who = show.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="E.164 (+14155552671) or a number of --region")
    who.add_argument("--email")
    show.add_argument("--region", default="US", help="region of a phone without a country code (US)")
    where = show.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="deployed stack name")
    where.add_argument("--local", action="store_true", help="the running `make run` stack")
    show.add_argument("--endpoint-url", help="AWS endpoint (moto, LocalStack)")
    show.set_defaults(handler=run_show)


def run_show(args: argparse.Namespace) -> int:
    bucket, secret_id, endpoint = _locate(args)
    key = read_secret(secret_id, endpoint_url=endpoint).strip().encode("utf-8")
    from processor.receipts import ReceiptStore

    store = ReceiptStore(bucket, key=lambda: key, s3=aws_client("s3", endpoint))
    kind, value = ("email", args.email) if args.email else ("phone", _e164(args.phone, args.region))
    receipts = store.find(kind, value)
    for receipt in receipts:
        print(receipt.model_dump_json(exclude_none=True))
    print(f"{len(receipts)} receipt(s)", file=sys.stderr)
    return 0


def _locate(args: argparse.Namespace) -> tuple[str, str, str | None]:
    """Receipts bucket, identity secret and AWS endpoint of the chosen stack."""
    if args.local:
        info = local_stack_info()
        try:
            return (
                info["buckets"]["ConsentReceiptsBucket"],
                info["secrets"]["IdentityHashKey"],
                info["aws_endpoint_url"],
            )
        except KeyError as exc:
            raise CliError(f"the local stack has no {exc} (started from an older template?)") from exc
    outputs = stack_outputs(args.stack, endpoint_url=args.endpoint_url)
    return (
        stack_output(outputs, "ConsentReceiptsBucketName", args.stack),
        stack_output(outputs, "IdentityHashKeyArn", args.stack),
        args.endpoint_url,
    )


def _e164(phone: str, region: str) -> str:
    from nomi_client.phones import PhoneNumberError, normalize_phone

    try:
        return normalize_phone(phone, default_region=region.upper())
    except PhoneNumberError as exc:
        raise CliError(f"not a valid phone number: {json.dumps(phone)[:40]}") from exc
