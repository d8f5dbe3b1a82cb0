"""OCI image concepts every layer shares, with no I/O: the reference grammar (repositories, tags, digests)."""
