"""VidMusician's LM: the frozen audiocraft LMModel driven with adapters on the 50 Hz token grid.

The forward pass is audiocraft's own (`LMModel.forward` → `StreamingTransformer.forward`), step by
step, with two differences: the cross-attention memory comes from the semantic path instead of a
fuser, and block j < n sees h_j + F_Rj. Positions are explicit (`pos_offset`), so the rhythm
frame added at a step is the same in a full forward and in streaming generation: audiocraft's
`input_interpolate` fuser stretches a condition to whatever length it is handed, which while
streaming is one step. With F_R = 0 the computation is op for op that of `LMModel.forward`.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.generator.grid_position import GridPosition
from engine.generator.rhythm import InAttention, rhythm_layer_count
from engine.generator.semantic import SemanticPath


class VidMusicianLM(nn.Module):
    def __init__(
        self,
        lm: nn.Module,
        semantic: SemanticPath | None,
        rhythm_channels: int,
        rhythm_fraction: float,
        grid_channels: int = 0,
    ):
        super().__init__()
        lm.requires_grad_(False)
        self.lm = lm
        self.semantic = semantic
        layers = lm.transformer.layers
        self.rhythm = InAttention(rhythm_channels, lm.dim, rhythm_layer_count(len(layers), rhythm_fraction))
        dtype = next(lm.parameters()).dtype
        device = next(lm.parameters()).device
        self.rhythm.to(device=device)
        # where each frame sits in beat, bar and phrase (`grid_position`); trained with the LM
        self.grid = GridPosition(lm.dim, grid_channels).to(device=device) if grid_channels else None
        if semantic is not None:
            semantic.to(device=device)
        self.lm_dtype = dtype

    # -- adapters ------------------------------------------------------------------------------
    def adapter_state(self) -> dict[str, torch.Tensor]:
        state = {f"rhythm.{k}": v for k, v in self.rhythm.state_dict().items()}
        if self.grid is not None:
            state.update({f"grid.{k}": v for k, v in self.grid.state_dict().items()})
        if self.semantic is not None:
            state.update({f"semantic.{k}": v for k, v in self.semantic.adapter_state().items()})
        return state

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def rhythm_features(self, curve: torch.Tensor | None) -> list[torch.Tensor] | None:
        """Per-block additions for a [B, T, C] curve on the token grid (None: no rhythm at all)."""
        if curve is None:
            return None
        feats = self.rhythm(curve.to(self.rhythm.proj_in.weight))
        return [f.to(self.lm_dtype) for f in feats]

    def frame_additions(
        self, curve: torch.Tensor | None, grid: torch.Tensor | None, steps: int, batch: int
    ) -> list[torch.Tensor] | None:
        """Per-block additions for `batch` rows over `steps` pattern steps: the rhythm path's
        (`curve` [b, T, C]) on the first b rows (a guidance batch's unconditioned rows get none),
        and the grid position's (`grid` [b, T, GRID_CHANNELS]) on block 0 of every row. None when
        there is neither."""
        feats = self.rhythm_window(self.rhythm_features(curve), 0, steps, batch)
        if grid is None or self.grid is None:
            return feats
        g = self.grid(grid).to(self.lm_dtype)[:, :steps]
        if g.shape[1] < steps:
            g = torch.cat([g, g.new_zeros(g.shape[0], steps - g.shape[1], g.shape[2])], dim=1)
        if g.shape[0] < batch:
            g = g.expand(batch, -1, -1) if g.shape[0] == 1 else torch.cat([g, g[: batch - g.shape[0]]], 0)
        if feats is None:
            return [g.contiguous()]
        return [feats[0] + g, *feats[1:]]

    # -- forward -------------------------------------------------------------------------------
    def forward(
        self,
        sequence: torch.Tensor,
        memory: torch.Tensor | None,
        rhythm: list[torch.Tensor] | None = None,
        pos_offset: int = 0,
    ) -> torch.Tensor:
        """Logits [B, K, S, card] for pattern steps pos_offset .. pos_offset+S-1.

        `rhythm[j]` is [B, S, dim] for exactly these steps (slice the window's features with the
        same offsets). In streaming, call inside `self.lm.streaming()` with growing `pos_offset`.
        """
        lm = self.lm
        B, K, S = sequence.shape
        x = sum([lm.emb[k](sequence[:, k]) for k in range(K)])
        tr = lm.transformer
        if tr.positional_embedding in ("sin", "sin_rope"):
            from audiocraft.modules.transformer import create_sin_embedding

            positions = torch.arange(S, device=x.device).view(1, -1, 1) + pos_offset
            x = x + tr.positional_scale * create_sin_embedding(
                positions, x.shape[-1], max_period=tr.max_period, dtype=x.dtype
            )
        if memory is not None:
            memory = memory.to(x.dtype)
        for j, layer in enumerate(tr.layers):
            if rhythm is not None and j < len(rhythm):
                x = x + rhythm[j]
            x = tr._apply_layer(layer, x, cross_attention_src=memory, src_mask=None)
        if lm.out_norm:
            x = lm.out_norm(x)
        return torch.stack([lm.linears[k](x) for k in range(K)], dim=1)

    def rhythm_window(
        self, feats: list[torch.Tensor] | None, start: int, stop: int, batch: int
    ) -> list[torch.Tensor] | None:
        """Slice per-block features to steps [start, stop), zero-padded past their end, and add
        zero rows for the unconditional half of a CFG batch."""
        if feats is None:
            return None
        out = []
        for f in feats:
            part = f[:, start:stop]
            if part.shape[1] < stop - start:
                pad = torch.zeros(
                    f.shape[0], stop - start - part.shape[1], f.shape[2], dtype=f.dtype, device=f.device
                )
                part = torch.cat([part, pad], dim=1)
            if batch > part.shape[0]:
                part = torch.cat(
                    [
                        part,
                        torch.zeros(
                            batch - part.shape[0], *part.shape[1:], dtype=part.dtype, device=part.device
                        ),
                    ],
                    dim=0,
                )
            out.append(part)
        return out
