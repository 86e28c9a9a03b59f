"""Form, seams and hits of a scored timeline: `python -m engine.eval.form_check SCORED.otio ...`.

Why: the owner judges a score on footage and cuts the decoder was never tuned on. This reads what
`vm-editor score` wrote — the score track's cue WAVs and the tokens beside them — and measures each
cue's form (`form_measures`), each seam between cues that continue each other (same key and
tempo, no level dip: no 100 ms window at the seam more than 6 dB under the music's median
around it), and the cuts of
the picture (the share with a music onset within ±50 ms).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np

from engine.api import recorded_seconds, recorded_tempo
from engine.eval import metrics
from engine.eval.form_measures import collections, cue_grid, form_measures
from engine.eval.score_check import mix_cues
from engine.symbolic.tokens import ONSET_BASE
from engine.timebase import TOKEN_RATE

HIT_WINDOW_S = 0.05
SEAM_WINDOW_S = 0.1
SEAM_CONTEXT_S = 2.0  # the music around a seam its level is compared with
SEAM_DIP_DB = 6.0


def _path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)


def read_score(scored: Path) -> tuple[list[dict], list[float]]:
    """(cues, cuts): each cue's WAV, tokens, record start and length and whether it ends into
    silence; the record seconds of the picture's cuts (clip to clip, no gap between)."""
    import opentimelineio as otio

    timeline = otio.adapters.read_from_file(str(scored))
    cues, cuts = [], []
    for track in timeline.tracks:
        meta = track.metadata.get("vidmusician", {})
        if track.kind == otio.schema.TrackKind.Audio and meta.get("score"):
            for clip in track.find_clips():
                wav = _path(clip.media_reference.target_url)
                if not clip.enabled:
                    continue
                rng = clip.range_in_parent()
                meta = clip.metadata.get("vidmusician", {})
                cues.append(
                    {
                        "wav": wav,
                        "tokens": wav.with_name(wav.stem + ".tokens.npy"),
                        "start_s": rng.start_time.to_seconds(),
                        "duration_s": rng.duration.to_seconds(),
                        # a cue that opens a new world starts fresh: its seam is no continuation
                        "starts_world": bool(meta.get("starts_world", False)),
                        "grid": _recorded_grid(meta.get("tempo")),
                        "hits_s": recorded_seconds(meta.get("hit_points_s")),
                    }
                )
        elif track.kind == otio.schema.TrackKind.Video and track.enabled and not cuts:
            items = list(track)
            for a, b in zip(items, items[1:], strict=False):
                if isinstance(a, otio.schema.Clip) and isinstance(b, otio.schema.Clip):
                    cuts.append(b.range_in_parent().start_time.to_seconds())
    cues.sort(key=lambda c: c["start_s"])
    for cue, after in zip(cues, [*cues[1:], None], strict=True):  # nothing starts where it ends
        cue["ends"] = after is None or abs(cue["start_s"] + cue["duration_s"] - after["start_s"]) > 0.02
    return cues, cuts


def _recorded_grid(data):
    """The tempo grid the cue was decoded on, as its clip records it (None: not recorded, then
    the measures fit one to the notes)."""
    from engine.generator.tempo_grid import from_cue_tempo

    tempo = recorded_tempo(data)
    return None if tempo is None else from_cue_tempo(tempo, float(TOKEN_RATE))


