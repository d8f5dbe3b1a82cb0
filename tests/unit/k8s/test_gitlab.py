from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest
import yaml

from builder.config.profile import Profile
from builder.errors import ConfigError
from builder.k8s.document import Request, dump
from builder.k8s.gitlab import ci_job
from tests.unit.k8s.conftest import GIT, golden
from tests.unit.k8s.schemas import validate_gitlab


def _job(request: Request) -> dict[str, object]:
    documents, _ = ci_job(request)
    (document,) = yaml.safe_load_all(dump(documents))
    validate_gitlab(document)
    return dict(document["build-api"])


@pytest.mark.parametrize(
    ("golden_name", "options"),
    [
        ("gitlab-ci.yaml", {}),
        ("gitlab-ci-tar.yaml", {"tarball": True}),
        ("gitlab-ci-imgctl.yaml", {"engine": "imgctl"}),
    ],
)
def test_jobs_match_golden_and_validate_against_gitlabs_schema(
    sample: Request, golden_name: str, options: dict[str, object]
) -> None:
    request = Request(sample.profile, GIT, **options)  # type: ignore[arg-type]
    documents, _ = ci_job(request)
    text = dump(documents)
    golden(golden_name, text)
    for document in yaml.safe_load_all(text):
        validate_gitlab(document)


def test_the_executor_line_parses_back_to_the_exact_flags(sample: Request) -> None:
    script = _job(sample)["script"]
    assert isinstance(script, list)
    words = shlex.split(script[-1].replace("${CI_PROJECT_DIR}", "/builds/p"))
    assert words[0] == "/kaniko/executor"
    assert "--context=/builds/p/app" in words and "--dockerfile=/builds/p/app/Containerfile" in words
    # Quoted for the shell: the value arrives as written, $HOME unexpanded, the space kept.
    assert "--label=org.example.quoted=it's $HOME" in words
    assert "--label=org.opencontainers.image.description=The API" in words


def test_tarball_job_keeps_the_tarball_as_artifact(sample: Request) -> None:
    job = _job(Request(sample.profile, GIT, tarball=True))
    assert job["artifacts"] == {"paths": ["api.tar"], "expire_in": "1 week"}
    script = job["script"]
    assert isinstance(script, list) and "--no-push" in script[-1] and "--tar-path=api.tar" in script[-1]


def test_imgctl_job_runs_rootless_podman(sample: Request) -> None:
    job = _job(Request(sample.profile, GIT, engine="imgctl"))
    assert job["image"] == {"name": "quay.io/podman/stable:v5.2.2", "docker": {"user": "podman"}}
    assert job["script"] == ["imgctl build api --push"]
    tar = _job(Request(sample.profile, GIT, engine="imgctl", tarball=True))
    assert tar["script"] == ["imgctl build api", "imgctl save api -o api.tar"]


def test_push_without_destinations_is_refused(load: Callable[..., Profile]) -> None:
    profile = load('image = "team/api"\ntags = ["1"]\ncontext = "app"\n')
    with pytest.raises(ConfigError, match="no push destinations"):
        ci_job(Request(profile, GIT))
    assert _job(Request(profile, GIT, tarball=True))["artifacts"]


def test_revision_and_source_come_from_the_pipeline_not_the_render(sample: Request) -> None:
    script = _job(sample)["script"]
    assert isinstance(script, list)
    line = script[-1]
    assert GIT.commit is not None and GIT.commit not in line
    words = shlex.split(line.replace("${CI_COMMIT_SHA}", "abc").replace("${CI_PROJECT_URL}", "https://x/y"))
    assert "--label=org.opencontainers.image.revision=abc" in words
    assert "--label=org.opencontainers.image.source=https://x/y" in words
