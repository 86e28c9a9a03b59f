"""`vm-train real-music`: the admitted music21 works as stage-0 training shards, once, resumably.

Why shards of their own: real music has no pictures, so its items carry tokens and a caption but
no CLS rows and no rhythm curve (zero-width arrays). Only stage 0 (the backbone, trained on
captions alone) may read them, mixed with the composer's shards (engine/train/mix.py); the index
says `"pictures": false`, and stages 1 and 2 refuse such a folder. The summary reports what the
pieces hold: works and minutes per repertory and the melodies' form (melody_form.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from engine.corpus.melody_form import mean_abs_step, motif_recurrence
from engine.corpus.real_music import RealPiece, pieces
from engine.corpus.repertories import Repertory, admitted, repertory
from engine.generator.grid_position import GridSegment, grid_features
from engine.symbolic.tokens import encode
from engine.train.shards import PreparedItem, ShardsError, ShardWriter, safe_id

FEATURES = {"preset": "tiny", "rhythm_channels": 0, "pictures": False, "source": "music21 corpus"}


def _grid(piece: RealPiece, frames: int) -> np.ndarray | None:
    """Where each frame of the piece sits in its bars and phrases (None: tokenized without it)."""
    g = piece.score.meta.get("grid")
    if not g:
        return None
    seg = GridSegment(0, frames, float(g["origin_frame"]), float(g["beat_frames"]), int(g["beats_per_bar"]))
    return grid_features([seg], 0, frames)


def _item(piece: RealPiece, item_id: str) -> PreparedItem:
    codes = encode(piece.score).astype(np.int32)
    seconds = piece.score.duration_s
    return PreparedItem(
        id=item_id,
        split=piece.split,
        text=piece.text,
        cls=np.zeros((max(1, math.ceil(seconds)), 0), np.float32),
        rhythm=np.zeros((codes.shape[1], 0), np.float32),
        codes=codes,
        duration_s=seconds,
        video="",
        music=piece.id,
        grid=_grid(piece, codes.shape[1]),
    )


def _admitted(name: str) -> Repertory:
    try:
        rep = repertory(name)
    except KeyError as exc:
        raise ShardsError(str(exc.args[0])) from None
    if not rep.admitted:
        raise ShardsError(
            f"repertory {name} is excluded: {rep.licence.name} ({rep.licence.stated_in}); "
            f"use one of {', '.join(r.name for r in admitted())}"
        )
    return rep


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 3) if values else None


def prepare_real_music(
    out: str | Path,
    *,
    seed: int = 0,
    limit: int | None = None,
    repertories: tuple[str, ...] | None = None,
    shard_size: int = 64,
    on_skip: Callable[[str], None] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Tokenize every admitted piece (of `repertories`, by name) not yet in `out`; returns the
    summary the CLI prints."""
    from engine.train.prepare import load_prepare_codec

    chosen = None if repertories is None else tuple(_admitted(name) for name in repertories)
    codec = load_prepare_codec("tiny")
    if not codec.symbolic:
        raise ValueError("the tiny preset's codec is not symbolic; real music is notes, not audio")
    writer = ShardWriter(out, codec.info(), FEATURES, shard_size)
    done = writer.done_ids()
    per: dict[str, dict] = {}
    skipped = []
    for piece in pieces(chosen, seed=seed, limit=limit):
        if isinstance(piece, tuple):
            piece_id, reason = piece
            (on_skip or (lambda _line: None))(f"skipped {piece_id}: {reason}")
            writer.record_skip(safe_id(piece_id), piece_id, reason)
            skipped.append({"id": piece_id, "reason": reason})
            continue
        item_id = safe_id(piece.id)
        if item_id not in done:
            writer.add(_item(piece, item_id))
            done.add(item_id)
        rep = per.setdefault(piece.repertory, {"works": 0, "minutes": 0.0, "step": [], "motif": []})
        rep["works"] += 1
        rep["minutes"] += piece.score.duration_s / 60.0
        pitches = [n.pitch for n in piece.score.melody]
        for key, value in (("step", mean_abs_step(pitches)), ("motif", motif_recurrence(pitches))):
            if value is not None:
                rep[key].append(value)
        if progress is not None:
            progress(piece.id)
    writer.close()
    repertories = {
        name: {
            "works": r["works"],
            "minutes": round(r["minutes"], 2),
            "mean_abs_step": _mean(r["step"]),
            "motif_recurrence": _mean(r["motif"]),
        }
        for name, r in per.items()
    }
    steps = [v for r in per.values() for v in r["step"]]
    motifs = [v for r in per.values() for v in r["motif"]]
    return {
        "out": str(Path(out)),
        "works": sum(r["works"] for r in per.values()),
        "minutes": round(sum(r["minutes"] for r in per.values()), 2),
        "mean_abs_step": _mean(steps),
        "motif_recurrence": _mean(motifs),
        "motif_recurrence_median": round(float(np.median(motifs)), 3) if motifs else None,
        "repertories": repertories,
        "items_total": len(writer.index["items"]),
        "skipped": skipped,
    }
