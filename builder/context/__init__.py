"""The build context: Go path and regexp rules, .containerignore/.dockerignore rules in both dialects, the
ignore file's lookup, the walk, the tar stream sent to the service, and the `imgctl ignore` proposal."""
