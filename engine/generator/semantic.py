"""The semantic path: CLIP [CLS] vectors → T5 pseudo-tokens → T5 (LoRA) → cross-attention memory.

An Embedding Manager (one linear layer) puts each 1 fps [CLS] vector into T5's input-embedding
space; a text style prompt, when given, is embedded by T5's own token table and placed after the
pseudo-tokens; T5 (frozen, LoRA on its attention) encodes the lot; a projector maps it to the LM
width. The result is the key/value memory of cross-attention in every LM block.

Initialisation and what it means for the backbone: LoRA's B matrices start at zero, so the
adapted T5 computes exactly what the frozen T5 computes; the projector starts as a copy of the
backbone's own text projection when it has one (MusicGen's T5 conditioner). A fresh path given
only a text prompt therefore hands the backbone the very memory stock MusicGen would; given
[CLS] vectors it adds untrained pseudo-tokens, which is what stage-1 training is for.
"""

from __future__ import annotations

import torch
from torch import nn

NULL_LENGTH = 1


class SemanticPath(nn.Module):
    def __init__(
        self,
        t5: nn.Module,
        tokenizer,
        cls_dim: int,
        lm_dim: int,
        lora_rank: int,
        lora_alpha: float,
        lora_targets: tuple[str, ...],
        projector_init: nn.Linear | None = None,
    ):
        super().__init__()
        from peft import LoraConfig, inject_adapter_in_model

        self.tokenizer = tokenizer
        self.t5_dim = int(t5.config.d_model)
        self.cls_dim = cls_dim
        self.lm_dim = lm_dim
        t5.requires_grad_(False)
        t5.eval()
        if lora_rank > 0:
            lora = LoraConfig(
                r=lora_rank,
                lora_alpha=lora_alpha,
                lora_dropout=0.0,
                target_modules=list(lora_targets),
                bias="none",
            )
            inject_adapter_in_model(lora, t5)  # trainable lora_A / lora_B, B = 0
        self.t5 = t5
        self.embedding_manager = nn.Linear(cls_dim, self.t5_dim)
        self.projector = nn.Linear(self.t5_dim, lm_dim)
        if projector_init is not None:
            with torch.no_grad():
                self.projector.weight.copy_(projector_init.weight)
                if projector_init.bias is not None:
                    self.projector.bias.copy_(projector_init.bias)
                else:
                    self.projector.bias.zero_()

    def adapter_state(self) -> dict[str, torch.Tensor]:
        """The trainable tensors only (Embedding Manager, LoRA, projector): what a checkpoint holds."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("t5.") or "lora_" in k}

    def _prompt_tokens(self, prompts: list[str | None], device: torch.device):
        entries = [p or "" for p in prompts]
        enc = self.tokenizer(entries, return_tensors="pt", padding=True)
        ids = enc["input_ids"].to(device)
        mask = enc["attention_mask"].to(device)
        for i, p in enumerate(prompts):  # no prompt: its tokens are padding (as audiocraft's T5 path does)
            if not p:
                mask[i] = 0
        return ids, mask

    def forward(
        self, cls: torch.Tensor | None, prompts: list[str | None]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Memory [B, L, lm_dim] and mask [B, L] for B scenes; cls is [B, N, cls_dim] or None.

        With neither pseudo-tokens nor any prompt, the memory is the null condition (zeros).
        """
        device = self.projector.weight.device
        batch = len(prompts)
        parts, masks = [], []
        if cls is not None:
            cls = cls.to(device=device, dtype=self.embedding_manager.weight.dtype)
            parts.append(self.embedding_manager(cls))
            masks.append(torch.ones(cls.shape[:2], dtype=torch.long, device=device))
        if any(prompts):
            ids, pmask = self._prompt_tokens(prompts, device)
            parts.append(self.t5.get_input_embeddings()(ids))
            masks.append(pmask)
        if not parts:
            return (
                torch.zeros(batch, NULL_LENGTH, self.lm_dim, device=device),
                torch.zeros(batch, NULL_LENGTH, dtype=torch.long, device=device),
            )
        embeds = torch.cat(parts, dim=1)
        mask = torch.cat(masks, dim=1)
        hidden = self.t5(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
        memory = self.projector(hidden.to(self.projector.weight)) * mask.unsqueeze(-1)
        return memory, mask


def build_builtin_t5(spec: dict, seed: int) -> tuple[nn.Module, object]:
    """A small T5 encoder from a config plus ByT5's byte tokenizer (no vocabulary file to fetch)."""
    from transformers import ByT5Tokenizer, T5Config, T5EncoderModel

    defaults = {
        "d_model": 128,
        "d_kv": 32,
        "d_ff": 256,
        "num_layers": 2,
        "num_heads": 4,
        "vocab_size": 259,
        "dropout_rate": 0.0,
        "feed_forward_proj": "gated-gelu",
    }
    config = T5Config(**{**defaults, **spec}, is_encoder_decoder=False, use_cache=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = T5EncoderModel(config)
    return model.eval(), ByT5Tokenizer(extra_ids=0)
