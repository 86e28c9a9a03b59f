"""The procedural video–music corpus: one item per seed, in memory or written to a folder.

Why: real paired data is scarce and its rhythm ground truth unknown; here every clip's beat grid
and events are known exactly, so the corpus checks itself (music onsets and frame-difference
spikes land on the events) and a trainer can draw fresh clips forever instead of over-fitting a
small set. An item is a pure function of (seed, config); the seed also fixes the split.

Layout written by `synth_corpus(out, ...)`:
    out/manifest.jsonl                   every complete item of every split (rebuilt each run)
    out/<split>/<id>.mp4 / .wav / .json  video, music, ground-truth sidecar (written last)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.corpus.errors import SynthConfigError
from engine.corpus.manifest import ManifestEntry, write_manifest
from engine.corpus.media_out import AUDIO_FORMATS, write_audio, write_video
from engine.corpus.plan import make_plan
from engine.corpus.splits import SPLITS, item_seed, split_of_seed
from engine.corpus.synth_music import render_music
from engine.corpus.synth_video import render_video
from engine.corpus.worlds import WORLDS, style_text

log = logging.getLogger(__name__)
TRUTH_VERSION = 1


@dataclass(frozen=True)
class SynthConfig:
    """What every item of a corpus shares. Durations are drawn per item in [min, max]."""

    min_duration_s: float = 4.0
    max_duration_s: float = 10.0
    fps: int = 25
    size: int = 160
    sample_rate: int = 16000
    audio_format: str = "wav"

    def validate(self) -> SynthConfig:
        if not 1.0 <= self.min_duration_s <= self.max_duration_s <= 120.0:
            raise SynthConfigError(
                f"durations {self.min_duration_s}..{self.max_duration_s} s are invalid; "
                "use 1 <= --min-duration <= --max-duration <= 120"
            )
        if not 8 <= self.fps <= 60:
            raise SynthConfigError(f"fps {self.fps} is invalid; use 8..60 (25 is the model's rate)")
        if self.size % 2 or not 32 <= self.size <= 1024:
            raise SynthConfigError(f"size {self.size} is invalid; use an even number of pixels in 32..1024")
        if not 8000 <= self.sample_rate <= 48000:
            raise SynthConfigError(
                f"sample rate {self.sample_rate} is invalid; use 8000..48000 (16000 or 32000)"
            )
        if self.audio_format not in AUDIO_FORMATS:
            raise SynthConfigError(
                f"audio format {self.audio_format!r} is invalid; use {' or '.join(AUDIO_FORMATS)}"
            )
        return self


@dataclass(frozen=True)
class SynthItem:
    """One clip in memory: frames (T, H, W, 3) uint8, mono float32 audio, and its ground truth."""

    frames: np.ndarray
    audio: np.ndarray
    truth: dict

    @property
    def id(self) -> str:
        return self.truth["id"]


def item_id(seed: int) -> str:
    return f"{split_of_seed(seed)}-{seed:010d}"


def _plan(seed: int, config: SynthConfig):
    world = WORLDS[seed % len(WORLDS)]  # balanced over consecutive seeds
    plan_ss, music_ss, video_ss, dur_ss = np.random.SeedSequence(seed).spawn(4)
    duration = float(np.random.default_rng(dur_ss).uniform(config.min_duration_s, config.max_duration_s))
    duration = round(round(duration * config.fps) / config.fps, 6)  # a whole number of frames
    return make_plan(world, duration, np.random.default_rng(plan_ss)), music_ss, video_ss


def generate_music(seed: int, config: SynthConfig | None = None) -> np.ndarray:
    """Only the music of item `seed` (identical to `generate_item(seed).audio`), for audio trainers."""
    config = (config or SynthConfig()).validate()
    split_of_seed(seed)
    plan, music_ss, _ = _plan(seed, config)
    return render_music(plan, WORLDS[seed % len(WORLDS)], config.sample_rate, np.random.default_rng(music_ss))


def generate_item(seed: int, config: SynthConfig | None = None) -> SynthItem:
    """Render item `seed` (a global seed, see `splits.item_seed`) in memory, no disk involved."""
    config = (config or SynthConfig()).validate()
    split = split_of_seed(seed)
    world = WORLDS[seed % len(WORLDS)]  # balanced over consecutive seeds
    plan, music_ss, video_ss = _plan(seed, config)
    audio = render_music(plan, world, config.sample_rate, np.random.default_rng(music_ss))
    duration = plan.duration_s
    frames, event_frames = render_video(plan, world, config.fps, config.size, np.random.default_rng(video_ss))
    truth = {
        "version": TRUTH_VERSION,
        "id": item_id(seed),
        "seed": seed,
        "split": split,
        "world": world.name,
        "text": style_text(world, plan.tempo_bpm),
        "tags": list(world.tags),
        "duration_s": duration,
        "fps": config.fps,
        "size": config.size,
        "sample_rate": config.sample_rate,
        "tempo_bpm": plan.tempo_bpm,
        "mode": plan.mode,
        "root_midi": plan.root_midi,
        "beat_times_s": list(plan.beat_times_s),
        "downbeat_times_s": list(plan.downbeat_times_s),
        "events": [
            {**asdict(e), "frame": f, "frame_time_s": round(f / config.fps, 6)}
            for e, f in zip(plan.events, event_frames, strict=True)
        ],
        "chords": [list(c) for c in plan.chords],
    }
    return SynthItem(frames=frames, audio=audio, truth=truth)


def stream_items(split: str, config: SynthConfig | None = None, start: int = 0) -> Iterator[SynthItem]:
    """Fresh items of `split` forever (indices start, start+1, ...), for on-the-fly training."""
    index = start
    while True:
        yield generate_item(item_seed(split, index), config)
        index += 1


def _paths(out: Path, seed: int, audio_format: str) -> tuple[Path, Path, Path]:
    folder = out / split_of_seed(seed)
    name = item_id(seed)
    return folder / f"{name}.mp4", folder / f"{name}.{audio_format}", folder / f"{name}.json"


def is_complete(out: Path, seed: int, config: SynthConfig) -> bool:
    """True when item `seed` was fully written with the same settings (its sidecar comes last)."""
    video, music, sidecar = _paths(out, seed, config.audio_format)
    if not (sidecar.is_file() and video.is_file() and music.is_file()):
        return False
    try:
        truth = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    same = (truth.get("fps"), truth.get("size"), truth.get("sample_rate"))
    return truth.get("version") == TRUTH_VERSION and same == (config.fps, config.size, config.sample_rate)


def write_item(item: SynthItem, out: Path, config: SynthConfig) -> ManifestEntry:
    """Write video, music, then the sidecar (atomically, in that order) under `out/<split>/`."""
    video, music, sidecar = _paths(out, item.truth["seed"], config.audio_format)
    video.parent.mkdir(parents=True, exist_ok=True)
    write_video(item.frames, config.fps, video)
    write_audio(item.audio, config.sample_rate, music, config.audio_format)
    truth = {**item.truth, "video": video.name, "music": music.name}
    tmp = sidecar.with_name(sidecar.name + ".part")
    tmp.write_text(json.dumps(truth, indent=1), encoding="utf-8")
    os.replace(tmp, sidecar)
    return _entry(truth, sidecar)


def _entry(truth: dict, sidecar: Path) -> ManifestEntry:
    folder = sidecar.parent.resolve()
    return ManifestEntry(
        video=folder / truth["video"],
        music=folder / truth["music"],
        split=truth["split"],
        text=truth["text"],
        truth=sidecar.resolve(),
        seed=truth["seed"],
        id=truth["id"],
    )


def rebuild_manifest(out: Path) -> Path:
    """Write `out/manifest.jsonl` from every complete item under `out` (all splits, sorted)."""
    entries = []
    for split in SPLITS:
        for sidecar in sorted((out / split).glob(f"{split}-*.json")):
            try:
                truth = json.loads(sidecar.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                log.warning("skipping unreadable sidecar %s", sidecar)
                continue
            entry = _entry(truth, sidecar)
            if entry.video.is_file() and entry.music.is_file():
                entries.append(entry)
    return write_manifest(entries, out)


def synth_corpus(
    out: str | Path,
    count: int,
    seed: int = 0,
    split: str = "train",
    config: SynthConfig | None = None,
    progress: Callable[[int, bool], None] | None = None,
) -> dict:
    """Write items `seed .. seed+count-1` of `split` under `out`, skipping complete ones; resumable.

    `progress(i, skipped)` is called after each item. Returns {"written", "skipped", "manifest"}.
    """
    config = (config or SynthConfig()).validate()
    if split not in SPLITS:
        raise SynthConfigError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    if count < 1 or seed < 0:
        raise SynthConfigError(f"--count {count} / --seed {seed} are invalid; use count >= 1 and seed >= 0")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SynthConfigError(f"{out} exists and is not a folder; pass a folder to --out")
    out.mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    for i in range(count):
        s = item_seed(split, seed + i)
        done = is_complete(out, s, config)
        if done:
            skipped += 1
        else:
            write_item(generate_item(s, config), out, config)
            written += 1
        if progress is not None:
            progress(i, done)
    manifest = rebuild_manifest(out)
    log.info("corpus %s: %d written, %d already there", out, written, skipped)
    return {"written": written, "skipped": skipped, "manifest": str(manifest)}