def _level_dips(mix: np.ndarray, rate: int, seams: list[float]) -> list[float]:
    """dB of the quietest 100 ms window at each seam (the windows within 100 ms of it) under the
    median 100 ms window of the music around it (2 s either side): a seam that drops out reads far
    under the music's own between-beat level."""
    hop = int(SEAM_WINDOW_S * rate) // 2  # 100 ms windows every 50 ms
    win = 2 * hop
    n = max(0, (len(mix) - win) // hop + 1)
    rms = np.array([np.sqrt(np.mean(mix[i * hop : i * hop + win] ** 2) + 1e-12) for i in range(n)])
    centre = (np.arange(n) * hop + hop) / rate
    out = []
    for t in seams:
        near = np.abs(centre - t) <= SEAM_WINDOW_S
        around = (np.abs(centre - t) <= SEAM_CONTEXT_S) & (rms > 1e-6)
        if not near.any() or not around.any():
            out.append(math.nan)
            continue
        out.append(float(20 * np.log10(rms[near].min() / np.median(rms[around]))))
    return out


def _same_signature(a: dict, b: dict) -> bool:
    """Whether two cues hold one key signature: seven notes that hold the most of each (F# minor
    and D lydian are one signature; Krumhansl would read the lydian cue as D major; a short cue
    that never plays the note telling two signatures apart is in either)."""
    if not (a["tokens"].is_file() and b["tokens"].is_file()):
        return False
    ta = np.load(a["tokens"])[:, : int(round(a["duration_s"] * TOKEN_RATE))]
    return bool(collections(ta) & collections(np.load(b["tokens"])))


def _continues_grid(a: dict, b: dict) -> bool:
    """Whether cue `b`'s pitched notes start on the tempo grid of cue `a` (fitted to `a`'s pitched
    onsets, laid on through `b`): the music keeps its tempo across the seam."""
    if not (a["tokens"].is_file() and b["tokens"].is_file()):
        return False
    ta = np.load(a["tokens"])[:, : int(round(a["duration_s"] * TOKEN_RATE))]
    tb = np.load(b["tokens"])[:, : int(round(b["duration_s"] * TOKEN_RATE))]
    grid = a.get("grid") or cue_grid(ta)
    pitched = lambda t: np.flatnonzero((t[1:4] >= ONSET_BASE).any(axis=0))  # noqa: E731
    if grid is None or pitched(tb).size == 0:
        return False
    frames = pitched(tb) + ta.shape[1]
    on = grid.frames(int(frames.min()), int(frames.max()) + 1, "step")
    return float(np.isin(frames, on).mean()) >= 0.8


def check(scored: Path) -> dict:
    """Every cue's form measures, every seam's continuity and the score's hits at the cuts."""
    cues, cuts = read_score(Path(scored))
    rows = []
    for cue in cues:
        tokens = np.load(cue["tokens"]) if cue["tokens"].is_file() else None
        frames = int(round(cue["duration_s"] * TOKEN_RATE))
        row = {
            "wav": cue["wav"].name,
            "start_s": cue["start_s"],
            "duration_s": cue["duration_s"],
            "ends": cue["ends"],
        }
        if tokens is not None:
            end = cue["start_s"] + cue["duration_s"]
            # the accents the engine forced (recorded), else the timeline's cuts inside the cue
            at = cue["hits_s"] if cue["hits_s"] is not None else [t - cue["start_s"] for t in cuts]
            hits = {int(round(t * TOKEN_RATE)) for t in at if 0 < t < end - cue["start_s"]}
            row.update(form_measures(tokens[:, :frames], grid=cue["grid"], hits=hits))
        rows.append(row)
    mix, rate = mix_cues([(str(c["wav"]), c["start_s"]) for c in cues])
    seams = []
    for a, b in zip(cues, cues[1:], strict=False):
        if abs(a["start_s"] + a["duration_s"] - b["start_s"]) < 0.05 and not b["starts_world"]:
            seams.append(
                {
                    "at_s": b["start_s"],
                    "same_key": _same_signature(a, b),
                    "same_tempo": _continues_grid(a, b),
                }
            )
    for seam, dip in zip(seams, _level_dips(mix, rate, [s["at_s"] for s in seams]), strict=True):
        seam["dip_db"] = dip
    onsets = metrics.music_onsets(mix, rate)
    return {
        "timeline": str(scored),
        "cues": rows,
        "seams": seams,
        "cuts": len(cuts),
        "cut_hit": metrics.accent_rate(cuts, onsets, HIT_WINDOW_S),
    }


def figures(scored: Path, folder: Path) -> list[Path]:
    """Each cue of a scored timeline as a composer reads it: its piano roll and its spectrogram,
    the picture's cuts marked (FOLDER/<timeline>-cue<N>-roll.png, -spectrogram.png)."""
    import soundfile as sf

    from engine.eval.report import pianoroll_png, spectrogram_png

    cues, cuts = read_score(Path(scored))
    out = []
    for n, cue in enumerate(cues):
        end = cue["start_s"] + cue["duration_s"]
        marks = [t - cue["start_s"] for t in cuts if cue["start_s"] < t < end]
        stem = folder / f"{Path(scored).name.split('.')[0]}-cue{n}"
        if cue["tokens"].is_file():
            frames = int(round(cue["duration_s"] * TOKEN_RATE))
            tokens = np.load(cue["tokens"])[:, :frames]
            out.append(pianoroll_png(tokens, marks, stem.with_name(stem.name + "-roll.png"), stem.name))
        audio, rate = sf.read(str(cue["wav"]), dtype="float32", always_2d=True)
        out.append(spectrogram_png(audio.T, rate, marks, stem.with_name(stem.name + "-spectrogram.png"), stem.name))
    return out


def summary(reports: list[dict]) -> dict:
    """The issue's floors over many scored timelines."""
    cues = [c for r in reports for c in r["cues"] if "melodic_step" in c]
    ending = [c for c in cues if c["ends"]]
    seams = [s for r in reports for s in r["seams"]]
    cut_hits = [(r["cut_hit"], r["cuts"]) for r in reports if r["cuts"]]

    def med(key):
        v = [c[key] for c in cues if isinstance(c.get(key), float) and math.isfinite(c[key])]
        return float(np.median(v)) if v else math.nan

    def mean(key):
        v = [c[key] for c in cues if isinstance(c.get(key), float) and math.isfinite(c[key])]
        return float(np.mean(v)) if v else math.nan

    return {
        "cues": len(cues),
        "motif_recurrence_median": med("motif_recurrence"),
        "melodic_step_mean": mean("melodic_step"),
        "groove_recurrence_mean": mean("groove_recurrence"),
        "groove_recurrence_all_mean": mean("groove_recurrence_all"),
        "key_stability_mean": mean("key_stability"),
        "cadence_share": float(np.mean([c["cadence_end"] for c in ending])) if ending else math.nan,
        "seams": len(seams),
        "seams_same_key": float(np.mean([s["same_key"] for s in seams])) if seams else math.nan,
        "seams_same_tempo": float(np.mean([s["same_tempo"] for s in seams])) if seams else math.nan,
        "seams_worst_dip_db": float(np.nanmin([s["dip_db"] for s in seams])) if seams else math.nan,
        "cut_hit": sum(h * n for h, n in cut_hits) / max(1, sum(n for _, n in cut_hits)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m engine.eval.form_check", description=__doc__.splitlines()[0])
    p.add_argument("scored", nargs="+", help="scored timelines (.otio) written by vm-editor score")
    p.add_argument("--json", action="store_true", help="print every cue, not only the summary")
    p.add_argument("--figures", default=None, help="folder for each cue's piano roll and spectrogram (PNG)")
    args = p.parse_args(argv)
    reports = [check(Path(s)) for s in args.scored]
    if args.figures:
        for s in args.scored:
            figures(Path(s), Path(args.figures))
    out = {"summary": summary(reports), **({"reports": reports} if args.json else {})}
    print(json.dumps(out, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
