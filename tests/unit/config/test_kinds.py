from __future__ import annotations

from datetime import date

import pytest

from builder.config.kinds import (
    SEVERAL_PLATFORMS,
    Boolean,
    Invalid,
    Platforms,
    StringList,
    choice,
    platforms_of,
    toml_type,
)


@pytest.mark.parametrize(
    ("value", "name"),
    [(True, "boolean"), (1, "integer"), (1.5, "float"), ("x", "string"), ([], "array"), ({}, "table"),
     (date(2024, 1, 1), "date")],
)
def test_toml_type_speaks_toml(value: object, name: str) -> None:
    assert toml_type(value) == name


@pytest.mark.parametrize(("text", "value"), [("TRUE", True), ("1", True), ("yes", True), ("No", False), ("0", False)])
def test_boolean_parse(text: str, value: bool) -> None:
    assert Boolean().parse(text) is value


def test_boolean_parse_rejects_anything_else() -> None:
    with pytest.raises(Invalid, match="expected true or false"):
        Boolean().parse("maybe")


def test_list_parse_drops_blanks() -> None:
    assert StringList().parse(" a, ,b ,") == ["a", "b"]
    assert StringList().parse("") == []


def test_choice_suggests() -> None:
    with pytest.raises(Invalid) as caught:
        choice("missing", "always").check("alway")
    assert caught.value.message == "expected one of 'missing', 'always', got 'alway' (did you mean 'always'?)"


def test_platforms_one_at_most() -> None:
    kind = Platforms()
    kind.check("linux/amd64")
    kind.check(["linux/amd64", "linux/amd64"])
    assert platforms_of(["linux/amd64", "linux/amd64"]) == ("linux/amd64",)
    assert platforms_of("linux/arm/v7") == ("linux/arm/v7",)
    with pytest.raises(Invalid) as caught:
        kind.check(["linux/amd64", "linux/arm64"])
    assert (caught.value.message, caught.value.sub) == (SEVERAL_PLATFORMS, ())
    assert caught.value.hint is not None and "one platform per profile" in caught.value.hint
    with pytest.raises(Invalid) as caught:
        kind.parse("linux/amd64,linux/arm64")
    assert caught.value.message == SEVERAL_PLATFORMS
    with pytest.raises(Invalid) as caught:
        kind.check("amd64")
    assert caught.value.sub == ()  # a lone string has no index
    with pytest.raises(Invalid) as caught:
        kind.check(["linux/amd64", "Linux/arm64"])
    assert caught.value.sub == (1,)
