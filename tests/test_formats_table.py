"""docs/formats.md's table must be what the sample files actually give."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.format_facts import facts
from tests.timeline_helpers import SAMPLES

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"


@pytest.mark.slow
@pytest.mark.samples
def test_table_matches_measurement():
    if not SAMPLES.is_dir():
        pytest.skip(f"{SAMPLES} is absent")
    text = DOC.read_text()
    rows = text.split("<!-- table:start -->")[1].split("<!-- table:end -->")[0].strip().splitlines()[2:]
    table = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        table[cells[0]] = cells[1:]
    measured = {
        k: [v["scenes"], v["markers"], v["music"], v["fades"], v["meta"], v["out"]]
        for k, v in facts().items()
    }
    assert table == measured
