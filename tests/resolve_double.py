"""A recorded double of DaVinci Resolve's scripting API (names and arguments as its README gives
them): every call is logged as (object, method, args); state is kept only as far as the calls
the launcher makes need it (tracks, media pool bins, timeline items). Not a stub of our code."""

from __future__ import annotations

from pathlib import Path

import opentimelineio as otio


class Recorder:
    def __init__(self):
        self.calls: list[tuple[str, str, tuple]] = []

    def log(self, obj: str, method: str, *args):
        self.calls.append((obj, method, args))

    def named(self, method: str) -> list[tuple]:
        return [args for _, m, args in self.calls if m == method]


class MediaPoolItem:
    def __init__(self, rec: Recorder, path: str):
        self.rec, self.path = rec, path

    def GetClipProperty(self, propertyName=None):  # noqa: N802,N803
        self.rec.log("MediaPoolItem", "GetClipProperty", propertyName)
        props = {"File Path": self.path, "Clip Name": Path(self.path).name}
        return props if propertyName is None else props.get(propertyName, "")

    def GetName(self):  # noqa: N802
        return Path(self.path).name


class Folder:
    def __init__(self, rec: Recorder, name: str):
        self.rec, self.name, self.clips, self.subfolders = rec, name, [], []

    def GetName(self):  # noqa: N802
        return self.name

    def GetClipList(self):  # noqa: N802
        self.rec.log("Folder", "GetClipList")
        return list(self.clips)

    def GetSubFolderList(self):  # noqa: N802
        self.rec.log("Folder", "GetSubFolderList")
        return list(self.subfolders)


class TimelineItem:
    def __init__(self, rec: Recorder, info: dict):
        self.rec, self.info = rec, dict(info)

    def GetStart(self):  # noqa: N802
        return self.info["recordFrame"]

    def GetDuration(self):  # noqa: N802
        return self.info["endFrame"] - self.info["startFrame"]

    def GetEnd(self):  # noqa: N802
        return self.GetStart() + self.GetDuration()

    def GetMediaPoolItem(self):  # noqa: N802
        return self.info["mediaPoolItem"]


class Timeline:
    def __init__(
        self, rec: Recorder, name: str, otio_timeline: otio.schema.Timeline, rate: str, audio_tracks=1
    ):
        self.rec, self.name, self.otio, self.rate = rec, name, otio_timeline, rate
        start = otio_timeline.global_start_time
        self.start_frame = int(round(start.value)) if start is not None else 0
        self.audio = [{"name": f"Audio {i + 1}", "items": []} for i in range(audio_tracks)]

    def GetName(self):  # noqa: N802
        return self.name

    def GetSetting(self, settingName):  # noqa: N802,N803
        self.rec.log("Timeline", "GetSetting", settingName)
        return self.rate if settingName == "timelineFrameRate" else ""

    def GetStartFrame(self):  # noqa: N802
        self.rec.log("Timeline", "GetStartFrame")
        return self.start_frame

    def Export(self, fileName, exportType, exportSubtype):  # noqa: N802,N803
        self.rec.log("Timeline", "Export", fileName, exportType, exportSubtype)
        if exportType != Resolve.EXPORT_OTIO:
            return False
        otio.adapters.write_to_file(self.otio, fileName)
        return True

    def GetTrackCount(self, trackType):  # noqa: N802,N803
        return len(self.audio) if trackType == "audio" else 1

    def GetTrackName(self, trackType, trackIndex):  # noqa: N802,N803
        return self.audio[trackIndex - 1]["name"] if trackType == "audio" else "Video 1"

    def SetTrackName(self, trackType, trackIndex, name):  # noqa: N802,N803
        self.rec.log("Timeline", "SetTrackName", trackType, trackIndex, name)
        self.audio[trackIndex - 1]["name"] = name
        return True

    def AddTrack(self, trackType, subTrackType=None):  # noqa: N802,N803
        self.rec.log("Timeline", "AddTrack", trackType, *([subTrackType] if subTrackType else []))
        self.audio.append({"name": f"Audio {len(self.audio) + 1}", "items": []})
        return True

    def GetItemListInTrack(self, trackType, index):  # noqa: N802,N803
        return list(self.audio[index - 1]["items"]) if trackType == "audio" else []

    def DeleteClips(self, timelineItems, ripple):  # noqa: N802,N803
        self.rec.log("Timeline", "DeleteClips", list(timelineItems), ripple)
        for track in self.audio:
            track["items"] = [i for i in track["items"] if i not in timelineItems]
        return True


