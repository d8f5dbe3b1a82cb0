"""Handing a build to a cluster: Kubernetes, Tekton, OpenShift and GitLab CI documents from a profile."""
