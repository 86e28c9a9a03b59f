"""`vm-train prepare`: a manifest's video–music pairs → training shards, once, resumably.

Per item: probe the video and read the music, keep the common duration, extract the visual
features with the engine's own feature step (CLS @1 fps, patch rhythm + cue channel @50 Hz, the
exact code path inference uses), resample the music to the codec's rate and encode it to tokens,
put the rhythm on the token grid, and hand the item to the shard writer. An item that cannot be
used (zero-byte or damaged video, unreadable music, too short) is skipped with one line naming
the file and the reason, counted in the summary and remembered in the index; the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.corpus.manifest import ManifestEntry, read_manifest
from engine.errors import EngineInputError
from engine.generator.grid_position import GridSegment, grid_features
from engine.train.shards import PreparedItem, ShardWriter, safe_id

log = logging.getLogger(__name__)
MIN_DURATION_S = 1.0


class ItemSkipped(Exception):
    """One manifest item cannot be prepared; the message is the reason."""


@dataclass
class Codec:
    """The compression model that turns music into the LM's tokens, plus what identifies it."""

    model: object  # audiocraft CompressionModel
    source: str

    @property
    def symbolic(self) -> bool:
        """Notes, not audio: an item's tokens come from its score, exactly (no encoder)."""
        return bool(getattr(self.model, "decodes_whole", False))

    def info(self) -> dict:
        m = self.model
        return {
            "sample_rate": int(m.sample_rate),
            "frame_rate": float(m.frame_rate),
            "n_q": int(m.num_codebooks),
            "card": int(m.cardinality),
            "source": self.source,
        }


def load_prepare_codec(preset: str) -> Codec:
    """The preset's own codec: the symbolic one (tokens from scores) or its neural codec (e.g. a
    `musicgen-*` preset's EnCodec, tokens from music)."""
    from engine.generator import backbone as bb
    from engine.generator.config import load_generator_config

    cfg = load_generator_config(preset)
    if bb.is_symbolic(cfg):
        return Codec(bb.build_codec(cfg), "symbolic")
    backbone, _ = bb.load_backbone(preset, cfg)
    if not backbone.trained:
        log.warning(
            "preset %s: codec is untrained (%s); tokens will only be useful for smoke runs",
            preset,
            backbone.source,
        )
    return Codec(backbone.codec.eval(), backbone.source)


def read_music(path: Path, sample_rate: int) -> np.ndarray:
    """Mono float32 at `sample_rate`; raises ItemSkipped for an unreadable or empty file."""
    import soundfile as sf
    import soxr

    if not path.is_file():
        raise ItemSkipped(f"music file {path} does not exist")
    if path.stat().st_size == 0:
        raise ItemSkipped(f"music file {path} is empty (0 bytes)")
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise ItemSkipped(f"music file {path} cannot be read ({exc})") from None
    mono = audio.mean(axis=1)
    if sr != sample_rate:
        mono = soxr.resample(mono, sr, sample_rate).astype(np.float32)
    if mono.size == 0 or not np.isfinite(mono).all():
        raise ItemSkipped(f"music file {path} has no samples or non-finite ones")
    return mono


def read_score_tokens(path: Path) -> np.ndarray:
    """A corpus item's score (`<id>.score.json`) as the LM's tokens [K, frames]."""
    import json

    from engine.symbolic.score import SymbolicScore
    from engine.symbolic.tokens import encode

    if not path.is_file():
        raise ItemSkipped(f"score file {path} does not exist")
    try:
        score = SymbolicScore.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ItemSkipped(f"score file {path} cannot be read ({exc})") from None
    return encode(score)


def to_grid(curve: np.ndarray, src_hz: float, frames: int, dst_hz: float) -> np.ndarray:
    """A [n, C] curve at `src_hz` on `frames` steps of `dst_hz` (zero past its end)."""
    if abs(src_hz - dst_hz) > 1e-6:
        t_src = np.arange(curve.shape[0]) / src_hz
        t_dst = np.arange(frames) / dst_hz
        curve = np.stack([np.interp(t_dst, t_src, curve[:, c], right=0.0) for c in range(curve.shape[1])], 1)
    out = np.zeros((frames, curve.shape[1]), np.float32)
    n = min(frames, curve.shape[0])
    out[:n] = curve[:n]
    return out


def truth_grid(truth: Path | None, frames: int, frame_rate: float) -> np.ndarray | None:
    """The grid features of a composed clip from its truth's style spans (each its own tempo,
    meter and bar 0), on a `frame_rate` grid; None when the item has no such truth."""
    import json

    if truth is None or not Path(truth).is_file():
        return None
    data = json.loads(Path(truth).read_text(encoding="utf-8"))
    spans = data.get("spans")
    if not spans:
        return None
    scale = frame_rate / float(data.get("frame_rate", frame_rate))
    segments = [
        GridSegment(
            int(round(s["start_frame"] * scale)),
            int(round(s["end_frame"] * scale)),
            float(s["origin_frame"]) * scale,
            frame_rate * 60.0 / float(s["tempo_bpm"]),
            int(s["beats_per_bar"]),
        )
        for s in spans
    ]
    return grid_features(segments, 0, frames)


