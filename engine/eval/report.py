"""`vm-eval`'s outputs: the ablation table (markdown), JSON-safe numbers and PNG plots drawn with PIL.

Why PIL: it is already installed; the two plots (a spectrogram with the visual events marked, and
per-model bars) need lines, rectangles and text only, not a plotting library.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.eval import metrics

COLUMNS = (
    ("synthetic", "hit", "hit (1 s)"),
    ("synthetic", "coverage", "coverage (1 s)"),
    ("synthetic", "onset_f", "onset F (±70 ms)"),
    ("synthetic", "tempo_octave", "tempo ok (4 %, octave)"),
    ("synthetic", "tempo_abs_diff_bpm", "mean abs Δtempo (BPM)"),
    ("synthetic", "semantic_accuracy", "semantic acc."),
    ("synthetic", "rhythmicity", "rhythmicity"),
    ("real", "hit", "real hit"),
    ("real", "onset_f", "real onset F"),
    ("real", "rhythmicity", "real rhythmicity"),
)
BAR_METRICS = (
    ("hit", "hit"),
    ("onset_f", "onset F"),
    ("tempo_octave", "tempo"),
    ("semantic_accuracy", "semantic"),
)
PALETTE = (
    (90, 90, 90),
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
)


@cache
def _font() -> ImageFont.FreeTypeFont:
    """Pillow's bundled font at 12 px: at its 10 px default, spaces between words vanish."""
    return ImageFont.load_default(size=12)


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return f"{x:.3f}" if isinstance(x, float) else str(x)


