"""The symbolic corpus: one multi-shot clip and its composed score per seed, in memory or on disk.

Why: the embedded model predicts note tokens, so its training pairs are pictures and the notes that
were composed for them — known exactly, no audio and no codec in between (audio is rendered on
demand by the soundfont renderer, elsewhere). An item is a pure function of (seed, config); the
seed fixes the split (`splits.py`) and the first world (consecutive seeds cycle the 8 styles).

Layout written by `synth_corpus(out, ...)`:
    out/manifest.jsonl                                  every complete item (rebuilt each run)
    out/<split>/<id>.mp4 / <id>.score.json / <id>.json  video, SymbolicScore, truth (written last)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.corpus.compose import compose
from engine.corpus.errors import SynthConfigError
from engine.corpus.manifest import ManifestEntry, write_manifest
from engine.corpus.media_out import write_video
from engine.corpus.mood_styles import check_moods
from engine.corpus.shot_video import render_edit
from engine.corpus.shots import MUSIC_PER_VIDEO, VIDEO_FPS, plan_edit
from engine.corpus.splits import SPLITS, item_seed, split_of_seed
from engine.corpus.styles import caption, check_table
from engine.symbolic.score import FRAME_RATE, STYLES, SymbolicScore

log = logging.getLogger(__name__)
TRUTH_VERSION = 2  # 1 was the retired single-shot audio corpus


@dataclass(frozen=True)
class ClipConfig:
    """What every clip of a corpus shares. Durations are drawn per clip in [min, max]."""

    min_duration_s: float = 6.0
    max_duration_s: float = 12.0
    size: int = 160

    def validate(self) -> ClipConfig:
        if not 2.0 <= self.min_duration_s <= self.max_duration_s <= 120.0:
            raise SynthConfigError(
                f"durations {self.min_duration_s}..{self.max_duration_s} s are invalid; "
                "use 2 <= --min-duration <= --max-duration <= 120"
            )
        if self.size % 2 or not 32 <= self.size <= 1024:
            raise SynthConfigError(f"size {self.size} is invalid; use an even number of pixels in 32..1024")
        return self


@dataclass(frozen=True)
class ClipItem:
    """One clip in memory: frames (T, H, W, 3) uint8 at 25 fps, its score, its ground truth."""

    frames: np.ndarray
    score: SymbolicScore
    truth: dict

    @property
    def id(self) -> str:
        return self.truth["id"]


def item_id(seed: int) -> str:
    return f"{split_of_seed(seed)}-{seed:010d}"


def _compose(seed: int, config: ClipConfig):
    """(edit, score, the frames' random stream) of clip `seed`: everything but the pictures."""
    first_style = STYLES[seed % len(STYLES)]
    dur_ss, edit_ss, music_ss, video_ss = np.random.SeedSequence(seed).spawn(4)
    duration = float(np.random.default_rng(dur_ss).uniform(config.min_duration_s, config.max_duration_s))
    n_video = max(2, round(duration * VIDEO_FPS))
    edit = plan_edit(first_style, n_video, np.random.default_rng(edit_ss))
    score = compose(list(edit.spans), edit.num_frames, edit.hit_frames(), np.random.default_rng(music_ss))
    return edit, score, video_ss


def generate_item(seed: int, config: ClipConfig | None = None) -> ClipItem:
    """Compose and render clip `seed` (a global seed, see `splits.item_seed`); no disk involved."""
    config = (config or ClipConfig()).validate()
    split = split_of_seed(seed)  # a seed outside every split fails here, clearly
    edit, score, video_ss = _compose(seed, config)
    frames = render_edit(edit, config.size, np.random.default_rng(video_ss))
    return ClipItem(frames, score, _truth(seed, split, config, edit, score))


def generate_score(seed: int, config: ClipConfig | None = None) -> tuple[SymbolicScore, dict]:
    """Clip `seed`'s score and truth without drawing its frames (the same as `generate_item`'s):
    what the style judge trains on, at a fraction of the cost."""
    config = (config or ClipConfig()).validate()
    split = split_of_seed(seed)
    edit, score, _ = _compose(seed, config)
    return score, _truth(seed, split, config, edit, score)


def _truth(seed: int, split: str, config: ClipConfig, edit, score: SymbolicScore) -> dict:
    spans = [s.to_dict() for s in edit.spans]
    captions = [caption(s.style, s.tempo_bpm, s.mood) for s in edit.spans]
    longest = max(range(len(spans)), key=lambda i: spans[i]["end_frame"] - spans[i]["start_frame"])
    starts = [0] + [t.frame for t in edit.transitions] + [edit.num_video_frames]
    return {
        "version": TRUTH_VERSION,
        "id": item_id(seed),
        "seed": seed,
        "split": split,
        "fps": VIDEO_FPS,
        "frame_rate": FRAME_RATE,
        "size": config.size,
        "num_video_frames": edit.num_video_frames,
        "num_frames": edit.num_frames,
        "duration_s": edit.num_video_frames / VIDEO_FPS,
        "worlds": [s.style for s in edit.spans],
        "world": edit.spans[0].style,
        "moods": [s.mood for s in edit.spans],
        "style_spans": [[s.start_frame, s.style] for s in edit.spans],
        "spans": spans,
        "tempo_bpm": edit.spans[0].tempo_bpm,
        "text": captions[longest],
        "captions": captions,
        "shots": [
            {"start": a, "end": b, "world": edit.world_at(a), "length_s": (b - a) / VIDEO_FPS}
            for a, b in zip(starts[:-1], starts[1:], strict=True)
        ],
        "cuts": [
            {
                "frame": t.frame,
                "frame_50": t.frame * MUSIC_PER_VIDEO,
                "time_s": t.frame / VIDEO_FPS,
                "on": t.on,
                "world_change": t.world_change,
            }
            for t in edit.transitions
            if t.kind == "cut"
        ],
        "dissolves": [
            {
                "start": t.start,
                "end": t.end,
                "frame": t.frame,
                "frame_50": t.frame * MUSIC_PER_VIDEO,
                "on": t.on,
            }
            for t in edit.transitions
            if t.kind == "dissolve"
        ],
        "events": [
            {
                "frame": e.frame,
                "frame_50": e.frame * MUSIC_PER_VIDEO,
                "time_s": e.frame / VIDEO_FPS,
                "kind": e.kind,
            }
            for e in edit.events
        ],
        "hit_frames_50": edit.hit_frames(),
        "section_starts_50": score.meta["section_starts"],
        "fills_50": score.meta["fills"],
    }


def stream_items(split: str, config: ClipConfig | None = None, start: int = 0) -> Iterator[ClipItem]:
    """Fresh clips of `split` forever (indices start, start+1, ...), for on-the-fly training."""
    index = start
    while True:
        yield generate_item(item_seed(split, index), config)
        index += 1


def _paths(out: Path, seed: int) -> tuple[Path, Path, Path]:
    folder = out / split_of_seed(seed)
    name = item_id(seed)
    return folder / f"{name}.mp4", folder / f"{name}.score.json", folder / f"{name}.json"


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def is_complete(out: Path, seed: int, config: ClipConfig) -> bool:
    """True when clip `seed` was fully written with the same settings (its truth comes last)."""
    video, score, truth_path = _paths(out, seed)
    if not (truth_path.is_file() and video.is_file() and score.is_file()):
        return False
    try:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    return truth.get("version") == TRUTH_VERSION and truth.get("size") == config.size


def write_item(item: ClipItem, out: Path) -> ManifestEntry:
    """Write the video, the score, then the truth (atomically, in that order) under `out/<split>/`."""
    video, score, truth_path = _paths(out, item.truth["seed"])
    video.parent.mkdir(parents=True, exist_ok=True)
    write_video(item.frames, VIDEO_FPS, video)
    _write_json(score, item.score.to_dict())
    truth = {**item.truth, "video": video.name, "score": score.name}
    _write_json(truth_path, truth)
    return _entry(truth, truth_path)


def _entry(truth: dict, truth_path: Path) -> ManifestEntry:
    folder = truth_path.parent.resolve()
    return ManifestEntry(
        video=folder / truth["video"],
        music=None,
        split=truth["split"],
        text=truth["text"],
        truth=truth_path.resolve(),
        seed=truth["seed"],
        id=truth["id"],
        score=folder / truth["score"],
    )


def rebuild_manifest(out: Path) -> Path:
    """Write `out/manifest.jsonl` from every complete clip under `out` (all splits, sorted)."""
    entries = []
    for split in SPLITS:
        for truth_path in sorted((out / split).glob(f"{split}-??????????.json")):
            try:
                truth = json.loads(truth_path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                log.warning("skipping unreadable truth %s", truth_path)
                continue
            if truth.get("version") != TRUTH_VERSION:
                continue
            entry = _entry(truth, truth_path)
            if entry.video.is_file() and entry.score.is_file():
                entries.append(entry)
    return write_manifest(entries, out)


def synth_corpus(
    out: str | Path,
    count: int,
    start: int = 0,
    split: str = "train",
    config: ClipConfig | None = None,
    progress: Callable[[int, bool], None] | None = None,
) -> dict:
    """Write clips `start .. start+count-1` of `split` under `out`, skipping complete ones; resumable.

    `progress(i, skipped)` is called after each clip. Returns {"written", "skipped", "manifest"}.
    """
    config = (config or ClipConfig()).validate()
    if split not in SPLITS:
        raise SynthConfigError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    if count < 1 or start < 0:
        raise SynthConfigError(f"--count {count} / --seed {start} are invalid; use count >= 1 and seed >= 0")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SynthConfigError(f"{out} exists and is not a folder; pass a folder to --out")
    try:  # the style and mood tables the composer reads: a broken one is refused before any clip
        check_table()
        check_moods()
    except ValueError as exc:
        raise SynthConfigError(f"the composer's tables are inconsistent: {exc}") from None
    out.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    for i in range(count):
        seed = item_seed(split, start + i)
        done = is_complete(out, seed, config)
        if done:
            skipped += 1
        else:
            write_item(generate_item(seed, config), out)
            written += 1
        if progress is not None:
            progress(i, done)
    manifest = rebuild_manifest(out)
    log.info("corpus %s: %d written, %d already there", out, written, skipped)
    return {"written": written, "skipped": skipped, "manifest": str(manifest)}
