"""builder.push.destinations: a profile's push list or --to, with each registry's TLS settings."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder.config.profile import load_profile
from builder.errors import ConfigError
from builder.push.destinations import Destination, checked_repository, destinations

NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)


def profile(tmp_path: Path, text: str):
    (tmp_path / "profiles").mkdir(parents=True, exist_ok=True)
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    (tmp_path / "profiles" / "app.toml").write_text('image = "team/app"\n' + text)
    return load_profile(tmp_path / "profiles", "app", env={}, now=NOW)


def test_the_profiles_destinations_with_their_registry_settings(tmp_path: Path) -> None:
    (tmp_path / "certs").mkdir()
    loaded = profile(
        tmp_path,
        'push = ["quay.io/team/app", "reg.example.com:5000/team/app", "quay.io/team/app"]\n'
        '[registries."reg.example.com:5000"]\ncert_dir = "certs"\n',
    )
    found = destinations(loaded)
    assert [d.repository for d in found] == ["quay.io/team/app", "reg.example.com:5000/team/app"]
    assert found[1].cert_dir == tmp_path / "certs" and found[1].verify
    assert (found[1].registry, found[1].path) == ("reg.example.com:5000", "team/app")


def test_to_replaces_the_list_and_flags_win(tmp_path: Path) -> None:
    loaded = profile(tmp_path, 'push = ["quay.io/team/app"]\n')
    found = destinations(loaded, ["localhost:5000/test/app"], tls_verify=False)
    assert found == (Destination("localhost:5000/test/app", verify=False, cert_dir=None),)


def test_no_destinations_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        destinations(profile(tmp_path, ""))
    assert caught.value.key == "push" and "--to" in (caught.value.hint or "")


@pytest.mark.parametrize(
    "ref,problem",
    [
        ("quay.io/team/app:1", "includes a tag or digest"),
        ("app", "does not name a registry"),
        ("localhost/app", "does not name a registry"),
        ("quay.io/Team/app", ""),
    ],
)
def test_to_must_name_a_registry_repository(ref: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        checked_repository(ref)
    assert problem in str(caught.value) and caught.value.key == "--to"
    assert checked_repository("quay.io/team/app") == "quay.io/team/app"
