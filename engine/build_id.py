"""Which build an engine runs: a fingerprint of the engine's code and of the model files it serves.

The engine service outlives the command that started it, so after an update (new code, new
weights or presets under resources/) a client could keep talking to the old process and get the
old music. The engine records this fingerprint when it starts (runtime file, `/info`); a client
computes it again and replaces an engine whose fingerprint differs (vm_editor.engine_client).

Cheap on purpose: paths, sizes and modification times (one `stat` per file, no file is read), of
the engine package's .py files, of everything under the `resources` package (presets, encoders,
models) and of $VIDMUSICIAN_MODELS_DIR when it points elsewhere. Standard library only: the
editor side calls it too (DESIGN.md §4), and it imports nothing of the engine.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

MODELS_ENV = "VIDMUSICIAN_MODELS_DIR"  # the rule of engine.generator.backbone.models_root
SKIPPED_DIRS = {"__pycache__"}


def covered_folders() -> list[tuple[str, Path, tuple[str, ...]]]:
    """(label, folder, suffixes: () for every file) whose files make up the fingerprint."""
    folders: list[tuple[str, Path, tuple[str, ...]]] = [("engine", Path(__file__).resolve().parent, (".py",))]
    spec = importlib.util.find_spec("resources")  # found as engine.presets finds it, not imported
    if spec is not None and spec.submodule_search_locations:
        folders.append(("resources", Path(list(spec.submodule_search_locations)[0]).resolve(), ()))
    models = os.environ.get(MODELS_ENV)
    if models:
        folders.append(("models", Path(models).expanduser().resolve(), ()))
    return folders


def _entries(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith("."))
        for name in files:
            if name.startswith(".") or name.endswith(".pyc") or (suffixes and not name.endswith(suffixes)):
                continue  # hidden partial files come and go while an engine runs
            path = Path(here) / name
            try:
                st = path.stat()
            except OSError:
                continue  # removed while we looked, or a dangling link
            found.append(f"{path.relative_to(folder)}\t{st.st_size}\t{st.st_mtime_ns}")
    return sorted(found)


def build_fingerprint() -> str:
    """16 hex digits that change when the engine's code or its shipped model files change."""
    digest = hashlib.sha256()
    for label, folder, suffixes in covered_folders():
        digest.update(f"{label}\t{folder}\n".encode())
        for line in _entries(folder, suffixes):
            digest.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return digest.hexdigest()[:16]


SOUNDFONT_ENV = "VIDMUSICIAN_SOUNDFONT"  # the rule of engine.symbolic.soundfont.find_soundfont


def environment_settings() -> dict[str, str]:
    """What a started engine keeps from the environment it was started in and a later command may
    set otherwise: the soundfont it renders with. The engine records it beside its build; a
    client whose environment asks for another one replaces the engine like an outdated one."""
    return {"soundfont": os.environ.get(SOUNDFONT_ENV, "")}
