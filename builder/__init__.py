"""imgctl: build, label, tag and push container images with Podman from TOML profiles."""

__version__ = "0.1.0"
