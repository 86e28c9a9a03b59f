"""Media inside a timeline bundle (.otiod folder, .otioz zip), made reachable where it lies.

Why: a bundle's clips name their media relative to the bundle ("media/shot.mov"): inside the
folder of an .otiod, inside the zip of an .otioz. Resolved like any other timeline's relative
URLs (next to the bundle), every clip read offline. Here each such URL becomes an absolute file
URL: into the .otiod folder, or into a cached copy of the .otioz's media, extracted once per
bundle version (a zip member cannot be decoded in place). The user's bundle is only read.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path, PurePosixPath

import opentimelineio as otio

from engine.temp_files import remove_stale, temp_name
from vm_editor.errors import TimelineReadError
from vm_editor.media_links import url_to_path

BUNDLE_SUFFIXES = (".otiod", ".otioz")


def cache_root() -> Path:
    """Where extracted bundle media lives: the product's cache ($VIDMUSICIAN_CACHE_DIR, else
    $XDG_CACHE_HOME/vidmusician), as the engine's feature cache."""
    env = os.environ.get("VIDMUSICIAN_CACHE_DIR")
    if env:
        return Path(env) / "bundles"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "vidmusician" / "bundles"


def _member(url: str) -> str | None:
    """The bundle-relative path a media URL names ("media/a.mov"), or None when it is not one."""
    path = url_to_path(url)
    if path is None or path.is_absolute() or "://" in url:
        return None
    parts = PurePosixPath(path.as_posix()).parts
    if not parts or any(p in ("", ".", "..") for p in parts):
        return None  # never outside the bundle
    return "/".join(parts)


def _references(timeline: otio.schema.Timeline) -> list[otio.schema.ExternalReference]:
    refs = []
    for item in timeline.find_clips():
        for ref in item.media_references().values():
            if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
                refs.append(ref)
    return refs


def localize_bundle_media(timeline: otio.schema.Timeline, path: Path) -> int:
    """Point the bundle's own media references at files on disk; how many were pointed."""
    suffix = path.suffix.lower()
    if suffix not in BUNDLE_SUFFIXES:
        return 0
    wanted = [(ref, member) for ref in _references(timeline) if (member := _member(ref.target_url))]
    if not wanted:
        return 0
    if suffix == ".otiod":
        root = path.resolve()
        found = {m: root / m for _, m in wanted if (root / m).is_file()}
    else:
        found = _extract(path, {m for _, m in wanted})
    for ref, member in wanted:
        if member in found:
            ref.target_url = found[member].as_uri()
    return sum(1 for _, m in wanted if m in found)


def _extract(path: Path, members: set[str]) -> dict[str, Path]:
    """The named members of an .otioz as files in the cache (those the zip holds)."""
    info = path.stat()
    key = hashlib.sha256(f"{path.resolve()}\0{info.st_size}\0{info.st_mtime_ns}".encode()).hexdigest()[:16]
    folder = cache_root() / key
    found: dict[str, Path] = {}
    try:
        with zipfile.ZipFile(path) as bundle:
            entries = {i.filename: i for i in bundle.infolist() if not i.is_dir()}
            for member in sorted(members & entries.keys()):
                target = folder / member
                if target.is_file() and target.stat().st_size == entries[member].file_size:
                    found[member] = target  # extracted by an earlier run of this bundle version
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                remove_stale(target.parent)  # partial copies a killed run left
                partial = target.with_name(temp_name(target.name))
                try:
                    with bundle.open(entries[member]) as source, open(partial, "xb") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
                    os.replace(partial, target)
                finally:
                    partial.unlink(missing_ok=True)
                found[member] = target
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise TimelineReadError(
            f"{path}: cannot unpack its media ({exc}); re-export the bundle or check free space in {folder}"
        ) from None
    return found
