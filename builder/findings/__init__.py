"""Findings: what `imgctl lint` and `imgctl verify` report, the policy that filters them, and their formats."""
