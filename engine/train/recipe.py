"""`vm-train tiny`: the tiny preset end to end, in one resumable command sized by a time budget.

Steps (each skipped when complete, resumed when interrupted; state in OUT/recipe.json):
  synth     corpus: train / val / heldout splits of composed multi-shot clips (OUT/corpus)
  prepare   features (CLS, patch rhythm, cue channel) + the scores' exact tokens (OUT/shards)
  real-music (only with --real-music SHARE > 0) the admitted music21 works' tokens (OUT/shards-real)
  stage0-lm the LM and small T5 from scratch on the style captions (OUT/stage0-lm); with a real-music
            share, that share of its batch rows are real pieces (engine/train/mix.py)
  stage1    semantic path on the frozen backbone (OUT/stage1)
  stage2    rhythm path on stage 1 (OUT/stage2)                       -> OUT/model-two-stage
                                                  (and OUT/model-stage1-only, the ablation's row)
Ablation variants (the same shared steps, then their own):
  one-stage   semantic + rhythm together from scratch on the frozen backbone (OUT/one-stage)
  cls-rhythm  shards whose rhythm channel is 1 − cos(CLS_t, CLS_{t−1}) (OUT/shards-cls), then stage 2
              on stage 1 with it (OUT/stage2-cls)
The assembled folder (OUT/model-<variant>) holds the generator's files plus generator.json,
recipe.json, prompt_words.json (the caption words the text encoder knows), style_meters.json and
prompt_vocabulary.json (the editor words mapped to styles, moods and energy); copy it to
resources/models/tiny/ (or $VIDMUSICIAN_MODELS_DIR/tiny/).

The tiny backbone predicts symbolic tokens rendered through a soundfont (DESIGN §3): the corpus
is composed, so its tokens are exact and there is no codec to train.

Step sizes come from the budget (minutes of the two-stage recipe on 2 CPU cores) through the
per-unit costs measured here (COSTS); a given budget always yields the same plan, so the shared
steps of the variants are reused exactly.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.corpus.moods import MOODS, decoder_play
from engine.corpus.style_forms import style_forms
from engine.corpus.style_meters import style_meters
from engine.corpus.styles import style
from engine.errors import EngineInputError
from engine.generator.form import STYLE_FORMS_FILE
from engine.generator.prompt_intent import VOCABULARY_FILE, prompt_vocabulary
from engine.generator.tempo_grid import STYLE_METERS_FILE
from engine.symbolic.score import STREAMS, STYLES

log = logging.getLogger(__name__)
VARIANTS = ("two-stage", "one-stage", "cls-rhythm")
STATE = "recipe.json"
PROMPT_WORDS = "prompt_words.json"
# Seconds per unit with 2 torch threads on a shared 2-core machine: a composed multi-shot clip
# (video frames + score), its preparation (image tower over the video; tokens are free), a stage-0
# step (batch 8 x 4 s; LM + T5 trained), an adapter step (stage 1 / 2, batch 8 x 4 s). Each step's
# real time is recorded in OUT/recipe.json.
COSTS = {"synth": 0.35, "prepare": 1.4, "lm": 0.45, "adapter": 0.35}
# Shares of the budget: data, LM, stage 1, stage 2. Data gets a large share because the LM
# over-fits a few hundred clips within 10 epochs.
SHARES = {"data": 0.35, "lm": 0.40, "stage1": 0.125, "stage2": 0.125}
ADAPTER_LR = 2e-3  # stages 1 and 2 (and one-stage)
STYLE_CODEBOOK = STREAMS.index("style")
STYLE_CHANGE_WEIGHT = 50.0  # objective.TokenObjective: the frames where the style is decided


class RecipeError(EngineInputError):
    """Recipe settings that cannot work (bad budget, variant, or a folder from another plan)."""


@dataclass(frozen=True)
class RecipePlan:
    budget_minutes: float
    train_clips: int
    val_clips: int
    heldout_clips: int
    clip_min_s: float
    clip_max_s: float
    lm_steps: int
    stage1_steps: int
    stage2_steps: int
    batch: int
    segment_s: float


def plan_for_budget(minutes: float) -> RecipePlan:
    """Clip counts and step counts that fill `minutes` on 2 cores (at least a handful of each)."""
    if not 0 < minutes <= 24 * 60:
        raise RecipeError(f"--budget-minutes {minutes}: use a number of minutes in (0, 1440]")
    seconds = minutes * 60.0
    small = minutes < 10  # smoke runs: short clips, small batches
    batch, segment = (2, 2.0) if small else (8, 6.0)
    # step costs were measured at batch 8 x 4 s; a smaller batch is not counted as cheaper (fixed
    # per-step overheads dominate it), so a smoke budget gives a handful of steps, not hundreds
    scale = max(1.0, batch * segment / 32.0)
    clips = int(seconds * SHARES["data"] / (COSTS["synth"] + COSTS["prepare"]))
    train = max(4, int(clips * 0.9))
    val = max(1, clips // 20)
    return RecipePlan(
        budget_minutes=minutes,
        train_clips=train,
        val_clips=val,
        heldout_clips=max(2, min(50, clips // 20)),
        clip_min_s=4.0 if small else 6.5,
        clip_max_s=5.0 if small else 12.0,
        lm_steps=max(3, int(seconds * SHARES["lm"] / (COSTS["lm"] * scale))),
        stage1_steps=max(3, int(seconds * SHARES["stage1"] / (COSTS["adapter"] * scale))),
        stage2_steps=max(3, int(seconds * SHARES["stage2"] / (COSTS["adapter"] * scale))),
        batch=batch,
        segment_s=segment,
    )


def estimated_minutes(plan: RecipePlan) -> float:
    """The plan's cost in minutes at COSTS (what the budget was divided by)."""
    scale = max(1.0, plan.batch * plan.segment_s / 32.0)
    clips = plan.train_clips + plan.val_clips
    seconds = (
        (clips + plan.heldout_clips) * COSTS["synth"]
        + clips * COSTS["prepare"]
        + plan.lm_steps * COSTS["lm"] * scale
        + (plan.stage1_steps + plan.stage2_steps) * COSTS["adapter"] * scale
    )
    return seconds / 60.0


