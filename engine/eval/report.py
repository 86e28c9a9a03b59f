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
from engine.timebase import CUE_SAMPLE_RATE, TOKEN_RATE

# (summary key, header, how to print it); one table row per model and take.
COLUMNS = (
    ("semantic_accuracy", "semantic acc.", "f"),
    ("token_style_correct", "token style acc.", "f"),
    ("onset_f", "onset F (±70 ms)", "f"),
    ("hit", "hit (1 s)", "f"),
    ("coverage", "coverage (1 s)", "f"),
    ("cut_accent", "cut accent (±50 ms)", "f"),
    ("cut_chance", "chance", "f"),
    ("accent_over_chance", "accent / chance", "x"),
    ("tempo_stable", "tempo stable (4 %)", "f"),
    ("key_clarity", "key clarity", "f"),
    ("flatness", "flatness", "f"),
    ("worst_bandwidth_hz", "min bandwidth kHz", "k"),
    ("chroma_move", "chroma move", "f"),
    ("rhythm", "rhythmicity", "f"),
    ("worst_comb_db", "max comb dB", "d"),
    ("stereo_48k", "stereo 48k", "f"),
    ("music_ok", "cues passing", "f"),
)
GROUPS = (
    ("synthetic", "held-out, hits on"),
    ("synthetic_alone", "held-out, hits off"),
    ("synthetic_free", "held-out, hits off, no tempo grid (the LM's own timing)"),
    ("real", "real footage, hits on"),
    ("real_alone", "real footage, hits off"),
    ("real_free", "real footage, hits off, no tempo grid"),
)
BAR_METRICS = (
    ("semantic_accuracy", "semantic"),
    ("onset_f", "onset F"),
    ("cut_accent", "cut accent"),
    ("tempo_stable", "tempo stable"),
    ("music_ok", "passing"),
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


def _fmt(x, how: str = "f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    if how == "k":
        return f"{x / 1000:.1f}"
    if how == "d":
        return f"{x:.1f}"
    if how == "x":
        return f"{x:.2f}×"
    return f"{x:.3f}"


def _summary(model: dict, group: str) -> dict:
    summary = dict(model.get(group, {}).get("summary", {}))
    if "semantic_correct" in summary:
        summary["semantic_accuracy"] = summary["semantic_correct"]
    return summary


def markdown_table(report: dict) -> str:
    """The ablation table (one row per model and take), prompt steering, paired differences, the
    per-style semantic table and the judge's own accuracy."""
    head = ["model", "clips", *[c[1] for c in COLUMNS]]
    lines = []
    for group, title in GROUPS:
        rows = [m for m in report["models"] if group in m]
        if not rows:
            continue
        lines += ["", f"**{title}** (means over clips; definitions in `engine/eval/metrics.py`)", ""]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for m in rows:
            summary = _summary(m, group)
            cells = [m["label"], str(summary.get("clips", 0))]
            cells += [_fmt(summary.get(key), how) for key, _, how in COLUMNS]
            lines.append("| " + " | ".join(cells) + " |")
    prompted = [m for m in report["models"] if m.get("style_text") or "synthetic_prompted" in m]
    if prompted:
        lines += ["", "**Prompt steering** (held-out clips, hits on; judged against the PROMPTED style)", ""]
        lines += [
            "| model | prompt | clips | judge acc. of prompted style | token style acc. | cues passing |"
        ]
        lines.append("|---|---|---|---|---|---|")
        for m in prompted:
            group = "synthetic" if m.get("style_text") else "synthetic_prompted"
            how = (
                "caption of STYLES[i mod 8], video ignored"
                if m.get("style_text")
                else "video + another style's caption"
            )
            summary = _summary(m, group)
            lines.append(
                f"| {m['label']} | {how} | {summary.get('clips', 0)} | {_fmt(summary.get('semantic_accuracy'))} "
                f"| {_fmt(summary.get('token_style_correct'))} | {_fmt(summary.get('music_ok'))} |"
            )
    codecs = [m for m in report["models"] if m.get("codec")]
    if codecs:
        lines += ["", "**Neural codec** (reconstruction of the held-out renders / the real CC music)", ""]
        lines += ["| model | mel distance | SI-SNR dB (held-out / real) |", "|---|---|---|"]
        for m in codecs:
            c = m["codec"]
            lines.append(
                f"| {m['label']} | {_fmt(c['heldout']['mel_distance'])} "
                f"| {_fmt(c['heldout']['si_snr_db'])} / {_fmt(c['real']['si_snr_db'])} |"
            )
    if report.get("comparisons"):
        from engine.eval.compare import markdown as comparisons_table

        lines += [
            "",
            "Paired differences on the held-out clips, hits on (B − A, 95 % bootstrap interval):",
            "",
        ]
        lines.append(comparisons_table(report["comparisons"]).rstrip("\n"))
    per_style = semantic_by_style(report)
    if per_style:
        lines += [
            "",
            "Semantic accuracy per style (held-out, hits on; the style judged most often when wrong):",
            "",
        ]
        lines.append(per_style.rstrip("\n"))
    clf = report["style_classifier"]
    lines.append("")
    lines.append(
        f"Style judge: held-out accuracy {clf['heldout_accuracy']:.3f} on {clf['heldout_items']} composed clips "
        f"rendered at 48 kHz, {clf.get('degraded_heldout_accuracy', float('nan')):.3f} on the same clips through "
        f"random channels ({clf['trained_on']}; chance 1/8)"
        + (
            "."
            if clf["trusted"]
            else f": BELOW the {clf['floor']} floor, semantic accuracy is not trustworthy."
        )
    )
    return "\n".join(lines).lstrip("\n") + "\n"


def semantic_by_style(report: dict) -> str:
    """A model x style table of semantic accuracy over the 8 styles: which a model gets, which it confuses."""
    from collections import Counter

    from engine.symbolic.score import STYLES

    models = [
        m
        for m in report["models"]
        if not m.get("style_text")
        and any("predicted_style" in c for c in m.get("synthetic", {}).get("clips", []))
    ]
    if not models:
        return ""
    lines = ["| model | " + " | ".join(STYLES) + " |", "|" + "---|" * (len(STYLES) + 1)]
    for m in models:
        cells = [m["label"]]
        for name in STYLES:
            judged = [c["predicted_style"] for c in m["synthetic"]["clips"] if c.get("style") == name]
            right = sum(p == name for p in judged)
            wrong = Counter(p for p in judged if p != name).most_common(1)
            cells.append(f"{right}/{len(judged)}" + (f" ({wrong[0][0]})" if wrong else "") if judged else "–")
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
    audio = metrics.mono(audio)
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
            v = _summary(m, "synthetic").get(key)
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


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)[:40]


def write_plots(report: dict, docs: Path) -> list[str]:
    """docs/eval_bars.png, the reference render's spectrogram of the first held-out clip, and per
    model (hits on) the first held-out clip's and each real clip's spectrogram."""
    written = [str(bars_png(report, docs / "eval_bars.png"))]
    clips = report.get("_clips", [])
    first = [c for c in clips if c.kind == "synthetic"][:1]
    real = [c for c in clips if c.kind == "real"]
    rates = {m["label"]: m.get("sample_rate", CUE_SAMPLE_RATE) for m in report["models"]}
    for label, audio in report.get("_audio", {}).items():
        for clip in first + real:
            cue = audio.get((clip.kind, clip.name))
            if cue is not None:
                out = docs / f"eval_spec_{_slug(label)}_{clip.name}.png"
                written.append(
                    str(spectrogram_png(cue, rates[label], clip.events_s, out, f"{label}: {clip.name}"))
                )
    return written


EXAMPLE_S = 10.0


def write_examples(report: dict, docs: Path, count: int = 3) -> list[str]:
    """Up to `count` short example cues (<= 10 s, stereo Ogg Vorbis) of the last video-fed model
    (list the model you ship last): a real clip with hits on and off (or held-out clips when there
    is no real footage)."""
    import soundfile as sf

    models = [m for m in report["models"] if "synthetic_alone" in m]
    if not models:
        return []
    label, rate = models[-1]["label"], models[-1]["sample_rate"]
    audio = report["_audio"][label]
    picks = [key for key in audio if key[0] in ("real", "real_alone")][:2]
    picks += [key for key in audio if key[0] == "synthetic"][: count - len(picks)]
    written = []
    for group, clip in picks[:count]:
        cue = np.asarray(audio[(group, clip)], dtype=np.float32)[: int(EXAMPLE_S * rate)]
        out = docs / f"example_{_slug(label)}_{group}_{clip}.ogg"
        out.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(out), np.clip(cue, -1, 1), rate, format="OGG", subtype="VORBIS")
        written.append(str(out))
    return written


