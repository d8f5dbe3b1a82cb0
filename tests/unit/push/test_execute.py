"""builder.push: the decisions that need no engine (the pushes themselves are integration tests)."""

from __future__ import annotations

import pytest

from builder.errors import AuthError, RegistryError
from builder.push.destinations import Destination
from builder.push.execute import PushEvent, _tag_in_registry
from builder.registry.client import MANIFEST_MEDIA_TYPES, Manifest

MANIFEST = Manifest(body=b"{}", media_type=MANIFEST_MEDIA_TYPES[1], digest="sha256:" + "ab" * 32)
DESTINATION = Destination("registry.example.com/team/app")


class Client:
    """Stands in for RegistryClient: serves `manifest` for the first tag; `fail` raises on the Nth put."""

    def __init__(
        self, manifest: Manifest | None = MANIFEST, fail: int | None = None, error: Exception | None = None
    ) -> None:
        self.manifest = manifest
        self.fail = fail
        self.error = error or RegistryError("registry.example.com answered PUT with 405 Method Not Allowed")
        self.puts: list[str] = []

    def get_manifest(self, repository: str, reference: str) -> Manifest | None:
        assert (repository, reference) == ("team/app", "1.0")
        return self.manifest

    def put_manifest(self, repository: str, tag: str, manifest: Manifest) -> str:
        if self.fail is not None and len(self.puts) == self.fail:
            raise self.error
        self.puts.append(tag)
        return manifest.digest


def test_later_tags_get_the_first_tags_manifest() -> None:
    events: list[PushEvent] = []
    client = Client()
    outcomes = _tag_in_registry(client, DESTINATION, "1.0", ["1", "latest"], events.append)  # type: ignore[arg-type]
    assert client.puts == ["1", "latest"]
    assert outcomes is not None and set(outcomes) == {"1", "latest"}
    assert all(attempts == 1 for attempts, _ in outcomes.values())
    assert [e.text for e in events if e.kind == "line"] == ["tagged in the registry (the manifest of :1.0)"] * 2


@pytest.mark.parametrize("error", [RegistryError("405"), AuthError("denied")])
def test_a_registry_that_refuses_leaves_the_tags_to_the_engine(error: Exception) -> None:
    client = Client(fail=1, error=error)
    assert _tag_in_registry(client, DESTINATION, "1.0", ["1", "latest"], lambda event: None) is None  # type: ignore[arg-type]
    assert client.puts == ["1"]


def test_a_first_tag_the_registry_does_not_serve_leaves_the_tags_to_the_engine() -> None:
    client = Client(manifest=None)
    assert _tag_in_registry(client, DESTINATION, "1.0", ["1"], lambda event: None) is None  # type: ignore[arg-type]
    assert client.puts == []


# --- the retry loop, the local image and saving, against the in-memory engine ----------------------------

import os  # noqa: E402
import signal  # noqa: E402
import stat  # noqa: E402
import threading  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

from builder.config.profile import load_profile  # noqa: E402
from builder.engine.protocol import ImageRecord  # noqa: E402
from builder.errors import VerifyError  # noqa: E402
from builder.push.execute import PushOptions, _push_tag, save_image  # noqa: E402
from builder.registry.credentials import Credential, Lookup  # noqa: E402
from tests.fakes import FakeEngine  # noqa: E402

NO_CREDENTIAL = Lookup("registry.example.com/team/app", None, ("no auth file exists",), ())
CREDENTIAL = Lookup(
    "registry.example.com/team/app",
    Credential("registry.example.com", "me", "secret", None, "/home/me/auth.json", "registry.example.com"),
    (),
    (),
)
FAST = PushOptions(retries=3, retry_delay=0.0, env={})


def push_tag(
    engine: FakeEngine, found: Lookup = NO_CREDENTIAL, options: PushOptions = FAST
) -> tuple[int, list[PushEvent]]:
    events: list[PushEvent] = []
    attempts, _ = _push_tag(engine, "i" * 64, DESTINATION, "1.0", found, options, events.append)
    return attempts, events


def test_transient_failures_are_retried_until_the_push_succeeds() -> None:
    engine = FakeEngine(
        push_script=[[{"error": "connection reset by peer"}], [{"error": "received 503 Service Unavailable"}], []]
    )
    attempts, events = push_tag(engine)
    assert attempts == 3
    assert [e.kind for e in events].count("retry") == 2
    assert engine.called("push")[0] == ("i" * 64, "registry.example.com/team/app:1.0", None, True)


def test_retries_run_out_with_exit_6() -> None:
    engine = FakeEngine(push_script=[[{"error": "i/o timeout"}]] * 3)
    with pytest.raises(RegistryError) as caught:
        push_tag(engine, options=PushOptions(retries=2, retry_delay=0.0, env={}))
    assert "after 3 attempts: i/o timeout" in str(caught.value)
    assert len(engine.called("push")) == 3


def test_a_refused_credential_is_never_retried() -> None:
    engine = FakeEngine(push_script=[[{"error": "unauthorized: authentication required"}], []])
    with pytest.raises(AuthError) as caught:
        push_tag(engine, CREDENTIAL)
    assert len(engine.called("push")) == 1
    assert "/home/me/auth.json, key registry.example.com" in str(caught.value)
    assert engine.called("push")[0][2] == CREDENTIAL.credential.x_registry_auth()  # type: ignore[union-attr]


