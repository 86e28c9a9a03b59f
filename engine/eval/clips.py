"""The clips `vm-eval` scores: held-out synthetic clips from their v2 truth, and real footage.

Why one type for both: every metric compares a cue with a clip's *visual events* and *edit
points* (the hit points a timeline would state), so both kinds carry the same fields; what only
the synthetic split knows (its style, tempo, caption and score) is None on real footage, where the
engine's detected hard cuts are both the events and the edit points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from engine.corpus.errors import SynthConfigError
from engine.eval.style_classifier import dominant_style
from engine.timebase import GRID_FPS

TRUTH_VERSION = 2
VIDEO_FPS = GRID_FPS  # the corpus films are shot on the rhythm grid (corpus.shots)


@dataclass
class Clip:
    """One evaluation clip: its video, its events, and what is known about it."""

    name: str
    video: Path
    duration_s: float
    events_s: list[float]  # cuts + dissolve middles + visual events (real: detected cuts)
    edit_points_s: list[float]  # hard cuts: the hit points (real: detected cuts); dissolves are no hits
    kind: str  # synthetic | real
    style: str | None = None  # the style that plays longest
    tempo_bpm: float | None = None  # that style's span tempo
    text: str | None = None  # the caption of the longest span
    score: Path | None = None  # the composed score (SymbolicScore JSON)
    world_change: bool = False  # the clip changes style (and tempo) part way


def clip_from_truth(path: Path) -> Clip:
    """A held-out clip from its truth sidecar (`engine.corpus.clips` layout, version 2)."""
    try:
        t = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SynthConfigError(
            f"{path}: unreadable truth ({exc}); synthesise the held-out split again"
        ) from exc
    if t.get("version") != TRUTH_VERSION:
        raise SynthConfigError(
            f"{path}: truth version {t.get('version')} is not the composed corpus's {TRUTH_VERSION} "
            "(an old audio corpus?); pass the corpus of a `vm-train tiny` run (RUN/corpus) or omit --heldout-dir"
        )
    cuts = [float(c["time_s"]) for c in t["cuts"]]
    dissolves = [d["frame"] / VIDEO_FPS for d in t["dissolves"]]
    visual = [float(e["time_s"]) for e in t["events"]]
    spans = t["spans"]
    style = dominant_style(t["style_spans"], t["num_frames"])
    longest = max((s for s in spans if s["style"] == style), key=lambda s: s["end_frame"] - s["start_frame"])
    return Clip(
        name=t["id"],
        video=path.parent / t["video"],
        duration_s=float(t["duration_s"]),
        events_s=sorted(cuts + dissolves + visual),
        edit_points_s=sorted(cuts),
        kind="synthetic",
        style=style,
        tempo_bpm=float(longest["tempo_bpm"]),
        text=t["text"],
        score=path.parent / t["score"],
        world_change=len(set(t["worlds"])) > 1,
    )


def heldout_clips(root: Path | None, count: int, work_dir: Path) -> list[Clip]:
    """The first `count` held-out clips under root/heldout (synthesised into work_dir/corpus when
    root is None)."""
    if root is None:
        from engine.corpus.clips import ClipConfig, synth_corpus

        root = work_dir / "corpus"
        synth_corpus(root, count, 0, "heldout", ClipConfig())
    sidecars = sorted((Path(root) / "heldout").glob("heldout-??????????.json"))[:count]
    if not sidecars:
        raise SynthConfigError(
            f"{root}: no held-out clips; pass a `vm-train tiny` run's corpus (RUN/corpus) or omit --heldout-dir"
        )
    return [clip_from_truth(p) for p in sidecars]
