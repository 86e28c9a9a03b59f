"""Prompt obedience of the shipped tiny model on real footage (issue 26): does the music play the
style or mood a prompt names, at the tempo it names, with more notes when it asks for more energy?

Usage: python -m benchmarks.prompt_obedience OUT_DIR [--quick | --mood-seeds 1,2,3] [--judge-dir DIR]
(about 5 minutes of scoring on 2 CPU cores, --quick about 1, plus about 4 the first time to fit the
judges; $VIDMUSICIAN_SAMPLES: the samples folder when it is not ../shared/samples)

A timeline of five real footage clips from ../shared/samples/media (bikes 0-4 s, counter 0-3 s,
and the three scenes of testvideo: 0.5-4 s, 7.5-11 s, 13.5-17 s; 1 s gaps) is scored cue by cue
(`--cues per-clip`, seed 1, the in-process engine, as `vm-editor score --in-process` runs it) once
per prompt: the eight style words, the editor words of the issue, the seven mood words (tense,
action, sad, uplifting, comedy, romantic, wonder), five named tempi and four low/high energy pairs
(`--quick`: four style words, four mood words, one tempo, one energy pair).

Each cue is judged twice. From its tokens (.npy beside its WAV): the styles its style stream plays
(STREAMS index 4), the onsets of streams 0-3, and for a named tempo the tempo of the step grid its
onsets sit on (`tempo_grid.fit_to_onsets`, the reader a continued cue uses, over +-30 % of the named
tempo). From its AUDIO (the WAV an editor hears): the style judge's style (`style_classifier`) when
the prompt names a style, the mood judge's mood (`mood_judge`, given the style the cue's tokens
play) when it names a mood, and the audio onsets (`metrics.music_onsets`). The judges are trained
once and cached in --judge-dir (default: the vidmusician cache folder's `judges/`; the first run
spends a few minutes there); their own held-out accuracies are printed with the figures. The rows
go to OUT_DIR/rows.json, the summary to stdout. Not part of `make bench` (it scores ~180 cues).
`--mood-seeds 1,2,3,4,5,6` scores only the seven mood words at each seed (35 cues a seed, about
20 s each) and prints how often the score judge reads the named mood: one seed's short cues swing
by several cues either way.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import opentimelineio as otio

# ../shared/samples beside the repository (as tests/conftest.py), or $VIDMUSICIAN_SAMPLES
SAMPLES = Path(
    os.environ.get("VIDMUSICIAN_SAMPLES", Path(__file__).resolve().parents[2] / "shared" / "samples")
)
MEDIA = SAMPLES / "media"
# (media file, first second used, seconds used, the media's seconds): five footage clips, 3-4 s each
CLIPS = (
    ("bikes", 0.0, 4.0, 10),
    ("counter", 0.0, 3.0, 3),
    ("testvideo", 0.5, 3.5, 24),  # its first scene
    ("testvideo", 7.5, 3.5, 24),  # its second scene (cut at 6.7 s)
    ("testvideo", 13.5, 3.5, 24),  # its third scene (cut at 12.7 s)
)
RATE = 25
STYLE_WORDS = [
    "cinematic strings",
    "piano ballad",
    "indie rock",
    "electronic",
    "acoustic folk",
    "jazz",
    "ambient",
    "action percussion",
]
EDITOR_WORDS = [
    "epic orchestral trailer",
    "dark tense",
    "uplifting corporate",
    "lo-fi",
    "warm piano",
    "sad strings",
    "upbeat electronic 120 bpm",
]
MOOD_WORDS = ["tense", "action", "sad", "uplifting", "comedy", "romantic", "wonder"]
TEMPI = ["jazz 120 bpm", "piano 72 bpm", "electronic 128 bpm", "indie rock 100 bpm", "ambient 66 bpm"]
ENERGY_PAIRS = [
    ("energy low", "energy high"),
    ("indie rock, energy low", "indie rock, energy high"),
    ("jazz, calm", "jazz, energetic"),
    ("sad", "sad, energetic"),
]
PROMPTS = list(  # each once ("sad" is a mood word and the low side of an energy pair)
    dict.fromkeys(
        [
            None,
            *STYLE_WORDS,
            *EDITOR_WORDS,
            *MOOD_WORDS,
            *TEMPI,
            *(p for pair in ENERGY_PAIRS for p in pair),
        ]
    )
)
QUICK_ENERGY_PAIRS = ENERGY_PAIRS[:1]
QUICK_PROMPTS = [  # 11 prompts
    *STYLE_WORDS[::2],
    *MOOD_WORDS[:4],
    TEMPI[0],
    *(p for pair in QUICK_ENERGY_PAIRS for p in pair),
]


def clip_label(clip) -> str:
    name, start, seconds, _ = clip
    return f"{name} {start:g}-{start + seconds:g} s"


def timeline(folder: Path) -> Path:
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for i, (name, start, seconds, media_s) in enumerate(CLIPS):
        if i:
            track.append(otio.schema.Gap(source_range=TR(RT(0, RATE), RT(RATE, RATE))))
        media = otio.schema.ExternalReference(
            target_url=(MEDIA / f"{name}.mp4").as_uri(),
            available_range=TR(RT(0, RATE), RT(round(media_s * RATE), RATE)),
        )
        source = TR(RT(round(start * RATE), RATE), RT(round(seconds * RATE), RATE))
        track.append(otio.schema.Clip(name=f"{name}-{i}", media_reference=media, source_range=source))
    path = folder / "five.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(name="five", tracks=[track]), str(path))
    return path


def grid_bpm(tokens: np.ndarray, named: float, meter) -> float:
    from engine.generator.tempo_grid import Meter, fit_to_onsets

    onsets = np.flatnonzero((tokens[:4] >= 2).any(0))
    searched = Meter((named / 1.3, named * 1.3), meter.steps_per_beat, meter.beats_per_bar)
    # frame 0 last: a late first beat's entry sounds there off the grid (form.ENTRY_MIN_FRAMES),
    # but a cue whose first beat is frame 0 needs it when it has few notes
    grid = fit_to_onsets(onsets[onsets > 0], searched) or fit_to_onsets(onsets, searched)
    return float("nan") if grid is None else grid.bpm


def judges(folder: Path):
    """(style judge, mood judge, score mood judge), trained once and cached in `folder`."""
    from engine.eval import mood_judge, score_mood_judge, style_classifier

    folder.mkdir(parents=True, exist_ok=True)
    return (
        style_classifier.load_or_train(folder / "style_judge.pkl"),
        mood_judge.load_or_train(folder / "mood_judge.pkl"),
        score_mood_judge.load_or_train(folder / "score_mood_judge.pkl"),
    )


def judge_cue(row: dict, wav: Path, style_judge, mood_judge) -> None:
    """Add what the audio says to `row`: the judged style (a named style), the judged mood (a named
    mood, given the style the tokens play most) and the audio onsets."""
    import soundfile

    from engine.eval import metrics

    audio, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    audio = audio[: round(row["seconds"] * rate)].mean(axis=1)  # the cue, not its handle
    row["audio_onsets"] = len(metrics.music_onsets(audio, rate))
    if row["named_style"]:
        row["judged_style"] = style_judge.predict(audio, rate)
    if row["named_mood"]:
        probabilities = mood_judge.probabilities(audio, row["token_style"], rate)
        row["judged_mood"] = max(probabilities, key=probabilities.get)
        row["mood_probabilities"] = {k: round(v, 3) for k, v in probabilities.items()}


def measure(out: Path, prompts: list, judge_dir: Path, seed: int = 1) -> tuple[list[dict], dict]:
    from engine.generator.music_generator import MusicGenerator
    from engine.in_process import InProcessEngine
    from engine.symbolic.score import STREAMS, STYLES
    from vm_editor.scoring import build_request, plan_cues
    from vm_editor.timeline_io import read_timeline

    out.mkdir(parents=True, exist_ok=True)
    style_judge, mood_judge, score_judge = judges(judge_dir)
    path = timeline(out)
    scenes = plan_cues(read_timeline(path), mode="per-clip", timeline_path=path)
    generator, engine = MusicGenerator.load("tiny"), InProcessEngine()
    rows, started = [], time.monotonic()
    for i, prompt in enumerate(prompts):
        request = build_request(
            scenes,
            cue_dir=str(out / (f"p{i:02d}" if seed == 1 else f"s{seed}-p{i:02d}")),
            seed=seed,
            prompt=prompt,
            score_name="five",
        )
        result = engine.score(request)
        intent = generator.prompt_intent(prompt)
        for cue, clip in zip(result.cues, CLIPS, strict=True):
            tokens = np.load(cue.tokens_path)
            played = Counter(STYLES[s] for s in tokens[STREAMS.index("style")])
            row = {
                "prompt": prompt,
                "seed": seed,
                "clip": clip_label(clip),
                "seconds": cue.duration_s,
                "named_style": intent.style,
                "named_mood": intent.mood,
                "energy": intent.energy,
                "styles": sorted(played),
                "token_style": played.most_common(1)[0][0],
                "onsets": int((tokens[:4] >= 2).sum()),
                "warnings": list(result.warnings),
            }
            if intent.tempo_bpm is not None:
                row["named_bpm"] = intent.tempo_bpm
                row["grid_bpm"] = grid_bpm(tokens, intent.tempo_bpm, generator.style_meters[intent.style])
            judge_cue(row, Path(cue.wav_path), style_judge, mood_judge)
            if intent.mood:  # what the notes say, beside what the audio says
                row["score_judged_mood"] = score_judge.predict(tokens, row["token_style"])
            rows.append(row)
        print(f"{time.monotonic() - started:5.0f} s  {prompt!r}", file=sys.stderr, flush=True)
    reports = {
        "style_judge": style_judge.report(),
        "mood_judge": mood_judge.report(),
        "score_mood_judge": score_judge.report(),
    }
    name = "rows.json" if seed == 1 else f"rows-seed{seed}.json"
    (out / name).write_text(json.dumps({"judges": reports, "rows": rows}, indent=1, default=float))
    return rows, reports


def mood_seeds(out: Path, seeds: list[int], judge_dir: Path) -> str:
    """The mood words over several seeds, read from the notes (the score judge): a 3-4 s cue's
    reading turns on a few notes, so one seed's 35 cues swing by several cues either way."""
    rows = [r for seed in seeds for r in measure(out, MOOD_WORDS, judge_dir, seed)[0]]
    read = [r for r in rows if r["score_judged_mood"] == r["named_mood"]]
    lines = [
        f"mood read from the notes over seeds {', '.join(map(str, seeds))}: {share(len(read), len(rows))}"
    ]
    return "\n".join(lines + per_word(rows, "score_judged_mood"))


