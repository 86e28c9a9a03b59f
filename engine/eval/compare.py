"""Paired differences between models with bootstrap intervals: is a gap in the table real?

Every model is scored on the same held-out clips with the same seeds, so differences are paired
per clip. For each pair of models (A listed before B) and each metric, the mean of B − A over the
clips and a 95 % percentile-bootstrap interval (clips resampled with replacement, fixed seed).
A difference whose interval excludes 0 is one the clips support; 30 clips resolve about ±0.15 in
accuracy.
"""

from __future__ import annotations

import math

import numpy as np

METRICS = (
    ("semantic_correct", "semantic acc."),
    ("token_style_correct", "token style acc."),
    ("onset_f", "onset F"),
    ("cut_accent", "cut accent"),
    ("hit", "hit"),
)
BOOTSTRAP = 5000


def paired_difference(a: list[float], b: list[float], seed: int = 0) -> dict:
    """Mean of b − a with a 95 % bootstrap interval (NaN pairs left out)."""
    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return {"diff": math.nan, "low": math.nan, "high": math.nan, "clips": 0}
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, d.size, size=(BOOTSTRAP, d.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"diff": float(d.mean()), "low": float(low), "high": float(high), "clips": int(d.size)}


def _values(model: dict, key: str) -> dict[str, float]:
    rows = model.get("synthetic", {}).get("clips", [])
    return {r["clip"]: float(r[key]) for r in rows if key in r and r[key] is not None}


def pairwise(models: list[dict]) -> list[dict]:
    """B − A on the synthetic split (hits on) for every ordered pair of evaluated models (A before B)."""
    out = []
    for i, a in enumerate(models):
        for b in models[i + 1 :]:
            row = {"a": a["label"], "b": b["label"]}
            for key, _ in METRICS:
                va, vb = _values(a, key), _values(b, key)
                clips = sorted(set(va) & set(vb))
                row[key] = paired_difference([va[c] for c in clips], [vb[c] for c in clips])
            out.append(row)
    return out


def markdown(rows: list[dict]) -> str:
    head = ["B − A", *[f"Δ {name} [95 % CI]" for _, name in METRICS]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [f"{r['b']} − {r['a']}"]
        for key, _ in METRICS:
            d = r[key]
            cells.append(
                "–"
                if not math.isfinite(d["diff"])
                else f"{d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
            )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
