"""The Containerfile: one document read once (bytes, text, instructions), shell words, source patterns, the
stages a build runs, and what it can read from its context (the reach) to prune the upload to."""
