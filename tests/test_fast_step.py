"""FastStep against audiocraft's streaming forward: same logits, same tokens, clear fallbacks."""

from __future__ import annotations

import json
import logging

import pytest
import torch

from engine.generator import backbone as bb
from engine.generator.config import GeneratorConfig
from engine.generator.decoding import Sampling, TokenConstraints, generate_window
from engine.generator.fast_step import FastStep, UnsupportedModel, unsupported_reason
from engine.generator.music_generator import build_model
from engine.presets import load_preset
from tests._generator_small import SMALL, small_config, wake_rhythm

STEPS = 32  # single steps after the prompt chunk


def _build(cfg: GeneratorConfig, rhythm_seed: int | None = 0):
    torch.set_num_threads(1)
    model = build_model(cfg, bb.build_random(cfg), None)
    if rhythm_seed is not None:
        wake_rhythm(model, seed=rhythm_seed)
    return model


def _tiny_lm_config() -> GeneratorConfig:
    """The tiny preset's LM exactly; a small neural codec stands in for its renderer (the LM's
    numbers do not depend on how tokens become sound)."""
    data = dict(load_preset("tiny").generator)
    data["codec"] = {"dimension": 16, "n_filters": 4, "n_q": data["lm"]["n_q"], "bins": data["lm"]["card"]}
    return GeneratorConfig.from_dict(data)


@pytest.fixture(scope="module")
def small():
    return _build(small_config())


@pytest.fixture(scope="module")
def tiny():
    return _build(_tiny_lm_config())


def _memory(model, batch: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    cls = torch.randn(1, 4, model.semantic.cls_dim, generator=g)
    with torch.no_grad():
        memory, _ = model.semantic(cls, ["warm strings"])
    if batch == 2:  # a CFG batch: the null condition in the second row
        memory = torch.cat([memory, torch.zeros_like(memory)], dim=0)
    return memory


def _max_logit_error(
    model,
    *,
    batch: int,
    rhythm: bool,
    prompt_steps: int,
    seed: int = 0,
    onednn: bool | None = None,
    single: bool | None = None,
) -> float:
    """Feed a prompt chunk then STEPS single steps through both paths; the largest difference."""
    lm = model.lm
    frames = prompt_steps + STEPS
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, lm.card, (batch, lm.num_codebooks, frames), generator=g)
    seq, _, _ = lm.pattern_provider.get_pattern(frames).build_pattern_sequence(codes, lm.special_token_id)
    stops = ([prompt_steps] if prompt_steps > 1 else [1]) + list(range(max(prompt_steps, 1) + 1, frames + 1))
    assert len(stops) >= STEPS
    memory = _memory(model, batch)
    feats = None
    if rhythm:
        curve = torch.rand(1, frames, model.rhythm.proj_in.in_features, generator=g) * 2
        feats = model.rhythm_window(model.rhythm_features(curve), 0, frames, batch)
    step = FastStep(model, onednn=onednn, single=single)
    step.start(memory, batch, frames)
    worst, prev = 0.0, 0
    with torch.no_grad(), lm.streaming():
        for stop in stops:
            part = None if feats is None else [f[:, prev:stop] for f in feats]
            ref = model(seq[..., prev:stop], memory, part, pos_offset=prev)[:, :, -1]
            ours = step(seq[..., prev:stop], part, pos_offset=prev)
            assert ours.shape == ref.shape
            worst = max(worst, (ours - ref).abs().max().item())
            prev = stop
    return worst


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("rhythm", [False, True])
def test_small_logits_match_audiocraft_streaming(small, batch, rhythm):
    assert _max_logit_error(small, batch=batch, rhythm=rhythm, prompt_steps=9) < 1e-5


@pytest.mark.parametrize("batch,rhythm,prompt_steps", [(2, True, 12), (2, False, 1), (1, True, 1)])
def test_tiny_logits_match_audiocraft_streaming(tiny, batch, rhythm, prompt_steps):
    assert _max_logit_error(tiny, batch=batch, rhythm=rhythm, prompt_steps=prompt_steps) < 1e-5


def test_plain_matmul_path_matches_too(tiny):
    """Without oneDNN's reordered weights: torch's own F.linear on the modules' tensors."""
    assert _max_logit_error(tiny, batch=2, rhythm=True, prompt_steps=12, onednn=False) < 1e-5


@pytest.mark.parametrize("onednn", [True, False])
def test_torch_single_steps_match_too(tiny, onednn):
    """Every step through torch (single=False: no numpy single-step path), as on a GPU."""
    if onednn and not FastStep(tiny, single=False).onednn:
        pytest.skip("oneDNN is not available here")
    err = _max_logit_error(tiny, batch=2, rhythm=True, prompt_steps=12, onednn=onednn, single=False)
    assert err < 1e-5


def test_numpy_single_steps_alone_match(tiny):
    """A window without a prompt chunk: every step, the first included, on the numpy path."""
    assert _max_logit_error(tiny, batch=2, rhythm=True, prompt_steps=0, single=True) < 1e-5


