"""`python -m sandbox`: serve the NOMI sandbox until Ctrl-C (see sandbox/README.md)."""

from __future__ import annotations

import argparse
import logging
import os

from sandbox.faults import ALL_KINDS, FaultConfig
from sandbox.server import SandboxServer, wait_for_stop_signal
from sandbox.state import DEFAULT_BALANCE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="A local NOMI API look-alike.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT") or 4010))
    parser.add_argument(
        "--api-key",
        default=os.environ.get("NOMI_API_KEY") or "test-key",
        help="the key clients must send (default: $NOMI_API_KEY, else test-key)",
    )
    parser.add_argument("--balance", type=int, default=DEFAULT_BALANCE, help="starting account balance")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of NOMI answers that fail (0-1)")
    parser.add_argument(
        "--fault-kinds", default=",".join(ALL_KINDS), help=f"comma list from {','.join(ALL_KINDS)}"
    )
    parser.add_argument("--fault-when", choices=("before", "after", "mixed"), default="before")
    parser.add_argument("--fault-paths", default="", help="comma list of paths that may fail (default all)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every NOMI answer")
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds on 429")
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--hang-seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=None, help="makes faults and short-link ids repeatable")
    parser.add_argument("--quiet", action="store_true", help="do not print one line per request")
    return parser


def faults_from(args: argparse.Namespace) -> FaultConfig:
    return FaultConfig(
        rate=args.fault_rate,
        kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
        when=args.fault_when,
        seed=args.seed,
        latency_ms=args.latency_ms,
        retry_after_seconds=args.retry_after,
        slow_seconds=args.slow_seconds,
        hang_seconds=args.hang_seconds,
        paths=tuple(p.strip() for p in args.fault_paths.split(",") if p.strip()),
    )


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    server = SandboxServer(
        api_key=args.api_key,
        host=args.host,
        port=args.port,
        faults=faults_from(args),
        initial_balance=args.balance,
        seed=args.seed,
        log_requests=not args.quiet,
    )
    print(f"NOMI sandbox on {server.url}  (inspect: {server.url}/_sandbox/state; Ctrl-C stops)", flush=True)
    try:
        wait_for_stop_signal()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
