"""Prepared training shards: per item CLS @1 fps, rhythm on the token grid, codec tokens, text.

Why shards: decoding video, running the image tower and encoding music dominate a data step, so
`vm-train prepare` does them once. Layout under the shards folder:

    index.json                   {"format", "version", "codec": {...}, "features": {...},
                                  "items": [{"id", "shard", "split", "text", "frames", "n_cls",
                                  "duration_s", "video", "music"}], "skipped": [{"id", "path", "reason"}]}
    shard-00000.safetensors      "<id>/cls" f32 [N, D], "<id>/rhythm" f32 [T, C], "<id>/codes" i32 [K, T],
                                 "<id>/grid" f32 [T, 9] when the item's bars are known
                                 (engine.generator.grid_position)

A shard is written atomically and only then listed in the index (also written atomically), so an
interrupted run loses at most the items of the shard it was filling, and a resumed one skips every
item the index lists.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.corpus.errors import ManifestError

FORMAT = "vidmusician-shards"
VERSION = 1
INDEX = "index.json"


class ShardsError(ManifestError):
    """A shards folder that is missing, from another codec, or that has no usable item."""


def safe_id(text: str) -> str:
    """An item id usable as a tensor-name prefix (no '/' or odd characters)."""
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", text)


@dataclass(frozen=True)
class PreparedItem:
    id: str
    split: str
    text: str | None
    cls: np.ndarray  # float32 [N, D] at 1 fps
    rhythm: np.ndarray  # float32 [T, C] on the codec's frame grid (patch rhythm, cue channel)
    codes: np.ndarray  # int32 [K, T]
    duration_s: float
    video: str = ""
    music: str = ""
    grid: np.ndarray | None = None  # float32 [T, GRID_CHANNELS]: beat, bar and phrase of each frame


def _write_json(path: Path, obj: dict) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def read_index(root: str | Path) -> dict:
    path = Path(root) / INDEX
    if not path.is_file():
        raise ShardsError(
            f"{path}: no shard index there; write one with `vm-train prepare MANIFEST --out {root}`"
        )
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ShardsError(
            f"{path}: not valid JSON ({exc.msg}); delete it and run `vm-train prepare` again"
        ) from None
    if index.get("format") != FORMAT:
        raise ShardsError(f"{path}: not a VidMusician shard index (format={index.get('format')!r})")
    return index


class ShardWriter:
    """Buffers items and writes them `shard_size` at a time; `close()` flushes the rest."""

    def __init__(self, root: str | Path, codec: dict, features: dict, shard_size: int = 64):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.shard_size = max(1, int(shard_size))
        path = self.root / INDEX
        if path.is_file():
            self.index = read_index(self.root)
            for key, want in (("codec", codec), ("features", features)):
                if self.index.get(key) != want:
                    raise ShardsError(
                        f"{path}: written with {key} {self.index.get(key)} but this run uses {want}; "
                        "use another --out or the same codec and preset"
                    )
        else:
            self.index = {
                "format": FORMAT,
                "version": VERSION,
                "codec": codec,
                "features": features,
                "items": [],
                "skipped": [],
            }
        self.buffer: list[PreparedItem] = []

    def done_ids(self) -> set[str]:
        return {it["id"] for it in self.index["items"]}

    def add(self, item: PreparedItem) -> None:
        self.buffer.append(item)
        if len(self.buffer) >= self.shard_size:
            self.flush()

    def record_skip(self, item_id: str, path: str, reason: str) -> None:
        """Remember a skipped item (replacing an older entry for it); kept in the index at flush."""
        self.index["skipped"] = [s for s in self.index["skipped"] if s["id"] != item_id]
        self.index["skipped"].append({"id": item_id, "path": path, "reason": reason})

    def flush(self) -> None:
        from safetensors.numpy import save_file

        if not self.buffer:
            _write_json(self.root / INDEX, self.index)
            return
        # shards 0..n-1 are listed; a file numbered n is a leftover of an interrupted run: overwrite it
        name = f"shard-{len({it['shard'] for it in self.index['items']}):05d}.safetensors"
        tensors = {}
        for it in self.buffer:
            tensors[f"{it.id}/cls"] = np.ascontiguousarray(it.cls, dtype=np.float32)
            tensors[f"{it.id}/rhythm"] = np.ascontiguousarray(it.rhythm, dtype=np.float32)
            tensors[f"{it.id}/codes"] = np.ascontiguousarray(it.codes, dtype=np.int32)
            if it.grid is not None:
                tensors[f"{it.id}/grid"] = np.ascontiguousarray(it.grid, dtype=np.float32)
        tmp = self.root / (name + ".part")
        save_file(tensors, str(tmp))
        os.replace(tmp, self.root / name)
        done = {it.id for it in self.buffer}
        self.index["skipped"] = [s for s in self.index["skipped"] if s["id"] not in done]
        for it in self.buffer:
            self.index["items"].append(
                {
                    "id": it.id,
                    "shard": name,
                    "split": it.split,
                    "text": it.text,
                    "frames": int(it.codes.shape[1]),
                    "n_cls": int(it.cls.shape[0]),
                    "duration_s": round(float(it.duration_s), 6),
                    "video": it.video,
                    "music": it.music,
                }
            )
        self.buffer = []
        _write_json(self.root / INDEX, self.index)

    def close(self) -> None:
        self.flush()


class ShardDataset:
    """All prepared items of one split, in memory (the tiny corpus is a few MB of tokens)."""

    def __init__(self, root: str | Path, split: str | None = "train"):
        from safetensors.numpy import load_file

        self.root = Path(root)
        self.index = read_index(self.root)
        self.codec = self.index["codec"]
        self.frame_rate = float(self.codec["frame_rate"])
        entries = [it for it in self.index["items"] if split is None or it["split"] == split]
        if not entries:
            raise ShardsError(
                f"{self.root}: no prepared items in split {split!r}; prepare a manifest that has some"
            )
        loaded: dict[str, dict[str, np.ndarray]] = {}
        self.items: list[PreparedItem] = []
        for it in entries:
            if it["shard"] not in loaded:
                path = self.root / it["shard"]
                if not path.is_file():
                    raise ShardsError(
                        f"{path} is listed in {INDEX} but missing; run `vm-train prepare` again"
                    )
                loaded[it["shard"]] = load_file(str(path))
            t = loaded[it["shard"]]
            self.items.append(
                PreparedItem(
                    it["id"],
                    it["split"],
                    it.get("text"),
                    t[f"{it['id']}/cls"],
                    t[f"{it['id']}/rhythm"],
                    t[f"{it['id']}/codes"],
                    it["duration_s"],
                    grid=t.get(f"{it['id']}/grid"),
                )
            )

    @property
    def has_pictures(self) -> bool:
        """False for real-music shards: tokens and captions only, for stage 0 (real_shards.py)."""
        return bool(self.index["features"].get("pictures", True))

    def draw_weights(self, pool: list[int]) -> np.ndarray | None:
        """None: the batcher draws every usable item equally (one source; mix.py weighs two)."""
        return None

    def __len__(self) -> int:
        return len(self.items)
