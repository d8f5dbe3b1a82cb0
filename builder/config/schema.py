"""The one table of profile settings: every key, its kind, default, example and help.

A new key is a new row of `SCHEMA` (plus, if it needs more than its raw value, a field on `Profile`). Settings
without a field are still reachable through `Profile.raw` and `Profile.setting()`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from builder.config.kinds import (
    Boolean,
    Integer,
    Kind,
    Platforms,
    RegistryTable,
    Section,
    String,
    StringList,
    StringTable,
    choice,
)
from builder.findings.model import LEVELS, THRESHOLDS


@dataclass(frozen=True)
class Setting:
    """One row of the profile schema."""

    name: str
    kind: Kind
    default: Any  # immutable; copied before use
    example: str  # a TOML line, shown in hints
    help: str
    required: bool = False
    templated: bool = False  # placeholders are expanded in its string values, after merge and overrides
    settable: bool = True  # may be changed with --set
    inherited: bool = True  # a child profile receives its parent's value


# The ignore-file dialects: buildah's containers/storage rules are what podman 4.3 really applies; moby's
# patternmatcher is what Docker applies. They differ on a few patterns, so a project built by both says which.
IGNORE_DIALECTS = ("buildah", "moby")

_NO_ENTRIES: Mapping[str, str] = MappingProxyType({})

# How a build runs the linter first: not at all, showing the findings, or failing on them (`build --lint`).
LINT_ON_BUILD = ("off", "warn", "error")
# "certification" adds Red Hat preflight's label requirements (name, vendor, version, ...) to "openshift".
LINT_POLICIES = ("openshift", "certification")
_CODE = r"(?:DL|SC|OS)[0-9]{4}|OS[0-9]{3}"
_CODE_RULE = "a rule code such as DL3008, SC2086 or OS104"

LINT = Section(entries=MappingProxyType({
    "ignore": StringList(item=String(pattern=_CODE, rule=_CODE_RULE)),
    "override": StringTable(expected='a table of rule codes and levels (OS106 = "error")',
                            key_pattern=_CODE, key_rule=_CODE_RULE, values=LEVELS),
    "failure_threshold": choice(*THRESHOLDS),
    "trusted_registries": StringList(),
    "policy": choice(*LINT_POLICIES),
    "on_build": choice(*LINT_ON_BUILD),
}))

VERIFY_KINDS = ("service", "job")  # a service stays up until stopped; a job runs and exits 0
VERIFY = Section(entries=MappingProxyType({
    "kind": choice(*VERIFY_KINDS),
    "skip": StringTable(expected='a table of check codes and reasons (OS222 = "batch job, no signal handling")',
                        key_pattern=r"OS[0-9]{3}", key_rule="a check code such as OS222"),
    "grace": Integer(minimum=1, maximum=600),
    "user": String(pattern=r"[0-9]+(?::[0-9]+)?", rule="UID or UID:GID, numeric"),
    "failure_threshold": choice(*THRESHOLDS),
    "ignore": StringList(item=String(pattern=r"OS[0-9]{3}", rule="a check code such as OS222")),
}))

STRATEGIES = ("containerfile", "s2i")

SCHEMA: tuple[Setting, ...] = (
    Setting("image", String(), None, 'image = "team/api"',
            "repository to tag the image in; no domain means localhost/", required=True),
    Setting("description", String(), "", 'description = "The public API"', "shown by `imgctl list`"),
    Setting("extends", String(pattern=r"[^./\\][^/\\]*", rule="the name of another profile (its file stem)"),
            None, 'extends = "base"', "inherit every setting of another profile", settable=False, inherited=False),
    Setting("version", String(), None, 'version = "1.4.2"', "the value of {version}", templated=True),
    Setting("containerfile", String(), None, 'containerfile = "docker/api.Containerfile"',
            "relative to the project root; default: Containerfile, else Dockerfile, in the context"),
    Setting("context", String(), ".", 'context = "services/api"', "build context, relative to the project root"),
    Setting("target", String(), None, 'target = "runtime"', "the stage of a multi-stage Containerfile"),
    Setting("tags", StringList(), ("latest",), 'tags = ["latest", "{git_short_sha}"]',
            "tags (the part after ':') given to the image", templated=True),
    Setting("labels", StringTable(), _NO_ENTRIES, 'labels = { maintainer = "team@example.com" }',
            "image labels", templated=True),
    Setting("build_args", StringTable(key_pattern=r"[^=\s]+", key_rule="a name without '=' or spaces"),
            _NO_ENTRIES, 'build_args = { PYTHON_VERSION = "3.12" }', "ARG values", templated=True),
    Setting("platform", Platforms(), (), 'platform = "linux/amd64"',
            "target platform; default: the host's"),
    Setting("pull", choice("missing", "always", "never", "newer"), "missing", 'pull = "always"',
            "when to pull base images"),
    Setting("no_cache", Boolean(), False, "no_cache = true", "build every step without the layer cache"),
    Setting("isolation", choice("oci", "chroot", "rootless"), None, 'isolation = "chroot"',
            "how RUN steps are isolated; default: podman's"),
    Setting("secrets", StringTable(key_pattern=r"[A-Za-z0-9_.-]+", key_rule="letters, digits, '_', '.', '-'"),
            _NO_ENTRIES, 'secrets = { npmrc = "secrets/npmrc" }',
            "build secrets: id = source file, relative to the project root"),
    Setting("push", StringList(), (), 'push = ["quay.io/team/api"]',
            "repositories (with registry, without tag) that `imgctl push` sends every tag to"),
    Setting("context_pruning", Boolean(), True, "context_pruning = false",
            "send only the context paths the Containerfile can read (on top of the ignore rules)"),
    Setting("ignore", StringList(), (), 'ignore = ["*.log", "docs/"]',
            "extra ignore patterns for this profile, applied after the ignore file; the file is not changed"),
    Setting("ignore_dialect", choice(*IGNORE_DIALECTS), "buildah", 'ignore_dialect = "moby"',
            "whose ignore-file rules apply: buildah's (what podman applies) or moby's (what Docker applies)"),
    Setting("writable_paths", StringList(item=String(pattern=r"/.*", rule="an absolute path")), (),
            'writable_paths = ["/opt/app-root/data"]',
            "directories the application writes at run time: lint and verify check they suit an arbitrary UID"),
    Setting("lint", LINT, _NO_ENTRIES, 'lint = { ignore = ["DL3008"], failure_threshold = "error" }',
            "imgctl lint settings: ignore, override, failure_threshold, trusted_registries, policy, on_build"),
    Setting("verify", VERIFY, _NO_ENTRIES, 'verify = { kind = "job", skip = { OS222 = "a batch job" } }',
            "imgctl verify settings: kind, skip, grace, user, failure_threshold, ignore"),
    Setting("strategy", choice(*STRATEGIES), "containerfile", 'strategy = "s2i"',
            "how the image is described: a Containerfile, or S2I (source + builder image)"),
    Setting("builder", String(), None, 'builder = "registry.access.redhat.com/ubi9/python-311"',
            "the S2I builder image (strategy = \"s2i\")"),
    Setting("incremental", Boolean(), False, "incremental = true",
            "S2I: restore the previous image's saved artifacts before assemble"),
    Setting("registries", RegistryTable(), _NO_ENTRIES,
            'registries = { "registry.example.com:5000" = { tls_verify = false } }',
            "per-registry settings: tls_verify, cert_dir, insecure"),
)

SETTINGS: Mapping[str, Setting] = MappingProxyType({setting.name: setting for setting in SCHEMA})


def fresh(value: Any) -> Any:
    """A mutable copy of a default or merged value, so no caller can change the schema or another load."""
    if isinstance(value, (dict, MappingProxyType)):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return value
