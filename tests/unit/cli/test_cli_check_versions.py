"""`nomi-gateway check --stack`, the processor version the queue invokes: with SnapStart on, a deploy
that changes only parameters leaves the `live` alias on a version with the old settings; the check
names the differing settings (never their values) and the fix. An in-memory Lambda for the cases,
moto for the shapes of the real API."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from cli import versions
from cli.common import CliError

FUNCTION = "shop-ProcessorFunction-abc"
ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION}"
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:NomiClientLayer:"
# Values that must never be printed: a secret's name, a consent text, a phone number.
SECRET_NAME = "arn:aws:secretsmanager:us-east-1:123456789012:secret:NomiApiKeySecret-AbC"
OLD_SETTINGS = '{"consent_texts":{"signup":"Text me, Jane (+15551234567)"}}'
NEW_SETTINGS = '{"consent_texts":{"signup":"Text me, Jane (+15557654321)"}}'


def _configuration(**changes: Any) -> dict[str, Any]:
    configuration = {
        "FunctionName": FUNCTION,
        "MemorySize": 512,
        "Timeout": 30,
        "CodeSha256": "code-1",
        "Handler": "processor.app.lambda_handler",
        "Runtime": "python3.13",
        "Architectures": ["arm64"],
        "Layers": [{"Arn": LAYER + "3", "CodeSize": 1}],
        "SnapStart": {"ApplyOn": "PublishedVersions", "OptimizationStatus": "On"},
        "Environment": {
            "Variables": {"NOMI_API_KEY_SECRET_NAME": SECRET_NAME, "MAPPING_SETTINGS": OLD_SETTINGS}
        },
    }
    configuration.update(changes)
    return configuration


class FakeLambda:
    """The Lambda API calls the check makes: one mapping, `$LATEST`, published versions, aliases."""

    def __init__(
        self,
        *,
        invokes: str,
        latest: dict[str, Any],
        published: dict[str, dict[str, Any]] | None = None,
        aliases: dict[str, str] | None = None,
    ) -> None:
        self.invokes = invokes
        self.configurations = {"$LATEST": latest, **(published or {})}
        self.aliases = aliases or {}
        self.calls: list[str] = []

    def get_event_source_mapping(self, *, UUID: str) -> dict[str, Any]:
        self.calls.append("GetEventSourceMapping")
        if UUID != "mapping-1":
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": UUID}}, "Get")
        return {"UUID": UUID, "FunctionArn": self.invokes}

    def get_alias(self, *, FunctionName: str, Name: str) -> dict[str, Any]:
        self.calls.append("GetAlias")
        assert FunctionName == FUNCTION
        return {"Name": Name, "FunctionVersion": self.aliases[Name]}

    def get_function_configuration(self, *, FunctionName: str, Qualifier: str = "$LATEST") -> dict[str, Any]:
        self.calls.append(f"GetFunctionConfiguration {Qualifier}")
        assert FunctionName == FUNCTION
        return self.configurations[Qualifier]


def _run(fake: FakeLambda, outputs: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    status = versions.run_check(
        {"ProcessorEventSourceMappingId": "mapping-1"} if outputs is None else outputs,
        "shop",
        lambda_client=fake,
        out=out,
    )
    return status, out.getvalue()


def test_versions_queue_on_latest_reports_no_problem():
    fake = FakeLambda(invokes=ARN, latest=_configuration(SnapStart={"ApplyOn": "None"}))
    status, text = _run(fake)
    assert status == 0
    assert "invokes $LATEST" in text
    assert fake.calls == ["GetEventSourceMapping"]  # nothing to compare


def test_versions_alias_with_the_settings_of_latest_reports_no_problem():
    fake = FakeLambda(
        invokes=f"{ARN}:live",
        latest=_configuration(),
        published={"7": _configuration()},
        aliases={"live": "7"},
    )
    assert _run(fake) == (
        0,
        "processor: the queue invokes alias live (version 7), which has the settings of $LATEST\n",
    )


def test_versions_alias_after_parameter_only_deploy_names_keys_and_fix_never_values():
    latest = _configuration(
        MemorySize=1024,
        Environment={
            "Variables": {"NOMI_API_KEY_SECRET_NAME": SECRET_NAME, "MAPPING_SETTINGS": NEW_SETTINGS}
        },
    )
    fake = FakeLambda(
        invokes=f"{ARN}:live", latest=latest, published={"7": _configuration()}, aliases={"live": "7"}
    )
    status, text = _run(fake)
    assert status == versions.EXIT_STALE_VERSION
    assert "PROBLEM" in text
    assert "alias live (version 7)" in text
    assert "Environment.MAPPING_SETTINGS, MemorySize" in text
    assert "SnapStart=Disabled" in text
    assert "SnapStart=Enabled" in text
    for value in (OLD_SETTINGS, NEW_SETTINGS, "+1555", "Jane", SECRET_NAME, "1024", "512"):
        assert value not in text


def test_versions_mapping_on_a_version_number_compares_that_version():
    fake = FakeLambda(
        invokes=f"{ARN}:3", latest=_configuration(Timeout=60), published={"3": _configuration()}
    )
    status, text = _run(fake)
    assert (status, "GetAlias" in fake.calls) == (versions.EXIT_STALE_VERSION, False)
    assert "invokes version 3, whose settings differ from $LATEST in Timeout" in text


def test_versions_stack_without_mapping_output_is_not_checked():
    fake = FakeLambda(invokes=ARN, latest=_configuration())
    status, text = _run(fake, outputs={"ProcessorFunctionName": FUNCTION})
    assert status == 0
    assert "not checked" in text
    assert "ProcessorEventSourceMappingId" in text
    assert fake.calls == []


def test_versions_unreadable_mapping_raises_cli_error():
    fake = FakeLambda(invokes=ARN, latest=_configuration())
    with pytest.raises(CliError, match="cannot read the processor's mapping"):
        _run(fake, outputs={"ProcessorEventSourceMappingId": "gone"})


def test_differing_settings_names_added_removed_and_changed_variables():
    published = _configuration(Environment={"Variables": {"A": "1", "B": "2", "C": "3"}})
    latest = _configuration(Environment={"Variables": {"A": "1", "B": "changed", "D": "4"}})
    assert versions.differing_settings(published, latest) == [
        "Environment.B",
        "Environment.C",
        "Environment.D",
    ]


def test_differing_settings_layers_snapstart_and_code_by_name():
    latest = _configuration(
        Layers=[{"Arn": LAYER + "4", "CodeSize": 1}], SnapStart={"ApplyOn": "None"}, CodeSha256="code-2"
    )
    assert versions.differing_settings(_configuration(), latest) == ["Layers", "SnapStart", "Code"]


def test_differing_settings_same_configuration_is_empty():
    assert versions.differing_settings(_configuration(), _configuration(Version="7")) == []


def test_invoked_from_arn_reads_the_qualifier():
    assert versions.Invoked.from_arn(f"{ARN}:live") == versions.Invoked(FUNCTION, "live")
    assert versions.Invoked.from_arn(ARN).qualifier is None
    assert versions.Invoked.from_arn(f"{ARN}:$LATEST").qualifier is None
    with pytest.raises(CliError):
        versions.Invoked.from_arn("arn:aws:sqs:us-east-1:123456789012:queue")


# --- against moto: the same calls on Lambda's own shapes --------------------------------------------


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    return buffer.getvalue()


def _moto_stack(lambda_client: Any, *, on_alias: bool) -> str:
    """A processor with version 1 behind `live` and a queue mapping (to the alias or to $LATEST)."""
    role = boto3.client("iam").create_role(
        RoleName="processor", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []})
    )["Role"]["Arn"]
    lambda_client.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.13",
        Role=role,
        Handler="handler.handler",
        Code={"ZipFile": _zip()},
        MemorySize=512,
        Environment={"Variables": {"MAPPING_SETTINGS": OLD_SETTINGS}},
    )
    version = lambda_client.publish_version(FunctionName=FUNCTION)["Version"]
    alias = lambda_client.create_alias(FunctionName=FUNCTION, Name="live", FunctionVersion=version)[
        "AliasArn"
    ]
    queue = boto3.client("sqs").create_queue(QueueName="events")["QueueUrl"]
    queue_arn = boto3.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    return lambda_client.create_event_source_mapping(
        EventSourceArn=queue_arn["Attributes"]["QueueArn"], FunctionName=alias if on_alias else FUNCTION
    )["UUID"]


def _parameter_only_deploy(lambda_client: Any) -> None:
    # What CloudFormation does when only parameters changed: $LATEST updated, no version published.
    lambda_client.update_function_configuration(
        FunctionName=FUNCTION, MemorySize=1024, Environment={"Variables": {"MAPPING_SETTINGS": NEW_SETTINGS}}
    )


@mock_aws
def test_versions_moto_alias_after_parameter_only_deploy_is_reported():
    client = boto3.client("lambda")
    mapping = _moto_stack(client, on_alias=True)
    _parameter_only_deploy(client)
    out = io.StringIO()
    status = versions.run_check(
        {"ProcessorEventSourceMappingId": mapping}, "shop", lambda_client=client, out=out
    )
    assert status == versions.EXIT_STALE_VERSION
    assert "Environment.MAPPING_SETTINGS, MemorySize" in out.getvalue()
    assert NEW_SETTINGS not in out.getvalue()
    assert OLD_SETTINGS not in out.getvalue()


@mock_aws
def test_versions_moto_queue_on_latest_after_parameter_only_deploy_is_fine():
    client = boto3.client("lambda")
    mapping = _moto_stack(client, on_alias=False)
    _parameter_only_deploy(client)
    out = io.StringIO()
    assert (
        versions.run_check({"ProcessorEventSourceMappingId": mapping}, "shop", lambda_client=client, out=out)
        == 0
    )
    assert "invokes $LATEST" in out.getvalue()
