"""`vm-train`: the training tools' command line (DESIGN.md §7). A thin layer over engine.train.

vm-train synth --out DIR --count N --seed S [--split train|val|heldout]   write a corpus
vm-train check DIR [--split S] [--limit N] [--json]                          verify its truth
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from engine.errors import EngineInputError
from engine.train.splits import SPLITS


def _synth(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.train.synth import SynthConfig, synth_corpus

    config = SynthConfig(
        min_duration_s=args.min_duration,
        max_duration_s=args.max_duration,
        fps=args.fps,
        size=args.size,
        sample_rate=args.sample_rate,
        audio_format=args.audio_format,
    ).validate()
    with tqdm(total=args.count, desc=f"synth {args.split}", unit="clip", disable=args.quiet) as bar:
        skipped_count = [0]

        def progress(_i: int, skipped: bool) -> None:
            skipped_count[0] += skipped
            bar.set_postfix(already_there=skipped_count[0], refresh=False)
            bar.update(1)

        result = synth_corpus(args.out, args.count, args.seed, args.split, config, progress)
    print(json.dumps(result))
    return 0


def _check(args: argparse.Namespace) -> int:
    from engine.train.corpus_check import check_corpus

    report = check_corpus(args.root, split=args.split, limit=args.limit)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"{report['items']} items: music onset F (+-70 ms) mean {report['music_f_mean']:.3f} "
            f"min {report['music_f_min']:.3f}; video spike F mean {report['video_f_mean']:.3f} "
            f"min {report['video_f_min']:.3f}"
        )
    return 0


def _codec(args: argparse.Namespace) -> int:
    import torch

    from engine.train.codec import CodecTrainConfig, train_codec

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = CodecTrainConfig(
        batch=args.batch,
        segment_s=args.segment,
        lr=args.lr,
        seed=args.seed,
        checkpoint_every=args.checkpoint_every,
    )
    print(json.dumps(train_codec(args.out, args.steps, resume=args.resume, cfg=cfg)))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vm-train", description="VidMusician training tools")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="write (or complete) a procedural video-music corpus")
    synth.add_argument("--out", required=True, help="corpus folder (created; resumable)")
    synth.add_argument("--count", type=int, required=True, help="number of items")
    synth.add_argument("--seed", type=int, default=0, help="first item index in the split's seed range")
    synth.add_argument("--split", choices=SPLITS, default="train")
    synth.add_argument("--min-duration", type=float, default=4.0, help="seconds (default 4)")
    synth.add_argument("--max-duration", type=float, default=10.0, help="seconds (default 10)")
    synth.add_argument("--fps", type=int, default=25)
    synth.add_argument("--size", type=int, default=160, help="frame width = height in pixels")
    synth.add_argument("--sample-rate", type=int, default=16000, help="16000 (tiny codec) or 32000")
    synth.add_argument("--audio-format", choices=("wav", "flac"), default="wav")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=_synth)

    check = sub.add_parser("check", help="verify a corpus: music onsets and frame spikes on its events")
    check.add_argument("root", help="corpus folder or manifest.jsonl")
    check.add_argument("--split", choices=SPLITS, default=None)
    check.add_argument("--limit", type=int, default=20, help="items to check (default 20)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_check)

    codec = sub.add_parser("codec", help="stage 0: train the tiny codec on fresh synthetic music")
    codec.add_argument("--out", required=True, help="folder for checkpoint.pt and metrics.jsonl")
    codec.add_argument("--steps", type=int, required=True, help="total steps to reach")
    codec.add_argument("--resume", action="store_true", help="continue out/checkpoint.pt exactly")
    codec.add_argument("--batch", type=int, default=8)
    codec.add_argument("--segment", type=float, default=1.0, help="seconds per training crop")
    codec.add_argument("--lr", type=float, default=3e-4)
    codec.add_argument("--seed", type=int, default=0)
    codec.add_argument("--checkpoint-every", type=int, default=50)
    codec.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    codec.set_defaults(func=_codec)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING, format="%(message)s")
    try:
        return int(args.func(args) or 0)
    except EngineInputError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
