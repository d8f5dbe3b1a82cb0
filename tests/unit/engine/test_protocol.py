"""builder.engine.protocol: an engine's inspect answer becomes an ImageRecord."""

from __future__ import annotations

from builder.containerfile.reach import image_facts
from builder.engine.protocol import ImageRecord

LIBPOD = {
    "Id": "a" * 64,
    "Digest": "sha256:" + "b" * 64,
    "RepoTags": ["localhost/app:1"],
    "Size": 2048,
    "Labels": {"x": "from the top level"},
    "Config": {
        "Env": ["PATH=/bin", "HOME=/root"],
        "Labels": {"x": "y"},
        "WorkingDir": "/app",
        "OnBuild": None,
    },
    "History": [{"created_by": "COPY busybox /bin/busybox"}, {"created_by": "RUN install", "empty_layer": False}],
    "RootFS": {"Type": "layers", "Layers": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
}


def test_a_libpod_inspect_answer_becomes_a_record() -> None:
    record = ImageRecord.from_inspect(LIBPOD)
    assert record.id == "a" * 64 and record.digest == "sha256:" + "b" * 64
    assert record.repo_tags == ("localhost/app:1",) and record.size == 2048
    assert record.labels == {"x": "y"}  # the config's labels win
    assert record.env == ("PATH=/bin", "HOME=/root") and record.onbuild == ()
    assert record.history == ("COPY busybox /bin/busybox", "RUN install")
    assert record.layers == ("sha256:" + "1" * 64, "sha256:" + "2" * 64) and record.working_dir == "/app"


def test_missing_fields_are_empty_and_no_history_is_none() -> None:
    record = ImageRecord.from_inspect({"Id": "c" * 64, "Labels": {"k": "v"}})
    assert (record.repo_tags, record.size, record.digest, record.layers) == ((), 0, None, ())
    assert record.labels == {"k": "v"} and record.history is None


def test_a_record_gives_image_facts_what_pruning_needs() -> None:
    record = ImageRecord.from_inspect(LIBPOD)
    assert image_facts(record.env, record.onbuild, record.history).env == frozenset({"PATH", "HOME"})
    onbuild = ImageRecord.from_inspect({**LIBPOD, "Config": {**LIBPOD["Config"], "OnBuild": ["COPY . /"]}})  # type: ignore[dict-item]
    assert image_facts(onbuild.env, onbuild.onbuild, onbuild.history).onbuild
    bare = ImageRecord(id="d" * 64)
    assert image_facts(bare.env, bare.onbuild, bare.history).onbuild  # no history: may have triggers


def test_a_record_from_inspect_keeps_the_history_entries_that_made_layers() -> None:
    record = ImageRecord.from_inspect({
        "Id": "a" * 64,
        "Config": {"User": "1001:0", "ExposedPorts": {"8080/tcp": {}}, "Volumes": {"/data": {}},
                   "Cmd": ["/bin/server"], "Entrypoint": "/init", "StopSignal": "SIGQUIT"},
        "History": [{"created_by": "COPY a"}, {"created_by": "ENV x=1", "empty_layer": True}, {"created_by": "RUN b"}],
    })
    assert record.layer_history == ("COPY a", "RUN b") and record.history == ("COPY a", "ENV x=1", "RUN b")
    assert (record.user, record.exposed_ports, record.volumes) == ("1001:0", ("8080/tcp",), ("/data",))
    assert (record.cmd, record.entrypoint, record.stop_signal) == (("/bin/server",), ("/init",), "SIGQUIT")
