"""The engine API served inside the caller's process (`vm-editor score --in-process`, the panel).

It implements `engine.api.Engine` like the service client does. Importing this module is cheap
(standard library only): torch, onnxruntime and av load on the first call, inside the engine.
A front end may call it from several threads at once (the panel's previews and scoring), so the
native runtimes are loaded once, in one order, under a lock: two of them loading in two threads
at the same time crash inside their initialisers (measured: onnxruntime's module next to torch's).
"""

from __future__ import annotations

import threading

from engine.api import (
    API_VERSION,
    CancelSignal,
    CueConditioning,
    CueResult,
    EngineInfo,
    Preview,
    ProgramSegmentSpec,
    ProgressCallback,
    RefitRequest,
    SceneRequest,
    ScoreRequest,
    ScoreResult,
    ShotPicture,
)

_runtime_lock = threading.Lock()
_runtime_loaded = False


def _load_runtime() -> None:
    """torch, onnxruntime and PyAV, loaded once per process before any engine work."""
    global _runtime_loaded
    if _runtime_loaded:
        return
    with _runtime_lock:
        if not _runtime_loaded:
            import av  # noqa: F401
            import onnxruntime  # noqa: F401
            import torch  # noqa: F401

            _runtime_loaded = True


class InProcessEngine:
    def __init__(self) -> None:
        self._warm: set[str] = set()  # presets this engine has scored with: their models are loaded

    def score(
        self,
        request: ScoreRequest,
        progress: ProgressCallback | None = None,
        cancel: CancelSignal | None = None,
    ) -> ScoreResult:
        """Cues generated on the calling thread; `cancel` stops them cooperatively."""
        _load_runtime()
        from engine.pipeline import score

        result = score(request, progress, cancel)
        self._warm.add(request.preset)  # as the service's worker says it (`info().warm_presets`)
        return result

    def refit(self, request: RefitRequest) -> CueResult:
        """A finished cue's notes re-timed onto a recut span and rendered again (`engine.refit`)."""
        from engine.refit import refit_cue

        return refit_cue(request)

    def preview(self, path: str, start_s: float, end_s: float) -> Preview:
        _load_runtime()
        from engine.preview import media_preview

        return media_preview(path, start_s, end_s)

    def info(self) -> EngineInfo:
        _load_runtime()
        import torch

        from engine import __version__
        from engine.presets import available_presets

        device = "cuda" if torch.cuda.is_available() else "cpu"
        warm = tuple(sorted(self._warm))
        return EngineInfo(__version__, API_VERSION, tuple(available_presets()), device, warm_presets=warm)

    def conditioning(self, scene: SceneRequest, preset: str = "tiny") -> CueConditioning:
        """What the generator conditions `scene` on: rhythm, cue channel, edit points, CLS count."""
        _load_runtime()
        from engine.media import check_program_media
        from engine.program_features import conditioning

        check_program_media([scene])
        return conditioning(scene.cue_program(), preset=preset)

    def shot_embeddings(
        self, shots: tuple[ProgramSegmentSpec, ...], preset: str = "tiny"
    ) -> list[list[float]]:
        _load_runtime()
        from engine.program_features import shot_embeddings

        return shot_embeddings(shots, preset=preset)

    def shot_pictures(self, shots: tuple[ProgramSegmentSpec, ...]) -> list[ShotPicture | None]:
        """What each shot looks like (None for black): the auto cue plan's world changes."""
        _load_runtime()
        from engine.picture_stats import shot_pictures

        return shot_pictures(shots)

    def media_cuts(self, path: str) -> tuple[float, list[float]]:
        """(duration in seconds, hard cuts in seconds) of a media file, for building timelines."""
        _load_runtime()
        from engine.features import probe_media, rhythm_for_media

        info = probe_media(path)
        doc = rhythm_for_media(path)
        return info.duration_s, [float(t) for t in doc["cuts_s"]]

    def media_rate(self, path: str) -> float:
        _load_runtime()
        from engine.features import probe_media

        return probe_media(path).fps
