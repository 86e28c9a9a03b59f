"""What real music adds to the backbone (issue 25's ablation): stage 0 on the composer's corpus
alone against stage 0 with a share of real music (`vm-train tiny --real-music SHARE`), the same
steps, seed and shards, then each LM left to write its own form.

Usage: python -m benchmarks.real_music_ablation RUN OUT [--steps N] [--share S] [--cues N]
  RUN: a `vm-train tiny --real-music S` run folder (its shards, shards-real and model folder)
  OUT: where the two stage-0 runs and rows.json go (a resumed call reuses finished runs)

Each stage-0 model is loaded as a generator with the run's style meters and no style forms: the
form decoder is off, the tempo grid (and the grid-position inputs) on, no pictures. It plays
each style's caption for 10 s at two seeds; the form measures (`engine/eval/form_measures.py`)
of the tokens say how much key, theme and steps the LM learned itself. Validation loss is on the
composer's validation clips (the same for both). About 2 x (steps x 0.6 s) + 2 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
from pathlib import Path

import numpy as np

from engine.corpus.styles import caption, style
from engine.symbolic.score import STYLES

DURATION_S = 10.0
SEEDS = (1, 2)
MEASURES = ("motif_recurrence", "melodic_step", "groove_recurrence", "key_stability")


def _stage0(run: Path, out: Path, steps: int, share: float) -> Path:
    from engine.generator.config import load_generator_config
    from engine.train.loop import CHECKPOINT, TrainConfig, train_stage
    from engine.train.mix import MixedShards
    from engine.train.shards import ShardDataset
    from engine.train.stages import build_stage_model

    if (out / "model" / "adapters.safetensors").is_file():
        return out / "model"
    train = ShardDataset(run / "shards", "train")
    if share > 0:
        train = MixedShards(train, ShardDataset(run / "shards-real", "train"), share)
    cfg = TrainConfig(
        steps=steps, lr=1e-3, batch=8, segment_s=6.0, warmup_steps=min(20, max(1, steps // 10)),
        checkpoint_every=max(25, steps // 20), eval_every=max(10, steps // 5),
    ).validate()  # fmt: skip  (the recipe's stage-0 settings, engine/train/recipe.py)
    sm = build_stage_model("stage0-lm", load_generator_config("tiny"), "tiny")
    result = train_stage(
        "stage0-lm", sm, train, cfg, out, val_data=ShardDataset(run / "shards", "val"),
        resume=(out / CHECKPOINT).exists(),
    )  # fmt: skip
    (out / "result.json").write_text(json.dumps(result["last"]))
    return out / "model"


def _generator(folder: Path, notes_from: Path):
    from engine.eval.models import load_generator, parse_spec

    for name in ("style_meters.json", "prompt_words.json", "generator.json"):
        if (notes_from / name).is_file() and not (folder / name).is_file():
            shutil.copyfile(notes_from / name, folder / name)
    return load_generator(parse_spec(f"stage0={folder}"))


def _measure(gen) -> list[dict]:
    from engine.eval.form_measures import form_measures

    rows = []
    for name in STYLES:
        lo, hi = style(name).tempo_bpm
        for seed in SEEDS:
            cue = gen.generate_cue(
                cls_1fps=None, rhythm_50hz=None, duration_s=DURATION_S, seed=seed,
                prompt=caption(name, (lo + hi) / 2),
            )  # fmt: skip
            m = form_measures(cue.tokens, grid=cue.grid)
            rows.append({"style": name, "seed": seed, **{k: m.get(k) for k in MEASURES}})
    return rows


def _mean(rows: list[dict], key: str) -> float:
    vals = [r[key] for r in rows if r[key] is not None and math.isfinite(r[key])]
    return float(np.mean(vals)) if vals else math.nan


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.real_music_ablation", description=__doc__)
    ap.add_argument("run", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--share", type=float, default=0.15)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(2)
    notes = args.run / "model-two-stage"
    table = {}
    for label, share in (("composer only", 0.0), (f"+ real music ({args.share:g})", args.share)):
        folder = _stage0(args.run, args.out / ("composer" if share == 0 else "mixed"), args.steps, share)
        result = json.loads((folder.parent / "result.json").read_text())
        rows = _measure(_generator(folder, notes))
        table[label] = {"val_loss": result.get("val_loss"), **{k: _mean(rows, k) for k in MEASURES}, "rows": rows}
        print(label, {k: round(v, 3) for k, v in table[label].items() if isinstance(v, float)}, flush=True)
    (args.out / "rows.json").write_text(json.dumps(table, indent=1))
    print(f"| stage 0 ({args.steps} steps) | val loss | " + " | ".join(MEASURES) + " |")
    print("|---" * (len(MEASURES) + 2) + "|")
    for label, t in table.items():
        cells = " | ".join(f"{t[k]:.3f}" for k in ("val_loss", *MEASURES))
        print(f"| {label} | {cells} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
