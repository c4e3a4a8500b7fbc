"""`nomi-gateway` entry point: one argparse parser; each tool module registers its subcommand.

nomi-gateway send   a signed test event to a deployed or local gateway
nomi-gateway tail   what became of each event (the processor's outcomes)
nomi-gateway dlq    list, show and redrive dead-lettered messages
nomi-gateway check  the NOMI API key and balance; with --stack, whether the queue's processor version is current
nomi-gateway consent show --phone|--email   one person's consent receipts
nomi-gateway backfill shopify  a store's existing subscribers, queued for the processor
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli import backfill, check, consent, dlq, send, tail
from cli.common import CliError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nomi-gateway", description="Operate the nomi-gateway.")
    subcommands = parser.add_subparsers(dest="command", required=True)
    send.add_parser(subcommands)
    tail.add_parser(subcommands)
    dlq.add_parser(subcommands)
    check.add_parser(subcommands)
    consent.add_parser(subcommands)
    backfill.add_parser(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CliError as exc:
        print(f"nomi-gateway: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
