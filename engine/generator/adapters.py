"""Adapter checkpoints: the trainable tensors in one safetensors file, checked against the model.

The file carries its shape in metadata (backbone dims, adapter sizes) so loading an adapter onto
the wrong backbone fails with a sentence, not a tensor-shape traceback halfway through.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.errors import AdapterMismatchError, ModelNotFoundError
from engine.generator.model import VidMusicianLM

FORMAT = "vidmusician-adapters"
FORMAT_VERSION = "1"


def signature(model: VidMusicianLM, backbone_id: str) -> dict[str, str]:
    """What must match between a checkpoint and the model it is loaded onto."""
    lm = model.lm
    sig = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "backbone": backbone_id,
        "lm_dim": str(lm.dim),
        "lm_layers": str(len(lm.transformer.layers)),
        "n_q": str(lm.num_codebooks),
        "card": str(lm.card),
        "rhythm_channels": str(model.rhythm.channels),
        "rhythm_blocks": str(model.rhythm.num_blocks),
    }
    if model.grid is not None:  # only then: checkpoints from before the grid inputs still load
        sig["grid_channels"] = str(model.grid.channels)
    if model.semantic is not None:
        sig.update({"cls_dim": str(model.semantic.cls_dim), "t5_dim": str(model.semantic.t5_dim)})
    return sig


def save_adapters(
    model: VidMusicianLM, path: Path, backbone_id: str, extra: dict[str, str] | None = None
) -> None:
    from safetensors.torch import save_file

    meta = {**signature(model, backbone_id), **(extra or {})}
    state = {k: v.detach().contiguous().cpu() for k, v in model.adapter_state().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(state, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_adapters(model: VidMusicianLM, path: Path, backbone_id: str) -> dict[str, str]:
    """Load `path` into `model` after checking it was made for this backbone; returns its metadata."""
    from safetensors import safe_open

    if not path.is_file():
        raise ModelNotFoundError(
            f"{path}: adapter checkpoint not found; train one with `vm-train` "
            "or copy adapters.safetensors there"
        )
    with safe_open(str(path), framework="pt") as f:
        meta = dict(f.metadata() or {})
        state = {k: f.get_tensor(k) for k in f.keys()}
    if meta.get("format") != FORMAT:
        raise AdapterMismatchError(
            f"{path}: not a VidMusician adapter checkpoint (format={meta.get('format')!r})"
        )
    want = signature(model, backbone_id)
    diffs = [f"{k}: file {meta.get(k)!r} vs model {v!r}" for k, v in want.items() if meta.get(k) != v]
    if diffs:
        raise AdapterMismatchError(
            f"{path}: made for another backbone or adapter shape ({'; '.join(diffs)}); "
            "use the preset it was trained for or retrain the adapters"
        )
    expected = model.adapter_state()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise AdapterMismatchError(
            f"{path}: tensors do not match this model (missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}); retrain the adapters for this preset"
        )
    for key, tensor in state.items():
        if tensor.shape != expected[key].shape:
            raise AdapterMismatchError(
                f"{path}: {key} has shape {tuple(tensor.shape)}, model expects {tuple(expected[key].shape)}"
            )
    model.rhythm.load_state_dict(
        {k[len("rhythm.") :]: v for k, v in state.items() if k.startswith("rhythm.")}
    )
    if model.grid is not None:
        model.grid.load_state_dict({k[len("grid.") :]: v for k, v in state.items() if k.startswith("grid.")})
    if model.semantic is not None:
        sem = {k[len("semantic.") :]: v for k, v in state.items() if k.startswith("semantic.")}
        result = model.semantic.load_state_dict(sem, strict=False)
        bad = [k for k in result.missing_keys if not k.startswith("t5.") or "lora_" in k]
        if bad or result.unexpected_keys:
            raise AdapterMismatchError(
                f"{path}: semantic tensors do not fit ({bad[:5]}, {result.unexpected_keys[:5]})"
            )
    return {k: v for k, v in meta.items() if k not in want}


def describe(meta: dict[str, str]) -> str:
    return json.dumps(meta, sort_keys=True)
