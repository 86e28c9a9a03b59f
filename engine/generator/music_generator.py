"""`MusicGenerator`: what the pipeline calls to turn one scene's features into music.

It loads a preset (backbone + adapters, or the stock backbone in zero-shot mode), checks the
inputs, puts every feature on the token grid and hands windows to `longform.render`. The result is
always exactly round(duration_s * sample_rate) samples.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from engine.api import CueKey, CueTempo
from engine.errors import GeneratorInputError, ModelNotFoundError, PresetError
from engine.generator import backbone as bb
from engine.generator.adapters import load_adapters, save_adapters
from engine.generator.config import BUILTIN, GeneratorConfig, load_generator_config
from engine.generator.cue_grid import StreamMasks, choose_grid, cue_form, style_change_frames
from engine.generator.decoding import Sampling
from engine.generator.form import StyleForm, read_style_forms
from engine.generator.grid_position import cue_segment, grid_features
from engine.generator.longform import render
from engine.generator.model import VidMusicianLM
from engine.generator.prompt_intent import PromptIntent, Vocabulary, unknown_words_warning
from engine.generator.semantic import SemanticPath, build_builtin_t5
from engine.generator.tempo_grid import (
    Meter,
    TempoGrid,
    read_style_meters,
)
from engine.generator.zeroshot import ZeroShotPrompter, build_prompt, tempo_from_rhythm
from engine.symbolic.score import STYLES
from engine.timebase import TOKEN_RATE as RHYTHM_FPS

log = logging.getLogger(__name__)

MAX_DURATION_S = 3600.0
_CACHE: dict[tuple[str, str, bool], MusicGenerator] = {}
_CACHE_LOCK = threading.Lock()


PROMPT_WORDS_FILE = "prompt_words.json"  # the words the text encoder was trained on (model folder)


@dataclasses.dataclass(frozen=True)
class GeneratedCue:
    """A cue's music and the tokens it was decoded from (saved beside the WAV: a later cue
    continues from them, since audio cannot be turned back into notes)."""

    audio: np.ndarray  # float32 [samples] (mono codec) or [samples, channels]
    tokens: np.ndarray  # int16 [K, frames] at the codec's frame rate
    sample_rate: int
    frame_rate: float
    stems: dict[str, np.ndarray] | None = None  # per sounding stream [samples, 2] (symbolic only)
    grid: TempoGrid | None = None  # the tempo grid its notes start on (symbolic, tempo lock on)
    key: CueKey | None = None  # the key its written form put it in (symbolic, with style forms)


def _default_device(device: str | None) -> str:
    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def build_model(cfg: GeneratorConfig, backbone: bb.Backbone, folder: Path | None) -> VidMusicianLM:
    """The adapters around `backbone`, freshly initialised (deterministically from `cfg.init_seed`)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.init_seed + 1)
        if cfg.backbone == BUILTIN:
            t5, tokenizer = build_builtin_t5(cfg.text_encoder, cfg.init_seed + 2)
            if folder is not None and (folder / bb.TEXT_ENCODER_FILE).is_file():
                from safetensors.torch import load_model

                load_model(t5, str(folder / bb.TEXT_ENCODER_FILE))
            projector_init = None
        else:
            cond = backbone.lm.condition_provider.conditioners["description"]
            t5, tokenizer, projector_init = cond.t5, cond.t5_tokenizer, cond.output_proj
        semantic = SemanticPath(
            t5,
            tokenizer,
            cfg.cls_dim,
            backbone.lm.dim,
            cfg.lora_rank,
            cfg.lora_alpha,
            cfg.lora_targets,
            projector_init=projector_init,
        )
        return VidMusicianLM(
            backbone.lm, semantic, cfg.rhythm_channels, cfg.rhythm_fraction, cfg.grid_channels
        ).eval()


