"""`vm-editor install-host`: launchers in the host's scripts folder of a temporary HOME, with this
install's absolute Python baked in; `--dry-run` writes nothing; a written launcher really runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from vm_editor.host_install import hiero_startup_folder, launchers, resolve_scripts_folder

ROOT = Path(__file__).resolve().parents[1]


def _cli(home: Path, *args: str, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "HIERO_PLUGIN_PATH"}
    environ.update(HOME=str(home), PYTHONPATH=str(ROOT), **env)
    return subprocess.run(
        [sys.executable, "-m", "vm_editor.cli", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
    )


def test_resolve_launchers_go_to_the_user_scripts_folder(tmp_path):
    result = _cli(tmp_path, "install-host", "resolve")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / ".local/share/DaVinciResolve/Fusion/Scripts/Utility"
    names = sorted(p.name for p in folder.iterdir())
    lua = ["VidMusician Panel (Lua).lua", "VidMusician Score (Lua).lua", "VidMusician Update (Lua).lua"]
    assert names == sorted([*lua, "VidMusician Panel.py", "VidMusician Score.py", "VidMusician Update.py"])
    for name in lua:  # the free edition's door (Resolve 21.1 lists Lua scripts only there)
        assert f"wrote {folder / name}" in result.stdout
        text = (folder / name).read_text()
        assert f'python = "{os.path.abspath(sys.executable)}"' in text
        assert f'dofile("{ROOT / "ui/hosts/resolve_launch.lua"}")' in text
    names = [n for n in names if n.endswith(".py")]
    for name in names:
        assert f"wrote {folder / name}" in result.stdout
        text = (folder / name).read_text()
        compile(text, name, "exec")
        assert f"VIDMUSICIAN_PYTHON = {os.path.abspath(sys.executable)!r}" in text
        assert f"VIDMUSICIAN_ROOT = {str(ROOT)!r}" in text
    assert "action='score'" in (folder / "VidMusician Score.py").read_text()


def test_dry_run_says_where_and_writes_nothing(tmp_path):
    result = _cli(tmp_path, "install-host", "hiero", "--dry-run")
    assert result.returncode == 0, result.stderr
    target = tmp_path / ".nuke/Python/StartupUI/vidmusician_panel.py"
    assert f"would write {target}" in result.stdout and os.path.abspath(sys.executable) in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_hiero_plugin_path_wins(tmp_path):
    plugins = tmp_path / "studio_plugins"
    result = _cli(
        tmp_path / "home", "install-host", "hiero", HIERO_PLUGIN_PATH=f"{plugins}{os.pathsep}/elsewhere"
    )
    assert result.returncode == 0, result.stderr
    assert (plugins / "Python/StartupUI/vidmusician_panel.py").is_file()
    assert not (tmp_path / "home" / ".nuke").exists()


def test_folders_per_os_as_resolve_documents_them(tmp_path):
    home = Path("/home/ed")
    assert resolve_scripts_folder("darwin", home, {}) == home / (
        "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts/Utility"
    )
    win = resolve_scripts_folder("win32", home, {"APPDATA": "/appdata"})
    assert win == Path("/appdata/Blackmagic Design/DaVinci Resolve/Support/Fusion/Scripts/Utility")
    assert hiero_startup_folder(home, {}) == home / ".nuke/Python/StartupUI"


def test_a_written_launcher_runs_outside_this_environment(tmp_path):
    """Run by a bare Python (no PYTHONPATH), as a host would: it finds this install by itself and
    reaches the point where it needs Resolve, which says what to do."""
    (item,) = [
        x for x in launchers("resolve", home=tmp_path, env={}) if x.path.name == "VidMusician Update.py"
    ]
    script = tmp_path / "launcher.py"
    script.write_text(item.text)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RESOLVE_SCRIPT_API")}
    result = subprocess.run(
        [sys.executable, "-I", str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60
    )
    assert "VidMusician: error: cannot find DaVinci Resolve's scripting module" in result.stdout, (
        result.stderr
    )
