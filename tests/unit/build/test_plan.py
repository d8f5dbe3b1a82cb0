from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder.build.plan import OCI_MANIFEST, plan_build
from builder.build.prepare import snapshot
from builder.config.profile import load_profile
from builder.engine.podman import encode_build_params
from builder.errors import ConfigError
from builder.oci.labels import Provenance

NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)


def make(tmp_path: Path, profile: str, files: dict[str, str] | None = None):
    files = {"Containerfile": "FROM scratch\n", **(files or {})}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "p.toml").write_text(profile)
    loaded = load_profile(tmp_path / "profiles", "p", env={}, now=NOW)
    return loaded


def plan_of(profile, provenance: Provenance | None = None):
    return plan_build(profile, snapshot(profile), provenance or Provenance(created=NOW), nonce="abc")


def test_parameters_of_the_main_build(tmp_path: Path) -> None:
    profile = make(
        tmp_path,
        'image = "team/api"\ntarget = "runtime"\npull = "newer"\nno_cache = true\nisolation = "chroot"\n'
        'platform = "linux/arm64"\n[build_args]\nA = "1"\n',
    )
    plan = plan_of(profile)
    assert plan.dockerfile == "Containerfile"
    assert plan.extra == {}
    # Typed on the plan; JSON only where the engine sends them.
    assert plan.params["buildargs"] == {"A": "1"} and plan.params["excludes"] == []
    assert encode_build_params(plan.params) == {
        "dockerfile": "Containerfile",
        "layers": "true",
        "outputformat": OCI_MANIFEST,
        "pullpolicy": "ifnewer",
        "rm": "true",
        "nocache": "true",
        "target": "runtime",
        "buildargs": json.dumps({"A": "1"}),
        "platform": "linux/arm64",
        "isolation": "chroot",
        "excludes": "[]",
    }
    # Labels and tags never go into the cacheable build.
    assert "labels" not in plan.params and "t" not in plan.params


def test_containerfile_outside_the_context_is_injected_and_excluded(tmp_path: Path) -> None:
    profile = make(
        tmp_path,
        'image = "a"\ncontainerfile = "build/Containerfile"\ncontext = "src"\n',
        {"build/Containerfile": "FROM scratch\n", "src/.containerignore": "*.log\n", "src/x": "x"},
    )
    plan = plan_of(profile)
    assert plan.dockerfile == ".imgctl-abc.Containerfile"
    assert plan.extra == {".imgctl-abc.Containerfile": profile.containerfile}
    assert json.loads(encode_build_params(plan.params)["excludes"]) == ["*.log", ".imgctl-abc.Containerfile"]  # type: ignore[arg-type]
    assert plan.params["excludes"] == ["*.log", ".imgctl-abc.Containerfile"]


def test_containerfile_excluded_by_the_ignore_rules_is_still_sent(tmp_path: Path) -> None:
    profile = make(tmp_path, 'image = "a"\n', {".containerignore": "Containerfile\n"})
    plan = plan_of(profile)
    assert plan.dockerfile == ".imgctl-abc.Containerfile"
    assert plan.extra[".imgctl-abc.Containerfile"] == profile.containerfile


def test_secrets_travel_at_the_top_of_the_tar(tmp_path: Path) -> None:
    profile = make(tmp_path, 'image = "a"\n[secrets]\nnpmrc = "s/npmrc"\n', {"s/npmrc": "token"})
    plan = plan_of(profile)
    assert plan.extra == {".imgctl-abc.secret.npmrc": tmp_path / "s" / "npmrc"}
    assert json.loads(encode_build_params(plan.params)["secrets"]) == ["id=npmrc,src=.imgctl-abc.secret.npmrc"]  # type: ignore[arg-type]
    assert plan.params["secrets"] == ["id=npmrc,src=.imgctl-abc.secret.npmrc"]


def test_oci_labels_are_added_and_the_profile_wins(tmp_path: Path) -> None:
    profile = make(
        tmp_path,
        'image = "team/api"\nversion = "1.2"\ndescription = "API"\n'
        '[labels]\n"org.opencontainers.image.title" = "Mine"\nx = "y"\n',
    )
    plan = plan_of(profile, Provenance(created=NOW, revision="abc123", source="https://example.com/r.git"))
    assert plan.labels == {
        "org.opencontainers.image.created": "2026-11-24T12:30:05Z",
        "org.opencontainers.image.title": "Mine",
        "org.opencontainers.image.revision": "abc123",
        "org.opencontainers.image.source": "https://example.com/r.git",
        "org.opencontainers.image.version": "1.2",
        "org.opencontainers.image.description": "API",
        "x": "y",
    }


def test_label_step_tags_and_labels_the_built_id(tmp_path: Path) -> None:
    profile = make(tmp_path, 'image = "team/api"\ntags = ["1", "latest"]\n')
    plan = plan_of(profile)
    params, files = plan.label_step("f" * 64)
    labels = " ".join(f'"{key}"="{value}"' for key, value in plan.labels.items())
    # All labels in one LABEL line: one instruction, one commit.
    assert files == {"Containerfile": f"FROM {'f' * 64}\nLABEL {labels}\n".encode()}
    assert params["t"] == ["localhost/team/api:1", "localhost/team/api:latest"]
    assert "labels" not in params
    assert params["pullpolicy"] == "never"
    # Layers on, so that buildah commits the LABEL with no layer (the WORKDIR it ensures is not kept);
    # no cache lookup, which costs more than the commit it would save (see the plan module's docstring).
    assert params["layers"] == "true" and params["nocache"] == "true"


def test_label_values_are_quoted_so_they_read_back_unchanged(tmp_path: Path) -> None:
    profile = make(tmp_path, 'image = "a"\n[labels]\nx = \'a "b" \\ $HOME ✓\'\n')
    _params, files = plan_of(profile).label_step("f" * 64)
    assert '"x"="a \\"b\\" \\\\ \\$HOME ✓"' in files["Containerfile"].decode()


def test_a_label_with_a_line_break_goes_through_the_api(tmp_path: Path) -> None:
    profile = make(tmp_path, 'image = "a"\n[labels]\nx = "two\\nlines"\n')
    plan = plan_of(profile)
    params, files = plan.label_step("f" * 64)
    assert params["labels"] == {"x": "two\nlines"} and plan.labels["x"] == "two\nlines"
    others = " ".join(f'"{key}"="{value}"' for key, value in plan.labels.items() if key != "x")
    assert files == {"Containerfile": f"FROM {'f' * 64}\nLABEL {others}\n".encode()}
    assert params["layers"] == "true"


def test_several_platforms_are_refused_clearly(tmp_path: Path) -> None:
    # Refused when the profile is loaded (by every command alike), so no plan can be asked for one.
    with pytest.raises(ConfigError) as caught:
        plan_of(make(tmp_path, 'image = "a"\nplatform = ["linux/amd64", "linux/arm64"]\n'))
    assert caught.value.key == "platform"
    assert "several platforms" in str(caught.value)
