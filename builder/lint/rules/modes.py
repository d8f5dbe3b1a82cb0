"""What a chmod mode grants, octal (775, 0664, 1777) or symbolic (g=u, o+w, a+rwX,u+x)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_OCTAL = re.compile(r"[0-7]{1,4}")
_CLAUSE = re.compile(r"([ugoa]*)([-+=])([rwxXst]*|[ugo])")


@dataclass(frozen=True)
class Grant:
    group_write: bool = False  # the group can write (or copies the owner's bits, which include write)
    other_write: bool = False  # everyone can write
    sticky: bool = False  # with the sticky bit, as /tmp (1777): the usual world-writable scratch directory


def grant(mode: str) -> Grant | None:
    """What the mode gives the group and others; None when it is not a mode (a variable, a reference file)."""
    if _OCTAL.fullmatch(mode):
        value = int(mode, 8)
        return Grant(group_write=bool(value & 0o020), other_write=bool(value & 0o002), sticky=bool(value & 0o1000))
    group = other = sticky = False
    for clause in mode.split(","):
        found = _CLAUSE.fullmatch(clause)
        if found is None:
            return None
        who, op, perms = found.groups()
        if op == "-":
            continue
        gives_write = "w" in perms or perms == "u"  # g=u: the owner (root) can write, so then the group can
        sticky = sticky or "t" in perms
        if gives_write and ("g" in who or "a" in who):
            group = True
        if gives_write and ("o" in who or "a" in who):
            other = True
    return Grant(group_write=group, other_write=other, sticky=sticky)
