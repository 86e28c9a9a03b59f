"""Features of a cue's program: what the viewer sees, shot after shot, in record time.

Each segment is decoded once, on the cue's record grid mapped into the shot's media time (a 2x
shot samples its media at 12.5 fps to fill the 25 fps record grid; a reversed one is decoded
forward and flipped; a freeze frame decodes one frame). Every picked frame goes through the tower
once; from the same pass come:

- CLS at 1 fps: the row for record second i is the encoding of the frame on screen at i s (every
  1 fps time is a 25 fps grid time, so it is one of the encoded frames);
- the patch rhythm at 25 fps across shots: d_t = 1 - cos(p_t, p_{t-1}) over the whole cue, so
  the first frame after a cut compares with the last frame before it (a cut makes its own
  change); black compares as the encoding of a black frame; resampled to 50 Hz;
- the cue channel at 50 Hz: 1.0 at the timeline's hard cuts and markers, and at hard cuts the
  pixels show *inside* a segment (cuts baked into the media); 0.5 at the timeline's dissolves
  (their cut point) and at fades inside a segment, as the training corpus marks a blend.

Each segment's result is cached on its own (media content, decoded source span, grid rate,
encoder), so recutting one shot re-encodes only that shot.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from engine.api import CueConditioning, CueProgram, ProgramSegmentSpec
from engine.encoders import tower_for_preset
from engine.feature_cache import FeatureCache
from engine.features import default_cache_dir
from engine.media import check_range, decode_grids, is_still, playable_s, probe_media
from engine.preprocess import normalise_batch
from engine.rhythm import CutDetector, cue_channel, patch_change_curve, rhythm_curve
from engine.timebase import GRID_FPS, SEMANTIC_FPS, TOKEN_RATE

_EPS = 1e-9


@dataclass(frozen=True)
class ProgramFeatures:
    cls_1fps: np.ndarray  # float32 [N, D], N = max(1, ceil(duration_s)); row i = frame on screen at i s
    rhythm_50hz: np.ndarray  # float32 [T], T = round(duration_s * 50)
    cues_50hz: np.ndarray  # float32 [T]
    cuts_s: tuple[float, ...]  # cuts found in the pixels inside segments, record seconds
    edit_points_s: tuple[float, ...]  # the timeline's edit points, record seconds
    pooled_25: np.ndarray  # float32 [M, D] every 25 fps grid frame's embedding
    encoder_id: str


@dataclass(frozen=True)
class _Shot:
    pooled: np.ndarray  # [n, D], in record order
    d: np.ndarray  # [n] change within the shot, d[0] undefined (set by the caller)
    first: np.ndarray  # patch tokens of the first frame shown (record order)
    last: np.ndarray
    cuts_s: tuple[float, ...]  # record seconds
    fades_s: tuple[float, ...]


def _grid_range(seg: ProgramSegmentSpec) -> tuple[int, int]:
    """25 fps record grid indices k with record_start <= k/25 < record_end."""
    k0 = math.ceil(seg.record_start_s * GRID_FPS - 1e-6)
    k1 = math.ceil(seg.record_end_s * GRID_FPS - 1e-6)
    return k0, k1


class _Encoder:
    """The preset's tower plus the encoding of a black frame (what a gap shows)."""

    def __init__(self, preset: str, encoder_dir: str | None):
        self.tower = tower_for_preset(preset, encoder_dir)
        size = self.tower.pre.size
        pooled, tokens = self.tower.encode(
            normalise_batch(np.zeros((1, size, size, 3), np.uint8), self.tower.pre)
        )
        self.black_pooled, self.black_tokens = pooled[0], tokens[0]


def _decode_shot(seg: ProgramSegmentSpec, k0: int, k1: int, enc: _Encoder, cache: FeatureCache) -> _Shot:
    n = k1 - k0
    info = probe_media(seg.path)
    speed = seg.speed
    r0 = seg.record_start_s
    half_frame = 0.5 / info.fps
    # media times of the grid frames, in record order
    times = seg.source_start_s + (np.arange(k0, k1) / GRID_FPS - r0) * speed
    if speed < 0:
        times = times - half_frame  # the start of a reversed span is its exclusive end
    times = np.clip(times, 0.0, max(playable_s(info) - half_frame, 0.0))
    ascending = speed >= 0
    lo = float(times[0] if ascending else times[-1])
    held = speed == 0 or n == 1 or is_still(info)  # one picture on screen throughout
    if held:
        fps = float(GRID_FPS)
        count = 1
    else:
        fps = GRID_FPS / abs(speed)
        count = n
    end = lo + (count - 0.5) / fps
    end = min(max(end, lo + half_frame), playable_s(info))
    check_range(seg.path, info, lo, end)
    key = cache.key(cache.content_hash(seg.path), lo, end, (fps, count), enc.tower.encoder_id)
    data = cache.get(key)
    if data is None:
        detector = CutDetector(info.fps)
        grids = decode_grids(seg.path, lo, end, (fps,), enc.tower.pre, native_sink=detector.feed)
        rows = grids.grids[fps][:count]
        if len(rows) < count:  # the media ended inside the last grid step: hold its last frame
            rows = np.concatenate([rows, np.full(count - len(rows), rows[-1])])
        pooled, tokens = enc.tower.encode(normalise_batch(grids.crops, enc.tower.pre))
        tok = tokens[rows]
        d = patch_change_curve(tok)  # d[0] is the cut into this shot: its caller measures it
        cuts, fades = detector.result()
        data = {
            "pooled": pooled[rows].astype(np.float32),
            "d": d,
            "first": tok[0],
            "last": tok[-1],
            "cuts": np.asarray(cuts, np.float64),
            "fades": np.asarray(fades, np.float64),
        }
        cache.put(key, data)
    pooled, d, first, last = data["pooled"], data["d"], data["first"], data["last"]
    if held:
        pooled = np.repeat(pooled[:1], n, axis=0)
        d = np.zeros(n, np.float32)
    elif not ascending:  # decoded forward, shown backward: d'[j] = d[n - j]
        pooled = pooled[::-1]
        d = np.concatenate([[0.0], d[1:][::-1]]).astype(np.float32)
        first, last = last, first

    def to_record(ts: np.ndarray) -> tuple[float, ...]:
        if speed == 0:
            return ()
        media = lo + ts
        rec = r0 + (media - seg.source_start_s) / speed
        return tuple(float(t) for t in rec if seg.record_start_s < t < seg.record_end_s)

    return _Shot(pooled, d, first, last, to_record(data["cuts"]), to_record(data["fades"]))


