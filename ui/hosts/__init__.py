"""Launchers for hosts: a DaVinci Resolve script and a Hiero / Nuke Studio dockable panel."""
