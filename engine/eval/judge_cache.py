"""One cache for the fitted judges (style, mood from audio, mood from notes): each is pickled with
its format version and what its inputs were made with (the renderer's sound, for a judge of
audio), and reused only when those and its train/held-out sizes match.

Why one place: the judges take minutes to fit and are read by `vm-eval` and the benchmarks; an
unreadable or stale file is refitted, never trusted.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
Judge = TypeVar("Judge")


def save(path: str | Path, version: int, key: str, judge: object, made_with: str = "") -> None:
    """Write `judge` to `path` atomically (a `.part` file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(pickle.dumps({"version": version, "made_with": made_with, key: judge}))
    tmp.replace(path)


def load_or_fit(
    path: str | Path,
    version: int,
    key: str,
    n_train: int,
    n_heldout: int,
    fit: Callable[[int, int], Judge],
    made_with: str = "",
) -> Judge:
    """The judge cached at `path` under `key` when it was fitted with `version`, these sizes and
    inputs `made_with` the same (a judge of audio: the renderer's `sound_fingerprint`; a change in
    the mix left a judge trained on the old sound in use), else `fit(n_train, n_heldout)`, saved
    there."""
    path = Path(path)
    if path.is_file():
        try:
            data = pickle.loads(path.read_bytes())
            judge = data[key]
            sizes = (judge.train_items, judge.heldout_items)
            same = data.get("version") == version and data.get("made_with", "") == made_with
            if same and sizes == (n_train, n_heldout):
                return judge
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, AttributeError):
            log.warning("%s: not a readable judge cache; fitting a new one", path)
    judge = fit(n_train, n_heldout)
    save(path, version, key, judge, made_with)
    return judge
