"""builder.context.propose: `imgctl ignore` proposals on sample projects made in temporary directories."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from builder.context.propose import MARKER, Proposal, Rule, propose
from builder.context.rules import IgnoreRules
from builder.context.walk import scan
from builder.errors import ConfigError
from tests.trees import write_tree

COPIES = "the Containerfile copies it (line {})"




def needs(paths: Mapping[str, str]) -> Callable[[str, bool], str | None]:
    return lambda path, is_dir: paths.get(path)


def sizes(root: Path, names: list[str]) -> tuple[int, int]:
    return len(names), sum((root / name).stat().st_size for name in names)


def every_file(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def sent(root: Path, text: str) -> list[str]:
    return sorted(entry.path for entry in scan(root, IgnoreRules.parse(text)).entries if entry.kind == "file")


def assert_needed_kept(proposal: Proposal, needed: Mapping[str, str], containerfile: str = "Containerfile") -> None:
    rules = IgnoreRules.parse(proposal.text)
    for path in [*needed, containerfile]:
        assert not rules.excluded(path), path


def patterns(proposal: Proposal) -> list[str]:
    return [rule.pattern for rule in proposal.added]


# --------------------------------------------------------------------------------------------------------------
# Sample projects

PYTHON = {
    "Containerfile": "FROM python:3.11\nCOPY setup.py /app/\nCOPY src /app/src\nCOPY src/.env /app/.env\n",
    "setup.py": "from setuptools import setup\nsetup()\n",
    "src/app/__init__.py": "",
    "src/app/main.py": "print('hello')\n",
    "src/app/__pycache__/main.cpython-311.pyc": "bytecode",
    "src/.env": "APP_MODE=container\n",
    ".env": "DATABASE_PASSWORD=hunter2\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    ".venv/lib/python3.11/site-packages/certifi/cacert.pem": "-----BEGIN CERTIFICATE-----\n",
    ".venv/lib/python3.11/site-packages/certifi/__pycache__/core.cpython-311.pyc": "bytecode",
    ".pytest_cache/v/cache/nodeids": "[]",
    "dist/app-1.0-py3-none-any.whl": "wheel" * 100,
    ".git/HEAD": "ref: refs/heads/main\n",
}
PYTHON_NEEDED = {"setup.py": COPIES.format(2), "src": COPIES.format(3), "src/.env": COPIES.format(4)}

PYTHON_TEXT = f"""{MARKER}
# Git data: history the image never needs, and it changes with every commit (cache misses)
**/.git
# Python virtualenv: tied to this machine's Python and paths; the image should create its own
**/.venv
# setuptools build output (dist/ next to setup.py): build it in the image, or COPY the files you need
dist
# Python bytecode caches: rebuilt on import, and different on every machine
**/__pycache__
# pytest cache: state of local test runs
**/.pytest_cache
# environment file: usually holds credentials; if the build needs it, pass it as a build secret
**/.env
# kept: the Containerfile copies it (line 4)
!src/.env
"""

NODE = {
    "Containerfile": "FROM node:20\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY src src\n",
    "package.json": "{}",
    "package-lock.json": "{}",
    "src/index.js": "console.log(1)\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=secret\n",
    "node_modules/left-pad/index.js": "module.exports = 1\n",
    "node_modules/left-pad/package.json": "{}",
    "node_modules/left-pad/dist/left-pad.min.js": "x",
    "node_modules/left-pad/node_modules/tiny/index.js": "x",
    "node_modules/left-pad/test/fixture.pem": "x",
    "node_modules/left-pad/npm-debug.log": "x",
    "packages/web/package.json": "{}",
    "packages/web/node_modules/react/index.js": "x" * 50,
    "packages/web/build/main.js": "x" * 70,
    "build/bundle.js": "x" * 300,
    "npm-debug.log": "error\n",
    "logs/server.log": "started\n",
    "logs/README": "keep the directory\n",
}
NODE_NEEDED = {"package.json": COPIES.format(2), "package-lock.json": COPIES.format(2), "src": COPIES.format(4)}

JAVA = {
    "Containerfile": "FROM eclipse-temurin:21\nCOPY target/app.jar /app.jar\n",
    "pom.xml": "<project/>\n",
    "src/main/java/App.java": "class App {}\n",
    "target/app.jar": "jar" * 40,
    "target/classes/App.class": "class",
    ".idea/workspace.xml": "<xml/>",
    "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    "id_rsa.pub": "ssh-ed25519 AAAA\n",
}
JAVA_NEEDED = {"target/app.jar": COPIES.format(2)}


def test_python_project(tmp_path: Path) -> None:
    root = write_tree(tmp_path, PYTHON)
    proposal = propose(root, root / "Containerfile", needs(PYTHON_NEEDED))

    assert proposal.path == root / ".containerignore"
    assert proposal.existing is None
    assert proposal.text == PYTHON_TEXT
    assert patterns(proposal) == ["**/.git", "**/.venv", "dist", "**/__pycache__", "**/.pytest_cache", "**/.env",
                                  "!src/.env"]
    assert [rule.category for rule in proposal.added] == ["vcs", "virtualenv", "build-output", "cache", "cache",
                                                          "secret", "secret"]
    assert proposal.added[3].matched == ("src/app/__pycache__",)
    assert proposal.added[5].matched == (".env",)
    assert proposal.added[6] == Rule("!src/.env", "secret", "kept: the Containerfile copies it (line 4)", ("src/.env",))
    assert proposal.kept == ("kept src/.env: the Containerfile copies it (line 4)",)
    assert proposal.warnings == ()
    assert_needed_kept(proposal, PYTHON_NEEDED)

    kept = ["Containerfile", "setup.py", "src/.env", "src/app/__init__.py", "src/app/main.py"]
    assert sent(root, proposal.text) == kept
    assert proposal.before == sizes(root, every_file(root))
    assert proposal.after == sizes(root, kept)
    assert proposal.changed


def test_node_project(tmp_path: Path) -> None:
    root = write_tree(tmp_path, NODE)
    proposal = propose(root, root / "Containerfile", needs(NODE_NEEDED))

    assert patterns(proposal) == ["**/node_modules", "build", "packages/web/build", "**/*.log", "**/.npmrc"]
    assert proposal.text == f"""{MARKER}
