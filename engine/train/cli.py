"""`vm-train`: the training tools' command line (DESIGN.md §7). A thin layer over engine.train.

vm-train synth --out DIR --count N --seed S [--split S]                      write a corpus
vm-train check DIR [--split S] [--limit N] [--json]                          verify its truth
vm-train prepare MANIFEST --out SHARDS [--preset tiny]                       features + tokens
vm-train real-music --out SHARDS [--limit N]                                  music21 works -> stage-0 shards
vm-train stage0-lm --data SHARDS --out DIR --steps N                         tiny LM + T5 from scratch
                   [--real-data REAL_SHARDS --real-share 0.3]                 ... mixed with real music
vm-train stage1 --data SHARDS --out DIR --steps N [--backbone DIR]           semantic path
vm-train stage2 --data SHARDS --out DIR --steps N --init STAGE1_OUT          rhythm path
vm-train tiny --out DIR [--resume] [--budget-minutes M] [--variant V]          the whole tiny preset
              [--real-music SHARE]                                            stage 0 mixed with real music
(stages run under torchrun for several processes / GPUs / nodes)
"""

from __future__ import annotations

import argparse
import json
import sys

from engine.corpus.splits import SPLITS
from engine.errors import run_command

# The shipped tiny model's stage 0 draws this share of its batch rows from real music
# (docs/real-music.md); `vm-train tiny` with no --real-music reproduces it.
REAL_MUSIC_SHARE = 0.15


