from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import pytest

from builder.config.profile import Profile
from tests.unit.config.profile_fixtures import Project, assert_error

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


# --- extends --------------------------------------------------------------------------------------------


def test_extends_merges_tables_and_replaces_lists(project: Project) -> None:
    project.write(
        "base",
        """
        image = "team/base"
        description = "base"
        tags = ["latest", "base"]
        pull = "always"
        labels = { maintainer = "ops", tier = "base" }
        build_args = { A = "1" }
        """,
    )
    project.write(
        "mid",
        """
        extends = "base"
        image = "team/mid"
        labels = { tier = "mid" }
        build_args = { B = "2" }
        """,
    )
    project.write(
        "leaf",
        """
        extends = "mid"
        tags = ["leaf"]
        no_cache = true
        [labels]
        leaf = "yes"
        """,
    )
    profile = project.load("leaf")
    assert profile.image == "localhost/team/mid"
    assert profile.description == "base"
    assert profile.tags == ("leaf",)
    assert profile.pull == "always"
    assert profile.no_cache is True
    assert profile.labels == {"maintainer": "ops", "tier": "mid", "leaf": "yes"}
    assert profile.build_args == {"A": "1", "B": "2"}
    assert profile.extends == ("mid", "base")
    assert profile.raw["extends"] == "mid"  # the profile's own; not inherited from mid
    assert project.load("base").raw.get("extends") is None
    assert profile.file == (project.profiles / "leaf.toml").resolve()


# --- overrides ------------------------------------------------------------------------------------------

OVERRIDES: list[tuple[tuple[str, ...], Callable[[Profile], Any], Any]] = [
    (("tags=a,b",), lambda p: p.tags, ("a", "b")),
    (("tags= a , ,b ",), lambda p: p.tags, ("a", "b")),
    (("tags+=extra",), lambda p: p.tags, ("base", "extra")),
    (("tags=x", "tags+=y", "tags+=z,w"), lambda p: p.tags, ("x", "y", "z", "w")),
    (("labels.org.opencontainers.image.title=API",), lambda p: p.labels,
     {"maintainer": "ops", "org.opencontainers.image.title": "API"}),
    (("labels.maintainer=me",), lambda p: p.labels, {"maintainer": "me"}),
    (("labels.maintainer=",), lambda p: p.labels, {"maintainer": ""}),
    (("build_args.X=1=2",), lambda p: p.build_args, {"X": "1=2"}),
    (("target=runtime",), lambda p: p.target, "runtime"),
    (("target=",), lambda p: p.target, None),
    (("no_cache=true",), lambda p: p.no_cache, True),
    (("no_cache=YES",), lambda p: p.no_cache, True),
    (("no_cache=1", "no_cache=0"), lambda p: p.no_cache, False),
    (("no_cache=no",), lambda p: p.no_cache, False),
    (("pull=newer",), lambda p: p.pull, "newer"),
    (("isolation=oci",), lambda p: p.isolation, "oci"),
    (("platform=linux/amd64,linux/amd64",), lambda p: p.platform, ("linux/amd64",)),
    (("platform+=linux/ppc64le",), lambda p: p.platform, ("linux/ppc64le",)),
    (("image=quay.io/x/y",), lambda p: p.image, "quay.io/x/y"),
    (("version=2.0", "tags={version}"), lambda p: (p.version, p.tags), ("2.0", ("2.0",))),
    (("description=hello",), lambda p: p.description, "hello"),
    (("tags={profile}-{date}",), lambda p: p.tags, ("api-20240305",)),
    ((" tags = spaced",), lambda p: p.tags, ("spaced",)),
]


@pytest.mark.parametrize(("overrides", "get", "expected"), OVERRIDES)
def test_overrides(project: Project, overrides: tuple[str, ...], get: Callable[[Profile], Any], expected: Any) -> None:
    project.write(
        "api",
        """
        image = "api"
        tags = ["base"]
        platform = "linux/ppc64le"
        labels = { maintainer = "ops" }
        """,
    )
    assert get(project.load("api", *overrides)) == expected


def test_tags_append_to_the_default(project: Project) -> None:
    project.write("api", 'image = "api"')
    assert project.load("api", "tags+=v1").tags == ("latest", "v1")


def test_overrides_land_in_raw(project: Project) -> None:
    project.write("api", 'image = "api"\nlabels = { a = "1" }')
    profile = project.load("api", "labels.b={date}", "no_cache=yes")
    assert profile.raw == {"image": "api", "labels": {"a": "1", "b": "{date}"}, "no_cache": True}
    assert profile.labels == {"a": "1", "b": "20240305"}


# (override, key, message fragment, hint fragment): file and line are always None.
OVERRIDE_ERRORS = [
    ("no_cache", None, "--set expects KEY=VALUE, got 'no_cache'", "--set KEY+=VALUE (append to a list)"),
    ("=x", None, "--set expects KEY=VALUE, got '=x'", "--set TABLE.NAME=VALUE"),
    ("no_cach=true", "no_cach", "unknown key 'no_cach' (did you mean 'no_cache'?) (from --set no_cach=true)",
     "profile keys are: "),
    ("extends=base", "extends", "extends cannot be set with --set (from --set extends=base)", "edit extends"),
    ("tags.x=1", "tags", "tags is not a table (from --set tags.x=1)", "use --set tags=VALUE"),
    ("labels=x", "labels", "labels is a table (from --set labels=x)", "--set labels.NAME=VALUE"),
    ("labels.a+=x", "labels", "+= only appends to lists", "use --set labels.a=VALUE"),
    ("target+=x", "target", "+= appends to a list, but target is a string (from --set target+=x)",
     "use --set target=VALUE"),
    ("no_cache=maybe", "no_cache", "expected true or false (or 1/0, yes/no), got 'maybe' (from --set "
     "no_cache=maybe)", "no_cache = true"),
    ("pull=alwys", "pull", "got 'alwys' (did you mean 'always'?)", 'pull = "always"'),
    ("platform=amd64", "platform[0]", "expected OS/ARCH", None),
    ("labels.=x", 'labels.""', "'' is not a valid name here", None),
    ("secrets.a,b=x", 'secrets."a,b"', "is not a valid name here", None),
    # Found after merging, still blamed on the --set item:
    ("tags+=feature/x", "tags[1]", "tag 'feature/x' is not a valid tag: only letters, digits, '_', '.', '-', at "
     "most 128 characters, not starting with '.' or '-' (from --set tags+=feature/x)", "the part after ':'"),
    ("image=Team/api", "image", "must be lowercase", None),
    ("tags=", "tags", "tags is empty: at least one tag is needed (from --set tags=)", None),
    ("containerfile=missing", "containerfile", "does not exist (from --set containerfile=missing)",
     "relative to the project root"),
    ("labels.v={version}", "labels.v", "{version}: no version is set (from --set labels.v={version})",
     "--set version=1.2.3"),
    ("secrets.npmrc=nope", "secrets.npmrc", "does not exist (from --set secrets.npmrc=nope)", None),
]


@pytest.mark.parametrize(("item", "key", "message", "hint"), OVERRIDE_ERRORS)
def test_override_errors(project: Project, item: str, key: str | None, message: str, hint: str | None) -> None:
    project.write("base", 'image = "api"')
    project.write("api", 'extends = "base"\ntags = ["ok"]\n')
    error = project.error("api", item)
    assert_error(error, file=None, line=None, key=key, message=message, hint=hint or "")


def test_an_override_fixes_a_broken_value(project: Project) -> None:
    project.write("api", 'image = "api"\ntags = ["{git_sha}"]\n')
    assert project.load("api", "tags=fixed").tags == ("fixed",)
