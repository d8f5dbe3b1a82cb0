"""builder.build.execute: what a build does, in order, against an in-memory engine (tests/fakes.py), and the
decisions made from what the engine reports. The builds themselves are integration tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from builder.build.execute import BuildEvent, _image_with_inputs, _why_built, run_build
from builder.build.plan import BuildPlan, plan_build
from builder.build.prepare import snapshot
from builder.config.profile import load_profile
from builder.engine.protocol import BuildParams, ImageRecord, StreamMessage
from builder.errors import BuildError, VerifyError
from builder.inputs.detail import encode
from builder.inputs.digest import Inputs, compute
from builder.inputs.explain import NO_DETAIL
from builder.inputs.hashcache import HashCache
from builder.oci.labels import COMPONENTS_LABEL, DIGEST_LABEL, Provenance
from tests.fakes import FakeEngine

COMPONENTS = {"containerfile": "a" * 64, "file:src/app.py": "b" * 64, "target": "c" * 64}


def image(labels: dict[str, str], image_id: str = "f" * 64) -> ImageRecord:
    return ImageRecord(id=image_id, labels=labels, repo_tags=("localhost/app:latest",))


def Engine(images: dict[str, ImageRecord]) -> FakeEngine:
    return FakeEngine(images=dict(images))


def listed(engine: FakeEngine) -> int:
    return len(engine.called("images_with_label"))


def test_the_first_tag_answers_without_listing_the_store() -> None:
    inputs = Inputs.of(COMPONENTS)
    previous = image({DIGEST_LABEL: inputs.digest})
    engine = Engine({})
    assert _image_with_inputs(engine, inputs, previous) is previous
    assert listed(engine) == 0


def test_an_image_elsewhere_is_found_by_its_label() -> None:
    inputs = Inputs.of(COMPONENTS)
    match = image({DIGEST_LABEL: inputs.digest}, "e" * 64)
    engine = Engine({"e" * 64: match})
    assert _image_with_inputs(engine, inputs, image({DIGEST_LABEL: "sha256:" + "0" * 64})) is match
    assert _image_with_inputs(engine, Inputs.of({**COMPONENTS, "target": "d" * 64}), None) is None
    assert listed(engine) == 2


def test_same_components_under_another_digest_blame_the_imgctl_version() -> None:
    inputs = Inputs.of(COMPONENTS)
    # Labelled by an imgctl that still put the components on the image.
    labels = {COMPONENTS_LABEL: encode(inputs.components), DIGEST_LABEL: "sha256:" + "0" * 64}
    assert _why_built(image(labels), inputs, HashCache(None)) == [
        "the earlier image was labelled by another version of imgctl, whose input digest differs"
    ]


def test_a_changed_component_is_named() -> None:
    before = Inputs.of(COMPONENTS)
    after = Inputs.of({**COMPONENTS, "file:src/app.py": "9" * 64})
    assert COMPONENTS_LABEL not in before.to_label()  # the detail stays on the building machine
    cache = HashCache(None)
    cache.remember(before)
    assert _why_built(image(before.to_label()), after, cache) == ["src/app.py changed"]
    assert _why_built(image(before.to_label()), after, HashCache(None)) == [NO_DETAIL]  # built elsewhere
    assert _why_built(None, after, HashCache(None)) == ["no earlier build of this profile"]


# --- run_build against the in-memory engine -------------------------------------------------------------

NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)
MAIN_ID = "a" * 64


def make_plan(
    tmp_path: Path, profile: str = 'image = "team/app"\ntags = ["1", "latest"]\n[labels]\nx = "y"\n'
) -> BuildPlan:
    (tmp_path / "profiles").mkdir(parents=True, exist_ok=True)
    (tmp_path / "Containerfile").write_text("FROM scratch\nCOPY app /app\n")
    (tmp_path / "app").write_text("content")
    (tmp_path / "profiles" / "app.toml").write_text(profile)
    return replan(tmp_path)


def replan(tmp_path: Path) -> BuildPlan:
    """The plan of the project as it is on disk now."""
    loaded = load_profile(tmp_path / "profiles", "app", env={}, now=NOW)
    return plan_build(loaded, snapshot(loaded), Provenance(created=NOW), nonce="abc")


def main_build(image_id: str = MAIN_ID) -> list[StreamMessage]:
    return [
        {"stream": "STEP 1/2: FROM scratch\n"},
        {"stream": "STEP 2/2: COPY app /app\n"},
        {"stream": "COMMIT\n"},
        {"stream": image_id + "\n"},
    ]


def built_engine() -> FakeEngine:
    engine = FakeEngine(build_script=[main_build()])
    engine.add(ImageRecord(id=MAIN_ID, size=123, layers=("sha256:" + "1" * 64,)))
    return engine


def test_a_build_streams_the_context_then_labels_and_tags_the_result(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    engine = built_engine()
    events: list[BuildEvent] = []
    result = run_build(plan, engine, events.append, cache=HashCache(None))
    (main_params, _), (label_params, _) = engine.called("build")
    assert main_params == dict(plan.params)
    assert label_params["t"] == list(plan.refs) and label_params["layers"] == "true"
    final = engine.images[result.image_id]
    assert result.image_id != MAIN_ID and set(plan.refs) <= set(final.repo_tags)
    assert final.layers == engine.images[MAIN_ID].layers  # the label step adds no layer
    assert final.labels["x"] == "y" and DIGEST_LABEL in final.labels
    assert (result.up_to_date, result.steps, result.size, result.tags) == (False, 2, 123, plan.refs)
    assert result.reasons == ("no earlier build of this profile",)
    assert [e.text for e in events if e.kind == "phase"] == ["labelling and tagging"]
    assert "STEP 2/2: COPY app /app" in [e.text for e in events if e.kind == "line"]


def test_unchanged_inputs_only_tag_the_earlier_image(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    engine = built_engine()
    cache = HashCache(None)
    first = run_build(plan, engine, cache=cache)
    engine.images[first.image_id] = replace(engine.images[first.image_id], repo_tags=("localhost/team/app:1",))
    builds = len(engine.called("build"))
    events: list[BuildEvent] = []
    again = run_build(plan, engine, events.append, cache=cache)
    assert again.up_to_date and again.image_id == first.image_id
    assert len(engine.called("build")) == builds  # nothing built, nothing uploaded
    assert engine.called("tag") == [(first.image_id, "localhost/team/app", "latest")]
    assert events[0].text.startswith(f"up to date: image {first.image_id[:12]}")


def test_no_cache_always_builds_and_says_why(tmp_path: Path) -> None:
    plan = make_plan(tmp_path, 'image = "team/app"\nno_cache = true\n')
    engine = built_engine()
    result = run_build(plan, engine, cache=HashCache(None))
    assert result.reasons == ("--no-cache (no_cache = true) always builds",)


class LabelDroppingEngine(FakeEngine):
    """Loses one label in the label step, as podman does on a cached --target stage."""

    def inspect_image(self, ref: str) -> ImageRecord | None:
        found = super().inspect_image(ref)
        if found is None or found.id == MAIN_ID:
            return found
        return replace(found, labels={k: v for k, v in found.labels.items() if k != "x"})


def test_a_label_the_image_lacks_fails_the_build_with_exit_7(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    engine = LabelDroppingEngine(build_script=[main_build()])
    engine.add(ImageRecord(id=MAIN_ID))
    with pytest.raises(VerifyError) as caught:
        run_build(plan, engine)
    assert caught.value.exit_code == 7
    assert "label x is missing" in str(caught.value)


def test_a_failing_step_is_a_build_error_with_its_output(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    engine = FakeEngine(
        build_script=[
            [
                {"stream": "STEP 1/2: FROM scratch\n"},
                {"stream": "STEP 2/2: RUN false\n"},
                {"stream": "something went wrong\n"},
                {"error": 'building at STEP "RUN false": exit status 1'},
            ]
        ]
    )
    with pytest.raises(BuildError) as caught:
        run_build(plan, engine)
    assert caught.value.exit_status == 1 and caught.value.step == "RUN false"
    assert caught.value.tail == ("something went wrong",)
    assert len(engine.called("build")) == 1  # no label step after a failure


@dataclass
class RewritingEngine(FakeEngine):
    """Rewrites a file just before it reads the upload: the moment between the digest and the tar stream."""

    rewrite: tuple[Path, bytes] | None = None

    def build(self, params: BuildParams, body: bytes | Iterable[bytes],
              headers: Mapping[str, str] | None = None) -> Iterator[StreamMessage]:
        if self.rewrite is not None:
            path, data = self.rewrite
            self.rewrite = None
            path.write_bytes(data)
        return super().build(params, body, headers)


def test_a_file_rewritten_before_the_upload_labels_the_image_with_what_it_got(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    engine = RewritingEngine(build_script=[main_build(), main_build("b" * 64)])
    engine.add(ImageRecord(id=MAIN_ID, size=123))
    engine.add(ImageRecord(id="b" * 64, size=123))
    cache = HashCache(None)
    digest_of_old = compute(plan, {}, HashCache(None)).digest
    engine.rewrite = (tmp_path / "app", b"CONTENT")  # the same size: the upload only checks size and type
    first = run_build(plan, engine, cache=cache)
    labelled = engine.images[first.image_id].labels[DIGEST_LABEL]
    assert labelled != digest_of_old
    assert labelled == compute(replan(tmp_path), {}, HashCache(None)).digest
    # The file settles back on the content the early digest saw: that is not what the image holds.
    (tmp_path / "app").write_bytes(b"content")
    engine.images[first.image_id] = replace(engine.images[first.image_id], repo_tags=("localhost/team/app:1",))
    again = run_build(replan(tmp_path), engine, cache=cache)
    assert not again.up_to_date


def test_an_upload_the_build_did_not_read_to_the_end_gets_no_digest(tmp_path: Path) -> None:
    make_plan(tmp_path)
    (tmp_path / "big").write_bytes(b"x" * (3 << 20))  # the tar is sent in 1 MiB chunks: several of them
    plan = replan(tmp_path)

    @dataclass
    class HalfReadingEngine(FakeEngine):
        def build(self, params: BuildParams, body: bytes | Iterable[bytes],
                  headers: Mapping[str, str] | None = None) -> Iterator[StreamMessage]:
            if not isinstance(body, bytes):
                next(iter(body))  # reads the first chunk only, then answers as if it had built
                return iter(self.build_script.pop(0))
            return super().build(params, body, headers)

    engine = HalfReadingEngine(build_script=[main_build()])
    engine.add(ImageRecord(id=MAIN_ID, size=123))
    result = run_build(plan, engine, cache=HashCache(None))
    assert DIGEST_LABEL not in engine.images[result.image_id].labels


def test_thousands_of_tags_say_why_the_label_step_takes_long(tmp_path: Path) -> None:
    tags = ", ".join(f'"t{i}"' for i in range(300))
    plan = make_plan(tmp_path, f'image = "team/app"\ntags = [{tags}]\n')
    engine = built_engine()
    events: list[BuildEvent] = []
    run_build(plan, engine, events.append, cache=HashCache(None))
    phases = [e.text for e in events if e.kind == "phase"]
    assert phases == ["labelling and tagging: 300 names (podman's image store adds each one in turn; "
                      "this takes a while)"]


def test_build_profiles_builds_from_the_documents_it_is_given(tmp_path: Path) -> None:
    """`imgctl build` reads each Containerfile once (its lint sees those bytes) and hands the Documents over:
    a Containerfile outside the context is uploaded as those bytes, even if the file changed in between."""
    import io
    import tarfile
    from contextlib import contextmanager

    from builder.build.execute import BuildRun, build_profiles
    from builder.config.project import Project
    from builder.containerfile.document import Document

    (tmp_path / "profiles").mkdir()
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "app").write_text("content")
    (tmp_path / "profiles" / "app.toml").write_text(
        'image = "team/app"\ncontext = "ctx"\ncontainerfile = "Containerfile"\n')
    containerfile = tmp_path / "Containerfile"
    containerfile.write_text("FROM scratch\nCOPY app /app\n")
    document = Document.read(containerfile)
    containerfile.write_text("FROM scratch\nCOPY app /elsewhere\n")
    sent: list[bytes] = []

    @dataclass
    class KeepingEngine(FakeEngine):
        def build(self, params: BuildParams, body: bytes | Iterable[bytes],
                  headers: Mapping[str, str] | None = None) -> Iterator[StreamMessage]:
            data = body if isinstance(body, bytes) else b"".join(body)
            sent.append(data)
            return super().build(params, data, headers)

    engine = KeepingEngine(build_script=[main_build()])
    engine.add(ImageRecord(id=MAIN_ID, size=123))

    @contextmanager
    def display(profile: object) -> Iterator[object]:
        yield lambda event: None

    project = Project(tmp_path / "profiles", env={"SOURCE_DATE_EPOCH": "0"})
    build_profiles(engine, [project.profile("app")], BuildRun(project), display,  # type: ignore[arg-type]
                   documents=[document])
    (params, _), _ = engine.called("build")
    with tarfile.open(fileobj=io.BytesIO(sent[0])) as archive:
        member = archive.extractfile(str(params["dockerfile"]))
        assert member is not None
        assert member.read() == b"FROM scratch\nCOPY app /app\n"
