"""builder.oci.labels: the OCI labels every image gets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from builder.oci.labels import Provenance, oci_labels


def test_the_created_label_is_utc_rfc3339_and_the_title_the_last_path_part() -> None:
    when = datetime(2026, 11, 24, 13, 30, 5, tzinfo=timezone(timedelta(hours=1)))
    labels = oci_labels(Provenance(created=when), image="quay.io/acme/api")
    assert labels == {"org.opencontainers.image.created": "2026-11-24T12:30:05Z",
                      "org.opencontainers.image.title": "api"}


def test_what_is_known_is_added_and_nothing_else() -> None:
    provenance = Provenance(created=datetime(2026, 1, 1, tzinfo=timezone.utc), revision="abc123",
                            source="https://example.com/r.git")
    labels = oci_labels(provenance, image="api", version="1.2", description="The API")
    assert labels["org.opencontainers.image.revision"] == "abc123"
    assert labels["org.opencontainers.image.source"] == "https://example.com/r.git"
    assert labels["org.opencontainers.image.version"] == "1.2"
    assert labels["org.opencontainers.image.description"] == "The API"
    assert "org.opencontainers.image.version" not in oci_labels(provenance, image="api")