class Recipe:
    """The recipe's steps over one output folder; `run(variant)` does what is not done yet.

    `real_music_share`: the share of stage 0's batch rows drawn from real music (0: the composer
    only, as the shipped model was trained; off until a retrain with it is measured). Preparing the
    real music takes about a minute and is not part of the budget."""

    def __init__(
        self, out: str | Path, plan: RecipePlan, resume: bool = False, say=None, real_music_share: float = 0.0
    ):
        if not 0.0 <= real_music_share < 1.0:
            raise RecipeError(f"--real-music {real_music_share}: use a share in [0, 1), e.g. 0.3 (0: off)")
        self.out = Path(out)
        self.plan = plan
        self.real_music_share = float(real_music_share)
        self.say = say or log.info
        path = self.out / STATE
        if path.is_file():
            state = json.loads(path.read_text())
            if state["plan"] != asdict(plan):
                raise RecipeError(
                    f"{path}: made with another plan ({state['plan']['budget_minutes']} min budget); "
                    "use the same --budget-minutes or another --out"
                )
            if state.get("real_music_share", 0.0) != self.real_music_share:
                raise RecipeError(
                    f"{path}: made with --real-music {state.get('real_music_share', 0.0)}; "
                    "use the same share or another --out"
                )
            if not resume:
                raise RecipeError(f"{path} exists; pass --resume to continue it or choose another --out")
            self.state = state
        else:
            self.out.mkdir(parents=True, exist_ok=True)
            self.state = {"plan": asdict(plan), "done": {}}
            if self.real_music_share:
                self.state["real_music_share"] = self.real_music_share
            self._save()

    def _save(self) -> None:
        tmp = self.out / (STATE + ".part")
        tmp.write_text(json.dumps(self.state, indent=1))
        tmp.replace(self.out / STATE)

    def _step(self, name: str, fn) -> None:
        if name in self.state["done"]:
            self.say(f"{name}: already complete, skipped")
            return
        t0 = time.perf_counter()
        self.say(f"{name}: running")
        info = fn() or {}
        self.state["done"][name] = {"seconds": round(time.perf_counter() - t0, 1), **info}
        self._save()
        self.say(f"{name}: done in {self.state['done'][name]['seconds']} s")

    # -- shared steps --------------------------------------------------------------------------
    def synth(self) -> dict:
        from engine.corpus.clips import ClipConfig, synth_corpus

        p = self.plan
        cfg = ClipConfig(min_duration_s=p.clip_min_s, max_duration_s=p.clip_max_s)
        for split, count in (("train", p.train_clips), ("val", p.val_clips), ("heldout", p.heldout_clips)):
            synth_corpus(self.out / "corpus", count, 0, split, cfg)
        return {"clips": p.train_clips + p.val_clips + p.heldout_clips}

    def prepare(self, target: str = "shards") -> dict:
        from engine.train.prepare import prepare_dataset

        counts = {}
        for split in ("train", "val"):
            s = prepare_dataset(
                self.out / "corpus",
                self.out / target,
                split=split,
                cache_dir=str(self.out / "feature-cache"),
            )
            counts[split] = s["prepared"] + s["already_done"]
        return counts

    def real_music(self) -> dict:
        """OUT/shards-real: the admitted music21 works on the grid (stage 0 only)."""
        from engine.train.real_shards import prepare_real_music

        s = prepare_real_music(self.out / "shards-real", on_skip=self.say)
        return {key: s[key] for key in ("works", "minutes", "mean_abs_step", "motif_recurrence")}

    def _train(self, stage: str, run: str, steps: int, data: str = "shards", **kw) -> dict:
        from engine.train.loop import CHECKPOINT, TrainConfig, train_stage
        from engine.train.mix import MixedShards
        from engine.train.shards import ShardDataset
        from engine.train.stages import build_stage_model

        train_as = kw.pop("train_as", stage)
        real_share = kw.pop("real_share", 0.0)
        train = ShardDataset(self.out / data, "train")
        if real_share > 0:
            train = MixedShards(train, ShardDataset(self.out / "shards-real", "train"), real_share)
        cfg = TrainConfig(
            steps=steps,
            # the adapters start from scratch (stage 0 trains the backbone at 1e-3): twice the rate
            lr=1e-3 if stage == "stage0-lm" else ADAPTER_LR,
            # the pictures decide the style on a crop's first frame of the style stream: weigh it
            change_codebook=None if stage == "stage0-lm" else STYLE_CODEBOOK,
            change_weight=STYLE_CHANGE_WEIGHT,
            batch=self.plan.batch,
            segment_s=self.plan.segment_s,
            warmup_steps=min(20, max(1, steps // 10)),
            checkpoint_every=max(25, steps // 20),
            eval_every=max(10, steps // 5),
            train_semantic=kw.pop("train_semantic", False),
        ).validate()
        sm = build_stage_model(stage, self.generator_config(), "tiny", **kw)
        folder = self.out / run
        result = train_stage(
            train_as,
            sm,
            train,
            cfg,
            folder,
            val_data=ShardDataset(self.out / data, "val"),
            resume=(folder / CHECKPOINT).exists(),
        )
        return {"loss": result["last"].get("loss"), "val_loss": result["last"].get("val_loss")}

    def prompt_words(self) -> list[str]:
        """Every word of the training captions: the generator warns about any other prompt word."""
        import re

        from engine.train.shards import ShardDataset

        words: set[str] = set()
        for item in ShardDataset(self.out / "shards", "train").items:
            words.update(re.findall(r"[a-z0-9]+", (item.text or "").lower()))
        return sorted(words)

    def generator_config(self):
        from engine.generator.config import load_generator_config

        return load_generator_config("tiny")

    def cls_shards(self) -> dict:
        """OUT/shards-cls: OUT/shards with rhythm channel 0 = the CLS-change curve of each video."""
        import numpy as np

        from engine.eval.visual import cls_change_curve
        from engine.timebase import TOKEN_RATE
        from engine.train.prepare import to_grid
        from engine.train.shards import PreparedItem, ShardDataset, ShardWriter, read_index

        src = self.out / "shards"
        index = read_index(src)
        writer = ShardWriter(self.out / "shards-cls", index["codec"], {**index["features"], "rhythm": "cls"})
        done = writer.done_ids()
        videos = {it["id"]: it["video"] for it in index["items"]}
        for split in ("train", "val"):
            for item in ShardDataset(src, split).items:
                if item.id in done:
                    continue
                frames = item.codes.shape[1]
                curve = cls_change_curve(videos[item.id], 0.0, item.duration_s)
                rhythm = item.rhythm.copy()
                rhythm[:, 0] = to_grid(curve[:, None], TOKEN_RATE, frames, float(index["codec"]["frame_rate"]))[
                    :, 0
                ]
                writer.add(
                    PreparedItem(
                        item.id,
                        item.split,
                        item.text,
                        item.cls,
                        rhythm.astype(np.float32),
                        item.codes,
                        item.duration_s,
                        videos[item.id],
                    )
                )
        writer.close()
        return {"items": len(writer.index["items"])}

    # -- the whole recipe ----------------------------------------------------------------------
    def run(self, variant: str = "two-stage") -> Path:
        if variant not in VARIANTS:
            raise RecipeError(f"--variant {variant!r}: use one of {', '.join(VARIANTS)}")
        p = self.plan
        backbone = self.out / "stage0-lm" / "model"
        self._step("synth", self.synth)
        self._step("prepare", self.prepare)
        if self.real_music_share > 0:
            self._step("real-music", self.real_music)
        self._step(
            "stage0-lm",
            lambda: self._train("stage0-lm", "stage0-lm", p.lm_steps, real_share=self.real_music_share),
        )
        if variant == "one-stage":
            self._step(
                "one-stage",
                lambda: self._train(
                    "stage1",
                    "one-stage",
                    p.stage1_steps + p.stage2_steps,
                    train_as="stage2",
                    train_semantic=True,
                    backbone_dir=backbone,
                ),
            )
            return self.assemble(variant, self.out / "one-stage" / "model", "patch")
        self._step("stage1", lambda: self._train("stage1", "stage1", p.stage1_steps, backbone_dir=backbone))
        if variant == "cls-rhythm":
            self._step("shards-cls", self.cls_shards)
            self._step(
                "stage2-cls",
                lambda: self._train(
                    "stage2",
                    "stage2-cls",
                    p.stage2_steps,
                    data="shards-cls",
                    backbone_dir=backbone,
                    init=self.out / "stage1",
                ),
            )
            return self.assemble(variant, self.out / "stage2-cls" / "model", "cls")
        self._step(
            "stage2",
            lambda: self._train(
                "stage2", "stage2", p.stage2_steps, backbone_dir=backbone, init=self.out / "stage1"
            ),
        )
        self.assemble("stage1-only", self.out / "stage1" / "model", "patch")
        return self.assemble(variant, self.out / "stage2" / "model", "patch")

    def assemble(self, variant: str, source: Path, rhythm_source: str) -> Path:
        """OUT/model-<variant>: the generator's weights as safetensors + generator.json + recipe.json
        (atomically)."""
        from engine.generator import backbone as bb
        from engine.generator.config import GENERATOR_FILE

        final = self.out / f"model-{variant}"
        tmp = self.out / f".model-{variant}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        bb.musicgen_to_safetensors(source, tmp)  # what ships: safetensors, no pickle
        for name in (bb.TEXT_ENCODER_FILE, bb.ADAPTERS_FILE):
            shutil.copyfile(source / name, tmp / name)
        (tmp / GENERATOR_FILE).write_text(json.dumps(asdict(self.generator_config()), indent=1))
        (tmp / PROMPT_WORDS).write_text(json.dumps(self.prompt_words()))
        (tmp / STYLE_METERS_FILE).write_text(json.dumps(style_meters(), indent=1))
        (tmp / STYLE_FORMS_FILE).write_text(json.dumps(style_forms(), indent=1))
        (tmp / VOCABULARY_FILE).write_text(json.dumps(model_vocabulary(), indent=1))
        (tmp / "recipe.json").write_text(
            json.dumps(
                {
                    "variant": variant,
                    "rhythm_source": rhythm_source,
                    "plan": self.state["plan"],
                    **({"real_music_share": self.real_music_share} if self.real_music_share else {}),
                    "steps": self.state["done"],
                },
                indent=1,
            )
        )
        shutil.rmtree(final, ignore_errors=True)
        tmp.replace(final)
        return final


def model_vocabulary() -> dict:
    """The editor-word table a model folder ships (`prompt_intent`), with each style's caption as
    the corpus wrote it (the text a named style is decoded under) and each mood's play as the
    composer plays it (`moods.decoder_play`)."""
    return prompt_vocabulary(
        {name: ", ".join(style(name).words) for name in STYLES}, {name: decoder_play(name) for name in MOODS}
    )


def folder_size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) / 1e6
