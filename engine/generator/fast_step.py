"""Inference-only streaming step of `VidMusicianLM`: the same numbers, without the per-op overhead.

A small LM decodes one token per step, so on a CPU its time goes to Python and dispatch in
audiocraft's StreamingTransformer (einops, module calls, re-concatenated KV caches, the
cross-attention memory re-projected at every step), not to arithmetic. `FastStep` computes exactly
what `VidMusicianLM.forward` computes inside `lm.streaming()` (embeddings summed over codebooks,
sin positions at explicit offsets, per block the rhythm addition, pre-norm self-attention over a
preallocated KV cache, cross-attention, feed-forward, out_norm, the K heads), reading the weights
of the audiocraft modules themselves. Per window it only precomputes what does not change within
it: the cross-attention keys/values of the memory, the positional table, the stacked embedding
and head matrices.

Configurations it does not cover (rope, past_context, post-norm, kv_repeat, qk layer norm,
non-float32 weights, hooked modules, ...) are named by `unsupported_reason`; callers fall back to
audiocraft's path for them.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from engine.generator.model import VidMusicianLM

# `FastStep`'s default for `single` on the CPU: False computes every step through torch (benchmarks
# compare both in one run).
NUMPY_SINGLE_STEP = True
# ... for models up to this width: measured faster at 192 (2.4x) and 256 (1.5x); at 1024 (the
# MusicGen-small-sized bench model) torch's products win (2.3 against 5.4 s a step, 2 threads)
# and the per-window transposed copies of 1.7 GB of weights would not pay either.
NUMPY_SINGLE_MAX_DIM = 512


class UnsupportedModel(ValueError):
    """The model's configuration is one `FastStep` does not reproduce (the message says which)."""


def _plain(module: nn.Module | None, kind: type) -> bool:
    """`module` is exactly `kind` (no subclass overriding forward) and carries no hooks."""
    return (
        type(module) is kind
        and not module._forward_hooks
        and not module._forward_pre_hooks
        and not module._backward_hooks
    )


def _attention_reason(attn: nn.Module, where: str) -> str | None:
    from audiocraft.modules.transformer import StreamingMultiheadAttention

    if type(attn) is not StreamingMultiheadAttention or attn._forward_hooks or attn._forward_pre_hooks:
        return f"{where}: not a plain StreamingMultiheadAttention"
    if not attn.custom:
        return f"{where}: torch's nn.MultiheadAttention path (custom=False, memory_efficient=False)"
    if attn.rope is not None:
        return f"{where}: rotary embeddings"
    if attn.past_context is not None:
        return f"{where}: a finite past_context"
    if attn.kv_repeat != 1:
        return f"{where}: kv_repeat={attn.kv_repeat}"
    if attn.qk_layer_norm:
        return f"{where}: qk layer norm"
    if not _plain(attn.out_proj, nn.Linear):
        return f"{where}: a wrapped out_proj"
    return None


def _scale_reason(module: nn.Module, where: str) -> str | None:
    from audiocraft.modules.transformer import LayerScale

    if type(module) is nn.Identity:
        return None
    if type(module) is LayerScale and module.channel_last and not module._forward_hooks:
        return None
    return f"{where}: an unknown layer scale {type(module).__name__}"


