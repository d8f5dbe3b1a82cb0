"""builder.registry.client without a real registry: the auth flows, the retries, secret hygiene and the
reference grammar, against a scripted HTTP server in a thread on 127.0.0.1 (scripted.py)."""

from __future__ import annotations

import base64
import http.client
import json
import logging
import socket
from urllib.parse import parse_qs

import pytest
import requests

from builder.errors import AuthError, ConfigError, Interrupted, RegistryError
from builder.registry.client import MANIFEST_MEDIA_TYPES, Manifest, RegistryClient
from builder.registry.transport import TLSConfig
from builder.retry import Cancellation
from tests.registry_fixtures import Cred, FaultProxy, RequestCounter
from tests.unit.registry.scripted import Handler, Reply, ScriptedServer, Seen, Sleeps, basic_header, client_for

DIGEST = "sha256:" + "ab" * 32


# --------------------------------------------------------------------------------------------------
# Auth flows


def test_anonymous_access(serve) -> None:
    server = serve(lambda r: Reply(200, body=b"{}"))
    with client_for(server) as client:
        assert client.check_login() == "anonymous access"
    assert "Authorization" not in server.seen[0].headers


def test_basic_flow_and_credentials_sent_up_front_afterwards(serve) -> None:
    good = basic_header("alice", "s3cret-pw")

    def handler(r: Seen) -> Reply:
        if r.headers.get("Authorization") != good:
            return Reply(401, {"WWW-Authenticate": 'Basic realm="test"'}, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        if r.path == "/v2/":
            return Reply(200, body=b"{}")
        return Reply(200, {"Docker-Content-Digest": DIGEST})

    server = serve(handler)
    with client_for(server, Cred(server.host, "alice", "s3cret-pw")) as client:
        assert client.check_login() == "Basic auth accepted"
        assert client.manifest_digest("team/app", "v1") == DIGEST
    assert server.paths() == ["GET /v2/", "GET /v2/", "HEAD /v2/team/app/manifests/v1"]
    assert "Authorization" not in server.seen[0].headers
    assert server.seen[2].headers["Authorization"] == good  # no second 401 round trip


def test_manifest_digest_asks_for_every_manifest_type_and_returns_none_on_404(serve) -> None:
    def handler(r: Seen) -> Reply:
        if r.path.endswith("/v1"):
            return Reply(200, {"Docker-Content-Digest": DIGEST})
        return Reply(404, body=b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')

    server = serve(handler)
    with client_for(server) as client:
        assert client.manifest_digest("team/app", "v1") == DIGEST
        assert client.manifest_digest("team/app", "missing") is None
    accept = server.seen[0].headers["Accept"]
    assert all(media_type in accept for media_type in MANIFEST_MEDIA_TYPES)
    assert [s.method for s in server.seen] == ["HEAD", "HEAD"]  # 404 is an answer: never retried


def test_manifest_digest_without_header_hashes_the_body(serve) -> None:
    manifest = b'{"schemaVersion":2}'

    def handler(r: Seen) -> Reply:
        return Reply(200, {"Content-Type": MANIFEST_MEDIA_TYPES[1]}, manifest)

    server = serve(handler)
    with client_for(server) as client:
        import hashlib

        assert client.manifest_digest("team/app", "v1") == "sha256:" + hashlib.sha256(manifest).hexdigest()
    assert [s.method for s in server.seen] == ["HEAD", "GET"]


@pytest.mark.parametrize("repository", ["127.0.0.1:5000/team/app", "Team/App", "team//app", "", "team/app:v1"])
def test_manifest_digest_rejects_bad_repository(serve, repository: str) -> None:
    server = serve(lambda r: Reply(500))
    with client_for(server) as client, pytest.raises(ConfigError):
        client.manifest_digest(repository, "v1")
    assert server.seen == []


def test_bad_tag_and_bad_registry_name() -> None:
    with RegistryClient("127.0.0.1:1", None, TLSConfig()) as client, pytest.raises(ConfigError):
        client.manifest_digest("team/app", "-bad")
    with pytest.raises(ConfigError):
        RegistryClient("https://127.0.0.1:1/v2", None, TLSConfig())


@pytest.mark.parametrize("tag", ["vé", "v１", "ünïcode", "v1\n", "ǅ", "v٣"])
def test_non_ascii_tags_are_refused_by_the_one_grammar(serve, tag: str) -> None:
    # Python's \w and str.isalnum() accept these; distribution's grammar (and builder.oci.refs) does not.
    server = serve(lambda r: Reply(500))
    manifest = Manifest(b"{}", MANIFEST_MEDIA_TYPES[1], "sha256:" + "0" * 64)
    with client_for(server) as client:
        with pytest.raises(ConfigError, match="not a valid tag"):
            client.manifest_digest("team/app", tag)
        with pytest.raises(ConfigError, match="not a valid tag"):
            client.put_manifest("team/app", tag, manifest)
        with pytest.raises(ConfigError, match="not a valid tag"):
            client.get_manifest("team/app", tag)
    assert server.seen == []


@pytest.mark.parametrize("repository", ["tëam/app", "team/ápp", "Team.x/app"])
def test_non_ascii_and_host_like_repository_paths_are_refused(serve, repository: str) -> None:
    server = serve(lambda r: Reply(500))
    with client_for(server) as client, pytest.raises(ConfigError, match="not a valid repository path"):
        client.manifest_digest(repository, "v1")
    assert server.seen == []


def test_get_manifest_checks_the_digest_and_the_type(serve) -> None:
    import hashlib

    body = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}'
    good = "sha256:" + hashlib.sha256(body).hexdigest()
    answers = {
        "/v2/team/app/manifests/good": Reply(
            200, {"Content-Type": MANIFEST_MEDIA_TYPES[1], "Docker-Content-Digest": good}, body
        ),
        "/v2/team/app/manifests/lying": Reply(
            200, {"Content-Type": MANIFEST_MEDIA_TYPES[1], "Docker-Content-Digest": DIGEST}, body
        ),
        "/v2/team/app/manifests/odd": Reply(200, {"Content-Type": "text/html"}, body),
    }
    server = serve(lambda r: answers.get(r.path, Reply(404)))
    with client_for(server) as client:
        manifest = client.get_manifest("team/app", "good")
        assert manifest is not None
        assert (manifest.body, manifest.digest, manifest.media_type) == (body, good, MANIFEST_MEDIA_TYPES[1])
        assert client.get_manifest("team/app", "missing") is None
        with pytest.raises(RegistryError, match="does not match its digest"):
            client.get_manifest("team/app", "lying")
        with pytest.raises(RegistryError, match="unknown type"):
            client.get_manifest("team/app", "odd")


def test_put_manifest_sends_the_bytes_with_their_type(serve) -> None:

    manifest = Manifest(body=b'{"schemaVersion":2}', media_type=MANIFEST_MEDIA_TYPES[3], digest=DIGEST)
    server = serve(lambda r: Reply(201, {"Docker-Content-Digest": DIGEST}) if r.method == "PUT" else Reply(404))
    with client_for(server) as client:
        assert client.put_manifest("team/app", "v2", manifest) == DIGEST
        with pytest.raises(ConfigError):
            client.put_manifest("team/app", "-bad", manifest)
    [put] = server.seen
    assert (put.method, put.path, put.body) == ("PUT", "/v2/team/app/manifests/v2", manifest.body)
    assert put.headers["Content-Type"] == MANIFEST_MEDIA_TYPES[3]


def test_put_manifest_refused_is_a_registry_error(serve) -> None:

    manifest = Manifest(body=b"{}", media_type=MANIFEST_MEDIA_TYPES[1], digest=DIGEST)
    server = serve(lambda r: Reply(405, body=b'{"errors":[{"code":"UNSUPPORTED","message":"read-only"}]}'))
    with client_for(server) as client, pytest.raises(RegistryError, match="405"):
        client.put_manifest("team/app", "v2", manifest)
    assert len(server.seen) == 1  # never retried


class TokenServer:
    """Registry + token server on one scripted server: /token issues tokens, the rest wants them."""

    def __init__(self, serve, *, expires_in: int = 300, password: str = "pw", identity: str | None = None) -> None:
        self.issued: list[str] = []
        self.expires_in = expires_in
        self.password = password
        self.identity = identity
        self.server: ScriptedServer = serve(self.handle)
        self.realm = f"http://{self.server.host}/token"

    def handle(self, r: Seen) -> Reply:
        if r.path == "/token":
            if r.method == "POST":
                form = parse_qs(r.body.decode())
                if form.get("refresh_token") != [self.identity]:
                    return Reply(401)
            elif r.headers.get("Authorization") != basic_header("bob", self.password):
                return Reply(401)
            token = f"tok-{len(self.issued)}-{r.query.get('scope', ['-'])[0]}"
            self.issued.append(token)
            return Reply(
                200,
                {"Content-Type": "application/json"},
                json.dumps({"token": token, "expires_in": self.expires_in}).encode(),
            )
        auth = r.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.issued:
            scope = "" if r.path == "/v2/" else f',scope="repository:{r.path.split("/manifests/")[0][4:]}:pull"'
            return Reply(401, {"WWW-Authenticate": f'Bearer realm="{self.realm}",service="reg.test"{scope}'})
        if r.path == "/v2/":
            return Reply(200, body=b"{}")
        if r.method == "PUT":
            return Reply(201, {"Docker-Content-Digest": DIGEST}) if auth[7:].endswith(":pull,push") else Reply(401)
        return Reply(200, {"Docker-Content-Digest": DIGEST})

    def token_requests(self) -> list[Seen]:
        return [s for s in self.server.seen if s.path == "/token"]


def test_bearer_flow_with_password(serve) -> None:
    tokens = TokenServer(serve)
    now = [1000.0]
    with client_for(tokens.server, Cred(tokens.server.host, "bob", "pw"), clock=lambda: now[0]) as client:
        assert client.check_login() == "bearer token accepted"
        assert client.manifest_digest("team/app", "v1") == DIGEST
        assert client.manifest_digest("team/app", "v2") == DIGEST  # same scope: cached token
    requests_ = tokens.token_requests()
    assert len(requests_) == 2
    first, second = requests_
    assert first.method == "GET" and first.query == {"service": ["reg.test"], "account": ["bob"]}
    assert second.query["scope"] == ["repository:team/app:pull"]
    assert second.headers["Authorization"] == basic_header("bob", "pw")
    # once the realm is known, a new scope gets its token before the request: no extra 401
    assert tokens.server.paths()[-2:] == ["HEAD /v2/team/app/manifests/v1", "HEAD /v2/team/app/manifests/v2"]


def test_a_manifest_put_asks_for_a_push_token(serve) -> None:

    tokens = TokenServer(serve)
    manifest = Manifest(body=b"{}", media_type=MANIFEST_MEDIA_TYPES[1], digest=DIGEST)
    with client_for(tokens.server, Cred(tokens.server.host, "bob", "pw")) as client:
        assert client.manifest_digest("team/app", "v1") == DIGEST
        assert client.put_manifest("team/app", "v2", manifest) == DIGEST
    assert [r.query["scope"] for r in tokens.token_requests()] == [
        ["repository:team/app:pull"],
        ["repository:team/app:pull,push"],
    ]


def test_bearer_token_renewed_after_expiry(serve) -> None:
    tokens = TokenServer(serve, expires_in=60)
    now = [1000.0]
    with client_for(tokens.server, Cred(tokens.server.host, "bob", "pw"), clock=lambda: now[0]) as client:
        client.manifest_digest("team/app", "v1")
        client.manifest_digest("team/app", "v1")
        assert len(tokens.token_requests()) == 1
        now[0] += 59  # inside the renewal margin
        client.manifest_digest("team/app", "v1")
        assert len(tokens.token_requests()) == 2


def test_bearer_with_identity_token_posts_refresh_grant(serve) -> None:
    tokens = TokenServer(serve, identity="id-token-xyz")
    cred = Cred(tokens.server.host, "<token>", None, identity_token="id-token-xyz")
    with client_for(tokens.server, cred) as client:
        assert client.manifest_digest("team/app", "v1") == DIGEST
    (request,) = tokens.token_requests()
    assert request.method == "POST"
    assert parse_qs(request.body.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["id-token-xyz"],
        "client_id": ["imgctl"],
        "service": ["reg.test"],
        "scope": ["repository:team/app:pull"],
    }


def test_anonymous_bearer_token(serve) -> None:
    def handler(r: Seen) -> Reply:
        if r.path == "/token":
            assert "Authorization" not in r.headers
            return Reply(200, body=b'{"access_token": "anon"}')
        if r.headers.get("Authorization") == "Bearer anon":
            return Reply(200, body=b"{}")
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="http://{server.host}/token",service="s"'})

    server = serve(handler)
    with client_for(server) as client:
        assert client.check_login() == "anonymous access"


def test_missing_credentials_is_auth_error(serve) -> None:
    server = serve(lambda r: Reply(401, {"WWW-Authenticate": 'Basic realm="x"'}))
    with client_for(server) as client, pytest.raises(AuthError) as caught:
        client.check_login()
    assert server.host in str(caught.value) and "credentials" in str(caught.value)
    assert caught.value.exit_code == 3
    assert len(server.seen) == 1


def test_forbidden_is_auth_error(serve) -> None:
    server = serve(lambda r: Reply(403, body=b'{"errors":[{"code":"DENIED"}]}'))
    with client_for(server, Cred(server.host, "alice", "pw")) as client, pytest.raises(AuthError) as caught:
        client.manifest_digest("team/app", "v1")
    assert "denied" in str(caught.value) and len(server.seen) == 1


def test_unknown_challenge_is_auth_error(serve) -> None:
    server = serve(lambda r: Reply(401, {"WWW-Authenticate": "Negotiate"}))
    with client_for(server, Cred(server.host, "alice", "pw")) as client, pytest.raises(AuthError, match="negotiate"):
        client.check_login()


def test_unexpected_status_names_registry_errors(serve) -> None:
    server = serve(lambda r: Reply(418, body=b'{"errors":[{"code":"TEAPOT","message":"short and stout"}]}'))
    with client_for(server) as client, pytest.raises(RegistryError) as caught:
        client.check_login()
    assert "418" in str(caught.value) and "TEAPOT: short and stout" in str(caught.value)


# --------------------------------------------------------------------------------------------------
# Secrets


PASSWORD = "pa55-word-NEVER-shown"
TOKEN_SECRET = "bearer-token-NEVER-shown"
IDENTITY_SECRET = "identity-token-NEVER-shown"


def secret_forms(*secrets: str) -> list[str]:
    forms = list(secrets)
    forms += [base64.b64encode(f"bob:{s}".encode()).decode() for s in secrets]
    return forms


def assert_no_secret(text: str, *secrets: str) -> None:
    for form in secret_forms(*secrets):
        assert form not in text


@pytest.fixture
def everything_logged(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """Debug logging on everywhere, and http.client's header dump switched on process-wide."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 1)

    def collected() -> str:
        out = capsys.readouterr()
        return caplog.text + out.out + out.err

    return collected


def test_refused_password_never_shown(serve, everything_logged) -> None:
    server = serve(lambda r: Reply(401, {"WWW-Authenticate": 'Basic realm="x"'}))
    cred = Cred(server.host, "bob", PASSWORD)
    with client_for(server, cred) as client, pytest.raises(AuthError) as caught:
        client.check_login()
    error = caught.value
    assert server.host in str(error) and "bob" in str(error)
    assert server.seen[1].headers["Authorization"] == basic_header("bob", PASSWORD)  # it was sent...
    shown = " ".join([str(error), repr(error), error.hint or "", repr(client), repr(cred), everything_logged()])
    assert_no_secret(shown, PASSWORD)  # ...and never shown


def test_bearer_token_and_identity_token_never_shown(serve, everything_logged) -> None:
    def handler(r: Seen) -> Reply:
        if r.path == "/token":
            return Reply(200, body=json.dumps({"token": TOKEN_SECRET, "expires_in": 300}).encode())
        # the registry refuses every token: the flow must give up with an AuthError
        return Reply(
            401, {"WWW-Authenticate": f'Bearer realm="http://{server.host}/token",service="s",error="invalid_token"'}
        )

    server = serve(handler)
    for cred in (Cred(server.host, "bob", PASSWORD), Cred(server.host, None, None, identity_token=IDENTITY_SECRET)):
        with client_for(server, cred) as client, pytest.raises(AuthError) as caught:
            client.manifest_digest("team/app", "v1")
        assert any(s.headers.get("Authorization") == f"Bearer {TOKEN_SECRET}" for s in server.seen)
        error = caught.value
        shown = " ".join([str(error), repr(error), error.hint or "", repr(client), everything_logged()])
        assert_no_secret(shown, PASSWORD, TOKEN_SECRET, IDENTITY_SECRET)


def test_token_server_failure_never_shows_secrets(serve, everything_logged) -> None:
    def handler(r: Seen) -> Reply:
        if r.path == "/token":
            return Reply(500, body=b"oops")
        return Reply(401, {"WWW-Authenticate": f'Bearer realm="http://{server.host}/token?x=1",service="s"'})

    server = serve(handler)
    with (
        client_for(server, Cred(server.host, "bob", PASSWORD), retries=1) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.check_login()
    assert "500" in str(caught.value)
    assert len([s for s in server.seen if s.path == "/token"]) == 2  # a 5xx token server is retried too
    assert_no_secret(" ".join([str(caught.value), repr(caught.value), everything_logged()]), PASSWORD)


# --------------------------------------------------------------------------------------------------
# Retries


def flaky(failures: int, status: int = 503, headers: dict[str, str] | None = None) -> Handler:
    count = [0]

    def handler(r: Seen) -> Reply:
        count[0] += 1
        if count[0] <= failures:
            return Reply(status, headers or {})
        return Reply(200, body=b"{}")

    return handler


def test_transient_status_is_retried_with_backoff(serve) -> None:
    server = serve(flaky(2))
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps, backoff=0.5, rng=lambda: 0.5) as client:
        assert client.check_login() == "anonymous access"
    assert len(server.seen) == 3
    assert sleeps == [0.25, 0.5]


def test_gives_up_after_retries_plus_one_attempts(serve) -> None:
    server = serve(flaky(100, status=502))
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps, retries=3) as client, pytest.raises(RegistryError) as caught:
        client.check_login()
    assert len(server.seen) == 4 and len(sleeps) == 3
    message = str(caught.value)
    assert server.host in message and "after 4 attempts" in message and "502" in message
    assert caught.value.exit_code == 6


def test_retry_after_is_honoured_when_small(serve) -> None:
    server = serve(flaky(1, status=429, headers={"Retry-After": "2"}))
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps, backoff=0.01) as client:
        client.check_login()
    assert sleeps == [2.0]


def test_long_retry_after_gives_up_at_once(serve) -> None:
    server = serve(flaky(1, status=503, headers={"Retry-After": "3600"}))
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps) as client, pytest.raises(RegistryError, match="retry after 3600 s"):
        client.check_login()
    assert len(server.seen) == 1 and sleeps == []


@pytest.mark.parametrize("status", [401, 403, 404])
def test_never_retried(serve, status: int) -> None:
    server = serve(lambda r: Reply(status, {"WWW-Authenticate": 'Basic realm="x"'} if status == 401 else {}))
    sleeps = Sleeps()
    with client_for(server, sleep=sleeps) as client:
        try:
            client.manifest_digest("team/app", "v1")
        except AuthError:
            pass
    assert len(server.seen) == 1 and sleeps == []


def test_connection_refused_is_retried_then_registry_error() -> None:
    port = _closed_port()
    sleeps = Sleeps()
    client = RegistryClient(f"127.0.0.1:{port}", None, TLSConfig(verify=False), sleep=sleeps, retries=2)
    with client, pytest.raises(RegistryError, match="connection refused") as caught:
        client.check_login()
    assert "after 3 attempts" in str(caught.value) and len(sleeps) == 2


def test_a_silent_server_times_out_within_bounds() -> None:
    # Listening but never answering: the kernel completes the handshake, nobody reads. The bound is proven
    # without a stopwatch (a wall-clock limit flaked on loaded runners): every attempt ends on the configured
    # read timeout, the number of attempts is retries + 1, and the one backoff goes to the fake sleep.
    sleeps = Sleeps()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        client = RegistryClient(
            f"127.0.0.1:{port}", None, TLSConfig(verify=False), timeout=0.2, retries=1, sleep=sleeps
        )
        with client, pytest.raises(RegistryError, match="timed out") as caught:
            client.check_login()
        assert "after 2 attempts" in str(caught.value) and len(sleeps) == 1
        assert isinstance(caught.value.__cause__, requests.exceptions.ReadTimeout)
        assert "read timeout=0.2" in str(caught.value.__cause__)
        # Exactly two connections were made: both wait in the accept queue, a third is not there.
        silent.settimeout(5)
        silent.accept()[0].close()
        silent.accept()[0].close()
        silent.setblocking(False)
        with pytest.raises(BlockingIOError):
            silent.accept()


@pytest.mark.parametrize("interruption", [Interrupted("interrupted"), KeyboardInterrupt()])
def test_ctrl_c_during_a_backoff_ends_the_retries_at_once(serve, interruption: BaseException) -> None:
    server = serve(flaky(99, status=503))

    def sleep(seconds: float) -> None:
        raise interruption

    with client_for(server, sleep=sleep, retries=5) as client, pytest.raises(type(interruption)):
        client.check_login()
    assert len(server.seen) == 1


def test_a_cancelled_client_sends_nothing_more(serve) -> None:
    server = serve(flaky(99, status=503))
    cancel = Cancellation()
    sleeps = Sleeps()

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        cancel.cancel()  # the main thread was interrupted while this worker's client waited

    with client_for(server, sleep=sleep, cancel=cancel, retries=5) as client, pytest.raises(Interrupted):
        client.check_login()
    assert len(server.seen) == 1 and len(sleeps) == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# Scheme and TLS settings


def test_verify_on_against_plain_http_says_no_tls(serve) -> None:
    server = serve(lambda r: Reply(200))
    with RegistryClient(server.host, None, TLSConfig(verify=True)) as client, pytest.raises(RegistryError) as caught:
        client.check_login()
    assert "does not speak TLS" in str(caught.value) and "tls_verify = false" in (caught.value.hint or "")
    assert server.seen == []  # the TLS hello is not an HTTP request


def test_verify_off_falls_back_to_http_once(serve) -> None:
    server = serve(lambda r: Reply(200, {"Docker-Content-Digest": DIGEST}, b"{}"))
    with client_for(server) as client:
        assert client.check_login() == "anonymous access"
        assert client.manifest_digest("team/app", "v1") == DIGEST
    assert len(server.seen) == 2


def test_repr_shows_no_credential() -> None:
    client = RegistryClient("127.0.0.1:1", Cred("127.0.0.1:1", "bob", PASSWORD), TLSConfig())
    assert PASSWORD not in repr(client) and "bob" not in repr(client)
    assert repr(client) == "RegistryClient('127.0.0.1:1', tls_verify=True)"
    client.close()


# --------------------------------------------------------------------------------------------------
# The test proxy itself (tests/registry_fixtures.py)


def test_request_counter_content_length_and_chunked_split_anywhere() -> None:
    stream = (
        b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"
        b"PUT /up HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
        b"PATCH /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        b"HEAD /v2/x HTTP/1.1\r\n\r\n"
    )
    for step in (1, 2, 7, len(stream)):
        counter = RequestCounter()
        for i in range(0, len(stream), step):
            counter.feed(stream[i : i + step])
        assert counter.count == 4 and counter.at_boundary and not counter.broken


def test_fault_proxy_fails_first_requests_then_pipes(serve) -> None:
    server = serve(lambda r: Reply(200, body=b"{}"))
    with FaultProxy(server.host, fail_first=2, status=503) as proxy:
        sleeps = Sleeps()
        with RegistryClient(proxy.host, None, TLSConfig(verify=False), sleep=sleeps, retries=3) as client:
            # verify off: the TLS probe takes one failure (a reset), the plain requests the rest
            assert client.check_login() == "anonymous access"
            assert client.check_login() == "anonymous access"
        assert proxy.failures_sent == 2
    assert len(server.seen) == 2  # failed requests never reach the target


def test_fault_proxy_plain_http_failures_are_http_statuses(serve) -> None:
    server = serve(lambda r: Reply(200, body=b"ok"))
    with FaultProxy(server.host, fail_first=1, status=429) as proxy, requests.Session() as session:
        first = session.get(f"http://{proxy.host}/a", timeout=5)
        second = session.get(f"http://{proxy.host}/b", timeout=5)
        third = session.get(f"http://{proxy.host}/c", timeout=5)  # same piped keep-alive connection
        assert (first.status_code, first.headers["Connection"]) == (429, "close")
        assert (second.status_code, third.status_code) == (200, 200)
        assert proxy.requests_seen == 3 and proxy.failures_sent == 1 and proxy.connections == 2
    assert [s.path for s in server.seen] == ["/b", "/c"]


def test_fault_proxy_drops_large_uploads(serve) -> None:
    server = serve(lambda r: Reply(201))
    with FaultProxy(server.host, drop_after_bytes=10_000, drop_times=1) as proxy:
        payload = b"x" * 100_000
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.put(f"http://{proxy.host}/upload", data=payload, timeout=5)
        assert requests.put(f"http://{proxy.host}/upload", data=payload, timeout=5).status_code == 201
        assert proxy.drops == 1
    assert [len(s.body) for s in server.seen] == [100_000]


def test_fault_proxy_refuses_non_loopback_targets() -> None:
    with pytest.raises(ValueError):
        FaultProxy("10.0.0.1:5000")