def trust(report: dict) -> str:
    return "" if report["trusted"] else f", UNTRUSTED (below its floor {report['floor']})"


def paired_mood_ranks(moods: list[dict]) -> tuple[int, int, float]:
    """(cues ranked first, cues, the share chance would rank first): the same footage asked for each mood in turn, does the cue asked
    for mood m sound more like m than the clip's cues asked for the other moods? A comparison on
    shared pictures, as the energy pairs are, where the absolute judgement is unreliable."""
    first = total = 0
    by_chance = 0.0
    for clip in dict.fromkeys(r["clip"] for r in moods):
        cues = [r for r in moods if r["clip"] == clip]
        by_chance += 1.0
        for r in cues:
            named = r["named_mood"]
            first += all(r["mood_probabilities"][named] >= o["mood_probabilities"][named] for o in cues)
            total += 1
    return first, total, by_chance / max(total, 1)


def share(hits: int, total: int) -> str:
    return f"{hits}/{total} cues ({100 * hits / max(total, 1):.0f} %)"


def per_word(rows: list[dict], judged: str) -> list[str]:
    """One line per prompt word: what the judge (row key `judged`) named its cues, most often first."""
    lines = []
    for word in dict.fromkeys(r["prompt"] for r in rows):
        said = Counter(r[judged] for r in rows if r["prompt"] == word)
        lines.append(f"  {word!r}: " + ", ".join(f"{k} x{n}" for k, n in said.most_common()))
    return lines


