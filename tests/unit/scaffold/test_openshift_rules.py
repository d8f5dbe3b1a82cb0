"""What `imgctl init` writes against imgctl's own OpenShift lint rules (builder.lint.rules), given the subject the
profile describes: the context with its ignore file, the target stage and the writable paths. Until the
`imgctl lint` command is merged this is the check of those rules; tests/unit/cli/test_init.py then also runs the
whole command (hadolint included)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config.profile import load_profile
from builder.containerfile.document import Document
from builder.lint import rules
from builder.lint.subject import Subject
from builder.scaffold.detect import RUNTIMES
from builder.scaffold.plan import plan_init, write_plan


def subject_of(root: Path, name: str) -> Subject:
    profile = load_profile(root / "profiles", name, env={})
    return Subject(document=Document.read(profile.containerfile), file="Containerfile", context=profile.context,
                   target=profile.target, build_args=profile.build_args, writable_paths=profile.writable_paths,
                   policy=profile.lint.policy, labels=profile.labels)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("minimal", [False, True])
def test_no_openshift_finding_at_warning_or_above(tmp_path: Path, runtime: str, minimal: bool) -> None:
    write_plan(plan_init(tmp_path, runtime=runtime, minimal=minimal, name="svc"))
    findings = rules.check(subject_of(tmp_path, "svc"))
    assert [(f.code, f.message) for f in findings if f.level in ("error", "warning")] == []


def test_the_rules_do_fire_on_a_broken_copy(tmp_path: Path) -> None:
    """The check above can fail: without the permission step and with a root USER the same rules object."""
    write_plan(plan_init(tmp_path, runtime="go", name="svc"))
    path = tmp_path / "Containerfile"
    text = path.read_text()
    fix = "RUN chgrp -R 0 /opt/app-root/src \\\n && chmod -R g=u /opt/app-root/src\n"
    assert fix in text
    path.write_text(text.replace(fix, "").replace("USER 1001\nEXPOSE", "USER 0\nEXPOSE"))
    codes = {f.code for f in rules.check(subject_of(tmp_path, "svc")) if f.level in ("error", "warning")}
    assert {"OS103", "OS105"} <= codes


def test_containerfile_example_has_no_openshift_finding_at_warning_or_above() -> None:
    root = Path(__file__).resolve().parents[3]
    findings = rules.check(subject_of(root, "example"))
    assert [(f.code, f.message) for f in findings if f.level in ("error", "warning")] == []
