"""`vm-eval`'s core: score models on held-out synthetic clips and on real footage.

Per model and clip: the engine's feature step on the video -> generate (seed = run seed + clip
index, the same for every model and take, so differences are paired) -> `cue_scores.score_cue`.
The takes (ways of asking a model for a cue):
- "hits": hit points on = the clip's hard cuts (synthetic: its composed cuts; real footage: the
  detected ones), what the engine hands a cue from a timeline; a dissolve is no hit point (the
  engine eases through a blend, as the corpus does). Every model gets this take.
- "alone": hit points off, the model alone (full models only: the video is what it follows).
- "prompted": the full model with the video AND a caption of a different style than the clip's
  (STYLES[(clip style + 1 + i mod 7) mod 8]); its semantic accuracy is the prompted style's.
A `style-text:` spec (the bare stage-0 backbone, video ignored) is prompted with the caption of
STYLES[i mod 8] (round robin) and judged against that style. A "reference" row renders each
held-out clip's own composed score: the ceiling the metrics can reach. A neural-codec model's codec
is scored on the reference renders and the real CC music (mel distance, SI-SNR); the symbolic
renderer cannot encode audio, so symbolic models have no codec scores.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.corpus.styles import caption, style
from engine.eval import metrics
from engine.eval.clips import Clip, heldout_clips
from engine.eval.cue_scores import score_cue, summarise
from engine.eval.models import ModelSpec, load_generator
from engine.eval.style_classifier import load_or_train
from engine.eval.visual import visual_inputs
from engine.symbolic.score import STYLES
from engine.timebase import CUE_SAMPLE_RATE, TOKEN_RATE

log = logging.getLogger(__name__)
REFERENCE = "reference (composed score rendered)"
RENDER_RATE = CUE_SAMPLE_RATE
KEEP_AUDIO = 3  # synthetic clips whose cues are kept for plots and examples (plus all real ones)


TAKES = ("hits", "alone", "free", "prompted")


@dataclass
class EvalConfig:
    work_dir: Path
    heldout_dir: Path | None = None  # a corpus folder with a heldout split (else synthesised here)
    heldout_count: int = 10
    real_videos: tuple[Path, ...] = ()
    real_music: tuple[Path, ...] = ()
    real_max_s: float = 20.0
    seed: int = 0
    classifier_train: int = 200
    classifier_heldout: int = 50
    device: str = "cpu"
    preset: str = "tiny"  # visual tower
    cache_dir: str | None = None
    inputs: dict = field(default_factory=dict)  # (video, duration, source) -> VisualInputs
    takes: tuple[str, ...] = TAKES  # which takes full models get (hits is always one)


def real_clips(cfg: EvalConfig) -> list[Clip]:
    """Real footage (its first real_max_s seconds); events and edit points are the detected cuts."""
    from engine.features import probe_media

    clips = []
    for video in cfg.real_videos:
        duration = min(probe_media(str(video)).duration_s, cfg.real_max_s)
        inputs = _inputs(cfg, Clip(video.stem, video, duration, [], [], "real"), "patch")
        cuts = [float(t) for t in inputs.features.cuts_s]
        clips.append(Clip(video.stem, video, duration, cuts, cuts, "real"))
    return clips


def _inputs(cfg: EvalConfig, clip: Clip, source: str):
    key = (str(clip.video), clip.duration_s, source)
    if key not in cfg.inputs:
        cfg.inputs[key] = visual_inputs(
            str(clip.video),
            0.0,
            clip.duration_s,
            rhythm_source=source,
            preset=cfg.preset,
            cache_dir=cfg.cache_dir,
        )
    return cfg.inputs[key]


def prompt_for(name: str) -> str:
    """A style's caption at the middle of its tempo range (what stage 0 learnt to follow)."""
    lo, hi = style(name).tempo_bpm
    return caption(name, (lo + hi) / 2)


def other_style(clip_style: str, index: int) -> str:
    """A style other than the clip's, cycling through the other seven with the clip index."""
    return STYLES[(STYLES.index(clip_style) + 1 + index % (len(STYLES) - 1)) % len(STYLES)]


