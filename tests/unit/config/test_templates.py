from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.config.templates import (
    DIRTY_SUFFIX,
    TemplateContext,
    TemplateError,
    branch_slug,
    placeholders,
)
from builder.oci import refs
from builder.vcs import SHORT_SHA_LENGTH, GitError, GitInfo, read_git
from tests.git_fixtures import git, make_repo, sha

NOW = datetime(2024, 3, 5, 7, 8, 9, tzinfo=timezone.utc)
NO_CI: dict[str, str] = {}  # an env without CI variables, so the host's CI cannot leak into the tests


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A clean checkout on branch `main` with one commit."""
    return make_repo(tmp_path / "repo")


def context(root: Path | None = None, **kwargs: object) -> TemplateContext:
    kwargs.setdefault("env", NO_CI)
    kwargs.setdefault("now", NOW)
    return TemplateContext(profile=str(kwargs.pop("profile", "api")), root=root, **kwargs)  # type: ignore[arg-type]


# --- syntax ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ""),
        ("plain", "plain"),
        ("{date}", "20240305"),
        ("{timestamp}", "20240305070809"),
        ("{profile}", "api"),
        ("v{version}-{date}", "v1.2.3-20240305"),
        ("{{date}}", "{date}"),
        ("{{{date}}}", "{20240305}"),
        ("a}}b{{c", "a}b{c"),
        ("{env:USER}", "alice"),
        ("{env:EMPTY}", ""),
        ("{env:EMPTY:-fallback}", "fallback"),  # shell :- semantics: empty counts as unset
        ("{env:MISSING:-}", ""),
        ("{env:MISSING:-a:-b}", "a:-b"),
        ("{env:MISSING:-x.y_z}", "x.y_z"),
        ("{env:USER:-ignored}", "alice"),
        ("{version:-dev}", "1.2.3"),
        ("{date:-ignored}", "20240305"),
    ],
)
def test_expansion(text: str, expected: str) -> None:
    ctx = context(version="1.2.3", env={"USER": "alice", "EMPTY": ""})
    assert ctx.expand(text) == expected


@pytest.mark.parametrize(
    ("text", "message", "placeholder", "hint"),
    [
        ("{git_shaa}", "unknown placeholder {git_shaa} (did you mean '{git_sha}'?)", "{git_shaa}",
         "placeholders are {git_sha}"),
        ("{verison}", "unknown placeholder {verison} (did you mean '{version}'?)", "{verison}", "{{"),
        ("{HOME}", "unknown placeholder {HOME} (did you mean '{env:HOME}'?)", "{HOME}", "{env:NAME}"),
        ("{xyzzy}", "unknown placeholder {xyzzy}", "{xyzzy}", "placeholders are"),
        ("{}", "unknown placeholder {}", "{}", "placeholders are"),
        ("{env:}", "placeholder {env:} does not name an environment variable", "{env:}", "{env:CI_PIPELINE_ID}"),
        ("{env}", "placeholder {env} does not name an environment variable", "{env}", "{env:"),
        ("{env:1X}", "does not name an environment variable", "{env:1X}", "{env:"),
        ("a{date", "unclosed '{' at position 2 in 'a{date'", "{", "write '{{' for a literal '{'"),
        ("{a{date}}", "unclosed '{' at position 1", "{", "'{{'"),
        ("a}b", "single '}' at position 2 in 'a}b'", "}", "write '}}' for a literal '}'"),
        ("{env:MISSING}", "{env:MISSING}: environment variable MISSING is not set", "{env:MISSING}",
         "set MISSING, or give a default: {env:MISSING:-VALUE}"),
        ("v{version}", "{version}: no version is set", "{version}", "--set version=1.2.3"),
    ],
)
def test_errors_name_the_placeholder(text: str, message: str, placeholder: str, hint: str) -> None:
    with pytest.raises(TemplateError) as caught:
        context().expand(text)
    error = caught.value
    assert issubclass(TemplateError, ValueError)
    assert message in str(error)
    assert error.placeholder == placeholder
    assert error.hint is not None and hint in error.hint


@pytest.mark.parametrize(
    ("text", "used"),
    [
        ("latest", ()),
        ("{git_short_sha}{git_dirty}", ("git_short_sha", "git_dirty")),
        ("{{literal}} {env:A:-b}", ("env:A:-b",)),
        ("{version:-dev}", ("version:-dev",)),
    ],
)
def test_placeholders_lists_without_reading_anything(text: str, used: tuple[str, ...]) -> None:
    assert placeholders(text) == used


def test_placeholders_checks_syntax() -> None:
    with pytest.raises(TemplateError, match=re.escape("unknown placeholder {git_brnch}")):
        placeholders("{git_brnch}")


def test_now_is_converted_to_utc_and_naive_means_utc() -> None:
    east = datetime(2024, 3, 6, 1, 0, 0, tzinfo=timezone(timedelta(hours=5)))
    assert context(now=east).expand("{date}-{timestamp}") == "20240305-20240305200000"
    naive = datetime(2024, 3, 6, 1, 0, 0)
    assert context(now=naive).expand("{timestamp}") == "20240306010000"


def test_date_and_timestamp_are_fixed_per_context() -> None:
    ctx = TemplateContext(profile="p", env=NO_CI)
    assert ctx.expand("{timestamp}") == ctx.expand("{timestamp}")
    assert ctx.now.tzinfo == timezone.utc


@given(st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=40))
def test_text_without_braces_is_unchanged(text: str) -> None:
    assert context().expand(text) == text


@given(st.text(max_size=40))
def test_doubled_braces_are_literal(text: str) -> None:
    escaped = text.replace("{", "{{").replace("}", "}}")
    assert context().expand(escaped) == text


# --- git ------------------------------------------------------------------------------------------------


def test_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(GitError, match="has no commit yet"):
        read_git(tmp_path, NO_CI)
    ctx = context(tmp_path)
    with pytest.raises(TemplateError) as caught:
        ctx.expand("{git_sha}")
    assert caught.value.placeholder == "{git_sha}"
    assert str(caught.value) == f"{{git_sha}}: the git repository at {tmp_path} has no commit yet"
    assert caught.value.hint == "commit once, or give a default: {git_sha:-unknown}"
    assert ctx.expand("{git_sha:-none}") == "none"


def test_git_placeholders(repo: Path) -> None:
    full = sha(repo)
    git(repo, "tag", "v2.0.0")
    ctx = context(repo)
    assert ctx.expand("{git_sha}") == full
    assert ctx.expand("{git_short_sha}") == full[:SHORT_SHA_LENGTH]
    assert ctx.expand("{git_branch}") == "main"
    assert ctx.expand("{git_tag}") == "v2.0.0"
    assert ctx.expand("{git_short_sha}{git_dirty}") == full[:12]


@pytest.mark.parametrize(
    ("branch", "slug"),
    [
        ("main", "main"),
        ("feature/JIRA-12_new.api", "feature-jira-12-new-api"),
        ("-weird--/branch-", "weird---branch"),
        ("x" * 70, "x" * 63),
        ("a" * 62 + "/b", "a" * 62),  # cut at 63, then no "-" at the end
    ],
)
def test_branch_slug_is_always_a_tag(branch: str, slug: str) -> None:
    assert branch_slug(branch) == slug
    assert refs.validate_tag(slug) == slug


@given(st.text())
def test_any_branch_gives_a_valid_tag_or_nothing(branch: str) -> None:
    slug = branch_slug(branch)
    assert slug == "" or refs.validate_tag(slug) == slug


def test_git_branch_slug_from_the_checkout_and_from_ci(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature/Login_Page")
    assert context(repo).expand("{git_branch_slug}") == "feature-login-page"
    git(repo, "checkout", "-q", "--detach")
    ci = {"CI_COMMIT_BRANCH": "release/2.0"}
    assert context(repo, env=ci).expand("{git_branch}:{git_branch_slug}") == "release/2.0:release-2-0"
    with pytest.raises(TemplateError, match="is detached") as caught:
        context(repo).expand("{git_branch_slug}")
    assert caught.value.hint is not None and "{git_branch_slug:-detached}" in caught.value.hint


def test_a_branch_without_letters_or_digits_has_no_slug(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "_")
    with pytest.raises(TemplateError, match="no letter or digit"):
        context(repo).expand("{git_branch_slug}")
    assert context(repo).expand("{git_branch_slug:-none}") == "none"


def test_git_dirty_suffix(repo: Path) -> None:
    (repo / "Containerfile").write_text("changed\n")
    assert context(repo).expand("{git_short_sha}{git_dirty}") == sha(repo)[:12] + DIRTY_SUFFIX
    assert DIRTY_SUFFIX == "-dirty"


@pytest.mark.parametrize(
    ("text", "message", "hint"),
    [
        ("{git_tag}", "{git_tag}: no tag points at HEAD (", "{git_tag:-untagged}"),
        ("{git_branch}", "{git_branch}: HEAD (", "{git_branch:-detached}"),
    ],
)
def test_missing_tag_and_detached_branch(repo: Path, text: str, message: str, hint: str) -> None:
    git(repo, "checkout", "-q", "--detach")
    with pytest.raises(TemplateError) as caught:
        context(repo).expand(text)
    assert str(caught.value).startswith(message)
    assert caught.value.placeholder == text
    assert caught.value.hint is not None and hint in caught.value.hint


def test_defaults_apply_when_git_values_are_missing(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    assert context(repo).expand("{git_tag:-untagged}/{git_branch:-detached}") == "untagged/detached"


@pytest.mark.parametrize(
    "placeholder", ["git_sha", "git_short_sha", "git_branch", "git_branch_slug", "git_tag", "git_dirty"]
)
def test_outside_a_checkout_git_placeholders_say_so(tmp_path: Path, placeholder: str) -> None:
    def no_checkout() -> GitInfo | None:
        return None

    ctx = context(tmp_path, git=no_checkout)
    with pytest.raises(TemplateError) as caught:
        ctx.expand(f"x-{{{placeholder}}}")
    assert str(caught.value) == f"{{{placeholder}}}: {tmp_path} is not a git checkout"
    assert "unknown placeholder" not in str(caught.value)
    assert caught.value.hint is not None and f"{{{placeholder}:-unknown}}" in caught.value.hint
    assert ctx.expand(f"{{{placeholder}:-none}}") == "none"


def test_outside_a_real_checkout(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="is not a git checkout"):
        context(tmp_path, env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)}).expand("{git_sha}")


def test_git_is_read_lazily_and_once(repo: Path) -> None:
    calls: list[int] = []

    def provider() -> GitInfo | None:
        calls.append(1)
        return read_git(repo, NO_CI)

    ctx = context(repo, git=provider)
    assert ctx.expand("{date}-{profile}-{env:X:-y}") == "20240305-api-y"
    assert calls == []
    ctx.expand("{git_sha}")
    ctx.expand("{git_branch}")
    versioned = ctx.replace(version="1.0")
    assert versioned.expand("{version}-{git_short_sha}") == f"1.0-{sha(repo)[:12]}"
    assert calls == [1]


def test_provider_failure_is_remembered() -> None:
    calls: list[int] = []

    def broken() -> GitInfo | None:
        calls.append(1)
        raise TemplateError("git exploded", hint="fix git")

    ctx = context(git=broken)
    for _ in range(2):
        with pytest.raises(TemplateError, match=re.escape("{git_sha}: git exploded")) as caught:
            ctx.expand("{git_sha}")
        assert caught.value.hint == "fix git, or give a default: {git_sha:-unknown}"
    assert ctx.expand("{git_sha:-x}") == "x"
    assert calls == [1]


def test_no_root_and_no_provider_means_no_checkout() -> None:
    with pytest.raises(TemplateError, match="the project is not a git checkout"):
        context().expand("{git_sha}")


def test_git_missing_from_path(repo: Path) -> None:
    # Git runs with the context's environment, so that is where PATH must lack it.
    with pytest.raises(TemplateError, match="need the git command, which is not installed") as caught:
        context(repo, env={"PATH": str(repo)}).expand("{git_branch}")  # no git executable there
    assert caught.value.hint == "install git, or give a default: {git_branch:-unknown}"
