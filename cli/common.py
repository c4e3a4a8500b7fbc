"""What every subcommand shares: the error type, and finding a stack (deployed or local) and its secrets.

A deployed stack is found by its CloudFormation outputs (`--stack NAME`); the local stack (`make run`)
by `.local-stack/stack.json`, which it writes while it runs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

LOCAL_STACK_FILE = Path(".local-stack") / "stack.json"


class CliError(RuntimeError):
    """The command cannot do what was asked; the message says what to pass or set instead."""


def aws_client(service: str, endpoint_url: str | None = None) -> Any:
    """A boto3 client; `endpoint_url` (or env AWS_ENDPOINT_URL) points it at moto or LocalStack."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url or os.getenv("AWS_ENDPOINT_URL") or None)


def stack_outputs(
    stack_name: str, *, cloudformation: Any = None, endpoint_url: str | None = None
) -> dict[str, str]:
    """The outputs of a deployed stack, OutputKey → OutputValue."""
    from botocore.exceptions import BotoCoreError, ClientError

    cloudformation = cloudformation or aws_client("cloudformation", endpoint_url)
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as exc:
        raise CliError(f"cannot read stack {stack_name!r}: {exc}") from exc
    if not stacks:
        raise CliError(f"stack {stack_name!r} not found")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def stack_output(outputs: dict[str, str], key: str, stack_name: str) -> str:
    try:
        return outputs[key]
    except KeyError as exc:
        raise CliError(
            f"stack {stack_name!r} has no output {key} (deployed from an older template?)"
        ) from exc


def local_stack_info(root: Path | None = None) -> dict[str, Any]:
    """What the running local stack (`make run`) wrote about itself: URLs, queue URLs, endpoint."""
    path = (root or Path.cwd()) / LOCAL_STACK_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CliError(f"no local stack running ({path} is missing): start one with `make run`") from exc
    except ValueError as exc:
        raise CliError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CliError(f"{path} does not describe a stack")
    return data


def read_secret(secret_id: str, *, secretsmanager: Any = None, endpoint_url: str | None = None) -> str:
    """The SecretString of a Secrets Manager secret (kept in memory only, never printed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    secretsmanager = secretsmanager or aws_client("secretsmanager", endpoint_url)
    try:
        value = secretsmanager.get_secret_value(SecretId=secret_id).get("SecretString")
    except (ClientError, BotoCoreError) as exc:
        # The exception text names the secret id and the error code, never the value.
        raise CliError(f"cannot read secret {secret_id}: {exc}") from exc
    if not value:
        raise CliError(f"secret {secret_id} has no SecretString")
    return str(value)


def split_secrets(value: str | None) -> list[str]:
    """A comma-separated secret list (newest first), as the stack's webhook secrets store it."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]
