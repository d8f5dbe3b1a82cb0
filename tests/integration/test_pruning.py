"""Pruning the context never changes the image: random trees and Containerfiles, each built twice on a real
podman service (once from the whole snapshot, once from `prune(snapshot, reach(...))`), and the two image
filesystems compared file by file (type, mode, owner, size, content digest, link target, and the mtime of
regular files).

The images are read back with the engine's own export (`/images/{name}/get`, an OCI archive), whose layers
are applied here with their whiteouts: what is compared is the image, not imgctl's lists.

15 examples keep the suite fast (about a minute on two cores); IMGCTL_PRUNE_EXAMPLES=500 makes a soak run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.containerfile.document import Document
from builder.containerfile.reach import base_images, image_facts, prune, reach
from builder.context.rules import IgnoreRules
from builder.context.tar import tar_stream
from builder.context.walk import ContextSnapshot, scan
from builder.engine.podman import Endpoint
from builder.engine.podman import PodmanEngine as Engine
from builder.errors import ImgctlError
from tests.integration.conftest import BASE_IMAGE, PodmanService
from tests.integration.imagefs import layers_tree

pytestmark = pytest.mark.integration

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
NAMES = ["a.txt", "b.py", "c.py", "src", "lib", ".hidden", "with space", "deep", "x1", "x[1]", "notes.log"]
IGNORE_LINES = ["*.log", "deep/*.txt", "!deep/keep.txt", "**/.hidden", "lib"]


# --------------------------------------------------------------------------------------------------------------
# Scenarios


@dataclass(frozen=True)
class Scenario:
    files: dict[str, bytes]
    dirs: tuple[str, ...]
    links: dict[str, str]  # path -> target as written
    containerfile: str
    ignore: str | None
    build_args: dict[str, str]
    target: str | None


@st.composite
def trees(draw: st.DrawFn) -> tuple[dict[str, bytes], tuple[str, ...], dict[str, str]]:
    dirs: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        parent = draw(st.sampled_from(["", *dirs]))
        name = draw(st.sampled_from(NAMES))
        path = f"{parent}/{name}" if parent else name
        if path not in dirs and path.count("/") < 3:
            dirs.append(path)
    files: dict[str, bytes] = {}
    for _ in range(draw(st.integers(2, 8))):
        parent = draw(st.sampled_from(["", *dirs]))
        name = draw(st.sampled_from([*NAMES, "keep.txt", "main.py"]))
        path = f"{parent}/{name}" if parent else name
        if path not in dirs and not any(d.startswith(path + "/") for d in dirs):
            files[path] = draw(st.binary(min_size=0, max_size=64))
    links: dict[str, str] = {}
    existing = sorted(files) + dirs
    for _ in range(draw(st.integers(0, 3))):
        parent = draw(st.sampled_from(["", *dirs]))
        name = draw(st.sampled_from(["link", "ln", "alias"]))
        path = f"{parent}/{name}" if parent else name
        if path in files or path in dirs or path in links or not existing:
            continue
        target = draw(st.sampled_from(existing + sorted(links)))  # links to links make chains
        absolute = draw(st.booleans())
        links[path] = "/" + target if absolute else posixpath.relpath(target, parent or ".")
    return files, tuple(dirs), links


def through_links(files: dict[str, bytes], dirs: tuple[str, ...], links: dict[str, str]) -> list[str]:
    """Paths that pass through a symlinked directory (`link/child`), so sources exercise link following."""
    found = []
    for path, target in links.items():
        parent = path.rpartition("/")[0]
        real = posixpath.normpath(target.lstrip("/") if target.startswith("/") else posixpath.join(parent, target))
        if real in dirs:
            found += [path + other[len(real):] for other in list(files) + list(dirs) if other.startswith(real + "/")]
    return sorted(found)


def _quote(sources: list[str], destination: str, flags: str = "", keyword: str = "COPY") -> str:
    prefix = f"{keyword} {flags + ' ' if flags else ''}"
    if any(" " in source for source in sources):
        return prefix + json.dumps([*sources, destination])
    return prefix + " ".join([*sources, destination])


def _wildcard(path: str, draw: st.DrawFn) -> str:
    parts = path.split("/")
    index = draw(st.integers(0, len(parts) - 1))
    name = parts[index].replace("[", "?").replace("]", "?")
    how = draw(st.sampled_from(["star", "question", "class", "suffix"]))
    if how == "star":
        name = "*"
    elif how == "question" and name:
        spot = draw(st.integers(0, len(name) - 1))
        name = name[:spot] + "?" + name[spot + 1:]
    elif how == "class" and name:
        name = f"[{name[0]}{name[0].upper()}]{name[1:]}" if name[0].isalnum() else name
    elif how == "suffix" and "." in name:
        name = "*" + name[name.index("."):]
    parts[index] = name
    return "/".join(parts)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    files, dirs, links = draw(trees())
    paths = sorted(files) + list(dirs) + sorted(links) + through_links(files, dirs, links)
    lines: list[str] = []
    build_args: dict[str, str] = {}
    if draw(st.booleans()):
        lines.append(f"ARG G={draw(st.sampled_from(paths)).replace(' ', '_')}")
        if draw(st.booleans()):
            build_args["G"] = draw(st.sampled_from([*paths, "nothere"])).replace(" ", "_")
    stages = draw(st.integers(1, 3))
    for index in range(stages):
        base = BASE_IMAGE if index == 0 or draw(st.booleans()) else f"s{draw(st.integers(0, index - 1))}"
        lines += [f"FROM {base} AS s{index}", "RUN mkdir -p /dst"]
        for step in range(draw(st.integers(1, 4))):
            destination = f"/dst/{index}_{step}/"
            kind = draw(st.sampled_from(["file", "file", "dir", "wildcard", "wildcard", "dot", "arg", "global",
                                         "from", "mount", "add", "missing", "link"]))
            if kind in ("file", "dir", "link", "add"):
                pool = {"file": sorted(files), "dir": list(dirs), "add": sorted(files),
                        "link": sorted(links) + through_links(files, dirs, links)}[kind]
                if not pool:
                    continue
                sources = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2, unique=True))
                prefix = draw(st.sampled_from(["", "./", "/", "../", "../build/"]))
                lines.append(_quote([prefix + s for s in sources], destination,
                                    keyword="ADD" if kind == "add" else "COPY"))
            elif kind == "wildcard":
                lines.append(_quote([_wildcard(draw(st.sampled_from(paths)), draw)], destination))
            elif kind == "dot":
                lines.append(f"COPY {draw(st.sampled_from(['.', './', '/']))} {destination}")
            elif kind == "arg":
                value = draw(st.sampled_from([p for p in paths if " " not in p] or ["nothere"]))
                name = f"V{index}{step}"
                lines.append(f"ARG {name}={value}")
                if draw(st.booleans()):
                    build_args[name] = draw(st.sampled_from([*paths, "nothere"])).replace(" ", "_")
                reference = draw(st.sampled_from([f"${name}", f"${{{name}}}", f"${{UNSET_{name}:-{value}}}"]))
                lines.append(f"COPY {reference} {destination}")
            elif kind == "global" and lines[0].startswith("ARG G="):
                lines += ["ARG G", f"COPY ${{G}} {destination}"]
            elif kind == "from" and index > 0:
                lines.append(f"COPY --from=s{draw(st.integers(0, index - 1))} /dst {destination}")
            elif kind == "mount" and dirs:
                source = draw(st.sampled_from(list(dirs)))
                lines.append(f'RUN --mount=type=bind,source="{source}",target=/m cp -a /m {destination}')
            elif kind == "missing":
                lines.append(f"COPY nothere* {destination}")
    target = draw(st.sampled_from([None] + [f"s{i}" for i in range(stages)]))
    ignore = None
    if draw(st.booleans()):
        ignore = "\n".join(draw(st.lists(st.sampled_from(IGNORE_LINES), max_size=3))) + "\n"
    return Scenario(files, dirs, links, "\n".join(lines) + "\n", ignore, build_args, target)


# --------------------------------------------------------------------------------------------------------------
# Building and reading images back


def write_tree(root: Path, scenario: Scenario) -> None:
    for directory in scenario.dirs:
        (root / directory).mkdir(parents=True, exist_ok=True)
    for path, data in scenario.files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    for path, target in scenario.links.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / path)
    (root / "Containerfile").write_text(scenario.containerfile)
    if scenario.ignore is not None:
        (root / ".containerignore").write_text(scenario.ignore)
    # Fixed mtimes: the full and the pruned upload come from one tree anyway; this keeps examples comparable.
    for path in sorted(root.rglob("*"), reverse=True):
        os.utime(path, (1_600_000_000, 1_600_000_000), follow_symlinks=False)


def build(engine: Engine, snapshot: ContextSnapshot, scenario: Scenario, tag: str) -> str | None:
    """The image id, or None when the build failed."""
    params = {
        "dockerfile": "Containerfile",
        "layers": "true",
        "nocache": "true",  # a cached RUN --mount step would hide a file missing from the upload
        "outputformat": OCI_MANIFEST,
        "pullpolicy": "never",
        "rm": "true",
        "t": tag,
        "excludes": json.dumps(list(snapshot.rules.patterns)),
    }
    if scenario.build_args:
        params["buildargs"] = json.dumps(scenario.build_args)
    if scenario.target:
        params["target"] = scenario.target
    image_id = None
    try:
        for message in engine.build(params, tar_stream(snapshot)):
            if "error" in message:
                return None
            text = message.get("stream")
            if isinstance(text, str) and len(text.strip()) == 64:
                image_id = text.strip()
    except ImgctlError:
        return None
    return image_id


def filesystem(engine: Engine, image: str) -> dict[str, tuple]:
    """Path -> (type, mode, uid, gid, size, sha256, link, mtime for files) of the image's flattened layers."""
    archive = io.BytesIO()
    engine.save(image, "oci-archive", archive)
    archive.seek(0)
    return layers_tree(archive, mtimes=True)


