"""DESIGN.md §4's layering rules, checked on the real import graph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> set[tuple[str, str]]:
    """(file, imported module) for every import statement in a package, lazy ones included."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {(path.name, alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path.name, node.module))
    return found


def test_vm_editor_loads_no_heavy_runtime():
    code = (
        "import sys, vm_editor.cli, vm_editor.panel_model, vm_editor.demo, vm_editor.engine_client;"
        "print(','.join(m for m in ('torch', 'onnxruntime', 'av', 'PySide6') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert result.stdout.strip() == ""


def test_vm_editor_imports_only_the_light_engine_modules():
    # stdlib only; engine.build_id: the client compares a running engine's build with its own;
    # engine.temp_files: temporary names a later run can clean up
    allowed = {
        "engine.api",
        "engine.errors",
        "engine.in_process",
        "engine.file_modes",
        "engine.temp_files",
        "engine.build_id",
    }
    bad = {
        (f, m)
        for f, m in imported_modules("vm_editor")
        if m.split(".")[0] in ("torch", "onnxruntime", "av", "PySide6", "ui")
        or (m.startswith("engine") and m not in allowed)
    }
    assert not bad


def test_engine_never_imports_ui_or_vm_editor():
    assert not {(f, m) for f, m in imported_modules("engine") if m.split(".")[0] in ("ui", "vm_editor")}


# Where the editor side may touch the engine besides its contract: the CLI turns the in-process
# engine's input errors into its one `error:` line; timeline_io, host_install and cue_files write
# files with the engine's file-mode rule and temporary names (a later run removes what a killed
# one left); engine_client fingerprints this install's engine build
# (engine.build_id) to replace a running engine started before an update. All are standard library only (checked below).
EDITOR_SIDE_EXCEPTIONS = {
    ("cli.py", "engine.errors"),
    ("timeline_io.py", "engine.file_modes"),
    ("host_install.py", "engine.file_modes"),
    ("timeline_io.py", "engine.temp_files"),
    ("host_install.py", "engine.temp_files"),
    ("cue_files.py", "engine.temp_files"),
    ("cue_files.py", "engine.file_modes"),  # moved cues take this command's umask
    ("bundle_media.py", "engine.temp_files"),  # media extracted from an .otioz
    ("engine_client.py", "engine.build_id"),
}


def test_editor_side_reaches_the_engine_through_engine_api_only():
    """vm_editor and ui (panel, CLI, demo, scoring) use engine.api; engine.in_process is the one
    engine they may construct, behind the same protocol."""
    used = imported_modules("vm_editor") | imported_modules("ui")
    beyond = {
        (f, m) for f, m in used if m.startswith("engine") and m not in ("engine.api", "engine.in_process")
    }
    assert beyond <= EDITOR_SIDE_EXCEPTIONS, beyond - EDITOR_SIDE_EXCEPTIONS
    for module in ("api", "in_process", "errors", "file_modes", "temp_files", "build_id", "timebase"):
        top_level = {
            alias.name if isinstance(node, ast.Import) else node.module
            for node in ast.parse((ROOT / "engine" / f"{module}.py").read_text()).body
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        third_party = {m for m in top_level if m.split(".")[0] not in sys.stdlib_module_names}
        assert third_party <= {"engine.api", "engine.timebase"}, (module, third_party)


def test_ui_holds_no_engine_internals():
    assert not {
        (f, m)
        for f, m in imported_modules("ui")
        if m.startswith("engine.") and m not in ("engine.api", "engine.in_process")
    }


def test_corpus_imports_neither_training_nor_evaluation():
    assert not {
        (f, m) for f, m in imported_modules("engine/corpus") if m.startswith(("engine.train", "engine.eval"))
    }


def test_evaluation_takes_its_clips_from_the_corpus_not_from_training():
    assert not {(f, m) for f, m in imported_modules("engine/eval") if m.startswith("engine.train")}


def test_both_engines_implement_the_one_protocol():
    """The panel, the CLI and the demo reach either engine through engine.api.Engine alone."""
    import inspect

    from engine.api import Engine
    from engine.in_process import InProcessEngine
    from vm_editor.engine_client import ServiceEngine

    methods = [
        m for m in ("score", "conditioning", "shot_embeddings", "preview", "info") if hasattr(Engine, m)
    ]
    assert len(methods) == 5
    for engine in (InProcessEngine, ServiceEngine):
        for name in methods:
            want = list(inspect.signature(getattr(Engine, name)).parameters)
            got = list(inspect.signature(getattr(engine, name)).parameters)
            assert got == want, (engine.__name__, name, got, want)


def test_real_music_stays_in_training():
    """music21 (the `train` extra) is read by the corpus's real-music tokenizer alone, and only the
    trainer's real-music shards use that: the product path never loads it."""
    users = {
        (f, m)
        for pkg in ("engine", "vm_editor", "ui")
        for f, m in imported_modules(pkg)
        if m.split(".")[0] == "music21"
    }
    assert users == {("real_music.py", "music21")}
    tokenizer = {f for f, m in imported_modules("engine") if m == "engine.corpus.real_music"}
    assert tokenizer == {"real_shards.py"}


# The product: what an editor runs. engine/train is training (it validates with eval's measures)
# and engine/eval is evaluation itself; tools/ (the docs' pictures, the demo's music check, the
# style preview) is tooling that may use both.
PRODUCT = ("vm_editor", "ui", "otio_adapters", "resources", "engine")
NOT_PRODUCT = ("engine/eval", "engine/train")


def product_imports() -> set[tuple[str, str]]:
    """(path from the root, imported module) for every import in a product module, lazy ones too."""
    found = set()
    for package in PRODUCT:
        for path in (ROOT / package).rglob("*.py"):
            where = path.relative_to(ROOT).as_posix()
            if where.startswith(NOT_PRODUCT):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {(where, alias.name) for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    found.add((where, node.module))
    return found


def test_no_product_module_imports_evaluation_or_tooling():
    """Evaluation never flows back into the product path (DESIGN.md §4): the demo's music check
    and the style preview's measures live in tools/, and so does the doc tooling."""
    imports = product_imports()
    assert any(m.startswith("engine.api") for _, m in imports)  # the walk sees the product
    bad = {(f, m) for f, m in imports if m == "engine.eval" or m.startswith(("engine.eval.", "tools"))}
    assert not bad, sorted(bad)
    assert not [p.name for p in (ROOT / "ui").glob("*.py") if p.name.startswith(("guide_", "screenshots"))]
