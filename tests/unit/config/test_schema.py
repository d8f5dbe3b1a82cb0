from __future__ import annotations

import sys

import pytest

from builder.config.schema import SCHEMA, Setting, fresh

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


# --- schema and line finding ----------------------------------------------------------------------------


@pytest.mark.parametrize("setting", SCHEMA, ids=lambda s: s.name)
def test_schema_examples_are_valid(setting: Setting) -> None:
    data = tomllib.loads(setting.example)
    assert list(data) == [setting.name]
    setting.kind.check(data[setting.name])
    if setting.default is not None:
        setting.kind.check(fresh(setting.default))
