"""Checking a corpus on disk: decode each item's files and score them against its sidecar.

Why separate from `truth_check`: that module measures arrays; this one is the I/O around it
(manifest, PyAV decode, soundfile), the same path a trainer's data loader takes, so what is
checked is what was written (after H.264 and 16-bit quantisation), not what was rendered.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.corpus.errors import ManifestError
from engine.corpus.manifest import read_manifest
from engine.corpus.truth_check import music_agreement, video_agreement


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
    """Music-onset and frame-spike F-measures of up to `limit` items that have a truth sidecar."""
    import soundfile as sf

    entries = [e for e in read_manifest(root, split=split) if e.truth is not None][: max(0, limit)]
    if not entries:
        raise ManifestError(
            f"{root}: no items with a ground-truth sidecar to check; run `vm-train synth` first"
        )
    rows = []
    for entry in entries:
        truth = load_truth(entry.truth)
        events = np.asarray([e["time_s"] for e in truth["events"]], float)
        audio, sr = sf.read(str(entry.music), dtype="float32", always_2d=False)
        frames, fps = decode_video(entry.video)
        m = music_agreement(audio, sr, events)
        v = video_agreement(frames, fps, events)
        rows.append(
            {"id": truth["id"], "world": truth["world"], "music_f": m.f_measure, "video_f": v.f_measure}
        )
    music = [r["music_f"] for r in rows]
    video = [r["video_f"] for r in rows]
    return {
        "items": len(rows),
        "music_metric": "mir_eval onset F-measure, librosa onsets (hop 256), +-70 ms",
        "video_metric": "F-measure of frame-difference peaks, +- half a frame",
        "music_f_mean": float(np.mean(music)),
        "music_f_min": float(np.min(music)),
        "video_f_mean": float(np.mean(video)),
        "video_f_min": float(np.min(video)),
        "per_item": rows,
    }
