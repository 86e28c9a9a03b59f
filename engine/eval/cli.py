"""`vm-eval`: score model folders / presets on held-out synthetic clips and real footage.

vm-eval MODEL... [--heldout-dir CORPUS] [--heldout N] [--real VIDEO]... [--real-music AUDIO]...
        [--no-real] [--out DIR] [--docs DIR] [--json]

MODEL is `[LABEL=][backbone-only:|style-text:]FOLDER_OR_PRESET` (see engine.eval.models). By
default the real footage is the first 20 s of ../shared/samples/media/{testvideo,bikes}.mp4 and the
real music (only used to score a neural codec) its *.ogg files, when present. Without
--heldout-dir, N held-out clips of the composed corpus are synthesised under OUT/corpus. Writes
OUT/eval.json, OUT/eval.md, and under --docs the spectrogram PNGs and three short OGG example cues;
prints the markdown tables (or, with --json, the JSON report).

The ablation table of the paper, from one `vm-train tiny` run folder RUN (each variant trained with
`vm-train tiny --out RUN --resume --variant ...`):
    vm-eval "backbone only=backbone-only:RUN/model-two-stage" "style text=style-text:RUN/model-two-stage" \
        "stage 1 only=RUN/model-stage1-only" "stages 1+2=RUN/model-two-stage" \
        "one-stage=RUN/model-one-stage" "CLS rhythm=RUN/model-cls-rhythm" --heldout-dir RUN/corpus --heldout 50
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from engine.errors import EngineInputError

DEFAULT_SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "media"
REAL_VIDEOS = ("testvideo.mp4", "bikes.mp4")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="vm-eval",
        description="VidMusician evaluation (style, accents on cuts, beat, tempo, music measures)",
    )
    p.add_argument("models", nargs="+", help="[LABEL=][backbone-only:]FOLDER_OR_PRESET")
    p.add_argument(
        "--heldout-dir", default=None, help="corpus folder with a heldout split (default: synthesise)"
    )
    p.add_argument("--heldout", type=int, default=10, help="number of held-out synthetic clips")
    p.add_argument("--real", action="append", default=None, help="real footage (repeatable)")
    p.add_argument(
        "--real-music", action="append", default=None, help="real music to score a neural codec (repeatable)"
    )
    p.add_argument("--no-real", action="store_true", help="skip real footage and real music")
    p.add_argument("--real-max-seconds", type=float, default=20.0)
    p.add_argument("--samples", default=str(DEFAULT_SAMPLES), help="folder of the real samples")
    p.add_argument("--classifier-train", type=int, default=200, help="corpus train clips for the style judge")
    p.add_argument("--classifier-heldout", type=int, default=50, help="held-out clips to measure the judge")
    p.add_argument(
        "--takes",
        default="hits,alone,free,prompted",
        help="takes of the full models: hits (always), alone (hit points off), free (hit points and "
        "tempo grid off: the LM's own timing), prompted (another style's caption)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="out/eval", help="folder for eval.json, eval.md and caches")
    p.add_argument("--docs", default="docs", help="folder for the PNG plots and OGG examples")
    p.add_argument("--json", action="store_true", help="print the JSON report instead of the table")
    p.add_argument("--debug", action="store_true")
    return p


def _real_inputs(args) -> tuple[tuple[Path, ...], tuple[Path, ...], Path | None]:
    if args.no_real:
        return (), (), None
    samples = Path(args.samples)
    videos = [Path(v) for v in args.real] if args.real else [samples / n for n in REAL_VIDEOS]
    music = [Path(m) for m in args.real_music] if args.real_music else sorted(samples.glob("*.ogg"))
    missing = [str(p) for p in [*videos, *music] if not p.is_file()]
    if args.real and missing:
        raise EngineInputError(
            f"real media not found: {', '.join(missing)}; pass existing files or --no-real"
        )
    if missing:
        logging.getLogger(__name__).warning(
            "real samples missing (%s); evaluating without them", ", ".join(missing)
        )
    videos = [p for p in videos if p.is_file()]
    music = [p for p in music if p.is_file()]
    csv = samples / "testvideo_scenes.csv"
    return tuple(videos), tuple(music), csv if csv.is_file() else None


def _takes(text: str) -> tuple[str, ...]:
    from engine.eval.evaluate import TAKES

    takes = tuple(t.strip() for t in text.split(",") if t.strip())
    unknown = [t for t in takes if t not in TAKES]
    if unknown:
        raise EngineInputError(
            f"--takes {text!r}: unknown {', '.join(unknown)}; use some of {', '.join(TAKES)}"
        )
    return takes


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    try:
        from engine.eval.evaluate import EvalConfig, run_evaluation
        from engine.eval.models import parse_spec
        from engine.eval.report import json_safe, markdown_table, write_examples, write_plots

        specs = [parse_spec(s) for s in args.models]
        videos, music, csv = _real_inputs(args)
        if args.heldout < 1:
            raise EngineInputError(f"--heldout {args.heldout}: use at least 1 clip")
        out = Path(args.out)
        cfg = EvalConfig(
            work_dir=out,
            heldout_dir=Path(args.heldout_dir) if args.heldout_dir else None,
            heldout_count=args.heldout,
            real_videos=videos,
            real_music=music,
            real_max_s=args.real_max_seconds,
            seed=args.seed,
            classifier_train=args.classifier_train,
            classifier_heldout=args.classifier_heldout,
            device=args.device,
            takes=_takes(args.takes),
        )
        report = run_evaluation(specs, cfg, csv)
        report["plots"] = write_plots(report, Path(args.docs))
        report["examples"] = write_examples(report, Path(args.docs))
        table = markdown_table(report)
        doc = json_safe(report)
        (out / "eval.json").write_text(json.dumps(doc, indent=1))
        (out / "eval.md").write_text(table)
    except EngineInputError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(doc) if args.json else table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
