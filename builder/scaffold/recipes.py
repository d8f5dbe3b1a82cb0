"""What each runtime's Containerfile holds: the Red Hat images of its two stages, the build steps, what the
runtime stage copies, how the process is started and stopped (docs/init.md has the reasoning per runtime).

A recipe depends on the source tree only where the tree decides what can work: a lock file is copied (and
`npm ci` used) only when there is one, because buildah fails a COPY whose glob matches nothing; the
entry point is the one package.json or the .csproj names. Everything here is pure but for reading a few
small files at the top of the directory.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from builder.scaffold.detect import Detection

REGISTRY = "registry.access.redhat.com/ubi9"
# Pinned tags, never `latest`: the sclorg language images move within a major version under `1`; the
# toolchains are tagged by their version; the base images by the RHEL minor release. Bump them here.
UBI_RELEASE = "9.4"
UBI_MINIMAL = f"{REGISTRY}/ubi-minimal:{UBI_RELEASE}"
UBI_MICRO = f"{REGISTRY}/ubi-micro:{UBI_RELEASE}"

APP_ROOT = "/opt/app-root"
SRC = f"{APP_ROOT}/src"
OUT = f"{APP_ROOT}/out"  # where a build stage puts what the runtime stage copies, when it is not SRC
PORT = 8080
USER = 1001  # numeric: OpenShift's S2I builds need it, and any UID in group 0 can then use what it owns
NODE_SIGTERM = f"{APP_ROOT}/sigterm.cjs"  # beside the app, not in it: COPY of the app cannot replace it
# PID 1 gets no default signal action, and node installs none that exits: without this preload `podman stop`
# and pod deletion wait for SIGKILL. It exits on SIGTERM only when the application listens for none itself.
NODE_SIGTERM_JS = 'process.once("SIGTERM", () => { if (process.listenerCount("SIGTERM") === 0) process.exit(143); });'


@dataclass(frozen=True)
class Recipe:
    runtime: str
    display: str  # for people: "Node.js"
    builder_image: str
    runtime_image: str
    build: tuple[str, ...]  # the build stage's instructions after its WORKDIR, one per item (may span lines)
    copies: tuple[tuple[str, str], ...]  # (path in the build stage, path in the runtime stage)
    app_dir: str  # the runtime stage's WORKDIR: group 0, group-writable, the profile's writable_paths
    cmd: tuple[str, ...]
    builder_user: int = USER  # the builder image's own user: 1001 in the sclorg images, 185 in OpenJDK's
    env: tuple[tuple[str, str], ...] = ()
    prepare: tuple[str, ...] = ()  # shell commands the runtime stage runs as root before fixing permissions
    stop_signal: str | None = None
    build_args: tuple[tuple[str, str], ...] = ()  # ARGs of the build stage, with defaults
    notes: tuple[str, ...] = ()  # what the user should know or check (told by `imgctl init`)
    minimal_note: str | None = None  # set when --minimal cannot pick a smaller runtime image


def recipe(detection: Detection, directory: Path, *, minimal: bool = False) -> Recipe:
    made = _RECIPES[detection.runtime](detection, directory, minimal)
    missing = () if detection.markers else (
        f"none of the {detection.runtime} build files is in {directory}; the build steps expect them",)
    return _with_notes(made, missing)


def _with_notes(made: Recipe, notes: tuple[str, ...]) -> Recipe:
    return replace(made, notes=(*notes, *made.notes)) if notes else made


def _already_smallest(image: str) -> str:
    return f"{image} is already the smallest runtime image Red Hat publishes for it; --minimal changes nothing"


def _first(directory: Path, names: tuple[str, ...]) -> str | None:
    return next((name for name in names if (directory / name).is_file()), None)


def _python(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    image = f"{REGISTRY}/python-311:1"
    venv = f"{APP_ROOT}/venv"
    create = f"python3 -m venv {venv}"
    build: tuple[str, ...]
    if (directory / "requirements.txt").is_file() or not (directory / "pyproject.toml").is_file():
        build = ("COPY requirements.txt ./",
                 f"RUN {create} \\\n && {venv}/bin/pip install --no-cache-dir -r requirements.txt",
                 "COPY . .")
    else:
        build = ("COPY . .", f"RUN {create} \\\n && {venv}/bin/pip install --no-cache-dir .")
    entry = _first(directory, ("app.py", "main.py", "wsgi.py")) or "app.py"
    notes = () if (directory / entry).is_file() else (f"no {entry}: edit the CMD to start your application",)
    return Recipe(
        runtime="python", display="Python 3.11", builder_image=image, runtime_image=image, build=build,
        copies=((venv, venv), (SRC, SRC)), app_dir=SRC, cmd=("python", entry),
        env=(("PATH", f"{venv}/bin:${{PATH}}"), ("PYTHONUNBUFFERED", "1"), ("PORT", str(PORT))),
        # As PID 1 Python ignores SIGTERM unless the application handles it, but it always turns SIGINT
        # into KeyboardInterrupt; podman and Kubernetes' runtimes send the image's STOPSIGNAL.
        stop_signal="SIGINT", notes=notes, minimal_note=_already_smallest(image) if minimal else None)


def _nodejs(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    lock = (directory / "package-lock.json").is_file()
    manifest = "package.json package-lock.json" if lock else "package.json"
    install = "npm ci" if lock else "npm install"
    main, notes = _node_main(directory)
    image = f"{REGISTRY}/nodejs-20-minimal:1"
    return Recipe(
        runtime="nodejs", display="Node.js 20", builder_image=f"{REGISTRY}/nodejs-20:1", runtime_image=image,
        build=(f"COPY {manifest} ./",
               f"RUN {install} \\\n && npm cache clean --force",
               "COPY . .",
               # Dev dependencies are there for the build script, then dropped from what the runtime copies.
               "RUN npm run build --if-present \\\n && npm prune --omit=dev"),
        copies=((SRC, SRC),), app_dir=SRC, cmd=("node", "--require", NODE_SIGTERM, main),
        env=(("NODE_ENV", "production"), ("PORT", str(PORT))),
        # /opt/app-root exists in both stand-ins and the real image; a mkdir'd directory would need g=u too.
        prepare=(f"printf '%s\\n' '{NODE_SIGTERM_JS}' > {NODE_SIGTERM}",),
        notes=notes, minimal_note=_already_smallest(image) if minimal else None)


def _node_main(directory: Path) -> tuple[str, tuple[str, ...]]:
    """The file `npm start` would run when its script is a plain `node FILE`, else package.json's "main" (npm's
    own default is index.js); a note when that file is not there. PID 1 is node itself, never npm, which
    does not pass SIGTERM on."""
    main = "index.js"
    try:
        document = json.loads((directory / "package.json").read_text(encoding="utf-8"))
        if isinstance(document, dict) and isinstance(document.get("main"), str) and document["main"].strip():
            main = document["main"].strip()
        scripts = document.get("scripts") if isinstance(document, dict) else None
        start = scripts.get("start") if isinstance(scripts, dict) else None
        words = start.split() if isinstance(start, str) else []
        if len(words) == 2 and words[0] == "node" and not words[1].startswith("-"):
            main = words[1]
    except (OSError, ValueError):
        pass  # no or broken package.json: npm itself reports it at build time
    if (directory / main).is_file():
        return main, ()
    return main, (f"no {main}: edit the CMD to start your application",)


def _java(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    jar = f"{OUT}/app.jar"
    notes: tuple[str, ...] = ()
    if (directory / "pom.xml").is_file() or not _first(directory, ("build.gradle", "build.gradle.kts")):
        build = ("COPY . .", "RUN mvn -B -DskipTests package \\\n && " + _keep_jar("target", jar))
    else:
        build = ("COPY . .", "RUN ./gradlew --no-daemon build -x test \\\n && " + _keep_jar("build/libs", jar))
        if not (directory / "gradlew").is_file():
            notes = ("no gradlew: the OpenJDK builder image has Maven but no Gradle; add the Gradle wrapper",)
    image = f"{REGISTRY}/openjdk-21-runtime:1.21"
    return Recipe(
        runtime="java", display="Java 21", builder_image=f"{REGISTRY}/openjdk-21:1.21", runtime_image=image,
        build=build, copies=((jar, "/deployments/app.jar"),), app_dir="/deployments",
        cmd=("java", "-jar", "/deployments/app.jar"), builder_user=185, env=(("PORT", str(PORT)),), notes=notes,
        minimal_note=_already_smallest(image) if minimal else None)


def _keep_jar(directory: str, jar: str) -> str:
    # The main jar only: `java -jar` wants one; the sources, javadoc and plain jars are by-products.
    return (f"mkdir -p {OUT} \\\n && find {directory} -maxdepth 1 -name '*.jar' ! -name '*-sources.jar' "
            f"! -name '*-javadoc.jar' ! -name '*-plain.jar' -exec cp {{}} {jar} \\;")


def _go(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    binary = f"{APP_ROOT}/bin/app"
    return Recipe(
        runtime="go", display="Go", builder_image=f"{REGISTRY}/go-toolset:1.22",
        runtime_image=UBI_MICRO if minimal else UBI_MINIMAL,
        build=("COPY go.* ./", "RUN go mod download", "COPY . .",
               f"RUN mkdir -p {OUT} \\\n && CGO_ENABLED=0 go build -trimpath -o {OUT}/app ."),
        copies=((f"{OUT}/app", binary),), app_dir=SRC, cmd=(binary,), env=(("PORT", str(PORT)),))


def _php(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    image = f"{REGISTRY}/php-82:1"
    phar = "/tmp/composer.phar"
    return Recipe(
        runtime="php", display="PHP 8.2", builder_image=image, runtime_image=image,
        build=("COPY . .",
               # The PHP image has no Composer; its own S2I assemble script downloads it the same way.
               f'RUN curl -fsSL -o {phar} "https://getcomposer.org/download/${{COMPOSER_VERSION}}/composer.phar" \\\n'
               f" && COMPOSER_CACHE_DIR=/tmp/composer-cache php {phar} install --no-dev --no-interaction"
               " --optimize-autoloader \\\n"
               f" && rm -rf {phar} /tmp/composer-cache"),
        build_args=(("COMPOSER_VERSION", "2.8.4"),),
        copies=((SRC, SRC),), app_dir=SRC,
        # The image's run script configures Apache httpd for /opt/app-root/src on 8080 and execs it.
        cmd=("/usr/libexec/s2i/run",),
        minimal_note=_already_smallest(image) if minimal else None)


def _ruby(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    manifest = "Gemfile Gemfile.lock" if (directory / "Gemfile.lock").is_file() else "Gemfile"
    image = f"{REGISTRY}/ruby-33:1"
    notes = () if (directory / "config.ru").is_file() else ("no config.ru: edit the CMD to start your application",)
    return Recipe(
        runtime="ruby", display="Ruby 3.3", builder_image=image, runtime_image=image,
        build=(f"COPY {manifest} ./",
               "RUN bundle config set --local path vendor/bundle \\\n"
               " && bundle config set --local without 'development test' \\\n"
               " && bundle install \\\n"
               " && rm -rf vendor/bundle/ruby/*/cache",
               "COPY . ."),
        copies=((SRC, SRC),), app_dir=SRC,
        cmd=("bundle", "exec", "rackup", "--host", "0.0.0.0", "--port", str(PORT)), env=(("PORT", str(PORT)),),
        notes=notes, minimal_note=_already_smallest(image) if minimal else None)


def _dotnet(detection: Detection, directory: Path, minimal: bool) -> Recipe:
    projects = sorted(name for name in detection.markers if name.endswith(".csproj"))
    project = projects[0] if projects else "app.csproj"
    notes = (f"several projects ({', '.join(projects)}): the Containerfile publishes {project}",) \
        if len(projects) > 1 else ()
    assembly = project.removesuffix(".csproj")
    app = f"{APP_ROOT}/app"
    image = f"{REGISTRY}/dotnet-80-runtime:8.0"
    return Recipe(
        runtime="dotnet", display=".NET 8", builder_image=f"{REGISTRY}/dotnet-80:8.0", runtime_image=image,
        build=(f"COPY {project} ./", f"RUN dotnet restore {project}", "COPY . .",
               f"RUN dotnet publish {project} -c Release --no-restore -o {OUT}"),
        copies=((OUT, app),), app_dir=app, cmd=("dotnet", f"{app}/{assembly}.dll"),
        env=(("ASPNETCORE_HTTP_PORTS", str(PORT)),), notes=notes,
        minimal_note=_already_smallest(image) if minimal else None)


_RECIPES: dict[str, Callable[[Detection, Path, bool], Recipe]] = {
    "python": _python, "nodejs": _nodejs, "java": _java, "go": _go, "php": _php, "ruby": _ruby, "dotnet": _dotnet,
}