@pytest.mark.parametrize(
    "options",
    [
        {"bias_attn": True, "bias_ff": True, "bias_proj": True},
        {"layer_scale": 0.5},
        {"memory_efficient": False, "custom": True, "activation": "relu"},
    ],
)
def test_other_supported_options_match(options):
    data = json.loads(json.dumps(SMALL))
    data["lm"].update(options)
    model = _build(GeneratorConfig.from_dict(data), rhythm_seed=2)
    with torch.no_grad():  # the biases start at zero: make them count
        for name, p in model.lm.named_parameters():
            if name.endswith("bias") or name.endswith("scale"):
                p.copy_(torch.randn_like(p) * 0.1 + (0.5 if name.endswith("scale") else 0.0))
    assert unsupported_reason(model) is None
    assert _max_logit_error(model, batch=2, rhythm=True, prompt_steps=7) < 1e-5


def test_the_check_itself_can_fail(small):
    """A slightly different weight after `start` must show up as a logit difference."""
    model = _build(small_config(), rhythm_seed=5)
    step = FastStep(model)
    memory = _memory(model, 1)
    step.start(memory, 1, 4)
    tokens = torch.randint(0, model.lm.card, (1, model.lm.num_codebooks, 1))
    with torch.no_grad():
        a = step(tokens, None, 0)
        model.lm.transformer.layers[1].linear2.weight.mul_(1.01)  # read live: no stale copy
        step.start(memory, 1, 4)
        b = step(tokens, None, 0)
    assert (a - b).abs().max() > 1e-5


def _window(model, *, fast: bool, temperature: float, seed: int, prompt: bool, frames: int = 40):
    lm = model.lm
    g = torch.Generator().manual_seed(99)
    memory = _memory(model, 1)
    prompt_codes = torch.randint(0, lm.card, (1, lm.num_codebooks, 10), generator=g) if prompt else None
    allowed = torch.rand(lm.num_codebooks, lm.card, generator=g) > 0.3
    hit_ids = torch.rand(lm.card, generator=g) > 0.5
    return generate_window(
        model,
        memory=memory,
        null_memory=torch.zeros_like(memory),
        rhythm_curve=torch.rand(1, frames, 2, generator=g),
        prompt=prompt_codes,
        total_frames=frames,
        sampling=Sampling(temperature=temperature, top_k=20, cfg_coef=3.0),
        generator=torch.Generator().manual_seed(seed),
        constraints=TokenConstraints(allowed, hit_ids, frozenset({12, 30})),
        fast=fast,
    )


@pytest.mark.parametrize("prompt", [False, True])
def test_generate_window_greedy_tokens_identical(small, prompt):
    fast = _window(small, fast=True, temperature=0.0, seed=0, prompt=prompt)
    slow = _window(small, fast=False, temperature=0.0, seed=0, prompt=prompt)
    assert torch.equal(fast, slow)


def test_generate_window_seeded_sampling_identical_and_seed_matters(tiny):
    fast = _window(tiny, fast=True, temperature=1.0, seed=3, prompt=True, frames=24)
    slow = _window(tiny, fast=False, temperature=1.0, seed=3, prompt=True, frames=24)
    other = _window(tiny, fast=True, temperature=1.0, seed=4, prompt=True, frames=24)
    assert torch.equal(fast, slow)
    assert not torch.equal(fast, other)


def test_unsupported_configs_fall_back_with_a_reason(caplog):
    data = json.loads(json.dumps(SMALL))
    data["lm"].update({"positional_embedding": "rope", "custom": True, "memory_efficient": False})
    model = _build(GeneratorConfig.from_dict(data))
    reason = unsupported_reason(model)
    assert reason is not None and "positional embedding" in reason
    with pytest.raises(UnsupportedModel):
        FastStep(model)
    with caplog.at_level(logging.DEBUG, logger="engine.generator.decoding"):
        out = _window(model, fast=True, temperature=0.0, seed=0, prompt=True)
    assert "fast step off" in caplog.text and "positional embedding" in caplog.text
    assert torch.equal(out, _window(model, fast=False, temperature=0.0, seed=0, prompt=True))


def test_training_mode_is_not_covered(small):
    model = _build(small_config())
    model.train()
    assert "training" in unsupported_reason(model)


def test_running_limits_numpy_blas_threads_and_restores(tiny):
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with FastStep(tiny).running():
        inside = blas_threads()
    assert inside == [torch.get_num_threads()] * len(before)
    assert blas_threads() == before


def test_numpy_single_step_only_for_narrow_models(tiny, monkeypatch):
    from engine.generator import fast_step

    assert FastStep(tiny).single
    monkeypatch.setattr(fast_step, "NUMPY_SINGLE_MAX_DIM", tiny.lm.dim - 1)
    assert not FastStep(tiny).single
    assert FastStep(tiny).onednn == fast_step._onednn_available()  # torch's products then get oneDNN's
