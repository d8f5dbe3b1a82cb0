"""builder.context.candidates: the patterns `imgctl ignore` writes for one path."""

from __future__ import annotations

import pytest

from builder.context.candidates import literal_pattern as _literal
from builder.context.dialects import DIALECTS
from builder.context.rules import IgnoreRules


@pytest.mark.parametrize("path", ["svc (v2)/target", "#x", "!x", " lead", "trail ", "a[1]", "c++/b", "x{2}",
                                  "back\\slash", "a|b", "^x$", "dots.$x", "*star?", "tab\tin"])
def test_literal_patterns_match_exactly_their_path(path: str) -> None:
    pattern = _literal(path)
    assert pattern is not None
    rules = IgnoreRules.from_patterns([pattern])
    assert rules.excluded(path) and rules.excluded(path + "/below")
    for other in ("x", "svc v2/target", "a1", "cc/b", "xx", "backslash", "a", "b", "lead", "trail", "ab"):
        if other != path:
            assert not rules.excluded(other), (pattern, other)
    assert not IgnoreRules.from_patterns(["!" + pattern]).excluded(path)
    assert _literal("new\nline") is None


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("path", ["svc (v2)/target", "#x", "!x", "a[1]", "c++/b", "x{2}", "back\\slash", "a|b",
                                  "^x$", "*star?"])
def test_literal_patterns_are_written_for_the_dialect(dialect: str, path: str) -> None:
    pattern = _literal(path, dialect)
    assert pattern is not None
    rules = IgnoreRules.from_patterns([pattern], dialect=dialect)
    assert rules.excluded(path) and rules.excluded(path + "/below") and not rules.excluded("x")
