"""What the linter looks at: one Containerfile, read once, and what the profile says about the image.

The build hands the same `Document` it builds from; `imgctl lint PATH` makes one from the file alone (no
context, no profile), in which case the rules that need the context or the profile stay quiet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from builder.containerfile.document import Document


@dataclass(frozen=True)
class Subject:
    document: Document  # the Containerfile, read once (builder.containerfile.document)
    file: str  # how findings name the file: the path as the user gave it, or relative to the project root
    context: Path | None = None  # the build context: entrypoint scripts, the ignore file; None for a bare file
    target: str | None = None  # the stage built; None: the last stage
    build_args: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    writable_paths: tuple[str, ...] = ()  # the profile's: directories written at run time
    policy: str = "openshift"  # or "certification": preflight's required labels too
    trusted_registries: tuple[str, ...] = ()  # hadolint's DL3026 globs; empty: any registry
    # Labels imgctl applies at build besides the Containerfile's (the profile's [labels]): the label rules count
    # them as set.
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