def markdown_table(report: dict) -> str:
    """One row per model (the reference first), the metrics of the issue's ablation table."""
    head = [
        "model",
        *[c[2] for c in COLUMNS],
        "codec mel (held-out)",
        "codec SI-SNR dB (held-out / real)",
        "judge on codec recon. (semantic ceiling)",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in report["models"]:
        cells = [m["label"]]
        for group, key, _ in COLUMNS:
            cells.append(_fmt(m.get(group, {}).get("summary", {}).get(key)))
        codec = m.get("codec")
        if codec:
            cells.append(_fmt(codec["heldout"]["mel_distance"]))
            cells.append(f"{_fmt(codec['heldout']['si_snr_db'])} / {_fmt(codec['real']['si_snr_db'])}")
            cells.append(_fmt(codec["heldout"].get("judge_accuracy")))
        else:
            cells += ["–", "–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    if report.get("comparisons"):
        from engine.eval.compare import markdown as comparisons_table

        lines.append("")
        lines.append("Paired differences on the held-out synthetic clips (B − A, 95 % bootstrap interval):")
        lines.append("")
        lines.append(comparisons_table(report["comparisons"]).rstrip("\n"))
    per_world = semantic_by_world(report)
    if per_world:
        lines.append("")
        lines.append(
            "Semantic accuracy per world (held-out synthetic clips; the world judged most often when wrong):"
        )
        lines.append("")
        lines.append(per_world.rstrip("\n"))
    clf = report["style_classifier"]
    lines.append("")
    lines.append(
        f"Style judge: held-out accuracy {clf['heldout_accuracy']:.3f} on {clf['heldout_items']} real corpus "
        f"clips, {clf.get('degraded_heldout_accuracy', float('nan')):.3f} on the same clips through random "
        f"channels ({clf['trained_on']})"
        + (
            "."
            if clf["trusted"]
            else f": BELOW the {clf['floor']} floor, semantic accuracy is not trustworthy."
        )
    )
    return "\n".join(lines) + "\n"


def semantic_by_world(report: dict) -> str:
    """A model x world table of semantic accuracy: shows which worlds a model gets and which it confuses."""
    from collections import Counter

    models = [
        m for m in report["models"] if any("world" in c for c in m.get("synthetic", {}).get("clips", []))
    ]
    worlds = sorted({c["world"] for m in models for c in m["synthetic"]["clips"] if "world" in c})
    if not worlds:
        return ""
    lines = ["| model | " + " | ".join(worlds) + " |", "|" + "---|" * (len(worlds) + 1)]
    for m in models:
        cells = [m["label"]]
        for world in worlds:
            judged = [c["predicted_world"] for c in m["synthetic"]["clips"] if c.get("world") == world]
            right = sum(p == world for p in judged)
            wrong = Counter(p for p in judged if p != world).most_common(1)
            cells.append(f"{right}/{len(judged)}" + (f" ({wrong[0][0]})" if wrong else ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def json_safe(obj):
    """NaN/inf -> None, numpy scalars -> Python, private keys (leading '_') dropped."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def spectrogram_png(audio: np.ndarray, sample_rate: int, events_s, path: Path, title: str) -> Path:
    """Log-mel spectrogram (time left to right, low bands at the bottom), visual events as red
    full-height lines, detected music onsets as cyan ticks along the top."""
    mel = metrics.log_mel(audio, sample_rate)
    lo, hi = np.percentile(mel, 2), np.percentile(mel, 99.5)
    img = np.clip((mel - lo) / max(hi - lo, 1e-6), 0, 1)[::-1]
    width = max(400, min(1600, img.shape[1] * 3))
    h_spec, top = 256, 28
    rgb = np.stack([img * 255, img * 200, 80 + img * 100], axis=-1).astype(np.uint8)
    spec = Image.fromarray(rgb).resize((width, h_spec), Image.NEAREST)
    canvas = Image.new("RGB", (width, h_spec + top + 14), (255, 255, 255))
    canvas.paste(spec, (0, top))
    draw = ImageDraw.Draw(canvas)
    duration = len(audio) / sample_rate
    x_of = lambda t: int(round(t / max(duration, 1e-6) * (width - 1)))  # noqa: E731
    for t in events_s:
        draw.line([(x_of(t), top), (x_of(t), top + h_spec)], fill=(230, 30, 30), width=2)
    for t in metrics.music_onsets(audio, sample_rate):
        draw.line([(x_of(t), top - 8), (x_of(t), top - 1)], fill=(0, 170, 200), width=2)
    for s in range(int(duration) + 1):
        draw.line([(x_of(s), top + h_spec), (x_of(s), top + h_spec + 5)], fill=(0, 0, 0))
    draw.text(
        (4, 2), f"{title}  (red: visual events, cyan: music onsets, ticks: 1 s)", fill=(0, 0, 0), font=_font()
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def bars_png(report: dict, path: Path) -> Path:
    """Grouped bars: one group per metric (synthetic split), one bar per model, values in [0, 1]."""
    models = report["models"]
    group_w, bar_w, h, base, left = 40 + 22 * len(models), 18, 300, 250, 40
    width = left + group_w * len(BAR_METRICS) + 20
    legend_h = 16 * len(models) + 8
    canvas = Image.new("RGB", (max(width, 420), h + legend_h), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for v in (0.0, 0.25, 0.5, 0.75, 1.0):
        y = base - int(v * 200)
        draw.line([(left - 4, y), (width - 10, y)], fill=(225, 225, 225))
        draw.text((4, y - 6), f"{v:.2f}", fill=(0, 0, 0), font=_font())
    for g, (key, name) in enumerate(BAR_METRICS):
        x0 = left + g * group_w + 10
        for i, m in enumerate(models):
            v = m.get("synthetic", {}).get("summary", {}).get(key)
            if v is None or not math.isfinite(v):
                continue
            x = x0 + i * (bar_w + 4)
            draw.rectangle([x, base - int(min(max(v, 0), 1) * 200), x + bar_w, base], fill=PALETTE[i % 8])
        draw.text((x0, base + 6), name, fill=(0, 0, 0), font=_font())
    for i, m in enumerate(models):
        y = h + 4 + 16 * i
        draw.rectangle([left, y, left + 10, y + 10], fill=PALETTE[i % 8])
        draw.text((left + 16, y - 1), m["label"], fill=(0, 0, 0), font=_font())
    draw.text((left, 8), "held-out synthetic split: per-model means", fill=(0, 0, 0), font=_font())
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path


def write_plots(report: dict, docs: Path) -> list[str]:
    """docs/eval_bars.png plus one spectrogram per model for the first synthetic and each real clip."""
    written = [str(bars_png(report, docs / "eval_bars.png"))]
    clips = report.get("_clips", [])
    first_synth = [c for c in clips if c.kind == "synthetic"][:1]
    real = [c for c in clips if c.kind == "real"]
    for clip in first_synth:  # the corpus's own music: what a perfect score looks like
        if clip.music is not None:
            from engine.eval.evaluate import read_audio

            ref = read_audio(clip.music, 16000)
            out = docs / f"eval_spec_reference_{clip.name}.png"
            written.append(str(spectrogram_png(ref, 16000, clip.events_s, out, f"reference: {clip.name}")))
    for label, audio in report.get("_audio", {}).items():
        sr = next(m["sample_rate"] for m in report["models"] if m["label"] == label)
        slug = "".join(ch if ch.isalnum() else "_" for ch in label)[:40]
        for clip in first_synth + real:
            if clip.name in audio:
                out = docs / f"eval_spec_{slug}_{clip.name}.png"
                written.append(
                    str(spectrogram_png(audio[clip.name], sr, clip.events_s, out, f"{label}: {clip.name}"))
                )
    return written
