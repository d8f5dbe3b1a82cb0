"""builder.containerfile.stages: what the stages a build runs read, through the public `reach`."""

from __future__ import annotations

import pytest

from builder.containerfile.document import Document
from builder.containerfile.reach import base_images, reach
from builder.containerfile.stages import ImageFacts, Stage

IMAGES = {name: ImageFacts(env=frozenset({"PATH", "HOME"})) for name in ("alpine", "golang:1.22", "img:1", "img")}


def patterns(text: str, build_args: dict[str, str] | None = None, target: str | None = None) -> list[str] | None:
    found = reach(Document.from_text(text), build_args or {}, target, images=IMAGES)
    return None if found.sources is None else [source.pattern for source in found.sources]


def reason(text: str, build_args: dict[str, str] | None = None, target: str | None = None) -> str | None:
    found = reach(Document.from_text(text), build_args or {}, target, images=IMAGES)
    assert found.sources is None, found.sources
    return found.reason

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
        # wildcards pass through as Go patterns; the word's own escapes are gone before the glob sees them
        # (a backslash that survives the word sends everything: see test_a_backslash_left_in_a_source...)
        ("FROM alpine\nCOPY src/*.py src/?.md [ab]*/x /app/\n", {}, ["src/*.py", "src/?.md", "[ab]*/x"]),
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
        ("FROM alpine\nCOPY a[ /app\n", {},
         "line 2: COPY a[ /app: the pattern 'a[' is malformed (malformed [...] character class)"),
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
    found = reach(Document.from_text(containerfile), build_args, None, images=IMAGES)
    if expected is None:
        assert found.sources == () and found.reason is None
    else:
        assert found.sources is None
        assert found.reason == expected


# buildah 1.28 globs each match again: after the word, `dir\*/f` matches the file `dir*/f`, which globbed again
# copies dirx/f as well (and `x\[1\]` copies x1). Each of these once pruned to the literal name.
@pytest.mark.parametrize(
    ("containerfile", "value"),
    [
        ("FROM alpine\nCOPY dir\\\\*/f /d/\n", "dir\\*/f"),
        ("FROM alpine\nCOPY x\\\\?y /d/\n", "x\\?y"),
        ("FROM alpine\nARG P='x\\*y'\nCOPY $P /d/\n", "x\\*y"),
        ("FROM alpine\nCOPY a\\\\*b /d/\n", "a\\*b"),
        ("FROM alpine\nCOPY x\\\\[1\\\\] /d/\n", "x\\[1\\]"),
        ("FROM alpine\nCOPY 'a\\b' /d/\n", "a\\b"),  # podman copies ab: a\b globbed matches ab
    ],
)
def test_a_backslash_left_in_a_source_sends_everything(containerfile: str, value: str) -> None:
    line = containerfile.count("\n")
    copy = containerfile.split("\n")[line - 1]
    assert reason(containerfile) == (
        f"line {line}: {copy}: the source '{value}' keeps a backslash, but buildah globs each match again, where "
        f"\\* is a wildcard; imgctl cannot tell exactly what it copies")


def test_base_image_with_onbuild_triggers_reads_everything() -> None:
    text = Document.from_text("FROM py-onbuild\nCOPY a /\n")
    found = reach(text, {}, None, images={"py-onbuild": ImageFacts(onbuild=True)})
    assert found.sources is None and "ONBUILD" in (found.reason or "")


def test_without_image_facts_only_scratch_and_stages_resolve() -> None:
    assert reach(Document.from_text("FROM scratch AS a\nCOPY x /\nFROM a\nCOPY y /\n"), {}, None).sources is not None
    assert reach(Document.from_text("FROM alpine\nCOPY x /\n"), {}, None).sources is None


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
    found = reach(Document.from_text(MULTI), {}, target, images=IMAGES)
    assert [source.pattern for source in found.sources or ()] == expected_sources
    assert [stage.index for stage in found.stages] == expected_stages
    if 0 in expected_stages:
        assert found.stages[0] == Stage(0, "build", "golang:1.22")


def test_unknown_target_falls_back() -> None:
    found = reach(Document.from_text(MULTI), {}, "nope", images=IMAGES)
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
    assert base_images(Document.from_text(text), build_args, target) == expected
