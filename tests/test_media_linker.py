"""Media resolution: URL forms, relink folders, and the OTIO plugin manifest loaded explicitly."""

from __future__ import annotations

import json
from pathlib import Path

import opentimelineio as otio

from vm_editor.media_links import file_name_of, resolve_media, url_to_path

ROOT = Path(__file__).resolve().parents[1] / "otio_adapters"


def test_url_forms():
    assert url_to_path("file:///tmp/a%20b.mov") == Path("/tmp/a b.mov")
    assert url_to_path("file://localhost/tmp/a.mov") == Path("/tmp/a.mov")
    assert url_to_path("https://x/y.mov") is None
    assert url_to_path("media/a.mov", Path("/proj")) == Path("/proj/media/a.mov")
    for url in (
        "file:///C:/Media/Shot%201.mov",
        "C:\\Media\\Shot 1.mov",
        "\\\\server\\share\\Shot 1.mov",
        "file://server/share/Shot%201.mov",
    ):
        assert file_name_of(url) == "Shot 1.mov"
        assert url_to_path(url).name == "Shot 1.mov"


def test_relink_by_file_name(tmp_path):
    folder = tmp_path / "drive" / "deep"
    folder.mkdir(parents=True)
    (folder / "Shot 1.MOV").write_bytes(b"x")
    assert resolve_media("file:///C:/Media/Shot%201.mov") is None
    found = resolve_media("\\\\server\\share\\Shot 1.mov", relink=[tmp_path / "drive"])
    assert found == folder / "Shot 1.MOV"
    rel = tmp_path / "a.mov"
    rel.write_bytes(b"x")
    assert resolve_media("a.mov", base_dir=tmp_path) == rel


def test_manifest_is_valid_and_names_existing_modules():
    data = json.loads((ROOT / "plugin_manifest.json").read_text())
    for section in ("media_linkers", "hook_scripts"):
        for entry in data[section]:
            assert (ROOT / entry["filepath"]).is_file()
    manifest = otio.plugins.manifest.manifest_from_file(str(ROOT / "plugin_manifest.json"))
    assert [m.name for m in manifest.media_linkers] == ["vidmusician_relink"]
    assert [h.name for h in manifest.hook_scripts] == ["vidmusician_post_read"]
    assert list(manifest.hooks["post_adapter_read"]) == []  # installed, it changes nobody's reads


def test_the_installed_plugin_leaves_other_tools_reads_alone(tmp_path):
    tl = otio.schema.Timeline(name="x")
    path = tmp_path / "x.otio"
    otio.adapters.write_to_file(tl, str(path))
    assert "vidmusician" not in otio.adapters.read_from_file(str(path)).metadata


def test_media_linker_through_otio_plugin_api(tmp_path):
    manifest = otio.plugins.manifest.manifest_from_file(str(ROOT / "plugin_manifest.json"))
    linker = manifest.media_linkers[0]
    (tmp_path / "found").mkdir()
    (tmp_path / "found" / "Shot.mov").write_bytes(b"x")
    clip = otio.schema.Clip(
        name="a", media_reference=otio.schema.ExternalReference(target_url="file:///Z:/gone/Shot.mov")
    )
    ref = linker.link_media_reference(clip, {"relink": [str(tmp_path)]})
    assert ref.target_url == (tmp_path / "found" / "Shot.mov").resolve().as_uri()
    gone = otio.schema.Clip(
        name="b", media_reference=otio.schema.ExternalReference(target_url="file:///Z:/gone/Nowhere.mov")
    )
    linker.link_media_reference(gone, {"relink": [str(tmp_path)]})
    assert gone.metadata["vidmusician"]["offline"] is True
