"""Real registries and a fault-injecting proxy for tests; importable by unit and integration tests alike.

`start_registry` runs Debian's `docker-registry` (CNCF distribution 2.8) in the foreground on a free
loopback port, with htpasswd auth (bcrypt, random credentials) and optionally TLS from a CA made here
with the `openssl` CLI. `FaultProxy` sits between a client and a registry and fails or cuts connections
on purpose, to exercise retry paths against the real thing.

Everything binds and connects to 127.0.0.1 only, and every wait has a deadline.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import secrets
import selectors
import shutil
import socket
import ssl
import struct
import subprocess
import tarfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LOOPBACK = "127.0.0.1"
START_DEADLINE = 20.0  # seconds for the registry to answer GET /v2/


@dataclass(frozen=True)
class Cred:
    """Stand-in for builder.registry.credentials.Credential (same fields, same secret-free repr), for the
    registry tests."""

    registry: str
    username: str | None
    password: str | None = field(default=None, repr=False)
    identity_token: str | None = field(default=None, repr=False)
    source: str = "test auth.json"
    key: str | None = None

    def basic_auth(self) -> tuple[str, str] | None:
        if self.username and self.password:
            return (self.username, self.password)
        return None


def unavailable(reason: str) -> None:
    """Skip, or fail in CI: a CI run without the tools must not pass silently."""
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"registry tests need their tools in CI: {reason}")
    pytest.skip(reason)


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        hint = {
            "docker-registry": "apt-get install -y docker-registry",
            "openssl": "apt-get install -y openssl",
            "skopeo": "apt-get install -y skopeo",
        }
        unavailable("; ".join(f"{tool} is not installed ({hint.get(tool, 'install it')})" for tool in missing))


def free_port() -> int:
    """A port the kernel just handed out on loopback (bind to port 0), released for the caller to bind."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------------------------------
# docker-registry


@dataclass
class Registry:
    host: str  # "127.0.0.1:PORT"
    username: str | None
    password: str | None = field(repr=False)
    ca_dir: Path | None  # TLS only: a directory with ca.crt (containers-certs.d layout)
    root: Path  # storage, config, htpasswd, certificates, log
    tls: bool = False
    startup_seconds: float = 0.0  # how long the last start() took until GET /v2/ answered
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    @property
    def config(self) -> Path:
        return self.root / "config.yml"

    @property
    def log_path(self) -> Path:
        return self.root / "registry.log"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start (or restart, on the same port) and wait until GET /v2/ answers."""
        if self.running:
            return
        started = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}  # they override config.yml
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                ["docker-registry", "serve", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        try:
            self._wait_ready(started + START_DEADLINE)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def auth_json(self, path: Path) -> Path:
        """Write a containers-auth.json(5) file with this registry's credentials; returns `path`."""
        auths = {}
        if self.username is not None and self.password is not None:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            auths[self.host] = {"auth": token}
        path.write_text(json.dumps({"auths": auths}))
        path.chmod(0o600)
        return path

    def _wait_ready(self, deadline: float) -> None:
        assert self._process is not None
        port = int(self.host.rsplit(":", 1)[1])
        context = ssl.create_default_context(cafile=str(self.ca_dir / "ca.crt")) if self.tls and self.ca_dir else None
        # Polls are paced by waiting on the process itself: no fixed sleep, and an early exit shows at once.
        while True:
            if _answers(port, context):
                return
            try:
                code = self._process.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
            else:
                raise RuntimeError(f"docker-registry exited with {code}:\n{_tail(self.log_path)}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"docker-registry did not answer GET /v2/ within {START_DEADLINE:.0f} s:\n{_tail(self.log_path)}"
                )