# installed npm packages: the image should install its own (npm ci), built for its platform
**/node_modules
# JavaScript build output (build/ next to package.json): build it in the image, or COPY the files you need
build
# JavaScript build output (build/ next to package.json): build it in the image, or COPY the files you need
packages/web/build
# log files: local output that grows while you work and causes cache misses
**/*.log
# npm configuration: often holds registry tokens; if the build needs it, pass it as a build secret
**/.npmrc
"""
    # The nested node_modules, and the .pem and .log inside node_modules, need no rule of their own.
    assert proposal.added[0].matched == ("node_modules", "packages/web/node_modules")
    assert proposal.added[3].matched == ("logs/server.log", "npm-debug.log")
    assert proposal.kept == ()
    assert_needed_kept(proposal, NODE_NEEDED)

    kept = ["Containerfile", "logs/README", "package-lock.json", "package.json", "packages/web/package.json",
            "src/index.js"]
    assert sent(root, proposal.text) == kept
    assert proposal.before == sizes(root, every_file(root))
    assert proposal.after == sizes(root, kept)


def test_java_project(tmp_path: Path) -> None:
    root = write_tree(tmp_path, JAVA)
    proposal = propose(root, root / "Containerfile", needs(JAVA_NEEDED))

    assert proposal.text == f"""{MARKER}
