"""builder.inputs.digest: input digests over real files, what is and is not an input, and the image label."""

from __future__ import annotations

import gzip
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

from builder.build.plan import BuildPlan
from builder.errors import ConfigError
from builder.inputs.digest import Inputs, compute, is_path
from builder.inputs.explain import explain
from builder.inputs.hashcache import HashCache
from builder.oci.labels import COMPONENTS_LABEL, DIGEST_LABEL, Provenance
from tests.unit.inputs.project import (
    BASE,
    BASES,
    FILES,
    NOW,
    OLD,
    PLAN_SCRIPT_IMPORTS,
    Project,
    age,
    components_strategy,
    file_count,
    write,
)

# ------------------------------------------------------------------------------- remembered walks


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
        + PLAN_SCRIPT_IMPORTS
        + "now = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)\n"
        "profile = load_profile(Path(sys.argv[1]) / 'profiles', 'p', env={}, now=now)\n"
        "plan = plan_build(profile, snapshot(profile), Provenance(created=now, revision='abc'))\n"
        f"print(compute(plan, {BASES!r}, HashCache.open({{'XDG_CACHE_HOME': sys.argv[2]}})).digest)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
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
    "build arg added": (lambda p: setattr(p, "profile_text",
                                          p.profile_text.replace('VERSION = "1"', 'VERSION = "1"\nEXTRA = "x"')) or "",
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
    # The same reasons from what the earlier image's label and this machine's detail record.
    assert explain(project.recorded(project.built(before)), after) == expected


def test_a_base_image_that_moved(project: Project) -> None:
    before = project.compute()
    after = project.compute(bases={BASE: "sha256:" + "cd" * 32})
    assert after.digest != before.digest
    expected = [f"base image {BASE} moved (sha256:abababababab.. -> sha256:cdcdcdcdcdcd..)"]
    assert explain(before.components, after) == expected
    assert explain(project.recorded(project.built(before)), after) == expected
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
    assert DIGEST_LABEL not in labels and COMPONENTS_LABEL not in labels  # nothing marks an image
    reason = [f"the digest of base image {BASE} is unknown (it is not present locally)"]
    assert explain(before.components, unknown) == reason
    assert explain(project.recorded(project.built(before)), unknown) == reason  # still not "did not change"


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
    digests = [compute(BuildPlan(**{**plan.__dict__, "extra": extra}), BASES, HashCache(None))
               for extra in (one, two, other)]
    assert "extra:cert.pem" in digests[0].components
    assert digests[0].digest == digests[1].digest != digests[2].digest
    assert explain(digests[1].components, digests[2]) == ["extra build-context file cert.pem changed"]


def test_a_file_that_vanished_since_the_scan_is_a_config_error(project: Project) -> None:
    plan = project.plan()
    (project.ctx / "src" / "util.py").unlink()
    with pytest.raises(ConfigError, match=r"src/util\.py changed while imgctl was reading"):
        compute(plan, BASES, HashCache(None))


def test_a_file_that_grew_since_the_scan_is_a_config_error(project: Project) -> None:
    plan = project.plan()
    write(project.ctx / "src" / "util.py", b"much longer than it was when scanned\n")
    with pytest.raises(ConfigError, match=r"src/util\.py changed"):
        compute(plan, BASES, HashCache(None))


def test_the_digest_settles_on_the_bytes_that_were_sent(project: Project) -> None:
    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    plan = project.plan()
    before = compute(plan, BASES, HashCache(None))
    agreeing = {"src/app.py": sha(FILES["ctx/src/app.py"]), plan.dockerfile: sha(FILES["build/Containerfile"])}
    assert before.settled(agreeing) is before
    # Replaced by content of the same size between the digest and the upload: the image holds what was sent.
    write(project.ctx / "src" / "app.py", b"print('APP')\n")
    after = before.settled({"src/app.py": sha(b"print('APP')\n")})
    assert after.digest == compute(plan, BASES, HashCache(None)).digest != before.digest
    assert explain(before.components, after) == ["src/app.py changed"]
    assert explain(before.components, before.settled({plan.dockerfile: sha(b"FROM scratch\n")})) == [
        "the Containerfile changed"
    ]
    assert Inputs.of(dict(before.components)).settled({"src/app.py": "0" * 64}).digest == before.digest


def test_undecodable_file_names_are_inputs_like_any_other(project: Project) -> None:
    name = os.fsdecode(b"caf\xe9.txt")  # Latin-1, not UTF-8
    write(project.ctx / name, b"x")
    first = project.compute()
    assert f"file:{name}" in first.components
    decoded = project.recorded(project.built(first))
    assert f"file:{name}" in decoded and json.dumps(first.to_label()).isascii()
    [detail] = project.detail_files()
    assert gzip.decompress(detail.read_bytes()).isascii()
    cache = project.cache()
    assert project.compute(cache=cache).digest == first.digest and cache.misses == 0
    write(project.ctx / name, b"y")
    assert explain(decoded, project.compute()) == ["'caf\\udce9.txt' changed"]


# ------------------------------------------------------------------------------------------- the label


def test_the_image_label_holds_the_digest_and_no_path_names(project: Project) -> None:
    write(project.ctx / "internal-payroll" / "layout.txt", b"x")
    result = project.compute()
    labels = result.to_label()
    # The image is pushed to registries: anyone who can pull it must not read the source tree's layout.
    assert labels == {DIGEST_LABEL: result.digest} and COMPONENTS_LABEL not in labels
    text = json.dumps(labels)
    paths = [name.partition(":")[2] for name in result.components if is_path(name)]
    assert "internal-payroll/layout.txt" in paths
    for path in paths:
        for part in path.split("/"):
            assert part not in text



@settings(max_examples=200)
@given(components_strategy, components_strategy)
def test_different_component_sets_have_different_digests(a: dict[str, str], b: dict[str, str]) -> None:
    assert (Inputs.of(a).digest == Inputs.of(b).digest) == (a == b)
