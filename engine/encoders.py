"""The open_clip image tower: build it in PyTorch, export it to ONNX, run it with ONNX Runtime.

The tower's ONNX graph maps a normalised batch float32 [B, 3, S, S] to
`pooled` [B, embed_dim] (the projected CLS embedding) and `tokens` [B, P, width] (the patch
tokens after `ln_post`, CLS excluded) — open_clip's VisionTransformer with `output_tokens=True`.

Presets say which tower (resources/presets/<name>/visual.json):
- `tiny`: a small ViT registered from resources/encoders/tiny/vm-tiny-vit.json. No trained CLIP
  exists offline, so its weights are a fixed-seed random initialisation (seed in visual.json),
  shipped as safetensors beside the ONNX files; a later issue trains it.
- `musicgen-small`: OpenAI CLIP ViT-B/32 from a local file or the Hugging Face cache (never
  downloaded here). Tests and benchmarks build it randomly initialised (`random_init_seed`).

CPU precision: a preset may say `"cpu_precision": "int8"` (the ViT-B/32 presets do). The export
then also writes `visual.int8.onnx`, ONNX Runtime's dynamic int8 quantisation of the same graph
(weights per output channel, activations per batch), which runs the tower about 3x faster on a CPU
with VNNI. It cannot meet the 1e-4 fp32 parity, so it has its own check: cosine similarity with the
fp32 outputs >= INT8_MIN_COSINE. The fp32 graph stays the reference and the CUDA path; features
computed in int8 carry their own encoder id, so the cache never mixes the two.

Only the export and parity check import torch/open_clip; inference needs only onnxruntime.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import ModelNotFoundError, PresetError
from engine.preprocess import PreprocessConfig
from engine.presets import load_preset, resources_root

log = logging.getLogger(__name__)

ONNX_NAME = "visual.onnx"
INT8_NAME = "visual.int8.onnx"
META_NAME = "meta.json"
PARITY_TOL = 1e-4
INT8_MIN_COSINE = 0.999
PRECISIONS = ("fp32", "int8")
BATCH = 16


def default_cache_root() -> Path:
    """$VIDMUSICIAN_CACHE_DIR, else $XDG_CACHE_HOME/vidmusician, else ~/.cache/vidmusician."""
    env = os.environ.get("VIDMUSICIAN_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "vidmusician"


def visual_spec(preset: str) -> dict[str, Any]:
    spec = load_preset(preset).visual
    if "open_clip_model" not in spec:
        raise PresetError(f"preset {preset!r}: visual.json names no open_clip_model; add one")
    return spec


def default_encoder_dir(preset: str) -> Path:
    spec = visual_spec(preset)
    if spec.get("onnx_dir"):
        return resources_root() / spec["onnx_dir"]
    return default_cache_root() / "encoders" / f"{spec['encoder_id']}-v{spec.get('version', 1)}"


# ---------------------------------------------------------------- PyTorch side (export, parity)


def _register_config(spec: dict[str, Any]) -> None:
    import open_clip

    cfg = spec.get("open_clip_config")
    if cfg:
        open_clip.add_model_config(resources_root() / cfg)


def _weights_file(spec: dict[str, Any], preset: str) -> str:
    w = spec.get("weights") or {}
    if w.get("resource"):
        return str(resources_root() / w["resource"])
    if w.get("path"):
        path = os.path.expanduser(w["path"])
        if os.path.exists(path):
            return path
    if w.get("hf_repo"):
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(w["hf_repo"], w.get("file", "open_clip_model.safetensors"))
        if isinstance(hit, str):
            return hit
    raise ModelNotFoundError(
        f"preset {preset!r}: CLIP weights not found on this machine; fetch them with "
        f"`huggingface-cli download {w.get('hf_repo', '<repo>')} {w.get('file', '')}` or set "
        f"weights.path in resources/presets/{preset}/visual.json to a local open_clip checkpoint"
    )


def build_torch_tower(preset: str, *, random_init_seed: int | None = None):
    """The preset's open_clip visual tower (eval, fp32, output_tokens=True) and its preprocess cfg."""
    import open_clip
    import torch

    spec = visual_spec(preset)
    _register_config(spec)
    if random_init_seed is not None:
        torch.manual_seed(random_init_seed)
        model = open_clip.create_model(spec["open_clip_model"], pretrained=None)
    else:
        path = _weights_file(spec, preset)
        if path.endswith(".safetensors") and spec.get("weights", {}).get("visual_only"):
            from safetensors.torch import load_file

            model = open_clip.create_model(spec["open_clip_model"], pretrained=None)
            model.visual.load_state_dict(load_file(path))
        else:
            model = open_clip.create_model(spec["open_clip_model"], pretrained=path)
    visual = model.visual.eval().float()
    visual.output_tokens = True
    return visual, dict(visual.preprocess_cfg)


