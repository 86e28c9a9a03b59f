"""Where the service may read and write: media must be readable files; cues stay in the cue root.

Resolving symlinks before the containment check is what stops `cues/../../etc` and a symlink
inside the cue root that points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import EngineInputError


class PathNotAllowed(EngineInputError):
    """A path outside what the service may touch (traversal, symlink escape, unreadable)."""


NAME_MAX = 255  # bytes in one path component
PATH_MAX = 4096  # bytes in a whole path


def check_path_text(text: str, field: str) -> None:
    """A path string the file system can take: no NUL, valid UTF-8, names and total within limits."""
    if "\0" in text:
        raise PathNotAllowed(f"{field}: contains a NUL character; give a plain path")
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        raise PathNotAllowed(f"{field}: is not valid UTF-8 text; give a plain path") from None
    if len(encoded) > PATH_MAX:
        raise PathNotAllowed(f"{field}: {len(encoded)} bytes, at most {PATH_MAX} allowed; use a shorter path")
    for part in Path(text).parts:
        if len(part.encode("utf-8")) > NAME_MAX:
            raise PathNotAllowed(
                f"{field}: the name {part[:40]!r}... is {len(part.encode('utf-8'))} bytes, "
                f"at most {NAME_MAX} allowed; use a shorter name"
            )


def resolve_cue_dir(cue_root: Path, requested: str | None) -> Path:
    """The cue folder for a request: relative names live under the root; absolute ones must too."""
    if requested:
        check_path_text(requested, "cue_dir")
    root = cue_root.resolve()
    candidate = Path(requested) if requested else Path("default")
    if not candidate.is_absolute():
        candidate = root / candidate
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise PathNotAllowed(
            f"cue folder {requested!r} is outside the engine's cue root {root}; "
            "use a folder inside it (or start the engine with --cue-root)"
        )
    return resolved


def check_media_path(path: str) -> None:
    check_path_text(path, "media path")
    media = Path(path)
    if not media.is_absolute():
        raise PathNotAllowed(f"media path {path!r} must be absolute")
    if not media.is_file():
        raise PathNotAllowed(f"media file {path} not found; relink it in the editor")
    if not os.access(media, os.R_OK):
        raise PathNotAllowed(f"media file {path} is not readable; check its permissions")
