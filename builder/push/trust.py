"""Letting the engine trust a registry's CA: the push API takes no CA directory, so the service's own
certs.d gets a link to the profile's `cert_dir` for the length of the push."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from builder.push.destinations import Destination

log = logging.getLogger("imgctl.push")


@contextmanager
def engine_trusts(destination: Destination, env: Mapping[str, str]) -> Iterator[None]:
    """Let the podman service verify `destination` with `cert_dir` for the duration of the push.

    The push endpoint takes no CA directory; the service reads `~/.config/containers/certs.d/HOST/`
    for every TLS connection. When that directory does not exist, a link to `cert_dir` is put there
    and removed afterwards. This works when the service runs as the same user (a private service,
    the user's rootless socket); an existing directory there is the user's and is left alone.
    """
    if destination.cert_dir is None or not destination.verify:
        yield
        return
    home = env.get("HOME") or os.path.expanduser("~")
    link = Path(home) / ".config" / "containers" / "certs.d" / destination.registry
    if link.exists() or link.is_symlink():
        log.debug("%s exists; the service uses it for %s", link, destination.registry)
        yield
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(destination.cert_dir, target_is_directory=True)
    log.debug("linked %s -> %s for the push", link, destination.cert_dir)
    try:
        yield
    finally:
        link.unlink(missing_ok=True)
