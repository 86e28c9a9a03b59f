"""Errors of the corpus and dataset tools: bad corpus settings and bad dataset manifests.

Both are `EngineInputError`s so `vm-train` turns them into one `error:` line (exit 2).
"""

from engine.errors import EngineInputError


class SynthConfigError(EngineInputError):
    """Corpus settings that cannot produce a valid clip (sizes, rates, durations, seeds)."""


class ManifestError(EngineInputError):
    """A dataset manifest that does not parse or points at missing files; names file:line."""
