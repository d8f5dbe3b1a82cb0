from __future__ import annotations

from datetime import date

import pytest

from builder.config.kinds import (
    SEVERAL_PLATFORMS,
    Boolean,
    Integer,
    Invalid,
    Platforms,
    Section,
    StringList,
    StringTable,
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


def test_integer_checks_type_and_range() -> None:
    kind = Integer(minimum=1, maximum=600)
    kind.check(10)
    for value, message in ((True, "got boolean"), ("10", "got string"), (0, "from 1 to 600, got 0")):
        with pytest.raises(Invalid, match=message):
            kind.check(value)
    assert kind.parse(" 42 ") == 42
    with pytest.raises(Invalid, match="expected an integer, got 'x'"):
        kind.parse("x")


def test_section_checks_each_entry_with_its_kind_and_names_the_entry() -> None:
    section = Section(entries={"grace": Integer(minimum=1), "kind": choice("service", "job")})
    section.check({"grace": 5, "kind": "job"})
    with pytest.raises(Invalid) as caught:
        section.check({"grace": "5"})
    assert caught.value.sub == ("grace",) and "expected an integer" in caught.value.message
    with pytest.raises(Invalid, match=r"unknown setting 'grac' \(did you mean 'grace'\?\)"):
        section.check({"grac": 5})


def test_section_parses_set_text_with_the_entry_kind() -> None:
    section = Section(entries={"grace": Integer(), "ignore": StringList()})
    assert section.parse_entry("grace", "7") == 7
    assert section.parse_entry("ignore", "DL3008, OS104") == ["DL3008", "OS104"]
    with pytest.raises(Invalid) as caught:
        section.parse_entry("grace", "soon")
    assert caught.value.sub == ("grace",)


def test_string_table_with_values_refuses_others() -> None:
    table = StringTable(values=("error", "warning"))
    table.check({"DL3008": "error"})
    with pytest.raises(Invalid, match="expected one of 'error', 'warning', got 'eror'"):
        table.check({"DL3008": "eror"})
    with pytest.raises(Invalid, match="got 'x'"):
        table.parse_entry("DL3008", "x")
