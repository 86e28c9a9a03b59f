"""Image preprocessing for the CLIP tower, exactly as an open_clip `preprocess_cfg` says.

open_clip's eval transform for `resize_mode="shortest"` is: resize so the shorter side equals
`size` (the longer side is `int(size * long / short)`, as torchvision's Resize computes it) with
the configured interpolation, centre-crop `size`×`size` (offsets rounded as CenterCrop does), then
scale to [0, 1] and normalise by `mean`/`std`. Here the geometry is split in two so that decoding
never builds a full-resolution RGB copy:

- the resize happens inside the decode pass, straight from the decoder's YUV planes, with
  swscale's kernel of the same name (`bicubic` -> SWS_BICUBIC, ...); see `ResizePlan`;
- the crop and normalisation are vectorised over a whole batch of frames (`normalise_batch`).

Display geometry is honoured before any of this: rotation metadata (multiples of 90°) and
non-square pixels (sample aspect ratio) change which side is "shorter".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# open_clip interpolation names -> swscale kernel names (PyAV's Interpolation enum).
_SWS_KERNEL = {"bicubic": "BICUBIC", "bilinear": "BILINEAR", "nearest": "POINT", "lanczos": "LANCZOS"}


@dataclass(frozen=True)
class PreprocessConfig:
    """The subset of open_clip's PreprocessCfg the eval transform uses."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str = "bicubic"
    resize_mode: str = "shortest"

    @classmethod
    def from_dict(cls, cfg: dict[str, Any]) -> PreprocessConfig:
        size = cfg.get("size", 224)
        if isinstance(size, (list, tuple)):
            if size[0] != size[1]:
                raise ValueError(f"non-square tower input {size} is not supported")
            size = size[0]
        mode = cfg.get("resize_mode", "shortest")
        if mode not in ("shortest", "squash"):
            raise ValueError(f"resize_mode {mode!r} is not supported (shortest, squash)")
        interp = cfg.get("interpolation", "bicubic")
        if interp not in _SWS_KERNEL:
            raise ValueError(f"interpolation {interp!r} is not supported ({', '.join(_SWS_KERNEL)})")
        return cls(
            size=int(size),
            mean=tuple(float(v) for v in cfg["mean"]),
            std=tuple(float(v) for v in cfg["std"]),
            interpolation=interp,
            resize_mode=mode,
        )

    @property
    def sws_interpolation(self) -> str:
        return _SWS_KERNEL[self.interpolation]


@dataclass(frozen=True)
class ResizePlan:
    """How one stream's frames become `size`×`size` tower crops.

    `scale_w`/`scale_h` are the swscale output size in the frame's *stored* orientation;
    `rot_k` quarter turns counter-clockwise (np.rot90) bring it to display orientation; then
    `top`/`left` locate the centre crop.
    """

    scale_w: int
    scale_h: int
    rot_k: int
    top: int
    left: int
    size: int
    interpolation: str

    @classmethod
    def for_stream(
        cls, cfg: PreprocessConfig, width: int, height: int, sar: float = 1.0, rotation: float = 0.0
    ) -> ResizePlan:
        rot_k = int(round(rotation / 90.0)) % 4
        disp_w, disp_h = width * (sar if sar > 0 else 1.0), float(height)
        if rot_k % 2:
            disp_w, disp_h = disp_h, disp_w
        s = cfg.size
        if cfg.resize_mode == "squash":
            out_w = out_h = s
        elif disp_w <= disp_h:  # torchvision Resize(int): short side -> s, long side truncated
            out_w, out_h = s, int(s * disp_h / disp_w)
        else:
            out_w, out_h = int(s * disp_w / disp_h), s
        top = int(round((out_h - s) / 2.0))
        left = int(round((out_w - s) / 2.0))
        scale_w, scale_h = (out_h, out_w) if rot_k % 2 else (out_w, out_h)
        return cls(scale_w, scale_h, rot_k, top, left, s, cfg.sws_interpolation)

    def crop(self, rgb: np.ndarray) -> np.ndarray:
        """Rotate a swscale output [scale_h, scale_w, 3] to display orientation and centre-crop it."""
        if self.rot_k:
            rgb = np.rot90(rgb, self.rot_k)
        return np.ascontiguousarray(rgb[self.top : self.top + self.size, self.left : self.left + self.size])


def normalise_batch(crops: np.ndarray, cfg: PreprocessConfig) -> np.ndarray:
    """uint8 [B, S, S, 3] RGB crops -> float32 [B, 3, S, S], (x / 255 - mean) / std, in one pass."""
    scale = (1.0 / (255.0 * np.asarray(cfg.std, dtype=np.float32))).reshape(1, 3, 1, 1)
    shift = (np.asarray(cfg.mean, dtype=np.float32) / np.asarray(cfg.std, dtype=np.float32)).reshape(
        1, 3, 1, 1
    )
    x = crops.transpose(0, 3, 1, 2).astype(np.float32)
    x *= scale
    x -= shift
    return x
