"""`imgctl lint --config FILE`: the keys of a profile's `[lint]` table, from a TOML file of their own.

The keys sit at the top level or under `[lint]` (so a profile's table can be copied as it is), never both.
They are checked by the profile schema's own `LINT` section, so errors read like a profile's: FILE:LINE: key.
A key in the file replaces the profile's (lists included); `override` is merged entry by entry, as a child
profile's `[lint]` merges with its parent's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder.config.files import parse_toml
from builder.config.kinds import Invalid, KeyPath
from builder.config.locate import Source
from builder.config.schema import LINT
from builder.config.sections import LintSettings

WHAT = "the lint configuration"
_EXAMPLE = 'ignore = ["DL3008"]\nfailure_threshold = "error"\n[override]\nOS106 = "error"'


def read(path: Path) -> dict[str, Any]:
    """The checked `[lint]` keys of FILE. Raises ConfigError (file, line, key) for anything LINT refuses."""
    text, data = parse_toml(path, WHAT)
    source = Source(file=path, text=text)
    prefix: KeyPath = ()
    table: Any = data
    if "lint" in data:
        if len(data) > 1:
            others = sorted(key for key in data if key != "lint")
            raise source.error((others[0],), f"{others[0]!r} is outside [lint]",
                               "put every key either under [lint] or at the top level, not both")
        prefix, table = ("lint",), data["lint"]
    try:
        LINT.check(table)
    except Invalid as invalid:
        where: KeyPath = (*prefix, *invalid.sub)
        raise source.error(where, invalid.message, invalid.hint or f"for example:\n{_EXAMPLE}") from None
    return dict(table)


def merged(settings: LintSettings, raw: dict[str, Any]) -> LintSettings:
    """`settings` (the profile's, or the defaults) with the file's keys on top."""
    values = settings.to_dict()
    for key, value in raw.items():
        values[key] = {**values[key], **value} if key == "override" else value
    return LintSettings.from_raw(values)
