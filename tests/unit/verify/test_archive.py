"""builder.verify.archive: layer tars read in one streaming pass, whiteouts apart, from a docker-archive."""

from __future__ import annotations

import io

import pytest

from builder.errors import EngineError
from builder.verify.archive import DIRECTORY, FILE, SYMLINK, image_layers, read_archive, read_layer
from tests.fakes import FakeEngine
from tests.unit.verify.tarfiles import D, F, diff_id, docker_archive, layer_tar


def test_a_layer_lists_its_entries_with_owner_mode_and_size_and_its_whiteouts_apart() -> None:
    tar = layer_tar(D("app", 0o775, 1001, 0), F("app/big", 300, 0o640, 1001, 0), F("bin/sh", symlink="busybox"),
                    F("etc/.wh.motd"), F("var/cache/.wh..wh..opq"))
    layer = read_layer("sha256:x", io.BytesIO(tar), len(tar))
    entries = {entry.path: entry for entry in layer.entries}
    assert set(entries) == {"/app", "/app/big", "/bin/sh"}
    assert (entries["/app"].kind, entries["/app"].mode, entries["/app"].uid, entries["/app"].gid) == (
        DIRECTORY, 0o775, 1001, 0)
    assert (entries["/app/big"].kind, entries["/app/big"].size) == (FILE, 300)
    assert (entries["/bin/sh"].kind, entries["/bin/sh"].target, entries["/bin/sh"].size) == (SYMLINK, "busybox", 0)
    assert layer.deleted == ["/etc/motd"] and layer.opaque == ["/var/cache"]
    assert layer.file_bytes == 300 and layer.tar_size == len(tar)


def test_dot_slash_names_are_the_same_paths() -> None:
    layer = read_layer("sha256:x", io.BytesIO(layer_tar(D("./"), F("./etc/passwd", 10))))
    assert [entry.path for entry in layer.entries] == ["/", "/etc/passwd"]


@pytest.mark.parametrize("manifest_first", [False, True])
def test_an_archive_gives_each_layer_by_its_diff_id(manifest_first: bool) -> None:
    one, two = layer_tar(F("a", 5)), layer_tar(F("b", 7))
    layers = read_archive(io.BytesIO(docker_archive(one, two, manifest_first=manifest_first)))
    assert set(layers) == {diff_id(one), diff_id(two)}
    assert [e.path for e in layers[diff_id(two)].entries] == ["/b"]


def test_the_engine_export_is_read_through_a_pipe_in_the_image_order() -> None:
    one, two = layer_tar(F("a", 5)), layer_tar(F("b", 70000))  # more than a pipe buffer
    engine = FakeEngine(saved=docker_archive(one, two))
    layers = image_layers(engine, "img", (diff_id(two), diff_id(one), diff_id(two)))
    assert [layer.diff_id for layer in layers] == [diff_id(two), diff_id(one), diff_id(two)]
    assert engine.called("save") == [("img", "docker-archive")]


def test_a_layer_missing_from_the_export_is_an_engine_error() -> None:
    engine = FakeEngine(saved=docker_archive(layer_tar(F("a", 5))))
    with pytest.raises(EngineError, match="lacks layer sha256:0000"):
        image_layers(engine, "img", ("sha256:" + "0" * 64,))


def test_an_export_that_fails_half_way_reports_the_engine_error_not_a_broken_tar() -> None:
    class Failing(FakeEngine):
        def save(self, ref: str, fmt: str, out: io.BufferedIOBase) -> int:  # type: ignore[override]
            out.write(docker_archive(layer_tar(F("a", 50000)))[:20000])
            raise EngineError("the engine stopped answering")

    with pytest.raises(EngineError, match="stopped answering"):
        image_layers(Failing(), "img", ())


def test_an_unreadable_export_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="could not be read"):
        image_layers(FakeEngine(saved=b"not a tar" * 20000), "img", ())  # more than a pipe holds