def unsupported_reason(model: VidMusicianLM) -> str | None:
    """Why `FastStep` cannot reproduce this model's forward (None: it can)."""
    from audiocraft.modules.transformer import StreamingTransformer, StreamingTransformerLayer

    lm = model.lm
    tr = lm.transformer
    if model.training or lm.training:
        return "the model is in training mode (dropout)"
    if type(tr) is not StreamingTransformer or tr._forward_hooks or tr._forward_pre_hooks:
        return "the transformer is not a plain StreamingTransformer"
    if tr.positional_embedding != "sin" or tr.rope is not None:
        return f"positional embedding {tr.positional_embedding!r} (only 'sin')"
    if any(p.dtype != torch.float32 for p in lm.parameters()):
        return "weights are not float32"
    if not all(_plain(e, type(e)) and isinstance(e, nn.Embedding) for e in lm.emb):
        return "codebook embeddings are not plain nn.Embedding"
    if any(e.max_norm is not None for e in lm.emb):
        return "codebook embeddings with max_norm"
    if not all(_plain(lin, nn.Linear) for lin in lm.linears):
        return "output heads are not plain nn.Linear"
    if lm.out_norm is not None and not _plain(lm.out_norm, nn.LayerNorm):
        return "out_norm is not a LayerNorm"
    for j, layer in enumerate(tr.layers):
        where = f"layer {j}"
        if type(layer) is not StreamingTransformerLayer or layer._forward_hooks or layer._forward_pre_hooks:
            return f"{where}: not a plain StreamingTransformerLayer"
        if not layer.norm_first:
            return f"{where}: post-norm (norm_first=False)"
        if not layer.self_attn.causal:
            return f"{where}: non-causal self-attention"
        for name in ("norm1", "norm2") + (("norm_cross",) if layer.cross_attention is not None else ()):
            if not _plain(getattr(layer, name), nn.LayerNorm):
                return f"{where}: {name} is not a LayerNorm"
        if not (_plain(layer.linear1, nn.Linear) and _plain(layer.linear2, nn.Linear)):
            return f"{where}: wrapped feed-forward linears"
        reason = _attention_reason(layer.self_attn, f"{where} self-attention")
        for scale in ("layer_scale_1", "layer_scale_2"):
            reason = reason or _scale_reason(getattr(layer, scale), f"{where} {scale}")
        if layer.cross_attention is not None:
            reason = reason or _attention_reason(layer.cross_attention, f"{where} cross-attention")
            reason = reason or _scale_reason(layer.layer_scale_cross, f"{where} layer_scale_cross")
        if reason:
            return reason
    return None


@dataclass(frozen=True)
class _LayerRefs:
    """One block's tensors, taken from its modules: references and views, except the matrices
    handed to `pack` (a per-window prepacked copy for oneDNN, or the tensor itself)."""

    norm1: tuple
    qkv_w: torch.Tensor
    qkv_b: torch.Tensor | None
    out_w: torch.Tensor
    out_b: torch.Tensor | None
    scale1: torch.Tensor | None
    norm_cross: tuple | None
    cq_w: torch.Tensor | None
    cq_b: torch.Tensor | None
    cout_w: torch.Tensor | None
    cout_b: torch.Tensor | None
    scale_cross: torch.Tensor | None
    norm2: tuple
    ff1_w: torch.Tensor
    ff1_b: torch.Tensor | None
    activation: Callable[[torch.Tensor], torch.Tensor]
    ff2_w: torch.Tensor
    ff2_b: torch.Tensor | None
    scale2: torch.Tensor | None

    @classmethod
    def of(cls, layer: nn.Module, pack: Callable[[torch.Tensor], torch.Tensor]) -> _LayerRefs:
        def norm(m: nn.LayerNorm) -> tuple:
            return (m.normalized_shape, m.weight, m.bias, m.eps)

        def scale(m: nn.Module) -> torch.Tensor | None:
            return None if type(m) is nn.Identity else m.scale

        sa, ca = layer.self_attn, layer.cross_attention
        D = sa.embed_dim
        cross = ca is not None
        cb = ca.in_proj_bias if cross else None
        return cls(
            norm(layer.norm1),
            pack(sa.in_proj_weight),
            sa.in_proj_bias,
            pack(sa.out_proj.weight),
            sa.out_proj.bias,
            scale(layer.layer_scale_1),
            norm(layer.norm_cross) if cross else None,
            pack(ca.in_proj_weight[:D]) if cross else None,
            None if cb is None else cb[:D],
            pack(ca.out_proj.weight) if cross else None,
            ca.out_proj.bias if cross else None,
            scale(layer.layer_scale_cross) if cross else None,
            norm(layer.norm2),
            pack(layer.linear1.weight),
            layer.linear1.bias,
            layer.activation,
            pack(layer.linear2.weight),
            layer.linear2.bias,
            scale(layer.layer_scale_2),
        )


