"""The processor's `SnapStart` switch, checked through the SAM translator (`samtranslator`, the library
`sam validate` and CloudFormation's `AWS::Serverless-2016-10-31` transform use) with the parameter
values a deployment passes, then resolved as CloudFormation would (local.template's resolver).

Two parts, as in docs/snapstart.md ("The template"):

- What SAM's version id follows. SAM names a published version `<Function>Version<hash>`: a new hash is
  a new `AWS::Lambda::Version`. With `AutoPublishAlias` (with `AutoPublishAliasAllProperties` too) the
  code location moves the hash; a parameter value (an environment variable, the memory size, SnapStart
  itself) and a layer's content do not (aws/serverless-application-model#3820, still open);
  `AutoPublishCodeSha256` replaces the hash with its value. If one of the "does not" assertions
  fails, the translator now resolves parameters before hashing: the caveat in docs/snapstart.md (and
  `nomi-gateway check`'s reason to look) may be gone.
- What the template does about it: the queue's mapping is explicit and invokes the `live` alias only
  with SnapStart, the version's Description carries what the hash misses (a new Description is a new
  version: CloudFormation replaces the resource), replaced versions are deleted, and the role grants
  the mapping's SQS actions on the event queue alone.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from local.template import Pseudo, Template

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
MAPPING = "ProcessorFunctionEventQueue"
ALIAS = "ProcessorFunctionAliaslive"
MAPPING_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}


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


def _translated(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return transform(copy.deepcopy(template), parameters or {}, _NoManagedPolicies())


def _translate(template: dict[str, Any], parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return _translated(template, parameters)["Resources"]


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


def _layer_arn(logical_id: str, number: int | None = None) -> str:
    # Each LayerVersion resource is a layer version of its own: a number of its own (never reused).
    number = number if number is not None else int(hashlib.sha256(logical_id.encode()).hexdigest()[:8], 16)
    return f"arn:aws:lambda:us-east-1:123456789012:layer:{logical_id}:{number}"


def _deployed(template: dict[str, Any], parameters: dict[str, str] | None = None) -> tuple[Template, Any]:
    """The translated template with the deployment's parameters bound, and a resolver that stands in
    for CloudFormation's values: a resource's Ref is its logical id, a layer's Ref its version ARN."""
    translated = Template(
        _translated(template, parameters),
        root=ROOT,
        pseudo=Pseudo("stack"),
        parameter_overrides=parameters,
    )
    layers = translated.of_type("AWS::Lambda::LayerVersion")

    def ref(name: str) -> str:
        return _layer_arn(name) if name in layers else name

    return translated, translated.resolver(ref=ref, attr=lambda name, attr: f"{name}.{attr}")


def _resolved(template: dict[str, Any], logical_id: str, parameters: dict[str, str] | None = None) -> Any:
    translated, resolver = _deployed(template, parameters)
    return resolver.resolve(translated.properties(logical_id))


def _description(template: dict[str, Any], parameters: dict[str, str] | None = None) -> str:
    translated, resolver = _deployed(template, parameters)
    return resolver.resolve(translated.properties(_version_id(translated.resources))["Description"])


def _with_sam_sqs_event(template: dict[str, Any]) -> dict[str, Any]:
    """The processor as it was: the mapping's settings as a SAM SQS event named EventQueue."""
    changed = copy.deepcopy(template)
    mapping = changed["Resources"].pop(MAPPING)["Properties"]
    settings = {k: v for k, v in mapping.items() if k not in ("EventSourceArn", "FunctionName")}
    event = {"Type": "SQS", "Properties": {"Queue": mapping["EventSourceArn"], **settings}}
    changed["Resources"]["ProcessorFunction"]["Properties"]["Events"] = {"EventQueue": event}
    del changed["Outputs"]["ProcessorEventSourceMappingId"]
    return changed


# --- what the queue invokes, and with which SnapStart setting -------------------------------------


def test_infra_mapping_snapstart_disabled_invokes_latest(packaged):
    assert _resolved(packaged, MAPPING)["FunctionName"] == "ProcessorFunction"  # unqualified: $LATEST
    assert _resolved(packaged, MAPPING, {"SnapStart": "Disabled"})["FunctionName"] == "ProcessorFunction"


def test_infra_mapping_snapstart_enabled_invokes_the_live_alias(packaged):
    assert _resolved(packaged, MAPPING, {"SnapStart": "Enabled"})["FunctionName"] == ALIAS
    resources = _translate(packaged, {"SnapStart": "Enabled"})
    alias = resources[ALIAS]["Properties"]
    assert alias["Name"] == "live"
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [_version_id(resources), "Version"]}


