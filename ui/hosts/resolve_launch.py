"""DaVinci Resolve (Workspace › Scripts): score the current timeline and bring the music back.

`vm-editor install-host resolve` writes three small launchers into Resolve's scripts folder, each
with this install's Python and folder baked in; they call `main` here, inside Resolve's own
Python (standard library only: the engine and OTIO run in this install's Python, as commands).

- VidMusician Score: exports the current timeline as OTIO
  (`Timeline.Export(path, resolve.EXPORT_OTIO, resolve.EXPORT_NONE)`) into the project's folder
  (`~/VidMusician/<project>/`, or `$VIDMUSICIAN_PROJECTS/<project>/`), scores it with
  `vm-editor score` (the same command, seeds and cue numbers as the terminal and the panel) in a
  child process whose progress lines reach Workspace › Console as they come, and when it ends
  imports the cue WAVs into a "VidMusician" bin and places them on the audio track
  "VidMusician score" of the same timeline (added with `Timeline.AddTrack("audio")`).
- VidMusician Update: after a cue was regenerated (`vm-editor regenerate`, or the panel saving
  over `<timeline>.scored.otio`), puts the new takes in place of the clips they replace.
- VidMusician Panel: opens the VidMusician panel on the scored timeline, to audition and
  regenerate cues; run Update afterwards.

Why scoring runs as a command rather than in the panel: the panel is a separate window in
another process, and Resolve's script waits for one answer; the panel is one menu item away.

Every placement is read back from the track: `MediaPool.AppendToTimeline` is known to return
nothing at times (and then may or may not have placed the clips); what is not on the track is
named, with the bin, track and timecode to drag it to by hand.

Resolve 21.1 and later list Python scripts in Workspace › Scripts in the Studio edition only; the
free edition runs the Lua launchers (`resolve_launch.lua`), which do the same through this
install's `vm_editor.host_bridge`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from ui.hosts.commands import BackgroundCommand, InstallCommands, LauncherError, run_command
from vm_editor.host_cues import (
    BIN_NAME,
    SCORE_TRACK_NAME,
    HostCue,
    PlacedClip,
    append_clip_info,
    placement_advice,
    plan_sync,
    project_folder,
    safe_name,
    same_file,
)

ACTIONS = ("score", "update", "panel")


def resolve_module_folders() -> list[Path]:
    """Where Resolve's README says DaVinciResolveScript lives, per OS (RESOLVE_SCRIPT_API first)."""
    folders = []
    if os.environ.get("RESOLVE_SCRIPT_API"):
        folders.append(Path(os.environ["RESOLVE_SCRIPT_API"]) / "Modules")
    if sys.platform == "darwin":
        folders.append(
            Path("/Library/Application Support/Blackmagic Design/DaVinci Resolve/Developer/Scripting/Modules")
        )
    elif sys.platform.startswith("win"):
        base = os.environ.get("PROGRAMDATA", r"C:\ProgramData")
        folders.append(Path(base) / "Blackmagic Design/DaVinci Resolve/Support/Developer/Scripting/Modules")
    else:
        folders.append(Path("/opt/resolve/Developer/Scripting/Modules"))
    return folders


def find_resolve(namespace: dict | None = None):
    """`resolve` from the script's globals (Workspace › Scripts), else through DaVinciResolveScript."""
    resolve = (namespace or {}).get("resolve")
    if resolve is not None:
        return resolve
    try:
        import DaVinciResolveScript as dvr  # noqa: N813 - Resolve's module name
    except ImportError:
        for folder in resolve_module_folders():
            if folder.is_dir() and str(folder) not in sys.path:
                sys.path.append(str(folder))
        try:
            import DaVinciResolveScript as dvr  # noqa: N813
        except ImportError as exc:
            raise LauncherError(
                "cannot find DaVinci Resolve's scripting module; run this from Workspace › Scripts "
                "or set RESOLVE_SCRIPT_API to Resolve's Developer/Scripting folder"
            ) from exc
    resolve = dvr.scriptapp("Resolve")
    if resolve is None:
        raise LauncherError(
            "DaVinci Resolve is not running (or external scripting is off in its preferences)"
        )
    return resolve


