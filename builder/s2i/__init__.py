"""S2I (source-to-image) profiles: a Containerfile generated from a source tree and a builder image, the way
`s2i build --as-dockerfile` writes one, then built like any other profile (docs/s2i.md)."""
