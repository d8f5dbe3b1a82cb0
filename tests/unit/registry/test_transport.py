"""builder.registry.transport: cert_dir (containers-certs.d) handling and the hints for failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.registry.client import RegistryClient
from builder.registry.transport import TLSConfig


def test_cert_dir_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        RegistryClient("127.0.0.1:1", None, TLSConfig(cert_dir=tmp_path / "missing"))


def test_cert_dir_half_client_pair_is_refused(tmp_path: Path) -> None:
    (tmp_path / "client.cert").write_text("x")
    with pytest.raises(ConfigError, match=r"client\.key"):
        RegistryClient("127.0.0.1:1", None, TLSConfig(cert_dir=tmp_path))


def test_cert_dir_bundle_removed_on_close(tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    client = RegistryClient("127.0.0.1:1", None, TLSConfig(cert_dir=tmp_path))
    bundle = Path(client._transport.ca_bundle or "")
    assert bundle.is_file() and "MIIB" in bundle.read_text()
    client.close()
    assert not bundle.exists()
    client.close()  # twice is fine
