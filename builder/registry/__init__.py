"""Everything imgctl asks of a registry itself: credentials (auth files, credential helpers), the
WWW-Authenticate challenge and bearer tokens, the HTTP transport with its TLS settings, the client, and the
`auth check` verdict."""
