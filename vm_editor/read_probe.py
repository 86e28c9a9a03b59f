"""Read an untrusted timeline once in a child process first, so a reader that crashes cannot take
the caller down with it.

Why: `vm-editor watch` lives for days and reads whatever lands in a folder. The input guard holds
every reader to size and nesting limits (a 100k-deep document once segfaulted OTIO's C++
reader), but a crash in native code on input nobody foresaw would still end the whole watch. A
child that dies by a signal costs that one file a `failed:` line; the watch goes on. What the
child finds wrong in the normal way (a user error) is left to the real read to say.

`python -m vm_editor.read_probe FILE [RATE]` is the child: it exits 0 whatever it reads.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from vm_editor.errors import TimelineReadError

PROBE_TIMEOUT_S = 120.0


def probe_command(path: Path, rate: float | None) -> list[str]:
    return [sys.executable, "-m", "vm_editor.read_probe", str(path), *([] if rate is None else [str(rate)])]


def check_reader_survives(
    path: Path,
    rate: float | None = None,
    *,
    command: Sequence[str] | None = None,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> None:
    """Raise `TimelineReadError` when reading `path` kills the reading process or never ends."""
    try:
        done = subprocess.run(
            list(command or probe_command(path, rate)),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        raise TimelineReadError(
            f"{path}: reading it took over {timeout_s:.0f} s; this is not an editor's export or it is "
            "damaged; re-export the timeline"
        ) from None
    if done.returncode < 0:
        try:
            how = signal.Signals(-done.returncode).name
        except ValueError:
            how = f"signal {-done.returncode}"
        raise TimelineReadError(
            f"{path}: reading it crashed the reader ({how}); this is not an editor's export or it is "
            "damaged; re-export the timeline"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    from vm_editor.timeline_io import read_timeline_report

    try:
        read_timeline_report(Path(args[0]), float(args[1]) if len(args) > 1 else None)
    except Exception:  # noqa: BLE001 - the caller's own read says what is wrong, in its words
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
