from __future__ import annotations

from pathlib import Path

import pytest

from builder.containerfile.document import Document
from builder.lint.rules import check
from builder.lint.subject import Subject

SIGNALS = ("OS108", "OS109")
UBI = "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4\nUSER 1001\n"

WITH_EXEC = "#!/bin/sh\nset -e\nprepare-config\nexec \"$@\"\n"
WITH_TRAP = ("#!/bin/bash\nserver &\npid=$!\ntrap 'kill -TERM $pid' TERM INT\nwait $pid\n")
WITHOUT = "#!/bin/sh\n# start\nprepare-config\n\nif [ -n \"$X\" ]; then\n  echo x\nfi\njava -jar app.jar\n"


def _script(context: Path, name: str, text: str) -> None:
    path = context / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(("script", "expected"), [
    (WITH_EXEC, []),
    (WITH_TRAP, []),
    (WITHOUT, [("OS108", 8)]),  # the last command, not the closing `fi`
    ("#!/bin/sh\ntrap 'echo bye' TERM\nserver\n", [("OS108", 3)]),  # a trap that does not wait
    ("#!/bin/sh\ntrap 'exit 0' TERM\nserver &\nwait\n", [("OS108", 4)]),  # waits, never forwards
    ("#!/usr/bin/env bash\nexec >/proc/1/fd/1 2>&1\nserver\n", [("OS108", 3)]),  # exec of redirections only
    ("#!/usr/bin/env python3\nimport os\nos.system('server')\n", []),  # not a shell script
    ("#!/bin/sh\nif true; then exec server; fi\n", []),
])
def test_entrypoint_script(lint, findings, context: Path, script: str, expected: list) -> None:
    _script(context, "entrypoint.sh", script)
    text = f"{UBI}COPY entrypoint.sh /usr/local/bin/\nENTRYPOINT [\"/usr/local/bin/entrypoint.sh\"]\n"
    assert lint(text, codes=SIGNALS, context=context) == expected
    for found in findings(text, codes=SIGNALS, context=context):
        assert found.file == (context / "entrypoint.sh").as_posix()
        assert "SIGTERM" in found.message


def test_script_found_through_a_copied_directory_and_workdir(lint, context: Path) -> None:
    _script(context, "src/bin/run", WITHOUT)
    text = f"{UBI}WORKDIR /opt/app\nCOPY src/ ./\nCMD [\"bin/run\"]\n"
    assert lint(text, codes=SIGNALS, context=context) == [("OS108", 8)]


def test_script_named_without_a_path_is_found_in_a_bin_directory(lint, context: Path) -> None:
    _script(context, "run.sh", WITHOUT)
    text = f"{UBI}COPY run.sh /usr/local/bin/\nCMD [\"run.sh\", \"--port\", \"8080\"]\n"
    assert lint(text, codes=SIGNALS, context=context) == [("OS108", 8)]


@pytest.mark.parametrize("start", [
    'CMD ["sh", "/opt/entrypoint.sh"]',
    'ENTRYPOINT ["/usr/bin/tini", "--", "/opt/entrypoint.sh"]',
    'CMD ["/bin/bash", "-c", "/opt/entrypoint.sh --verbose"]',
    "CMD /opt/entrypoint.sh",  # shell form: DL3025 for the form, OS108 for the script
])
def test_how_the_script_is_started(lint, context: Path, start: str) -> None:
    _script(context, "entrypoint.sh", WITHOUT)
    text = f"{UBI}COPY entrypoint.sh /opt/\n{start}\n"
    assert lint(text, codes=("OS108",), context=context) == [("OS108", 8)]


def test_the_last_copy_wins(lint, context: Path) -> None:
    _script(context, "old.sh", WITHOUT)
    _script(context, "new.sh", WITH_EXEC)
    text = f"{UBI}COPY old.sh /start.sh\nCOPY new.sh /start.sh\nCMD [\"/start.sh\"]\n"
    assert lint(text, codes=SIGNALS, context=context) == []


def test_script_is_named_like_the_containerfile(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app" / "bin").mkdir(parents=True)
    (project / "app" / "bin" / "run.sh").write_text(WITHOUT)
    containerfile = project / "app" / "Containerfile"
    containerfile.write_text(f"{UBI}COPY bin/run.sh /run.sh\nCMD [\"/run.sh\"]\n")
    subject = Subject(Document.read(containerfile), "app/Containerfile", context=project / "app")
    (found,) = [finding for finding in check(subject) if finding.code == "OS108"]
    assert found.file == "app/bin/run.sh"
    # The Containerfile named as given: the script by the context as given.
    subject = Subject(Document.read(containerfile), str(containerfile), context=project / "app")
    (found,) = [finding for finding in check(subject) if finding.code == "OS108"]
    assert found.file == (project / "app" / "bin" / "run.sh").as_posix()


def test_copy_after_cmd_still_counts(lint, context: Path) -> None:
    _script(context, "run.sh", WITHOUT)
    assert lint(f"{UBI}CMD [\"/run.sh\"]\nCOPY run.sh /run.sh\n", codes=SIGNALS, context=context) == [("OS108", 8)]


def test_entrypoint_with_cmd_runs_the_entrypoint(lint, context: Path) -> None:
    _script(context, "entrypoint.sh", WITH_EXEC)
    _script(context, "other.sh", WITHOUT)
    text = (f"{UBI}COPY entrypoint.sh other.sh /opt/\nENTRYPOINT [\"/opt/entrypoint.sh\"]\n"
            "CMD [\"/opt/other.sh\"]\n")
    assert lint(text, codes=SIGNALS, context=context) == []


def test_quiet_without_a_context_or_a_script(lint, context: Path) -> None:
    _script(context, "entrypoint.sh", WITHOUT)
    text = f"{UBI}COPY entrypoint.sh /opt/\nCMD [\"/opt/entrypoint.sh\"]\n"
    assert lint(text, codes=SIGNALS) == []  # a bare file: no context to read
    assert lint(f"{UBI}COPY --from=build /out/run.sh /opt/\nCMD [\"/opt/run.sh\"]\n", codes=SIGNALS,
                context=context) == []
    assert lint(f"{UBI}CMD [\"/usr/bin/server\"]\n", codes=SIGNALS, context=context) == []


def test_binary_without_shebang_is_not_a_script(lint, context: Path) -> None:
    (context / "server").write_bytes(b"\x7fELF\x00\x01binary\nserver\n")
    assert lint(f"{UBI}COPY server /opt/\nCMD [\"/opt/server\"]\n", codes=SIGNALS, context=context) == []


@pytest.mark.parametrize(("start", "expected"), [
    ('CMD ["/bin/sh", "-c", "cd /opt/app && ./serve"]', [("OS109", 3)]),
    ('ENTRYPOINT ["bash", "-c", "migrate; server"]', [("OS109", 3)]),
    ('CMD ["/bin/sh", "-c", "cd /opt/app && exec ./serve"]', []),
    ('CMD ["/bin/sh", "-c", "./serve --port 8080"]', []),  # one command: the shell execs it itself
    ("CMD cd /opt/app && ./serve", []),  # shell form: hadolint's DL3025
])
def test_shell_wrapper(lint, start: str, expected: list) -> None:
    assert lint(f"{UBI}{start}\n", codes=SIGNALS) == expected
