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
    ("session.py", "engine.errors"),  # a cue the engine cannot re-fit is regenerated, said as a warning
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


# -- one scoring session (issue 27): the faces' option lists are one --------------------------------
# every ScoreOptions field, given on a command line, and the value it must arrive as
GIVEN = {
    "track": (["--track", "2"], 2),
    "rate": (["--rate", "25"], 25.0),
    "project": (["--project", "B"], "B"),
    "relink": (["--relink", "/media"], ("/media",)),
    "cues": (["--cues", "per-clip"], "per-clip"),
    "merge": (["--merge", "0-1"], ("0-1",)),
    "merge_all": (["--merge-all"], True),
    "split_at_markers": (["--split-at-markers"], True),
    "record_in": (["--in", "10"], "10"),
    "record_out": (["--out", "90"], "90"),
    "preset": (["--preset", "base"], "base"),
    "seed": (["--seed", "7"], 7),
    "prompt": (["--prompt", "-dark strings"], "-dark strings"),
    "guidance": (["--guidance", "3.5"], 3.5),
    "mood": (["--mood", "tension"], "tension"),
    "energy": (["--energy", "low"], "low"),
    "hits": (["--no-hits"], False),
    "stems": (["--stems"], True),
    "takes": (["--takes", "3"], 3),
    "crossfade": (["--crossfade", "0.25"], 0.25),
    "allow_offline": (["--allow-offline"], True),
    "cue_dir": (["--cue-dir", "cues"], Path("cues")),
}


def _every_option() -> list[str]:
    return [token for flags, _ in GIVEN.values() for token in flags]


def test_every_score_option_reaches_score_watch_the_panel_and_the_hosts():
    """`vm-editor score`, `watch`, the panel (`python -m ui`) and the host launchers' score_args
    take every ScoreOptions field, each from the one definition (`score_options.add_score_options`),
    and all arrive as the same ScoreOptions."""
    from ui.hosts.commands import InstallCommands
    from vm_editor import cli, score_options
    from vm_editor.panel_model import PanelOptions

    assert set(GIVEN) == set(score_options.FIELDS)
    want = score_options.ScoreOptions(**{name: value for name, (_, value) in GIVEN.items()})
    parser = cli.build_parser()
    faces = {
        "score": parser.parse_args(["score", "cut.otio", *_every_option()]),
        "watch": parser.parse_args(["watch", "exports", *_every_option()]),
        "panel": cli.panel_args(["cut.otio", *_every_option()]),
    }
    host = InstallCommands(sys.executable, score_args=tuple(_every_option()))
    faces["hosts"] = parser.parse_args(host.score_command(Path("in.otio"), Path("out.otio"))[3:])
    for face, args in faces.items():
        assert score_options.ScoreOptions.from_args(args) == want, face
    assert PanelOptions is score_options.ScoreOptions  # the panel's options are the score's


def test_only_score_options_defines_the_score_options():
    """No face adds --prompt, --mood, --energy, --seed (or any other score option) to a parser of
    its own: the flags are written once, in vm_editor/score_options.py (`_FLAGS`)."""
    from vm_editor import score_options

    flags = {f for name in score_options.FIELDS for f in score_options._FLAGS[name][0]} - {"--out"}
    defined = set()
    for package in ("vm_editor", "ui", "otio_adapters"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "add_argument":
                    for arg in node.args:
                        if isinstance(arg, ast.Constant) and arg.value in flags:
                            defined.add((path.name, arg.value))
    # host_bridge's --rate is the host timeline's rate the cue list is given at, not a score's
    assert defined <= {("host_bridge.py", "--rate")}, sorted(defined)


# -- the saved cue record (issue 27): written in one place, read through one codec ------------------
# the codec's homes: engine/api.py (`cue_from_record`, the `recorded_*` helpers) and its editor-side
# door, score_track.cue_from_metadata; writeback.py writes the record (CueResult.metadata)
CUE_RECORD_READERS = {"score_track.py"}
# unrelated dicts that share a name with a cue field: FCPXML <md key="..."> elements
NOT_A_CUE_RECORD = {("fcpxml_reader.py", "key"), ("fcpxml_writer.py", "key")}


def _cue_record_fields() -> set[str]:
    """The recipe fields CueResult.metadata() writes (cue_index, the record's identity, aside)."""
    from engine.api import CueKey, CueProgram, CueResult, CueTempo

    cue = CueResult(
        0, "a", "/a.wav", 1.0, 48000, 48000, "tiny", 1, "p", 1, "h", "v", True, guidance=2.0,
        tokens_path="/a.npy", starts_world=True, world_changes_s=(), program=CueProgram(1.0, (), ()),
        continued_from="/b.npy", mood="tension", energy="low", tempo=CueTempo(90.0, 0.0),
        key=CueKey(0, "major", (0, 2, 4, 5, 7, 9, 11)), hit_points_s=(),
    )  # fmt: skip
    fields = set(cue.metadata()) - {"cue_index"}
    assert {"seed", "take", "prompt", "tempo", "key", "program", "continued_from"} <= fields
    return fields


def cue_field_reads(path: Path, fields: set[str]) -> set[tuple[int, str]]:
    """(line, field) where `path` reads a cue field by name: x["seed"], x.get("seed"),
    x.pop/setdefault("seed"), "seed" in x."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            key = node.args[0].value
        elif isinstance(node, ast.Compare) and isinstance(node.left, ast.Constant):
            if any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                key = node.left.value
        if isinstance(key, str) and key in fields:
            found.add((node.lineno, key))
    return found


def test_the_cue_record_is_read_through_its_codec_only():
    """The cue record saved in clip metadata is read by `score_track.cue_from_metadata` (which
    asks engine.api.cue_from_record): no other editor-side module picks its fields by name, so a
    field's leniency (an old record, an adapter's "False") is decided once."""
    fields = _cue_record_fields()
    reads = {
        (path.name, line, key)
        for package in ("vm_editor", "ui", "otio_adapters")
        for path in (ROOT / package).rglob("*.py")
        if path.name not in CUE_RECORD_READERS
        for line, key in cue_field_reads(path, fields)
        if (path.name, key) not in NOT_A_CUE_RECORD
    }
    assert not reads, sorted(reads)


def test_the_cue_record_scan_sees_a_field_read():
    """The scan above is not blind: the codec's own home reads the fields it guards."""
    fields = _cue_record_fields()
    assert {"rate"} - fields  # a clip field, not the recipe's
    assert {k for _, k in cue_field_reads(ROOT / "engine" / "api.py", fields)} >= {"seed", "take", "tempo"}
