"""`vm-eval`'s core: score models on the held-out synthetic split and on real footage.

Per model and clip: the engine's feature step on the video -> generate (fixed seed) -> music onsets
-> LORIS beat hit / coverage (1 s bins), onset F (±70 ms, mir_eval), tempo agreement, and, on the
synthetic split, semantic accuracy (the style judge's world for the music == the clip's world).
Visual events: the synthetic clips' ground-truth event frames (cuts, flashes, accents: every one
is a musical onset in the corpus); on real footage the hard cuts the feature engine detects.
Visual tempo: the corpus tempo on the synthetic split; on real footage the tempo of the visual
rhythm curve (patch rhythm + cue channel, `metrics.curve_tempo`). Each model's codec is scored on
held-out corpus music and on the real CC music (mel distance, SI-SNR). A "reference" row scores
the corpus's own music against its events: the ceiling the metrics can reach.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.corpus.errors import SynthConfigError
from engine.eval import metrics
from engine.eval.models import ModelSpec, load_generator
from engine.eval.style_classifier import load_or_train
from engine.eval.visual import visual_inputs

log = logging.getLogger(__name__)
REFERENCE = "reference (corpus audio)"


@dataclass
class Clip:
    """One evaluation clip: video, its events, and what is known about it."""

    name: str
    video: Path
    duration_s: float
    events_s: list[float]
    kind: str  # synthetic | real
    world: str | None = None
    tempo_bpm: float | None = None  # ground truth (synthetic only)
    music: Path | None = None  # the paired real music (synthetic only)
    text: str | None = None  # the style caption (synthetic only)


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
    inputs: dict = field(default_factory=dict)  # (video, source) -> VisualInputs


def heldout_clips(cfg: EvalConfig) -> list[Clip]:
    """The first `heldout_count` held-out clips (synthesised into work_dir/corpus when needed)."""
    from engine.corpus.synth import SynthConfig, synth_corpus

    root = cfg.heldout_dir
    if root is None:
        root = cfg.work_dir / "corpus"
        synth_corpus(root, cfg.heldout_count, 0, "heldout", SynthConfig())
    sidecars = sorted((Path(root) / "heldout").glob("heldout-*.json"))[: cfg.heldout_count]
    if not sidecars:
        raise SynthConfigError(f"{root}: no held-out clips; write some with `vm-train synth --split heldout`")
    clips = []
    for path in sidecars:
        t = json.loads(path.read_text())
        clips.append(
            Clip(
                t["id"],
                path.parent / t["video"],
                float(t["duration_s"]),
                [float(e["frame_time_s"]) for e in t["events"]],
                "synthetic",
                t["world"],
                float(t["tempo_bpm"]),
                path.parent / t["music"],
                t.get("text"),
            )
        )
    return clips


def real_clips(cfg: EvalConfig) -> list[Clip]:
    """Real footage (its first real_max_s seconds); events are the engine's detected hard cuts."""
    from engine.features import probe_media

    clips = []
    for video in cfg.real_videos:
        duration = min(probe_media(str(video)).duration_s, cfg.real_max_s)
        inputs = _inputs(cfg, Clip(video.stem, video, duration, [], "real"), "patch")
        clips.append(Clip(video.stem, video, duration, list(inputs.features.cuts_s), "real"))
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


def score_clip(clip: Clip, audio: np.ndarray, sample_rate: int, visual_bpm: float, judge=None) -> dict:
    """Every per-clip number for one piece of music against one clip's events."""
    onsets = metrics.music_onsets(audio, sample_rate)
    beats = metrics.beat_hit_coverage(clip.events_s, onsets, clip.duration_s)
    f = metrics.onset_f_measure(clip.events_s, onsets)
    music_bpm = metrics.music_tempo(audio, sample_rate)
    row = {
        "clip": clip.name,
        "kind": clip.kind,
        "events": len(clip.events_s),
        "onsets": int(len(onsets)),
        "hit": beats["hit"],
        "coverage": beats["coverage"],
        "onset_f": f["f"],
        "onset_precision": f["precision"],
        "onset_recall": f["recall"],
        "music_bpm": music_bpm,
        "visual_bpm": visual_bpm,
        "rhythmicity": metrics.rhythmicity(audio, sample_rate),
        **{f"tempo_{k}": v for k, v in metrics.tempo_agreement(music_bpm, visual_bpm).items()},
    }
    if judge is not None and clip.world is not None:
        row["predicted_world"] = judge.predict(audio, sample_rate)
        row["world"] = clip.world
        row["semantic_correct"] = row["predicted_world"] == clip.world
    return row


def summarise(rows: list[dict]) -> dict:
    """Means over clips (NaN scores, i.e. clips without events, are left out of that mean)."""
    out: dict = {"clips": len(rows)}
    for key in ("hit", "coverage", "onset_f", "onset_precision", "onset_recall", "rhythmicity"):
        vals = [r[key] for r in rows if isinstance(r[key], float) and math.isfinite(r[key])]
        out[key] = float(np.mean(vals)) if vals else float("nan")
    out["tempo_exact"] = float(np.mean([r["tempo_exact"] for r in rows])) if rows else float("nan")
    out["tempo_octave"] = float(np.mean([r["tempo_octave"] for r in rows])) if rows else float("nan")
    diffs = [abs(r["tempo_diff_bpm"]) for r in rows if math.isfinite(r["tempo_diff_bpm"])]
    out["tempo_abs_diff_bpm"] = float(np.mean(diffs)) if diffs else float("nan")
    judged = [r["semantic_correct"] for r in rows if "semantic_correct" in r]
    if judged:
        out["semantic_accuracy"] = float(np.mean(judged))
    return out