def takes_for(spec: ModelSpec, kind: str, wanted: tuple[str, ...] = TAKES) -> tuple[str, ...]:
    if spec.style_text:
        return ("hits",) if kind == "synthetic" else ()  # real footage has no style to prompt with
    if spec.blind:
        return ("hits",)
    kinds = TAKES if kind == "synthetic" else ("hits", "alone", "free")
    return tuple(t for t in kinds if t == "hits" or t in wanted)


def group_name(kind: str, take: str) -> str:
    return kind if take == "hits" else f"{kind}_{take}"


def evaluate_model(spec: ModelSpec, cfg: EvalConfig, synth: list[Clip], real: list[Clip], judge, reference):
    """(the model's report entry, {(group, clip): audio} of the cues kept for plots and examples)."""
    from engine.generator.backbone import is_symbolic

    gen = load_generator(spec, cfg.device)
    result: dict = {
        "label": spec.label,
        "target": spec.target,
        "backbone_only": spec.blind,
        "style_text": spec.style_text,
        "rhythm_source": spec.rhythm_source,
        "sample_rate": gen.sample_rate,
        "symbolic": is_symbolic(gen.config),
    }
    kept: dict[tuple[str, str], np.ndarray] = {}
    for kind, clips in (("synthetic", synth), ("real", real)):
        for take in takes_for(spec, kind, cfg.takes) if clips else ():
            rows = []
            for i, clip in enumerate(clips):
                target, prompt = clip.style, None
                if spec.style_text:
                    target = STYLES[i % len(STYLES)]
                    prompt = prompt_for(target)
                elif take == "prompted":
                    target = other_style(clip.style, i)
                    prompt = prompt_for(target)
                inputs = _inputs(cfg, clip, spec.rhythm_source)
                cue = gen.generate_cue(
                    cls_1fps=None if spec.blind else inputs.cls_1fps,
                    rhythm_50hz=None if spec.blind else inputs.rhythm_50hz,
                    duration_s=clip.duration_s,
                    seed=cfg.seed + i,
                    prompt=prompt,
                    hit_points_s=tuple(clip.edit_points_s) if take not in ("alone", "free") else (),
                    tempo_lock=take != "free",
                    end_s=clip.duration_s,  # a clip is a whole cue: it ends into silence
                )
                visual_bpm = clip.tempo_bpm or metrics.curve_tempo(inputs.rhythm_50hz.sum(axis=1), TOKEN_RATE)
                row = score_cue(
                    clip, cue.audio, gen.sample_rate, visual_bpm, judge, cue.tokens, target, cue.grid
                )
                if prompt is not None:
                    row["prompt"] = prompt
                rows.append(row)
                if kind == "real" or i < KEEP_AUDIO:
                    kept[(group_name(kind, take), clip.name)] = cue.audio
                log.info("%s %s %s: %s", spec.label, take, clip.name, row["failures"] or "music ok")
            result[group_name(kind, take)] = {"summary": summarise(rows), "clips": rows}
    if not result["symbolic"]:
        result["codec"] = codec_scores(gen.backbone.codec, reference, cfg.real_music, cfg.real_max_s, judge)
    return result, kept