def test_a_permanent_failure_is_not_retried() -> None:
    engine = FakeEngine(push_script=[[{"error": "manifest invalid"}], []])
    with pytest.raises(RegistryError):
        push_tag(engine)
    assert len(engine.called("push")) == 1


NOW = datetime(2026, 11, 24, 12, 30, 5, tzinfo=timezone.utc)


def profile(tmp_path: Path, tags: str = '["1", "latest"]'):
    (tmp_path / "profiles").mkdir(parents=True, exist_ok=True)
    (tmp_path / "Containerfile").write_text("FROM scratch\n")
    (tmp_path / "profiles" / "app.toml").write_text(f'image = "team/app"\ntags = {tags}\n')
    return load_profile(tmp_path / "profiles", "app", env={}, now=NOW)


def saving_engine() -> FakeEngine:
    engine = FakeEngine(saved=b"the archive")
    engine.add(ImageRecord(id="a" * 64, repo_tags=("localhost/team/app:1", "localhost/team/app:latest")))
    return engine


def test_save_replaces_a_regular_file_atomically(tmp_path: Path) -> None:
    output = tmp_path / "out.tar"
    output.write_bytes(b"old")
    assert save_image(saving_engine(), profile(tmp_path), output, "oci-archive") == len(b"the archive")
    assert output.read_bytes() == b"the archive"
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_save_writes_through_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    save_image(saving_engine(), profile(tmp_path), fifo, "oci-archive")
    reader.join(timeout=10)
    assert received == [b"the archive"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_save_writes_through_a_link_to_a_device(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    save_image(saving_engine(), profile(tmp_path), link, "docker-archive")
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_save_of_a_missing_image_writes_nothing(tmp_path: Path) -> None:
    output = tmp_path / "out.tar"
    with pytest.raises(VerifyError):
        save_image(FakeEngine(), profile(tmp_path), output, "oci-archive")
    assert list(tmp_path.glob("*.tar")) == [] and list(tmp_path.glob(".*partial")) == []


def test_a_cancelled_push_stops_retrying_at_once() -> None:
    """Ctrl-C in the main thread cancels the workers: the retry wait ends at once, and no attempt follows."""
    from builder.errors import Interrupted
    from builder.retry import Cancellation

    cancel = Cancellation()
    engine = FakeEngine(push_script=[[{"error": "received 503 Service Unavailable"}], []])
    slow = PushOptions(retries=5, retry_delay=3600.0, env={})
    events: list[PushEvent] = []

    def on_event(event: PushEvent) -> None:
        events.append(event)
        if event.kind == "retry":
            cancel.cancel()  # arrives while the worker is about to wait an hour

    with pytest.raises(Interrupted):
        _push_tag(engine, "i" * 64, DESTINATION, "1.0", NO_CREDENTIAL, slow, on_event, cancel)
    assert len(engine.called("push")) == 1  # the second attempt was never made
    assert [e.kind for e in events][-1] == "retry"


def test_in_parallel_returns_without_waiting_for_workers_when_interrupted() -> None:
    """The wait for push threads gives way to Ctrl-C (raised in the main thread by the CLI's handler): the
    command can then stop the service and exit, and the daemon worker does not hold the process."""
    from builder.errors import Interrupted
    from builder.push.execute import in_parallel
    from builder.retry import Cancellation

    cancel = Cancellation()
    release = threading.Event()
    finished = threading.Event()

    def stuck() -> str:  # a push stream that only ends when the service does
        release.wait(30)
        finished.set()
        return "late"

    def handler(signum: int, frame: object) -> None:
        raise Interrupted("interrupted by SIGUSR1")

    previous = signal.signal(signal.SIGUSR1, handler)
    timer = threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        timer.start()
        with pytest.raises(Interrupted):
            in_parallel([stuck], cancel)
        still_pushing = not finished.is_set()
        workers = [t for t in threading.enumerate() if t.name.startswith("push-")]
    finally:
        signal.signal(signal.SIGUSR1, previous)
        release.set()
    assert cancel.cancelled
    assert still_pushing  # returned while the worker was still in its stream
    assert workers and all(t.daemon for t in workers)  # and that worker cannot hold the process at exit


def test_an_auth_file_others_can_read_is_a_warning_event_in_the_one_format(tmp_path: Path) -> None:
    import io

    from builder.push.execute import push_image
    from builder.render.push import PushDisplay

    auth = tmp_path / "auth.json"
    auth.write_text('{"auths": {"other.example.com": {"auth": "dTpw"}}}')  # u:p, for another registry
    auth.chmod(0o644)
    engine = FakeEngine(push_script=[[{"error": "denied: requested access to the resource is denied"}]])
    options = PushOptions(retries=0, retry_delay=0.0, authfile=auth, env={"HOME": str(tmp_path)})
    shown = io.StringIO()
    with PushDisplay(live=False, quiet=False, stream=shown) as display, pytest.raises(AuthError):
        push_image(engine, "app", "i" * 64, ["1.0"], [DESTINATION], options, display.on_event)
    warnings = [line for line in shown.getvalue().splitlines() if line.startswith("warning: ")]
    assert warnings == [f"warning: {auth} is readable by other users (mode 0644); run chmod 600 {auth}"]
