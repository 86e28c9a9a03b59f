"""Where a clip's media file is on this machine: URLs, relative paths and relink folders.

Editors move projects between machines: a Windows drive letter or UNC path in a Premiere XML,
a `file://` URL from Resolve, a path relative to the timeline. Pure functions (no OTIO import)
so that the OTIO media linker in `otio_adapters` and the scene extractor share one rule.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote, urlparse

log = logging.getLogger(__name__)

_DRIVE = re.compile(r"^/?([A-Za-z]):[\\/]")
_REMOTE_SCHEMES = {"http", "https", "ftp", "s3", "gs", "rtsp"}


def url_to_path(url: str, base_dir: Path | None = None) -> Path | None:
    """The local path a media URL names, as written (it may not exist here); None for remote URLs.

    Handles `file:///abs`, `file://localhost/abs`, `file:///C:/x`, `file://server/share/x` (UNC),
    bare `C:\\x`, `\\\\server\\share\\x`, percent-escapes, and paths relative to `base_dir`.
    """
    if not url:
        return None
    text = url.strip()
    parsed = urlparse(text)
    scheme = parsed.scheme.lower()
    if len(scheme) == 1:  # "C:\\media\\a.mov" parses as scheme "c"
        return _windows_path(text)
    if scheme in _REMOTE_SCHEMES:
        return None
    if scheme == "file":
        raw = unquote(parsed.path)
        host = parsed.netloc
        if host and host.lower() != "localhost":
            return _windows_path(f"\\\\{host}{raw}")  # file://server/share/x is a UNC path
        if _DRIVE.match(raw):
            return _windows_path(raw.lstrip("/"))
        return Path(raw)
    if scheme:
        return None
    if text.startswith("\\\\") or _DRIVE.match(text):
        return _windows_path(text)
    path = Path(unquote(text))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path


def rebased_url(url: str, from_dir: Path, to_dir: Path, *, absolute: bool = False) -> str | None:
    """A URL relative to `from_dir` (the input timeline's folder) rewritten for a timeline that is
    written into `to_dir`: relative to it (a project moved whole stays linked), or an absolute
    file URL with `absolute`; None for a URL that is not a relative path (left as it is)."""
    text = (url or "").strip()
    if not text or urlparse(text).scheme or text.startswith("\\") or _DRIVE.match(text):
        return None
    relative = Path(unquote(text))
    if relative.is_absolute():
        return None
    target = Path(os.path.normpath(Path(from_dir).resolve() / relative))
    if absolute:
        return target.as_uri()
    return Path(os.path.relpath(target, Path(to_dir).resolve())).as_posix()


def _windows_path(text: str) -> Path:
    """A Windows path as a Path object on this OS (only a real path on Windows itself)."""
    if os.name == "nt":
        return Path(text)
    win = PureWindowsPath(text.replace("/", "\\"))
    return Path(PurePosixPath(*win.parts))  # kept for its file name; searched for by relink


def file_name_of(url: str) -> str:
    """The bare file name in any URL or path style (what relink folders are searched for)."""
    text = unquote(urlparse(url).path if "://" in url else url)
    return PureWindowsPath(text.replace("/", "\\")).name


@lru_cache(maxsize=32)
def _index_folder(folder: str) -> dict[str, str]:
    """Lower-cased file name -> first path found under `folder` (walked once per folder)."""
    index: dict[str, str] = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            index.setdefault(name.lower(), os.path.join(root, name))
    return index


def forget_folder_index() -> None:
    """Walk relink folders anew (files were copied there since they were last searched)."""
    _index_folder.cache_clear()


def resolve_media(
    url: str, *, base_dir: Path | None = None, relink: Sequence[str | os.PathLike[str]] = ()
) -> Path | None:
    """An existing local file for `url`: as written, relative to the timeline, then by file name.

    Returns None when nothing is found (the media is offline); never raises for a bad URL.
    """
    path = url_to_path(url, base_dir)
    if path is not None and path.is_file():
        return path
    name = file_name_of(url)
    if not name:
        return None
    if base_dir is not None and (base_dir / name).is_file():
        return base_dir / name
    for folder in relink:
        found = _index_folder(str(Path(folder).resolve())).get(name.lower())
        if found is not None:
            log.info("relinked %s -> %s", url, found)
            return Path(found)
    return None


def offline_report(items: Iterable[tuple[str, str]]) -> str:
    """One readable block listing (clip name, url) pairs whose media is offline."""
    lines = [f"  {clip}: {url or '(no media reference)'}" for clip, url in items]
    return "\n".join(lines)
