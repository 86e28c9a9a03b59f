"""Dataset manifests: one JSON object per line naming a video, its music or score, text, a split.

Why a manifest: trainers and evaluators read a dataset through this one format, whether it is the
procedural corpus or real footage, and a bad line fails early with its file and line number
instead of crashing a training run hours later.

Line format (paths relative to the manifest's folder, or absolute):
    {"video": "train/x.mp4", "music": "train/x.wav", "split": "train",
     "text": "bright synth pop, major, fast",          # optional
     "truth": "train/x.json", "seed": 12, "id": "x"}   # optional (the synth corpus writes them)
The symbolic corpus (clips.py) has no audio: its lines name a "score" (a SymbolicScore JSON)
instead of "music"; every line needs at least one of the two.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from engine.corpus.errors import ManifestError
from engine.corpus.splits import SPLITS

MANIFEST_NAME = "manifest.jsonl"
REQUIRED = ("video", "split")
OPTIONAL = ("music", "score", "text", "truth", "seed", "id")


@dataclass(frozen=True)
class ManifestEntry:
    """One video–music pair. `video`, `music`, `score` and `truth` are resolved (absolute) paths;
    `music` is None for a symbolic-corpus clip, whose music is its `score`."""

    video: Path
    music: Path | None
    split: str
    text: str | None = None
    truth: Path | None = None
    seed: int | None = None
    id: str | None = None
    score: Path | None = None

    def to_json(self, root: Path) -> dict:
        """The JSON line for this entry, with paths relative to `root` where they lie under it."""

        def rel(p: Path) -> str:
            try:
                return p.relative_to(root).as_posix()
            except ValueError:
                return str(p)

        line: dict = {"video": rel(self.video), "split": self.split}
        if self.music is not None:
            line["music"] = rel(self.music)
        if self.score is not None:
            line["score"] = rel(self.score)
        if self.text is not None:
            line["text"] = self.text
        if self.truth is not None:
            line["truth"] = rel(self.truth)
        if self.seed is not None:
            line["seed"] = self.seed
        if self.id is not None:
            line["id"] = self.id
        return line


def manifest_path(root: str | Path) -> Path:
    """`root` itself if it is a file, else `root/manifest.jsonl`."""
    root = Path(root)
    return root if root.suffix == ".jsonl" or root.is_file() else root / MANIFEST_NAME


def _parse_line(raw: str, where: str, base: Path, check_files: bool) -> ManifestEntry:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"{where}: not valid JSON ({exc.msg}); each line must be one JSON object"
        ) from None
    if not isinstance(obj, dict):
        raise ManifestError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    missing = [k for k in REQUIRED if k not in obj]
    if missing:
        raise ManifestError(f"{where}: missing {', '.join(missing)}; every line needs {', '.join(REQUIRED)}")
    unknown = sorted(set(obj) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ManifestError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(REQUIRED + OPTIONAL)}"
        )
    if "music" not in obj and "score" not in obj:
        raise ManifestError(f"{where}: missing music; every line needs music (audio) or score (notes)")
    for key in ("video", "music", "score", "split", "text", "truth", "id"):
        if key in obj and not (isinstance(obj[key], str) and obj[key]):
            if key == "text" and obj[key] is None:
                continue
            raise ManifestError(f"{where}: {key!r} must be a non-empty string, got {obj[key]!r}")
    if obj["split"] not in SPLITS:
        raise ManifestError(f"{where}: split {obj['split']!r} is not one of {', '.join(SPLITS)}")
    seed = obj.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ManifestError(f"{where}: 'seed' must be an integer, got {seed!r}")
    paths = {k: (base / obj[k]).resolve() for k in ("video", "music", "score", "truth") if obj.get(k)}
    if check_files:
        for key, path in paths.items():
            if not path.is_file():
                raise ManifestError(f"{where}: {key} file {path} does not exist; fix the path or regenerate")
    return ManifestEntry(
        video=paths["video"],
        music=paths.get("music"),
        split=obj["split"],
        text=obj.get("text"),
        truth=paths.get("truth"),
        seed=seed,
        id=obj.get("id"),
        score=paths.get("score"),
    )


def read_manifest(
    root: str | Path, *, split: str | None = None, check_files: bool = True
) -> list[ManifestEntry]:
    """All entries of a manifest (optionally one split), validated.

    Raises `ManifestError` naming file:line for bad JSON, missing/unknown keys, bad splits,
    missing files (with `check_files`), a file listed twice, or a seed used in two splits.
    """
    path = manifest_path(root)
    if not path.is_file():
        raise ManifestError(f"{path}: no manifest there; create it with `vm-train synth --out {path.parent}`")
    if split is not None and split not in SPLITS:
        raise ManifestError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    entries: list[ManifestEntry] = []
    seen_media: dict[Path, str] = {}
    seed_split: dict[int, str] = {}
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            where = f"{path}:{n}"
            entry = _parse_line(raw, where, path.parent, check_files)
            for media in (m for m in (entry.video, entry.music, entry.score) if m is not None):
                if media in seen_media:
                    raise ManifestError(
                        f"{where}: {media} is already listed at {seen_media[media]}; remove one"
                    )
                seen_media[media] = where
            if entry.seed is not None:
                other = seed_split.setdefault(entry.seed, entry.split)
                if other != entry.split:
                    raise ManifestError(
                        f"{where}: seed {entry.seed} is in both {other!r} and {entry.split!r}; "
                        "a held-out or validation item must never be trained on"
                    )
            entries.append(entry)
    if split is not None:
        entries = [e for e in entries if e.split == split]
    return entries


def iter_items(root: str | Path, split: str | None = None) -> Iterator[ManifestEntry]:
    """Iterate a dataset's entries (validated up front, so a bad line fails before any work)."""
    yield from read_manifest(root, split=split)


def write_manifest(entries: Iterable[ManifestEntry], path: str | Path) -> Path:
    """Write `entries` as JSONL at `path` atomically (paths relative to its folder)."""
    path = manifest_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    root = path.parent.resolve()
    with open(tmp, "w", encoding="utf-8") as fh:
        for entry in entries:
            fh.write(json.dumps(entry.to_json(root), ensure_ascii=False) + "\n")
    os.replace(tmp, path)
    return path
