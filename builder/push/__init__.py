"""Pushing: destinations, the push orchestration, sorting engine push errors, and the engine's trust of a cert_dir."""
