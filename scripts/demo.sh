#!/bin/sh
# `make demo`: build Containerfile.example through profiles/example.toml on this machine and show the
# result. Works offline: when the UBI base cannot be pulled, a local busybox stand-in replaces it (and
# this script says so). When the default OCI runtime cannot start containers (crun on some kernels),
# it uses runc through a containers.conf of its own.
set -eu
cd "$(dirname "$0")/.."
demo_dir="$PWD/.imgctl-demo"
mkdir -p "$demo_dir"
base="localhost/imgctl-demo/base:latest"
ubi="registry.access.redhat.com/ubi9/ubi-minimal:9.4"

say() { printf '\n==> %s\n' "$*"; }

# Probe the OCI runtime with an image that needs none to build (COPY only).
mkdir -p "$demo_dir/probe"
cp "$(command -v busybox)" "$demo_dir/probe/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\n' > "$demo_dir/probe/Containerfile"
podman build --quiet -t localhost/imgctl-demo/probe:latest "$demo_dir/probe" >/dev/null
if [ -z "${CONTAINERS_CONF:-}" ] && ! podman run --rm localhost/imgctl-demo/probe:latest /bin/busybox true >/dev/null 2>&1; then
    cat > "$demo_dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
runtime = "runc"
CONF
    export CONTAINERS_CONF="$demo_dir/containers.conf"
    say "the default OCI runtime cannot start containers here; using runc through $CONTAINERS_CONF"
fi

build_args=""
if timeout 20 podman pull --quiet "$ubi" >/dev/null 2>&1; then
    say "using the real UBI base image $ubi"
else
    say "NOTE: $ubi cannot be pulled (offline?); using a local busybox stand-in $base instead"
    mkdir -p "$demo_dir/base"
    cp "$(command -v busybox)" "$demo_dir/base/busybox"
    printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n' > "$demo_dir/base/Containerfile"
    podman build --quiet -t "$base" "$demo_dir/base" >/dev/null
    build_args="--build-arg BUILDER_IMAGE=$base --build-arg RUNTIME_IMAGE=$base"
fi

say "imgctl list"
imgctl list
say "imgctl build example $build_args"
# shellcheck disable=SC2086
imgctl build example $build_args
say "labels of localhost/imgctl/example:latest"
podman image inspect localhost/imgctl/example:latest --format '{{range $k, $v := .Labels}}{{$k}}={{$v}}{{"\n"}}{{end}}'
say "running it as an arbitrary UID in group 0, as OpenShift does (stopped after 2 s)"
cid=$(podman run -d --user 1000680000:0 localhost/imgctl/example:latest)
sleep 2
podman logs "$cid"
start=$(date +%s)
podman stop -t 10 "$cid" >/dev/null
podman rm "$cid" >/dev/null
say "stopped in $(( $(date +%s) - start )) s (SIGTERM handled)"
