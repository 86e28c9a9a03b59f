"""How the editor side reaches the engine.

For now the engine runs in this process, imported lazily so that `vm_editor` itself never loads
torch, onnxruntime or av (only calling `score` does). The service client (a later step) will
implement the same `score` signature over loopback HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.api import ScoreRequest, ScoreResult


class InProcessEngine:
    """Runs the engine's pipeline in this Python process (`--in-process`)."""

    def score(self, request: ScoreRequest, progress: Callable[[Any], None] | None = None) -> ScoreResult:
        from engine.pipeline import score

        return score(request, progress)

    def media_cuts(self, path: str) -> tuple[float, list[float]]:
        """(duration in seconds, hard cuts in seconds) of a media file, for building timelines."""
        from engine.features import probe_media, rhythm_for_media

        info = probe_media(path)
        doc = rhythm_for_media(path)
        return info.duration_s, [float(t) for t in doc["cuts_s"]]

    def media_rate(self, path: str) -> float:
        from engine.features import probe_media

        return probe_media(path).fps
