"""Runtime detection on sample trees: every runtime, ambiguity, nothing, and what --runtime overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import ConfigError
from builder.scaffold.detect import RUNTIMES, detect, markers_found

SAMPLES = {
    "python": ("requirements.txt",),
    "nodejs": ("package.json",),
    "java": ("pom.xml",),
    "go": ("go.mod",),
    "php": ("composer.json",),
    "ruby": ("Gemfile",),
    "dotnet": ("Api.csproj",),
}
MORE = [("python", ("pyproject.toml",)), ("python", ("pyproject.toml", "requirements.txt")),
        ("java", ("build.gradle",)), ("java", ("build.gradle.kts", "settings.gradle.kts")),
        ("dotnet", ("Api.csproj", "Api.Tests.csproj"))]


def tree(root: Path, names: tuple[str, ...]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name in names:
        (root / name).write_text("")
    return root


@pytest.mark.parametrize(("runtime", "names"), [*SAMPLES.items(), *MORE])
def test_each_runtime_is_read_from_its_build_files(tmp_path: Path, runtime: str, names: tuple[str, ...]) -> None:
    found = detect(tree(tmp_path, (*names, "README.md")))
    assert found.runtime == runtime
    assert set(found.markers) == {name for name in names if name != "settings.gradle.kts"}


def test_every_runtime_has_a_sample() -> None:
    assert set(SAMPLES) == set(RUNTIMES)


def test_files_below_the_top_do_not_count(tmp_path: Path) -> None:
    tree(tmp_path, ("pom.xml",))
    tree(tmp_path / "frontend", ("package.json",))
    assert detect(tmp_path).runtime == "java"


def test_several_runtimes_is_an_error_that_lists_them_and_the_flag(tmp_path: Path) -> None:
    tree(tmp_path, ("package.json", "requirements.txt", "pyproject.toml"))
    with pytest.raises(ConfigError) as raised:
        detect(tmp_path)
    message = str(raised.value)
    assert "python: pyproject.toml, requirements.txt" in message and "nodejs: package.json" in message
    assert raised.value.hint is not None and "--runtime" in raised.value.hint


def test_nothing_found_is_an_error_naming_what_was_looked_for(tmp_path: Path) -> None:
    tree(tmp_path, ("README.md", "main.c"))
    with pytest.raises(ConfigError) as raised:
        detect(tmp_path)
    assert "package.json" in str(raised.value) and "*.csproj" in str(raised.value)
    assert raised.value.hint is not None and "--runtime python|nodejs|java|go|php|ruby|dotnet" in raised.value.hint


def test_runtime_flag_settles_ambiguity_and_nothing(tmp_path: Path) -> None:
    tree(tmp_path, ("package.json", "go.mod"))
    assert detect(tmp_path, "go").runtime == "go"
    assert detect(tmp_path, "go").markers == ("go.mod",)
    assert detect(tmp_path / "..", "ruby").markers == ()


def test_unknown_runtime_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        detect(tmp_path, "rust")
    assert raised.value.key == "--runtime"


def test_a_directory_named_like_a_marker_is_not_one(tmp_path: Path) -> None:
    (tmp_path / "go.mod").mkdir()
    assert markers_found(tmp_path) == {}


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        detect(tmp_path / "missing")
