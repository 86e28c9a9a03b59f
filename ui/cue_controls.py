"""A cue's explicit mood and energy, chosen beside its prompt (`--mood`, `--energy`).

Why its own widget: the panel's inspector only places it and hands it the selected row's
`CueSettings`; what the choices mean lives in the engine (`engine.api.CUE_MOODS`, `CUE_ENERGIES`,
`PromptIntent.with_controls`), and "auto" (None) leaves the prompt's words to decide.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QWidget

from engine.api import CUE_ENERGIES, CUE_MOODS
from vm_editor.panel_model import CueSettings

AUTO_LABEL = "auto"


def _chooser(values: tuple[str, ...], tip: str) -> QComboBox:
    box = QComboBox()
    box.addItem(AUTO_LABEL, None)
    for value in values:
        box.addItem(value, value)
    box.setToolTip(tip)
    return box


class CueControls(QWidget):
    """Two choosers, mood and energy; `changed` fires when the editor picks another value."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.mood = _chooser(
            CUE_MOODS, "the cue's mood over the prompt's words: its style, mode and energy (--mood)"
        )
        self.energy = _chooser(
            CUE_ENERGIES, "the cue's energy (note density), over prompt and mood (--energy)"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.mood, 1)
        layout.addWidget(self.energy, 1)
        self._loading = False
        for box in (self.mood, self.energy):
            box.currentIndexChanged.connect(self._on_change)

    def load(self, settings: CueSettings) -> None:
        """Show a row's controls (no `changed` while doing so)."""
        self._loading = True
        for box, value in ((self.mood, settings.mood), (self.energy, settings.energy)):
            box.setCurrentIndex(max(0, box.findData(value)) if value is not None else 0)
        self._loading = False

    def store(self, settings: CueSettings) -> None:
        """Write the chosen controls into a row's settings (None: auto)."""
        settings.mood = self.mood.currentData()
        settings.energy = self.energy.currentData()

    def _on_change(self) -> None:
        if not self._loading:
            self.changed.emit()
