"""The contract between the editor side and the engine: plain dataclasses that travel as JSON.

Pure standard library on purpose: `vm_editor` imports this module and must never pull in torch,
onnxruntime or av. Times here are seconds; the editor converts from RationalTime at this edge.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

API_VERSION = 1
CUE_SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class MediaRange:
    """A span of a media file to look at, in the file's own seconds."""

    path: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class SceneRequest:
    """One cue to generate: how long it must be and what pictures it should follow.

    `media` is None for generators, gaps turned into cues and offline media: such scenes still
    get music, conditioned on nothing visual.
    """

    index: int
    name: str
    duration_s: float
    media: MediaRange | None = None
    hit_points_s: tuple[float, ...] = ()
    seed: int | None = None
    prompt: str | None = None
    take: int = 1
    guidance: float | None = None  # classifier-free guidance ("intensity"); None = the preset's

    def source_hash(self) -> str:
        """Identity of what the cue was generated from; lets a later session find the same cue."""
        payload = {
            "duration_s": round(self.duration_s, 6),
            "media": None
            if self.media is None
            else [self.media.path, round(self.media.start_s, 6), round(self.media.end_s, 6)],
            "hit_points_s": [round(t, 6) for t in self.hit_points_s],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ScoreRequest:
    """A batch of scenes scored with one preset into one cue folder."""

    scenes: tuple[SceneRequest, ...]
    cue_dir: str
    preset: str = "tiny"
    seed: int = 0
    prompt: str | None = None
    score_name: str = "score"
    hits: bool = True  # hit points (cuts, markers) get a strong accent; False: the model alone


@dataclass(frozen=True)
class CueResult:
    """A finished cue: a 48 kHz WAV of exactly the requested length, plus how it was made."""

    index: int
    name: str
    wav_path: str
    duration_s: float
    num_samples: int
    sample_rate: int
    preset: str
    seed: int
    prompt: str | None
    take: int
    source_hash: str
    engine_version: str
    model_trained: bool
    guidance: float | None = None

    def metadata(self) -> dict[str, Any]:
        """What goes under the clip's `vidmusician` metadata namespace."""
        return {
            "preset": self.preset,
            "seed": self.seed,
            "prompt": self.prompt or "",
            "take": self.take,
            "source_hash": self.source_hash,
            "engine_version": self.engine_version,
            "api_version": API_VERSION,
            "cue_index": self.index,
            "model_trained": self.model_trained,
            "guidance": self.guidance,
        }


@dataclass(frozen=True)
class ScoreResult:
    cues: tuple[CueResult, ...]
    warnings: tuple[str, ...] = field(default=())


def to_json(obj: Any) -> str:
    return json.dumps(dataclasses.asdict(obj), sort_keys=True)


def scene_from_dict(data: dict[str, Any]) -> SceneRequest:
    media = data.get("media")
    return SceneRequest(
        index=int(data["index"]),
        name=str(data["name"]),
        duration_s=float(data["duration_s"]),
        media=None if media is None else MediaRange(**media),
        hit_points_s=tuple(float(t) for t in data.get("hit_points_s", ())),
        seed=data.get("seed"),
        prompt=data.get("prompt"),
        take=int(data.get("take", 1)),
        guidance=None if data.get("guidance") is None else float(data["guidance"]),
    )


def score_request_from_dict(data: dict[str, Any]) -> ScoreRequest:
    return ScoreRequest(
        scenes=tuple(scene_from_dict(s) for s in data["scenes"]),
        cue_dir=str(data["cue_dir"]),
        preset=str(data.get("preset", "tiny")),
        seed=int(data.get("seed", 0)),
        prompt=data.get("prompt"),
        score_name=str(data.get("score_name", "score")),
        hits=bool(data.get("hits", True)),
    )


def cue_from_dict(data: dict[str, Any]) -> CueResult:
    names = {f.name for f in dataclasses.fields(CueResult)}
    return CueResult(**{k: v for k, v in data.items() if k in names})


def request_hash(request: ScoreRequest) -> str:
    """Identical requests (same scenes, settings and cue folder) share one result."""
    return hashlib.sha256(to_json(request).encode()).hexdigest()
