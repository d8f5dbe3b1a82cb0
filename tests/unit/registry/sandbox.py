"""A private HOME, XDG_RUNTIME_DIR and PATH for the credential tests, with real auth files and real
credential helper programs; and the secrets that must never show. The `box` fixture is in conftest.py."""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from builder.registry.credentials import Lookup, lookup

ROOT = Path(__file__).resolve().parents[3]
REF = "127.0.0.1:5000/team/sub/api"
HOST = "127.0.0.1:5000"

# Distinctive secrets: none of these (nor the base64 `auth` values that carry them) may show up anywhere.
PASSWORD = "pw-SECRET-xyzzy-4711"
TOKEN = "tok-SECRET-plugh-0815"
HELPER_SECRET = "helper-SECRET-frobozz-42"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def entry(user: str, password: str = PASSWORD, **extra: str) -> dict[str, str]:
    return {"auth": b64(f"{user}:{password}"), **extra}


def secrets() -> list[str]:
    """Every string that must never leak, including base64 forms of what the files hold."""
    values = [PASSWORD, TOKEN, HELPER_SECRET]
    for user in ("runtime", "config", "docker", "legacy", "explicit", "u", "user", "alice", "bob", "a", "b"):
        values.append(b64(f"{user}:{PASSWORD}"))
    values.append(b64(f"nocolon{PASSWORD}"))
    return values


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]

    @property
    def home(self) -> Path:
        return Path(self.env["HOME"])

    @property
    def runtime_file(self) -> Path:
        return Path(self.env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json"

    @property
    def config_file(self) -> Path:
        return self.home / ".config" / "containers" / "auth.json"

    @property
    def docker_file(self) -> Path:
        return self.home / ".docker" / "config.json"

    @property
    def legacy_file(self) -> Path:
        return self.home / ".dockercfg"

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def write(self, path: Path, content: object, mode: int = 0o600) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2))
        path.chmod(mode)
        return path

    def helper(self, name: str, *, stdout: str = "", stderr: str = "", code: int = 0, sleep: float = 0) -> Path:
        """A real docker-credential-NAME program that logs its argv and stdin to NAME.log."""
        log = self.root / f"{name}.log"
        script = self.bin / f"docker-credential-{name}"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(
            f"#!{sys.executable}\n"
            "import sys, time\n"
            "data = sys.stdin.read()\n"
            f"with open({str(log)!r}, 'a') as f: f.write(repr((sys.argv[1:], data)) + '\\n')\n"
            f"time.sleep({sleep!r})\n"
            f"sys.stdout.write({stdout!r})\n"
            f"sys.stderr.write({stderr!r})\n"
            f"sys.exit({code!r})\n"
        )
        script.chmod(0o755)
        return log

    def calls(self, name: str) -> list[tuple[list[str], str]]:
        log = self.root / f"{name}.log"
        if not log.exists():
            return []
        import ast

        return [ast.literal_eval(line) for line in log.read_text().splitlines()]

    def lookup(self, reference: str = REF, **kwargs: object) -> Lookup:
        return lookup(reference, env=self.env, uid=4242, **kwargs)  # type: ignore[arg-type]


def helper_answer(user: str, secret: str = HELPER_SECRET) -> str:
    return json.dumps({"ServerURL": HOST, "Username": user, "Secret": secret})
