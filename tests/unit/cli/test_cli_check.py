"""`nomi-gateway check` without NOMI: where the key comes from, and that it is never printed."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from cli import check
from cli.common import CliError
from cli.main import build_parser, main


def _args(*argv: str):
    return build_parser().parse_args(["check", *argv])


def test_check_key_from_env_names_only_the_variable():
    key, origin = check.find_api_key(_args(), environ={"NOMI_API_KEY": "live-key-123"})
    assert (key, origin) == ("live-key-123", "env NOMI_API_KEY")


def test_check_key_from_secret_wins_over_env():
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="nomi-key", SecretString="secret-key\n")
        key, origin = check.find_api_key(
            _args("--secret-id", "nomi-key"), environ={"NOMI_API_KEY": "env-key"}, secretsmanager=sm
        )
    assert (key, origin) == ("secret-key", "secret nomi-key")


def test_check_missing_secret_raises_cli_error_without_value():
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        with pytest.raises(CliError, match="cannot read secret nope"):
            check.find_api_key(_args("--secret-id", "nope"), environ={}, secretsmanager=sm)


def test_check_without_key_exits_2(capsys):
    assert main(["check"]) == 2
    assert "NOMI_API_KEY" in capsys.readouterr().err


def test_check_min_balance_must_be_a_number():
    with pytest.raises(CliError, match="--min-balance"):
        check.parse_min_balance("lots")