def summary(rows: list[dict], reports: dict, energy_pairs=ENERGY_PAIRS) -> str:
    rows = list({(r["prompt"], r["clip"]): r for r in rows}.values())  # a prompt scored twice counts once
    s, m = reports["style_judge"], reports["mood_judge"]
    lines = [
        f"style judge: held-out accuracy {s['heldout_accuracy']:.3f} clean, "
        f"{s['degraded_heldout_accuracy']:.3f} degraded ({s['heldout_items']} composed clips)" + trust(s),
        f"mood judge (given the style): held-out accuracy {m['heldout_accuracy']:.3f}, "
        f"top-2 {m['heldout_top2']:.3f}, mode side {m['heldout_mode_side']:.3f} ({m['heldout_items']} composed clips, chance {1 / len(m['classes']):.3f})"
        + trust(m),
    ]
    named = [r for r in rows if r["named_style"]]
    kept = [r for r in named if r["styles"] == [r["named_style"]]]
    lines.append(f"style obeyed (tokens): {share(len(kept), len(named))} (the whole cue in the named style)")
    for label, words in (("style words", STYLE_WORDS), ("all prompts naming a style", None)):
        group = [r for r in named if words is None or r["prompt"] in words]
        heard = [r for r in group if r["judged_style"] == r["named_style"]]
        if group:
            lines.append(f"style heard (audio judge), {label}: {share(len(heard), len(group))}")
    wrong = Counter(
        (r["named_style"], r["judged_style"]) for r in named if r["judged_style"] != r["named_style"]
    )
    if wrong:
        lines.append(
            "  heard instead: " + ", ".join(f"{a} as {b} x{n}" for (a, b), n in wrong.most_common(6))
        )
    moods = [r for r in rows if r["prompt"] in MOOD_WORDS]
    if moods:
        heard = [r for r in moods if r["judged_mood"] == r["named_mood"]]
        from engine.eval.mood_judge import MAJOR_MOODS

        mode = [r for r in moods if (r["judged_mood"] in MAJOR_MOODS) == (r["named_mood"] in MAJOR_MOODS)]
        lines.append(f"mood heard (audio judge), mood words: {share(len(heard), len(moods))}")
        lines.append(f"  its mode side (major/lydian vs minor moods): {share(len(mode), len(moods))}")
        first, total, chance = paired_mood_ranks(moods)
        lines.append(
            f"  paired on the same clip (the cue asked for a mood has that mood's highest probability "
            f"among the clip's mood cues): {share(first, total)}, chance {100 * chance:.0f} %"
        )
        lines += per_word(moods, "judged_mood")
        read = [r for r in moods if "score_judged_mood" in r]
        if read and "score_mood_judge" in reports:
            sm = reports["score_mood_judge"]
            written = [r for r in read if r["score_judged_mood"] == r["named_mood"]]
            lines.append(
                f"mood read from the notes (score judge: held-out accuracy {sm['heldout_accuracy']:.3f}, "
                f"{sm['heldout_items']} composed clips), mood words: {share(len(written), len(read))}"
            )
            lines += per_word(read, "score_judged_mood")
    for r in rows:
        if r["prompt"] is None:
            lines.append(f"no prompt, {r['clip']}: {'/'.join(r['styles'])}")
    errors = []
    for r in rows:
        if "named_bpm" in r:
            error = 100 * (r["grid_bpm"] / r["named_bpm"] - 1)
            errors.append(abs(error))
            lines.append(f"tempo {r['prompt']!r}, {r['clip']}: {r['grid_bpm']:.2f} bpm ({error:+.2f} %)")
    if errors:
        lines.append(
            f"tempo within 2 %: {sum(e <= 2 for e in errors)}/{len(errors)} cues, worst {max(errors):.2f} %"
        )
    by = {(r["prompt"], r["clip"]): r for r in rows}
    for low, high in energy_pairs:
        for key in ("onsets", "audio_onsets"):
            ratios = [by[(high, clip_label(c))][key] / max(by[(low, clip_label(c))][key], 1) for c in CLIPS]
            lines.append(
                f"{'token' if key == 'onsets' else 'audio'} onsets {high!r} / {low!r}: "
                + ", ".join(f"{r:.2f}x" for r in ratios)
                + f"  (>= 1.5x: {sum(r >= 1.5 for r in ratios)}/{len(ratios)})"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from engine.encoders import default_cache_root

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--quick", action="store_true", help="a subset of the prompts (about a third)")
    parser.add_argument("--judge-dir", type=Path, default=None, help="where the judges are cached")
    parser.add_argument(
        "--mood-seeds",
        default=None,
        help="only the mood words, scored at each of these seeds (e.g. 1,2,3,4,5,6), read by the score judge",
    )
    args = parser.parse_args(argv)
    prompts = QUICK_PROMPTS if args.quick else PROMPTS
    judge_dir = args.judge_dir or default_cache_root() / "judges"
    if args.mood_seeds:
        print(mood_seeds(args.out_dir, [int(s) for s in args.mood_seeds.split(",")], judge_dir))
        return 0
    rows, reports = measure(args.out_dir, prompts, judge_dir)
    print(summary(rows, reports, QUICK_ENERGY_PAIRS if args.quick else ENERGY_PAIRS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
