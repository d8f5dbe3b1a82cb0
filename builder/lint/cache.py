"""hadolint's findings for a Containerfile it has already seen, so that `imgctl build` of an unchanged
Containerfile lints without starting hadolint.

hadolint's answer depends only on the bytes, the configuration imgctl hands it (its own files and variables
are shut out) and the binary; the key is a digest of all three (the binary by path, size and mtime), so a
changed byte, setting or hadolint version misses. Under $XDG_CACHE_HOME/imgctl/lint, the most recent
`KEEP` entries; an unusable cache is no cache (never an error). `imgctl lint` itself always runs hadolint.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from builder.findings.model import HADOLINT, LEVELS, Finding

log = logging.getLogger("imgctl.lint")
KEEP = 200
_VERSION = 1


@dataclass(frozen=True)
class LintCache:
    directory: Path | None  # None: no cache

    @classmethod
    def open(cls, env: Mapping[str, str]) -> LintCache:
        from builder.inputs.cachefiles import cache_dir

        root = cache_dir(env)
        return cls(root / "lint" if root is not None else None)

    @staticmethod
    def key(binary: Path, config: str, data: bytes) -> str | None:
        try:
            stat = binary.stat()
        except OSError:
            return None
        digest = hashlib.sha256(f"{_VERSION}\0{binary}\0{stat.st_size}\0{stat.st_mtime_ns}\0{config}\0".encode())
        digest.update(data)
        return digest.hexdigest()

    def get(self, key: str | None, file: str) -> tuple[Finding, ...] | None:
        """The findings stored under `key`, named for `file`; None when there are none (or they are unusable)."""
        if self.directory is None or key is None:
            return None
        try:
            records = json.loads((self.directory / key).read_bytes())
            return tuple(Finding(code=r["code"], level=r["level"], message=r["message"], file=file, line=r["line"],
                                 column=r["column"], hint=r["hint"], source=HADOLINT)
                         for r in records if r["level"] in LEVELS)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: str | None, findings: tuple[Finding, ...]) -> None:
        if self.directory is None or key is None:
            return
        from builder.inputs.cachefiles import prune, write_private

        records = [{"code": f.code, "level": f.level, "message": f.message, "line": f.line, "column": f.column,
                    "hint": f.hint} for f in findings]
        if write_private(self.directory, self.directory / key, json.dumps(records).encode()):
            prune(self.directory, keep=KEEP)
