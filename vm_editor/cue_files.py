"""Cue files where the user wants them: the service writes only inside its own cue root, so the
editor side moves each finished cue (its tokens and stems, then its WAV) into the chosen folder
atomically, with the mode this command's umask gives (a warm engine was started under another).

A WAV in the folder always has its tokens (a later cue continues from them) and its stems beside
it, and no reader ever sees a partial file: same filesystem is one rename; across filesystems the file is
copied to a hidden temporary name in the folder, synced, then renamed into place.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from engine.api import CueResult
from engine.file_modes import publish_mode
from engine.temp_files import remove_stale, temp_name
from vm_editor.errors import EditorInputError


def _move_atomic(source: Path, target: Path) -> Path:
    if source.resolve() == target.resolve():
        return target
    try:
        os.replace(source, target)
        publish_mode(target)  # this command saves the file: its umask, not the engine's
        return target
    except OSError:
        pass  # another filesystem: copy, sync, rename
    partial = target.with_name(temp_name(target.name))
    try:
        shutil.copyfile(source, partial)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        publish_mode(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    source.unlink(missing_ok=True)
    return target


def move_cues(cues: Sequence[CueResult], folder: Path) -> tuple[CueResult, ...]:
    """The cues with their files moved into `folder` (created if needed)."""
    folder = Path(folder).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EditorInputError(
            f"--cue-dir {folder}: cannot create it ({exc.strerror}); choose another folder"
        ) from exc
    remove_stale(folder)  # partial copies a killed run left
    out = []
    for cue in cues:
        tokens = None
        if cue.tokens_path:
            tokens = str(_move_atomic(Path(cue.tokens_path), folder / Path(cue.tokens_path).name))
        stems = {
            stream: str(_move_atomic(Path(path), folder / Path(path).name))
            for stream, path in cue.stems.items()
        }
        wav = _move_atomic(Path(cue.wav_path), folder / Path(cue.wav_path).name)
        out.append(dataclasses.replace(cue, wav_path=str(wav), tokens_path=tokens, stems=stems))
    return tuple(out)
