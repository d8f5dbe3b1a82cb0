"""builder.verify.filesystem: group 0 and g=u, /etc/passwd, waste with the layers responsible, layer sizes."""

from __future__ import annotations

import io

from builder.engine.protocol import ImageRecord
from builder.verify import filesystem
from builder.verify.archive import Layer, read_layer
from builder.verify.stack import stack
from tests.unit.verify.tarfiles import D, F, layer_tar

MB = 1000 * 1000


def layers(*tars: bytes) -> list[Layer]:
    return [read_layer(f"sha256:{index}", io.BytesIO(tar), len(tar)) for index, tar in enumerate(tars)]


def test_targets_are_workdir_volumes_and_writable_paths_once_and_not_the_root() -> None:
    record = ImageRecord(id="i", working_dir="/app", volumes=("/app/data", "/app"))
    assert filesystem.writable_targets(record, ["/var/log/app/", "/app/data"]) == ["/app", "/app/data", "/var/log/app"]
    assert filesystem.writable_targets(ImageRecord(id="i", working_dir="/"), []) == []


def test_group_zero_with_g_equal_u_passes_down_the_tree() -> None:
    stacked = stack(layers(layer_tar(D("app", 0o775, 1001, 0), D("app/cache", 0o770, 1001, 0),
                                     F("app/main.py", 10, 0o644, 0, 0))))
    outcome = filesystem.group_check(ImageRecord(id="i", working_dir="/app"), stacked, [], "img")
    assert outcome.findings == () and outcome.detail == "checked /app"


def test_a_directory_not_group_writable_fails_and_names_owner_and_mode() -> None:
    stacked = stack(layers(layer_tar(D("app", 0o755, 0, 0))))
    outcome = filesystem.group_check(ImageRecord(id="i", working_dir="/app"), stacked, [], "img")
    assert [f.code for f in outcome.findings] == ["OS210"]
    assert "/app (0:0 0755)" in outcome.findings[0].message and "chmod -R g=u /app" in outcome.findings[0].hint


def test_a_directory_of_another_group_fails_even_when_writable_by_all() -> None:
    stacked = stack(layers(layer_tar(D("data", 0o777, 1001, 1001))))
    outcome = filesystem.group_check(ImageRecord(id="i", volumes=("/data",)), stacked, [], "img")
    assert "/data (1001:1001 0777)" in outcome.findings[0].message


def test_a_subdirectory_that_breaks_the_rule_is_found_and_many_are_counted() -> None:
    bad = [D(f"w/sub{n}", 0o755, 0, 0) for n in range(5)]
    stacked = stack(layers(layer_tar(D("w", 0o775, 0, 0), *bad, F("w/readonly.txt", 5, 0o644))))
    outcome = filesystem.group_check(ImageRecord(id="i"), stacked, ["/w"], "img")
    message = outcome.findings[0].message
    assert "/w/sub0" in message and "and 2 more" in message and "readonly.txt" not in message


def test_a_writable_path_missing_from_the_image_fails() -> None:
    stacked = stack(layers(layer_tar(D("app", 0o775))))
    outcome = filesystem.group_check(ImageRecord(id="i"), stacked, ["/var/lib/app"], "img")
    assert outcome.findings[0].message == "/var/lib/app is not in the image"


def test_writable_passwd_or_group_fails_and_read_only_or_absent_passes() -> None:
    bad = stack(layers(layer_tar(F("etc/passwd", 50, 0o664), F("etc/group", 20, 0o646))))
    outcome = filesystem.passwd_check(bad, "img")
    assert [f.message.split(" is ")[0] for f in outcome.findings] == ["/etc/passwd", "/etc/group"]
    good = filesystem.passwd_check(stack(layers(layer_tar(F("etc/passwd", 50, 0o644)))), "img")
    assert good.findings == () and good.detail == "/etc/passwd 644, /etc/group absent"


def test_a_later_chmod_counts_in_the_final_filesystem() -> None:
    stacked = stack(layers(layer_tar(F("etc/passwd", 50, 0o644)), layer_tar(F("etc/passwd", 50, 0o666))))
    assert len(filesystem.passwd_check(stacked, "img").findings) == 1


def wasteful() -> tuple[ImageRecord, list[Layer]]:
    record = ImageRecord(id="i", layer_history=("/bin/sh -c #(nop) COPY file:abc in /bin/busybox ",
                                                "/bin/sh -c dd if=/dev/zero of=/big bs=1M count=10",
                                                "/bin/sh -c rm /big"))
    return record, layers(layer_tar(F("bin/busybox", MB)), layer_tar(F("big", 10 * MB)), layer_tar(F(".wh.big")))


def test_waste_names_the_layers_that_added_and_discarded_it_with_their_steps() -> None:
    record, found = wasteful()
    stacked = stack(found)
    sizes = filesystem.layer_sizes(record, found, stacked)
    assert [size.created_by for size in sizes] == ["COPY file:abc in /bin/busybox",
                                                  "RUN dd if=/dev/zero of=/big bs=1M count=10", "RUN rm /big"]
    assert [size.wasted for size in sizes] == [0, 10 * MB, 0]
    outcome = filesystem.waste_check(stacked, sizes, "img")
    assert [(f.code, f.level) for f in outcome.findings] == [("OS213", "warning")]
    message = outcome.findings[0].message
    assert "10.0 MB added by layer 2 (RUN dd if=/dev/zero" in message
    assert "discarded by layer 3 (RUN rm /big)" in message
    assert "/big (10.0 MB, deleted)" in outcome.findings[0].hint
    assert "efficiency 9.1% (dive)" in outcome.detail


def test_small_waste_passes_whatever_the_ratio() -> None:
    found = layers(layer_tar(F("etc/conf", 2000)), layer_tar(F("etc/conf", 2000)))
    stacked = stack(found)
    assert stacked.efficiency == 0.5  # poor by dive's rule, but 2 kB
    assert filesystem.waste_check(stacked, filesystem.layer_sizes(ImageRecord(id="i"), found, stacked),
                                  "img").findings == ()


def test_the_layer_notes_list_each_layer_with_size_and_step_and_missing_history_says_so() -> None:
    record, found = wasteful()
    stacked = stack(found)
    notes = filesystem.layer_notes(filesystem.layer_sizes(record, found, stacked))
    assert notes[0].startswith("3 layers, 11.0 MB")
    assert notes[2].startswith("layer 2: 10.0 MB (10.0 MB discarded later) RUN dd")
    no_history = filesystem.layer_notes(filesystem.layer_sizes(ImageRecord(id="i"), found, stacked))
    assert no_history[1].endswith("(no history)")
