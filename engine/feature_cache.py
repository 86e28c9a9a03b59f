"""On-disk cache of per-scene visual features, so regenerating a scene never re-decodes it.

Key: sha256 over (media content hash, source range rounded to 1 µs, grid frame rates, encoder
id + version + weights digest, feature code version). Entries are .npz files written to a
temporary name in the same folder and renamed into place (atomic on POSIX and Windows), so
concurrent writers of the same entry each publish a complete file and readers never see a
partial one. The cache is size-bounded: after each write, least-recently-used entries (mtime,
refreshed on every hit) are removed until the total is under `max_bytes`; one process evicts at
a time (an advisory lock file), and a reader that loses an entry to eviction sees a miss.

Content hashes are BLAKE2b over the whole file (every file, in order, for an image sequence),
remembered per (path, size, mtime, inode) so a file is hashed once per version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.media import is_image_sequence, sequence_files

log = logging.getLogger(__name__)

FEATURES_VERSION = 1
DEFAULT_MAX_BYTES = 2 * 1024**3


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FeatureCache:
    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = Path(root)
        self.max_bytes = max_bytes
        (self.root / "entries").mkdir(parents=True, exist_ok=True)
        (self.root / "hashes").mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ content hash
    def content_hash(self, path: str) -> str:
        files = sequence_files(path) if is_image_sequence(path) else [path]
        stats = [os.stat(f) for f in files]
        ident = json.dumps(
            [
                [os.path.abspath(f), st.st_size, st.st_mtime_ns, st.st_ino]
                for f, st in zip(files, stats, strict=True)
            ]
        )
        memo = self.root / "hashes" / (hashlib.sha256(ident.encode()).hexdigest()[:32] + ".txt")
        try:
            return memo.read_text().strip()
        except OSError:
            pass
        h = hashlib.blake2b(digest_size=20)
        for f in files:
            if len(files) > 1:
                h.update(os.path.basename(f).encode() + b"\0")
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        digest = h.hexdigest()
        _atomic_write(memo, lambda fh: fh.write(digest.encode()))
        return digest

    # ------------------------------------------------------------------ entries
    @staticmethod
    def key(
        content_hash: str, start_s: float, end_s: float, grid_fps: Sequence[float], encoder_id: str
    ) -> str:
        doc = {
            "media": content_hash,
            "range_us": [round(start_s * 1e6), round(end_s * 1e6)],
            "grid_fps": [float(f) for f in grid_fps],
            "encoder": encoder_id,
            "features_version": FEATURES_VERSION,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:40]

    def _entry(self, key: str) -> Path:
        return self.root / "entries" / f"{key}.npz"

    def get(self, key: str) -> dict[str, np.ndarray] | None:
        path = self._entry(key)
        try:
            with np.load(path, allow_pickle=False) as data:
                out = {k: data[k] for k in data.files}
            os.utime(path)  # LRU: a hit makes the entry young again
            return out
        except (OSError, ValueError, KeyError) as exc:
            if path.exists():
                log.warning("feature cache entry %s unreadable (%s); recomputing", path, exc)
            return None

    def put(self, key: str, arrays: dict[str, np.ndarray]) -> None:
        _atomic_write(self._entry(key), lambda fh: np.savez(fh, **arrays))
        self.evict()

    def size_bytes(self) -> int:
        return sum(e.stat().st_size for e in self._entries())

    def _entries(self) -> list[os.DirEntry]:
        return [
            e
            for e in os.scandir(self.root / "entries")
            if e.name.endswith(".npz") and not e.name.startswith(".")
        ]

    def evict(self) -> None:
        """Remove least-recently-used entries until the cache fits `max_bytes`."""
        lock_path = self.root / ".evict.lock"
        with open(lock_path, "a+b") as lock:
            if not _try_lock(lock):
                return  # another process is evicting right now
            try:
                entries = []
                for e in self._entries():
                    try:
                        st = e.stat()
                    except FileNotFoundError:
                        continue
                    entries.append((st.st_mtime_ns, st.st_size, e.path))
                total = sum(s for _, s, _ in entries)
                for _, size, p in sorted(entries):
                    if total <= self.max_bytes:
                        break
                    Path(p).unlink(missing_ok=True)
                    total -= size
            finally:
                _unlock(lock)


def _try_lock(fh) -> bool:
    try:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except ImportError:  # Windows: msvcrt byte-range lock
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    except OSError:
        return False


def _unlock(fh) -> None:
    try:
        import fcntl

        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except ImportError:
        import msvcrt

        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
