"""The user guide and its pictures agree: every picture it shows exists, every picture in
docs/guide is shown, and `make guide-pictures` has a flow for every editor section of the guide."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "user-guide.md"
PICTURES = ROOT / "docs" / "guide"
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
# sections that are about VidMusician itself, not an editor's round trip
NOT_EDITORS = {"About the pictures", "Watching a folder"}


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def test_the_guide_shows_only_pictures_that_exist_and_every_picture_there_is():
    text = GUIDE.read_text()
    shown = {(GUIDE.parent / target).resolve() for target in IMAGE.findall(text)}
    missing = sorted(str(p.relative_to(ROOT)) for p in shown if not p.is_file())
    assert not missing, f"the guide shows pictures that do not exist: {missing}"
    unshown = sorted(p.name for p in PICTURES.glob("*.png") if p.resolve() not in shown)
    assert not unshown, f"pictures in docs/guide the guide never shows: {unshown}"


def test_guide_pictures_are_small():
    big = {p.name: p.stat().st_size for p in PICTURES.glob("*.png") if p.stat().st_size >= 150_000}
    assert not big, f"over 150 kB (make guide-pictures quantises to 256 colours): {big}"


def test_every_editor_section_has_a_flow_and_its_two_pictures():
    # tools.docs.guide_flows imports only OTIO and vm_editor (no Qt), so this stays fast
    from tools.docs.guide_flows import FLOWS

    sections = _sections(GUIDE.read_text())
    editors = set(sections) - NOT_EDITORS
    by_section = {flow.section: flow for flow in FLOWS}
    assert editors == set(by_section), (
        f"editor sections without a flow: {sorted(editors - set(by_section))}; "
        f"flows without a section: {sorted(set(by_section) - editors)}"
    )
    for title, flow in by_section.items():
        shown = set(IMAGE.findall(sections[title]))
        assert {f"guide/{flow.key}-flow.png", f"guide/{flow.key}-panel.png"} <= shown, title