@dataclass(frozen=True)
class _NumpyLayer:
    """One block for the single-step path: weights transposed to [in, out] (numpy matmuls need no
    transpose), the query scale folded into the query columns, and the cross-attention folded
    with this window's memory: scores = LN(x) @ cross_scores[b] (+ cross_scores_b[b]) over the H*M
    memory slots, output = softmax per head @ cross_values[b] (the memory's values already through
    out_proj). Norms (and activations other than GELU) stay torch's own kernels on zero-copy views."""

    norm1: tuple
    qkv: np.ndarray
    qkv_b: np.ndarray | None
    out: np.ndarray
    out_b: np.ndarray | None
    scale1: np.ndarray | None
    norm_cross: tuple | None
    cross_scores: np.ndarray | None  # [B, D, H*M]
    cross_scores_b: np.ndarray | None  # [B, 1, H*M]
    cross_values: np.ndarray | None  # [B, H*M, D]
    cout_b: np.ndarray | None
    scale_cross: np.ndarray | None
    norm2: tuple
    ff1: np.ndarray
    ff1_b: np.ndarray | None
    activation: Callable[[torch.Tensor], torch.Tensor]
    activation_np: Callable[[np.ndarray], np.ndarray] | None
    ff2: np.ndarray
    ff2_b: np.ndarray | None
    scale2: np.ndarray | None

    @classmethod
    def of(cls, layer: nn.Module, cross_kv: tuple | None, heads: int) -> _NumpyLayer:
        sa, ca = layer.self_attn, layer.cross_attention
        D = sa.embed_dim
        d = D // heads
        scale = 1.0 / math.sqrt(d)

        def t(w: torch.Tensor | None) -> np.ndarray | None:  # [out, in] -> [in, out], contiguous
            return None if w is None else np.ascontiguousarray(w.detach().numpy().T)

        def a(v: torch.Tensor | None) -> np.ndarray | None:
            return None if v is None else v.detach().numpy().copy()

        def norm(m: nn.LayerNorm) -> tuple:
            return (m.normalized_shape, m.weight, m.bias, m.eps)

        def layer_scale(m: nn.Module) -> np.ndarray | None:
            return None if type(m) is nn.Identity else a(m.scale)

        qkv = t(sa.in_proj_weight)
        qkv[:, :D] *= scale
        qkv_b = a(sa.in_proj_bias)
        if qkv_b is not None:
            qkv_b[:D] *= scale
        cross = {}
        if ca is not None:
            k, v = cross_kv  # [B, H, M, d] each, this window's memory through in_proj
            B, H, M, _ = k.shape
            wq = ca.in_proj_weight[:D].detach().view(H, d, D)
            cross["cross_scores"] = (
                (torch.einsum("hdi,bhmd->bihm", wq, k) * scale).reshape(B, D, H * M).contiguous().numpy()
            )
            bq = ca.in_proj_bias
            cross["cross_scores_b"] = (
                None
                if bq is None
                else (torch.einsum("hd,bhmd->bhm", bq[:D].detach().view(H, d), k) * scale)
                .reshape(B, 1, H * M)
                .contiguous()
                .numpy()
            )
            wo = ca.out_proj.weight.detach().view(D, H, d)
            cross["cross_values"] = (
                torch.einsum("bhmd,ohd->bhmo", v, wo).reshape(B, H * M, D).contiguous().numpy()
            )
            cross["cout_b"] = a(ca.out_proj.bias)
            cross["norm_cross"] = norm(layer.norm_cross)
            cross["scale_cross"] = layer_scale(layer.layer_scale_cross)
        return cls(
            norm1=norm(layer.norm1),
            qkv=qkv,
            qkv_b=qkv_b,
            out=t(sa.out_proj.weight),
            out_b=a(sa.out_proj.bias),
            scale1=layer_scale(layer.layer_scale_1),
            norm_cross=cross.get("norm_cross"),
            cross_scores=cross.get("cross_scores"),
            cross_scores_b=cross.get("cross_scores_b"),
            cross_values=cross.get("cross_values"),
            cout_b=cross.get("cout_b"),
            scale_cross=cross.get("scale_cross"),
            norm2=norm(layer.norm2),
            ff1=t(layer.linear1.weight),
            ff1_b=a(layer.linear1.bias),
            activation=layer.activation,
            activation_np=_numpy_gelu(layer.activation),
            ff2=t(layer.linear2.weight),
            ff2_b=a(layer.linear2.bias),
            scale2=layer_scale(layer.layer_scale_2),
        )


def _numpy_gelu(layer_activation: Callable) -> Callable[[np.ndarray], np.ndarray] | None:
    """torch's exact GELU (x/2 (1 + erf(x / sqrt 2))) in numpy with scipy's erf, in place: half the
    time of torch's on a [2, 384] row pair; None for any other activation (torch's then runs)."""
    if layer_activation is not F.gelu:
        return None
    try:
        from scipy.special import erf
    except ImportError:
        return None
    root_half = np.float32(1 / math.sqrt(2))

    def gelu(h: np.ndarray) -> np.ndarray:
        e = erf(h * root_half)
        e += 1
        e *= 0.5
        h *= e
        return h

    return gelu


def _affine(y: np.ndarray, bias: np.ndarray | None, scale: np.ndarray | None) -> np.ndarray:
    if bias is not None:
        y += bias
    if scale is not None:
        y *= scale
    return y