class MediaPool:
    """`append_bug`: Resolve's known AppendToTimeline failure: "none" returns None and places
    nothing; "silent" returns None yet places the clips (both seen in the field)."""

    def __init__(self, rec: Recorder, timeline: Timeline):
        self.rec, self.timeline = rec, timeline
        self.root = Folder(rec, "Master")
        self.current = self.root
        self.append_bug: str | None = None

    def GetRootFolder(self):  # noqa: N802
        return self.root

    def AddSubFolder(self, folder, name):  # noqa: N802
        self.rec.log("MediaPool", "AddSubFolder", folder.GetName(), name)
        sub = Folder(self.rec, name)
        folder.subfolders.append(sub)
        return sub

    def GetCurrentFolder(self):  # noqa: N802
        return self.current

    def SetCurrentFolder(self, folder):  # noqa: N802
        self.rec.log("MediaPool", "SetCurrentFolder", folder.GetName())
        self.current = folder
        return True

    def ImportMedia(self, items):  # noqa: N802
        self.rec.log("MediaPool", "ImportMedia", list(items))
        out = [MediaPoolItem(self.rec, str(p)) for p in items if Path(p).is_file()]
        self.current.clips.extend(out)
        return out

    def AppendToTimeline(self, clipInfos):  # noqa: N802,N803
        self.rec.log("MediaPool", "AppendToTimeline", [dict(c) for c in clipInfos])
        out = []
        for info in clipInfos:
            assert set(info) <= {
                "mediaPoolItem",
                "startFrame",
                "endFrame",
                "mediaType",
                "trackIndex",
                "recordFrame",
            }
            if self.append_bug == "none":
                continue
            item = TimelineItem(self.rec, info)
            self.timeline.audio[info["trackIndex"] - 1]["items"].append(item)
            out.append(item)
        return None if self.append_bug else out


class Project:
    def __init__(self, rec: Recorder, name: str, timeline: Timeline):
        self.rec, self.name, self.timeline = rec, name, timeline
        self.pool = MediaPool(rec, timeline)

    def GetName(self):  # noqa: N802
        return self.name

    def GetCurrentTimeline(self):  # noqa: N802
        return self.timeline

    def GetMediaPool(self):  # noqa: N802
        return self.pool

    def GetSetting(self, settingName):  # noqa: N802,N803
        return self.timeline.rate if settingName == "timelineFrameRate" else ""


class ProjectManager:
    def __init__(self, project: Project):
        self.project = project

    def GetCurrentProject(self):  # noqa: N802
        return self.project


class Resolve:
    EXPORT_OTIO = "EXPORT_OTIO"  # the real constants are opaque values; only identity matters
    EXPORT_NONE = "EXPORT_NONE"

    def __init__(self, project_name: str, timeline_name: str, otio_timeline, rate: str, audio_tracks=1):
        self.rec = Recorder()
        self.timeline = Timeline(self.rec, timeline_name, otio_timeline, rate, audio_tracks)
        self.project = Project(self.rec, project_name, self.timeline)

    def GetProjectManager(self):  # noqa: N802
        return ProjectManager(self.project)


class LuaFacing:
    """A double object as Resolve's Lua binding shows it to a Lua script (run by lupa's LuaJIT,
    the Lua Resolve embeds): `obj:Method(...)` with Lua tables in (lists 1-based, clipInfo
    records) and Lua tables out; whole numbers arrive as Python ints, as Resolve reads them."""

    def __init__(self, lua, target):
        self._lua, self._target = lua, target

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if not callable(value):
            return self._to_lua(value)

        def method(_this, *args):
            return self._to_lua(value(*(self._from_lua(a) for a in args)))

        return method

    def _from_lua(self, value):
        from lupa import luajit21

        if isinstance(value, LuaFacing):
            return value._target
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if luajit21.lua_type(value) == "table":
            items = {self._from_lua(k): self._from_lua(v) for k, v in value.items()}
            if list(items) == list(range(1, len(items) + 1)):
                return list(items.values())
            return items
        return value

    def _to_lua(self, value):
        if value is None or isinstance(value, (str, int, float, bool)):
            return value
        if isinstance(value, (list, tuple)):
            return self._lua.table_from([self._to_lua(v) for v in value])
        if isinstance(value, dict):
            return self._lua.table_from({k: self._to_lua(v) for k, v in value.items()})
        return LuaFacing(self._lua, value)


def run_lua_launcher(text: str, resolve: Resolve, say) -> dict:
    """Run an installed Lua launcher's text with `resolve` as its global; `say` gets its prints.
    Returns the launcher's VIDMUSICIAN table (status, summary) as Python."""
    from lupa import luajit21

    lua = luajit21.LuaRuntime(unpack_returned_tuples=True)
    lua.globals().resolve = LuaFacing(lua, resolve)
    lua.globals().print = lambda *parts: say("\t".join(str(p) for p in parts))
    lua.execute(text)
    state = lua.globals().VIDMUSICIAN
    summary = state.summary
    return {
        "status": state.status,
        "summary": dict(summary.items()) if summary is not None else None,
    }
