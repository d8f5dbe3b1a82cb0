from __future__ import annotations

import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.config.locate import locate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


LOCATE_TEXT = '''\
image = "api"  # 1
description = """
tags = ["in a string"]
"""
tags = [  # 5
  "a",
  # "commented",
  'b', "c,d",
  """multi
line""", "e",
]
labels.dotted = "x"  # 12
labels = { inline = "y" }

[build_args]  # 15
  "quoted.key" = "1"
plain = "2"

[secrets]
x = "y"  # 20
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("image",), 1),
        (("description",), 2),
        (("tags",), 5),
        (("tags", 0), 6),
        (("tags", 1), 8),
        (("tags", 2), 8),
        (("tags", 3), 9),
        (("tags", 4), 10),
        (("tags", 5), None),
        (("labels", "dotted"), 12),
        (("labels", "inline"), 13),
        (("build_args",), 15),
        (("build_args", "quoted.key"), 16),
        (("build_args", "plain"), 17),
        (("build_args", "missing"), 15),
        (("secrets", "x"), 20),
        (("nothing",), None),
    ],
)
def test_locate(path: tuple[str | int, ...], line: int | None) -> None:
    assert locate(LOCATE_TEXT, path) == line


@given(
    st.lists(st.from_regex(r"[a-z0-9.{}_-]{1,12}", fullmatch=True), min_size=1, max_size=6),
    st.lists(st.sampled_from(["", "  # note", "\n  # a comment line"]), min_size=6, max_size=6),
    st.data(),
)
def test_locate_finds_every_item_of_a_multiline_array(items: list[str], comments: list[str], data: Any) -> None:
    header = 'image = "api"\n[labels]\nx = "tags = [ignored]"\n'
    lines = ["tags = ["]
    expected = []
    for item, comment in zip(items, comments, strict=False):  # hypothesis draws lists of any lengths
        lines.extend(comment.split("\n")[1:] if comment.startswith("\n") else [])
        expected.append(len(lines) + 1)
        lines.append(f'  "{item}",' + (comment if not comment.startswith("\n") else ""))
    lines.append("]")
    text = "\n".join(lines) + "\n" + header  # tags first: the header after it opens [labels]
    index = data.draw(st.integers(min_value=0, max_value=len(items) - 1))
    assert tomllib.loads(text)["tags"] == items
    assert locate(text, ("tags", index)) == expected[index]
    assert locate(text, ("labels", "x")) == len(lines) + 3