def cpu_precision(preset: str) -> str:
    """The precision the preset's tower runs in on a CPU: "fp32" (default) or "int8"."""
    value = visual_spec(preset).get("cpu_precision", "fp32")
    if value not in PRECISIONS:
        raise PresetError(f"preset {preset!r}: cpu_precision {value!r} in visual.json; use fp32 or int8")
    return value


def export_encoders(
    preset: str,
    out_dir: str | Path | None = None,
    *,
    random_init_seed: int | None = None,
    int8: bool | None = None,
) -> dict[str, Any]:
    """Export the preset's tower to `out_dir` (ONNX + external weights + meta.json), check parity.

    Returns the meta document; raises RuntimeError if ONNX Runtime and PyTorch disagree by more
    than PARITY_TOL (max abs difference, fp32) on pooled or tokens. With `int8` (default: the
    preset's cpu_precision) the int8 graph is written and checked too (`quantize_tower`).
    """
    import torch

    spec = visual_spec(preset)
    out = Path(out_dir) if out_dir is not None else default_encoder_dir(preset)
    out.mkdir(parents=True, exist_ok=True)
    seed = random_init_seed
    if seed is None and spec.get("weights", {}).get("init") == "random":
        seed = int(spec["weights"]["seed"])
        visual, pp = build_torch_tower(preset, random_init_seed=seed)
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in visual.state_dict().items()}, str(out / "visual.safetensors")
        )
    else:
        visual, pp = build_torch_tower(preset, random_init_seed=seed)
    size = int(pp["size"] if isinstance(pp["size"], int) else pp["size"][0])
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0))
    for stale in (out / ONNX_NAME, out / (ONNX_NAME + ".data")):
        stale.unlink(missing_ok=True)
    t0 = time.perf_counter()
    batch = torch.export.Dim("batch", min=2, max=4096)
    with torch.no_grad():
        torch.onnx.export(
            visual,
            (x,),
            str(out / ONNX_NAME),
            dynamo=True,
            input_names=["pixels"],
            output_names=["pooled", "tokens"],
            dynamic_shapes={"x": {0: batch}},
            external_data=True,
            optimize=True,
        )
    digest = hashlib.sha256()
    for f in sorted(out.glob(ONNX_NAME + "*")):
        digest.update(f.read_bytes())
    with torch.no_grad():
        pooled, tokens = visual(x)
    encoder_id = spec["encoder_id"] + ("" if seed is None else f"/random-seed{seed}")
    meta = {
        "encoder_id": encoder_id,
        "version": int(spec.get("version", 1)),
        "sha256": digest.hexdigest()[:16],
        "open_clip_model": spec["open_clip_model"],
        "preprocess_cfg": {k: (list(v) if isinstance(v, tuple) else v) for k, v in pp.items()},
        "embed_dim": int(pooled.shape[-1]),
        "patches": int(tokens.shape[1]),
        "token_dim": int(tokens.shape[2]),
        "export_s": round(time.perf_counter() - t0, 2),
    }
    (out / INT8_NAME).unlink(missing_ok=True)  # a stale int8 graph of other weights must not survive
    (out / META_NAME).write_text(json.dumps(meta, indent=2) + "\n")
    load_tower.cache_clear()
    meta["parity_max_abs"] = check_parity(visual, out)
    if int8 if int8 is not None else cpu_precision(preset) == "int8":
        meta["int8"] = quantize_tower(out)
        (out / META_NAME).write_text(json.dumps(meta, indent=2) + "\n")
        load_tower.cache_clear()
    return meta


def quantize_tower(onnx_dir: str | Path, batch: int = 4, seed: int = 1) -> dict[str, float]:
    """Write onnx_dir/visual.int8.onnx (dynamic int8) and check it against the fp32 graph.

    Returns the minimum cosine similarity of pooled and of tokens over a seeded batch; raises
    RuntimeError (and writes nothing) when either is below INT8_MIN_COSINE.
    """
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    onnx_dir = Path(onnx_dir)
    part = onnx_dir / (INT8_NAME + ".part")
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger
    try:
        quantize_dynamic(str(onnx_dir / ONNX_NAME), str(part), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        root.setLevel(level)
    fp32 = OnnxTower(onnx_dir, providers=("CPUExecutionProvider",))
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    int8 = ort.InferenceSession(str(part), opts, providers=["CPUExecutionProvider"])
    s = fp32.pre.size
    x = np.random.default_rng(seed).normal(size=(batch, 3, s, s)).astype(np.float32)
    ref = fp32.run(x)
    got = int8.run(["pooled", "tokens"], {"pixels": x})
    cos = [float(_cosine(a, b).min()) for a, b in zip(ref, got, strict=True)]
    result = {"min_cosine_pooled": round(cos[0], 6), "min_cosine_tokens": round(cos[1], 6)}
    if min(cos) < INT8_MIN_COSINE:
        part.unlink(missing_ok=True)
        raise RuntimeError(f"{onnx_dir}: int8 tower agrees with fp32 only to cosine {min(cos):.4f}")
    os.replace(part, onnx_dir / INT8_NAME)
    return result


def _cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)


