"""builder.push.trust: the service's certs.d gets a link to cert_dir for the push, and only when it has none."""

from __future__ import annotations

from pathlib import Path

from builder.push.destinations import Destination
from builder.push.trust import engine_trusts


def test_a_link_for_the_length_of_the_push(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    link = tmp_path / "home" / ".config" / "containers" / "certs.d" / "reg.example.com:5000"
    with engine_trusts(Destination("reg.example.com:5000/team/app", cert_dir=certs), {"HOME": str(tmp_path / "home")}):
        assert link.is_symlink() and link.resolve() == certs.resolve()
    assert not link.exists() and not link.is_symlink()


def test_the_users_own_directory_is_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / "home" / ".config" / "containers" / "certs.d" / "reg.example.com"
    mine.mkdir(parents=True)
    (mine / "ca.crt").write_text("mine")
    with engine_trusts(Destination("reg.example.com/team/app", cert_dir=tmp_path), {"HOME": str(tmp_path / "home")}):
        assert not mine.is_symlink()
    assert (mine / "ca.crt").read_text() == "mine"


def test_nothing_without_cert_dir_or_with_verification_off(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for destination in (
        Destination("reg.example.com/a/b"),
        Destination("reg.example.com/a/b", verify=False, cert_dir=tmp_path),
    ):
        with engine_trusts(destination, {"HOME": str(home)}):
            assert not home.exists()
