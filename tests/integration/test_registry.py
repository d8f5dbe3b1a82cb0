"""builder.registry against real registries: Debian's docker-registry (distribution 2.8) with htpasswd
auth, with and without TLS, and a fault-injecting proxy in front of it (fixtures in tests/conftest.py)."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import pytest

from builder.errors import AuthError, RegistryError
from builder.registry.client import RegistryClient
from builder.registry.credentials import Credential
from builder.registry.transport import TLSConfig
from tests.registry_fixtures import Cred, Registry, push_image, start_registry

pytestmark = [
    pytest.mark.integration,
    # tls_verify = false is what these tests ask for; urllib3 warns about it on every such connection.
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),
]

PLAIN = TLSConfig(verify=False)  # a plain-HTTP registry is reached the way podman reaches it: tls_verify = false


def cred(registry: Registry, password: str | None = None) -> Cred:
    return Cred(registry.host, registry.username, password if password is not None else registry.password)


def client(
    registry: Registry | str, credential: Cred | None, tls: TLSConfig = PLAIN, **options: object
) -> RegistryClient:
    host = registry.host if isinstance(registry, Registry) else registry
    options.setdefault("backoff", 0.01)
    options.setdefault("timeout", 10.0)
    return RegistryClient(host, credential, tls, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pushed(registry: Registry, tmp_path_factory: pytest.TempPathFactory):
    return push_image(registry, "imgctl-test/app", "v1", tmp_path_factory.mktemp("push"))


# --------------------------------------------------------------------------------------------------
# check_login


def test_check_login_good_credentials(registry: Registry) -> None:
    with client(registry, cred(registry)) as c:
        assert c.check_login() == "Basic auth accepted"


def test_check_login_with_builder_auth_credential(registry: Registry) -> None:
    credential = Credential(
        registry=registry.host,
        username=registry.username,
        password=registry.password,
        identity_token=None,
        source="test auth.json",
        key=registry.host,
    )
    with client(registry, credential) as c:
        assert c.check_login() == "Basic auth accepted"


def test_check_login_bad_password(registry: Registry) -> None:
    wrong = "wrong-" + secrets.token_hex(8)
    with client(registry, cred(registry, wrong)) as c, pytest.raises(AuthError) as caught:
        c.check_login()
    message = f"{caught.value} {caught.value.hint} {caught.value!r}"
    assert registry.host in message and registry.username in message  # type: ignore[operator]
    assert wrong not in message
    assert caught.value.exit_code == 3


def test_check_login_missing_credentials(registry: Registry) -> None:
    with client(registry, None) as c, pytest.raises(AuthError, match="requires credentials") as caught:
        c.check_login()
    assert registry.host in str(caught.value)


def test_check_login_anonymous(anonymous_registry: Registry) -> None:
    with client(anonymous_registry, None) as c:
        assert c.check_login() == "anonymous access"


# --------------------------------------------------------------------------------------------------
# TLS


def test_tls_unknown_ca_is_refused(tls_registry: Registry) -> None:
    with client(tls_registry, cred(tls_registry), TLSConfig(verify=True)) as c, pytest.raises(RegistryError) as caught:
        c.check_login()
    assert "not trusted" in str(caught.value) and tls_registry.host in str(caught.value)
    hint = caught.value.hint or ""
    assert "cert_dir" in hint and "--cert-dir" in hint and "tls_verify = false" in hint
    assert caught.value.exit_code == 6


def test_tls_accepted_with_cert_dir(tls_registry: Registry) -> None:
    with client(tls_registry, cred(tls_registry), TLSConfig(verify=True, cert_dir=tls_registry.ca_dir)) as c:
        assert c.check_login() == "Basic auth accepted"


def test_tls_accepted_without_verification(tls_registry: Registry) -> None:
    with client(tls_registry, cred(tls_registry), TLSConfig(verify=False)) as c:
        assert c.check_login() == "Basic auth accepted"


def test_tls_bad_password_still_auth_error(tls_registry: Registry) -> None:
    tls = TLSConfig(cert_dir=tls_registry.ca_dir)
    with client(tls_registry, cred(tls_registry, "nope"), tls) as c, pytest.raises(AuthError):
        c.check_login()


def test_plain_registry_with_verification_on_says_no_tls(registry: Registry) -> None:
    with (
        client(registry, cred(registry), TLSConfig(verify=True)) as c,
        pytest.raises(RegistryError, match="does not speak TLS"),
    ):
        c.check_login()


# --------------------------------------------------------------------------------------------------
# manifest_digest


def test_manifest_digest_of_pushed_image(registry: Registry, pushed) -> None:
    with client(registry, cred(registry)) as c:
        assert c.manifest_digest("imgctl-test/app", "v1") == pushed.digest
        # by digest too, and the answer is stable
        assert c.manifest_digest("imgctl-test/app", pushed.digest) == pushed.digest


def test_manifest_digest_missing_tag_and_repository(registry: Registry, pushed) -> None:
    with client(registry, cred(registry)) as c:
        assert c.manifest_digest("imgctl-test/app", "no-such-tag") is None
        assert c.manifest_digest("imgctl-test/no-such-repo", "v1") is None


def test_a_manifest_copied_to_another_tag_keeps_its_digest(registry: Registry, pushed) -> None:
    with client(registry, cred(registry)) as c:
        manifest = c.get_manifest("imgctl-test/app", "v1")
        assert manifest is not None and manifest.digest == pushed.digest
        assert c.put_manifest("imgctl-test/app", "copied", manifest) == pushed.digest
        assert c.manifest_digest("imgctl-test/app", "copied") == pushed.digest
        assert c.get_manifest("imgctl-test/app", "no-such-tag") is None


def test_a_manifest_put_needs_credentials(registry: Registry, pushed) -> None:
    with client(registry, cred(registry)) as c:
        manifest = c.get_manifest("imgctl-test/app", "v1")
    assert manifest is not None
    with client(registry, None) as c, pytest.raises(AuthError):
        c.put_manifest("imgctl-test/app", "anonymous", manifest)


def test_manifest_digest_needs_credentials(registry: Registry, pushed) -> None:
    with client(registry, None) as c, pytest.raises(AuthError):
        c.manifest_digest("imgctl-test/app", "v1")


def test_manifest_digest_over_tls(tls_registry: Registry, tmp_path: Path) -> None:
    image = push_image(tls_registry, "imgctl-test/tls", "v1", tmp_path, content=b"over tls\n")
    with client(tls_registry, cred(tls_registry), TLSConfig(cert_dir=tls_registry.ca_dir)) as c:
        assert c.manifest_digest("imgctl-test/tls", "v1") == image.digest
        assert c.manifest_digest("imgctl-test/tls", "v2") is None


# --------------------------------------------------------------------------------------------------
# Retries and outages


def test_retries_through_transient_failures(registry: Registry, make_proxy, pushed) -> None:
    proxy = make_proxy(registry, fail_first=2, status=503)
    with client(proxy.host, cred(registry), retries=3) as c:
        assert c.check_login() == "Basic auth accepted"
        assert c.manifest_digest("imgctl-test/app", "v1") == pushed.digest
    assert proxy.failures_sent == 2


def test_retries_exhausted_after_exactly_four_attempts(registry: Registry, make_proxy) -> None:
    proxy = make_proxy(registry, fail_first=10, status=503)
    with client(proxy.host, cred(registry), retries=3) as c, pytest.raises(RegistryError) as caught:
        c.check_login()
    assert proxy.failures_sent == 4 and proxy.requests_seen == 4
    assert "after 4 attempts" in str(caught.value) and proxy.host in str(caught.value)
    assert caught.value.exit_code == 6


def test_cut_connection_is_retried(registry: Registry, make_proxy, pushed) -> None:
    proxy = make_proxy(registry, drop_after_bytes=20, drop_times=1)
    with client(proxy.host, cred(registry), retries=2) as c:
        assert c.manifest_digest("imgctl-test/app", "v1") == pushed.digest
    assert proxy.drops == 1


def test_registry_stopped_fails_quickly(tmp_path: Path) -> None:
    outage = start_registry(tmp_path / "outage", auth=False)
    try:
        with client(outage, None, retries=3) as c:
            assert c.check_login() == "anonymous access"
            outage.stop()
            started = time.monotonic()
            with pytest.raises(RegistryError) as caught:
                c.check_login()
            assert time.monotonic() - started < 2
            assert "after 4 attempts" in str(caught.value) and "connection refused" in str(caught.value)
            outage.start()  # back on the same port: the same client recovers
            assert c.check_login() == "anonymous access"
    finally:
        outage.stop()


def test_retries_through_resets_over_tls(tls_registry: Registry, make_proxy) -> None:
    # A TLS connection cannot be answered with an HTTP status: the proxy resets it instead.
    proxy = make_proxy(tls_registry, fail_first=2)
    tls = TLSConfig(cert_dir=tls_registry.ca_dir)
    with client(proxy.host, cred(tls_registry), tls, retries=3) as c:
        assert c.check_login() == "Basic auth accepted"
    assert proxy.failures_sent == 2
