"""Placeholder expansion in profile strings: `{git_short_sha}`, `{date}`, `{env:NAME:-default}`, ...

Expansion is pure except for git, which is read through a provider (by default `builder.vcs.Checkout.head`)
that `TemplateContext` calls at most once, and only when a git placeholder actually needs it, so that profiles
without git placeholders never spawn a process and work outside a checkout.

Errors are `TemplateError` (a `ValueError`) naming the placeholder; the caller adds the file and key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from builder.vcs import BRANCH_VARIABLES, Checkout, GitError, GitInfo

__all__ = [
    "DIRTY_SUFFIX",
    "GIT_PLACEHOLDERS",
    "PLACEHOLDERS",
    "TemplateContext",
    "TemplateError",
    "branch_slug",
    "placeholders",
]

GIT_PLACEHOLDERS = ("git_sha", "git_short_sha", "git_branch", "git_branch_slug", "git_tag", "git_dirty")
PLACEHOLDERS = (*GIT_PLACEHOLDERS, "date", "timestamp", "version", "profile", "env:NAME")

# The `git describe --dirty` convention: `{git_short_sha}{git_dirty}` reads "abc123" or "abc123-dirty".
DIRTY_SUFFIX = "-dirty"

# GitLab's CI_COMMIT_REF_SLUG rule, which CI users already know: lower case, anything but a-z and 0-9 turned
# into "-", at most 63 characters, no "-" at either end. Always a valid tag, and a valid DNS label.
_SLUG_OTHER = re.compile(r"[^a-z0-9]")
SLUG_LENGTH = 63

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DEFAULT_MARK = ":-"


class TemplateError(ValueError):
    """A placeholder that cannot be expanded. `placeholder` is the text as written, e.g. `{git_tag}`."""

    def __init__(self, message: str, *, placeholder: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.placeholder = placeholder
        self.hint = hint

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Placeholder:
    name: str  # "git_sha", ..., or "env"
    variable: str | None  # for env: the variable name
    default: str | None  # the text after ":-", if any
    text: str  # as written, braces included, for messages


_Segment = str | _Placeholder


def _suggest(word: str, options: tuple[str, ...]) -> str:
    import difflib  # only on the error path: keeps imports fast

    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{{{close[0]}}}'?)" if close else ""


def _known_list() -> str:
    return ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)


def _parse_placeholder(inner: str, text: str) -> _Placeholder:
    if inner == "env" or inner.startswith("env:"):
        variable, mark, default = inner[4:].partition(_DEFAULT_MARK)
        if not _ENV_NAME.fullmatch(variable):
            raise TemplateError(
                f"placeholder {text} does not name an environment variable: expected {{env:NAME}} or "
                f"{{env:NAME:-default}} with NAME made of letters, digits and '_'",
                placeholder=text,
                hint="e.g. {env:CI_PIPELINE_ID} or {env:BUILD_NUMBER:-0}",
            )
        return _Placeholder("env", variable, default if mark else None, text)
    name, mark, default = inner.partition(_DEFAULT_MARK)
    if name not in PLACEHOLDERS:
        options = tuple(p for p in PLACEHOLDERS if p != "env:NAME")
        if _ENV_NAME.fullmatch(name):  # `{HOME}` is most likely `{env:HOME}`
            options += (f"env:{name}",)
        raise TemplateError(
            f"unknown placeholder {text}{_suggest(name, options)}",
            placeholder=text,
            hint=f"placeholders are {_known_list()}; write {{{{ and }}}} for literal braces",
        )
    return _Placeholder(name, None, default if mark else None, text)


def _parse(text: str) -> tuple[_Segment, ...]:
    segments: list[_Segment] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "{}" and text[i + 1 : i + 2] == char:
            literal.append(char)
            i += 2
            continue
        if char == "}":
            raise TemplateError(
                f"single '}}' at position {i + 1} in {text!r}",
                placeholder="}",
                hint="write '}}' for a literal '}'",
            )
        if char == "{":
            end = text.find("}", i + 1)
            opening = text.find("{", i + 1)
            if end == -1 or (opening != -1 and opening < end):
                raise TemplateError(
                    f"unclosed '{{' at position {i + 1} in {text!r}",
                    placeholder="{",
                    hint="close the placeholder, e.g. {git_short_sha}, or write '{{' for a literal '{'",
                )
            if literal:
                segments.append("".join(literal))
                literal = []
            segments.append(_parse_placeholder(text[i + 1 : end], text[i : end + 1]))
            i = end + 1
            continue
        literal.append(char)
        i += 1
    if literal:
        segments.append("".join(literal))
    return tuple(segments)


def placeholders(text: str) -> tuple[str, ...]:
    """The placeholders `text` uses, as written without braces (`git_sha`, `env:HOME:-/root`).

    Checks the syntax (unknown names, unbalanced braces) without reading git or the environment, so a caller
    can reject a broken template cheaply. Raises TemplateError.
    """
    return tuple(seg.text[1:-1] for seg in _parse(text) if isinstance(seg, _Placeholder))


class _Once:
    """Calls the git provider the first time it is needed and remembers the answer or the failure."""

    def __init__(self, provider: Callable[[], GitInfo | None]) -> None:
        self._provider = provider
        self._done = False
        self._info: GitInfo | None = None
        self._error: TemplateError | GitError | None = None

    def get(self) -> GitInfo | None:
        if not self._done:
            try:
                self._info = self._provider()
            except (TemplateError, GitError) as error:
                self._error = error
            self._done = True
        if self._error is not None:
            raise self._error
        return self._info


def branch_slug(branch: str) -> str:
    """`feature/JIRA-12_x` -> `feature-jira-12-x`: the branch as a tag (see _SLUG_OTHER)."""
    return _SLUG_OTHER.sub("-", branch.lower())[:SLUG_LENGTH].strip("-")


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime is taken as UTC rather than local time: tags must not depend on the build host's zone.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class TemplateContext:
    """Everything placeholders can refer to, for one profile load.

    `now` is fixed when the context is made, so `{date}` and `{timestamp}` agree across every string of a
    profile. `git` is a provider called at most once, on first use of a git placeholder; by default it is
    `Checkout(root, env).head`, git running with `env`. Without `root` or `git`, git placeholders fail with
    "not a git checkout".
    """

    def __init__(
        self,
        *,
        profile: str,
        version: str | None = None,
        env: Mapping[str, str] | None = None,
        now: datetime | None = None,
        root: Path | None = None,
        git: Callable[[], GitInfo | None] | None = None,
    ) -> None:
        self.profile = profile
        self.version = version or None
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.now = _as_utc(now if now is not None else datetime.now(timezone.utc))
        self.root = root
        if git is None:
            git = Checkout(root, self.env).head if root is not None else (lambda: None)
        self._git = _Once(git)

    def replace(self, *, version: str | None) -> TemplateContext:
        """The same context with another version; git is still read at most once across both."""
        other = TemplateContext(profile=self.profile, version=version, env=self.env, now=self.now, root=self.root)
        other._git = self._git
        return other

    def expand(self, text: str) -> str:
        """Expand every placeholder in `text`. Raises TemplateError naming the placeholder."""
        return "".join(
            seg if isinstance(seg, str) else self._value(seg) for seg in _parse(text)
        )

    def _value(self, ph: _Placeholder) -> str:
        if ph.name == "env":
            assert ph.variable is not None
            value = self.env.get(ph.variable)
            # Shell `${NAME:-default}` semantics: the default also replaces an empty value.
            if value is None or (value == "" and ph.default is not None):
                if ph.default is not None:
                    return ph.default
                raise TemplateError(
                    f"{ph.text}: environment variable {ph.variable} is not set",
                    placeholder=ph.text,
                    hint=f"set {ph.variable}, or give a default: {{env:{ph.variable}:-VALUE}}",
                )
            return value
        if ph.name == "date":
            return self.now.strftime("%Y%m%d")
        if ph.name == "timestamp":
            return self.now.strftime("%Y%m%d%H%M%S")
        if ph.name == "profile":
            return self.profile
        if ph.name == "version":
            if self.version is not None:
                return self.version
            return self._fallback(
                ph,
                "no version is set",
                'set version = "1.2.3" in the profile, pass --set version=1.2.3, or give a default: '
                "{version:-dev}",
            )
        return self._git_value(ph)

    def _fallback(self, ph: _Placeholder, reason: str, hint: str | None) -> str:
        if ph.default is not None:
            return ph.default
        raise TemplateError(f"{ph.text}: {reason}", placeholder=ph.text, hint=hint)

    def _git_value(self, ph: _Placeholder) -> str:
        try:
            info = self._git.get()
        except (TemplateError, GitError) as error:
            first = f"{error.hint}, or" if error.hint else "Or"
            return self._fallback(ph, error.message, f"{first} give a default: {{{ph.name}:-unknown}}")
        if info is None:
            where = str(self.root) if self.root is not None else "the project"
            return self._fallback(
                ph,
                f"{where} is not a git checkout",
                f"build from a git clone, or give a default: {{{ph.name}:-unknown}}",
            )
        if ph.name == "git_sha":
            return info.sha
        if ph.name == "git_short_sha":
            return info.short_sha
        if ph.name == "git_dirty":
            return DIRTY_SUFFIX if info.dirty else ""
        if ph.name in ("git_branch", "git_branch_slug"):
            if info.branch is None:
                return self._fallback(
                    ph,
                    f"HEAD ({info.short_sha}) is detached and no CI variable names the branch",
                    f"check out a branch, set one of {', '.join(BRANCH_VARIABLES)}, or give a default: "
                    f"{{{ph.name}:-detached}}",
                )
            if ph.name == "git_branch":
                return info.branch
            slug = branch_slug(info.branch)
            if slug:
                return slug
            return self._fallback(ph, f"branch {info.branch!r} has no letter or digit to make a slug of", None)
        if ph.name == "git_tag":
            if info.tag is not None:
                return info.tag
            return self._fallback(
                ph,
                f"no tag points at HEAD ({info.short_sha})",
                "tag the commit (git tag v1.2.3), or give a default: {git_tag:-untagged}",
            )
        raise AssertionError(f"unhandled placeholder {ph.name}")  # pragma: no cover - PLACEHOLDERS is closed
