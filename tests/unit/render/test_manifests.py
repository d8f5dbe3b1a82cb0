from __future__ import annotations

import pytest

from builder.render.manifests import print_manifest, print_notes, print_written


def test_the_document_goes_to_stdout_as_is_and_the_rest_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    print_manifest("a: 1\n---\nb: 2\n")
    print_written("kaniko-job", "api", "job.yaml")
    print_notes(["first", "second"])
    out, err = capsys.readouterr()
    assert out == "a: 1\n---\nb: 2\n"
    assert err == "wrote kaniko-job for api to job.yaml\nwarning: first\nwarning: second\n"