def codec_scores(codec, clips: list[Clip], music: tuple[Path, ...], max_s: float, judge=None) -> dict:
    """Mel distance and SI-SNR of the codec's reconstruction on held-out corpus and real music.

    With a judge, also its accuracy on the held-out reconstructions: every generated clip reaches
    the judge through this codec's decoder, so this is the ceiling of the semantic accuracy.
    """
    import torch

    sr = int(codec.sample_rate)
    hop = int(round(sr / float(codec.frame_rate)))
    out = {}
    worlds = {str(c.music): c.world for c in clips if c.music}
    for name, paths in (("heldout", [c.music for c in clips if c.music]), ("real", list(music))):
        rows = []
        for path in paths:
            x = read_audio(path, sr, max_s)
            x = x[: (len(x) // hop) * hop]
            if len(x) < hop * 4:
                continue
            with torch.no_grad():
                codes, scale = codec.encode(torch.from_numpy(x).view(1, 1, -1))
                y = codec.decode(codes, scale)[0, 0].cpu().numpy()
            row = {
                "file": Path(path).name,
                "mel_distance": metrics.mel_distance(x, y, sr),
                "si_snr_db": metrics.si_snr(x, y),
            }
            if judge is not None and worlds.get(str(path)):
                row["judged_correct"] = judge.predict(y, sr) == worlds[str(path)]
            rows.append(row)
        out[name] = {
            "items": rows,
            "mel_distance": float(np.mean([r["mel_distance"] for r in rows])) if rows else float("nan"),
            "si_snr_db": float(np.mean([r["si_snr_db"] for r in rows])) if rows else float("nan"),
        }
        judged = [r["judged_correct"] for r in rows if "judged_correct" in r]
        if judged:
            out[name]["judge_accuracy"] = float(np.mean(judged))
    return out


def evaluate_model(spec: ModelSpec, cfg: EvalConfig, synth: list[Clip], real: list[Clip], judge) -> dict:
    gen = load_generator(spec, cfg.device)
    result: dict = {
        "label": spec.label,
        "target": spec.target,
        "backbone_only": spec.blind,
        "style_text": spec.style_text,
        "rhythm_source": spec.rhythm_source,
        "sample_rate": gen.sample_rate,
    }
    audio_out: dict[str, np.ndarray] = {}
    for group, clips in (("synthetic", synth), ("real", real)):
        rows = []
        for i, clip in enumerate(clips):
            if spec.style_text and clip.text is None:
                continue  # no caption to prompt with (real footage)
            inputs = _inputs(cfg, clip, spec.rhythm_source)
            audio = gen.generate(
                cls_1fps=None if spec.blind else inputs.cls_1fps,
                rhythm_50hz=None if spec.blind else inputs.rhythm_50hz,
                duration_s=clip.duration_s,
                seed=cfg.seed + i,
                prompt=clip.text if spec.style_text else None,
            )
            audio_out[clip.name] = audio
            visual_bpm = clip.tempo_bpm or metrics.curve_tempo(inputs.rhythm_50hz.sum(axis=1), 50.0)
            rows.append(score_clip(clip, audio, gen.sample_rate, visual_bpm, judge))
        result[group] = {"summary": summarise(rows), "clips": rows}
    result["codec"] = codec_scores(gen.backbone.codec, synth, cfg.real_music, cfg.real_max_s, judge)
    return result, audio_out


def reference_row(synth: list[Clip], judge) -> dict:
    """The corpus's own music scored exactly like a model's (the metrics' ceiling)."""
    rows = []
    for clip in synth:
        audio = read_audio(clip.music, 16000)
        rows.append(score_clip(clip, audio, 16000, clip.tempo_bpm, judge))
    return {"label": REFERENCE, "synthetic": {"summary": summarise(rows), "clips": rows}}


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
    """The whole report: classifier first, then the reference row and one entry per model."""
    cfg.work_dir.mkdir(parents=True, exist_ok=True)
    judge = load_or_train(cfg.work_dir / "style_classifier.pkl", cfg.classifier_train, cfg.classifier_heldout)
    synth = heldout_clips(cfg)
    real = real_clips(cfg)
    report: dict = {
        "definitions": metrics.__doc__.strip(),
        "style_classifier": judge.report(),
        "heldout_clips": [c.name for c in synth],
        "real_videos": [str(c.video) for c in real],
        "cut_check": testvideo_cut_check(real, testvideo_csv),
        "models": [reference_row(synth, judge)],
    }
    audio: dict[str, dict[str, np.ndarray]] = {}
    for spec in specs:
        log.info("evaluating %s", spec.label)
        row, audio[spec.label] = evaluate_model(spec, cfg, synth, real, judge)
        report["models"].append(row)
    from engine.eval.compare import pairwise

    report["comparisons"] = pairwise([m for m in report["models"] if m["label"] != REFERENCE])
    report["_audio"] = audio  # for the plots; dropped before JSON
    report["_clips"] = synth + real
    return report
