"""Fixtures of the source adapter tests (defined in adapter_support)."""

from adapter_support import load, run

__all__ = ["load", "run"]
