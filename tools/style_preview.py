"""Hear and see a style: `python -m tools.style_preview --style jazz_trio --out out/jazz.png`.

The render (`engine.symbolic.preview.demo_score`) drawn as a spectrogram and measured as the owner
measures music (`engine.eval.music_measures`); a tool, because the engine never imports eval.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from engine.eval.music_measures import failures, music_measures
from engine.symbolic.preview import demo_score, spectrogram_png
from engine.symbolic.renderer import render
from engine.symbolic.score import STYLES
from engine.timebase import CUE_SAMPLE_RATE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.style_preview", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--style", choices=STYLES, default="cinematic_strings")
    parser.add_argument("--bars", type=int, default=4)
    parser.add_argument("--bpm", type=float, default=100.0)
    parser.add_argument("--out", type=Path, required=True, help="the spectrogram PNG")
    parser.add_argument("--wav", type=Path, help="also write the render here")
    args = parser.parse_args(argv)
    score = demo_score(args.style, args.bars, args.bpm)
    began = time.perf_counter()
    audio = render(score)
    took = time.perf_counter() - began
    m = music_measures(audio, CUE_SAMPLE_RATE)
    spectrogram_png(audio, CUE_SAMPLE_RATE, args.out, f"{args.style}: {score.duration_s:.1f} s")
    if args.wav:
        import soundfile as sf

        args.wav.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(args.wav), audio.T, CUE_SAMPLE_RATE)
    print(
        f"{args.style}: flatness {m['flatness']:.4f}, bandwidth {m['bandwidth'] / 1000:.1f} kHz, rhythmicity "
        f"{m['rhythm']:.2f}, chroma movement {m['chroma_move']:.3f}, centroid {m['centroid']:.0f} Hz, "
        f"rendered {score.duration_s / took:.0f}x real time; {', '.join(failures(m)) or 'passes'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
