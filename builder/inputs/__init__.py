"""Input digests: skipping a build whose inputs did not change, saying why one was not skipped, and the
local cache (file hashes, remembered context digests, per-build detail) that makes both cheap."""
