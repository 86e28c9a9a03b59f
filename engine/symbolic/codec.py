"""The symbolic streams as an audiocraft CompressionModel: decode = render through the soundfont.

Why: MusicGen's generation and our long-form windows talk to a codec (frame_rate, sample_rate,
cardinality, num_codebooks, decode); dressing the renderer as one keeps them unchanged. Audio
cannot be turned back into notes, so encode raises: continue a cue from its saved tokens.
"""

from __future__ import annotations

import numpy as np
import torch
from audiocraft.models.encodec import CompressionModel
from torch import nn

from engine.symbolic.renderer import render
from engine.symbolic.score import FRAME_RATE, STREAMS
from engine.symbolic.tokens import CARD
from engine.timebase import CUE_SAMPLE_RATE

SAMPLE_RATE = CUE_SAMPLE_RATE
CHANNELS = 2


class NotEncodable(RuntimeError):
    """Audio was handed to the symbolic codec, which only renders notes."""


_NOT_ENCODABLE = (
    "the symbolic codec renders notes and cannot turn audio back into them: continue or regenerate "
    "a cue from the tokens saved beside its WAV, not from its audio"
)


class SymbolicCodec(CompressionModel):
    """Renders [B, len(STREAMS), T] tokens as [B, 2, T * 960] audio at 48 kHz. No weights."""

    # Notes render as a whole (a held note, a reverb tail): long-form generation decodes the whole
    # token sequence once instead of crossfading windows decoded apart (engine.generator.longform).
    decodes_whole = True

    def __init__(self, sample_rate: int = SAMPLE_RATE, tail_frames: int = 0) -> None:
        super().__init__()
        if sample_rate % FRAME_RATE:
            raise ValueError(f"sample_rate {sample_rate} must be a multiple of {FRAME_RATE}")
        self._sample_rate = int(sample_rate)
        self.tail_frames = int(tail_frames)
        # Callers find the codec's device with next(codec.parameters()); this empty tensor answers
        # them without giving the codec anything to train.
        self.device_anchor = nn.Parameter(torch.zeros(0), requires_grad=False)

    def forward(self, x: torch.Tensor):
        raise NotEncodable(_NOT_ENCODABLE)

    def encode(self, x: torch.Tensor):
        raise NotEncodable(_NOT_ENCODABLE)

    def decode_latent(self, codes: torch.Tensor):
        raise NotEncodable(
            "the symbolic codec has no latent space: its tokens are notes; render them with decode()"
        )

    def decode(self, codes: torch.Tensor, scale: torch.Tensor | None = None) -> torch.Tensor:
        """[B, K, T] token ids -> [B, 2, (T + tail_frames) * hop] float audio on the codes' device."""
        if codes.dim() != 3 or codes.shape[1] != len(STREAMS):
            raise ValueError(
                f"codes must be [batch, {len(STREAMS)} streams ({', '.join(STREAMS)}), frames]; got {tuple(codes.shape)}"
            )
        items = codes.detach().to("cpu", torch.long).numpy()
        audio = np.stack([render(item, self._sample_rate, tail_frames=self.tail_frames) for item in items])
        return torch.from_numpy(audio).to(codes.device)

    @property
    def channels(self) -> int:
        return CHANNELS

    @property
    def frame_rate(self) -> float:
        return float(FRAME_RATE)

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def cardinality(self) -> int:
        return CARD

    @property
    def num_codebooks(self) -> int:
        return len(STREAMS)

    @property
    def total_codebooks(self) -> int:
        return len(STREAMS)

    def set_num_codebooks(self, n: int) -> None:
        if n != len(STREAMS):
            raise ValueError(
                f"the symbolic codec always has {len(STREAMS)} codebooks (one per stream), not {n}"
            )