def _synth(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.corpus.clips import ClipConfig, synth_corpus

    config = ClipConfig(
        min_duration_s=ClipConfig.min_duration_s if args.min_duration is None else args.min_duration,
        max_duration_s=ClipConfig.max_duration_s if args.max_duration is None else args.max_duration,
        size=args.size,
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
    from engine.corpus.corpus_check import check_corpus

    report = check_corpus(args.root, split=args.split, limit=args.limit)
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"{report['items']} items: hits with a strong accent mean {report['music_f_mean']:.3f} "
            f"min {report['music_f_min']:.3f}; video spike F mean {report['video_f_mean']:.3f} "
            f"min {report['video_f_min']:.3f}"
        )
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from engine.corpus.manifest import read_manifest
    from engine.train.prepare import prepare_dataset

    total = len(read_manifest(args.manifest, split=args.split, check_files=False))
    with tqdm(total=total, desc="prepare", unit="item", disable=args.quiet) as bar:
        summary = prepare_dataset(
            args.manifest,
            args.out,
            preset=args.preset,
            split=args.split,
            shard_size=args.shard_size,
            cache_dir=args.cache_dir,
            max_duration_s=args.max_duration,
            on_skip=lambda line: tqdm.write(line, file=sys.stderr),
            progress=lambda: bar.update(1),
        )
    print(
        f"prepared {summary['prepared']}, already done {summary['already_done']}, "
        f"skipped {summary['skipped']} ({summary['items_total']} items in {summary['out']})",
        file=sys.stderr,
    )
    for item in summary["skipped_items"]:
        print(f"  skipped {item['video']}: {item['reason']}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


def _real_music(args: argparse.Namespace) -> int:
    from engine.corpus.repertories import REPERTORIES
    from engine.train.real_shards import prepare_real_music

    summary = prepare_real_music(
        args.out,
        seed=args.seed,
        limit=args.limit,
        repertories=tuple(args.repertory) if args.repertory else None,
        shard_size=args.shard_size,
        on_skip=lambda line: print(line, file=sys.stderr),
        progress=None if args.quiet else lambda piece_id: print(f"tokenized {piece_id}", file=sys.stderr),
    )
    for rep in (r for r in REPERTORIES if not r.admitted):
        print(f"excluded {rep.name}: {rep.licence.name} ({rep.licence.stated_in})", file=sys.stderr)
    print(
        f"{summary['works']} works, {summary['minutes']} min of music "
        f"({summary['items_total']} items in {summary['out']}); skipped {len(summary['skipped'])}",
        file=sys.stderr,
    )
    print(json.dumps(summary))
    return 0


def _generator_config(args: argparse.Namespace):
    from engine.generator.config import load_generator_config

    return load_generator_config(args.preset, file=args.config or None)


def _stage(args: argparse.Namespace) -> int:
    import torch

    from engine.train import distributed as dd
    from engine.train.loop import TrainConfig, train_stage
    from engine.train.mix import MixedShards
    from engine.train.shards import ShardDataset, ShardsError
    from engine.train.stages import build_stage_model

    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = TrainConfig(
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        weight_decay=args.weight_decay,
        warmup_steps=args.warmup,
        min_lr_ratio=args.min_lr_ratio,
        grad_clip=args.grad_clip,
        segment_s=args.segment,
        cond_dropout=args.cond_dropout,
        seed=args.seed,
        precision=args.precision,
        device=args.device,
        train_semantic=getattr(args, "train_semantic", False),
        checkpoint_every=args.checkpoint_every,
        eval_every=args.eval_every,
        eval_batches=args.eval_batches,
    ).validate()
    real = getattr(args, "real_data", None)
    if (real is None) != (getattr(args, "real_share", None) is None):
        raise ShardsError("give --real-data and --real-share together (e.g. --real-share 0.3), or neither")
    gen_cfg = _generator_config(args)
    ctx = dd.init_distributed(cfg.device)
    try:
        sm = build_stage_model(
            args.command,
            gen_cfg,
            args.preset,
            backbone_dir=getattr(args, "backbone", None),
            init=getattr(args, "init", None),
        )
        train = ShardDataset(args.data, "train")
        if real is not None:
            train = MixedShards(train, ShardDataset(real, "train"), args.real_share)
        val = ShardDataset(args.data, "val") if cfg.eval_every > 0 else None
        result = train_stage(
            args.command, sm, train, cfg, args.out, val_data=val, resume=args.resume, ctx=ctx
        )
    finally:
        dd.shutdown(ctx)
    if ctx.is_main:
        print(json.dumps(result))
    return 0


def _tiny(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    import torch

    from engine.train.recipe import Recipe, estimated_minutes, folder_size_mb, plan_for_budget

    if args.threads:
        torch.set_num_threads(args.threads)
    plan = plan_for_budget(args.budget_minutes)
    print(
        f"plan for {args.budget_minutes:g} min (about {estimated_minutes(plan):.0f} min at the calibrated "
        f"costs on 2 cores): {json.dumps(asdict(plan))}",
        file=sys.stderr,
    )
    recipe = Recipe(
        args.out,
        plan,
        resume=args.resume,
        say=lambda line: print(line, file=sys.stderr),
        real_music_share=args.real_music,
    )
    folder = recipe.run(args.variant)
    size = folder_size_mb(folder)
    print(f"model folder {folder}: {size:.1f} MB; copy it to resources/models/tiny/", file=sys.stderr)
    print(
        json.dumps(
            {
                "model": str(folder),
                "size_mb": round(size, 2),
                "variant": args.variant,
                "steps": recipe.state["done"],
            }
        )
    )
    return 0


def _stage_parser(sub, name: str, help_text: str) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_text)
    p.add_argument("--data", required=True, help="shards folder written by `vm-train prepare`")
    p.add_argument(
        "--out", required=True, help="run folder: checkpoint.pt, metrics.jsonl, model/ (generator files)"
    )
    p.add_argument("--steps", type=int, required=True, help="total optimiser steps (the schedule's length)")
    p.add_argument("--resume", action="store_true", help="continue out/checkpoint.pt exactly")
    p.add_argument("--preset", default="tiny", help="preset whose generator.json and weights to use")
    p.add_argument("--config", default=None, help="a generator.json to use instead of the preset's")
    p.add_argument("--batch", type=int, default=8, help="global batch (split over torchrun processes)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=20, help="linear warmup steps before the cosine decay")
    p.add_argument("--min-lr-ratio", type=float, default=0.1, help="final lr as a fraction of --lr")
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--segment", type=float, default=4.0, help="seconds per training crop")
    p.add_argument("--cond-dropout", type=float, default=0.1, help="classifier-free guidance dropout")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--precision",
        choices=("auto", "fp32", "bf16", "fp16"),
        default="auto",
        help="auto: bf16 (or fp16 + GradScaler) on GPU, fp32 on CPU",
    )
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--checkpoint-every", type=int, default=50)
    p.add_argument("--eval-every", type=int, default=0, help="validation CE every N steps (0: never)")
    p.add_argument("--eval-batches", type=int, default=2)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    p.set_defaults(func=_stage)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vm-train", description="VidMusician training tools")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True)

    synth = sub.add_parser("synth", help="write (or complete) a corpus of composed multi-shot clips")
    synth.add_argument("--out", required=True, help="corpus folder (created; resumable)")
    synth.add_argument("--count", type=int, required=True, help="number of items")
    synth.add_argument("--seed", type=int, default=0, help="first item index in the split's seed range")
    synth.add_argument("--split", choices=SPLITS, default="train")
    synth.add_argument("--min-duration", type=float, help="seconds (default 6)")
    synth.add_argument("--max-duration", type=float, help="seconds (default 12)")
    synth.add_argument("--size", type=int, default=160, help="frame width = height in pixels")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=_synth)

    check = sub.add_parser("check", help="verify a corpus: score accents and frame spikes on its cuts")
    check.add_argument("root", help="corpus folder or manifest.jsonl")
    check.add_argument("--split", choices=SPLITS, default=None)
    check.add_argument("--limit", type=int, default=20, help="items to check (default 20)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=_check)

    prep = sub.add_parser(
        "prepare", help="manifest -> training shards (features + score or codec tokens), resumable"
    )
    prep.add_argument("manifest", help="manifest.jsonl or the corpus folder holding it")
    prep.add_argument("--out", required=True, help="shards folder (created; resumable)")
    prep.add_argument("--preset", default="tiny", help="preset whose visual tower and tokens to use")
    prep.add_argument("--split", choices=SPLITS, default=None, help="only this split")
    prep.add_argument("--shard-size", type=int, default=64, help="items per shard file")
    prep.add_argument("--cache-dir", default=None, help="feature cache folder (default: the engine's)")
    prep.add_argument("--max-duration", type=float, default=None, help="keep at most this many seconds")
    prep.add_argument("--quiet", action="store_true", help="no progress bar")
    prep.set_defaults(func=_prepare)

    real = sub.add_parser(
        "real-music", help="the music21 works whose licence allows it -> stage-0 shards (no pictures)"
    )
    real.add_argument("--out", required=True, help="shards folder (created; resumable)")
    real.add_argument("--limit", type=int, default=None, help="at most this many pieces per repertory")
    real.add_argument("--seed", type=int, default=0, help="draws each piece's tempo and key")
    real.add_argument(
        "--repertory", action="append", default=None, help="only this admitted repertory (repeatable)"
    )
    real.add_argument("--shard-size", type=int, default=64, help="items per shard file")
    real.add_argument("--quiet", action="store_true", help="no line per piece")
    real.set_defaults(func=_real_music)

    s0 = _stage_parser(sub, "stage0-lm", "stage 0: the builtin LM + small T5 from scratch on text tags")
    s0.add_argument("--real-data", default=None, help="real-music shards (`vm-train real-music`) to mix in")
    s0.add_argument(
        "--real-share", type=float, default=None, help="share of each batch drawn from --real-data, in (0, 1)"
    )
    s1 = _stage_parser(sub, "stage1", "stage 1: semantic path (Embedding Manager, T5 LoRA, projector)")
    s1.add_argument(
        "--backbone",
        default=None,
        help="backbone folder in MusicGen's layout, e.g. a stage0-lm run's model/ "
        "(default: the preset's weights)",
    )
    s2 = _stage_parser(sub, "stage2", "stage 2: rhythm path (zero-init in-attention) on stage 1")
    s2.add_argument("--init", required=True, help="the stage-1 run folder (or its adapters.safetensors)")
    s2.add_argument("--backbone", default=None, help="backbone folder (as given to stage1)")
    s2.add_argument("--train-semantic", action="store_true", help="keep training the semantic adapters too")

    tiny = sub.add_parser("tiny", help="the tiny preset end to end (synth, prepare, stages), resumable")
    tiny.add_argument("--out", required=True, help="run folder (every step's output and the model folder)")
    tiny.add_argument(
        "--resume", action="store_true", help="continue a run folder: complete steps are skipped"
    )
    tiny.add_argument(
        "--budget-minutes",
        type=float,
        default=50.0,
        help="time for the two-stage recipe on 2 CPU cores (50: the model shipped in resources/models/tiny)",
    )
    tiny.add_argument(
        "--variant",
        choices=("two-stage", "one-stage", "cls-rhythm"),
        default="two-stage",
        help="two-stage (the product), or an ablation: one-stage, cls-rhythm (rhythm from CLS similarity)",
    )
    tiny.add_argument(
        "--real-music",
        type=float,
        default=REAL_MUSIC_SHARE,
        metavar="SHARE",
        help=f"share of stage 0's batches drawn from the admitted music21 works (default "
        f"{REAL_MUSIC_SHARE}: the shipped model's recipe; 0: the composer alone)",
    )
    tiny.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    tiny.set_defaults(func=_tiny)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
