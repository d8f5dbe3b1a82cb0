"""`imgctl lint --config FILE`: [lint] keys from a TOML file, checked like a profile's, errors with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config.sections import LintSettings
from builder.errors import ConfigError
from builder.lint.config import merged, read


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lint.toml"
    path.write_text(text)
    return path


def error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        read(path)
    return raised.value


def test_keys_at_the_top_level_or_under_lint(tmp_path: Path) -> None:
    top = read(write(tmp_path, 'ignore = ["DL3008"]\nfailure_threshold = "error"\n'))
    assert top == {"ignore": ["DL3008"], "failure_threshold": "error"}
    table = read(write(tmp_path, '[lint]\nignore = ["DL3008"]\n[lint.override]\nOS106 = "error"\n'))
    assert table == {"ignore": ["DL3008"], "override": {"OS106": "error"}}


def test_a_bad_value_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, '# lint settings\nignore = ["DL3008"]\nfailure_threshold = "fatal"\n')
    found = error(path)
    assert (found.file, found.line, found.key) == (path, 3, "failure_threshold")
    assert str(found).startswith(f"{path}:3: failure_threshold: ")


def test_a_bad_override_under_lint_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[lint]\nignore = []\n\n[lint.override]\nDL3008 = "fatal"\n')
    found = error(path)
    assert (found.line, found.key) == (5, "lint.override.DL3008")


def test_an_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    found = error(write(tmp_path, 'ignored = ["DL3008"]\n'))
    assert found.line == 1 and "did you mean 'ignore'" in found.message


def test_a_code_that_is_no_rule_code(tmp_path: Path) -> None:
    found = error(write(tmp_path, 'ignore = [\n  "DL3008",\n  "dl-3009",\n]\n'))
    assert (found.line, found.key) == (3, "ignore[1]")


def test_keys_both_inside_and_outside_lint_are_refused(tmp_path: Path) -> None:
    found = error(write(tmp_path, 'ignore = ["DL3008"]\n[lint]\npolicy = "certification"\n'))
    assert found.line == 1 and "outside [lint]" in found.message


def test_invalid_toml_and_a_missing_file(tmp_path: Path) -> None:
    found = error(write(tmp_path, 'ignore = ["DL3008"\n'))
    assert found.file == tmp_path / "lint.toml" and found.line is not None
    missing = error(tmp_path / "nope.toml")
    assert "cannot read the lint configuration" in missing.message


def test_merged_replaces_keys_and_merges_override_entries() -> None:
    profile = LintSettings(ignore=("DL3008",), override={"OS106": "error", "DL3006": "info"}, on_build="error")
    result = merged(profile, {"ignore": ["DL3009"], "override": {"DL3006": "error"}})
    assert result.ignore == ("DL3009",)
    assert dict(result.override) == {"OS106": "error", "DL3006": "error"}
    assert result.on_build == "error"
