"""`nomi-gateway` entry point: one argparse parser; each tool module registers its subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cli import dlq


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nomi-gateway", description="Operate the nomi-gateway.")
    subcommands = parser.add_subparsers(dest="command", required=True)
    dlq.add_parser(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen subcommand; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except dlq.DlqError as exc:
        print(f"nomi-gateway: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
