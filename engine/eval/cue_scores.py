"""Every per-clip number for one cue, and the means over clips (definitions: `metrics`).

Why apart from the orchestration: the reference row (the clip's own score rendered), every model
and every way of asking it (hits on, hits off, prompted) are scored by this one function, so their
numbers mean the same thing.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from engine.eval import metrics
from engine.eval.clips import Clip
from engine.eval.form_measures import form_measures
from engine.eval.music_measures import failures, music_measures
from engine.timebase import CUE_SAMPLE_RATE, TOKEN_RATE

STEREO_RATE = CUE_SAMPLE_RATE
# the form measures of a symbolic cue's tokens (`form_measures`): theme, steps, groove, key, ending
FORM_KEYS = ("motif_recurrence", "melodic_step", "groove_recurrence", "key_stability", "cadence_end")


def token_style(tokens: np.ndarray | None) -> str | None:
    """The style the generated style stream names most often (None: no style stream)."""
    from engine.symbolic.score import STREAMS, STYLES

    if tokens is None or np.ndim(tokens) != 2 or tokens.shape[0] != len(STREAMS):
        return None
    row = np.asarray(tokens[STREAMS.index("style")], dtype=np.int64)
    row = row[(row >= 0) & (row < len(STYLES))]
    return STYLES[Counter(row.tolist()).most_common(1)[0][0]] if row.size else None


def score_cue(
    clip: Clip,
    audio: np.ndarray,
    sample_rate: int,
    visual_bpm: float,
    judge=None,
    tokens: np.ndarray | None = None,
    target_style: str | None = None,
    grid=None,
) -> dict:
    """All numbers of `audio` ([N], [N, C] or [C, N]) against `clip`; `target_style` is the style
    the cue should play (the clip's, or a prompt's)."""
    y = np.asarray(audio, dtype=np.float32)
    channels_first = y if y.ndim == 1 or y.shape[0] <= 2 else y.T
    mono = metrics.mono(channels_first)
    onsets = metrics.music_onsets(mono, sample_rate)
    beats = metrics.beat_hit_coverage(clip.events_s, onsets, clip.duration_s)
    f = metrics.onset_f_measure(clip.events_s, onsets)
    music_bpm = metrics.music_tempo(mono, sample_rate)
    stability = metrics.tempo_stability(mono, sample_rate)
    key = metrics.key_clarity(mono, sample_rate)
    measures = music_measures(channels_first, sample_rate)
    why = failures(measures)
    comb = metrics.frame_rate_comb(mono, sample_rate)
    stereo = measures["channels"] == 2 and sample_rate == STEREO_RATE
    if not stereo:
        why.append(f"{measures['channels']} ch at {sample_rate} Hz")
    if math.isfinite(comb) and comb >= metrics.COMB_LIMIT_DB:
        why.append(f"comb {comb:.1f} dB")
    if not stability["stable"]:
        drift = stability["max_deviation"]
        why.append(f"tempo drifts {drift:.0%}" if math.isfinite(drift) else "no steady pulse")
    row = {
        "clip": clip.name,
        "kind": clip.kind,
        "world_change": clip.world_change,
        "events": len(clip.events_s),
        "edit_points": len(clip.edit_points_s),
        "onsets": int(len(onsets)),
        "hit": beats["hit"],
        "coverage": beats["coverage"],
        "onset_f": f["f"],
        "onset_precision": f["precision"],
        "onset_recall": f["recall"],
        "cut_accent": metrics.accent_rate(clip.edit_points_s, onsets),
        "cut_chance": metrics.chance_accent_rate(onsets, clip.duration_s),
        "music_bpm": music_bpm,
        "visual_bpm": visual_bpm,
        **{f"tempo_{k}": v for k, v in metrics.tempo_agreement(music_bpm, visual_bpm).items()},
        "tempo_stable": stability["stable"],
        "tempo_max_deviation": stability["max_deviation"],
        "key_clarity": key["clarity"],
        "key": key["key"],
        "flatness": measures["flatness"],
        "bandwidth_hz": measures["bandwidth"],
        "chroma_move": measures["chroma_move"],
        "rhythm": measures["rhythm"],
        "comb_db": comb,
        "stereo_48k": bool(stereo),
        "music_ok": not why,
        "failures": why,
    }
    if tokens is not None and np.ndim(tokens) == 2:
        cuts = {int(round(t * TOKEN_RATE)) for t in clip.edit_points_s}
        form = form_measures(tokens, grid=grid, hits=cuts)
        row.update({k: form[k] for k in FORM_KEYS})
    if target_style is not None:
        row["style"] = target_style
        if judge is not None:
            row["predicted_style"] = judge.predict(mono, sample_rate)
            row["semantic_correct"] = row["predicted_style"] == target_style
        named = token_style(tokens)
        if named is not None:
            row["token_style"] = named
            row["token_style_correct"] = named == target_style
    return row


MEANS = (
    "hit",
    "coverage",
    "onset_f",
    "onset_precision",
    "onset_recall",
    "cut_accent",
    "cut_chance",
    "key_clarity",
    "flatness",
    "bandwidth_hz",
    "chroma_move",
    "rhythm",
    "comb_db",
    "tempo_max_deviation",
    "motif_recurrence",
    "melodic_step",
    "groove_recurrence",
    "key_stability",
)
FRACTIONS = (
    "tempo_exact",
    "tempo_octave",
    "tempo_stable",
    "stereo_48k",
    "music_ok",
    "semantic_correct",
    "token_style_correct",
    "cadence_end",
)


def summarise(rows: list[dict]) -> dict:
    """Means over clips (NaN scores, e.g. accents of a clip without cuts, are left out of that
    mean), fractions of the yes/no checks, the worst cue's measures, and accent / chance."""
    out: dict = {"clips": len(rows)}
    for key in MEANS:
        vals = [float(r[key]) for r in rows if key in r and r[key] is not None and math.isfinite(r[key])]
        out[key] = float(np.mean(vals)) if vals else float("nan")
    for key in FRACTIONS:
        vals = [bool(r[key]) for r in rows if key in r]
        if vals:
            out[key] = float(np.mean(vals))
    diffs = [abs(r["tempo_diff_bpm"]) for r in rows if math.isfinite(r["tempo_diff_bpm"])]
    out["tempo_abs_diff_bpm"] = float(np.mean(diffs)) if diffs else float("nan")
    chance = out["cut_chance"]
    out["accent_over_chance"] = (
        out["cut_accent"] / chance if chance and math.isfinite(chance) else float("nan")
    )
    if rows:
        out["worst_flatness"] = float(max(r["flatness"] for r in rows))
        out["worst_bandwidth_hz"] = float(min(r["bandwidth_hz"] for r in rows))
        out["worst_comb_db"] = (
            float(np.nanmax([r["comb_db"] for r in rows]))
            if any(math.isfinite(r["comb_db"]) for r in rows)
            else float("nan")
        )
    return out
