"""builder.containerfile: parsing, the reach of a build, and pruning a snapshot to it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.containerfile import (
    ImageFacts,
    Reach,
    Source,
    Stage,
    base_images,
    image_facts,
    parse,
    prune,
    reach,
)
from builder.context.rules import IgnoreRules
from builder.context.walk import scan
from builder.errors import ConfigError

IMAGES = {name: ImageFacts(env=frozenset({"PATH", "HOME"})) for name in ("alpine", "golang:1.22", "img:1", "img")}


def patterns(text: str, build_args: dict[str, str] | None = None, target: str | None = None) -> list[str] | None:
    found = reach(text, build_args or {}, target, images=IMAGES)
    return None if found.sources is None else [source.pattern for source in found.sources]


def reason(text: str, build_args: dict[str, str] | None = None, target: str | None = None) -> str | None:
    found = reach(text, build_args or {}, target, images=IMAGES)
    assert found.sources is None, found.sources
    return found.reason


def only(*sources: str) -> Reach:
    return Reach(tuple(Source(1, "COPY", pattern) for pattern in sources), None, ())


# --------------------------------------------------------------------------------------------------------------
# Sources and variables


@pytest.mark.parametrize(
    ("containerfile", "build_args", "expected"),
    [
        # plain paths: leading / and ./ are the context root, trailing / dropped, .. cannot leave the root
        ("FROM alpine\nCOPY a.txt /app/\n", {}, ["a.txt"]),
        ("FROM alpine\nCOPY /etc/conf ./src/ lib/../bin /app/\n", {}, ["etc/conf", "src", "bin"]),
        ("FROM alpine\nCOPY ../x /app/\n", {}, ["x"]),
        ("FROM alpine\nCOPY ../../../x /app/\n", {}, ["x"]),
        # `../build/x` re-enters the service's context directory (.../build): both readings are kept
        ("FROM alpine\nCOPY ../build/x /app/\n", {}, ["build/x", "x"]),
        # several sources, JSON form with spaces, case-insensitive instructions and flags
        ('FROM alpine\ncopy ["my dir/a b.txt", "c", "/x/"]\n', {}, ["my dir/a b.txt", "c"]),
        ("FROM alpine\nCOPY --chown=1:1 --chmod=640 --link a /x\n", {}, ["a"]),
        # wildcards pass through as Go patterns; a backslash must be doubled to reach the glob
        ("FROM alpine\nCOPY src/*.py src/?.md [ab]*/x /app/\n", {}, ["src/*.py", "src/?.md", "[ab]*/x"]),
        ("FROM alpine\nCOPY a\\\\*b /app/\n", {}, ["a\\*b"]),
        ("FROM alpine\nCOPY a\\*b /app/\n", {}, ["a*b"]),
        # ARG: per stage, defaults, build-arg override, ${V:-d}, ${V:+alt}, escaped \$, quotes
        ("FROM alpine\nARG SRC=src\nCOPY $SRC ${SRC}/x /app/\n", {}, ["src", "src/x"]),
        ("FROM alpine\nARG SRC=src\nCOPY $SRC /app/\n", {"SRC": "other"}, ["other"]),
        ("FROM alpine\nARG SRC\nCOPY $SRC /app/\n", {"SRC": "given"}, ["given"]),
        ("FROM alpine\nCOPY ${NOPE:-dflt} /app/\n", {}, ["dflt"]),
        ("FROM alpine\nARG V=\nCOPY ${V:-dflt} /app/\n", {}, ["dflt"]),
        ("FROM alpine\nARG V=set\nCOPY x${V:+-alt} /app/\n", {}, ["x-alt"]),
        ("FROM alpine\nCOPY x${NOPE:+-alt} /app/\n", {}, ["x"]),
        ("FROM alpine\nARG A=x\nARG B=${A}y\nCOPY $B /app/\n", {}, ["xy"]),
        ("FROM alpine\nCOPY \\$HOME '$HOME' /app/\n", {}, ["$HOME"]),
        ('FROM alpine\nARG V=v\nCOPY "$V" /app/\n', {}, ["v"]),
        # global ARG: usable in FROM, imported into a stage by a bare ARG, overridden by --build-arg
        ("ARG G=lib\nFROM alpine\nARG G\nCOPY $G /app/\n", {}, ["lib"]),
        ("ARG G=lib\nFROM alpine\nARG G\nCOPY $G /app/\n", {"G": "ext"}, ["ext"]),
        ("ARG G=lib\nFROM alpine\nARG G=own\nCOPY $G /app/\n", {}, ["own"]),
        # --from reads another stage or image, never the context
        ("FROM alpine AS build\nCOPY x /x\nFROM alpine\nCOPY --from=build /x /y\nCOPY --from=0 /x /z\n", {},
         ["x"]),
        ("FROM alpine\nCOPY --from=docker.io/library/busybox /bin/sh /sh\n", {}, []),
        # ADD of a URL downloads; COPY of a URL is an error for buildah but harmless to keep
        ("FROM alpine\nADD https://example.com/a.tgz http://x/y /opt/\nADD local.tgz /opt/\n", {}, ["local.tgz"]),
        ("FROM alpine\nCOPY https://example.com/a /opt/\n", {}, ["https:/example.com/a"]),
        # RUN mounts: only type=bind without from= reads the context
        ("FROM alpine\nRUN --mount=type=bind,source=data,target=/d cat /d/x\n", {}, ["data"]),
        ("FROM alpine\nRUN --mount=src=../data/*,target=/d true\n", {}, ["data/\\*"]),
        ("FROM alpine\nRUN --mount=type=secret,id=tok --mount=type=cache,target=/c true\n", {}, []),
        ("FROM alpine AS b\nFROM alpine\nRUN --mount=type=bind,from=b,source=/x,target=/d true\n", {}, []),
        # ONBUILD triggers of the file's own stages: their sources count (with no variables)
        ("FROM alpine\nONBUILD COPY trig /t\nRUN true\n", {}, ["trig"]),
        # nothing before the first FROM but ARG is run
        ("COPY pre /x\nFROM alpine\nCOPY a /x\n", {}, ["a"]),
    ],
)
def test_sources(containerfile: str, build_args: dict[str, str], expected: list[str]) -> None:
    assert patterns(containerfile, build_args) == expected


@pytest.mark.parametrize(
    ("containerfile", "build_args", "expected"),
    [
        ("FROM alpine\nCOPY . /app\n", {}, "line 2: COPY . reads the whole context"),
        ("FROM alpine\nCOPY ./ /app\n", {}, "line 2: COPY ./ reads the whole context"),
        ("FROM alpine\nCOPY / /app\n", {}, "line 2: COPY / reads the whole context"),
        ("FROM alpine\nCOPY src/.. /app\n", {}, "line 2: COPY src/.. reads the whole context"),
        ("FROM alpine\nARG E=\nCOPY $E /app\n", {}, "line 3: COPY $E reads the whole context"),
        ("FROM alpine\nRUN --mount=type=bind,target=/ctx ls /ctx\n", {},
         "line 2: RUN --mount=type=bind reads the whole context"),
        ("FROM alpine\nRUN --mount=target=/ctx,source=. ls /ctx\n", {},
         "line 2: RUN --mount=type=bind reads the whole context"),
        # unresolvable variables, with the line and the variable
        ("FROM alpine\nWORKDIR /src\nARG X=1\nRUN true\nARG Y\nRUN true\nCOPY $SRC /app\n", {},
         "line 7: COPY $SRC /app: $SRC has no value"),
        ("FROM alpine\nARG SRC\nCOPY $SRC /app\n", {}, "line 3: COPY $SRC /app: $SRC has no value"),
        ("ARG G=lib\nFROM alpine\nCOPY $G /app\n", {}, "line 3: COPY $G /app: $G has no value"),
        ("FROM alpine\nARG SRC=a\nENV SRC=b\nCOPY ${SRC} /app\n", {},
         "line 4: COPY ${SRC} /app: $SRC is set by ENV on line 3 (imgctl does not use ENV values)"),
        ("FROM alpine AS base\nENV SRC=b\nFROM base\nARG SRC=a\nCOPY $SRC /app\n", {},
         "line 5: COPY $SRC /app: $SRC is set by ENV on line 2 (imgctl does not use ENV values)"),
        ("FROM alpine\nARG HOME=/h\nCOPY $HOME/x /app\n", {},
         "line 3: COPY $HOME/x /app: $HOME is set in the environment of base image alpine"),
        ("FROM alpine\nARG TARGETARCH\nCOPY bin/$TARGETARCH /app\n", {},
         "line 3: COPY bin/$TARGETARCH /app: $TARGETARCH is set by the build service for its platform"),
        ("FROM alpine\nONBUILD COPY $X /t\n", {},
         "line 2: COPY $X /t: $X is expanded in the stage that runs the trigger"),
        ('FROM alpine\nCOPY "a /app\n', {}, 'line 2: COPY "a /app: unterminated double quote'),
        ("FROM alpine\nCOPY a[ /app\n", {}, "line 2: COPY a[ /app: the pattern 'a[' is malformed (malformed character class)"),
        # heredocs, unknown flags, bases that cannot be known
        ("FROM alpine\nCOPY <<EOF /app/x\nhello\nEOF\n", {}, "line 2: heredocs are not supported"),
        ("FROM alpine\nRUN <<-'END' sh\necho hi\nEND\n", {}, "line 2: heredocs are not supported"),
        ("FROM alpine\nCOPY --weird a /app\n", {}, "line 2: COPY --weird a /app: the flag --weird is not understood"),
        ("FROM $BASE\nCOPY a /app\n", {}, "line 1: FROM $BASE: $BASE has no value"),
        ("FROM unknown:1\nCOPY a /app\n", {},
         "base image unknown:1 was not inspected: its ENV and ONBUILD triggers could change what the build reads"),
        ("FROM alpine\n", {"x": "y"}, None),
    ],
)
def test_everything_and_why(containerfile: str, build_args: dict[str, str], expected: str | None) -> None:
    found = reach(containerfile, build_args, None, images=IMAGES)
    if expected is None:
        assert found.sources == () and found.reason is None
    else:
        assert found.sources is None
        assert found.reason == expected


def test_a_line_buildah_cannot_read_sends_everything() -> None:
    text = "FROM alpine\nLABEL x=" + "y" * 70_000 + "\nFROM alpine\nCOPY a /\n"
    assert reason(text) == "line 2 is longer than 64 KiB, where buildah stops reading the Containerfile"


def test_base_image_with_onbuild_triggers_reads_everything() -> None:
    found = reach("FROM py-onbuild\nCOPY a /\n", {}, None, images={"py-onbuild": ImageFacts(onbuild=True)})
    assert found.sources is None and "ONBUILD" in (found.reason or "")


def test_without_image_facts_only_scratch_and_stages_resolve() -> None:
    assert reach("FROM scratch AS a\nCOPY x /\nFROM a\nCOPY y /\n", {}, None).sources is not None
    assert reach("FROM alpine\nCOPY x /\n", {}, None).sources is None


# --------------------------------------------------------------------------------------------------------------
# Stages and targets


MULTI = """\
ARG GO=1.22
FROM golang:${GO} AS build
COPY go.mod src/ /src/
FROM alpine AS docs
COPY docs /docs
FROM alpine AS test
COPY --from=build /out /bin/
COPY tests /tests
FROM build AS release
COPY release.txt /
FROM alpine
COPY --from=release /release.txt /
COPY LICENSE /
"""


@pytest.mark.parametrize(
    ("target", "expected_sources", "expected_stages"),
    [
        (None, ["go.mod", "src", "release.txt", "LICENSE"], [0, 3, 4]),
        ("build", ["go.mod", "src"], [0]),
        ("docs", ["docs"], [1]),
        ("test", ["go.mod", "src", "tests"], [0, 2]),
        ("release", ["go.mod", "src", "release.txt"], [0, 3]),
        ("4", ["go.mod", "src", "release.txt", "LICENSE"], [0, 3, 4]),
    ],
)
def test_only_the_stages_the_target_needs(target: str | None, expected_sources: list[str],
                                          expected_stages: list[int]) -> None:
    found = reach(MULTI, {}, target, images=IMAGES)
    assert [source.pattern for source in found.sources or ()] == expected_sources
    assert [stage.index for stage in found.stages] == expected_stages
    if 0 in expected_stages:
        assert found.stages[0] == Stage(0, "build", "golang:1.22")


def test_unknown_target_falls_back() -> None:
    found = reach(MULTI, {}, "nope", images=IMAGES)
    assert found.sources is None and found.reason == "the target stage 'nope' is not in the Containerfile"


def test_stage_dependency_through_variables_keeps_every_stage() -> None:
    text = "FROM alpine AS a\nCOPY a /\nFROM alpine AS b\nCOPY b /\nFROM alpine\nARG S=a\nCOPY --from=$S / /x\n"
    # buildah's dependency scan reads --from=$S unexpanded; imgctl keeps every stage it might name
    assert patterns(text) == ["a", "b"]


def test_copy_from_an_unresolvable_stage_also_counts_as_the_context() -> None:
    assert patterns("FROM alpine AS a\nFROM alpine\nCOPY --from=$NOPE src /x\n") == ["src"]


@pytest.mark.parametrize(
    ("text", "build_args", "target", "expected"),
    [
        (MULTI, {}, None, ("golang:1.22", "alpine")),
        (MULTI, {"GO": "1.21"}, "build", ("golang:1.21",)),
        (MULTI, {}, "docs", ("alpine",)),
        ("FROM scratch AS a\nFROM a\nFROM $NOPE\n", {}, None, ()),
        ("ARG REG=quay.io\nFROM --platform=linux/arm64 ${REG}/x/y:${TAG:-latest} AS a\n", {}, None,
         ("quay.io/x/y:latest",)),
        # a build-arg reaches FROM when some line declares it with a bare ARG (buildah's GlobalAllowedArgs)
        ("FROM img:${V:-1}\nARG V\n", {"V": "2"}, None, ("img:2",)),
        ("FROM img:${V:-1}\n", {"V": "2"}, None, ("img:1",)),
        ("FROM img:${V:-1}\nARG V=3\n", {"V": "2"}, None, ("img:1",)),
    ],
)
def test_base_images(text: str, build_args: dict[str, str], target: str | None, expected: tuple[str, ...]) -> None:
    assert base_images(text, build_args, target) == expected


def test_image_facts_reads_env_and_onbuild_history() -> None:
    plain = {"Config": {"Env": ["PATH=/bin", "HOME=/root"]}, "History": [{"created_by": "/bin/sh -c #(nop) CMD"}]}
    assert image_facts(plain) == ImageFacts(env=frozenset({"PATH", "HOME"}), onbuild=False)
    onbuild = {"Config": {"Env": []}, "History": [{"created_by": "/bin/sh -c #(nop) ONBUILD COPY . /app"}]}
    assert image_facts(onbuild).onbuild
    assert image_facts({"Config": {"OnBuild": ["COPY . /x"]}, "History": []}).onbuild
    assert image_facts({"Config": {"Env": ["A=1"]}}).onbuild  # no history: cannot rule triggers out


# --------------------------------------------------------------------------------------------------------------
# Parsing


def test_escape_directive_with_backtick_continuation() -> None:
    text = "# escape=`\nFROM alpine\nCOPY a `\n     b\\c `\n     /dst/\n"
    instructions = parse(text)
    assert [i.keyword for i in instructions] == ["FROM", "COPY"]
    assert instructions[1].line == 3 and instructions[1].end_line == 5
    assert instructions[1].args == ("a", "b\\c", "/dst/")
    # the word expansion still treats \ as an escape: b\c reaches the glob as bc
    assert patterns(text) == ["a", "bc"]


def test_escape_directive_only_counts_at_the_very_top() -> None:
    text = "FROM alpine\n# escape=`\nCOPY a `\nb /dst/\n"
    assert [i.keyword for i in parse(text)] == ["FROM", "COPY", "B"]


def test_comments_and_empty_continuation_lines() -> None:
    text = "FROM alpine\nCOPY a \\\n# a comment inside\n\n   \\\n  b /dst/\n  # indented comment\nRUN true\n"
    copy = parse(text)[1]
    assert copy.args == ("a", "b", "/dst/") and (copy.line, copy.end_line) == (2, 6)
    assert [i.keyword for i in parse(text)] == ["FROM", "COPY", "RUN"]


def test_flags_and_onbuild_trigger() -> None:
    run = parse("FROM a\nRUN --mount=type=bind,source=\"my dir\",target=/m --network=none ls\n")[1]
    assert run.flags == ("--mount=type=bind,source=my dir,target=/m", "--network=none")
    trigger = parse("FROM a\nONBUILD COPY --from=b x /y\n")[1].trigger
    assert trigger is not None and trigger.keyword == "COPY" and trigger.flags == ("--from=b",)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("FROM alpine\n\nCOPY onlyone\n", 3, "COPY requires at least two arguments"),
        ("FROM alpine AS\n", 1, "FROM requires either one argument, or three"),
        ("FROM a b\n", 1, "FROM requires either one argument, or three"),
        ("ARG\nFROM alpine\n", 1, "ARG requires a name"),
        ('FROM alpine\nCOPY ["a", 1, "/x"]\n', 2, "arrays must be comprised of strings only"),
        ("FROM alpine\nENV ONLYNAME\n", 2, "ENV must have two arguments"),
        ("FROM alpine\nONBUILD FROM x\n", 2, "FROM isn't allowed as an ONBUILD trigger"),
        ("# escape=x\nFROM alpine\n", 1, "invalid escape directive"),
    ],
)
def test_malformed_lines_are_config_errors(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        reach(text, {}, None, containerfile=Path("build/Containerfile"), images=IMAGES)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"build/Containerfile:{line}: ")
    assert message in str(caught.value)


# --------------------------------------------------------------------------------------------------------------
# needs / could_need_below


@pytest.mark.parametrize(
    ("sources", "path", "is_dir", "expected"),
    [
        (["src/*.py"], "src", True, True),  # on the way
        (["src/*.py"], "src", False, False),  # a file cannot be on the way
        (["src/*.py"], "src/a.py", False, True),
        (["src/*.py"], "src/.hidden.py", False, True),  # * matches dotfiles, as in Go
        (["src/*.py"], "src/a.txt", False, False),
        (["src/*.py"], "src/sub/a.py", False, False),  # * does not cross /
        (["src/*.py"], "src/pkg.py/inner.txt", False, True),  # below a match
        (["src/*.py"], "srcx", True, False),
        (["src/*/config.yml"], "src/a", True, True),
        (["src/*/config.yml"], "src/a/config.yml", False, True),
        (["src/*/config.yml"], "src/a/b", True, False),
        (["src/*/config.yml"], "src/a/b/config.yml", False, False),
        (["src"], "src", False, True),  # a file named src
        (["src"], "src", True, True),
        (["src"], "src/deep/er/file", False, True),  # everything below a directory
        (["src"], "srcfile", False, False),
        (["a?c"], "abc", False, True),
        (["a?c"], "ac", False, False),
        (["[a-c]x"], "bx", False, True),
        (["[^a-c]x"], "bx", False, False),
        (["[^a-c]x"], "dx", False, True),
        (["a\\*b"], "a*b", False, True),
        (["a\\*b"], "axb", False, False),
        (["x[1]"], "x1", False, True),  # [1] is a class in Go's glob
        (["x[1]"], "x[1]", False, False),
        ([], "anything", True, False),
        (["lib/a["], "lib/whatever", False, True),  # malformed (only in a hand-built Reach): matches any name
    ],
)
def test_needs(sources: list[str], path: str, is_dir: bool, expected: bool) -> None:
    assert only(*sources).needs(path, is_dir) is expected


@pytest.mark.parametrize(
    ("sources", "directory", "expected"),
    [
        (["src/*/config.yml"], "", True),
        (["src/*/config.yml"], "src", True),
        (["src/*/config.yml"], "src/a", True),
        (["src/*/config.yml"], "src/a/b", False),
        (["src/*/config.yml"], "docs", False),
        (["docs"], "docs/deep/down", True),
        (["a/b/c.txt"], "a", True),
        (["a/b/c.txt"], "a/b", True),
        (["a/b/c.txt"], "a/c", False),
    ],
)
def test_could_need_below(sources: list[str], directory: str, expected: bool) -> None:
    assert only(*sources).could_need_below(directory) is expected


def test_everything_needs_everything() -> None:
    everything = Reach(None, "because", ())
    assert everything.needs("x/y", False) and everything.could_need_below("deep/dir")


# --------------------------------------------------------------------------------------------------------------
# prune


def make_tree(root: Path, files: list[str], links: dict[str, str] | None = None) -> Path:
    for name in files:
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(name)
    for name, target in (links or {}).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, root / name)
    return root


def pruned_paths(root: Path, text: str, keep: tuple[str, ...] = ("Containerfile",)) -> list[str]:
    snapshot = scan(root, IgnoreRules())
    return [entry.path for entry in prune(snapshot, reach(text, {}, None, images=IMAGES), keep).entries]


def test_prune_keeps_matches_their_parents_and_the_kept_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "src/app/main.py", "src/app/util.txt", "src/lib/x.py",
                                "docs/index.md", "node_modules/big/file.js", "empty/", "README"])
    snapshot = scan(root, IgnoreRules())
    pruned = prune(snapshot, reach("FROM alpine\nCOPY src/*/*.py README /app/\n", {}, None, images=IMAGES),
                   keep=["Containerfile"])
    assert [entry.path for entry in pruned.entries] == [
        "Containerfile", "README", "src", "src/app", "src/app/main.py", "src/lib", "src/lib/x.py"]
    assert pruned.file_count == 4 and pruned.total_size == sum(
        len(name) for name in ("Containerfile", "README", "src/app/main.py", "src/lib/x.py"))
    # removed: src/app/util.txt, docs (with its file: once), node_modules (once), empty
    assert pruned.excluded_count == snapshot.excluded_count + 4
    assert pruned.pruned_dirs == snapshot.pruned_dirs and pruned.root == snapshot.root


def test_prune_everything_returns_the_snapshot(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "a", "b/c"])
    snapshot = scan(root, IgnoreRules())
    assert prune(snapshot, reach("FROM alpine\nCOPY . /\n", {}, None, images=IMAGES)) is snapshot


def test_prune_follows_symlinks_the_build_follows(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", "real/f", "real/g", "other/h", "target.txt", "unrelated/u"],
                     {"ld": "real", "file-link": "/target.txt", "inside/rel": "../other", "copied/link": "../unrelated"})
    text = "FROM alpine\nCOPY ld/f /x/\nCOPY file-link /y\nCOPY inside/rel /z/\nCOPY copied /w/\n"
    assert pruned_paths(root, text) == [
        "Containerfile", "copied", "copied/link", "file-link", "inside", "inside/rel", "ld", "other", "other/h",
        "real", "real/f", "target.txt"]


def test_prune_gives_up_when_a_link_target_depends_on_the_path(tmp_path: Path) -> None:
    # a/b/up -> ../x: through `alias` (-> a/b) buildah resolves alias/../x lexically, i.e. x, not a/x
    root = make_tree(tmp_path, ["Containerfile", "a/b/keep", "a/x", "x", "y"], {"alias": "a/b", "a/b/up": "../x"})
    snapshot = scan(root, IgnoreRules())
    found = reach("FROM alpine\nCOPY alias/up /dst\n", {}, None, images=IMAGES)
    assert found.with_links(snapshot).sources is None
    assert "can also be reached through symlink alias" in (found.with_links(snapshot).reason or "")
    assert prune(snapshot, found) is snapshot


def test_prune_with_ignore_rules_only_narrows(tmp_path: Path) -> None:
    root = make_tree(tmp_path, ["Containerfile", ".containerignore", "src/a.py", "src/a.log", "bin/tool"])
    (root / ".containerignore").write_text("*.log\nsrc/*.log\n")
    snapshot = scan(root, IgnoreRules.load(root / ".containerignore"), root / ".containerignore")
    pruned = prune(snapshot, reach("FROM alpine\nCOPY src /src\n", {}, None, images=IMAGES),
                   keep=["Containerfile", ".containerignore"])
    assert [entry.path for entry in pruned.entries] == [".containerignore", "Containerfile", "src", "src/a.py"]
    assert pruned.excluded_count == snapshot.excluded_count + 1
