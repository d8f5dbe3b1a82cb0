from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.k8s.document import Request, dump
from builder.k8s.kinds import BY_NAME, KINDS, kind_named, render
from tests.unit.k8s.conftest import GIT, PLAIN
from tests.unit.k8s.test_pullsecret import AUTHS, auth_env


def test_unknown_kind_lists_every_kind() -> None:
    with pytest.raises(ConfigError) as caught:
        kind_named("kaniko")
    assert caught.value.exit_code == 2
    assert caught.value.hint == "one of: " + ", ".join(kind.name for kind in KINDS)
    assert [kind.name for kind in KINDS] == [
        "kaniko-job", "tekton", "buildconfig", "imagestream", "pull-secret", "gitlab-ci"]
    assert [kind.name for kind in KINDS if kind.secret] == ["pull-secret"]


# A profile every kind can render: no target (BuildConfig), no label with a space (the buildah task).
EVERY_KIND = PLAIN.replace("it's $HOME", "it's_$HOME")


@pytest.mark.parametrize("name", [kind.name for kind in KINDS])
def test_every_kind_is_deterministic_and_round_trips(
    load: Callable[..., Profile], tmp_path: Path, name: str
) -> None:
    env = auth_env(tmp_path, AUTHS)
    first = render(BY_NAME[name], Request(load(EVERY_KIND), GIT, namespace="builds"), env=env)
    # A second load of the same files: a new Profile object, equal content.
    second = render(BY_NAME[name], Request(load(EVERY_KIND), GIT, namespace="builds"), env=env)
    assert first.text == second.text
    # Parsed and written again, byte for byte: nothing in the text depends on how it was produced.
    assert dump(list(yaml.safe_load_all(first.text))) == first.text


@pytest.mark.parametrize("name", ["kaniko-job", "tekton", "gitlab-ci"])
def test_s2i_profiles_are_refused_where_a_containerfile_is_built(load: Callable[..., Profile], name: str) -> None:
    s2i = EVERY_KIND.replace('    containerfile = "app/Containerfile"\n', "").replace('    version = "1.2.3"\n',
                             '    version = "1.2.3"\n    strategy = "s2i"\n    builder = "registry.example.com/py"\n')
    request = Request(load(s2i), GIT)
    with pytest.raises(ConfigError) as caught:
        render(BY_NAME[name], request)
    assert caught.value.key == "strategy"
    assert "buildconfig" in (caught.value.hint or "")
    # The imgctl engine builds S2I profiles itself.
    if name == "gitlab-ci":
        assert "imgctl build api --push" in render(BY_NAME[name], Request(load(s2i), GIT, engine="imgctl")).text