def render_reference(synth: list[Clip]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{clip: (its composed score rendered at 48 kHz [N, 2], its tokens)}."""
    import json

    from engine.symbolic import tokens as tk
    from engine.symbolic.renderer import render
    from engine.symbolic.score import SymbolicScore

    out = {}
    for clip in synth:
        score = SymbolicScore.from_dict(json.loads(clip.score.read_text(encoding="utf-8")))
        out[clip.name] = (render(score, RENDER_RATE).T.copy(), tk.encode(score))
    return out


def reference_row(synth: list[Clip], rendered: dict, judge) -> dict:
    """The corpus's own scores, rendered, scored exactly like a model's cues (the metrics' ceiling)."""
    rows = []
    for clip in synth:
        audio, tokens = rendered[clip.name]
        rows.append(score_cue(clip, audio, RENDER_RATE, clip.tempo_bpm, judge, tokens, clip.style))
    return {
        "label": REFERENCE,
        "sample_rate": RENDER_RATE,
        "synthetic": {"summary": summarise(rows), "clips": rows},
    }


def codec_scores(codec, reference: dict, music: tuple[Path, ...], max_s: float, judge=None) -> dict:
    """A neural codec's mel distance and SI-SNR on the held-out reference renders and on real music;
    with a judge, its accuracy on the renders' reconstructions (the semantic ceiling through it)."""
    import soxr
    import torch

    sr = int(codec.sample_rate)
    hop = int(round(sr / float(codec.frame_rate)))
    out = {}

    heldout = [
        (name, soxr.resample(metrics.mono(audio), RENDER_RATE, sr).astype(np.float32))
        for name, (audio, _) in reference.items()
    ]
    real = [(Path(p).name, read_audio(p, sr, max_s)) for p in music]
    for group, items in (("heldout", heldout), ("real", real)):
        rows = []
        for name, x in items:
            x = x[: (len(x) // hop) * hop]
            if len(x) < hop * 4:
                continue
            with torch.no_grad():
                codes, scale = codec.encode(torch.from_numpy(x).view(1, 1, -1))
                y = codec.decode(codes, scale)[0, 0].cpu().numpy()
            rows.append(
                {
                    "file": name,
                    "mel_distance": metrics.mel_distance(x, y, sr),
                    "si_snr_db": metrics.si_snr(x, y),
                }
            )
        out[group] = {
            "items": rows,
            "mel_distance": float(np.mean([r["mel_distance"] for r in rows])) if rows else float("nan"),
            "si_snr_db": float(np.mean([r["si_snr_db"] for r in rows])) if rows else float("nan"),
        }
    return out


def read_audio(path: Path, sample_rate: int, max_s: float | None = None) -> np.ndarray:
    """Mono float32 at `sample_rate` (first max_s seconds)."""
    import soundfile as sf
    import soxr

    audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if max_s:
        mono = mono[: int(max_s * sr)]
    if sr != sample_rate:
        mono = soxr.resample(mono, sr, sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)


def testvideo_cut_check(real: list[Clip], csv_path: Path | None) -> dict | None:
    """Detected cuts of testvideo.mp4 against its ground-truth scene list (±70 ms F-measure)."""
    if csv_path is None or not csv_path.is_file():
        return None
    truth = []
    for line in csv_path.read_text().splitlines()[1:]:
        parts = line.split(",")
        if len(parts) == 4 and parts[0].strip().isdigit() and int(parts[0]) > 0:
            truth.append(float(parts[3]) / 1000.0)
    for clip in real:
        if clip.video.stem == csv_path.stem.removesuffix("_scenes"):
            kept = [t for t in truth if t < clip.duration_s]
            f = metrics.onset_f_measure(kept, clip.events_s)
            return {"video": clip.video.name, "truth_cuts_s": kept, "detected_cuts_s": clip.events_s, **f}
    return None


def run_evaluation(specs: list[ModelSpec], cfg: EvalConfig, testvideo_csv: Path | None = None) -> dict:
    """The whole report: the judge first, then the reference row and one entry per model."""
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    judge = load_or_train(cfg.work_dir / "style_judge.pkl", cfg.classifier_train, cfg.classifier_heldout)
    synth = heldout_clips(cfg.heldout_dir, cfg.heldout_count, cfg.work_dir)
    real = real_clips(cfg)
    rendered = render_reference(synth)
    report: dict = {
        "definitions": metrics.__doc__.strip(),
        "style_classifier": judge.report(),
        "heldout_clips": [c.name for c in synth],
        "real_videos": [str(c.video) for c in real],
        "cut_check": testvideo_cut_check(real, testvideo_csv),
        "models": [reference_row(synth, rendered, judge)],
    }
    audio: dict[str, dict] = {
        REFERENCE: {("synthetic", c.name): rendered[c.name][0] for c in synth[:KEEP_AUDIO]}
    }
    for spec in specs:
        log.info("evaluating %s", spec.label)
        row, audio[spec.label] = evaluate_model(spec, cfg, synth, real, judge, rendered)
        report["models"].append(row)
    from engine.eval.compare import pairwise

    report["comparisons"] = pairwise([m for m in report["models"] if m["label"] != REFERENCE])
    report["_audio"] = audio  # for the plots and examples; dropped before JSON
    report["_clips"] = synth + real
    return report
