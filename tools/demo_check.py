"""`make demo`'s second half: is the demo's score music? (`python -m tools.demo_check out/demo`)

Measuring is evaluation (`engine.eval.score_check`), which the product never imports; so the demo
scores and this tool, run after it by `make demo`, reads the scored timeline it wrote: the cue
WAVs at their record starts mixed into one signal, its spectrogram with the cuts in red, its
flatness and rhythmicity beside the calibration ranges (DESIGN.md §3), and each cue measured as
the owner measures a score.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import opentimelineio as otio

from engine.eval.score_check import describe_score
from vm_editor.media_links import url_to_path
from vm_editor.writeback import score_track

# What the measures read on calibration audio (DESIGN.md §3: CC music against drone, buzz, noise)
MUSIC_FLATNESS, BUZZ_FLATNESS, NOISE_FLATNESS = "0.001-0.008", "0.27-0.41", 0.56
MUSIC_RHYTHMICITY, NOISE_RHYTHMICITY = "0.37-0.47", "0.08-0.13"


def score_overview(scored_path: Path, png: Path) -> dict:
    """The score track of `scored_path` as one signal, with the picture's cuts (the record starts
    of its video clips after the first) marked on the spectrogram written to `png`."""
    timeline = otio.adapters.read_from_file(str(scored_path))
    track = score_track(timeline, scored_path)
    if track is None:
        raise SystemExit(f"error: {scored_path} has no score track; run the demo again")
    cues = [
        (
            str(url_to_path(clip.media_reference.target_url, scored_path.parent)),
            clip.range_in_parent().start_time.to_seconds(),
        )
        for clip in track.find_clips(shallow_search=True)
    ]
    video = next(iter(timeline.video_tracks()), None)
    cuts_s = (
        [c.range_in_parent().start_time.to_seconds() for c in video.find_clips(shallow_search=True)][1:]
        if video
        else []
    )
    return describe_score(cues, cuts_s, str(png), f"make demo: {scored_path.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo_check", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, nargs="?", default=Path("out/demo"), help="the demo's --out folder")
    args = parser.parse_args(argv)
    scored_path = args.out / "bikes_demo.scored.otio"
    if not scored_path.is_file():
        print(
            f"error: {scored_path} is missing; run `python -m vm_editor.demo --out {args.out}` first",
            file=sys.stderr,
        )
        return 2
    png = args.out / "score_spectrogram.png"
    check = score_overview(scored_path, png)
    flatness, pulse = check["spectral_flatness"], check["rhythmicity"]
    print(
        f"score: spectral flatness {flatness:.3f} (music {MUSIC_FLATNESS}, a codec buzz "
        f"{BUZZ_FLATNESS}, white noise {NOISE_FLATNESS}); rhythmicity {pulse:.2f} (music "
        f"{MUSIC_RHYTHMICITY}, white noise {NOISE_RHYTHMICITY}); spectrogram with the cuts in red: {png.resolve()}"
    )
    for number, cue in enumerate(check["cues"]):
        verdict = "music" if not cue["fails"] else "FAILS: " + ", ".join(cue["fails"])
        print(
            f"cue {number}: {cue['channels']} ch {cue['sample_rate'] / 1000:g} kHz, flatness "
            f"{cue['flatness']:.3f}, bandwidth {cue['bandwidth'] / 1000:.1f} kHz, chroma movement "
            f"{cue['chroma_move']:.2f}, rhythmicity {cue['rhythm']:.2f}: {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
