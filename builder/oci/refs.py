"""Image reference grammar: repositories, tags and digests.

The grammar is the one of github.com/distribution/reference (`regexp.go`), which podman, buildah and every
OCI registry share; a name accepted here is accepted by `podman build -t`. Only the *splitting* of the domain
follows podman rather than Docker: a name without a domain belongs to `localhost`, never to `docker.io`,
because that is where `podman build` puts it.

Every function is pure and raises `ValueError` whose message says what was expected, so that callers can
attach a file, a line and a key without rewording it.
"""

from __future__ import annotations

import re

__all__ = [
    "LOCAL_DOMAIN",
    "NAME_MAX_LENGTH",
    "normalize_repository",
    "registry_of",
    "split_reference",
    "validate_digest",
    "validate_domain",
    "validate_repository",
    "validate_repository_path",
    "validate_tag",
]

LOCAL_DOMAIN = "localhost"
NAME_MAX_LENGTH = 255

# Pieces of distribution/reference regexp.go. `\w` is spelled out because Python's `\w` matches any Unicode
# letter, while Go's (and the registries') is ASCII only.
_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_DIGEST = re.compile(r"([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})")
# go-digest is stricter than the reference grammar for the algorithms it knows; a registry rejects the rest.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}

_TAG_RULE = "only letters, digits, '_', '.', '-', at most 128 characters, not starting with '.' or '-'"
_COMPONENT_RULE = (
    "lowercase letters and digits, optionally separated by '.', '_', '__' or '-', "
    "not starting or ending with a separator"
)
_REPOSITORY_EXAMPLE = "e.g. 'api', 'team/api' or 'registry.example.com:5000/team/api'"


def _split_domain(name: str) -> tuple[str | None, str]:
    """Split off the domain the way podman (containers/image) does.

    The first component is a domain only if it looks like a host: it has a '.' (a DNS name), a ':' (a port)
    or is exactly 'localhost'. So 'team/api' is the path 'team/api' on no registry.
    """
    first, slash, rest = name.partition("/")
    if slash and ("." in first or ":" in first or first == LOCAL_DOMAIN):
        return first, rest
    return None, name


def validate_tag(tag: str) -> str:
    """Return `tag` unchanged if it is a valid tag, else raise ValueError saying what a tag may contain."""
    if not tag:
        raise ValueError(f"tag is empty: a tag needs {_TAG_RULE}")
    if not _TAG.fullmatch(tag):
        raise ValueError(f"tag {tag!r} is not a valid tag: {_TAG_RULE}")
    return tag


def validate_digest(digest: str) -> str:
    """Return `digest` unchanged if it is `ALGORITHM:HEX` (e.g. `sha256:` + 64 lowercase hex digits)."""
    expected = "expected ALGORITHM:HEX, e.g. 'sha256:' followed by 64 lowercase hex digits"
    match = _DIGEST.fullmatch(digest)
    if not match:
        raise ValueError(f"digest {digest!r} is not a valid digest: {expected}")
    algorithm, hex_part = match.groups()
    length = _DIGEST_HEX_LENGTH.get(algorithm)
    if (length is not None and len(hex_part) != length) or hex_part != hex_part.lower():
        raise ValueError(f"digest {digest!r} is not a valid digest: {expected}")
    return digest


def validate_domain(domain: str) -> str:
    """Return `domain` unchanged if it is a registry host (`host[:port]`, `[IPv6][:port]`), else ValueError."""
    if not _DOMAIN.fullmatch(domain):
        raise ValueError(
            f"registry {domain!r} is not a valid host: expected a host name (letters, digits, '-', '.'), or an "
            "[IPv6] address, with an optional :PORT"
        )
    return domain


def validate_repository_path(path: str) -> str:
    """Return `path` unchanged if it is a repository path on a registry (`team/api`: no host, tag or digest).

    Unlike `validate_repository`, the first component is never taken for a host: on the registry every
    component follows the path grammar, so `Team.x/api` is refused rather than read as a domain.
    """
    if not path:
        raise ValueError("repository path is empty: expected e.g. 'team/api'")
    if len(path) > NAME_MAX_LENGTH:
        raise ValueError(
            f"repository path {path[:40]}... is {len(path)} characters long: at most {NAME_MAX_LENGTH} are allowed"
        )
    for component in path.split("/"):
        if not _PATH_COMPONENT.fullmatch(component):
            raise ValueError(
                f"{path!r} is not a valid repository path: path component {component!r} must be {_COMPONENT_RULE}"
            )
    return path


def validate_repository(ref: str) -> str:
    """Return `ref` unchanged if it is a repository name without tag or digest, else raise ValueError.

    The message names the offending part: the tag or digest that should not be there, the bad domain, the bad
    path component, or the length.
    """
    if not ref:
        raise ValueError(f"repository name is empty: expected a name, {_REPOSITORY_EXAMPLE}")
    name, at, digest = ref.partition("@")
    if at:
        raise ValueError(
            f"repository {ref!r} includes a digest ('@{digest}'): expected a repository name without tag or "
            f"digest, {_REPOSITORY_EXAMPLE}"
        )
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        raise ValueError(
            f"repository {ref!r} includes a tag (':{tag}'): expected a repository name without tag or digest, "
            f"{_REPOSITORY_EXAMPLE}"
        )
    if len(ref) > NAME_MAX_LENGTH:
        raise ValueError(
            f"repository {ref[:40]}... is {len(ref)} characters long: at most {NAME_MAX_LENGTH} are allowed"
        )
    domain, path = _split_domain(ref)
    if domain is not None and not _DOMAIN.fullmatch(domain):
        raise ValueError(
            f"registry {domain!r} in repository {ref!r} is not a valid host: expected a host name (letters, "
            f"digits, '-', '.'), or an [IPv6] address, with an optional :PORT"
        )
    for component in path.split("/"):
        if not component:
            raise ValueError(
                f"repository {ref!r} has an empty path component: expected components separated by single "
                f"'/', {_REPOSITORY_EXAMPLE}"
            )
        if not _PATH_COMPONENT.fullmatch(component):
            raise ValueError(
                f"repository {ref!r} is not a valid repository name: path component {component!r} must be "
                f"{_COMPONENT_RULE}"
            )
    return ref


def normalize_repository(ref: str) -> str:
    """Validate `ref` and qualify it the way podman names local builds.

    'api' -> 'localhost/api', 'team/api' -> 'localhost/team/api'; a name with a domain is returned unchanged.
    """
    validate_repository(ref)
    domain, _ = _split_domain(ref)
    if domain is None:
        return f"{LOCAL_DOMAIN}/{ref}"
    return ref


def registry_of(repository: str) -> str:
    """The domain (host[:port]) of `repository`; `localhost` when it has none.

    Consistent with `normalize_repository`: imgctl never assumes Docker Hub, so a repository on Docker Hub must
    be written with its domain, `docker.io/library/alpine`. The input is not validated; a tag or digest after
    the last '/' does not change the answer.
    """
    domain, _ = _split_domain(repository)
    return LOCAL_DOMAIN if domain is None else domain


def split_reference(ref: str) -> tuple[str, str | None, str | None]:
    """Split `NAME[:TAG][@DIGEST]` into (repository, tag, digest), validating each part.

    The repository is returned as written (not normalized). A ':' before the last '/' belongs to a registry
    port, so 'localhost:5000/api' has no tag.
    """
    name, at, digest = ref.partition("@")
    tag: str | None = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    validate_repository(name)
    if tag is not None:
        validate_tag(tag)
    if at:
        validate_digest(digest)
        return name, tag, digest
    return name, tag, None
