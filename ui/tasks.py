"""Run a blocking call off the GUI thread and deliver its result back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    finished = Signal(object, object)  # result, error


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.fn, self.relay = fn, relay

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except Exception as exc:  # delivered to the GUI thread, shown in the banner
            result, error = None, exc
        try:
            self.relay.finished.emit(result, error)
        except RuntimeError:  # the widget that asked was closed meanwhile: nobody needs the result
            pass


def run_in_background(
    parent: QObject, fn: Callable[[], Any], done: Callable[[Any, Exception | None], None]
) -> None:
    relay = _Relay(parent)  # lives in the GUI thread: its signal is queued back there
    relay.finished.connect(lambda result, error: (done(result, error), relay.deleteLater()))
    QThreadPool.globalInstance().start(_Task(fn, relay))
