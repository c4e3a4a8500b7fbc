"""`python -m chaos`: one chaos run through the local stack, its figures printed; exit 1 unless clean."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path

from chaos.harness import ALL_KINDS, ChaosHarness, ChaosSettings

ROOT = Path(__file__).resolve().parents[1]
# The import roots pytest and `make install` use, so `python -m chaos` runs from any interpreter.
for _root in ("layers/gateway_events", "layers/nomi_client", "functions/processor", "functions/ingest"):
    if str(ROOT / _root) not in sys.path:
        sys.path.append(str(ROOT / _root))
QUICK_EVENTS = 600


def parse_args(argv: list[str] | None) -> ChaosSettings:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--events", type=int, default=5000, help="events to send (default 5000)")
    parser.add_argument("--fault-rate", type=float, default=0.2, help="share of NOMI answers that fail")
    parser.add_argument("--fault-kinds", default=",".join(ALL_KINDS), help="comma-separated fault kinds")
    parser.add_argument("--fault-when", choices=("before", "after", "mixed"), default="mixed")
    parser.add_argument(
        "--sqs-failure-rate", type=float, default=0.05, help="front-door SendMessage failures"
    )
    parser.add_argument("--duplicate-share", type=float, default=0.1, help="events delivered three times")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS} events: a smoke run")
    parser.add_argument("--in-process", action="store_true", help="moto and the sandbox in this process too")
    parser.add_argument(
        "--function-logs",
        type=Path,
        default=ROOT / ".local-stack" / "chaos-functions.log",
        help="where the functions' own log lines go",
    )
    args = parser.parse_args(argv)
    return ChaosSettings(
        events=QUICK_EVENTS if args.quick else args.events,
        fault_rate=args.fault_rate,
        fault_kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
        fault_when=args.fault_when,
        sqs_failure_rate=args.sqs_failure_rate,
        duplicate_share=args.duplicate_share,
        seed=args.seed,
        external=not args.in_process,
    ), args.function_logs


def main(argv: list[str] | None = None) -> int:
    settings, log_path = parse_args(argv)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"chaos: {settings.events} events, fault rate {settings.fault_rate:.0%}; function logs → {log_path}"
    )
    with log_path.open("w", encoding="utf-8") as function_log:
        # Powertools loggers write to sys.stdout as it is when the handlers are imported.
        logging.basicConfig(stream=function_log, level=logging.WARNING, force=True)
        logging.captureWarnings(True)  # Powertools' "no metrics to publish" goes to the log too
        with contextlib.redirect_stdout(function_log), ChaosHarness(settings, root=ROOT) as harness:
            report = harness.run()
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
