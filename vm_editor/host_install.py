"""`vm-editor install-host resolve|hiero`: launchers in the host's scripts folder, this install baked in.

Why baked in: inside Resolve or Hiero, `sys.executable` is the host program and the host's own
Python cannot import this project; a launcher that names this install's Python and folder by
absolute path works whatever the host's environment is. Run it again after moving the install.

Where (as the hosts document their user folders):
- Resolve, Workspace › Scripts › Utility (shown on every page), three Python launchers and three
  Lua ones ("VidMusician Score (Lua)"...): Resolve 21.1 lists Python scripts in the Studio
  edition only, Lua scripts in both, and the Lua launchers do the same through
  `ui/hosts/resolve_launch.lua` (read from this install, so reinstalling updates them): `Fusion/Scripts/Utility` under
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
RESOLVE_LUA_LAUNCHERS = {
    "VidMusician Score (Lua).lua": "score",
    "VidMusician Update (Lua).lua": "update",
    "VidMusician Panel (Lua).lua": "panel",
}
RESOLVE_LUA_BODY = Path("ui") / "hosts" / "resolve_launch.lua"
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
_LUA_LAUNCHER = """-- VidMusician for DaVinci Resolve (Workspace > Scripts; the free edition too), written by
-- `vm-editor install-host resolve`. Run it again after moving or reinstalling VidMusician.
VIDMUSICIAN = {{
  python = {python},
  action = {action},
  score_args = {{{score_args}}},
}}
dofile({body})
"""
_HIERO_BODY = """from ui.hosts.hiero_panel import register  # noqa: E402

register(VIDMUSICIAN_PYTHON)
"""


@dataclass(frozen=True)
class Launcher:
    path: Path
    text: str


def lua_string(text: str) -> str:
    """A Lua 5.1 string literal for any text (a Windows path's backslashes, quotes, accents)."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if char in '\\"' or byte < 32 or byte >= 127:
            out.append(f"\\{byte:03d}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def lua_launcher(action: str, *, python: str, root: Path, score_args: tuple[str, ...] = ()) -> str:
    """One Lua launcher: this install's Python and the Lua body's absolute path baked in."""
    return _LUA_LAUNCHER.format(
        python=lua_string(python),
        action=lua_string(action),
        score_args=", ".join(lua_string(a) for a in score_args),
        body=lua_string(str(Path(root) / RESOLVE_LUA_BODY)),
    )


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
    if not (root / "ui" / "hosts" / "resolve_launch.py").is_file() or not (root / RESOLVE_LUA_BODY).is_file():
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
        python_ones = [
            Launcher(folder / name, header + _RESOLVE_BODY.format(action=a))
            for name, a in RESOLVE_LAUNCHERS.items()
        ]
        lua_ones = [
            Launcher(folder / name, lua_launcher(a, python=python, root=Path(fields["root"])))
            for name, a in RESOLVE_LUA_LAUNCHERS.items()
        ]
        return python_ones + lua_ones
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
