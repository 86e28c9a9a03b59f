"""MusicGen's training objective on VidMusician's forward: token cross-entropy under the delay pattern.

As `LMModel.compute_predictions` does: codes [B, K, T] → the delay-pattern sequence [B, K, S]
(`keep_only_valid_steps`), logits from `VidMusicianLM.forward` (semantic memory as cross-attention,
rhythm frame t added at pattern step t, exactly as `decoding.generate_window` adds it), reverted to
[B, K, T, card] with the pattern's validity mask. The loss is the mean over samples and codebooks
of each one's mean CE over its valid steps, so it is linear in the samples: W processes averaging
their gradients get exactly one process's gradient for the same global batch.

Memory padding: like MusicGen's T5 conditioner, the semantic memory is zero-padded to the longest
entry of the batch and cross-attention sees the zero rows (audiocraft has no cross-attention mask),
so the padding length changes the result. It is therefore set by the *global* batch of the step
(every rank pads to the same length), which keeps W processes equal to one.

Classifier-free guidance dropout: a dropped sample gets the generator's null condition (zero
memory, zero rhythm), the very inputs the unconditional half of a CFG batch gets at inference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.generator.model import VidMusicianLM
from engine.train.batches import Batch
from engine.train.stages import StageSpec


class TokenObjective(nn.Module):
    """`change_weight` on codebook `change_codebook`: its frames where the token differs from the
    frame before (and its first frame) weigh that much more. Why: the symbolic style stream names
    the style on every frame, so all but the first frame of a crop are a copy of the frame before;
    the one frame where the conditions (pictures, prompt) decide the style would otherwise be
    1/300 of that stream's loss, and the semantic path learns almost nothing from it."""

    def __init__(
        self,
        model: VidMusicianLM,
        spec: StageSpec,
        change_codebook: int | None = None,
        change_weight: float = 1.0,
    ):
        super().__init__()
        self.model = model
        self.spec = spec
        self.change_codebook = change_codebook
        self.change_weight = float(change_weight)
        self._tokens: dict[str, int] = {}

    def memory_length(self, batch: Batch) -> int:
        """Rows of the semantic memory for the longest entry of the step's global batch."""
        prompts = batch.step_prompts if batch.step_prompts is not None else batch.prompts
        tok = self.model.semantic.tokenizer
        for p in prompts:
            if p and p not in self._tokens:
                self._tokens[p] = len(tok(p)["input_ids"])
        text = max((self._tokens[p] for p in prompts if p), default=0)
        cls = batch.cls.shape[1] if self.spec.uses_cls else 0
        return max(1, cls + text)

    def logits(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits [B, K, T, card] for every code of `batch.codes` and the valid mask [K, T]."""
        model, lm = self.model, self.model.lm
        B, K, T = batch.codes.shape
        pattern = lm.pattern_provider.get_pattern(T)
        seq, _, _ = pattern.build_pattern_sequence(
            batch.codes, lm.special_token_id, keep_only_valid_steps=True
        )
        S = seq.shape[-1]
        memory = None
        if model.semantic is not None:
            cls = batch.cls if self.spec.uses_cls else None
            memory, _ = model.semantic(cls, batch.prompts)
            memory = F.pad(memory, (0, 0, 0, self.memory_length(batch) - memory.shape[1]))
            memory = memory * batch.keep.to(memory.dtype)[:, None, None]
        curve = batch.rhythm * batch.keep[:, None, None] if self.spec.uses_rhythm else None
        feats = model.frame_additions(curve, batch.grid, S, B)
        logits = model(seq, memory, feats)  # [B, K, S, card]
        logits, _, mask = pattern.revert_pattern_logits(
            logits.permute(0, 3, 1, 2), float("nan"), keep_only_valid_steps=True
        )
        return logits.permute(0, 2, 3, 1), mask  # [B, K, T, card], [K, T]

    def forward(self, batch: Batch) -> torch.Tensor:
        logits, mask = self.logits(batch)
        B, K, T, card = logits.shape
        valid = mask[None].expand(B, K, T)
        logits = torch.where(
            valid[..., None], logits, torch.zeros((), dtype=logits.dtype, device=logits.device)
        )
        ce = F.cross_entropy(logits.reshape(-1, card).float(), batch.codes.reshape(-1), reduction="none")
        weight = valid.to(ce.dtype)
        k = self.change_codebook
        if k is not None and self.change_weight != 1.0:
            row = batch.codes[:, k]
            changed = torch.ones_like(row, dtype=torch.bool)
            changed[:, 1:] = row[:, 1:] != row[:, :-1]
            weight[:, k] = weight[:, k] * torch.where(changed, self.change_weight, 1.0).to(ce.dtype)
        ce = ce.view(B, K, T) * weight
        per = ce.sum(-1) / weight.sum(-1).clamp(min=1e-6)  # [B, K]
        return per.mean()
