from __future__ import annotations

import json
import sys

import pytest

from builder.config.summary import ProfileProblem, ProfileSummary, load_summary, summarize
from builder.errors import ConfigError
from tests.unit.config.profile_fixtures import Project

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass


# --- summaries ------------------------------------------------------------------------------------------


def test_summarize_survives_broken_profiles(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    project.write("base", 'image = "team/api"\ndescription = "base"\ntags = ["{git_short_sha}", "latest"]\n')
    project.write("child", 'extends = "base"\ntarget = "dev"\n')
    project.write("broken", 'image = "api"\ntgas = []\n')
    project.write("noimage", 'tags = ["x"]\n')
    project.write("badimage", 'image = "x:1"\n')
    project.write("badtemplate", 'image = "api"\nlabels = { a = "{gti_sha}" }\n')
    project.write("badtag", 'image = "api"\ntags = [\n"a/b"]\n')
    project.write("toml", "image = \n")
    project.write("orphan", 'extends = "gone"\n')
    (project.root / "Containerfile").unlink()  # summaries never look at paths
    monkeypatch.setenv("PATH", "/nonexistent")  # ... nor run git
    result = {entry.name: entry for entry in summarize(project.profiles)}
    assert list(result) == sorted(result)
    assert result["base"] == ProfileSummary(
        name="base", file=(project.profiles / "base.toml").resolve(), image="localhost/team/api",
        description="base", target=None, tags=("{git_short_sha}", "latest"), extends=(),
    )
    assert result["child"] == ProfileSummary(
        name="child", file=(project.profiles / "child.toml").resolve(), image="localhost/team/api",
        description="base", target="dev", tags=("{git_short_sha}", "latest"), extends=("base",),
    )
    problems = {name: entry for name, entry in result.items() if isinstance(entry, ProfileProblem)}
    assert sorted(problems) == ["badimage", "badtag", "badtemplate", "broken", "orphan", "toml"]
    assert (problems["broken"].error.key, problems["broken"].error.line) == ("tgas", 2)
    assert (problems["badimage"].error.key, problems["badimage"].error.line) == ("image", 1)
    assert result["noimage"] == ProfileSummary(  # a base meant to be extended: not a problem for list
        name="noimage", file=(project.profiles / "noimage.toml").resolve(), image=None,
        description="", target=None, tags=("x",), extends=(),
    )
    assert (problems["badtemplate"].error.key, problems["badtemplate"].error.line) == ("labels.a", 2)
    assert "did you mean '{git_sha}'" in problems["badtemplate"].error.message
    assert (problems["badtag"].error.key, problems["badtag"].error.line) == ("tags[0]", 3)
    assert problems["toml"].error.message.startswith("invalid TOML")
    assert problems["orphan"].error.key == "extends"
    assert problems["orphan"].file == (project.profiles / "orphan.toml").resolve()
    documents = [entry.to_dict() for entry in result.values()]
    assert json.loads(json.dumps(documents)) == documents
    assert {frozenset(document) for document in documents} == {frozenset(documents[0])}  # one shape for all
    broken = problems["broken"].to_dict()["error"]
    assert broken["key"] == "tgas" and broken["line"] == 2 and broken["hint"].startswith("profile keys are")
    assert broken["text"] == f"{problems['broken'].file}:2: tgas: unknown key 'tgas' (did you mean 'tags'?)"
    assert result["child"].to_dict()["error"] is None


def test_load_summary_raises(project: Project) -> None:
    project.write("api", 'image = "API"\n')
    with pytest.raises(ConfigError, match="must be lowercase"):
        load_summary(project.profiles, "api")
