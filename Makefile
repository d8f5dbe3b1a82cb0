# Everything a fresh Debian/Ubuntu machine needs, then the demo or the tests.
#   make demo   installs what is missing, builds Containerfile.example through profiles/example.toml
#   make test   installs what is missing, runs the whole test suite against a real podman service
#   make bench  prints imgctl's timings beside plain podman's

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# nodejs: tests/unit/scaffold/test_stop.py runs the Node.js stop preload `imgctl init` writes as PID 1.
APT_PACKAGES := podman runc buildah skopeo docker-registry busybox-static uidmap fuse-overlayfs git tmux nodejs

.PHONY: deps system-deps venv demo lint test test-unit bench clean

deps: system-deps venv

# Installs only the packages that are missing, so a machine that has them needs neither root nor network.
system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)

venv: $(PY)
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'

demo: deps
	@PATH="$(abspath $(VENV))/bin:$$PATH" sh scripts/demo.sh

# ruff (rules in pyproject.toml) and mypy on the package; .ci/run runs this before the tests.
lint: venv
	$(VENV)/bin/ruff check builder tests bench scripts
	$(VENV)/bin/mypy

test: deps
	$(PY) -m pytest -q

test-unit: venv
	$(PY) -m pytest -q tests/unit

bench: deps
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache *.egg-info .imgctl-demo
