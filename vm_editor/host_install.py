"""`vm-editor install-host resolve|hiero`: launchers in the host's scripts folder, this install baked in.

Why baked in: inside Resolve or Hiero, `sys.executable` is the host program and the host's own
Python cannot import this project; a launcher that names this install's Python and folder by
absolute path works whatever the host's environment is. Run it again after moving the install.

Where (as the hosts document their user folders):
- Resolve, Workspace › Scripts › Utility (shown on every page): `Fusion/Scripts/Utility` under
  ~/.local/share/DaVinciResolve (Linux), ~/Library/Application Support/Blackmagic Design/DaVinci
  Resolve (macOS), %APPDATA%\\Blackmagic Design\\DaVinci Resolve\\Support (Windows).
- Hiero / Nuke Studio: `Python/StartupUI` (run once the host's UI exists, which a dockable panel
  needs) under the first folder of HIERO_PLUGIN_PATH, else under ~/.nuke.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.file_modes import publish_mode
from engine.temp_files import remove_stale, temp_prefix
from vm_editor.errors import EditorInputError

HOSTS = ("resolve", "hiero")
RESOLVE_LAUNCHERS = {
    "VidMusician Score.py": "score",
    "VidMusician Update.py": "update",
    "VidMusician Panel.py": "panel",
}
HIERO_LAUNCHER = "vidmusician_panel.py"

_HEADER = '''"""VidMusician for {host}, written by `vm-editor install-host {key}`.

Run `vm-editor install-host {key}` again after moving or reinstalling VidMusician.
"""

import sys

VIDMUSICIAN_PYTHON = {python!r}
VIDMUSICIAN_ROOT = {root!r}
if VIDMUSICIAN_ROOT not in sys.path:
    sys.path.insert(0, VIDMUSICIAN_ROOT)

'''
_RESOLVE_BODY = """from ui.hosts.resolve_launch import main  # noqa: E402

main(globals(), python=VIDMUSICIAN_PYTHON, action={action!r})
"""
_HIERO_BODY = """from ui.hosts.hiero_panel import register  # noqa: E402

register(VIDMUSICIAN_PYTHON)
"""


@dataclass(frozen=True)
class Launcher:
    path: Path
    text: str


def resolve_scripts_folder(platform: str, home: Path, env: Mapping[str, str]) -> Path:
    if platform.startswith("win"):
        appdata = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        base = Path(appdata) / "Blackmagic Design" / "DaVinci Resolve" / "Support"
    elif platform == "darwin":
        base = home / "Library" / "Application Support" / "Blackmagic Design" / "DaVinci Resolve"
    else:
        base = home / ".local" / "share" / "DaVinciResolve"
    return base / "Fusion" / "Scripts" / "Utility"


def hiero_startup_folder(home: Path, env: Mapping[str, str]) -> Path:
    paths = [p for p in env.get("HIERO_PLUGIN_PATH", "").split(os.pathsep) if p.strip()]
    return (Path(paths[0]) if paths else home / ".nuke") / "Python" / "StartupUI"


def install_root() -> Path:
    """The folder holding this install's `vm_editor` and `ui` packages."""
    root = Path(__file__).resolve().parent.parent
    if not (root / "ui" / "hosts" / "resolve_launch.py").is_file():
        raise EditorInputError(f"{root}: this install has no ui/hosts launchers; reinstall VidMusician")
    return root


def launchers(
    host: str,
    *,
    python: str | None = None,
    root: Path | None = None,
    home: Path | None = None,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> list[Launcher]:
    """The files `install-host` writes, with this install's absolute Python and folder in them."""
    env = os.environ if env is None else env
    home = Path(home or Path.home())
    python = os.path.abspath(python or sys.executable)  # not resolved: a venv's python is a link
    fields = {"python": python, "root": str(root or install_root()), "key": host}
    if host == "resolve":
        folder = resolve_scripts_folder(platform or sys.platform, home, env)
        header = _HEADER.format(host="DaVinci Resolve (Workspace > Scripts)", **fields)
        return [
            Launcher(folder / name, header + _RESOLVE_BODY.format(action=a))
            for name, a in RESOLVE_LAUNCHERS.items()
        ]
    if host == "hiero":
        header = _HEADER.format(host="Hiero / Nuke Studio (a dockable panel)", **fields)
        return [Launcher(hiero_startup_folder(home, env) / HIERO_LAUNCHER, header + _HIERO_BODY)]
    raise EditorInputError(f"unknown host {host!r}; one of: {', '.join(HOSTS)}")


def install(items: list[Launcher]) -> list[Path]:
    """Write each launcher atomically (a host reading its folder never sees half a file).

    The temporary file is created new (O_EXCL, a random name) and renamed over the launcher, so
    nothing planted in the folder (a symlink named like our temporary file, or the launcher itself
    a symlink) can make the write land outside it; temporary files a killed run left are removed.
    """
    written = []
    for item in items:
        folder, name = item.path.parent, item.path.name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            remove_stale(folder)  # what a killed run left
            fd, tmp = tempfile.mkstemp(prefix=temp_prefix(name), suffix=".tmp", dir=folder)
        except OSError as exc:
            raise EditorInputError(
                f"{folder}: cannot write the launcher there ({exc.strerror or exc}); make the folder "
                "writable (or remove what blocks it) and run install-host again"
            ) from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(item.text)
            publish_mode(tmp)  # as the user's umask says, not mkstemp's 0600
            os.replace(tmp, item.path)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise EditorInputError(
                f"{item.path}: cannot write it ({exc.strerror or exc}); free space or fix the folder's "
                "permissions and run install-host again"
            ) from None
        written.append(item.path)
    return written
