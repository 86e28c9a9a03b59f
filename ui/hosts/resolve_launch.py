"""DaVinci Resolve: export the current timeline as OTIO and open the VidMusician panel on it.

Copy (or link) this file into Resolve's scripts folder, e.g.
`~/.local/share/DaVinciResolve/Fusion/Scripts/Utility/` (Linux) or
`%APPDATA%\\Blackmagic Design\\DaVinci Resolve\\Support\\Fusion\\Scripts\\Utility\\` (Windows), and run it
from Workspace > Scripts. Set VIDMUSICIAN_PYTHON to the Python of this project's virtual environment.
Resolve's own Python runs this file; the panel runs in the project's Python, as its own process.
Not tested here: Resolve is not available on the build machine.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path


def export_current_timeline(resolve) -> Path:
    project = resolve.GetProjectManager().GetCurrentProject()
    timeline = project.GetCurrentTimeline() if project else None
    if timeline is None:
        raise RuntimeError("open a timeline in Resolve first")
    folder = Path(tempfile.mkdtemp(prefix="vidmusician-"))
    path = folder / f"{timeline.GetName()}.otio"
    if not timeline.Export(str(path), resolve.EXPORT_OTIO):
        raise RuntimeError(
            f"Resolve could not export {timeline.GetName()!r} as OTIO (Resolve 18.5 or later needed)"
        )
    return path


def launch(resolve) -> subprocess.Popen:
    python = os.environ.get("VIDMUSICIAN_PYTHON", "python3")
    return subprocess.Popen([python, "-m", "vm_editor.cli", "panel", str(export_current_timeline(resolve))])


if __name__ == "__main__":  # inside Resolve, `resolve` is a global of the scripting environment
    launch(globals()["resolve"])  # noqa: F821 - provided by Resolve