def prepare_item(
    entry: ManifestEntry,
    item_id: str,
    codec: Codec,
    preset: str,
    cache_dir: str | None,
    max_duration_s: float | None,
) -> PreparedItem:
    import torch

    from engine.features import extract_scene_features, probe_media
    from engine.timebase import TOKEN_RATE

    if not entry.video.is_file():
        raise ItemSkipped(f"video file {entry.video} does not exist")
    if codec.symbolic and entry.score is None:
        raise ItemSkipped(
            f"{entry.video}: the manifest gives music but no score; symbolic tokens need a score"
        )
    if not codec.symbolic and entry.music is None:
        raise ItemSkipped(f"{entry.video}: the manifest gives a score but no music; audio tokens need audio")
    try:
        info = probe_media(str(entry.video))
        if codec.symbolic:
            tokens = read_score_tokens(entry.score)
            duration = min(info.duration_s, tokens.shape[1] / float(codec.model.frame_rate))
        else:
            music = read_music(entry.music, codec.info()["sample_rate"])
            duration = min(info.duration_s, music.shape[0] / codec.model.sample_rate)
        if max_duration_s:
            duration = min(duration, max_duration_s)
        if duration < MIN_DURATION_S:
            raise ItemSkipped(f"only {duration:.2f} s of video and music overlap (need {MIN_DURATION_S} s)")
        feats = extract_scene_features(str(entry.video), 0.0, duration, preset=preset, cache_dir=cache_dir)
    except EngineInputError as exc:  # media errors name the file first; the skip line already does
        raise ItemSkipped(str(exc).removeprefix(f"{entry.video}: ")) from None
    frame_rate = float(codec.model.frame_rate)
    frames = int(np.floor(duration * frame_rate + 1e-6))
    if codec.symbolic:
        codes = tokens[:, :frames].astype(np.int32)
    else:
        hop = int(round(codec.model.sample_rate / frame_rate))
        wav = torch.from_numpy(np.ascontiguousarray(music[: frames * hop])).view(1, 1, -1)
        with torch.no_grad():
            codes, _ = codec.model.encode(wav)
        codes = codes[0, :, :frames].to(torch.int32).numpy()
    curves = np.stack([feats.rhythm_50hz, feats.cues_50hz], axis=1).astype(np.float32)
    return PreparedItem(
        id=item_id,
        split=entry.split,
        text=entry.text,
        cls=feats.cls_1fps.astype(np.float32),
        rhythm=to_grid(curves, TOKEN_RATE, frames, frame_rate),
        codes=codes,
        duration_s=frames / frame_rate,
        video=str(entry.video),
        music=str(entry.score if codec.symbolic else entry.music),
        grid=truth_grid(entry.truth, frames, frame_rate),
    )


def prepare_dataset(
    manifest: str | Path,
    out: str | Path,
    *,
    preset: str = "tiny",
    split: str | None = None,
    shard_size: int = 64,
    cache_dir: str | None = None,
    max_duration_s: float | None = None,
    on_skip: Callable[[str], None] | None = None,
    progress: Callable[[], None] | None = None,
) -> dict:
    """Prepare every (not yet prepared) item; returns the summary printed by the CLI."""
    entries = read_manifest(manifest, split=split, check_files=False)
    codec = load_prepare_codec(preset)
    writer = ShardWriter(out, codec.info(), {"preset": preset, "rhythm_channels": 2}, shard_size)
    done = writer.done_ids()
    counts = {"prepared": 0, "already_done": 0, "skipped": 0}
    skipped: list[dict] = []
    say = on_skip or log.warning
    for entry in entries:
        item_id = safe_id(entry.id or entry.video.stem)
        if item_id in done:
            counts["already_done"] += 1
        else:
            try:
                writer.add(prepare_item(entry, item_id, codec, preset, cache_dir, max_duration_s))
                done.add(item_id)
                counts["prepared"] += 1
            except ItemSkipped as exc:
                say(f"skipped {entry.video}: {exc}")
                writer.record_skip(item_id, str(entry.video), str(exc))
                skipped.append({"id": item_id, "video": str(entry.video), "reason": str(exc)})
                counts["skipped"] += 1
        if progress is not None:
            progress()
    writer.close()
    return {
        **counts,
        "items_total": len(writer.index["items"]),
        "out": str(Path(out)),
        "codec": codec.info(),
        "skipped_items": skipped,
    }