class ResolveScore:
    """One run of a launcher against Resolve's current project and timeline."""

    def __init__(
        self,
        resolve,
        commands: InstallCommands,
        *,
        root: str | os.PathLike[str] | None = None,
        log: Callable[[str], None] | None = None,
    ):
        log = log or _say
        self.resolve, self.commands, self.log = resolve, commands, log
        project = resolve.GetProjectManager().GetCurrentProject()
        if not project:
            raise LauncherError("open a project in DaVinci Resolve first")
        timeline = project.GetCurrentTimeline()
        if not timeline:
            raise LauncherError("open a timeline in DaVinci Resolve first (Edit page)")
        self.project, self.timeline = project, timeline
        self.media_pool = project.GetMediaPool()
        self.folder = project_folder(project.GetName(), root)
        self.stem = safe_name(timeline.GetName())

    @property
    def exported_path(self) -> Path:
        return self.folder / f"{self.stem}.otio"

    @property
    def scored_path(self) -> Path:
        return self.folder / f"{self.stem}.scored.otio"

    # -- Resolve -> VidMusician ------------------------------------------------------------------
    def export(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.exported_path
        if not self.timeline.Export(str(path), self.resolve.EXPORT_OTIO, self.resolve.EXPORT_NONE):
            raise LauncherError(
                f"Resolve could not export {self.timeline.GetName()!r} as OTIO to {path} "
                "(Resolve 18.5 or later exports OTIO)"
            )
        self.log(f"VidMusician: exported {path}")
        return path

    def start_score(self, exported: Path) -> BackgroundCommand:
        """`vm-editor score` in a child process; its lines reach the console as they come."""
        return self.commands.start_score(exported, self.scored_path)

    def score(self, exported: Path) -> Path:
        return self.commands.finish_score(self.start_score(exported), self.scored_path)

    def rate(self) -> str:
        return self.timeline.GetSetting("timelineFrameRate") or self.project.GetSetting("timelineFrameRate")

    def cues(self, scored: Path) -> list[HostCue]:
        return self.commands.cues(scored, self.rate())

    # -- VidMusician -> Resolve ------------------------------------------------------------------
    def score_track_index(self) -> int:
        """Our audio track (by name), or a new one at the bottom, named for the score."""
        count = int(self.timeline.GetTrackCount("audio") or 0)
        for index in range(1, count + 1):
            if self.timeline.GetTrackName("audio", index) == SCORE_TRACK_NAME:
                return index
        if not self.timeline.AddTrack("audio"):
            raise LauncherError(f"Resolve refused to add an audio track to {self.timeline.GetName()!r}")
        index = int(self.timeline.GetTrackCount("audio"))
        self.timeline.SetTrackName("audio", index, SCORE_TRACK_NAME)
        return index

    def score_bin(self):
        root = self.media_pool.GetRootFolder()
        for folder in root.GetSubFolderList() or []:
            if folder.GetName() == BIN_NAME:
                return folder
        folder = self.media_pool.AddSubFolder(root, BIN_NAME)
        if not folder:
            raise LauncherError(f"Resolve refused to add the bin {BIN_NAME!r} to the media pool")
        return folder

    def import_wavs(self, paths: list[str]) -> dict[str, object]:
        """path -> MediaPoolItem in the VidMusician bin (a WAV already there is not imported twice)."""
        if not paths:
            return {}
        folder = self.score_bin()
        found = {}
        for item in folder.GetClipList() or []:
            found[_file_path(item)] = item
        missing = [p for p in paths if not any(same_file(p, f) for f in found)]
        if missing:
            previous = self.media_pool.GetCurrentFolder()
            self.media_pool.SetCurrentFolder(folder)
            try:
                for item in self.media_pool.ImportMedia(missing) or []:
                    found[_file_path(item)] = item
            finally:
                if previous:
                    self.media_pool.SetCurrentFolder(previous)
        out = {}
        for path in paths:
            item = next((v for k, v in found.items() if same_file(path, k)), None)
            if item is None:
                raise LauncherError(f"Resolve could not import {path}")
            out[path] = item
        return out

    def placed_clips(self, track: int, start: int) -> list[PlacedClip]:
        placed = []
        for item in self.timeline.GetItemListInTrack("audio", track) or []:
            first = int(item.GetStart()) - start
            placed.append(
                PlacedClip(first, first + int(item.GetDuration()), _file_path(item.GetMediaPoolItem()), item)
            )
        return placed

    def place(self, cues: list[HostCue]) -> dict:
        """The score track shows exactly these cues: changed clips out, new takes in."""
        track = self.score_track_index()
        start = int(self.timeline.GetStartFrame())
        plan = plan_sync(cues, self.placed_clips(track, start))
        if plan.remove and not self.timeline.DeleteClips([c.handle for c in plan.remove], False):
            raise LauncherError("Resolve refused to remove the earlier takes from the score track")
        items = self.import_wavs([c.wav_path for c in plan.place])
        infos = [
            append_clip_info(c, items[c.wav_path], timeline_start_frame=start, track_index=track)
            for c in plan.place
        ]
        if infos:
            self.append(infos, cues, track, start)
        summary = {"track": track, "kept": len(plan.keep), "removed": len(plan.remove), "placed": len(infos)}
        self.log(
            f"VidMusician: audio track {track} '{SCORE_TRACK_NAME}': {len(infos)} cue(s) placed, "
            f"{len(plan.remove)} replaced or removed, {len(plan.keep)} unchanged"
        )
        return summary

    def append(self, infos: list[dict], cues: list[HostCue], track: int, start: int) -> None:
        """AppendToTimeline, then the track read back: what is not on it is named, with where to
        drag it by hand (Resolve's AppendToTimeline is known to return nothing at times)."""
        appended = self.media_pool.AppendToTimeline(infos)
        missing = plan_sync(cues, self.placed_clips(track, start)).place
        if not missing:
            return
        said = "returned nothing" if not appended else f"returned {len(appended)} of {len(infos)} clip(s)"
        self.log(
            f"VidMusician: Resolve's MediaPool.AppendToTimeline {said} (a known Resolve scripting "
            f"bug); {len(missing)} cue(s) are not on the score track. Place them by hand:"
        )
        drop = str(self.timeline.GetSetting("timelineDropFrameTimecode") or "0") in ("1", "True", "true")
        for line in placement_advice(
            list(missing), self.rate(), timeline_start_frame=start, track_index=track, drop_frame=drop
        ):
            self.log(line)
        raise LauncherError(
            f"{len(missing)} of {len(infos)} cue(s) not placed; drag them from the media pool bin "
            f"'{BIN_NAME}' as listed above, or run VidMusician Update to try again"
        )

    def open_panel(self) -> subprocess.Popen:
        return self.commands.open_panel(self.scored_path)


def _file_path(media_pool_item) -> str:
    return str(media_pool_item.GetClipProperty("File Path") or "") if media_pool_item else ""


def _say(line: str) -> None:
    print(line, flush=True)  # Resolve's console shows each line as it is flushed


def run(session: ResolveScore, action: str) -> dict | None:
    if action == "score":
        job = session.start_score(session.export())  # progress streams while it runs
        scored = session.commands.finish_score(job, session.scored_path)
        return session.place(session.cues(scored))  # the track fills when the score ends
    if action == "update":
        return session.place(session.cues(session.scored_path))
    if action == "panel":
        session.open_panel()
        return None
    raise LauncherError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")


def main(namespace: dict | None, *, python: str, action: str = "score", **options) -> int:
    """What an installed launcher calls; errors become one line in Resolve's Console."""
    try:
        commands = InstallCommands(
            python, score_args=options.pop("score_args", ()), run=options.pop("run", run_command), log=_say
        )
        run(ResolveScore(find_resolve(namespace), commands, **options), action)
    except LauncherError as exc:
        print(f"VidMusician: error: {exc}", flush=True)
        return 2
    return 0