# --------------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine(podman_service: PodmanService):
    engine = Engine(Endpoint(podman_service.url, "test"))
    try:
        yield engine
    finally:
        engine.close()


@pytest.fixture(scope="module")
def base_facts(engine: Engine):
    inspected = engine.inspect_image(BASE_IMAGE)
    assert inspected is not None
    facts = image_facts(inspected.env, inspected.onbuild, inspected.history)
    assert not facts.onbuild and "PATH" in facts.env
    return {BASE_IMAGE: facts}


@pytest.fixture(scope="module")
def timing():
    started = time.monotonic()
    record: dict[str, float] = {"examples": 0, "pruned": 0}
    yield record
    print(f"\npruning property test: {record['examples']:.0f} examples ({record['pruned']:.0f} pruned) "
          f"in {time.monotonic() - started:.1f} s")


@settings(max_examples=int(os.environ.get("IMGCTL_PRUNE_EXAMPLES", "15")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(scenario=scenarios())
def test_pruned_context_builds_the_same_image(podman_service: PodmanService, engine: Engine, base_facts,
                                              timing, scenario: Scenario) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="imgctl-prune-"))
    tags = []
    try:
        root = workdir / "ctx"
        root.mkdir()
        write_tree(root, scenario)
        ignore_file = root / ".containerignore" if scenario.ignore is not None else None
        rules = IgnoreRules.load(ignore_file) if ignore_file else IgnoreRules()
        snapshot = scan(root, rules, ignore_file)

        document = Document.read(root / "Containerfile")
        assert set(base_images(document, scenario.build_args, scenario.target)) <= {BASE_IMAGE}
        found = reach(document, scenario.build_args, scenario.target, images=base_facts)
        pruned = prune(snapshot, found, keep=["Containerfile", ".containerignore"])
        assert {e.path for e in pruned.entries} <= {e.path for e in snapshot.entries}
        timing["examples"] += 1
        timing["pruned"] += len(pruned.entries) < len(snapshot.entries)

        suffix = hashlib.sha256(repr(scenario).encode()).hexdigest()[:12]
        full_tag, pruned_tag = f"localhost/prune-full:{suffix}", f"localhost/prune-pruned:{suffix}"
        tags = [full_tag, pruned_tag]
        full_id = build(engine, snapshot, scenario, full_tag)
        pruned_id = build(engine, pruned, scenario, pruned_tag) if pruned is not snapshot else full_id
        context = (f"Containerfile:\n{scenario.containerfile}\nreach: {found}\n"
                   f"sent: {[e.path for e in pruned.entries]}\nall: {[e.path for e in snapshot.entries]}")
        assert (full_id is None) == (pruned_id is None), f"one build failed, the other did not\n{context}"
        if full_id is None or pruned_id is None or pruned is snapshot:
            return  # both failed the same way, or nothing was pruned
        full_fs, pruned_fs = filesystem(engine, full_id), filesystem(engine, pruned_id)
        differ = sorted(p for p in full_fs.keys() | pruned_fs.keys() if full_fs.get(p) != pruned_fs.get(p))
        assert not differ, f"images differ at {differ[:10]}\n{context}"
    finally:
        for tag in tags:
            try:
                engine.remove_image(tag, force=True)
            except ImgctlError:
                pass
        podman_service.podman("image", "prune", "-f", check=False)
        shutil.rmtree(workdir, ignore_errors=True)


