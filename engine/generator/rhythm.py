"""In-attention: the rhythm curve added to the hidden state before each of the first blocks.

F_R1 = L_1(O(d)), F_Rj = L_j(F_R(j-1)); block j sees h_j + F_Rj (VidMusician §3). O is a
zero-initialised linear map with no bias, so a fresh branch adds exact zeros (the backbone's
logits are bit-identical) and a zero curve is a no-op at any time (the null rhythm for
classifier-free guidance is zeros). The L_j start as identities, so once O learns a direction
every block first sees that same direction and each L_j only has to learn a correction.
"""

from __future__ import annotations

import torch
from torch import nn


def rhythm_layer_count(num_layers: int, fraction: float) -> int:
    """How many blocks get the rhythm: the first `fraction` of them, at least one."""
    return max(1, min(num_layers, int(num_layers * fraction)))


class InAttention(nn.Module):
    """Maps a [B, T, channels] rhythm curve on the token grid to one [B, T, dim] input per block."""

    def __init__(self, channels: int, dim: int, num_blocks: int):
        super().__init__()
        self.channels = channels
        self.dim = dim
        self.proj_in = nn.Linear(channels, dim, bias=False)  # O
        nn.init.zeros_(self.proj_in.weight)
        self.chain = nn.ModuleList(nn.Linear(dim, dim) for _ in range(num_blocks))  # L_1 .. L_n
        for lin in self.chain:
            nn.init.eye_(lin.weight)
            nn.init.zeros_(lin.bias)

    @property
    def num_blocks(self) -> int:
        return len(self.chain)

    def forward(self, curve: torch.Tensor) -> list[torch.Tensor]:
        """Per-block additions F_R1..F_Rn for every step of `curve` ([B, T, channels])."""
        h = self.proj_in(curve)
        out = []
        for lin in self.chain:
            h = lin(h)
            out.append(h)
        return out
