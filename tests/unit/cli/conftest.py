"""Every CLI test runs with fake AWS credentials and no secrets or endpoints from the environment."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_cli_env(cli_env: None) -> None:
    return cli_env
