"""Prompt obedience of the shipped tiny model on real footage (issue 26): does the music play the
style a prompt names, at the tempo it names, with more notes when it asks for more energy?

Usage: python -m benchmarks.prompt_obedience OUT_DIR   (about 3 minutes on 2 CPU cores;
$VIDMUSICIAN_SAMPLES: the samples folder when it is not ../shared/samples)

A timeline of three real clips from ../shared/samples/media (bikes 0-4 s, counter 0-3 s, testvideo
0-4 s, 1 s gaps) is scored cue by cue (`--cues per-clip`, seed 1, the in-process engine, as
`vm-editor score --in-process` runs it) once per prompt. Each cue's tokens (.npy beside its WAV)
are read back: the styles its style stream plays (STREAMS index 4), the onsets of streams 0-3,
and for a named tempo the tempo of the step grid its onsets sit on, read from the tokens alone by
`tempo_grid.fit_to_onsets` (the reader a continued cue uses) over +-30 % of the named tempo. The
rows go to OUT_DIR/rows.json, the summary to stdout. Not part of `make bench` (it scores ~100 cues).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import opentimelineio as otio

# ../shared/samples beside the repository (as tests/conftest.py), or $VIDMUSICIAN_SAMPLES
SAMPLES = Path(
    os.environ.get("VIDMUSICIAN_SAMPLES", Path(__file__).resolve().parents[2] / "shared" / "samples")
)
MEDIA = SAMPLES / "media"
CLIPS = (("bikes", 4, 10), ("counter", 3, 3), ("testvideo", 4, 24))  # name, seconds used, media seconds
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
MOOD_WORDS = ["tense", "action", "sad", "uplifting", "comedy", "romantic", "dreamy"]
TEMPI = ["jazz 120 bpm", "piano 72 bpm", "electronic 128 bpm", "indie rock 100 bpm", "ambient 66 bpm"]
ENERGY_PAIRS = [
    ("energy low", "energy high"),
    ("indie rock, energy low", "indie rock, energy high"),
    ("jazz, calm", "jazz, energetic"),
    ("sad", "sad, energetic"),
]
PROMPTS = [
    None,
    *STYLE_WORDS,
    *EDITOR_WORDS,
    *MOOD_WORDS,
    *TEMPI,
    *(p for pair in ENERGY_PAIRS for p in pair),
]


def timeline(folder: Path) -> Path:
    RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for i, (name, seconds, media_s) in enumerate(CLIPS):
        if i:
            track.append(otio.schema.Gap(source_range=TR(RT(0, RATE), RT(RATE, RATE))))
        media = otio.schema.ExternalReference(
            target_url=(MEDIA / f"{name}.mp4").as_uri(),
            available_range=TR(RT(0, RATE), RT(round(media_s * RATE), RATE)),
        )
        track.append(
            otio.schema.Clip(
                name=name, media_reference=media, source_range=TR(RT(0, RATE), RT(seconds * RATE, RATE))
            )
        )
    path = folder / "three.otio"
    otio.adapters.write_to_file(otio.schema.Timeline(name="three", tracks=[track]), str(path))
    return path


def grid_bpm(tokens: np.ndarray, named: float, meter) -> float:
    from engine.generator.tempo_grid import Meter, fit_to_onsets

    onsets = np.flatnonzero((tokens[:4] >= 2).any(0))
    grid = fit_to_onsets(onsets, Meter((named / 1.3, named * 1.3), meter.steps_per_beat, meter.beats_per_bar))
    return float("nan") if grid is None else grid.bpm


def measure(out: Path) -> list[dict]:
    from engine.generator.music_generator import MusicGenerator
    from engine.in_process import InProcessEngine
    from engine.symbolic.score import STREAMS, STYLES
    from vm_editor.scoring import build_request, plan_cues
    from vm_editor.timeline_io import read_timeline

    out.mkdir(parents=True, exist_ok=True)
    path = timeline(out)
    scenes = plan_cues(read_timeline(path), mode="per-clip", timeline_path=path)
    generator, engine = MusicGenerator.load("tiny"), InProcessEngine()
    rows, started = [], time.monotonic()
    for i, prompt in enumerate(PROMPTS):
        request = build_request(
            scenes, cue_dir=str(out / f"p{i:02d}"), seed=1, prompt=prompt, score_name="three"
        )
        result = engine.score(request)
        intent = generator.prompt_intent(prompt)
        for cue, (clip, _, _) in zip(result.cues, CLIPS, strict=True):
            tokens = np.load(cue.tokens_path)
            row = {
                "prompt": prompt,
                "clip": clip,
                "named_style": intent.style,
                "energy": intent.energy,
                "styles": sorted({STYLES[s] for s in tokens[STREAMS.index("style")]}),
                "onsets": int((tokens[:4] >= 2).sum()),
                "warnings": list(result.warnings),
            }
            if intent.tempo_bpm is not None:
                row["named_bpm"] = intent.tempo_bpm
                row["grid_bpm"] = grid_bpm(tokens, intent.tempo_bpm, generator.style_meters[intent.style])
            rows.append(row)
        print(f"{time.monotonic() - started:5.0f} s  {prompt!r}", file=sys.stderr, flush=True)
    (out / "rows.json").write_text(json.dumps(rows, indent=1))
    return rows


def summary(rows: list[dict]) -> str:
    lines = []
    named = [r for r in rows if r["named_style"]]
    kept = [r for r in named if r["styles"] == [r["named_style"]]]
    lines.append(f"style obeyed: {len(kept)}/{len(named)} cues (the whole cue in the named style)")
    for r in rows:
        if r["prompt"] is None:
            lines.append(f"no prompt, {r['clip']}: {'/'.join(r['styles'])}")
    errors = []
    for r in rows:
        if "named_bpm" in r:
            error = 100 * (r["grid_bpm"] / r["named_bpm"] - 1)
            errors.append(abs(error))
            lines.append(f"tempo {r['prompt']!r}, {r['clip']}: {r['grid_bpm']:.2f} bpm ({error:+.2f} %)")
    lines.append(
        f"tempo within 2 %: {sum(e <= 2 for e in errors)}/{len(errors)} cues, worst {max(errors):.2f} %"
    )
    by = {(r["prompt"], r["clip"]): r["onsets"] for r in rows}
    for low, high in ENERGY_PAIRS:
        pairs = [(by[(low, c)], by[(high, c)]) for c, _, _ in CLIPS]
        each = ", ".join(
            f"{c} {h}/{lo_} = {h / max(lo_, 1):.2f}x"
            for (c, _, _), (lo_, h) in zip(CLIPS, pairs, strict=True)
        )
        lines.append(f"onsets {high!r} / {low!r}: {each}")
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(summary(measure(Path(sys.argv[1]))))
