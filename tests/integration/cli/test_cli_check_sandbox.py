"""`nomi-gateway check` against the NOMI sandbox on 127.0.0.1: accepted, rejected, low balance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cli.main import main
from sandbox import SandboxServer

KEY = "cli-check-key-7f3a"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(api_key=KEY, host="127.0.0.1", port=0) as server:
        yield server


def test_cli_check_good_key_prints_balance_and_not_the_key(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("NOMI_API_KEY", KEY)
    assert main(["check", "--api-url", sandbox.url]) == 0
    out = capsys.readouterr().out
    assert "key accepted" in out
    assert "balance: " in out
    assert KEY not in out


def test_cli_check_wrong_key_exits_1_without_printing_it(sandbox, monkeypatch, capsys):
    monkeypatch.setenv("NOMI_API_KEY", "revoked-key-0000")
    assert main(["check", "--api-url", sandbox.url]) == 1
    captured = capsys.readouterr()
    assert "REJECTED" in captured.out
    assert "revoked-key-0000" not in captured.out + captured.err


def test_cli_check_balance_below_minimum_exits_3(sandbox, monkeypatch):
    monkeypatch.setenv("NOMI_API_KEY", KEY)
    assert main(["check", "--api-url", sandbox.url, "--min-balance", "1000000000"]) == 3


def test_cli_check_unreachable_nomi_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("NOMI_API_KEY", KEY)
    assert main(["check", "--api-url", "http://127.0.0.1:9"]) == 2
    assert KEY not in capsys.readouterr().err
