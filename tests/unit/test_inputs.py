"""builder.inputs: input digests over real files, the hash cache, the label encoding and --explain."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import builder.inputs as inputs_module
from builder.errors import ConfigError
from builder.inputs import COMPONENTS_LABEL, DIGEST_LABEL, HashCache, Inputs, compute, decode_label, explain
from builder.build.plan import BuildPlan, Provenance, plan_build
from builder.profiles import load_profile
from builder.project import snapshot

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


class Project:
    """A project on disk with one profile, built into plans the way `builder.project.plan` does."""

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
        (self.root / "profiles" / "p.toml").write_text(extra_toml + self.profile_text)  # top-level keys before the tables
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

    def shard_files(self) -> list[Path]:
        return sorted((self.cache_home / "imgctl" / "file-hashes").glob("*.json"))

    def walk_files(self) -> list[Path]:
        return sorted((self.cache_home / "imgctl" / "context-digests").glob("*.json"))

    def forget_walks(self) -> None:
        """Drop the remembered context digests, so that the next compute looks up every file."""
        for file in self.walk_files():
            file.unlink()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "proj", tmp_path / "cache")


def file_count(project: Project) -> int:
    return sum(1 for path in project.ctx.rglob("*") if path.is_file() and not path.is_symlink())


# ------------------------------------------------------------------------------------------- stability


def test_components_name_every_input(project: Project) -> None:
    result = project.compute()
    assert result.digest.startswith("sha256:") and len(result.digest) == 71
    assert set(result.components) == {
        "containerfile", "file:README", "dir:src", "file:src/app.py", "file:src/link", "file:src/util.py",
        "build_arg:VERSION", "target", "platform", "isolation", "param:layers", "param:outputformat",
        "label:x", "label:org.opencontainers.image.title", "label:org.opencontainers.image.revision",
        f"base:{BASE}", "secret:npmrc",
    }
    assert result.components[f"base:{BASE}"] == BASES[BASE]
    assert result.complete


def test_unchanged_inputs_give_the_same_digest_across_caches_and_processes(project: Project, tmp_path: Path) -> None:
    first = project.compute()
    second = project.compute()  # warm cache
    other = compute(project.plan(), BASES, HashCache(None))  # no cache at all
    assert first == second == other
    script = (
        "import sys\n"
        "from builder.inputs import HashCache, compute\n"
        "from builder.build.plan import Provenance, plan_build\n"
        "from builder.profiles import load_profile\n"
        "from builder.project import snapshot\n"
        "from datetime import datetime, timezone\n"
        "from pathlib import Path\n"
        "now = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)\n"
        "profile = load_profile(Path(sys.argv[1]) / 'profiles', 'p', env={}, now=now)\n"
        "plan = plan_build(profile, snapshot(profile), Provenance(created=now, revision='abc'))\n"
        f"print(compute(plan, {BASES!r}, HashCache.open({{'XDG_CACHE_HOME': sys.argv[2]}})).digest)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", script, str(project.root), str(tmp_path / "other-cache")],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == first.digest


def test_the_digest_does_not_depend_on_the_context_location(project: Project, tmp_path: Path) -> None:
    first = project.compute()
    moved = tmp_path / "elsewhere"
    project.root.rename(moved)
    assert Project(moved, tmp_path / "another-cache", create=False).compute().digest == first.digest


@pytest.mark.parametrize("change", ["touch", "created", "no_cache", "pull", "secret content", "nonce"])
def test_what_is_not_an_input(project: Project, change: str) -> None:
    before = project.compute()
    toml, provenance = "", None
    if change == "touch":
        age(project.ctx / "src" / "app.py", time.time())
    elif change == "created":
        provenance = Provenance(created=datetime(2030, 1, 1, tzinfo=timezone.utc), revision="abc")
    elif change == "no_cache":
        toml = "no_cache = true\n"
    elif change == "pull":
        toml = 'pull = "always"\n'
    elif change == "secret content":
        write(project.root / "secrets" / "npmrc", b"another token, another length\n")
    after = project.compute(toml, provenance=provenance)
    assert after.digest == before.digest
    assert explain(before.components, after) == ["the inputs did not change"]


def test_a_touched_file_is_hashed_again_but_changes_nothing(project: Project) -> None:
    before = project.compute()
    age(project.ctx / "src" / "app.py", OLD + 5)
    cache = project.cache()
    assert project.compute(cache=cache).digest == before.digest
    assert (cache.hits, cache.misses) == (file_count(project) - 1, 1)
    assert cache.bytes_read == len(FILES["ctx/src/app.py"])


def test_new_content_under_a_restored_mtime_is_still_seen(project: Project) -> None:
    before = project.compute()
    app = project.ctx / "src" / "app.py"
    write(app, b"print('bad')\n")  # same size, same mtime as before: only ctime tells
    assert app.stat().st_size == len(FILES["ctx/src/app.py"])
    after = project.compute()
    assert after.digest != before.digest
    assert explain(before.components, after) == ["src/app.py changed"]


# ------------------------------------------------------------------------------------- each input in turn


def _set_build_arg(project: Project) -> str:
    project.profile_text = project.profile_text.replace('VERSION = "1"', 'VERSION = "2"')
    return ""


def _retarget_link(project: Project) -> str:
    (project.ctx / "src" / "link").unlink()
    (project.ctx / "src" / "link").symlink_to("util.py")
    return ""


def _file_to_dir(project: Project) -> str:
    (project.ctx / "README").unlink()
    (project.ctx / "README").mkdir()
    return ""


CHANGES = {
    "file content": (lambda p: write(p.ctx / "src" / "app.py", b"print('changed')\n") and "",
                     ["src/app.py changed"]),
    "file added": (lambda p: write(p.ctx / "src" / "new.py", b"") and "", ["src/new.py was added"]),
    "file removed": (lambda p: (p.ctx / "src" / "util.py").unlink() or "", ["src/util.py was removed"]),
    "file mode": (lambda p: (p.ctx / "src" / "app.py").chmod(0o755) or "", ["src/app.py changed"]),
    "directory mode": (lambda p: (p.ctx / "src").chmod(0o700) or "", ["directory src changed its permissions"]),
    "directory added": (lambda p: (p.ctx / "empty").mkdir() or "", ["directory empty was added"]),
    "file to directory": (_file_to_dir, ["README changed from a file to a directory"]),
    "symlink target": (_retarget_link, ["src/link changed"]),
    "Containerfile": (lambda p: write(p.root / "build" / "Containerfile", b"FROM scratch\n") and "",
                      ["the Containerfile changed"]),
    "build arg": (_set_build_arg, ["build arg VERSION changed"]),
    "build arg added": (lambda p: setattr(p, "profile_text", p.profile_text.replace('VERSION = "1"', 'VERSION = "1"\nEXTRA = "x"')) or "",
                        ["build arg EXTRA was added"]),
    "target": (lambda p: 'target = "runtime"\n', ["the target changed"]),
    "platform": (lambda p: 'platform = "linux/arm64"\n', ["the platform changed"]),
    "isolation": (lambda p: 'isolation = "chroot"\n', ["the isolation changed"]),
    "label": (lambda p: setattr(p, "profile_text", p.profile_text.replace('x = "y"', 'x = "z"')) or "",
              ["label x changed"]),
    "label added": (lambda p: setattr(p, "profile_text", p.profile_text.replace('x = "y"', 'x = "y"\nw = "v"')) or "",
                    ["label w was added"]),
    "secret id added": (lambda p: (write(p.root / "secrets" / "token", b"t") and
                                   setattr(p, "profile_text", p.profile_text + 'token = "secrets/token"\n')) or "",
                        ["secret token was added"]),
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_each_input_changes_the_digest_and_is_named(project: Project, change: str) -> None:
    before = project.compute()
    mutate, expected = CHANGES[change]
    toml = mutate(project)
    after = project.compute(toml)
    assert after.digest != before.digest
    assert explain(before.components, after) == expected
    # The same reasons from what the earlier image's labels record.
    assert explain(decode_label(before.to_label()), after) == expected


def test_a_base_image_that_moved(project: Project) -> None:
    before = project.compute()
    after = project.compute(bases={BASE: "sha256:" + "cd" * 32})
    assert after.digest != before.digest
    expected = [f"base image {BASE} moved (sha256:abababababab.. -> sha256:cdcdcdcdcdcd..)"]
    assert explain(before.components, after) == expected
    assert explain(decode_label(before.to_label()), after) == expected
    added = project.compute(bases={**BASES, "docker.io/library/golang:1.22": "sha256:" + "ef" * 32})
    assert explain(before.components, added) == ["base image docker.io/library/golang:1.22 was added"]


def test_the_revision_label_is_an_input(project: Project) -> None:
    before = project.compute()
    after = project.compute(provenance=Provenance(created=NOW, revision="def"))
    assert explain(before.components, after) == ["label org.opencontainers.image.revision changed"]


def test_an_unknown_base_never_matches_and_says_so(project: Project) -> None:
    before = project.compute()
    unknown = project.compute(bases={BASE: None})
    assert not unknown.complete and unknown.unknown_bases == (BASE,)
    assert unknown.components[f"base:{BASE}"] == "unknown"
    labels = unknown.to_label()
    assert DIGEST_LABEL not in labels and COMPONENTS_LABEL in labels
    reason = [f"the digest of base image {BASE} is unknown (it is not present locally)"]
    assert explain(before.components, unknown) == reason
    assert explain(decode_label(labels), unknown) == reason  # still not "did not change"


def test_a_containerfile_inside_the_context_is_also_a_context_file(project: Project) -> None:
    project.profile_text = project.profile_text.replace('containerfile = "build/Containerfile"\n', "")
    write(project.ctx / "Containerfile", b"FROM scratch\n")
    before = project.compute()
    write(project.ctx / "Containerfile", b"FROM scratch\nRUN true\n")
    after = project.compute()
    assert explain(before.components, after) == ["the Containerfile changed", "Containerfile changed"]


def test_extra_members_are_keyed_by_role_not_by_their_random_name(project: Project) -> None:
    plan = project.plan()
    one = {**plan.extra, ".imgctl-0a1b.cert.pem": b"cert"}
    two = {**plan.extra, ".imgctl-ffee.cert.pem": b"cert"}
    other = {**plan.extra, ".imgctl-ffee.cert.pem": b"CERT"}
    digests = [compute(BuildPlan(**{**plan.__dict__, "extra": extra}), BASES, HashCache(None)) for extra in (one, two, other)]
    assert "extra:cert.pem" in digests[0].components
    assert digests[0].digest == digests[1].digest != digests[2].digest
    assert explain(digests[1].components, digests[2]) == ["extra build-context file cert.pem changed"]


def test_a_file_that_vanished_since_the_scan_is_a_config_error(project: Project) -> None:
    plan = project.plan()
    (project.ctx / "src" / "util.py").unlink()
    with pytest.raises(ConfigError, match="src/util.py changed while imgctl was reading"):
        compute(plan, BASES, HashCache(None))


def test_a_file_that_grew_since_the_scan_is_a_config_error(project: Project) -> None:
    plan = project.plan()
    write(project.ctx / "src" / "util.py", b"much longer than it was when scanned\n")
    with pytest.raises(ConfigError, match="src/util.py changed"):
        compute(plan, BASES, HashCache(None))


def test_undecodable_file_names_are_inputs_like_any_other(project: Project) -> None:
    name = os.fsdecode(b"caf\xe9.txt")  # Latin-1, not UTF-8
    write(project.ctx / name, b"x")
    first = project.compute()
    assert f"file:{name}" in first.components
    decoded = decode_label(first.to_label())
    assert f"file:{name}" in decoded and json.dumps(first.to_label()).isascii()
    cache = project.cache()
    assert project.compute(cache=cache).digest == first.digest and cache.misses == 0
    write(project.ctx / name, b"y")
    assert explain(decoded, project.compute()) == ["'caf\\udce9.txt' changed"]


# --------------------------------------------------------------------------------------------- explain


def test_explain_without_an_earlier_build(project: Project) -> None:
    assert explain(None, project.compute()) == ["no earlier build of this profile"]


def test_explain_orders_reasons_and_stops_at_the_limit(project: Project) -> None:
    before = project.compute()
    for index in range(15):
        write(project.ctx / "gen" / f"f{index:02}.txt", b"x")
    write(project.root / "build" / "Containerfile", b"FROM scratch\n")
    after = project.compute('target = "t"\n')
    lines = explain(before.components, after, limit=4)
    assert lines == ["the Containerfile changed", "the target changed", "directory gen was added",
                     "gen/f00.txt was added", "and 14 more"]
    assert len(explain(before.components, after, limit=100)) == 18


def test_explain_shows_unprintable_names_quoted() -> None:
    before = Inputs.of({"file:a\nb": "0" * 64})
    after = Inputs.of({"file:a\nb": "1" * 64})
    assert explain(before.components, after) == ["'a\\nb' changed"]


# ------------------------------------------------------------------------------------------ the labels


def test_the_label_round_trips(project: Project) -> None:
    result = project.compute()
    labels = result.to_label()
    assert set(labels) == {DIGEST_LABEL, COMPONENTS_LABEL}
    assert labels[DIGEST_LABEL] == result.digest
    decoded = decode_label({**labels, "other": "label"})
    assert set(decoded) == set(result.components)
    for name, value in decoded.items():
        assert result.components[name].startswith(value) and len(value) >= 16
    assert decoded[f"base:{BASE}"] == BASES[BASE]  # kept whole, for "moved (a -> b)"
    assert explain(decoded, result) == ["the inputs did not change"]


@pytest.mark.parametrize("labels", [
    {},
    {DIGEST_LABEL: "sha256:" + "0" * 64},
    {COMPONENTS_LABEL: "not json"},
    {COMPONENTS_LABEL: '{"v":1,"c":{"file:a":"0123'},  # truncated
    {COMPONENTS_LABEL: '{"v":2,"c":{}}'},
    {COMPONENTS_LABEL: '{"v":1,"c":{"file:a":7}}'},
    {COMPONENTS_LABEL: '{"v":1,"c":["file:a"]}'},
    {COMPONENTS_LABEL: "[1, 2]"},
    {COMPONENTS_LABEL: "[" * 100000},
])
def test_absent_or_corrupt_labels_decode_to_none(labels: dict[str, str], tmp_path: Path) -> None:
    assert decode_label(labels) is None
    assert decode_label(labels, HashCache(tmp_path)) is None


def test_a_large_context_folds_files_into_trees_and_keeps_detail_locally(project: Project) -> None:
    for top in range(6):
        for sub in range(10):
            for index in range(30):
                write(project.ctx / f"pkg{top}" / f"mod{sub}" / f"file_with_a_long_name_{index:03}.py", b"x = 1\n")
    cache = project.cache()
    before = compute(project.plan(), BASES, cache)
    labels = before.to_label()
    assert len(labels[COMPONENTS_LABEL]) <= 32 * 1024
    decoded = decode_label(labels)
    assert "tree:pkg3/mod4" in decoded and "file:src/app.py" in decoded and "file:pkg3/mod4/file_with_a_long_name_000.py" not in decoded
    cache.remember(before)
    cache.save()

    write(project.ctx / "pkg3" / "mod4" / "file_with_a_long_name_007.py", b"x = 2\n")
    after = project.compute()
    assert explain(decoded, after) == ["files under pkg3/mod4/ changed"]
    detailed = decode_label(labels, project.cache())
    assert "file:pkg3/mod4/file_with_a_long_name_000.py" in detailed
    assert explain(detailed, after) == ["pkg3/mod4/file_with_a_long_name_007.py changed"]
    # Detail that does not agree with the label is not trusted.
    assert decode_label({**labels, DIGEST_LABEL: "sha256:" + "1" * 64}, project.cache()) == decoded
    assert decode_label({**labels, DIGEST_LABEL: "../../etc/passwd"}, project.cache()) == decoded


def test_a_huge_flat_context_folds_everything_into_one_tree() -> None:
    components = {f"file:{index:05}-{'n' * 40}": hashlib.sha256(b"%d" % index).hexdigest() for index in range(3000)}
    components["target"] = "0" * 64
    labels = Inputs.of(components).to_label()
    decoded = decode_label(labels)
    assert set(decoded) == {"target", "tree:"}
    changed = Inputs.of({**components, "file:00007-" + "n" * 40: "f" * 64})
    assert explain(decoded, changed) == ["files in the build context changed"]


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)
components_strategy = st.dictionaries(
    st.one_of(names.map(lambda n: f"file:{n}"), names.map(lambda n: f"label:{n}"), names.map(lambda n: f"build_arg:{n}")),
    st.binary(min_size=1, max_size=8).map(lambda b: hashlib.sha256(b).hexdigest()),
    max_size=30,
)


@settings(max_examples=200)
@given(components_strategy)
def test_any_component_set_round_trips_through_the_label(components: dict[str, str]) -> None:
    result = Inputs.of(components)
    decoded = decode_label(result.to_label())
    assert decoded is not None and set(decoded) == set(components)
    assert explain(decoded, result) == ["the inputs did not change"]


@settings(max_examples=200)
@given(components_strategy, components_strategy)
def test_different_component_sets_have_different_digests(a: dict[str, str], b: dict[str, str]) -> None:
    assert (Inputs.of(a).digest == Inputs.of(b).digest) == (a == b)


# ------------------------------------------------------------------------------------------- the cache


def test_cache_counters_and_persistence(project: Project) -> None:
    files = file_count(project)
    total = sum(len(data) for name, data in FILES.items() if name.startswith("ctx/"))
    cold = project.cache()
    project.compute(cache=cold)
    assert (cold.hits, cold.misses, cold.bytes_read) == (0, files, total)
    assert len(project.shard_files()) == 1
    walked = project.cache()
    project.compute(cache=walked)
    # The unchanged walk answers for the whole context: not one file is looked up.
    assert (walked.tree_hits, walked.hits, walked.misses, walked.bytes_read) == (1, 0, 0, 0)
    project.forget_walks()
    warm = project.cache()
    project.compute(cache=warm)
    assert (warm.tree_hits, warm.hits, warm.misses, warm.bytes_read) == (0, files, 0, 0)


def test_the_cache_file_is_private_and_written_only_when_something_changed(project: Project) -> None:
    project.compute()
    [shard] = project.shard_files()
    [walks] = project.walk_files()
    assert (shard.parent.parent.stat().st_mode & 0o777) == 0o700
    assert (shard.stat().st_mode & 0o777) == 0o600
    assert (walks.parent.stat().st_mode & 0o777) == 0o700 and (walks.stat().st_mode & 0o777) == 0o600
    stamp = shard.stat().st_mtime_ns
    os.utime(shard, ns=(stamp - 10**9, stamp - 10**9))
    project.compute()
    assert shard.stat().st_mtime_ns == stamp - 10**9
    (project.ctx / "src" / "util.py").unlink()
    project.compute()
    document = json.loads(shard.read_text())
    assert "src/util.py" not in document["path"]  # pruned with the file
    assert len(document["path"]) == len(document["sha256"]) == file_count(project)


def test_a_recently_written_file_is_not_cached(project: Project) -> None:
    project.compute()
    write(project.ctx / "src" / "app.py", b"print('new')\n", when=None)  # mtime: now
    first = project.cache()
    project.compute(cache=first)
    assert first.misses == 1
    again = project.cache()
    project.compute(cache=again)
    assert again.misses == 1  # a second write in the same timestamp tick would not show


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong version", "foreign", "short column",
                                    "bad number", "duplicate path", "bad digest", "other root", "directory"])
def test_a_damaged_cache_file_is_ignored_and_rebuilt(project: Project, damage: str) -> None:
    reference = project.compute()
    [shard] = project.shard_files()
    text = shard.read_text()
    document = json.loads(text)
    if damage == "garbage":
        shard.write_bytes(os.urandom(300))
    elif damage == "truncated":
        shard.write_text(text[: len(text) // 2])
    elif damage == "empty":
        shard.write_text("")
    elif damage == "wrong version":
        shard.write_text(json.dumps({**document, "version": 99}))
    elif damage == "foreign":
        shard.write_text(json.dumps({"path": ["src/app.py"], "sha256": "whatever"}))
    elif damage == "short column":
        document["inode"].pop()
        shard.write_text(json.dumps(document))
    elif damage == "bad number":
        document["mtime_ns"][0] = "1700000000"
        shard.write_text(json.dumps(document))
    elif damage == "duplicate path":
        document["path"][1] = document["path"][0]
        shard.write_text(json.dumps(document))
    elif damage == "bad digest":
        document["sha256"][0] = "Z" * 64
        shard.write_text(json.dumps(document))
    elif damage == "other root":
        shard.write_text(json.dumps({**document, "root": "/elsewhere"}))
    else:
        shard.unlink()
        shard.mkdir()
    project.forget_walks()
    cache = project.cache()
    assert project.compute(cache=cache).digest == reference.digest
    assert (cache.hits, cache.misses) == (0, file_count(project))
    project.forget_walks()
    rebuilt = project.cache()
    assert project.compute(cache=rebuilt).digest == reference.digest
    if damage == "directory":
        assert rebuilt.hits == 0 and shard.is_dir()  # never deleted, never written over
    else:
        assert rebuilt.hits == file_count(project)


def test_an_unwritable_cache_never_fails_a_build(project: Project, caplog: pytest.LogCaptureFixture) -> None:
    project.cache_home.parent.mkdir(parents=True, exist_ok=True)
    project.cache_home.write_text("a file where the cache directory should be")
    cache = project.cache()
    with caplog.at_level("DEBUG", logger="imgctl.inputs"):
        result = project.compute(cache=cache)
        cache.remember(result)
        cache.save()
    assert result.digest == compute(project.plan(), BASES, HashCache(None)).digest
    assert "cannot write the cache file" in caplog.text


def test_concurrent_processes_leave_a_valid_cache(project: Project) -> None:
    for index in range(200):
        write(project.ctx / "many" / f"{index}.txt", b"%d" % index)
    script = (
        "import os, sys\n"
        "from builder.inputs import HashCache, compute\n"
        "from builder.build.plan import Provenance, plan_build\n"
        "from builder.profiles import load_profile\n"
        "from builder.project import snapshot\n"
        "from datetime import datetime, timezone\n"
        "from pathlib import Path\n"
        "now = datetime(2026, 11, 24, tzinfo=timezone.utc)\n"
        "profile = load_profile(Path(sys.argv[1]) / 'profiles', 'p', env={}, now=now)\n"
        "for round in range(5):\n"
        "    when = 1e9 + round  # an old, new mtime: a miss that gets cached, so every round writes\n"
        "    os.utime(profile.context / 'src' / 'app.py', (when, when))\n"
        "    cache = HashCache.open({'XDG_CACHE_HOME': sys.argv[2]})\n"
        "    compute(plan_build(profile, snapshot(profile), Provenance(created=now)), {}, cache)\n"
        "    cache.save()\n"
    )
    project.plan()  # writes the profile
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    runs = [subprocess.Popen([sys.executable, "-c", script, str(project.root), str(project.cache_home)], env=env)
            for _ in range(4)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0, 0, 0]
    [shard] = project.shard_files()
    json.loads(shard.read_text())
    assert not [p for p in shard.parent.iterdir() if p.name.endswith(".tmp")]
    [walks] = project.walk_files()
    json.loads(walks.read_text())
    project.forget_walks()
    cache = project.cache()
    project.compute(cache=cache)
    # src/app.py may miss: another process may have set its times after the last writer read them.
    assert cache.hits >= file_count(project) - 1


# ------------------------------------------------------------------------------- remembered walks


def test_an_unchanged_walk_gives_the_same_inputs_as_reading_every_file(project: Project) -> None:
    project.compute()
    cache = project.cache()
    walked = project.compute(cache=cache)
    assert cache.tree_hits == 1 and (cache.hits, cache.misses) == (0, 0)
    fresh = compute(project.plan(), BASES, HashCache(None))
    assert walked.digest == fresh.digest
    # The per-file components are worked out when asked for, and agree with a full read.
    assert dict(walked.components) == dict(fresh.components)
    assert walked.to_label() == fresh.to_label()


def test_a_touched_file_costs_one_hash_and_no_new_digest(project: Project) -> None:
    reference = project.compute()
    age(project.ctx / "src" / "app.py", OLD - 3600)
    cache = project.cache()
    assert project.compute(cache=cache).digest == reference.digest
    assert (cache.tree_hits, cache.misses, cache.hits) == (0, 1, file_count(project) - 1)
    again = project.cache()
    assert project.compute(cache=again).digest == reference.digest
    assert (again.tree_hits, again.misses) == (1, 0)


def test_a_changed_file_is_seen_even_with_its_old_size_and_mtime(project: Project) -> None:
    reference = project.compute()
    target = project.ctx / "src" / "app.py"
    before = target.stat()
    target.write_bytes(b"print('APP')\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # ctime still moves
    cache = project.cache()
    changed = project.compute(cache=cache)
    assert changed.digest != reference.digest and cache.tree_hits == 0
    assert explain(reference.components, changed) == ["src/app.py changed"]


@pytest.mark.parametrize("change", ["added file", "removed file", "mode", "new directory", "symlink target"])
def test_every_change_to_the_walk_misses_the_remembered_digest(project: Project, change: str) -> None:
    (project.ctx / "link").symlink_to("README")
    reference = project.compute()
    if change == "added file":
        write(project.ctx / "src" / "new.py", b"x")
    elif change == "removed file":
        (project.ctx / "src" / "util.py").unlink()
    elif change == "mode":
        (project.ctx / "src" / "util.py").chmod(0o755)
    elif change == "new directory":
        (project.ctx / "empty").mkdir()
    else:
        (project.ctx / "link").unlink()
        (project.ctx / "link").symlink_to("src")
    cache = project.cache()
    assert project.compute(cache=cache).digest != reference.digest
    assert cache.tree_hits == 0


def test_a_walk_with_a_recently_written_file_is_not_remembered(project: Project) -> None:
    project.compute()
    write(project.ctx / "src" / "app.py", b"print('new')\n", when=None)  # mtime: now
    project.compute()
    cache = project.cache()
    project.compute(cache=cache)
    assert cache.tree_hits == 0 and cache.misses == 1


@pytest.mark.parametrize("damage", ["garbage", "wrong version", "other root", "bad digest", "not a list"])
def test_a_damaged_walk_file_is_ignored_and_rebuilt(project: Project, damage: str) -> None:
    reference = project.compute()
    [walks] = project.walk_files()
    document = json.loads(walks.read_text())
    if damage == "garbage":
        walks.write_bytes(os.urandom(200))
    elif damage == "wrong version":
        walks.write_text(json.dumps({**document, "version": 99}))
    elif damage == "other root":
        walks.write_text(json.dumps({**document, "root": "/elsewhere"}))
    elif damage == "bad digest":
        document["walks"][0][1] = "sha256:nothex"
        walks.write_text(json.dumps(document))
    else:
        walks.write_text(json.dumps({**document, "walks": {"a": "b"}}))
    cache = project.cache()
    assert project.compute(cache=cache).digest == reference.digest
    assert cache.tree_hits == 0 and cache.hits == file_count(project)
    again = project.cache()
    assert project.compute(cache=again).digest == reference.digest and again.tree_hits == 1


def test_profiles_reading_different_parts_of_one_context_each_keep_their_walk(project: Project) -> None:
    narrow = 'ignore = ["README"]\n'
    project.compute()
    project.compute(narrow)
    for extra in ("", narrow, ""):
        cache = project.cache()
        project.compute(extra, cache=cache)
        assert cache.tree_hits == 1


def test_only_the_last_walks_are_remembered(project: Project) -> None:
    target = project.ctx / "src" / "app.py"
    for round in range(inputs_module._TREE_KEEP + 3):
        age(target, OLD - round)  # a new ctime too: every round is a new walk
        project.compute()
    [walks] = project.walk_files()
    assert len(json.loads(walks.read_text())["walks"]) == inputs_module._TREE_KEEP
    cache = project.cache()
    project.compute(cache=cache)
    assert cache.tree_hits == 1


def test_digest_of_a_single_file(tmp_path: Path) -> None:
    path = write(tmp_path / "data.bin", b"abc" * 1000)
    cache = HashCache(tmp_path / "cache")
    assert cache.digest(path, os.lstat(path)) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert (cache.misses, cache.bytes_read) == (1, 3000)
    cache.save()
    again = HashCache(tmp_path / "cache")
    assert again.digest(path, os.lstat(path)) == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert (again.hits, again.bytes_read) == (1, 0)


def test_a_file_changing_while_it_is_hashed_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "big.bin", b"\0" * (3 << 20))
    before = os.lstat(path)
    real_read = os.read
    calls = []

    def read_and_append(fd: int, n: int) -> bytes:
        data = real_read(fd, n)
        if not calls:
            calls.append(n)
            with open(path, "ab") as out:
                out.write(b"more")
        return data

    monkeypatch.setattr(inputs_module.os, "read", read_and_append)
    cache = HashCache(tmp_path / "cache")
    cache.digest(path, before)
    monkeypatch.undo()
    assert calls == [1 << 20]  # streamed in 1 MiB chunks
    cache.save()
    age(path)
    again = HashCache(tmp_path / "cache")
    assert again.digest(path, os.lstat(path)) == hashlib.sha256(b"\0" * (3 << 20) + b"more").hexdigest()
    assert again.misses == 1


def test_a_stale_stat_is_not_cached(tmp_path: Path) -> None:
    path = write(tmp_path / "f", b"one")
    stale = os.lstat(path)
    write(path, b"two")
    cache = HashCache(tmp_path / "cache")
    assert cache.digest(path, stale) == hashlib.sha256(b"two").hexdigest()
    cache.save()
    again = HashCache(tmp_path / "cache")
    again.digest(path, stale)
    assert again.misses == 1


def test_the_cache_location_follows_xdg(tmp_path: Path) -> None:
    assert inputs_module.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "imgctl"
    assert inputs_module.cache_dir({"XDG_CACHE_HOME": "relative", "HOME": "/home/u"}) == Path("/home/u/.cache/imgctl")
    assert inputs_module.cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/imgctl")
