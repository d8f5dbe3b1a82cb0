"""Two imgctl checkouts timed in alternation on the same podman service, to tell the code from the machine.

    .venv/bin/python bench/compare.py OTHER_CHECKOUT [--runs 7] [--images 500] [--workdir DIR]

OTHER_CHECKOUT is another tree of imgctl (e.g. `git worktree add /tmp/old <commit>`). The case is issue 3's:
`COPY src/` with `**/node_modules` ignored, `--no-cache`, on the tree `bench/run.py` makes; `--images N`
first fills the store with N small images. Each round runs `podman build`, the other checkout and this one,
in turn; both checkouts run from compiled bytecode. Prints the medians and every run.
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, engine_env, fill_store, make_tree, podman_service


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--images", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "imgctl-bench")
    args = parser.parse_args()
    work: Path = args.workdir
    tree = work / "tree"
    make_tree(tree)
    (tree / "Containerfile").write_text("FROM scratch\nCOPY src/ /app/src/\n")
    (tree / ".containerignore").write_text("**/node_modules\n")
    profiles = work / "compare-project" / "profiles"
    profiles.mkdir(parents=True, exist_ok=True)
    (profiles / "bench.toml").write_text(
        f'image = "localhost/bench/imgctl"\ncontext = "{tree}"\ncontainerfile = "{tree}/Containerfile"\n'
    )
    for checkout in (ROOT, args.other.resolve()):
        compileall.compile_dir(checkout / "builder", quiet=1)
    env = engine_env(work / f"engine-compare-{args.images}")
    env["XDG_CACHE_HOME"] = str(work / "compare-cache")
    if args.images:
        fill_store(env, args.images, work)
    times: dict[str, list[float]] = {"podman": [], "other": [], "this": []}
    with podman_service(env, work / f"engine-compare-{args.images}" / "podman.sock") as served:
        imgctl = [sys.executable, "-m", "builder", "--profiles-dir", str(profiles), "build", "bench", "--no-cache",
                  "--quiet"]
        commands = {
            "podman": (["podman", "build", "-q", "--no-cache", "-t", "localhost/bench/podman:latest", str(tree)], {}),
            # engine_env sets PYTHONSAFEPATH=1: without it the current directory, put first on sys.path by
            # `-m`, would decide which checkout runs (both, when compare.py is run from a checkout's root).
            "other": (imgctl, {"PYTHONPATH": str(args.other.resolve())}),
            "this": (imgctl, {"PYTHONPATH": str(ROOT)}),
        }
        for name, checkout in (("other", args.other.resolve()), ("this", ROOT)):
            ran = subprocess.run([sys.executable, "-c", "import builder; print(builder.__file__)"],
                                 env={**served, **commands[name][1]}, capture_output=True, text=True, check=True)
            if not Path(ran.stdout.strip()).resolve().is_relative_to(checkout):
                raise SystemExit(f"{name} would run {ran.stdout.strip()}, not the checkout {checkout}")
        for _ in range(args.runs):
            for name, (command, extra) in commands.items():
                started = time.perf_counter()
                done = subprocess.run(command, env={**served, **extra}, capture_output=True, text=True)
                times[name].append(time.perf_counter() - started)
                if done.returncode != 0:
                    raise SystemExit(f"{name} failed:\n{done.stderr[-2000:]}")
    for name, values in times.items():
        runs = ", ".join(f"{value:.2f}" for value in values)
        print(f"{name:<7} median {statistics.median(values):.3f} s   ({runs})")
    podman = statistics.median(times["podman"])
    for name in ("other", "this"):
        print(f"{name} - podman: {statistics.median(times[name]) - podman:+.3f} s")


if __name__ == "__main__":
    main()