def _answers(port: int, context: ssl.SSLContext | None) -> bool:
    conn: http.client.HTTPConnection
    if context is not None:
        conn = http.client.HTTPSConnection(LOOPBACK, port, timeout=1, context=context)
    else:
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=1)
    try:
        conn.request("GET", "/v2/")
        return conn.getresponse().status in (200, 401)
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _tail(path: Path, limit: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(no log)"


def start_registry(root: Path, *, auth: bool = True, tls: bool = False) -> Registry:
    """Run a registry with storage in `root` on a free loopback port; stop it with `.stop()`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "storage").mkdir(exist_ok=True)
    username = password = None
    auth_yaml = ""
    if auth:
        import bcrypt

        username = f"imgctl-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(18)
        # Cost 4 (bcrypt's minimum): the registry checks the hash on every request, and cost 12 costs
        # ~0.25 s each. These are throwaway test credentials.
        hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{username}:{hashed}\n")
        auth_yaml = f"auth:\n  htpasswd:\n    realm: imgctl-test\n    path: {root / 'htpasswd'}\n"
    ca_dir = None
    tls_yaml = ""
    if tls:
        ca_dir = _make_certificates(root / "tls")
        tls_yaml = f"  tls:\n    certificate: {root / 'tls' / 'server.crt'}\n    key: {root / 'tls' / 'server.key'}\n"

    last_error: Exception | None = None
    # The port is free when we ask, but another process may take it before the registry binds: a
    # couple of fresh ports settle that race.
    for _ in range(3):
        port = free_port()
        (root / "config.yml").write_text(
            "version: 0.1\n"
            "log:\n  level: warn\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {root / 'storage'}\n  delete:\n    enabled: true\n"
            "  maintenance:\n    uploadpurging:\n      enabled: false\n"
            f"http:\n  addr: {LOOPBACK}:{port}\n  secret: {secrets.token_hex(16)}\n{tls_yaml}" + auth_yaml
        )
        registry = Registry(
            host=f"{LOOPBACK}:{port}", username=username, password=password, ca_dir=ca_dir, root=root, tls=tls
        )
        try:
            registry.start()
            return registry
        except RuntimeError as exc:
            last_error = exc
            if "address already in use" not in str(exc):
                raise
    raise RuntimeError(f"no free port for docker-registry: {last_error}")


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {result.stderr[-2000:]}")


def _make_certificates(directory: Path) -> Path:
    """A CA and a server certificate for IP 127.0.0.1 signed by it; returns a certs.d dir with ca.crt."""
    directory.mkdir(parents=True, exist_ok=True)
    # EC keys: generated in milliseconds, where RSA 2048 takes a noticeable part of a second.
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=imgctl test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-addext",
        "subjectKeyIdentifier=hash",
        cwd=directory,
    )
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=directory)
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid,issuer\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
        cwd=directory,
    )
    ca_dir = directory / "certs.d"
    ca_dir.mkdir(exist_ok=True)
    shutil.copy(directory / "ca.crt", ca_dir / "ca.crt")
    return ca_dir


# --------------------------------------------------------------------------------------------------
# Pushing a tiny image without podman


@dataclass(frozen=True)
class PushedImage:
    reference: str  # host/repository:tag
    digest: str  # the manifest digest the registry serves
    manifest: bytes


def write_oci_layout(directory: Path, tag: str, *, content: bytes = b"imgctl test\n") -> bytes:
    """An OCI image layout holding one image (one layer with the file /f); returns the manifest bytes.

    Everything is deterministic (mtime 0, gzip without timestamp), so equal content gives equal digests.
    """
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return f"sha256:{digest}"

    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("f")
        info.size, info.mode, info.mtime = len(content), 0o644, 0
        tar.addfile(info, io.BytesIO(content))
    layer_tar = tar_bytes.getvalue()
    layer_gz = gzip.compress(layer_tar, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": blob(config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": blob(layer_gz),
                    "size": len(layer_gz),
                }
            ],
        },
        sort_keys=True,
    ).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": blob(manifest),
                "size": len(manifest),
                "annotations": {"org.opencontainers.image.ref.name": tag},
            }
        ],
    }
    (directory / "index.json").write_text(json.dumps(index))
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return manifest


def push_image(
    registry: Registry, repository: str, tag: str, workdir: Path, *, content: bytes = b"imgctl test\n"
) -> PushedImage:
    """Push a one-file image to `registry` with `skopeo copy` (no podman, no container storage)."""
    require_tools("skopeo")
    workdir.mkdir(parents=True, exist_ok=True)
    layout = workdir / f"oci-{secrets.token_hex(4)}"
    manifest = write_oci_layout(layout, tag, content=content)
    policy = workdir / "policy.json"
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    authfile = registry.auth_json(workdir / "auth.json")
    digestfile = workdir / "digest"
    tls_args = [f"--dest-cert-dir={registry.ca_dir}"] if registry.tls else ["--dest-tls-verify=false"]
    env = {k: v for k, v in os.environ.items() if k != "REGISTRY_AUTH_FILE"}
    env["XDG_RUNTIME_DIR"] = str(workdir)  # keep the developer's own auth.json out of it
    reference = f"{registry.host}/{repository}:{tag}"
    result = subprocess.run(
        [
            "skopeo",
            f"--policy={policy}",
            "copy",
            "--quiet",
            "--preserve-digests",
            f"--dest-authfile={authfile}",
            *tls_args,
            f"--digestfile={digestfile}",
            f"oci:{layout}:{tag}",
            f"docker://{reference}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"skopeo copy to {reference} failed: {result.stderr[-2000:]}")
    digest = digestfile.read_text().strip()
    expected = f"sha256:{hashlib.sha256(manifest).hexdigest()}"
    if digest != expected:
        raise RuntimeError(f"skopeo pushed {digest}, expected {expected}: the manifest was rewritten")
    return PushedImage(reference=reference, digest=digest, manifest=manifest)


# --------------------------------------------------------------------------------------------------
# FaultProxy


class RequestCounter:
    """Counts HTTP/1.1 requests in a client->server byte stream (Content-Length and chunked bodies).

    Fed incrementally; if the stream stops looking like HTTP it stops counting instead of guessing.
    """

    MAX_HEAD = 64 << 10

    def __init__(self) -> None:
        self.count = 0
        self.broken = False
        self._state = "head"
        self._buffer = b""
        self._remaining = 0

    @property
    def at_boundary(self) -> bool:
        """True between requests: everything fed so far formed whole requests."""
        return self._state == "head" and not self._buffer

    def feed(self, data: bytes) -> int:
        """Consume `data`; returns how many request heads it completed."""
        before = self.count
        # Each round consumes bytes or returns for more: bounded by len(data).
        while data and not self.broken:
            if self._state in ("body", "chunk-data"):
                used = min(self._remaining, len(data))
                self._remaining -= used
                data = data[used:]
                if self._remaining == 0:
                    self._state = "head" if self._state == "body" else "chunk-size"
                continue
            self._buffer += data
            data = b""
            if self._state == "head":
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    self.broken = len(self._buffer) > self.MAX_HEAD
                    continue
                head, data = self._buffer[:end], self._buffer[end + 4 :]
                self._buffer = b""
                self._start_body(head)
            elif self._state == "chunk-size":
                end = self._buffer.find(b"\r\n")
                if end < 0:
                    self.broken = len(self._buffer) > 1024
                    continue
                line, data = self._buffer[:end], self._buffer[end + 2 :]
                self._buffer = b""
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.broken = True
                    continue
                self._state, self._remaining = ("trailer", 0) if size == 0 else ("chunk-data", size + 2)
            elif self._state == "trailer":
                if self._buffer.startswith(b"\r\n"):
                    data, self._buffer, self._state = self._buffer[2:], b"", "head"
                    continue
                end = self._buffer.find(b"\r\n\r\n")
                if end < 0:
                    self.broken = len(self._buffer) > self.MAX_HEAD
                    continue
                data, self._buffer, self._state = self._buffer[end + 4 :], b"", "head"
        return self.count - before

    def _start_body(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        if not lines[0] or b" " not in lines[0]:
            self.broken = True
            return
        self.count += 1
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
            self._state = "chunk-size"
        elif (length := headers.get(b"content-length", b"0")).isdigit() and int(length) > 0:
            self._state, self._remaining = "body", int(length)
        else:
            self._state = "head"


def _method_of(head: bytes) -> bytes:
    return head.split(b" ", 1)[0].upper()


class FaultProxy:
    """A TCP proxy on a free loopback port in front of `target`, failing on purpose.

    - `fail_first=N`: the first N HTTP requests get `status` (with `Connection: close`) and never reach the
      target. A TLS connection cannot be answered in HTTP, so while failures remain a TLS connection is
      counted as one failed request and reset instead (a transient "connection reset"), unless
      `fail_tls=False`: then TLS connections pass through untouched and only plain HTTP requests fail (a
      client probing https first, as imgctl does with tls_verify = false, then meets the HTTP status).
    - `drop_after_bytes=B`: a connection whose client->server bytes exceed B is cut (RST to the client,
      and to the target) after forwarding B bytes; at most `drop_times` connections are cut.

    `requests_seen` counts HTTP requests in plain connections (failed and piped, keep-alive ones included)
    plus one per TLS connection. Counters are safe to read from the test thread at any time.
    """

    def __init__(
        self,
        target: str,
        *,
        fail_first: int = 0,
        status: int = 503,
        drop_after_bytes: int | None = None,
        drop_times: int = 1,
        idle_timeout: float = 30.0,
        fail_tls: bool = True,
    ) -> None:
        host, _, port = target.rpartition(":")
        if host not in (LOOPBACK, "localhost"):
            raise ValueError(f"FaultProxy only forwards to loopback, not {target!r}")
        self.target = (LOOPBACK, int(port))
        self.fail_first = fail_first
        self.status = status
        self.drop_after_bytes = drop_after_bytes
        self.drop_times = drop_times
        self.idle_timeout = idle_timeout
        self.fail_tls = fail_tls
        self.requests_seen = 0
        self.failures_sent = 0
        self.drops = 0
        self.connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((LOOPBACK, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.2)  # how often the accept loop looks at the stop flag
        self.host = f"{LOOPBACK}:{self._listener.getsockname()[1]}"
        self._acceptor: threading.Thread | None = None

    def __repr__(self) -> str:
        return (
            f"FaultProxy({self.host} -> {self.target[0]}:{self.target[1]}, seen={self.requests_seen}, "
            f"failed={self.failures_sent}, drops={self.drops})"
        )

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        if self._acceptor is None:
            self._acceptor = threading.Thread(target=self._accept_loop, name=f"FaultProxy-{self.host}", daemon=True)
            self._acceptor.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
        self._listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    # ---- internals -------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _take_failure(self) -> bool:
        with self._lock:
            if self.failures_sent < self.fail_first:
                self.failures_sent += 1
                return True
            return False

    def _count(self, n: int) -> None:
        if n:
            with self._lock:
                self.requests_seen += n

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            client.settimeout(self.idle_timeout)
            first = self._read_first(client)
            if not first:
                return
            counter: RequestCounter | None = None
            if first[0] == 0x16:  # a TLS handshake record: opaque to us
                self._count(1)
                if self.fail_tls and self._take_failure():
                    _reset(client)
                    return
            else:
                counter = RequestCounter()
                self._count(counter.feed(first))
                if counter.count and self._take_failure():
                    self._answer_failure(client, counter, first)
                    return
            upstream = socket.create_connection(self.target, timeout=self.idle_timeout)
            self._pipe(client, upstream, first, counter)
        except OSError:
            pass  # a test proxy: a broken connection just ends
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    try:
                        sock.close()
                    except OSError:
                        pass

    def _read_first(self, client: socket.socket) -> bytes:
        """The first request head (or the first bytes of a TLS handshake)."""
        data = b""
        deadline = time.monotonic() + self.idle_timeout
        client.settimeout(0.2)  # short waits, so that stop() is noticed
        try:
            while b"\r\n\r\n" not in data and len(data) < RequestCounter.MAX_HEAD and time.monotonic() < deadline:
                if self._stopping.is_set():
                    return b""
                try:
                    chunk = client.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                data += chunk
                if data[0] == 0x16:
                    break
        finally:
            client.settimeout(self.idle_timeout)
        return data

    def _answer_failure(self, client: socket.socket, counter: RequestCounter, first: bytes) -> None:
        # Read the rest of the request first: closing with unread data sends a RST, and the client might
        # see "connection reset" instead of our status.
        deadline = time.monotonic() + self.idle_timeout
        received = len(first)
        while not counter.at_boundary and not counter.broken and received < (256 << 20) and time.monotonic() < deadline:
            chunk = client.recv(65536)
            if not chunk:
                break
            received += len(chunk)
            counter.feed(chunk)  # the rest of a failed request: no new heads counted (Connection: close)
        reason = http.client.responses.get(self.status, "Error")
        body = f"{self.status} {reason} (FaultProxy)\n".encode()
        head = (
            f"HTTP/1.1 {self.status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        client.sendall(head if _method_of(first) == b"HEAD" else head + body)
        client.shutdown(socket.SHUT_WR)

    def _pipe(
        self, client: socket.socket, upstream: socket.socket, first: bytes, counter: RequestCounter | None
    ) -> None:
        sent_up = 0
        may_drop = self.drop_after_bytes is not None

        def forward_up(data: bytes) -> bool:
            """Send client bytes upstream; False when the connection was cut."""
            nonlocal sent_up, may_drop
            if may_drop and self.drop_after_bytes is not None and sent_up + len(data) > self.drop_after_bytes:
                with self._lock:
                    cut = self.drops < self.drop_times
                    if cut:
                        self.drops += 1
                if cut:
                    keep = self.drop_after_bytes - sent_up
                    if keep > 0:
                        upstream.sendall(data[:keep])
                    # Both sides see a reset, as with a network cut: the registry must not take the
                    # truncated body for a complete one.
                    _reset(client)
                    _reset(upstream)
                    return False
                may_drop = False  # this connection is spared: later ones may still be cut
            upstream.sendall(data)
            sent_up += len(data)
            return True

        if not forward_up(first):
            return
        selector = selectors.DefaultSelector()
        try:
            selector.register(client, selectors.EVENT_READ, "up")
            selector.register(upstream, selectors.EVENT_READ, "down")
            open_sides = 2
            last_activity = time.monotonic()
            # Bounded by the idle timeout and the stop flag.
            while open_sides and not self._stopping.is_set():
                events = selector.select(timeout=0.2)
                if not events:
                    if time.monotonic() - last_activity > self.idle_timeout:
                        return
                    continue
                last_activity = time.monotonic()
                for key, _ in events:
                    sock: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = sock.recv(65536)
                    if key.data == "up":
                        if not data:
                            selector.unregister(client)
                            open_sides -= 1
                            _shutdown_write(upstream)
                            continue
                        if counter is not None:
                            self._count(counter.feed(data))
                        if not forward_up(data):
                            return
                    else:
                        if not data:
                            return  # nothing can answer the client any more: close both sides
                        client.sendall(data)
        finally:
            selector.close()


def _reset(sock: socket.socket) -> None:
    """Close with a RST, like a network cut, rather than an orderly FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def _shutdown_write(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