def check_parity(visual, onnx_dir: str | Path, batch: int = 4, seed: int = 1) -> float:
    """Max abs difference between PyTorch and ONNX Runtime (CPU) outputs; raises above PARITY_TOL."""
    import torch

    tower = OnnxTower(Path(onnx_dir), providers=("CPUExecutionProvider",))
    s = tower.pre.size
    x = torch.randn(batch, 3, s, s, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        ref = [t.numpy() for t in visual(x)]
    got = tower.run(x.numpy())
    diff = max(float(np.abs(a - b).max()) for a, b in zip(ref, got, strict=True))
    if diff > PARITY_TOL:
        raise RuntimeError(f"{onnx_dir}: ONNX/PyTorch parity {diff:.2e} exceeds {PARITY_TOL:.0e}")
    return diff


# ---------------------------------------------------------------- ONNX Runtime side (inference)


@functools.lru_cache(maxsize=1)
def cuda_works() -> bool:
    """True only when a CUDA device is really usable (onnxruntime-gpu lists CUDA regardless)."""
    import onnxruntime as ort

    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return False
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
        count = ctypes.c_int(0)
        return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0
    except OSError:
        return False


class OnnxTower:
    """An ONNX Runtime session for one exported tower, plus the metadata needed to feed it.

    `precision="int8"` runs visual.int8.onnx when the session is on the CPU and the export wrote
    one; CUDA always runs the fp32 graph. `self.precision` says which one runs.
    """

    def __init__(
        self,
        onnx_dir: Path,
        providers: tuple[str, ...] | None = None,
        threads: int = 0,
        precision: str = "fp32",
    ):
        import onnxruntime as ort

        meta_path = onnx_dir / META_NAME
        if not meta_path.exists() or not (onnx_dir / ONNX_NAME).exists():
            raise ModelNotFoundError(
                f"{onnx_dir}: no exported image tower here; run `vm-engine export-encoders --preset <name>`"
            )
        self.meta = json.loads(meta_path.read_text())
        self.pre = PreprocessConfig.from_dict(self.meta["preprocess_cfg"])
        self.encoder_id = f"{self.meta['encoder_id']}@v{self.meta['version']}:{self.meta['sha256']}"
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = threads
        if providers is None:
            providers = (
                ("CUDAExecutionProvider", "CPUExecutionProvider")
                if cuda_works()
                else ("CPUExecutionProvider",)
            )
        self.precision = "fp32"
        graph = onnx_dir / ONNX_NAME
        if precision == "int8" and providers[0] == "CPUExecutionProvider":
            if (onnx_dir / INT8_NAME).is_file():
                graph, self.precision = onnx_dir / INT8_NAME, "int8"
                self.encoder_id += "+int8"
            else:
                log.warning(
                    "%s: no %s, running the tower in fp32 (slower on a CPU); write it with "
                    "`vm-engine export-encoders --preset <name>`",
                    onnx_dir,
                    INT8_NAME,
                )
        self.session = ort.InferenceSession(str(graph), opts, providers=list(providers))
        self.provider = self.session.get_providers()[0]
        log.debug("image tower %s on %s", self.encoder_id, self.provider)

    def run(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pooled, tokens = self.session.run(["pooled", "tokens"], {"pixels": pixels})
        return pooled, tokens

    def encode(self, pixels: np.ndarray, batch: int = BATCH) -> tuple[np.ndarray, np.ndarray]:
        """Run in fixed-size batches; returns pooled [N, E] and tokens [N, P, W], float32."""
        outs = [self.run(pixels[i : i + batch]) for i in range(0, len(pixels), batch)]
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


@functools.lru_cache(maxsize=4)
def load_tower(onnx_dir: str, precision: str = "fp32") -> OnnxTower:
    """One session per exported tower (and precision) per process."""
    return OnnxTower(Path(onnx_dir), precision=precision)


def tower_for_preset(preset: str, encoder_dir: str | None = None) -> OnnxTower:
    folder = Path(encoder_dir) if encoder_dir else default_encoder_dir(preset)
    return load_tower(str(folder), cpu_precision(preset))
