"""builder.inputs.sent: the digest on the image is made of the bytes the tar stream actually sent."""

from __future__ import annotations

import hashlib

from builder.context.tar import tar_stream
from builder.inputs.digest import compute
from builder.inputs.sent import SentContent
from tests.unit.inputs.project import BASES, FILES, Project, write


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_file_sent_is_summed_once_as_it_is_sent(project: Project) -> None:
    plan = project.plan()
    cache = project.cache()
    sent = SentContent(plan.snapshot, cache)
    body = b"".join(tar_stream(plan.snapshot, plan.extra, sink=sent))
    assert sent.complete
    assert sent.sums["src/app.py"] == sha(FILES["ctx/src/app.py"])
    files = {e.path for e in plan.snapshot.entries if e.kind == "file"}
    assert files <= sent.sums.keys()
    assert FILES["ctx/src/app.py"] in body
    # The sums went into the hash cache: the digest after the upload reads no file again.
    cache.save()
    again = project.cache()
    compute(project.plan(), BASES, again)
    assert again.bytes_read == 0


def test_a_file_replaced_between_the_digest_and_the_upload_labels_the_image_with_what_it_got(
        project: Project) -> None:
    plan = project.plan()
    before = compute(plan, BASES, project.cache())
    # Same size, other bytes: the upload checks size and type only, so it sends the new content.
    replaced = b"print('APP')\n"
    assert len(replaced) == len(FILES["ctx/src/app.py"])
    write(project.ctx / "src" / "app.py", replaced)
    sent = SentContent(plan.snapshot, project.cache())
    for _ in tar_stream(plan.snapshot, plan.extra, sink=sent):
        pass
    settled = before.settled(sent.sums)
    assert settled.digest != before.digest
    assert settled.digest == compute(project.plan(), BASES, project.cache()).digest


def test_an_upload_cut_short_is_not_complete(project: Project) -> None:
    plan = project.plan()
    sent = SentContent(plan.snapshot, project.cache())
    stream = tar_stream(plan.snapshot, plan.extra, chunk_size=512, sink=sent)
    next(stream)
    next(stream)
    assert not sent.complete
