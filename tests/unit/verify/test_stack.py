"""builder.verify.stack: layers stacked with their whiteouts; what is wasted, and dive's efficiency."""

from __future__ import annotations

import io

import pytest

from builder.verify.archive import Layer, read_layer
from builder.verify.stack import stack
from tests.unit.verify.tarfiles import D, F, layer_tar


def layers(*tars: bytes) -> list[Layer]:
    return [read_layer(f"sha256:{index}", io.BytesIO(tar), len(tar)) for index, tar in enumerate(tars)]


def test_a_file_deleted_later_is_wasted_where_it_was_added_and_gone_from_the_filesystem() -> None:
    result = stack(layers(layer_tar(F("bin/busybox", 1000)), layer_tar(F("big", 10000)), layer_tar(F(".wh.big"))))
    assert result.entry("/big") is None and result.entry("/bin/busybox") is not None
    assert [(w.path, w.size, w.added_in, w.removed_in, w.how) for w in result.waste] == [
        ("/big", 10000, 1, 2, "deleted")]
    assert result.wasted == 10000
    # dive: /big counts 10000 + 0 (a file's whiteout), smallest 0; /bin/busybox 1000 -> 1000 / 11000.
    assert result.efficiency == pytest.approx(1000 / 11000)
    assert result.dive_wasted == 10000 and result.user_bytes == 10000
    assert result.user_wasted_ratio == pytest.approx(1.0)


def test_an_overwritten_file_wastes_its_old_version_only() -> None:
    result = stack(layers(layer_tar(F("etc/conf", 400)), layer_tar(F("etc/conf", 100))))
    assert [(w.size, w.how) for w in result.waste] == [(400, "overwritten")]
    assert result.entry("/etc/conf").size == 100  # type: ignore[union-attr]
    assert result.efficiency == pytest.approx(100 / 500) and result.dive_wasted == 500


def test_a_deleted_directory_wastes_everything_under_it_and_dive_counts_it_at_the_whiteout() -> None:
    result = stack(layers(
        layer_tar(D("cache"), F("cache/a", 300), D("cache/sub"), F("cache/sub/b", 200), F("keep", 500)),
        layer_tar(F(".wh.cache")),
    ))
    assert sorted(w.path for w in result.waste) == ["/cache/a", "/cache/sub/b"]
    assert not list(result.under("/cache")) and result.entry("/keep") is not None
    # dive: the whiteout of a directory counts what was under it (500), so /cache totals 0 + 500, smallest 0;
    # the files under it appear once, so their own smallest sizes still count: (300 + 200 + 500) / 1500.
    assert result.efficiency == pytest.approx(1000 / 1500)
    assert result.dive_wasted == 500


def test_an_opaque_directory_hides_the_lower_content_but_keeps_its_own() -> None:
    result = stack(layers(
        layer_tar(D("data"), F("data/old", 300)),
        layer_tar(D("data", 0o775), F("data/.wh..wh..opq"), F("data/new", 10)),
    ))
    assert [entry.path for entry in result.under("/data")] == ["/data", "/data/new"]
    assert result.entry("/data").mode == 0o775  # type: ignore[union-attr]
    assert [(w.path, w.removed_in) for w in result.waste] == [("/data/old", 1)]


def test_a_file_replaced_by_a_directory_and_back() -> None:
    result = stack(layers(
        layer_tar(F("x", 50)),
        layer_tar(D("x"), F("x/inner", 20)),
        layer_tar(F("x", 5)),
    ))
    assert sorted((w.path, w.size) for w in result.waste) == [("/x", 50), ("/x/inner", 20)]
    assert [entry.path for entry in result.under("/x")] == ["/x"]


def test_directories_listed_again_waste_nothing() -> None:
    result = stack(layers(layer_tar(D("etc"), F("etc/a", 10)), layer_tar(D("etc", 0o775), F("etc/b", 10))))
    assert result.waste == [] and result.efficiency == 1.0
    assert result.entry("/etc").mode == 0o775  # type: ignore[union-attr]
    assert {entry.path for entry in result.under("/etc")} == {"/etc", "/etc/a", "/etc/b"}


def test_an_empty_image_is_fully_efficient() -> None:
    result = stack([])
    assert (result.efficiency, result.wasted, result.user_wasted_ratio) == (1.0, 0, 0.0)
