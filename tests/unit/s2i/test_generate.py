"""builder.s2i.generate: the Containerfile of an S2I build, compared whole (golden texts)."""

from __future__ import annotations

import pytest

from builder.containerfile.document import Document
from builder.containerfile.reach import base_images
from builder.s2i.generate import HEADER, generate
from builder.s2i.scripts import BuilderFacts, Unusable
from builder.s2i.source import SourceFacts

BUILDER = BuilderFacts("registry.access.redhat.com/ubi9/python-311", "image:///usr/libexec/s2i")
PREVIOUS = "3f" * 32


def test_scripts_from_the_builders_image_url() -> None:
    assert generate(BUILDER, SourceFacts()) == HEADER + """\
FROM registry.access.redhat.com/ubi9/python-311
LABEL "io.openshift.s2i.build.image"="registry.access.redhat.com/ubi9/python-311"
# Copying in source code
COPY --chown=1001:0 . /tmp/src
USER 1001
# Assemble script sourced from the builder image's scripts-url label
RUN /usr/libexec/s2i/assemble
# Run script sourced from the builder image's scripts-url label
CMD ["/usr/libexec/s2i/run"]
"""


def test_scripts_from_the_sources_s2i_bin_override_the_builders() -> None:
    source = SourceFacts(scripts=frozenset({"assemble", "run"}))
    assert generate(BUILDER, source) == HEADER + """\
FROM registry.access.redhat.com/ubi9/python-311
LABEL "io.openshift.s2i.build.image"="registry.access.redhat.com/ubi9/python-311"
# Copying in override scripts from .s2i/bin
COPY --chown=1001:0 .s2i/bin/assemble /tmp/scripts/assemble
COPY --chown=1001:0 .s2i/bin/run /tmp/scripts/run
# Copying in source code
COPY --chown=1001:0 . /tmp/src
USER 1001
RUN /tmp/scripts/assemble
CMD ["/tmp/scripts/run"]
"""


def test_a_builder_without_scripts_url_works_when_the_source_has_both_scripts() -> None:
    bare = BuilderFacts("localhost/bare", None)
    text = generate(bare, SourceFacts(scripts=frozenset({"assemble", "run"})))
    assert "RUN /tmp/scripts/assemble\n" in text and 'CMD ["/tmp/scripts/run"]\n' in text


def test_the_environment_file_becomes_one_env_with_nothing_expanded() -> None:
    source = SourceFacts(environment=(("APP_MODULE", "app:main"), ("GREETING", 'hi "$USER" \\o/')))
    assert generate(BUILDER, source) == HEADER + """\
FROM registry.access.redhat.com/ubi9/python-311
LABEL "io.openshift.s2i.build.image"="registry.access.redhat.com/ubi9/python-311"
ENV APP_MODULE="app:main" \\
    GREETING="hi \\"\\$USER\\" \\\\o/"
# Copying in source code
COPY --chown=1001:0 . /tmp/src
USER 1001
# Assemble script sourced from the builder image's scripts-url label
RUN /usr/libexec/s2i/assemble
# Run script sourced from the builder image's scripts-url label
CMD ["/usr/libexec/s2i/run"]
"""
    # (tests/integration/test_s2i.py checks that buildah reads the values back exactly as the file wrote them)


def test_incremental_restores_the_previous_images_artifacts_before_assemble() -> None:
    assert generate(BUILDER, SourceFacts(), restore_from=PREVIOUS) == HEADER + f"""\
FROM {PREVIOUS} AS cached
# Save-artifacts script sourced from the builder image's scripts-url label
USER 1001
RUN if [ -s /usr/libexec/s2i/save-artifacts ]; then /usr/libexec/s2i/save-artifacts > /tmp/artifacts.tar; \
else touch /tmp/artifacts.tar; fi

FROM registry.access.redhat.com/ubi9/python-311
LABEL "io.openshift.s2i.build.image"="registry.access.redhat.com/ubi9/python-311"
COPY --chown=1001:0 --from=cached /tmp/artifacts.tar /tmp/artifacts.tar
# Copying in source code
COPY --chown=1001:0 . /tmp/src
USER 1001
# Extract artifact content
RUN if [ -s /tmp/artifacts.tar ]; then mkdir -p /tmp/artifacts; tar -xf /tmp/artifacts.tar -C /tmp/artifacts; fi && \\
    rm /tmp/artifacts.tar
# Assemble script sourced from the builder image's scripts-url label
RUN /usr/libexec/s2i/assemble
# Run script sourced from the builder image's scripts-url label
CMD ["/usr/libexec/s2i/run"]
"""


