"""Lambda SnapStart runtime hooks: what the processor does before its snapshot and after each restore.

With SnapStart (the template's `SnapStart=Enabled`, docs/snapstart.md) Lambda runs the init phase once, when
a version is published, and resumes every new execution environment from a snapshot of its memory.
Whatever init left in memory is then shared by every restored environment, so:

- before the snapshot, `prime()` imports what the first record would (the snapshot then holds it, and
  no restored environment pays it), and anything built that holds a connection, a secret or
  credentials is dropped, so that none of it is in the snapshot;
- after each restore, `random` is reseeded (the Mersenne Twister state in the snapshot is the same in
  every environment: NOMI and Admin API retry jitter, botocore's retry jitter), and the per-container
  objects are dropped again: the NOMI httpx client and its pool, the boto3 clients and their
  credentials, the idempotency layer's client, the secrets Powertools caches, the Admin API client.
  They are rebuilt on first use (`processor.app.runtime()`), with fresh connections and secrets.

The hooks come from `snapshot_restore_py`, which Lambda's Python managed runtimes (3.12 and later)
include. Outside Lambda it is usually absent: `register` then registers nothing and returns False.
The hook functions themselves are plain functions, so tests call them directly.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable, Iterable
from typing import Any

Register = Callable[..., Any]


def runtime_hooks() -> tuple[Register, Register] | None:
    """Lambda's `(register_before_snapshot, register_after_restore)`, or None where they do not exist."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return None
    return register_before_snapshot, register_after_restore


def forget_all(forget: Iterable[Callable[[], object]]) -> None:
    """Drop every per-container object the processor (or a library it uses) has built so far."""
    for drop in forget:
        drop()
    for drop in _library_caches():
        drop()


def _library_caches() -> list[Callable[[], object]]:
    """The caches of modules already imported (none is imported here just to be cleared)."""
    drops: list[Callable[[], object]] = []
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        # boto3.client() builds on the default session, which keeps the credentials it resolved.
        drops.append(lambda: setattr(boto3, "DEFAULT_SESSION", None))
    parameters = sys.modules.get("aws_lambda_powertools.utilities.parameters.base")
    if parameters is not None:
        # Cached secret values (5 min) and the providers holding their own boto3 clients.
        drops.append(parameters.clear_caches)
        drops.append(parameters.DEFAULT_PROVIDERS.clear)
    orders = sys.modules.get("processor.shopify_admin.orders")
    if orders is not None:
        drops.append(orders.order_fetcher.cache_clear)  # the Admin API's httpx client
    return drops


def before_snapshot(prime: Callable[[], object], forget: Iterable[Callable[[], object]]) -> None:
    """Import ahead (the snapshot keeps it), then keep no client, connection or secret in the snapshot."""
    prime()
    forget_all(forget)


def after_restore(forget: Iterable[Callable[[], object]]) -> None:
    """Make this environment its own: fresh random state, then new clients, connections and secrets."""
    random.seed()  # no argument: a seed from os.urandom, read now, after the restore
    forget_all(forget)


def register(
    *,
    prime: Callable[[], object],
    forget: Iterable[Callable[[], object]],
    hooks: tuple[Register, Register] | None = None,
) -> bool:
    """Register the hooks with Lambda (or with `hooks`, for tests); False where SnapStart cannot run.

    Registering is harmless without SnapStart: Lambda runs the hooks only around a snapshot.
    """
    hooks = hooks if hooks is not None else runtime_hooks()
    if hooks is None:
        return False
    register_before_snapshot, register_after_restore = hooks
    forget = tuple(forget)
    register_before_snapshot(before_snapshot, prime, forget)
    register_after_restore(after_restore, forget)
    return True
