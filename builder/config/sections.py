"""The typed `[lint]` and `[verify]` tables of a profile, with their defaults.

The schema (`builder.config.schema.LINT`, `VERIFY`) checks the raw values as they are read; these classes
only give the checked values names and defaults, and turn them into the findings `Policy`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from builder.findings.model import DEFAULT_THRESHOLD, Policy

# OpenShift starts a container as a random UID in group 0; this is the first UID of a typical project range.
OPENSHIFT_USER = "1000680000:0"
DEFAULT_GRACE = 10  # seconds between SIGTERM and SIGKILL that `verify` allows (OpenShift's default is 30)


@dataclass(frozen=True)
class LintSettings:
    ignore: tuple[str, ...] = ()
    override: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # code -> level
    failure_threshold: str = DEFAULT_THRESHOLD
    trusted_registries: tuple[str, ...] = ()
    policy: str = "openshift"  # or "certification"
    on_build: str = "warn"  # what `imgctl build` does with the findings: off, warn, error

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> LintSettings:
        return cls(
            ignore=tuple(raw.get("ignore", ())),
            override=MappingProxyType(dict(raw.get("override", {}))),
            failure_threshold=raw.get("failure_threshold", DEFAULT_THRESHOLD),
            trusted_registries=tuple(raw.get("trusted_registries", ())),
            policy=raw.get("policy", "openshift"),
            on_build=raw.get("on_build", "warn"),
        )

    def findings_policy(self) -> Policy:
        return Policy(ignore=frozenset(self.ignore), override=self.override, failure_threshold=self.failure_threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ignore": list(self.ignore),
            "override": dict(self.override),
            "failure_threshold": self.failure_threshold,
            "trusted_registries": list(self.trusted_registries),
            "policy": self.policy,
            "on_build": self.on_build,
        }


@dataclass(frozen=True)
class VerifySettings:
    kind: str = "service"  # or "job": runs to completion and must exit 0
    skip: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # code -> reason
    grace: int = DEFAULT_GRACE
    user: str = OPENSHIFT_USER
    failure_threshold: str = DEFAULT_THRESHOLD
    ignore: tuple[str, ...] = ()

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> VerifySettings:
        return cls(
            kind=raw.get("kind", "service"),
            skip=MappingProxyType(dict(raw.get("skip", {}))),
            grace=raw.get("grace", DEFAULT_GRACE),
            user=raw.get("user", OPENSHIFT_USER),
            failure_threshold=raw.get("failure_threshold", DEFAULT_THRESHOLD),
            ignore=tuple(raw.get("ignore", ())),
        )

    def findings_policy(self) -> Policy:
        return Policy(ignore=frozenset(self.ignore), failure_threshold=self.failure_threshold)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "skip": dict(self.skip),
            "grace": self.grace,
            "user": self.user,
            "failure_threshold": self.failure_threshold,
            "ignore": list(self.ignore),
        }
