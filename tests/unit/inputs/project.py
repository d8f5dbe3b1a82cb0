"""A project on disk with one profile, as the builder.inputs tests use it (real files, a real cache)."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from hypothesis import strategies as st

from builder.build.plan import BuildPlan, plan_build
from builder.build.prepare import snapshot
from builder.config.profile import load_profile
from builder.inputs.detail import encode
from builder.inputs.digest import Inputs, compute
from builder.inputs.hashcache import HashCache
from builder.inputs.record import Recorded, decode_label, fold
from builder.oci.labels import COMPONENTS_LABEL, DIGEST_LABEL, Provenance

# What a script run in another process (`python -c`) imports to plan a build and compute its inputs.
PLAN_SCRIPT_IMPORTS = (
    "from builder.inputs.digest import compute\n"
    "from builder.inputs.hashcache import HashCache\n"
    "from builder.build.plan import plan_build\n"
    "from builder.oci.labels import Provenance\n"
    "from builder.config.profile import load_profile\n"
    "from builder.build.prepare import snapshot\n"
    "from datetime import datetime, timezone\n"
    "from pathlib import Path\n"
)
NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)
BASE = "registry.example.com/ubi9:9.4"
BASES = {BASE: "sha256:" + "ab" * 32}
OLD = time.time() - 86400  # older than the cache's racy window, so that files get cached

PROFILE = """\
image = "team/api"
context = "ctx"
containerfile = "build/Containerfile"
[build_args]
VERSION = "1"
[labels]
x = "y"
[secrets]
npmrc = "secrets/npmrc"
"""

FILES = {
    "build/Containerfile": b"FROM registry.example.com/ubi9:9.4\nCOPY . /app\n",
    "secrets/npmrc": b"//registry.npmjs.org/:_authToken=s3cr3t\n",
    "ctx/README": b"hello\n",
    "ctx/src/app.py": b"print('app')\n",
    "ctx/src/util.py": b"def f():\n    return 1\n",
}


def age(path: Path, when: float = OLD) -> None:
    os.utime(path, (when, when), follow_symlinks=False)


def write(path: Path, data: bytes, when: float | None = OLD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if when is not None:
        age(path, when)
    return path


def legacy_label(components: Mapping[str, str], depth: int | None = None) -> dict[str, str]:
    """The labels an imgctl that still put the components on the image gave these inputs, folded at `depth`."""
    shown = fold(components, depth) if depth is not None else components
    return {DIGEST_LABEL: Inputs.of(components).digest, COMPONENTS_LABEL: encode(shown)}


class Project:
    """A project on disk with one profile, built into plans the way `builder.build.prepare.plan` does."""

    def __init__(self, root: Path, cache_home: Path, *, create: bool = True) -> None:
        self.root = root
        self.ctx = root / "ctx"
        self.cache_home = cache_home
        self.profile_text = PROFILE
        if create:
            for name, data in FILES.items():
                write(root / name, data)
            (self.ctx / "src" / "link").symlink_to("app.py")

    @property
    def env(self) -> dict[str, str]:
        return {"XDG_CACHE_HOME": str(self.cache_home)}

    def plan(self, extra_toml: str = "", provenance: Provenance | None = None) -> BuildPlan:
        (self.root / "profiles").mkdir(exist_ok=True)
        # Top-level keys before the tables.
        (self.root / "profiles" / "p.toml").write_text(extra_toml + self.profile_text)
        profile = load_profile(self.root / "profiles", "p", env={}, now=NOW)
        # A random nonce, as in real runs: the injected member names differ every time.
        return plan_build(profile, snapshot(profile), provenance or Provenance(created=NOW, revision="abc"))

    def cache(self) -> HashCache:
        return HashCache.open(self.env)

    def compute(self, extra_toml: str = "", bases: dict[str, str | None] | None = None,
                cache: HashCache | None = None, provenance: Provenance | None = None) -> Inputs:
        cache = cache or self.cache()
        result = compute(self.plan(extra_toml, provenance), BASES if bases is None else bases, cache)
        cache.save()
        return result

    def built(self, inputs: Inputs) -> dict[str, str]:
        """What a build with `inputs` leaves: its detail in this machine's cache; returns the image's labels."""
        cache = self.cache()
        cache.remember(inputs)
        cache.save()
        return inputs.to_label()

    def recorded(self, labels: Mapping[str, str]) -> Recorded | None:
        """What a later run, in a new process, reads back for an image with these labels."""
        return decode_label(labels, self.cache())

    def shard_files(self) -> list[Path]:
        return sorted((self.cache_home / "imgctl" / "file-hashes").glob("*.json"))

    def walk_files(self) -> list[Path]:
        return sorted((self.cache_home / "imgctl" / "context-digests").glob("*.json"))

    def detail_files(self) -> list[Path]:
        return sorted((self.cache_home / "imgctl" / "inputs").glob("*.json.gz"))

    def forget_walks(self) -> None:
        """Drop the remembered context digests, so that the next compute looks up every file."""
        for file in self.walk_files():
            file.unlink()


_names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
components_strategy = st.dictionaries(
    st.one_of(*(_names.map(lambda n, kind=kind: f"{kind}:{n}") for kind in ("file", "label", "build_arg"))),
    st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest()),
    max_size=30,
)


def file_count(project: Project) -> int:
    return sum(1 for path in project.ctx.rglob("*") if path.is_file() and not path.is_symlink())
