"""`imgctl lint`: hadolint's generic Dockerfile rules and imgctl's own OpenShift rules, merged into one report."""