_BLAS: list = []  # [ThreadpoolController or None], made on first use (it scans the loaded libraries)


def _blas_controller():
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS.append(ThreadpoolController())
        except Exception:  # noqa: BLE001 - no control over numpy's BLAS threads: leave them be
            _BLAS.append(None)
    return _BLAS[0]


def _onednn_available() -> bool:
    try:
        return torch.backends.mkldnn.is_available() and callable(torch.ops.mkldnn._linear_pointwise)
    except (AttributeError, RuntimeError):
        return False


def _onednn_pack(weight: torch.Tensor) -> torch.Tensor:
    """`weight` [out, in] reordered once for oneDNN's small-batch matmul (a CFG batch of 2)."""
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach().contiguous(), 2)


def _onednn_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


def _residual(x: torch.Tensor, y: torch.Tensor, scale: torch.Tensor | None) -> torch.Tensor:
    return x + y if scale is None else x + scale * y


class FastStep:
    """One window's streaming state: `start` it, then call it with each new slice of the pattern.

    Usage mirrors `with lm.streaming(): model(seq[..., prev:offset], memory, rhythm, prev)`:
    `step(tokens, rhythm, pos_offset)` with tokens [B, K, s] returns the logits [B, K, card] of the
    slice's last step. Slices must follow each other (pos_offset = steps seen so far).

    `onednn` (default: where available on CPU, unless `single` is on) multiplies by weights that
    `start` reorders for oneDNN's small-batch kernel (an earlier measurement found its step a
    third faster than MKL's on a 2-row batch; one product alone measured 21 us against MKL's 19 on
    the AMD development machine on 2026-11-30). It sums in another order, so logits agree with
    audiocraft's to float error (tested < 1e-5), not bits.

    `single` (default: on CPU for models up to `NUMPY_SINGLE_MAX_DIM` wide) computes one-token slices, every step after a
    window's prompt, in numpy on the same memory: a [2, 192] x [192, 576] product costs OpenBLAS
    about 7 us against torch's 19 (MKL, or 21 through oneDNN) on the AMD CPU, and a numpy call
    has less overhead than a torch op; the cross-attention is folded with the window's memory
    (two products instead of four). Layer norms and softmax stay torch kernels on zero-copy
    views. Chunks (the prompt) take the torch path; both share the KV cache. Enter `running()`
    around a window's steps (it bounds numpy's BLAS threads).
    """

    def __init__(self, model: VidMusicianLM, onednn: bool | None = None, single: bool | None = None):
        reason = unsupported_reason(model)
        if reason is not None:
            raise UnsupportedModel(reason)
        self.model = model
        lm = model.lm
        self.lm = lm
        self.layers = list(lm.transformer.layers)
        attn = self.layers[0].self_attn
        self.dim = lm.dim
        self.heads = attn.num_heads
        self.head_dim = self.dim // self.heads
        self.K = lm.num_codebooks
        self.card = lm.card
        self._steps = 0
        self._capacity = 0
        on_cpu = lm.emb[0].weight.device.type == "cpu"
        if single and not on_cpu:
            raise ValueError("FastStep: the numpy single-step path needs the model on the CPU")
        default_single = on_cpu and NUMPY_SINGLE_STEP and lm.dim <= NUMPY_SINGLE_MAX_DIM
        self.single = default_single if single is None else single
        # With the numpy single step, torch only sees a window's prompt chunk (one product per
        # weight): reordering every weight for oneDNN (2.3 ms a window) would cost more than it saves.
        default_onednn = on_cpu and _onednn_available() and not self.single
        self.onednn = default_onednn if onednn is None else onednn
        self._linear = _onednn_linear if self.onednn else F.linear

    # -- per window ----------------------------------------------------------------------------
    @torch.no_grad()
    def start(self, memory: torch.Tensor | None, batch: int, max_steps: int) -> None:
        """Reset for a window of at most `max_steps` pattern steps; project the memory once."""
        lm, tr = self.lm, self.lm.transformer
        weight = lm.emb[0].weight
        device, dtype = weight.device, weight.dtype
        self.batch = batch
        self._capacity = max_steps
        self._steps = 0
        H, d = self.heads, self.head_dim
        self._k = [torch.empty(batch, H, max_steps, d, device=device, dtype=dtype) for _ in self.layers]
        self._v = [torch.empty(batch, H, max_steps, d, device=device, dtype=dtype) for _ in self.layers]
        from audiocraft.modules.transformer import create_sin_embedding

        positions = torch.arange(max_steps, device=device).view(1, -1, 1)
        self._pos = tr.positional_scale * create_sin_embedding(
            positions, self.dim, max_period=tr.max_period, dtype=dtype
        )
        pack = _onednn_pack if self.onednn else (lambda w: w)
        # Embedding rows of codebook k start at k * rows: one embedding_bag sums all K lookups.
        rows = weight.shape[0]
        self._emb_table = torch.cat([e.weight for e in lm.emb], dim=0)
        self._emb_offsets = (torch.arange(self.K, device=device) * rows).view(1, self.K, 1)
        self._head_w_plain = torch.cat([lin.weight for lin in lm.linears], dim=0)
        self._head_w = pack(self._head_w_plain)
        biases = [lin.bias for lin in lm.linears]
        self._head_b = None if biases[0] is None else torch.cat(biases, dim=0)
        self._refs = [_LayerRefs.of(layer, pack) for layer in self.layers]
        on = lm.out_norm
        self._out_norm = None if on is None else (on.normalized_shape, on.weight, on.bias, on.eps)
        self._cross_kv: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        for layer in self.layers:
            ca = layer.cross_attention
            if ca is None:
                if memory is not None:
                    raise ValueError("this LM has no cross-attention; pass memory=None")
                self._cross_kv.append(None)
                continue
            if memory is None:
                raise ValueError("this LM cross-attends: a memory is required")
            mem = memory.to(dtype)
            D = self.dim
            w, b = ca.in_proj_weight, ca.in_proj_bias
            k = F.linear(mem, w[D : 2 * D], None if b is None else b[D : 2 * D])
            v = F.linear(mem, w[2 * D :], None if b is None else b[2 * D :])
            B, M, _ = k.shape
            self._cross_kv.append(
                (
                    k.view(B, M, H, d).transpose(1, 2).contiguous(),
                    v.view(B, M, H, d).transpose(1, 2).contiguous(),
                )
            )
        if self.single:
            self._np_layers = [
                _NumpyLayer.of(layer, kv, H) for layer, kv in zip(self.layers, self._cross_kv, strict=True)
            ]
            self._np_k = [k.numpy() for k in self._k]  # views: the torch path writes the same cache
            self._np_v = [v.numpy() for v in self._v]
            self._np_emb = self._emb_table.detach().numpy()
            self._np_offsets = self._emb_offsets[..., 0].numpy()  # [1, K]
            self._np_pos = self._pos[0].numpy()  # [max_steps, D]
            self._np_head = np.ascontiguousarray(self._head_w_plain.detach().numpy().T)
            self._np_head_b = None if self._head_b is None else self._head_b.detach().numpy()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """The scope of a window's steps: numpy's BLAS (OpenBLAS) limited to torch's thread count
        (the preset's `cpu_threads`), restored after. OpenBLAS splits a product over all cores
        from 2 x 192 x 1450 up; a tiny step's products are far too small for that to pay, and on
        shared cores the hand-offs cost more than the product."""
        controller = _blas_controller() if self.single else None
        if controller is None:
            yield
            return
        with controller.limit(limits=torch.get_num_threads(), user_api="blas"):
            yield

    # -- per step ------------------------------------------------------------------------------
    @torch.no_grad()
    def __call__(
        self, tokens: torch.Tensor, rhythm: list[torch.Tensor] | None, pos_offset: int
    ) -> torch.Tensor:
        B, K, s = tokens.shape
        p = self._steps
        if pos_offset != p:
            raise ValueError(f"FastStep: expected pos_offset {p}, got {pos_offset} (slices must follow)")
        if p + s > self._capacity:
            raise ValueError(f"FastStep: window of {self._capacity} steps exceeded")
        if s == 1 and self.single:
            return self._single(tokens, rhythm, p)
        H, d, D = self.heads, self.head_dim, self.dim
        idx = (tokens + self._emb_offsets).transpose(1, 2).reshape(B * s, K)
        x = F.embedding_bag(idx, self._emb_table, mode="sum").view(B, s, D)
        x = x + self._pos[:, p : p + s]
        end = p + s
        causal = s > 1
        layer_norm, linear = torch.layer_norm, self._linear
        for j, r in enumerate(self._refs):
            if rhythm is not None and j < len(rhythm):
                x = x + rhythm[j]
            qkv = linear(layer_norm(x, *r.norm1), r.qkv_w, r.qkv_b).view(B, s, 3, H, d)
            kc, vc = self._k[j], self._v[j]
            kc[:, :, p:end] = qkv[:, :, 1].transpose(1, 2)
            vc[:, :, p:end] = qkv[:, :, 2].transpose(1, 2)
            a = self._attend(qkv[:, :, 0].transpose(1, 2), kc[:, :, :end], vc[:, :, :end], causal, p)
            x = _residual(x, linear(a, r.out_w, r.out_b), r.scale1)
            kv = self._cross_kv[j]
            if kv is not None:
                q = linear(layer_norm(x, *r.norm_cross), r.cq_w, r.cq_b).view(B, s, H, d).transpose(1, 2)
                a = self._attend(q, kv[0], kv[1], False, 0)
                x = _residual(x, linear(a, r.cout_w, r.cout_b), r.scale_cross)
            h = linear(r.activation(linear(layer_norm(x, *r.norm2), r.ff1_w, r.ff1_b)), r.ff2_w, r.ff2_b)
            x = _residual(x, h, r.scale2)
        self._steps = end
        last = x[:, -1]
        if self._out_norm is not None:
            last = layer_norm(last, *self._out_norm)
        return linear(last, self._head_w, self._head_b).view(B, K, self.card)

    def _single(self, tokens: torch.Tensor, rhythm: list[torch.Tensor] | None, p: int) -> torch.Tensor:
        """One pattern step ([B, K, 1] tokens at position p) in numpy; logits [B, K, card]."""
        B = tokens.shape[0]
        H, d, D = self.heads, self.head_dim, self.dim
        x = self._np_emb[tokens[:, :, 0].numpy() + self._np_offsets].sum(axis=1)  # [B, D]
        x += self._np_pos[p]
        T = p + 1
        layer_norm, tensor, softmax = torch.layer_norm, torch.from_numpy, torch.softmax
        xt = tensor(x)  # the same memory: x only changes in place from here
        for j, r in enumerate(self._np_layers):
            if rhythm is not None and j < len(rhythm):
                x += rhythm[j][:, 0].detach().numpy()
            qkv = layer_norm(xt, *r.norm1).numpy() @ r.qkv  # [B, 3D], q already scaled
            if r.qkv_b is not None:
                qkv += r.qkv_b
            kc, vc = self._np_k[j], self._np_v[j]
            kc[:, :, p] = qkv[:, D : 2 * D].reshape(B, H, d)
            vc[:, :, p] = qkv[:, 2 * D :].reshape(B, H, d)
            w = np.matmul(qkv[:, :D].reshape(B, H, 1, d), kc[:, :, :T].swapaxes(-1, -2))
            w = softmax(tensor(w), -1).numpy()
            a = np.matmul(w, vc[:, :, :T]).reshape(B, D)
            x += _affine(a @ r.out, r.out_b, r.scale1)
            if r.cross_scores is not None:
                w = np.matmul(layer_norm(xt, *r.norm_cross).numpy()[:, None], r.cross_scores)  # [B, 1, H*M]
                if r.cross_scores_b is not None:
                    w += r.cross_scores_b
                w = softmax(tensor(w).view(B, H, -1), -1).numpy().reshape(B, 1, -1)
                x += _affine(np.matmul(w, r.cross_values)[:, 0], r.cout_b, r.scale_cross)
            h = layer_norm(xt, *r.norm2).numpy() @ r.ff1
            if r.ff1_b is not None:
                h += r.ff1_b
            h = r.activation(tensor(h)).numpy() if r.activation_np is None else r.activation_np(h)
            x += _affine(h @ r.ff2, r.ff2_b, r.scale2)
        self._steps = T
        if self._out_norm is not None:
            x = layer_norm(xt, *self._out_norm).numpy()
        logits = x @ self._np_head
        if self._np_head_b is not None:
            logits += self._np_head_b
        return tensor(logits).view(B, self.K, self.card)

    def _attend(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, causal: bool, past: int
    ) -> torch.Tensor:
        """[B, H, s, d] queries over [B, H, T, d] keys → [B, s, H*d]; causal with `past` earlier keys."""
        B, H, s, d = q.shape
        mask = None
        if causal:
            T = k.shape[2]
            q_pos = torch.arange(past, past + s, device=q.device).view(-1, 1)
            mask = q_pos >= torch.arange(T, device=q.device).view(1, -1)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=1.0 / math.sqrt(d))
        return out.transpose(1, 2).reshape(B, s, H * d)
