"""Why the processor has no `AutoPublishAlias` (and so no SnapStart switch) yet: template.yaml run
through the SAM translator (`samtranslator`, the library `sam validate` and CloudFormation's
`AWS::Serverless-2016-10-31` transform use), with the parameter values a deployment passes.

SAM names a published version `<Function>Version<hash>`: a new hash is a new `AWS::Lambda::Version`,
the same hash keeps the old one, and the alias (and a queue mapping on it) with it. These tests pin
what moves that hash, as measured for docs/snapstart.md ("The template: not yet"):

- plain `AutoPublishAlias` and `AutoPublishAliasAllProperties: true` alike: the code location does,
  a parameter value (an environment variable, the memory size, SnapStart itself) and a layer's
  content do not (aws/serverless-application-model#3820, still open);
- `AutoPublishCodeSha256` replaces the hash with its value, so then not even the code does;
- with `AutoPublishAlias`, the function's SQS event invokes the alias, not `$LATEST`.

If one of the "does not" tests fails, the translator now resolves parameters before hashing: the
reason given in docs/snapstart.md is gone, and an always-on alias may be safe (check it there).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


class _NoManagedPolicies:
    """The template names no managed policy: nothing to look up."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    # The translator fills AWS::Region from the environment, as `sam validate` does.
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="module")
def packaged() -> dict[str, Any]:
    """template.yaml as `sam package` hands it over: code and layer content as S3 locations."""
    template = yaml_parse((ROOT / "template.yaml").read_text(encoding="utf-8"))
    for name, resource in template["Resources"].items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://artifacts/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://artifacts/{name}.zip"
    template["Parameters"]["VersionKey"] = {"Type": "String", "Default": "k1"}  # for AutoPublishCodeSha256
    return template


def _translate(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return transform(copy.deepcopy(template), parameters or {}, _NoManagedPolicies())["Resources"]


def _with(template: dict[str, Any], **processor: Any) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["Resources"]["ProcessorFunction"]["Properties"].update(processor)
    return changed


def _version_id(resources: dict[str, Any]) -> str:
    (version,) = [k for k, r in resources.items() if r["Type"] == "AWS::Lambda::Version"]
    return version


def _new_layer(template: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["Resources"]["NomiClientLayer"]["Properties"]["ContentUri"] = "s3://artifacts/changed.zip"
    return changed


def _new_code(template: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(template)
    changed["Resources"]["ProcessorFunction"]["Properties"]["CodeUri"] = "s3://artifacts/changed.zip"
    return changed


def test_infra_processor_queue_invokes_latest_and_publishes_no_version(packaged):
    resources = _translate(packaged)
    mapping = resources["ProcessorFunctionEventQueue"]["Properties"]
    assert mapping["FunctionName"] == {"Ref": "ProcessorFunction"}
    published = {"AWS::Lambda::Version", "AWS::Lambda::Alias"}
    assert not [k for k, r in resources.items() if r["Type"] in published]
    assert "SnapStart" not in resources["ProcessorFunction"]["Properties"]


ALIASES = {
    "AutoPublishAlias": {"AutoPublishAlias": "live"},
    "AutoPublishAliasAllProperties": {"AutoPublishAlias": "live", "AutoPublishAliasAllProperties": True},
}


@pytest.mark.parametrize("alias", ALIASES.values(), ids=ALIASES.keys())
def test_infra_autopublishalias_moves_the_queue_to_the_alias(packaged, alias):
    resources = _translate(_with(packaged, **alias))
    function = resources["ProcessorFunctionEventQueue"]["Properties"]["FunctionName"]
    assert function == {"Ref": "ProcessorFunctionAliaslive"}


@pytest.mark.parametrize("alias", ALIASES.values(), ids=ALIASES.keys())
def test_infra_autopublishalias_publishes_on_a_code_change_only(packaged, alias):
    template = _with(packaged, **alias)
    snapstart = _with(
        template,
        SnapStart={"Fn::If": ["SnapStartOn", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]},
    )
    snapstart["Parameters"]["SnapStart"] = {"Type": "String", "Default": "Disabled"}
    snapstart["Conditions"]["SnapStartOn"] = {"Fn::Equals": [{"Ref": "SnapStart"}, "Enabled"]}
    before = _version_id(_translate(template))

    assert _version_id(_translate(_new_code(template))) != before
    # The same version (same settings) after each of these:
    assert _version_id(_translate(template, {"ShippedSmsTemplate": "Shipped: [tracking_url]"})) == before
    assert _version_id(_translate(template, {"ProcessorMemorySize": 1024, "LogLevel": "DEBUG"})) == before
    assert _version_id(_translate(_new_layer(template))) == before
    assert _version_id(_translate(snapstart, {"SnapStart": "Enabled"})) == _version_id(_translate(snapstart))


def test_infra_autopublishcodesha256_replaces_the_hash(packaged):
    template = _with(packaged, AutoPublishAlias="live", AutoPublishCodeSha256={"Ref": "VersionKey"})
    before = _version_id(_translate(template))
    assert before == "ProcessorFunctionVersionk1"
    assert _version_id(_translate(_new_code(template))) == before
    assert _version_id(_translate(template, {"VersionKey": "k2"})) == "ProcessorFunctionVersionk2"
