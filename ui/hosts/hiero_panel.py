"""Hiero / Nuke Studio: the VidMusician panel as a dockable window inside the host's own Qt.

Call `register()` from a StartupUI script on HIERO_PLUGIN_PATH with this project's packages
importable; the host's PySide6 provides Qt. Open the sequence in the panel after exporting it
from the host as OTIO or FCP7 XML. Not tested here: Hiero is not available on the build machine.
"""

from __future__ import annotations


def register():
    import hiero.ui  # provided by the host

    from ui.panel import ScorePanel
    from vm_editor.engine_client import ServiceEngine
    from vm_editor.panel_model import PanelModel

    panel = ScorePanel(PanelModel(ServiceEngine()))
    panel.setObjectName("vidmusician.panel")
    hiero.ui.windowManager().addWindow(panel)
    panel.connect_engine()
    return panel