def test_incremental_with_the_sources_save_artifacts_copies_it_into_the_restore_stage() -> None:
    source = SourceFacts(scripts=frozenset({"save-artifacts"}))
    text = generate(BUILDER, source, restore_from=PREVIOUS)
    assert text.startswith(HEADER + f"""\
FROM {PREVIOUS} AS cached
# Copying in override save-artifacts script
COPY --chown=1001:0 .s2i/bin/save-artifacts /tmp/scripts/save-artifacts
USER 1001
RUN if [ -s /tmp/scripts/save-artifacts ]; then /tmp/scripts/save-artifacts > /tmp/artifacts.tar; \
else touch /tmp/artifacts.tar; fi
""")
    # The build stage gets it too, as s2i copies every override script.
    assert "COPY --chown=1001:0 .s2i/bin/save-artifacts /tmp/scripts/save-artifacts\n# Copying in source" in text


def test_the_builders_destination_label_moves_scripts_source_and_artifacts() -> None:
    builder = BuilderFacts.from_labels("b", {"io.openshift.s2i.scripts-url": "image:///s2i/",
                                             "io.openshift.s2i.destination": "/opt/s2i/"})
    text = generate(builder, SourceFacts(scripts=frozenset({"run"})), restore_from=PREVIOUS)
    assert "COPY --chown=1001:0 . /opt/s2i/src\n" in text
    assert "COPY --chown=1001:0 .s2i/bin/run /opt/s2i/scripts/run\n" in text
    assert "tar -xf /tmp/artifacts.tar -C /opt/s2i/artifacts" in text  # the tar itself stays in /tmp, as in s2i
    assert "RUN /s2i/assemble\n" in text


def test_the_generated_containerfile_parses_and_names_its_bases() -> None:
    document = Document.from_text(generate(BUILDER, SourceFacts(), restore_from=PREVIOUS))
    assert base_images(document, {}, None) == (PREVIOUS, BUILDER.ref)
    final = [i.keyword for i in document.instructions][-3:]
    assert final == ["RUN", "RUN", "CMD"]


def test_no_assemble_anywhere_is_refused_with_what_would_do() -> None:
    with pytest.raises(Unusable) as caught:
        generate(BuilderFacts("localhost/bare", None), SourceFacts(scripts=frozenset({"run"})))
    assert caught.value.message == ("no assemble script: the source has no .s2i/bin/assemble and the builder image "
                                    "localhost/bare has no io.openshift.s2i.scripts-url label")
    assert "put an executable assemble script in the source's .s2i/bin/" in caught.value.hint


def test_no_run_anywhere_is_refused_too() -> None:
    with pytest.raises(Unusable, match="no run script"):
        generate(BuilderFacts("localhost/bare", None), SourceFacts(scripts=frozenset({"assemble"})))


@pytest.mark.parametrize("url, message", [
    ("https://example.com/s2i", "imgctl does not download S2I scripts"),
    ("http://example.com/s2i", "imgctl does not download S2I scripts"),
    ("file:///usr/libexec/s2i", "a file:// URL names the machine s2i runs on"),
    ("image://usr/libexec/s2i", "image:// needs an absolute path"),
    ("ftp://example.com/s2i", "not a URL s2i reads"),
    ("/usr/libexec/s2i", "not a URL s2i reads"),
])
def test_a_scripts_url_imgctl_cannot_use_is_refused(url: str, message: str) -> None:
    with pytest.raises(Unusable) as caught:
        generate(BuilderFacts("b", url), SourceFacts())
    assert message in caught.value.message
    assert url in caught.value.message


def test_a_scripts_url_imgctl_cannot_use_does_not_matter_when_the_source_has_the_scripts() -> None:
    text = generate(BuilderFacts("b", "https://example.com/s2i"), SourceFacts(scripts=frozenset({"assemble", "run"})))
    assert "RUN /tmp/scripts/assemble\n" in text
