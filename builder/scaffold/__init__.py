"""`imgctl init`: detecting an application's runtime, the Containerfile, profile and ignore file it gets, and
writing them all or none."""
