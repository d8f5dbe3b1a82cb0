"""The container engine: the typed Engine protocol and its records, the podman implementation, and
finding or starting the service."""
