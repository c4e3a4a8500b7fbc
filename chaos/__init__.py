"""Chaos runs: drive thousands of signed events through the local stack while NOMI and SQS fail, then
account for every accepted event (applied exactly once, or in the DLQ with its reason; none lost).

`python -m chaos [--events 5000] [--fault-rate 0.2] [--quick]` (`make chaos`). See chaos/README.md.
"""
