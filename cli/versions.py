"""`nomi-gateway check --stack`: does the processor the queue invokes run with the last deploy's settings?

With `SnapStart=Enabled` the queue's mapping invokes the processor's `live` alias, a published
version, and a version freezes code *and* configuration. A deploy that changes only parameters that
neither SAM's version id nor the version's description follow (the mapping settings, NomiApiUrl,
ProcessorMemorySize…) publishes no version: the queue keeps the old settings (docs/snapstart.md).
This compares the configuration of what the mapping invokes with `$LATEST` and names the settings
that differ: their names only, never their values (environment variables hold secret names, texts
and settings that may be personal data).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from cli.common import CliError

MAPPING_OUTPUT = "ProcessorEventSourceMappingId"
EXIT_STALE_VERSION = 4
LATEST = "$LATEST"
FIX = (
    "fix: deploy once with --parameter-overrides SnapStart=Disabled (the queue invokes $LATEST at once), "
    "then again with SnapStart=Enabled (a version is published from the current settings); "
    "or deploy any code change"
)

Configuration = Mapping[str, Any]

# The settings a version freezes that a deploy may change, each by a name safe to print.
_SETTINGS: tuple[tuple[str, Callable[[Configuration], Any]], ...] = (
    ("MemorySize", lambda c: c.get("MemorySize")),
    ("Timeout", lambda c: c.get("Timeout")),
    ("Layers", lambda c: [layer.get("Arn") for layer in c.get("Layers") or []]),
    ("SnapStart", lambda c: (c.get("SnapStart") or {}).get("ApplyOn", "None")),
    ("Code", lambda c: c.get("CodeSha256")),
    ("Handler", lambda c: c.get("Handler")),
    ("Runtime", lambda c: c.get("Runtime")),
    ("Architectures", lambda c: c.get("Architectures")),
)


def _variables(configuration: Configuration) -> Mapping[str, Any]:
    return (configuration.get("Environment") or {}).get("Variables") or {}


def differing_settings(published: Configuration, latest: Configuration) -> list[str]:
    """The names of the settings in which `published` differs from `latest` (both as
    GetFunctionConfiguration returns them): `Environment.<VARIABLE>` for each variable added, removed
    or changed, then `MemorySize`, `Timeout`, `Layers`, `SnapStart`, `Code`…; no value."""
    before, after = _variables(published), _variables(latest)
    names = [
        f"Environment.{key}" for key in sorted(set(before) | set(after)) if before.get(key) != after.get(key)
    ]
    return names + [name for name, setting in _SETTINGS if setting(published) != setting(latest)]


@dataclass(frozen=True)
class Invoked:
    """What the queue's mapping invokes: the function, and the alias or version (None: `$LATEST`)."""

    function: str
    qualifier: str | None

    @classmethod
    def from_arn(cls, function_arn: str) -> Invoked:
        # arn:aws:lambda:region:account:function:name[:qualifier]
        parts = function_arn.split(":")
        if len(parts) not in (7, 8) or parts[5] != "function":
            raise CliError(f"the queue's mapping invokes {function_arn!r}, which is not a function ARN")
        qualifier = parts[7] if len(parts) == 8 and parts[7] != LATEST else None
        return cls(function=parts[6], qualifier=qualifier)


@dataclass(frozen=True)
class VersionCheck:
    """The result: what the queue invokes, which version that is, and what differs from `$LATEST`."""

    invoked: Invoked
    version: str | None = None
    differing: tuple[str, ...] = ()

    @property
    def stale(self) -> bool:
        return bool(self.differing)

    def report(self) -> str:
        if self.invoked.qualifier is None:
            return "processor: the queue invokes $LATEST (SnapStart Disabled): every deploy applies at once\n"
        target = f"alias {self.invoked.qualifier} (version {self.version})"
        if self.invoked.qualifier == self.version:
            target = f"version {self.version}"
        if not self.stale:
            return f"processor: the queue invokes {target}, which has the settings of $LATEST\n"
        return (
            f"processor: PROBLEM: the queue invokes {target}, whose settings differ from $LATEST in "
            f"{', '.join(self.differing)}: the last deploy changed them without publishing a version, "
            "so the queue's events run with the old ones (docs/snapstart.md)\n"
            f"  {FIX}\n"
        )


def _published_version(lambda_client: Any, invoked: Invoked) -> str:
    """The version number behind the mapping's qualifier (an alias, or already a version)."""
    qualifier = str(invoked.qualifier)
    if qualifier.isdigit():
        return qualifier
    return str(lambda_client.get_alias(FunctionName=invoked.function, Name=qualifier)["FunctionVersion"])


def check_processor_version(mapping_id: str, *, lambda_client: Any) -> VersionCheck:
    """Read what the mapping `mapping_id` invokes and, for a published version, compare it with $LATEST."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        mapping = lambda_client.get_event_source_mapping(UUID=mapping_id)
        invoked = Invoked.from_arn(str(mapping["FunctionArn"]))
        if invoked.qualifier is None:
            return VersionCheck(invoked)
        version = _published_version(lambda_client, invoked)
        published = lambda_client.get_function_configuration(FunctionName=invoked.function, Qualifier=version)
        latest = lambda_client.get_function_configuration(FunctionName=invoked.function)
    except (ClientError, BotoCoreError) as exc:
        # The error names the mapping or function and the error code, never a configuration value.
        raise CliError(f"cannot read the processor's mapping or versions: {exc}") from exc
    return VersionCheck(invoked, version, tuple(differing_settings(published, latest)))


def run_check(outputs: Mapping[str, str], stack_name: str, *, lambda_client: Any, out: TextIO) -> int:
    """Print the check for a deployed stack; 0, or EXIT_STALE_VERSION when the queue's version lags."""
    mapping_id = outputs.get(MAPPING_OUTPUT)
    if not mapping_id:
        out.write(
            f"processor: not checked: stack {stack_name!r} has no output {MAPPING_OUTPUT} "
            "(deployed from a template before the SnapStart parameter)\n"
        )
        return 0
    result = check_processor_version(mapping_id, lambda_client=lambda_client)
    out.write(result.report())
    return EXIT_STALE_VERSION if result.stale else 0
