"""Build profiles: the schema of their keys, reading `profiles/NAME.toml` files and their `extends` chains,
merging and `--set` overrides, template expansion, and resolution into a `Profile` or an `imgctl list` summary.

Light to import on purpose (`imgctl list` start-up): no podman-py, requests or rich, and subprocess/difflib only
on the paths that need them.
"""
