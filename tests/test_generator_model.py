"""The adapters on the audiocraft backbone: zero-init, streaming, causality, semantic path."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import pytest
import torch

from engine.generator import backbone as bb
from engine.generator.music_generator import build_model
from engine.generator.rhythm import rhythm_layer_count
from tests._generator_small import small_config, wake_rhythm


@pytest.fixture(scope="module")
def parts():
    torch.set_num_threads(1)
    cfg = small_config()
    backbone = bb.build_random(cfg)
    model = build_model(cfg, backbone, None)
    return cfg, backbone, model


def _sequence(model, frames: int, seed: int = 0) -> torch.Tensor:
    lm = model.lm
    g = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, lm.card, (1, lm.num_codebooks, frames), generator=g)
    seq, _, _ = lm.pattern_provider.get_pattern(frames).build_pattern_sequence(codes, lm.special_token_id)
    return seq


def _memory(model, n_cls: int = 3, seed: int = 1):
    g = torch.Generator().manual_seed(seed)
    cls = torch.randn(1, n_cls, model.semantic.cls_dim, generator=g)
    with torch.no_grad():
        return model.semantic(cls, ["warm strings"])


def test_rhythm_blocks_are_first_three_quarters(parts):
    _, backbone, model = parts
    assert model.rhythm.num_blocks == 3 == rhythm_layer_count(len(backbone.lm.transformer.layers), 0.75)
    assert rhythm_layer_count(24, 0.75) == 18 and rhythm_layer_count(6, 0.75) == 4


def test_fresh_rhythm_branch_leaves_logits_bit_identical(parts):
    """Zero-init O: the logits equal those of audiocraft's own LMModel.forward, exactly."""
    _, backbone, model = parts
    seq = _sequence(model, 40)
    memory, mask = _memory(model)
    curve = torch.rand(1, seq.shape[-1], 2) * 5
    with torch.no_grad():
        ours = model(seq, memory, model.rhythm_features(curve))
        stock = backbone.lm(seq, [], condition_tensors={"description": (memory, mask)})
        without = model(seq, memory, None)
    assert torch.equal(ours, stock)
    assert torch.equal(ours, without)


def test_trained_rhythm_branch_does_change_logits(parts):
    _, _, model = parts
    m = copy.deepcopy(model)
    wake_rhythm(m)
    seq = _sequence(m, 40)
    memory, _ = _memory(m)
    curve = torch.rand(1, seq.shape[-1], 2)
    with torch.no_grad():
        a = m(seq, memory, m.rhythm_features(curve))
        b = m(seq, memory, m.rhythm_features(torch.zeros_like(curve)))
        c = m(seq, memory, None)
    assert (a - b).abs().max() > 1e-3
    assert torch.equal(b, c), "a zero curve must be an exact no-op (O has no bias): the CFG null rhythm"


def test_streaming_logits_equal_full_forward(parts):
    _, _, model = parts
    m = copy.deepcopy(model)
    wake_rhythm(m, seed=3)
    seq = _sequence(m, 50, seed=2)
    memory, _ = _memory(m)
    S = seq.shape[-1]
    feats = m.rhythm_features(torch.rand(1, S, 2))
    with torch.no_grad():
        full = m(seq, memory, feats)
        chunks, prev = [], 0
        with m.lm.streaming():
            for stop in [7] + list(range(8, S + 1)):  # a prompt chunk, then one step at a time
                chunks.append(
                    m(seq[..., prev:stop], memory, m.rhythm_window(feats, prev, stop, 1), pos_offset=prev)
                )
                prev = stop
    streamed = torch.cat(chunks, dim=2)
    assert streamed.shape == full.shape
    assert (streamed - full).abs().max().item() < 1e-5


def test_changing_rhythm_after_t_changes_no_earlier_logit(parts):
    _, _, model = parts
    m = copy.deepcopy(model)
    wake_rhythm(m, seed=4)
    seq = _sequence(m, 60, seed=5)
    memory, _ = _memory(m)
    S, t = seq.shape[-1], 30
    curve = torch.rand(1, S, 2)
    changed = curve.clone()
    changed[:, t:] = torch.rand(1, S - t, 2) + 1.0
    with torch.no_grad():
        a = m(seq, memory, m.rhythm_features(curve))
        b = m(seq, memory, m.rhythm_features(changed))
    assert torch.equal(a[:, :, :t], b[:, :, :t])
    assert (a[:, :, t] - b[:, :, t]).abs().max() > 1e-4  # step t itself does see frame t


def test_fresh_semantic_path_keeps_the_stock_text_path():
    """LoRA B = 0 and a projector copied from the backbone's text projection: prompt-only memory is
    what audiocraft's T5Conditioner.forward computes from the same frozen T5, exactly; [CLS]
    pseudo-tokens (untrained) do change it."""
    from audiocraft.modules.conditioners import T5Conditioner
    from audiocraft.utils.autocast import TorchAutocast

    from engine.generator.semantic import SemanticPath, build_builtin_t5

    t5, tok = build_builtin_t5(
        {"d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 2, "num_heads": 4}, seed=3
    )
    frozen = copy.deepcopy(t5)
    output_proj = torch.nn.Linear(32, 48)
    path = SemanticPath(
        t5,
        tok,
        cls_dim=16,
        lm_dim=48,
        lora_rank=4,
        lora_alpha=8,
        lora_targets=("q", "v"),
        projector_init=output_proj,
    ).eval()
    assert any("lora_B" in n for n, _ in path.named_parameters())
    prompts = ["calm piano at dusk", "drums"]
    inputs = dict(tok(prompts, return_tensors="pt", padding=True))
    stock_self = SimpleNamespace(
        t5=frozen, output_proj=output_proj, finetune=False, autocast=TorchAutocast(enabled=False)
    )
    with torch.no_grad():
        stock, stock_mask = T5Conditioner.forward(stock_self, inputs)
        ours, mask = path(None, prompts)
        with_cls, _ = path(torch.randn(2, 3, 16), prompts)
    assert torch.equal(mask, stock_mask)
    assert torch.equal(ours, stock)
    assert with_cls.shape[1] == ours.shape[1] + 3
    assert (with_cls[:, 3:] - ours).abs().max() > 1e-4


def test_backbone_frozen_and_trainable_count(parts):
    _, backbone, model = parts
    assert not any(p.requires_grad for p in backbone.lm.parameters())
    trainable = model.trainable_parameters()
    n = sum(p.numel() for p in trainable)
    assert n == sum(v.numel() for v in model.adapter_state().values())
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert any("lora_A" in n for n in names) and any("embedding_manager" in n for n in names)
    assert any("projector" in n for n in names) and any("rhythm.chain" in n for n in names)
    assert not any(n.startswith("semantic.t5.") and "lora_" not in n for n in names)