# buildah 1.28 globs each match of a COPY source again: an escaped wildcard matches the literal name first, and
# that name then globs as a wildcard. Pruning once sent only the literal name, and the pruned build copied
# another file than `podman build` did, both exiting 0.
@pytest.mark.parametrize(
    ("files", "copy", "expected"),
    [
        ({"dir*/f": b"literal-star-dir", "dirx/f": b"dirx", "other": b"o"}, "COPY dir\\\\*/f /d/",
         {"/d/f": b"dirx"}),
        ({"s/*": b"star", "s/abc": b"abc", "s/de": b"de", "other": b"o"}, "COPY s/? /d/",
         {"/d/*": b"star", "/d/abc": b"abc", "/d/de": b"de"}),
    ],
)
def test_wildcards_buildah_globs_twice_build_what_podman_builds(podman_service: PodmanService, engine: Engine,
                                                                 base_facts, files: dict[str, bytes], copy: str,
                                                                 expected: dict[str, bytes]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="imgctl-glob-"))
    suffix = hashlib.sha256(copy.encode()).hexdigest()[:12]
    podman_tag, pruned_tag = f"localhost/glob-podman:{suffix}", f"localhost/glob-pruned:{suffix}"
    try:
        root = workdir / "ctx"
        root.mkdir()
        scenario = Scenario(files, (), {}, f"FROM {BASE_IMAGE}\n{copy}\n", None, {}, None)
        write_tree(root, scenario)
        podman_service.podman("build", "-q", "--pull=never", "-t", podman_tag, str(root))
        snapshot = scan(root, IgnoreRules())
        found = reach(Document.read(root / "Containerfile"), {}, None, images=base_facts)
        pruned = prune(snapshot, found, keep=["Containerfile"])
        pruned_id = build(engine, pruned, scenario, pruned_tag)
        assert pruned_id is not None, f"the pruned build failed; reach: {found}"
        by_podman = {path: row for path, row in filesystem(engine, podman_tag).items() if path.startswith("/d/")}
        by_imgctl = {path: row for path, row in filesystem(engine, pruned_id).items() if path.startswith("/d/")}
        assert {path: row[5] for path, row in by_podman.items()} == {
            path: hashlib.sha256(data).hexdigest() for path, data in expected.items()}
        assert by_imgctl == by_podman, f"reach: {found}\nsent: {[e.path for e in pruned.entries]}"
    finally:
        for tag in (podman_tag, pruned_tag):
            try:
                engine.remove_image(tag, force=True)
            except ImgctlError:
                pass
        shutil.rmtree(workdir, ignore_errors=True)