# Maven build output (target/ next to pom.xml): build it in the image, or COPY the files you need
target
# kept: the Containerfile copies it (line 2)
!target/app.jar
# JetBrains IDE settings: local to one machine
**/.idea
# SSH keys; if the build needs it, pass it as a build secret
**/id_rsa*
"""
    assert proposal.added[0].matched == ("target",)  # target itself stays out; only target/app.jar goes
    assert proposal.added[3].matched == ("id_rsa", "id_rsa.pub")
    assert proposal.kept == ("kept target/app.jar: the Containerfile copies it (line 2)",)
    assert_needed_kept(proposal, JAVA_NEEDED)

    kept = ["Containerfile", "pom.xml", "src/main/java/App.java", "target/app.jar"]
    assert sent(root, proposal.text) == kept
    assert proposal.before == sizes(root, every_file(root))
    assert proposal.after == sizes(root, kept)


# --------------------------------------------------------------------------------------------------------------
# An existing ignore file


def test_existing_lines_stay_in_order_and_duplicate_or_implied_rules_are_skipped(tmp_path: Path) -> None:
    existing = "# team rules\n.idea\n\ntarget/classes\n**/id_rsa*\n*.tmp\n"
    root = write_tree(tmp_path, {**JAVA, ".containerignore": existing, "notes.tmp": "x"})
    proposal = propose(root, root / "Containerfile", needs(JAVA_NEEDED))

    assert proposal.existing == existing
    # ".idea" already excludes the only .idea, "**/id_rsa*" is the same pattern: neither comes back.
    assert proposal.text == existing + f"""
{MARKER}
# Maven build output (target/ next to pom.xml): build it in the image, or COPY the files you need
target
# kept: the Containerfile copies it (line 2)
!target/app.jar
"""
    assert patterns(proposal) == ["target", "!target/app.jar"]
    assert proposal.added[0].matched == ("target",)
    assert_needed_kept(proposal, JAVA_NEEDED)
    assert proposal.before == sizes(root, [".containerignore", "Containerfile", "pom.xml", "src/main/java/App.java",
                                           "target/app.jar"])
    assert proposal.after == proposal.before


def test_an_implied_rule_is_still_proposed_when_it_excludes_more(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", ".idea/a.xml": "x", "sub/.idea/b.xml": "x",
                           ".containerignore": ".idea\n"})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == ["**/.idea"]
    assert proposal.added[0].matched == ("sub/.idea",)


def test_a_users_exception_for_a_path_is_kept(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "keep.log": "x", "drop.log": "x", "sub/a.log": "x",
                           ".containerignore": "*.log\n!keep.log\n"})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == ["**/*.log", "!keep.log"]
    assert proposal.added[1].reason == "kept: your ignore file re-includes it (line 2: !keep.log)"
    assert proposal.kept == ("kept keep.log: your ignore file re-includes it (line 2: !keep.log)",)
    rules = IgnoreRules.parse(proposal.text)
    assert not rules.excluded("keep.log") and rules.excluded("sub/a.log") and rules.excluded("drop.log")


def test_an_allow_list_that_re_includes_a_directory_does_not_protect_everything_in_it(tmp_path: Path) -> None:
    existing = "*\n!src\n!Containerfile\n"
    root = write_tree(tmp_path, {"Containerfile": "FROM x\nCOPY src /src\n", "src/a.py": "x",
                           "src/__pycache__/a.cpython-311.pyc": "x", ".containerignore": existing})
    proposal = propose(root, root / "Containerfile", needs({"src": COPIES.format(2)}))
    assert patterns(proposal) == ["**/__pycache__"]
    assert proposal.kept == ()
    assert sent(root, proposal.text) == ["Containerfile", "src/a.py"]


def test_a_file_without_final_newline_gets_one_and_the_diff_says_so(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "x", ".dockerignore": "# mine\n*.tmp"})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert proposal.path == root / ".dockerignore"
    assert proposal.text.startswith("# mine\n*.tmp\n\n" + MARKER + "\n")
    diff = proposal.diff()
    assert diff.startswith(f"--- {root / '.dockerignore'}\n+++ {root / '.dockerignore'}\n")
    assert "-*.tmp\n\\ No newline at end of file\n+*.tmp\n" in diff
    assert f"+{MARKER}\n" in diff and "+**/*.log\n" in diff


def test_crlf_files_get_crlf_lines(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "x"})
    (root / ".containerignore").write_bytes(b"*.tmp\r\n")
    proposal = propose(root, root / "Containerfile", needs({}))
    assert proposal.text == f"*.tmp\r\n\r\n{MARKER}\r\n# log files: local output that grows while you work and " \
                            "causes cache misses\r\n**/*.log\r\n"
    assert IgnoreRules.parse(proposal.text).excluded("a.log")


def test_the_ignore_file_beside_the_containerfile_is_the_one_proposed(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"ctx/a.log": "x", "app.Containerfile": "FROM x\n",
                           "app.Containerfile.containerignore": "*.tmp\n"})
    proposal = propose(root / "ctx", root / "app.Containerfile", needs({}))
    assert proposal.path == root / "app.Containerfile.containerignore"
    assert proposal.existing == "*.tmp\n"
    assert patterns(proposal) == ["**/*.log"]


def test_running_again_after_writing_changes_nothing(tmp_path: Path) -> None:
    root = write_tree(tmp_path, PYTHON)
    first = propose(root, root / "Containerfile", needs(PYTHON_NEEDED))
    first.write()
    assert (root / ".containerignore").read_text() == PYTHON_TEXT

    second = propose(root, root / "Containerfile", needs(PYTHON_NEEDED))
    assert not second.changed
    assert second.text == second.existing == PYTHON_TEXT
    assert second.added == () and second.diff() == ""
    assert second.before == second.after == (first.after[0] + 1, first.after[1] + len(PYTHON_TEXT))


# --------------------------------------------------------------------------------------------------------------
# What the build needs is never excluded


def test_the_containerfile_under_a_build_directory_is_not_excluded(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"setup.py": "", "build/Containerfile": "FROM x\n", "build/entrypoint.sh": "x",
                           "build/lib/app.py": "x", "app.log": "x"})
    proposal = propose(root, root / "build" / "Containerfile", needs({"build/entrypoint.sh": COPIES.format(3)}))
    # A build/ holding the Containerfile is where the build's own files live, not an output.
    assert patterns(proposal) == ["**/*.log"]
    assert_needed_kept(proposal, {"build/entrypoint.sh": ""}, containerfile="build/Containerfile")


def test_the_containerfile_inside_an_excluded_directory_gets_an_exception(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"node_modules/tool/Containerfile": "FROM x\n", "node_modules/tool/index.js": "x"})
    proposal = propose(root, root / "node_modules/tool/Containerfile", needs({}))
    assert patterns(proposal) == ["**/node_modules", "!node_modules/tool/Containerfile"]
    assert proposal.kept == ("kept node_modules/tool/Containerfile: it is the Containerfile",)
    assert sent(root, proposal.text) == ["node_modules/tool/Containerfile"]


def test_a_rule_that_would_only_exclude_needed_paths_is_left_out(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\nCOPY dist /wheels\n", "setup.py": "",
                           "dist/app.whl": "x", "dist/app.tar.gz": "x"})
    proposal = propose(root, root / "Containerfile", needs({"dist": COPIES.format(2)}))
    assert patterns(proposal) == []
    assert not proposal.changed and proposal.text == ""
    assert proposal.kept == ("kept dist: the Containerfile copies it (line 2); no `dist` rule, as it would exclude "
                             "nothing else",)


def test_a_secret_rule_stays_with_an_exception_even_when_its_only_match_is_needed(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\nCOPY .env /app/\n", ".env": "A=1"})
    proposal = propose(root, root / "Containerfile", needs({".env": COPIES.format(2)}))
    assert patterns(proposal) == ["**/.env", "!.env"]
    assert proposal.added[0].matched == ()
    assert_needed_kept(proposal, {".env": ""})
    assert IgnoreRules.parse(proposal.text).excluded("later/.env")


def test_a_needed_file_below_an_excluded_directory_is_re_included(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "node_modules/a/index.js": "x",
                           "node_modules/.bin/tool": "x", "web/node_modules/b/index.js": "x"})
    wanted = {"node_modules/.bin/tool": COPIES.format(5)}
    proposal = propose(root, root / "Containerfile", needs(wanted))
    assert patterns(proposal) == ["**/node_modules", "!node_modules/.bin/tool"]
    assert_needed_kept(proposal, wanted)
    assert sent(root, proposal.text) == ["Containerfile", "node_modules/.bin/tool"]
    assert proposal.after == sizes(root, ["Containerfile", "node_modules/.bin/tool"])


def test_a_needed_directory_inside_an_output_is_re_included_with_what_is_below_it(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\nCOPY build/static /srv\n", "package.json": "{}",
                           "build/static/app.css": "x", "build/static/app.js": "x", "build/report.html": "x"})
    wanted = {"build/static": COPIES.format(2)}
    proposal = propose(root, root / "Containerfile", needs(wanted))
    assert patterns(proposal) == ["build", "!build/static"]
    assert sent(root, proposal.text) == ["Containerfile", "build/static/app.css", "build/static/app.js",
                                         "package.json"]


def test_a_directory_exception_never_brings_back_what_the_user_excluded(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "pom.xml": "", "target/site/index.html": "x",
                           "target/site/draft.tmp": "x", "target/classes/A.class": "x",
                           ".containerignore": "**/*.tmp\n"})
    wanted = {"target/site": COPIES.format(4)}
    proposal = propose(root, root / "Containerfile", needs(wanted))
    # "!target/site" would send target/site/draft.tmp again, so no target rule at all.
    assert patterns(proposal) == []
    assert proposal.kept == ("kept target/site: the Containerfile copies it (line 4); no `target` rule, as an "
                             "exception for this directory would re-include files the current rules exclude",)
    assert "target/site/draft.tmp" not in sent(root, proposal.text)


def test_needed_paths_the_current_rules_exclude_are_reported_not_changed(tmp_path: Path) -> None:
    existing = "config\n"
    root = write_tree(tmp_path, {"Containerfile": "FROM x\nCOPY config /etc/app\n", "config/app.toml": "x",
                           ".containerignore": existing})
    proposal = propose(root, root / "Containerfile", needs({"config": COPIES.format(2)}))
    assert proposal.text == existing
    assert proposal.warnings == ("config: the Containerfile copies it (line 2), but the current ignore rules "
                                 "exclude it",)


def test_an_excluded_containerfile_is_left_alone(tmp_path: Path) -> None:
    # Excluding it keeps COPY . from changing with every Containerfile edit; imgctl sends it separately.
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "x", ".containerignore": "Containerfile\n"})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == ["**/*.log"]
    assert proposal.warnings == ()
    assert IgnoreRules.parse(proposal.text).excluded("Containerfile")


# --------------------------------------------------------------------------------------------------------------
# Heuristics


def test_virtualenvs_are_recognised_by_pyvenv_cfg(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "venv/pyvenv.cfg": "", "venv/bin/python": "x",
                           "tools/env/pyvenv.cfg": "", "src/venv/__init__.py": "", ".tox/py311/pyvenv.cfg": ""})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == ["**/.tox", "tools/env", "venv"]
    assert proposal.added[2].reason.startswith("Python virtualenv (venv/pyvenv.cfg)")
    assert "src/venv/__init__.py" in sent(root, proposal.text)


@pytest.mark.parametrize(("files", "expected"), [
    ({"build/x": ""}, []),
    ({"target/x": ""}, []),
    ({"Cargo.toml": "", "target/debug/app": ""}, ["target"]),
    ({"build.sbt": "", "target/x": ""}, ["target"]),
    ({"build.gradle.kts": "", "build/libs/app.jar": ""}, ["build"]),
    ({"pyproject.toml": "", "dist/a.whl": "", "build/lib/a.py": ""}, ["build", "dist"]),
    ({"app.iml": "", "out/production/A.class": ""}, ["out"]),
    ({"next.config.js": "", "out/index.html": ""}, ["out"]),
    ({"package.json": "", "out/index.html": ""}, []),
    ({"svc/pom.xml": "", "svc/target/a.class": "", "other/target/keep": ""}, ["svc/target"]),
    ({"pom.xml": "", "target": "a file, not a directory"}, []),
])
def test_build_outputs_need_their_tools_file_beside_them(tmp_path: Path, files: dict[str, str],
                                                          expected: list[str]) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", **files})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == expected


def test_every_category_on_one_tree(tmp_path: Path) -> None:
    names = [".hg/store", ".svn/entries", ".nox/x", "a.pyc", ".mypy_cache/x", ".ruff_cache/x", ".vscode/x",
             ".a.swp", ".DS_Store", ".env.local", "cert.pem", "id_ed25519", "tls.key", "auth.json", ".pypirc",
             ".netrc", "home/.docker/config.json"]
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", **dict.fromkeys(names, "x")})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == [
        "**/.hg", "**/.svn", "**/.nox", "**/*.pyc", "**/.mypy_cache", "**/.ruff_cache", "**/.vscode", "**/*.swp",
        "**/.DS_Store", "**/.env.*", "**/*.pem", "**/id_ed25519*", "**/*.key", "**/auth.json", "**/.pypirc",
        "**/.netrc", "**/.docker/config.json"]
    assert sent(root, proposal.text) == ["Containerfile"]
    for line in proposal.text.splitlines()[1::2]:
        assert line.startswith("# ")  # every rule has its comment


def test_profile_patterns_count_for_sizes_and_implied_rules(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "xx", ".env": "A=1", "src/a.py": "x"})
    proposal = propose(root, root / "Containerfile", needs({}), profile_patterns=["*.log", "!.env"],
                       profile_file=tmp_path / "profiles" / "api.toml")
    # *.log already drops the only log; the profile's !.env would override a **/.env rule anyway.
    assert patterns(proposal) == []
    assert proposal.before == proposal.after == sizes(root, ["Containerfile", ".env", "src/a.py"])


def test_a_bad_profile_pattern_names_the_profile_and_key(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n"})
    with pytest.raises(ConfigError) as caught:
        propose(root, root / "Containerfile", needs({}), profile_patterns=["ok", "a["],
                profile_file=tmp_path / "api.toml")
    assert str(caught.value).startswith(f"{tmp_path / 'api.toml'}: ignore[1]: invalid ignore pattern")


def test_nothing_to_propose(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "src/a.py": "x"})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert proposal.text == "" and not proposal.changed and proposal.diff() == "" and proposal.added == ()
    proposal.write()
    assert not (root / ".containerignore").exists()


def test_odd_names_are_escaped_in_rules_and_exceptions(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "svc (v2)/pom.xml": "", "svc (v2)/target/a.class": "x",
                           "svc (v2)/target/app+1.jar": "x"})
    wanted = {"svc (v2)/target/app+1.jar": COPIES.format(3)}
    proposal = propose(root, root / "Containerfile", needs(wanted))
    assert patterns(proposal) == ["svc \\(v2\\)/target", "!svc \\(v2\\)/target/app\\+1.jar"]
    assert sent(root, proposal.text) == ["Containerfile", "svc (v2)/pom.xml", "svc (v2)/target/app+1.jar"]


# --------------------------------------------------------------------------------------------------------------
# Writing


def test_write_keeps_mode_and_refuses_a_file_changed_meanwhile(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "x", ".containerignore": "*.tmp\n"})
    os.chmod(root / ".containerignore", 0o640)
    proposal = propose(root, root / "Containerfile", needs({}))
    proposal.write()
    assert (root / ".containerignore").read_text() == proposal.text
    assert (root / ".containerignore").stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(root)) == [".containerignore", "Containerfile", "a.log"]  # no temporary file left

    (root / "sub").mkdir()
    (root / "sub" / ".env").write_text("x")
    stale = propose(root, root / "Containerfile", needs({}))
    assert stale.changed
    (root / ".containerignore").write_text("*.tmp\n# edited meanwhile\n")
    with pytest.raises(ConfigError, match="changed since the proposal"):
        stale.write()
    assert (root / ".containerignore").read_text() == "*.tmp\n# edited meanwhile\n"


def test_write_goes_through_a_symlinked_ignore_file(tmp_path: Path) -> None:
    # The link leads to a file inside the context; one leading out of it is refused (next test).
    root = write_tree(tmp_path, {"ctx/Containerfile": "FROM x\n", "ctx/a.log": "x",
                                 "ctx/conf/shared.ignore": "*.tmp\n"})
    (root / "ctx" / ".containerignore").symlink_to(root / "ctx" / "conf" / "shared.ignore")
    proposal = propose(root / "ctx", root / "ctx" / "Containerfile", needs({}))
    proposal.write()
    assert (root / "ctx" / ".containerignore").is_symlink()
    assert (root / "ctx" / "conf" / "shared.ignore").read_text() == proposal.text


@pytest.mark.parametrize("target", ["../outside.ignore", "../ctx-other/x.ignore", "/tmp/../{root}/missing.ignore"])
def test_write_refuses_a_symlinked_ignore_file_leading_out_of_the_context(tmp_path: Path, target: str) -> None:
    root = write_tree(tmp_path, {"ctx/Containerfile": "FROM x\n", "ctx/a.log": "x", "outside.ignore": "*.tmp\n",
                           "ctx-other/x.ignore": "*.tmp\n"})
    link = root / "ctx" / ".containerignore"
    link.symlink_to(target.format(root=root))
    proposal = propose(root / "ctx", root / "ctx" / "Containerfile", needs({}))
    assert proposal.changed
    with pytest.raises(ConfigError) as caught:
        proposal.write()
    message = str(caught.value)
    assert caught.value.exit_code == 2 and caught.value.file == link
    assert str(link) in message and target.format(root=root) in message and "outside the build context" in message
    assert "regular file" in str(caught.value.hint)
    assert (root / "outside.ignore").read_text() == (root / "ctx-other" / "x.ignore").read_text() == "*.tmp\n"
    assert not (root / "missing.ignore").exists() and link.is_symlink()


def test_undecodable_bytes_in_comments_survive(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "x"})
    (root / ".containerignore").write_bytes(b"# caf\xe9\n*.tmp\n")
    proposal = propose(root, root / "Containerfile", needs({}))
    proposal.write()
    assert (root / ".containerignore").read_bytes().startswith(b"# caf\xe9\n*.tmp\n\n# added by imgctl ignore\n")


def test_an_unreadable_directory_does_not_stop_the_proposal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "data/pg/base": "x", "a.log": "x"})
    real = os.scandir

    def scandir(path: str | Path) -> object:  # as for a database directory owned by a container's user
        if str(path).endswith("data/pg"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == ["**/*.log"]
    assert proposal.before is None and proposal.after is None
    problem = f"{root / 'data' / 'pg'}: cannot read directory data/pg of the build context: Permission denied"
    assert proposal.warnings == (f"cannot size the context with the current rules: {problem}",
                                 f"cannot size the context with the proposed rules: {problem}")


def test_a_context_that_is_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a directory"):
        propose(tmp_path / "missing", tmp_path / "Containerfile", needs({}))


def test_a_needed_path_no_pattern_can_name_keeps_its_rule_out(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "a.log": "x", "new\nline.log": "x"})
    proposal = propose(root, root / "Containerfile", needs({"new\nline.log": COPIES.format(2)}))
    assert patterns(proposal) == []
    assert proposal.kept == ("kept new\nline.log: the Containerfile copies it (line 2); no `**/*.log` rule, as no "
                             "ignore pattern can name this path",)


def test_docker_reads_the_proposed_rules_the_same_way(tmp_path: Path) -> None:
    samples = (("py", PYTHON, PYTHON_NEEDED), ("node", NODE, NODE_NEEDED), ("java", JAVA, JAVA_NEEDED))
    for name, files, wanted in samples:
        root = write_tree(tmp_path / name, files)
        text = propose(root, root / "Containerfile", needs(wanted)).text
        buildah = scan(root, IgnoreRules.parse(text))
        moby = scan(root, IgnoreRules.parse(text, dialect="moby"))
        assert [entry.path for entry in buildah.entries] == [entry.path for entry in moby.entries]


def test_a_pattern_written_differently_counts_as_the_same(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", "setup.py": "", "dist/a.whl": "x",
                           ".containerignore": "/dist/\n!dist/a.whl\n"})
    proposal = propose(root, root / "Containerfile", needs({}))
    assert patterns(proposal) == []


def test_the_dialect_decides_what_the_current_rules_keep_and_what_is_proposed(tmp_path: Path) -> None:
    # "a+b" is a regexp in buildah's matcher (it excludes "aab") and a plain name in moby's (it excludes "a+b").
    root = write_tree(tmp_path, {"Containerfile": "FROM x\n", ".containerignore": "a+b\n", "a+b": "x" * 100,
                           "aab": "y" * 10, "app.log": "z"})
    buildah = propose(root, root / "Containerfile", needs({}))
    moby = propose(root, root / "Containerfile", needs({}), dialect="moby")
    fixed = len("FROM x\n") + len("a+b\n")
    assert buildah.before == (4, fixed + 100 + 1) and moby.before == (4, fixed + 10 + 1)
    assert patterns(buildah) == patterns(moby) == ["**/*.log"]
    with pytest.raises(ValueError, match="unknown ignore dialect"):
        propose(root, root / "Containerfile", needs({}), dialect="docker")
