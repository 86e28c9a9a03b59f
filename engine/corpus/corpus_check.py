"""Checking a corpus on disk: decode each clip's files and score them against its sidecar.

Why separate from `truth_check`: that module measures arrays; this one is the I/O around it
(manifest, PyAV decode, the score file), the same path a trainer's data loader takes, so what is
checked is what was written (after H.264), not what was rendered.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.corpus.errors import ManifestError
from engine.corpus.manifest import read_manifest
from engine.corpus.truth_check import agreement, video_spikes


def decode_video(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames of a video as (T, H, W, 3) uint8 RGB, and its frame rate."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return np.stack(frames), fps


def load_truth(path: str | Path) -> dict:
    """An item's ground-truth sidecar."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable ground-truth sidecar ({exc}); regenerate the item") from None


def check_corpus(root: str | Path, split: str | None = None, limit: int = 20) -> dict:
    """Score-accent shares and frame-spike F-measures of up to `limit` clips that have a truth sidecar."""
    entries = [e for e in read_manifest(root, split=split) if e.truth is not None][: max(0, limit)]
    if not entries:
        raise ManifestError(
            f"{root}: no items with a ground-truth sidecar to check; run `vm-train synth` first"
        )
    rows = []
    for entry in entries:
        if entry.score is None:
            raise ManifestError(
                f"{entry.truth}: item without a score (the retired single-shot audio corpus); "
                "write the corpus again with `vm-train synth`"
            )
        rows.append(_check_clip(entry, load_truth(entry.truth)))
    music = [r["music_f"] for r in rows]
    video = [r["video_f"] for r in rows]
    return {
        "items": len(rows),
        "music_metric": "share of cuts and visual events with a strong kick + crash on their 50 Hz frame",
        "video_metric": "F-measure of frame-difference peaks vs hard cuts and visual events, +- half a frame",
        "music_f_mean": float(np.mean(music)),
        "music_f_min": float(np.min(music)),
        "video_f_mean": float(np.mean(video)),
        "video_f_min": float(np.min(video)),
        "per_item": rows,
    }


def _check_clip(entry, truth: dict) -> dict:
    """A symbolic-corpus clip: its score's accents and its decoded video against the truth."""
    from engine.corpus.meter import Span
    from engine.symbolic.score import SymbolicScore

    try:  # every span names a known style and mood (a truth from before moods reads as neutral)
        moods = [Span.from_dict(s).mood for s in truth["spans"]]
    except (KeyError, ValueError) as exc:
        raise ManifestError(
            f"{entry.truth}: a span is invalid ({exc}); write the clip again with `vm-train synth`"
        ) from None
    score = SymbolicScore.from_dict(json.loads(Path(entry.score).read_text(encoding="utf-8")))
    strong = {h.frame for h in score.drums if h.accent == 2 and {"kick", "crash"} <= set(h.pieces)}
    hits = truth["hit_frames_50"]
    frames, fps = decode_video(entry.video)
    events = np.asarray([c["time_s"] for c in truth["cuts"]] + [e["time_s"] for e in truth["events"]], float)
    spikes = video_spikes(frames, fps)  # a dissolve's blend is a change but not a hit: left out
    spikes = [
        t for t in spikes if not any(d["start"] <= round(t * fps) <= d["end"] for d in truth["dissolves"])
    ]
    v = agreement(events, np.asarray(spikes), 0.5 / fps + 0.002)
    music_f = float(np.mean([h in strong for h in hits])) if hits else 1.0
    recall = v.recall if len(events) else 1.0
    f = v.f_measure if len(events) or spikes else 1.0
    return {
        "id": truth["id"],
        "world": truth["world"],
        "moods": moods,
        "music_f": music_f,
        "video_f": f,
        "video_recall": recall,
    }
