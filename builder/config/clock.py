"""The one clock of a command: `{date}`, `{timestamp}` and the `created` label all read it.

Reproducible builds (reproducible-builds.org) pin "now" with SOURCE_DATE_EPOCH; `{date}` and `{timestamp}` end
up in labels and tags, which are part of the image, so they follow it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone

from builder.errors import ConfigError

SOURCE_DATE_EPOCH = "SOURCE_DATE_EPOCH"

# The spec's format is `date +%s`'s output: an optional minus and decimal digits. int() alone would also take
# "1_000" and " 5 ", which no tool that reads the variable agrees on.
_EPOCH = re.compile(r"-?[0-9]+")


def command_time(env: Mapping[str, str]) -> datetime:
    """SOURCE_DATE_EPOCH from `env` as a UTC time, else the current time. An empty value counts as unset.

    Raises ConfigError (exit 2) naming the variable when its value is not a whole number of seconds.
    """
    epoch = env.get(SOURCE_DATE_EPOCH)
    if not epoch:
        return datetime.now(timezone.utc)
    try:
        if not _EPOCH.fullmatch(epoch):
            raise ValueError(epoch)
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            f"expected a number of seconds since 1970-01-01 UTC, got {epoch!r}",
            key=SOURCE_DATE_EPOCH,
            hint="unset it, or set it to e.g. $(git log -1 --format=%ct)",
        ) from None
