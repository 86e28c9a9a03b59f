"""A recorded double of the parts of Hiero's Python API the panel uses (hiero.core: Sequence,
VideoTrack, AudioTrack, TrackItem, Clip, MediaSource, Bin, BinItem, Project; hiero.ui:
activeSequence, windowManager().addWindow), names as Foundry's Hiero Python guide gives them.
Every call that changes something is logged as (object, method, args)."""

from __future__ import annotations

from types import SimpleNamespace

CALLS: list[tuple[str, str, tuple]] = []


def log(obj, method, *args):
    CALLS.append((obj, method, args))


class TimeBase:
    def __init__(self, fps: float):
        self.fps = fps

    def toFloat(self):  # noqa: N802
        return self.fps


class FileInfo:
    def __init__(self, path):
        self.path = path

    def filename(self):
        return self.path


class MediaSource:
    def __init__(self, path, duration=0):
        log("core", "MediaSource", path)
        self.path, self._duration = path, duration

    def isOffline(self):  # noqa: N802
        return not self.path

    def fileinfos(self):
        return [FileInfo(self.path)]

    def duration(self):
        return self._duration


class Clip:
    def __init__(self, media):
        log("core", "Clip", media.path)
        self.media = media

    def mediaSource(self):  # noqa: N802
        return self.media


class BinItem:
    def __init__(self, item):
        self.item = item


class Bin:
    def __init__(self, name):
        log("core", "Bin", name)
        self._name, self._items = name, []

    def name(self):
        return self._name

    def items(self):
        return list(self._items)

    def addItem(self, item):  # noqa: N802
        log("Bin", "addItem", self._name, getattr(item, "item", item))
        self._items.append(item)


class TrackItem:
    def __init__(self, name, clip=None, tin=0, tout=0, sin=0, sout=0, speed=1.0):
        self._name, self.clip, self.tin, self.tout, self.sin, self.sout, self.speed = (
            name,
            clip,
            tin,
            tout,
            sin,
            sout,
            speed,
        )

    def name(self):
        return self._name

    def source(self):
        return self.clip

    def setSource(self, clip):  # noqa: N802
        self.clip = clip

    def setSourceIn(self, v):  # noqa: N802
        self.sin = v

    def setSourceOut(self, v):  # noqa: N802
        self.sout = v

    def setTimelineIn(self, v):  # noqa: N802
        self.tin = v

    def setTimelineOut(self, v):  # noqa: N802
        self.tout = v

    def timelineIn(self):  # noqa: N802
        return self.tin

    def timelineOut(self):  # noqa: N802
        return self.tout

    def sourceIn(self):  # noqa: N802
        return self.sin

    def sourceOut(self):  # noqa: N802
        return self.sout

    def playbackSpeed(self):  # noqa: N802
        return self.speed

    def isEnabled(self):  # noqa: N802
        return True


class _Track:
    def __init__(self, name):
        self._name, self._items = name, []

    def name(self):
        return self._name

    def isEnabled(self):  # noqa: N802
        return True

    def items(self):
        return list(self._items)

    def createTrackItem(self, name):  # noqa: N802
        return TrackItem(name)

    def addItem(self, item):  # noqa: N802
        log(
            self._name, "addItem", item.name(), item.clip.media.path, item.sin, item.sout, item.tin, item.tout
        )
        self._items.append(item)

    def removeItem(self, item):  # noqa: N802
        log(self._name, "removeItem", item)
        self._items.remove(item)


class VideoTrack(_Track):
    pass


class AudioTrack(_Track):
    def __init__(self, name):
        log("core", "AudioTrack", name)
        super().__init__(name)


class Project:
    def __init__(self, name, path=""):
        self._name, self._path, self.bin = name, path, Bin("Clips")

    def name(self):
        return self._name

    def path(self):
        return self._path

    def clipsBin(self):  # noqa: N802
        return self.bin

    def beginUndo(self, name):  # noqa: N802
        log("Project", "beginUndo", name)

    def endUndo(self):  # noqa: N802
        log("Project", "endUndo")


class Sequence:
    def __init__(self, name, fps, start, project, video):
        self._name, self.fps, self.start, self._project = name, fps, start, project
        self.video, self.audio = [video], []

    def name(self):
        return self._name

    def project(self):
        return self._project

    def framerate(self):
        return TimeBase(self.fps)

    def timecodeStart(self):  # noqa: N802
        return self.start

    def videoTracks(self):  # noqa: N802
        return list(self.video)

    def audioTracks(self):  # noqa: N802
        return list(self.audio)

    def addTrack(self, track):  # noqa: N802
        log("Sequence", "addTrack", track.name())
        self.audio.append(track)


core = SimpleNamespace(
    AudioTrack=AudioTrack, Bin=Bin, BinItem=BinItem, Clip=Clip, MediaSource=MediaSource, VideoTrack=VideoTrack
)


class WindowManager:
    def addWindow(self, widget):  # noqa: N802
        log("windowManager", "addWindow", widget)


def make_ui(sequence):
    return SimpleNamespace(activeSequence=lambda: sequence, windowManager=WindowManager)
