"""A scripted HTTP server in a thread on 127.0.0.1, standing in for a registry in the unit tests: each
request is recorded and answered by a handler function. The `serve` fixture is in conftest.py."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from builder.registry.client import RegistryClient
from builder.registry.transport import TLSConfig
from tests.registry_fixtures import Cred

# --------------------------------------------------------------------------------------------------
# A scripted server


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


Handler = Callable[[Seen], Reply]


class ScriptedServer:
    """An HTTP/1.1 server on loopback whose answers come from `handler(request)`; records every request."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.seen: list[Seen] = []
        lock = threading.Lock()
        outer = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, like a registry

            def log_message(self, *args: object) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                url = urlsplit(self.path)
                seen = Seen(self.command, url.path, parse_qs(url.query), dict(self.headers.items()), body)
                with lock:
                    outer.seen.append(seen)
                reply = outer.handler(seen)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_HEAD = do_POST = do_PUT = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def paths(self) -> list[str]:
        return [f"{s.method} {s.path}" for s in self.seen]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class Sleeps(list):
    """A `sleep` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(server: ScriptedServer, credential: Cred | None = None, **options: object) -> RegistryClient:
    options.setdefault("sleep", Sleeps())
    options.setdefault("timeout", 5.0)
    return RegistryClient(server.host, credential, TLSConfig(verify=False), **options)  # type: ignore[arg-type]


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