def test_infra_processor_snapstart_disabled_sets_no_snapstart(packaged):
    assert "SnapStart" not in _resolved(packaged, "ProcessorFunction")


def test_infra_processor_snapstart_enabled_applies_on_published_versions(packaged):
    properties = _resolved(packaged, "ProcessorFunction", {"SnapStart": "Enabled"})
    assert properties["SnapStart"] == {"ApplyOn": "PublishedVersions"}


def test_infra_mapping_sam_event_logical_id_and_settings_kept(packaged):
    # An existing stack's mapping came from the SQS event: same logical id (updated in place, not a
    # second mapping) and the same settings; only FunctionName may differ (and it is updatable).
    before = _translate(_with_sam_sqs_event(packaged))
    after = _translate(packaged)
    (sam_mapping,) = [k for k, r in before.items() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert sam_mapping == MAPPING
    settings = {k: v for k, v in before[MAPPING]["Properties"].items() if k != "FunctionName"}
    assert {k: v for k, v in after[MAPPING]["Properties"].items() if k != "FunctionName"} == settings


def test_infra_mapping_function_name_change_updates_in_place():
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::Lambda::EventSourceMapping")
    assert "/properties/FunctionName" not in schema.schema["createOnlyProperties"]


def test_infra_template_only_the_mapping_invokes_the_alias(packaged):
    # Alarms and the dashboard use the FunctionName dimension (every version and alias), the log group
    # is the function's (versions log there too), outputs name the function: none names a version.
    translated = _translated(packaged, {"SnapStart": "Enabled"})
    version = _version_id(translated["Resources"])
    users = {
        logical_id
        for logical_id, resource in [*translated["Resources"].items(), *translated["Outputs"].items()]
        if re.search(rf'"({ALIAS}|{version})"', repr(resource).replace("'", '"'))
    }
    assert users == {MAPPING, ALIAS}


def test_infra_sam_sqs_event_with_autopublishalias_invokes_the_alias(packaged):
    # Why the mapping is explicit: SAM's SQS event follows AutoPublishAlias in every stack.
    resources = _translate(_with_sam_sqs_event(packaged))
    assert resources[MAPPING]["Properties"]["FunctionName"] == {"Ref": ALIAS}


# --- the role ------------------------------------------------------------------------------------------


def _role_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    role = resources["ProcessorFunctionRole"]["Properties"]
    policies = [p for p in role["Policies"] if "PolicyDocument" in p]  # the Fn::If one is a secret
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return set(actions if isinstance(actions, list) else [actions])


def test_infra_role_mapping_actions_granted_on_the_event_queue_only(packaged):
    resources = _translate(packaged)
    granting = [s for s in _role_statements(resources) if _actions(s) & MAPPING_ACTIONS]
    assert {a for s in granting for a in _actions(s)} >= MAPPING_ACTIONS
    assert [s["Resource"] for s in granting] == [{"Fn::GetAtt": ["EventQueue", "Arn"]}]
    # SAM's SQS event brought AWSLambdaSQSQueueExecutionRole (on every queue): gone.
    managed = resources["ProcessorFunctionRole"]["Properties"]["ManagedPolicyArns"]
    assert not [arn for arn in managed if "SQS" in str(arn)]


def test_infra_role_sqs_actions_are_the_mappings_and_the_codes(packaged):
    sqs = {a for s in _role_statements(_translate(packaged)) for a in _actions(s) if a.startswith("sqs:")}
    # The mapping's, the retry backoff's (processor.record), the dead-letter sends (SQSSendMessagePolicy).
    assert sqs == MAPPING_ACTIONS | {"sqs:ChangeMessageVisibility", "sqs:SendMessage*"}


# --- when a new version is published ------------------------------------------------------------------


def test_infra_version_code_change_changes_the_logical_id(packaged):
    assert _version_id(_translate(_new_code(packaged))) != _version_id(_translate(packaged))


def test_infra_version_snapstart_switch_changes_the_description(packaged):
    # The same SAM version id either way (see the hashing test below): the Description moves instead.
    on, off = {"SnapStart": "Enabled"}, {"SnapStart": "Disabled"}
    assert _version_id(_translate(packaged, on)) == _version_id(_translate(packaged, off))
    assert _description(packaged, on) != _description(packaged, off)


def test_infra_version_layer_change_changes_the_description(packaged):
    assert _version_id(_translate(_new_layer(packaged))) == _version_id(_translate(packaged))
    assert _description(_new_layer(packaged)) != _description(packaged)


@pytest.mark.parametrize(
    "parameters",
    [{"ProcessorTimeout": "60"}, {"LogLevel": "DEBUG"}, {"ShopifyApiVersion": "2026-10"}],
    ids=lambda p: next(iter(p)),
)
def test_infra_version_bounded_setting_change_changes_the_description(packaged, parameters):
    assert _description(packaged, parameters) != _description(packaged)


def test_infra_version_description_change_requires_replacement():
    # A Description cannot be updated: CloudFormation publishes a new version (and deletes the old).
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", "AWS::Lambda::Version").schema
    assert "/properties/Description" in schema["createOnlyProperties"]
    assert schema["properties"]["Description"]["maxLength"] == 256


# The only parameter the Description uses without AllowedValues, and its (bounded) pattern.
BOUNDED_BY_PATTERN = {"ShopifyApiVersion": ("^([0-9]{4}-[0-9]{2}|unstable)$", "unstable")}
LONGEST_LAYER_VERSION = 2**63 - 1  # a layer version number is a Long


def test_infra_version_description_longest_inputs_fit_256_characters(packaged):
    resources = _translate(packaged)
    text, _ = resources[_version_id(resources)]["Properties"]["Description"]["Fn::Sub"]
    used = set(re.findall(r"\$\{([A-Za-z0-9]+)\}", text)) & set(packaged["Parameters"])
    longest: dict[str, str] = {}
    for name in sorted(used):
        spec = packaged["Parameters"][name]
        if "AllowedValues" in spec:
            longest[name] = max((str(v) for v in spec["AllowedValues"]), key=len)
        else:
            # A parameter of unbounded length would break the 256 limit on some input: not allowed.
            pattern, value = BOUNDED_BY_PATTERN[name]
            assert spec["AllowedPattern"] == pattern
            longest[name] = value
    translated, _ = _deployed(packaged, longest)
    layers = translated.of_type("AWS::Lambda::LayerVersion")
    resolver = translated.resolver(
        ref=lambda name: _layer_arn(name, LONGEST_LAYER_VERSION) if name in layers else name,
        attr=lambda name, attr: f"{name}.{attr}",
    )
    description = resolver.resolve(translated.properties(_version_id(translated.resources))["Description"])
    assert str(LONGEST_LAYER_VERSION) in description
    assert len(description) <= 256


def test_infra_version_replaced_or_removed_is_deleted(packaged):
    # SAM's default for a classic function is Retain: every past version (and, with SnapStart, its
    # billed snapshot) would stay. Replacement follows UpdateReplacePolicy, whose default is Delete.
    resources = _translate(packaged)
    version = resources[_version_id(resources)]
    assert version["DeletionPolicy"] == "Delete"
    assert version.get("UpdateReplacePolicy", "Delete") == "Delete"


# --- what SAM's version id follows (the reason for the Description) ---------------------------------

ALIASES = {
    "AutoPublishAlias": {},
    "AutoPublishAliasAllProperties": {"AutoPublishAliasAllProperties": True},
}


@pytest.mark.parametrize("alias", ALIASES.values(), ids=ALIASES.keys())
def test_infra_autopublishalias_publishes_on_a_code_change_only(packaged, alias):
    template = _with(packaged, **alias)
    before = _version_id(_translate(template))

    assert _version_id(_translate(_new_code(template))) != before
    # The same version id after each of these:
    assert _version_id(_translate(template, {"ShippedSmsTemplate": "Shipped: [tracking_url]"})) == before
    assert _version_id(_translate(template, {"ProcessorMemorySize": 1024, "LogLevel": "DEBUG"})) == before
    assert _version_id(_translate(_new_layer(template))) == before
    assert _version_id(_translate(template, {"SnapStart": "Enabled"})) == before


def test_infra_autopublishcodesha256_replaces_the_hash(packaged):
    template = _with(packaged, AutoPublishCodeSha256={"Ref": "VersionKey"})
    before = _version_id(_translate(template))
    assert before == "ProcessorFunctionVersionk1"
    assert _version_id(_translate(_new_code(template))) == before
    assert _version_id(_translate(template, {"VersionKey": "k2"})) == "ProcessorFunctionVersionk2"
