from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.oci import refs

VALID_REPOSITORIES = [
    "api",
    "team/api",
    "team/sub/api",
    "a",
    "a.b",
    "a_b",
    "a__b",
    "a-b",
    "a---b",
    "registry.example.com/team/api",
    "registry.example.com:5000/team/api",
    "localhost/api",
    "localhost:5000/api",
    "Registry.Example.COM/api",  # the domain may use capitals; the path may not
    "[::1]:5000/api",
    "192.168.1.10:5000/x",
    "docker.io/library/alpine",
]


@pytest.mark.parametrize("ref", VALID_REPOSITORIES)
def test_valid_repositories_are_returned_unchanged(ref: str) -> None:
    assert refs.validate_repository(ref) == ref


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("", "repository name is empty: expected a name"),
        ("team/api:1.0", "includes a tag (':1.0'): expected a repository name without tag or digest"),
        ("localhost:5000", "includes a tag (':5000')"),
        ("api@sha256:" + "a" * 64, "includes a digest ('@sha256:"),
        ("Team/api", "path component 'Team' must be lowercase letters and digits"),
        ("team/API", "path component 'API' must be"),
        ("team//api", "has an empty path component"),
        ("team/api/", "has an empty path component"),
        ("/api", "has an empty path component"),
        ("team/-api", "path component '-api' must be"),
        ("team/api-", "path component 'api-' must be"),
        ("team/a..b", "path component 'a..b' must be"),
        ("team/a___b", "path component 'a___b' must be"),
        ("reg_istry.com/api", "registry 'reg_istry.com' in repository 'reg_istry.com/api' is not a valid host"),
        ("-registry.com/api", "registry '-registry.com'"),
        ("registry.com:port/api", "with an optional :PORT"),
        ("a/" + "b" * 254, "characters long: at most 255 are allowed"),
        ("tëam/api", "path component 'tëam' must be"),
    ],
)
def test_invalid_repositories_say_what_was_expected(ref: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        refs.validate_repository(ref)
    assert fragment in str(caught.value)


def test_name_length_limit_counts_the_domain() -> None:
    name = "registry.example.com/" + "a" * (255 - len("registry.example.com/"))
    assert refs.validate_repository(name) == name
    with pytest.raises(ValueError, match="256 characters long"):
        refs.validate_repository(name + "a")


@pytest.mark.parametrize(
    ("ref", "normalized"),
    [
        ("api", "localhost/api"),
        ("team/api", "localhost/team/api"),
        ("team/sub/api", "localhost/team/sub/api"),
        ("localhost/api", "localhost/api"),
        ("localhost", "localhost/localhost"),
        ("localhost:5000/api", "localhost:5000/api"),
        ("registry.example.com/api", "registry.example.com/api"),
        ("quay.io/team/api", "quay.io/team/api"),
        ("host:5000/api", "host:5000/api"),
        ("docker.io/library/alpine", "docker.io/library/alpine"),
    ],
)
def test_normalize_repository_follows_podman(ref: str, normalized: str) -> None:
    assert refs.normalize_repository(ref) == normalized


def test_normalize_repository_validates() -> None:
    with pytest.raises(ValueError, match="must be lowercase"):
        refs.normalize_repository("Api")


@pytest.mark.parametrize(
    ("repository", "registry"),
    [
        ("api", "localhost"),
        ("team/api", "localhost"),
        ("localhost/api", "localhost"),
        ("localhost:5000/api", "localhost:5000"),
        ("quay.io/team/api", "quay.io"),
        ("docker.io/library/alpine", "docker.io"),
        ("[::1]:5000/api", "[::1]:5000"),
        ("api:1.0", "localhost"),
    ],
)
def test_registry_of(repository: str, registry: str) -> None:
    assert refs.registry_of(repository) == registry


@pytest.mark.parametrize("tag", ["latest", "1.0", "v1.2.3-rc.1", "_x", "A_b-C.d", "a" * 128, "9"])
def test_valid_tags(tag: str) -> None:
    assert refs.validate_tag(tag) == tag


TAG_RULE = (
    "only letters, digits, '_', '.', '-', at most 128 characters, not starting with '.' or '-'"
)


@pytest.mark.parametrize("tag", ["feature/x", ".hidden", "-x", "a" * 129, "a:b", "a b", "é", "a+b"])
def test_invalid_tags_state_the_rule(tag: str) -> None:
    with pytest.raises(ValueError) as caught:
        refs.validate_tag(tag)
    assert str(caught.value) == f"tag {tag!r} is not a valid tag: {TAG_RULE}"


def test_empty_tag() -> None:
    with pytest.raises(ValueError, match="tag is empty"):
        refs.validate_tag("")


SHA = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("api", ("api", None, None)),
        ("api:1.0", ("api", "1.0", None)),
        ("team/api:latest", ("team/api", "latest", None)),
        ("localhost:5000/api", ("localhost:5000/api", None, None)),
        ("localhost:5000/api:1", ("localhost:5000/api", "1", None)),
        (f"api@{SHA}", ("api", None, SHA)),
        (f"quay.io/team/api:1@{SHA}", ("quay.io/team/api", "1", SHA)),
        ("localhost:5000", ("localhost", "5000", None)),
    ],
)
def test_split_reference(ref: str, expected: tuple[str, str | None, str | None]) -> None:
    assert refs.split_reference(ref) == expected


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        # A ':' before the last '/' makes the first component a host with a port, not a tag.
        ("api:feature/x", "registry 'api:feature' in repository 'api:feature/x' is not a valid host"),
        ("api:-x", "tag '-x' is not a valid tag"),
        ("api@sha256:abc", "digest 'sha256:abc' is not a valid digest: expected ALGORITHM:HEX"),
        ("api@sha256:" + "A" * 64, "is not a valid digest"),
        ("api@sha256:" + "a" * 63, "is not a valid digest"),
        ("api@md5", "is not a valid digest"),
        ("Api:1", "must be lowercase"),
        (":1", "repository name is empty"),
    ],
)
def test_split_reference_rejects(ref: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        refs.split_reference(ref)
    assert fragment in str(caught.value)


def test_unknown_digest_algorithms_need_32_hex_digits() -> None:
    assert refs.validate_digest("blake3:" + "a" * 32) == "blake3:" + "a" * 32
    with pytest.raises(ValueError):
        refs.validate_digest("blake3:" + "a" * 31)


# --- properties ------------------------------------------------------------------------------------------

_alnum = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
_separator = st.sampled_from([".", "_", "__", "-", "--"])
_component = st.builds(
    lambda first, rest: first + "".join(sep + part for sep, part in rest),
    _alnum,
    st.lists(st.tuples(_separator, _alnum), max_size=3),
)
_path = st.lists(_component, min_size=1, max_size=4).map("/".join)
_tags = st.from_regex(re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", re.ASCII), fullmatch=True)


@given(_path)
def test_generated_paths_are_valid_and_normalize_like_podman(path: str) -> None:
    if len(path) <= 245:
        first, slash, _ = path.partition("/")
        is_domain = bool(slash) and ("." in first or first == "localhost")
        if is_domain and "_" in first:
            # Looks like a domain (it has a '.') but is not a host name: rejected, not silently taken as a path.
            with pytest.raises(ValueError, match="is not a valid host"):
                refs.validate_repository(path)
            return
        assert refs.validate_repository(path) == path
        assert refs.normalize_repository(path) == (path if is_domain else f"localhost/{path}")
        assert refs.registry_of(refs.normalize_repository(path)) == (first if is_domain else "localhost")


@given(_path, _tags)
def test_split_reference_round_trips(path: str, tag: str) -> None:
    first, slash, _ = path.partition("/")
    if len(path) <= 255 and not (slash and "." in first and "_" in first):
        assert refs.split_reference(f"{path}:{tag}") == (path, tag, None)


@given(_tags)
def test_generated_tags_are_valid(tag: str) -> None:
    assert refs.validate_tag(tag) == tag


@given(st.text(max_size=140))
def test_validate_tag_agrees_with_the_grammar(text: str) -> None:
    valid = re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", text, re.ASCII) is not None
    try:
        refs.validate_tag(text)
    except ValueError:
        assert not valid
    else:
        assert valid


# Python's \w, str.isalnum() and str.isdigit() accept these; the registries' grammar is ASCII only.
UNICODE_LOOKALIKES = ["vé", "v１", "ǅ", "v٣", "\u212a", "ı", "v1\n", "v\u200b1"]  # \u212a: the Kelvin sign


@pytest.mark.parametrize("tag", UNICODE_LOOKALIKES)
def test_non_ascii_tags_are_refused(tag: str) -> None:
    with pytest.raises(ValueError, match="is not a valid tag"):
        refs.validate_tag(tag)


@pytest.mark.parametrize("component", UNICODE_LOOKALIKES)
def test_non_ascii_repository_components_are_refused(component: str) -> None:
    with pytest.raises(ValueError):
        refs.validate_repository(f"quay.io/team/{component}")
    with pytest.raises(ValueError):
        refs.validate_repository_path(f"team/{component}")
    with pytest.raises(ValueError):
        refs.validate_domain(f"{component}.example.com")


@pytest.mark.parametrize("path", ["team/api", "a.b/c", "localhost/x", "a__b/c-d/e.f"])
def test_repository_paths(path: str) -> None:
    assert refs.validate_repository_path(path) == path


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("", "empty"),
        ("Team.x/api", "'Team.x' must be lowercase"),  # a host-like first component is still a path here
        ("127.0.0.1:5000/api", "'127.0.0.1:5000'"),
        ("team//api", "path component ''"),
        ("team/api:v1", "'api:v1'"),
        ("a" * 256, "at most 255"),
    ],
)
def test_invalid_repository_paths_say_what_was_expected(path: str, fragment: str) -> None:
    with pytest.raises(ValueError) as caught:
        refs.validate_repository_path(path)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("domain", ["quay.io", "127.0.0.1:5000", "localhost", "[::1]:5000", "Registry.Example.COM"])
def test_valid_domains(domain: str) -> None:
    assert refs.validate_domain(domain) == domain


@pytest.mark.parametrize("domain", ["", "https://quay.io", "quay.io/v2", "-x.io", "quay.io:", "a b"])
def test_invalid_domains(domain: str) -> None:
    with pytest.raises(ValueError, match="is not a valid host"):
        refs.validate_domain(domain)
