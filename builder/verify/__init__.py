"""`imgctl verify`: checks on a built image itself, its config, its layers and a run of it (docs/verify.md)."""