def save_text_encoder(model: VidMusicianLM, cfg: GeneratorConfig, path: Path) -> None:
    """T5's own weights (LoRA left out) as a plain T5 checkpoint that `build_model` loads back.

    Written through a plain T5EncoderModel so tied tensors are saved the way transformers
    expects them; atomically, so a reader never sees half a file.
    """
    from safetensors.torch import save_model

    t5, _ = build_builtin_t5(cfg.text_encoder, cfg.init_seed + 2)
    state = {
        k.replace(".base_layer", ""): v for k, v in model.semantic.t5.state_dict().items() if "lora_" not in k
    }
    t5.load_state_dict(state)
    tmp = path.with_name(path.name + ".part")
    save_model(t5, str(tmp))
    tmp.replace(path)


class MusicGenerator:
    """One loaded preset. `trained` is False while any part is still a random initialisation."""

    def __init__(
        self,
        preset: str,
        cfg: GeneratorConfig,
        backbone: bb.Backbone,
        model: VidMusicianLM,
        trained: bool,
        zero_shot: bool = False,
        weights: str = "",
    ):
        self.preset = preset
        self.config = cfg
        self.backbone = backbone
        self.model = model
        self.trained = trained
        self.zero_shot = zero_shot
        self.weights = weights
        self.device = str(next(backbone.lm.parameters()).device)
        self.sample_rate: int = backbone.sample_rate
        self.frame_rate: float = backbone.frame_rate
        self.sampling = Sampling(cfg.sampling.temperature, cfg.sampling.top_k, cfg.sampling.cfg_coef)
        self.prompter: ZeroShotPrompter | None = None
        self._lock = threading.Lock()
        self.symbolic = bb.is_symbolic(cfg)
        self.prompt_words: frozenset[str] | None = None
        # style -> Meter (the model folder's style_meters.json); None: one default meter for all
        self.style_meters: dict[str, Meter] | None = None
        # style -> StyleForm (the model folder's style_forms.json); None: no written form
        self.style_forms: dict[str, StyleForm] | None = None
        # the editor words -> styles, moods, energy table (prompt_vocabulary.json); None: none
        self.vocabulary: Vocabulary | None = None
        self._masks = StreamMasks.for_card(int(backbone.lm.card)) if self.symbolic else None

    # -- loading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, preset: str = "tiny", device: str | None = None, zero_shot: bool = False) -> MusicGenerator:
        """The preset's generator, cached per (preset, device, mode); never downloads anything."""
        device = _default_device(device)
        key = (preset, device, zero_shot)
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = cls._load(preset, device, zero_shot)
            return _CACHE[key]

    @classmethod
    def _load(cls, preset: str, device: str, zero_shot: bool) -> MusicGenerator:
        # a trained model folder's own generator.json (the recipe writes one) describes its weights
        cfg = load_generator_config(preset, folder=bb.models_root() / preset)
        if device == "cpu" and cfg.cpu_threads:
            torch.set_num_threads(cfg.cpu_threads)
        return cls.from_preset_config(preset, cfg, device, zero_shot)

    @classmethod
    def from_preset_config(
        cls, preset: str, cfg: GeneratorConfig, device: str = "cpu", zero_shot: bool = False
    ) -> MusicGenerator:
        """Load `preset`'s weights (models folder / HF cache) for an already parsed config."""
        backbone, folder = bb.load_backbone(preset, cfg, device)
        if zero_shot:
            model = VidMusicianLM(backbone.lm, None, cfg.rhythm_channels, cfg.rhythm_fraction).eval()
            return cls(
                preset,
                cfg,
                backbone,
                model,
                trained=backbone.trained,
                zero_shot=True,
                weights=backbone.source,
            )
        model = build_model(cfg, backbone, folder)
        adapters = (folder or bb.models_root() / preset) / bb.ADAPTERS_FILE
        if adapters.is_file():
            load_adapters(model, adapters, backbone_id=preset)
            trained = backbone.trained
        elif cfg.backbone == BUILTIN:
            trained = False
        else:
            raise ModelNotFoundError(
                f"preset {preset!r}: VidMusician adapters not found at {adapters}; "
                f"train them with `vm-train` (or copy adapters.safetensors there), "
                "or use zero-shot mode with the stock model"
            )
        if not trained:
            log.warning(
                "preset %s: generator is not trained (%s); music will not follow the pictures",
                preset,
                backbone.source,
            )
        gen = cls(preset, cfg, backbone, model, trained=trained, weights=backbone.source)
        gen.read_model_notes(folder or bb.models_root() / preset)
        return gen

    def read_model_notes(self, folder: Path) -> None:
        """What a trained model folder says about its training beside the weights: the prompt
        words its text encoder knows (the unknown-word warning), its styles' meters (the
        tempo grid) and the editor words it maps to them (`prompt_intent`)."""
        import json

        words = Path(folder) / PROMPT_WORDS_FILE
        if words.is_file():
            self.prompt_words = frozenset(json.loads(words.read_text(encoding="utf-8")))
        self.style_meters = read_style_meters(Path(folder))
        self.style_forms = read_style_forms(Path(folder))
        self.vocabulary = Vocabulary.read(Path(folder))

    @classmethod
    def from_config(cls, cfg: GeneratorConfig, preset: str = "custom", device: str = "cpu") -> MusicGenerator:
        """A randomly initialised generator for a config (tests, benchmarks, training from scratch)."""
        backbone = bb.build_random(cfg, device)
        return cls(
            preset, cfg, backbone, build_model(cfg, backbone, None), trained=False, weights=backbone.source
        )

    def save_weights(self, folder: Path) -> None:
        """Write everything `load` reads back for a builtin preset: backbone in MusicGen's layout,
        the frozen text encoder and the adapters (what training writes to resources/models/<preset>)."""
        if self.config.backbone != BUILTIN:
            raise PresetError(
                f"preset {self.preset!r}: only adapters are ours to save; use adapters.save_adapters"
            )
        bb.save_musicgen_layout(self.backbone, self.config, folder)
        save_text_encoder(self.model, self.config, folder / bb.TEXT_ENCODER_FILE)
        save_adapters(self.model, folder / bb.ADAPTERS_FILE, backbone_id=self.preset)

    @property
    def hop(self) -> int:
        return int(round(self.sample_rate / self.frame_rate))

    def trainable_parameter_count(self) -> int:
        return sum(p.numel() for p in self.model.trainable_parameters())

    def set_text_encoder(self, encode_text: Callable[[list[str]], np.ndarray]) -> None:
        """Zero-shot mode: the CLIP text tower that matches the image embeddings given as cls_1fps."""
        self.prompter = ZeroShotPrompter(encode_text)

    # -- inputs --------------------------------------------------------------------------------
    def _check_duration(self, duration_s: float) -> int:
        if not (isinstance(duration_s, int | float) and math.isfinite(duration_s)) or duration_s <= 0:
            raise GeneratorInputError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
        if duration_s > MAX_DURATION_S:
            raise GeneratorInputError(
                f"duration_s={duration_s} is over {MAX_DURATION_S:.0f} s; split the scene"
            )
        n = int(round(duration_s * self.sample_rate))
        if n < 1:
            raise GeneratorInputError(
                f"duration_s={duration_s} is shorter than one sample at {self.sample_rate} Hz"
            )
        return n

    def _rhythm(self, rhythm: np.ndarray | None, frames: int) -> torch.Tensor | None:
        if rhythm is None:
            return None
        r = np.asarray(rhythm, dtype=np.float32)
        c = self.config.rhythm_channels
        if r.ndim == 1:
            r = np.concatenate([r[:, None], np.zeros((r.shape[0], c - 1), np.float32)], axis=1)
        if r.ndim != 2 or r.shape[1] != c:
            raise GeneratorInputError(
                f"rhythm_50hz must be [T] or [T, {c}] (patch rhythm, cue channel); "
                f"got shape {tuple(np.shape(rhythm))}"
            )
        if not np.isfinite(r).all():
            raise GeneratorInputError("rhythm_50hz contains NaN or infinite values; recompute the features")
        if r.shape[0] == 0:
            return None
        if abs(self.frame_rate - RHYTHM_FPS) > 1e-6:  # put the 50 Hz curve on this codec's frame grid
            t_src = np.arange(r.shape[0]) / RHYTHM_FPS
            t_dst = np.arange(frames) / self.frame_rate
            r = np.stack([np.interp(t_dst, t_src, r[:, i], right=0.0) for i in range(c)], axis=1)
        out = np.zeros((frames, c), np.float32)  # off-by-one lengths: pad with "no cue", trim the rest
        n = min(frames, r.shape[0])
        out[:n] = r[:n]
        return torch.from_numpy(out)

    def _cls(self, cls_1fps: np.ndarray | None) -> torch.Tensor | None:
        if cls_1fps is None:
            return None
        x = np.asarray(cls_1fps, dtype=np.float32)
        if x.ndim == 1:
            x = x[None]
        if x.ndim != 2 or x.shape[1] != self.config.cls_dim:
            raise GeneratorInputError(
                f"cls_1fps must be [N, {self.config.cls_dim}] for preset {self.preset!r}; "
                f"got shape {tuple(np.shape(cls_1fps))} (features from another preset?)"
            )
        if not np.isfinite(x).all():
            raise GeneratorInputError("cls_1fps contains NaN or infinite values; recompute the features")
        return torch.from_numpy(x) if x.shape[0] else None

    def _continuation(self, audio: np.ndarray | None) -> torch.Tensor | None:
        if audio is None:
            return None
        a = np.asarray(audio, dtype=np.float32)
        if a.ndim != 1 or not np.isfinite(a).all():
            raise GeneratorInputError(
                f"continuation must be finite mono audio [samples] at {self.sample_rate} Hz; "
                f"got shape {a.shape}"
            )
        ctx = int(self.config.context_s * self.frame_rate) if self.config.context_s > 0 else 0
        frames = min(a.shape[0] // self.hop, ctx, int(self.backbone.window_s * self.frame_rate) - 1)
        if frames <= 0:
            return None
        tail = torch.from_numpy(a[a.shape[0] - frames * self.hop :].copy()).to(self.device)
        codes, _ = self.backbone.codec.encode(tail.view(1, 1, -1))
        return codes[..., :frames]

    def _continuation_tokens(self, tokens: np.ndarray | None) -> torch.Tensor | None:
        """The tail of a previous cue's saved tokens [K, T] as the LM prompt."""
        if tokens is None:
            return None
        t = np.asarray(tokens)
        K, card = self.backbone.lm.num_codebooks, self.backbone.lm.card
        if t.ndim != 2 or t.shape[0] != K or not np.issubdtype(t.dtype, np.integer):
            raise GeneratorInputError(
                f"continuation tokens must be integers [{K}, frames] from preset {self.preset!r}; "
                f"got {t.dtype} {t.shape} (tokens of another preset?)"
            )
        if t.size and (t.min() < 0 or t.max() >= card):
            raise GeneratorInputError(
                f"continuation tokens must lie in [0, {card}); regenerate the previous cue"
            )
        ctx = int(self.config.context_s * self.frame_rate) if self.config.context_s > 0 else 0
        frames = min(t.shape[1], ctx, int(self.backbone.window_s * self.frame_rate) - 1)
        if frames <= 0:
            return None
        return torch.from_numpy(t[:, t.shape[1] - frames :].astype(np.int64))[None].to(self.device)

    def prompt_intent(self, prompt: str | None) -> PromptIntent:
        """What `prompt` asks of this model (`prompt_intent`): its style, tempo, energy, mood, and
        the words neither its vocabulary nor its text encoder knows (none when it cannot tell)."""
        intent = (self.vocabulary or Vocabulary()).parse(prompt, self.prompt_words or frozenset())
        if self.vocabulary is None and self.prompt_words is None:
            return dataclasses.replace(intent, unknown=())
        return intent

    def prompt_warning(self, prompt: str | None) -> str | None:
        """One line naming the prompt words this model cannot place, and those it knows (None: all
        known)."""
        return self.prompt_warning_for(self.prompt_intent(prompt))

    def prompt_warning_for(self, intent: PromptIntent) -> str | None:
        """`prompt_warning` for the unknown words of one or more prompts (`intent.unknown`)."""
        return unknown_words_warning(intent, self.preset, self.vocabulary)

    # -- generation ----------------------------------------------------------------------------
    def generate(self, **kwargs) -> np.ndarray:
        """Music of exactly round(duration_s * sample_rate) samples (see `generate_cue`)."""
        return self.generate_cue(**kwargs).audio

    def generate_cue(
        self,
        *,
        cls_1fps: np.ndarray | None,
        rhythm_50hz: np.ndarray | None,
        duration_s: float,
        seed: int,
        prompt: str | None = None,
        continuation: np.ndarray | None = None,
        continuation_tokens: np.ndarray | None = None,
        continuation_tempo: CueTempo | None = None,
        continuation_key: CueKey | None = None,
        hit_points_s: tuple[float, ...] | list[float] = (),
        progress: Callable[[float], None] | None = None,
        guidance: float | None = None,
        stems: bool = False,
        tempo_lock: bool = True,
        end_s: float | None = None,
        seam_s: float | None = None,
        style_changes_s: tuple[float, ...] | list[float] | None = None,
        take: int = 1,
        mood: str | None = None,
        energy: str | None = None,
    ) -> GeneratedCue:
        """Float32 music of exactly round(duration_s * sample_rate) samples, and its tokens.

        `guidance` overrides the preset's classifier-free guidance coefficient (the panel's
        "intensity": how strongly the pictures and prompt steer the music). `hit_points_s` (cue
        seconds: cuts, markers) get a strong drum accent on their frame by constrained sampling
        where the backbone has accent tokens (the symbolic one); pass () for the model alone.
        A continuation comes as the previous cue's tokens (`continuation_tokens`), or for a
        neural codec also as its audio (`continuation`, encoded back to tokens); with the grid
        the previous cue played on (`continuation_tempo`, in this cue's seconds), this one plays
        on the same beats, and with its key (`continuation_key`) in the same signature. `stems` also
        renders one stereo track per sounding stream (symbolic backbones only). `tempo_lock`
        (symbolic): notes start only on the frames of one tempo grid for the cue (see
        `tempo_grid`): the continued cue's grid, else the one that puts the hit points (with none,
        the hard cuts in the rhythm input) on beats within the tempo range of the style the model
        starts in; False leaves timing to the LM. What the prompt asks (`prompt_intent`) is kept
        (symbolic): a style it names plays over the whole cue, its energy sets the note density.
        With the tempo grid, the cue is written in one key with the style's progressions, a theme
        and a groove that return (`form`); `end_s`: the cue ends into silence at that second (its
        out point: what follows is handle), so it closes on a cadence there and its notes are
        released before it; `seam_s`: the cue runs on into the next at that second (what follows
        is the handle the next cue crossfades over), so what sounds in the beat before it rings
        across. `style_changes_s` (cue seconds: world changes, markers): the only places
        the style may change; None: at any cut (`cue_grid.style_change_frames`).
        `take` k > 1: an alternative, opening in the pilot's k-th style or, in a named style, at
        the other end of its tempo range (`cue_grid.choose_grid`). `mood` and `energy`: the cue's
        explicit controls, over what the prompt's words say (`PromptIntent.with_controls`).
        """
        if stems and not self.symbolic:
            raise GeneratorInputError(
                f"preset {self.preset!r} makes audio tokens: it has no streams to render as stems; "
                "use the tiny preset for stems"
            )
        n_samples = self._check_duration(duration_s)
        if guidance is not None and not (math.isfinite(guidance) and 0.0 <= guidance <= 20.0):
            raise GeneratorInputError(f"guidance must be between 0 and 20, got {guidance!r}")
        sampling = (
            self.sampling
            if guidance is None
            else dataclasses.replace(self.sampling, cfg_coef=float(guidance))
        )
        frames = -(-n_samples // self.hop)
        curve = self._rhythm(rhythm_50hz, frames)
        cls = self._cls(cls_1fps)
        if self.zero_shot:
            tags = self.prompter.tags(cls.numpy()) if (self.prompter is not None and cls is not None) else []
            bpm = tempo_from_rhythm(curve.numpy(), self.frame_rate) if curve is not None else None
            prompt, cls, curve = build_prompt(tags, bpm, prompt), None, None
        constraints = None
        intent = (self.prompt_intent(prompt) if self.symbolic else PromptIntent()).with_controls(
            mood=mood, energy=energy, moods=self.vocabulary.moods if self.vocabulary is not None else None
        )
        text = prompt
        if self.vocabulary is not None:
            text = self.vocabulary.encoder_text(prompt, intent, self.prompt_words or frozenset())
        if self.symbolic:
            hit_frames = frozenset(
                int(round(t * self.frame_rate))
                for t in hit_points_s
                if math.isfinite(t) and 0 <= int(round(t * self.frame_rate)) < frames
            )
            constraints = self._masks.for_hits(hit_frames)
        if self.symbolic and continuation is not None and continuation_tokens is None:
            raise GeneratorInputError(
                f"preset {self.preset!r} renders notes: audio cannot be turned back into them; "
                "continue from the previous cue's saved tokens (continuation_tokens)"
            )
        with self._lock, torch.no_grad():
            generator = torch.Generator(device=self.device).manual_seed(int(seed))
            if continuation_tokens is not None:
                prompt_codes = self._continuation_tokens(continuation_tokens)
            else:
                prompt_codes = self._continuation(continuation)
            new_codes: list[np.ndarray] = []
            grid = None
            form = None
            grid_inputs = None
            condition = self._condition_fn(
                cls, text, guided=curve is not None or cls is not None or bool(text)
            )
            window = int(self.backbone.window_s * self.frame_rate)
            if constraints is not None and tempo_lock:
                grid, opening = choose_grid(
                    self.model,
                    self._masks,
                    style_meters=self.style_meters,
                    prompt_codes=prompt_codes,
                    prompt=prompt,
                    condition=condition,
                    curve=curve,
                    sampling=sampling,
                    seed=seed,
                    hits=sorted(hit_frames),
                    frames=frames,
                    frame_rate=self.frame_rate,
                    window=window,
                    style=intent.style,
                    take=take,
                    continued=continuation_tempo if continuation_tokens is not None else None,
                )
                if not text and intent.mood is None and opening is not None and self._moods_trained():
                    # No mood asked for: the style as its table writes it. A model trained on moods
                    # heard its captionless clips in any mood (they are drawn apart from the
                    # pictures), so with no words it wanders between them; the caption of the style
                    # the pictures chose, with no mood words, is what it learned the neutral mood as.
                    text = self.vocabulary.encoder_text(
                        None,
                        dataclasses.replace(intent, style=STYLES[opening]),
                        self.prompt_words or frozenset(),
                    )
                    condition = self._condition_fn(cls, text, guided=True)
                first = 0 if prompt_codes is None else -prompt_codes.shape[-1]
                constraints = self._masks.on_grid(constraints, grid, first, frames)
                constraints = self._masks.opening(constraints, opening)
                constraints = self._masks.holding_style(
                    constraints,
                    style_change_frames(curve, hit_frames, frames, self._frames_at(style_changes_s, frames)),
                )
                form = cue_form(
                    grid=grid,
                    opening=opening if intent.style is None else STYLES.index(intent.style),
                    prompt_codes=prompt_codes,
                    history=None if continuation_tokens is None else np.asarray(continuation_tokens),
                    style_forms=self.style_forms,
                    frames=frames,
                    hits=hit_frames,
                    end_frame=None if end_s is None else min(frames, int(round(end_s * self.frame_rate))),
                    seed=seed,
                    card=int(self.model.lm.card),
                    frame_rate=self.frame_rate,
                    mode=intent.mode,
                    seam=self._seam_frame(seam_s, end_s, frames),
                    style_meters=self.style_meters,
                    continued_key=continuation_key if continuation_tokens is not None else None,
                    mood=None if self.vocabulary is None else self.vocabulary.play(intent.mood),
                    energy=intent.energy,
                )
                if form is not None:  # the form's theme and groove memory replace the groove's
                    constraints = dataclasses.replace(constraints, form=form, repeat_from=())
                    constraints = self._masks.entering(constraints, form.plan.entry)
                if self.model.grid is not None:  # where each frame sits in beat, bar and phrase
                    where = grid_features([cue_segment(grid, first, frames)], first, frames - first)
                    grid_inputs = torch.from_numpy(where)
            if constraints is not None:
                style_id = None if intent.style is None else STYLES.index(intent.style)
                constraints = self._masks.obeying(constraints, style_id, intent.energy, frames)
            audio = render(
                self.model,
                self.backbone.codec,
                frames=frames,
                window=window,
                context=int(self.config.context_s * self.frame_rate),
                crossfade_samples=int(self.config.crossfade_s * self.sample_rate),
                curve=curve,
                prompt_codes=prompt_codes,
                condition=condition,
                sampling=sampling,
                generator=generator,
                progress=progress,
                constraints=constraints,
                out_codes=new_codes,
                grid=grid_inputs,
            )
        out = audio[:n_samples].astype(np.float32, copy=False)
        assert out.shape[0] == n_samples
        stem_audio = self._stems(prompt_codes, new_codes[0], n_samples) if stems else None
        if progress is not None:
            progress(1.0)
        key = None
        if form is not None:
            plan = form.plan
            key = CueKey(plan.tonic, plan.form.mode, tuple(sorted(plan.scale)))
        return GeneratedCue(
            out, new_codes[0].astype(np.int16), self.sample_rate, self.frame_rate, stem_audio, grid, key
        )

    def _moods_trained(self) -> bool:
        """The text encoder learned the moods' words (a model trained on the corpus's moods)."""
        if self.vocabulary is None or not self.prompt_words:
            return False
        return any("mood" in entry and word in self.prompt_words for word, entry in self.vocabulary.words.items())

    def _seam_frame(self, seam_s: float | None, end_s: float | None, frames: int) -> int | None:
        """The frame the next cue takes over at (a cue ending into silence has none)."""
        if seam_s is None or end_s is not None or not math.isfinite(seam_s):
            return None
        f = int(round(seam_s * self.frame_rate))
        return f if 0 < f <= frames else None

    def _frames_at(
        self, times_s: tuple[float, ...] | list[float] | None, frames: int
    ) -> frozenset[int] | None:
        """The frames of `times_s` (cue seconds) inside the cue; None stays None."""
        if times_s is None:
            return None
        at = (int(round(t * self.frame_rate)) for t in times_s if math.isfinite(t))
        return frozenset(f for f in at if 0 <= f < frames)

    def _stems(self, prompt_codes: torch.Tensor | None, codes: np.ndarray, n_samples: int) -> dict:
        """The new frames' streams rendered one by one, with the prompt's context as the mix had."""
        from engine.symbolic.renderer import render

        p0 = 0 if prompt_codes is None else prompt_codes.shape[-1]
        full = codes if p0 == 0 else np.concatenate([prompt_codes[0].cpu().numpy(), codes], axis=1)
        _, parts = render(full, self.sample_rate, stems=True)
        return {
            name: part[:, p0 * self.hop : p0 * self.hop + n_samples].T.copy() for name, part in parts.items()
        }

    def _condition_fn(self, cls: torch.Tensor | None, prompt: str | None, guided: bool):
        """Memory for a window's frame range: its own 1 fps [CLS] frames (plus the prompt)."""
        cache: dict[tuple[int, int], tuple[torch.Tensor, torch.Tensor | None]] = {}
        use_cfg = guided and self.sampling.cfg_coef != 1.0

        def condition(start: int, end: int):
            lo = hi = 0
            if cls is not None:
                n = cls.shape[0]
                lo = min(max(int(math.floor(max(start, 0) / self.frame_rate)), 0), n - 1)
                hi = min(max(int(math.ceil(max(end, 1) / self.frame_rate)), lo + 1), n)
            if (lo, hi) not in cache:
                memory = self._memory(None if cls is None else cls[lo:hi][None], prompt)
                cache[(lo, hi)] = (memory, torch.zeros_like(memory) if use_cfg else None)
            return cache[(lo, hi)]

        return condition

    def _memory(self, cls: torch.Tensor | None, prompt: str | None) -> torch.Tensor:
        if self.zero_shot:
            from audiocraft.modules.conditioners import ConditioningAttributes

            provider = self.backbone.lm.condition_provider
            attrs = [ConditioningAttributes(text={"description": prompt})]
            memory, _ = provider(provider.tokenize(attrs))["description"]
            return memory
        memory, _ = self.model.semantic(cls, [prompt])
        return memory
