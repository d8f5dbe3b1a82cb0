"""Stand-ins for the language tools of the UBI builder images, for building `imgctl init`'s Containerfiles
offline (docs/init.md, "How it is tested").

Each script checks that it was called the way the template calls it and that the files it reads are in place
(exit 1 otherwise, so a template that copies too little, or in the wrong order, fails the build), then leaves
what the real tool leaves where the runtime stage copies from: a dependency tree, a jar, a binary, a .dll.
None of them compiles or downloads anything.
"""

from __future__ import annotations

TOOLS: dict[str, str] = {
    "python3": r"""
[ "$1 $2" = "-m venv" ] || { echo "python3: unexpected $*" >&2; exit 1; }
mkdir -p "$3/bin" "$3/lib/site-packages"
printf '%s\n' '#!/bin/sh' \
  '[ "$1 $2" = "install --no-cache-dir" ] || { echo "pip: unexpected $*" >&2; exit 1; }' \
  'if [ "$3" = -r ]; then test -f "$4" || exit 1; cp "$4" "$(dirname "$0")/../lib/site-packages/installed.txt";' \
  'else test -f pyproject.toml || exit 1; echo project > "$(dirname "$0")/../lib/site-packages/installed.txt"; fi' \
  > "$3/bin/pip"
chmod 755 "$3/bin/pip"
""",
    "npm": r"""
case "$*" in
  "ci"|"install") test -f package.json || exit 1; mkdir -p node_modules/runtime-dep node_modules/dev-dep ;;
  "cache clean --force"|"run build --if-present") ;;
  "prune --omit=dev") rm -rf node_modules/dev-dep ;;
  *) echo "npm: unexpected $*" >&2; exit 1 ;;
esac
""",
    "mvn": r"""
[ "$*" = "-B -DskipTests package" ] && test -f pom.xml || { echo "mvn: unexpected $*" >&2; exit 1; }
mkdir -p target && echo main > target/demo-1.0.jar && echo sources > target/demo-1.0-sources.jar
""",
    "go": r"""
case "$1" in
  mod) test -f go.mod || exit 1 ;;
  build) [ "$2 $3" = "-trimpath -o" ] && test -f main.go || { echo "go: unexpected $*" >&2; exit 1; }
         printf '#!/bin/sh\nexec sleep 1000\n' > "$4" && chmod 755 "$4" ;;
  *) echo "go: unexpected $*" >&2; exit 1 ;;
esac
""",
    "curl": r"""
[ "$1 $2" = "-fsSL -o" ] || { echo "curl: unexpected $*" >&2; exit 1; }
echo '<?php // composer stand-in' > "$3"
""",
    "php": r"""
[ "$2" = install ] && test -f "$1" && test -f composer.json || { echo "php: unexpected $*" >&2; exit 1; }
mkdir -p vendor && echo '<?php' > vendor/autoload.php
""",
    "bundle": r"""
case "$1 $2" in
  "config set") mkdir -p .bundle && echo "$4: $5" >> .bundle/config ;;
  "install ") test -f Gemfile || exit 1; mkdir -p vendor/bundle/ruby/3.3.0/gems/rack vendor/bundle/ruby/3.3.0/cache ;;
  *) echo "bundle: unexpected $*" >&2; exit 1 ;;
esac
""",
    "dotnet": r"""
case "$1" in
  restore) test -f "$2" || exit 1 ;;
  publish) test -f "$2" || exit 1; shift 2
           while [ $# -gt 0 ]; do [ "$1" = -o ] && out="$2"; shift; done
           mkdir -p "$out" && echo dll > "$out/Api.dll" ;;
  *) echo "dotnet: unexpected $*" >&2; exit 1 ;;
esac
""",
}


def toolbox_containerfile() -> str:
    """The builder stand-in: busybox, the tools above in /usr/local/bin, and a /tmp (busybox's image has none)."""
    return ('FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            "COPY tools/ /usr/local/bin/\nRUN mkdir -m 1777 /tmp && chmod 755 /usr/local/bin/*\n")


def write_tools(directory: object) -> None:
    from pathlib import Path

    tools = Path(str(directory)) / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    for name, body in TOOLS.items():
        (tools / name).write_text("#!/bin/sh\nset -e\n" + body.lstrip("\n"))
