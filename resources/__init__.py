"""Embedded model files, presets and icons (package data, read with importlib.resources)."""
