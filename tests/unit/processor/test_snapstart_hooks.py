"""SnapStart runtime hooks: registered with Lambda's `snapshot_restore_py` when it exists (a no-op
without it); before the snapshot they import ahead and keep nothing built; after a restore they reseed
`random` and drop every client, connection and cached secret so that each environment builds its own."""

from __future__ import annotations

import random
import sys
import types
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from processor import snapstart


class _FakeRegistry:
    """Stands in for snapshot_restore_py: keeps what was registered, runs it on demand."""

    def __init__(self) -> None:
        self.before: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.after: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def register_before_snapshot(self, func: Callable[..., Any], *args: Any) -> None:
        self.before.append((func, args))

    def register_after_restore(self, func: Callable[..., Any], *args: Any) -> None:
        self.after.append((func, args))

    def snapshot(self) -> None:
        for func, args in reversed(self.before):  # Lambda: reverse order of registration
            func(*args)

    def restore(self) -> None:
        for func, args in self.after:
            func(*args)


def test_register_without_snapshot_restore_py_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # import now raises ImportError
    assert snapstart.runtime_hooks() is None
    assert snapstart.register(prime=lambda: None, forget=()) is False


def test_register_uses_lambdas_snapshot_restore_py_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _FakeRegistry()
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = registry.register_before_snapshot  # type: ignore[attr-defined]
    module.register_after_restore = registry.register_after_restore  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    assert snapstart.register(prime=lambda: None, forget=()) is True
    assert [func for func, _ in registry.before] == [snapstart.before_snapshot]
    assert [func for func, _ in registry.after] == [snapstart.after_restore]


def test_hooks_prime_before_the_snapshot_and_forget_around_it() -> None:
    calls: list[str] = []
    registry = _FakeRegistry()
    hooks = (registry.register_before_snapshot, registry.register_after_restore)
    forget = [lambda: calls.append("forget")]
    snapstart.register(prime=lambda: calls.append("prime"), forget=forget, hooks=hooks)
    assert calls == []  # registering runs nothing
    registry.snapshot()
    assert calls == ["prime", "forget"]  # imported ahead, then nothing built is kept in the snapshot
    registry.restore()
    assert calls == ["prime", "forget", "forget"]


def test_after_restore_reseeds_random() -> None:
    random.seed(1234)
    in_the_snapshot = [random.random() for _ in range(3)]
    random.seed(1234)  # every environment restored from one snapshot starts from this same state
    snapstart.after_restore(())
    assert [random.random() for _ in range(3)] != in_the_snapshot


def test_after_restore_drops_boto3s_default_session_and_its_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session(region_name="us-east-1")
    assert boto3.DEFAULT_SESSION is not None
    snapstart.after_restore(())
    assert boto3.DEFAULT_SESSION is None  # the next boto3.client() resolves credentials afresh


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield


def test_after_restore_drops_powertools_cached_secrets_and_providers(aws: None) -> None:
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters import base

    boto3.client("secretsmanager").create_secret(Name="nomi/api-key", SecretString="before")
    assert parameters.get_secret("nomi/api-key", max_age=300) == "before"
    boto3.client("secretsmanager").put_secret_value(SecretId="nomi/api-key", SecretString="after")
    assert parameters.get_secret("nomi/api-key", max_age=300) == "before"  # cached
    assert base.DEFAULT_PROVIDERS
    snapstart.after_restore(())
    assert base.DEFAULT_PROVIDERS == {}
    assert parameters.get_secret("nomi/api-key", max_age=300) == "after"


def test_after_restore_drops_the_admin_api_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from processor.shopify_admin import orders

    monkeypatch.delenv("SHOPIFY_SHOP_DOMAIN", raising=False)
    orders.order_fetcher.cache_clear()
    orders.order_fetcher()
    assert orders.order_fetcher.cache_info().currsize == 1
    snapstart.after_restore(())
    assert orders.order_fetcher.cache_info().currsize == 0


def test_forget_runtime_closes_the_nomi_client_and_the_next_record_builds_new_clients(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from processor import app
    from processor.settings import load_settings

    monkeypatch.setenv("NOMI_API_KEY", "test-key")
    monkeypatch.setenv("NOMI_API_URL", "http://127.0.0.1:9")
    for name in ("IDEMPOTENCY_TABLE", "NOMI_API_KEY_SECRET_NAME", "IDENTITY_HASH_SECRET_NAME", "DLQ_URL"):
        monkeypatch.delenv(name, raising=False)
    load_settings.cache_clear()
    app.runtime.cache_clear()
    try:
        before = app.runtime()
        http = before.deps.client._transport._http
        app.forget_runtime()
        assert http.is_closed
        after = app.runtime()
        assert after is not before
        assert after.deps.client is not before.deps.client
        assert after.deps.s3 is not before.deps.s3
    finally:
        app.forget_runtime()
        load_settings.cache_clear()


def test_forget_runtime_with_nothing_built_builds_nothing() -> None:
    from processor import app

    app.runtime.cache_clear()
    app.forget_runtime()
    assert app.runtime.cache_info().currsize == 0
