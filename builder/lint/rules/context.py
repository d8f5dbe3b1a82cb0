"""OS118: the build context has an ignore file.

Without `.containerignore` (or `.dockerignore`) a `COPY . .` copies everything in the context into the image:
`.git`, local build output, editor files, `.env` files with credentials. imgctl sends only what the build can
read, but what the build reads is still everything that COPY names.
"""

from __future__ import annotations

from pathlib import Path

from builder.context.ignorefile import find_ignore_file
from builder.findings.model import Finding
from builder.lint.rules.model import Rule
from builder.lint.rules.view import FinalImage
from builder.lint.subject import Subject

NO_IGNORE_FILE = Rule(
    "OS118", "info", "The build context has no .containerignore",
    "Add a .containerignore to the context that excludes at least .git, build output and local secrets "
    "(.env, *.pem); `imgctl context` shows what is sent.",
    source="containerignore(5) (containers/buildah)",
)
RULES = (NO_IGNORE_FILE,)


def check(subject: Subject, image: FinalImage | None) -> list[Finding]:
    del image  # the context, not the stages, decides
    if subject.context is None or not subject.context.is_dir():
        return []
    containerfile = subject.document.path or Path("Containerfile")
    if find_ignore_file(subject.context, containerfile) is not None:
        return []
    return [NO_IGNORE_FILE.finding(subject, None,
                                   f"the build context {subject.context} has no .containerignore or .dockerignore")]