def pianoroll_png(tokens: np.ndarray, events_s, path: Path, title: str, frame_rate: float = TOKEN_RATE) -> Path:
    """A symbolic cue's notes as a composer reads them: melody (blue), chord tones (green), bass
    (brown) by pitch over time, drum hits as ticks along the bottom, the picture's cuts in red."""
    from engine.symbolic import tokens as symbolic_tokens
    from engine.symbolic.score import CHORD_QUALITIES

    score = symbolic_tokens.decode(np.asarray(tokens, dtype=np.int64))
    frames = score.num_frames
    width = max(400, min(1600, frames * 2))
    lo_pitch, hi_pitch, px = 28, 96, 4
    top, drums_h = 28, 16
    height = top + (hi_pitch - lo_pitch + 1) * px + drums_h + 14
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x_of = lambda f: int(round(f / max(frames, 1) * (width - 1)))  # noqa: E731
    y_of = lambda p: top + (hi_pitch - p) * px  # noqa: E731
    for octave in range(lo_pitch - lo_pitch % 12 + 12, hi_pitch + 1, 12):  # a line at every C
        draw.line([(0, y_of(octave) + px - 1), (width, y_of(octave) + px - 1)], fill=(225, 225, 225))
    for chord in score.harmony:
        for i in CHORD_QUALITIES[chord.quality]:
            pitch = 60 + (chord.root + i) % 12
            draw.rectangle(
                [x_of(chord.start), y_of(pitch), x_of(chord.end) - 1, y_of(pitch) + px - 2],
                fill=(150, 210, 150),
            )
    for note, colour in [
        *((n, (150, 90, 40)) for n in score.bass),
        *((n, (30, 80, 200)) for n in score.melody),
    ]:
        draw.rectangle(
            [x_of(note.start), y_of(note.pitch), x_of(note.end) - 1, y_of(note.pitch) + px - 2], fill=colour
        )
    base = height - drums_h - 14
    for hit in score.drums:
        draw.line(
            [(x_of(hit.frame), base + 4), (x_of(hit.frame), base + 4 + 4 * (hit.accent + 1))],
            fill=(60, 60, 60),
            width=1,
        )
    for t in events_s:
        draw.line([(x_of(t * frame_rate), top), (x_of(t * frame_rate), base)], fill=(230, 30, 30), width=1)
    for s in range(int(frames / frame_rate) + 1):
        draw.line([(x_of(s * frame_rate), height - 14), (x_of(s * frame_rate), height - 9)], fill=(0, 0, 0))
    draw.text(
        (4, 2),
        f"{title}  (blue: melody, green: chords in one octave, brown: bass, grey: drums, red: cuts)",
        fill=(0, 0, 0),
        font=_font(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)
    return path
