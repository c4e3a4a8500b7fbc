"""`nomi-gateway check` against the NOMI sandbox on 127.0.0.1: accepted, rejected, low balance."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from cli import check
from cli.main import build_parser, main
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


class _DeployedStack:
    """A deployed stack as `check --stack` reads it: outputs, the key's secret, and a processor whose
    queue invokes the `live` alias on a version deployed before MemorySize changed."""

    def __init__(self, key: str) -> None:
        self.key = key

    def describe_stacks(self, *, StackName: str) -> dict:
        outputs = {"NomiApiKeySecretArn": "nomi-key", "ProcessorEventSourceMappingId": "mapping-1"}
        return {"Stacks": [{"Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]}

    def get_secret_value(self, *, SecretId: str) -> dict:
        return {"SecretString": self.key}

    def get_event_source_mapping(self, *, UUID: str) -> dict:
        return {"FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:shop-Processor:live"}

    def get_alias(self, *, FunctionName: str, Name: str) -> dict:
        return {"FunctionVersion": "2"}

    def get_function_configuration(self, *, FunctionName: str, Qualifier: str = "$LATEST") -> dict:
        return {
            "MemorySize": 512 if Qualifier == "2" else 1024,
            "Environment": {"Variables": {"K": self.key}},
        }


def _check_stack(sandbox: SandboxServer, stack: _DeployedStack) -> tuple[int, str]:
    out = io.StringIO()
    args = build_parser().parse_args(["check", "--stack", "shop", "--api-url", sandbox.url])
    status = check.run(
        args, out=out, environ={}, secretsmanager=stack, cloudformation=stack, lambda_client=stack
    )
    return status, out.getvalue()


def test_cli_check_stack_stale_processor_version_exits_4_after_the_key(sandbox):
    status, out = _check_stack(sandbox, _DeployedStack(KEY))
    assert status == 4
    assert out.index("key accepted") < out.index("PROBLEM")
    assert "differ from $LATEST in MemorySize" in out
    assert KEY not in out


def test_cli_check_stack_rejected_key_wins_over_a_stale_version(sandbox):
    status, out = _check_stack(sandbox, _DeployedStack("revoked-key-0000"))
    assert status == 1
    assert "REJECTED" in out
    assert "PROBLEM" in out