def program_features(
    program: CueProgram,
    *,
    preset: str = "tiny",
    cache_dir: str | os.PathLike | None = None,
    encoder_dir: str | None = None,
) -> ProgramFeatures:
    """Features of `program` in record time; raises MediaError subclasses naming the file."""
    enc = _Encoder(preset, encoder_dir)
    cache = FeatureCache(cache_dir or default_cache_dir())
    m = max(1, math.ceil(program.duration_s * GRID_FPS - 1e-6))
    pooled = np.repeat(enc.black_pooled[None], m, axis=0).astype(np.float32)
    d = np.zeros(m, np.float32)
    d[0] = 1.0
    prev_last = None
    cuts: list[float] = []
    fades: list[float] = []
    for seg in program.segments:
        k0, k1 = _grid_range(seg)
        k1 = min(k1, m)
        if k1 <= k0:
            continue
        if seg.path is None:
            first = last = enc.black_tokens
            pooled[k0:k1] = enc.black_pooled
            d[k0 + 1 : k1] = 0.0
        else:
            shot = _decode_shot(seg, k0, k1, enc, cache)
            pooled[k0:k1] = shot.pooled
            d[k0 + 1 : k1] = shot.d[1:]
            first, last = shot.first, shot.last
            cuts += shot.cuts_s
            fades += shot.fades_s
        if k0 > 0 and prev_last is not None:
            d[k0] = patch_change_curve(first[None], previous=prev_last)[0]
        prev_last = last
    n_cls = max(1, math.ceil(program.duration_s - _EPS))
    rows = np.minimum(np.arange(n_cls) * GRID_FPS // SEMANTIC_FPS, m - 1)
    t = int(round(program.duration_s * TOKEN_RATE))
    edits = tuple(e.at_s for e in program.edit_points)
    hard = [e.at_s for e in program.edit_points if e.is_cut]
    blends = [e.at_s for e in program.edit_points if not e.is_cut]
    return ProgramFeatures(
        cls_1fps=pooled[rows].copy(),
        rhythm_50hz=rhythm_curve(d, program.duration_s),
        cues_50hz=cue_channel(t, [*cuts, *hard], [*fades, *blends], list(program.markers_s), TOKEN_RATE),
        cuts_s=tuple(sorted(cuts)),
        edit_points_s=edits,
        pooled_25=pooled,
        encoder_id=enc.tower.encoder_id,
    )


def conditioning(program: CueProgram, *, preset: str = "tiny", cache_dir=None) -> CueConditioning:
    """The `vm-editor rhythm` document for a cue: exactly what the generator is given."""
    f = program_features(program, preset=preset, cache_dir=cache_dir)
    return CueConditioning(
        fps=TOKEN_RATE,
        curve=tuple(round(float(v), 6) for v in f.rhythm_50hz),
        cues=tuple(round(float(v), 6) for v in f.cues_50hz),
        edit_points_s=f.edit_points_s,
        cls_frames=int(f.cls_1fps.shape[0]),
    )


def shot_embeddings(
    shots: tuple[ProgramSegmentSpec, ...], *, preset: str = "tiny", cache_dir=None
) -> list[list[float]]:
    """Mean CLS embedding of each shot over its own span (empty for black), for cue spotting."""
    out: list[list[float]] = []
    for shot in shots:
        if shot.path is None:
            out.append([])
            continue
        length = shot.record_end_s - shot.record_start_s
        alone = ProgramSegmentSpec(shot.path, shot.source_start_s, shot.source_end_s, 0.0, length, shot.speed)
        f = program_features(CueProgram(length, (alone,)), preset=preset, cache_dir=cache_dir)
        out.append([float(v) for v in f.cls_1fps.mean(axis=0)])
    return out
