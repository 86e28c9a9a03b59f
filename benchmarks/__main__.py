"""`make bench`: run every benchmarks/bench_*.py, print a table, write out/bench/<name>.json.

Usage: python -m benchmarks [NAME ...]   (NAME = the part after `bench_`; default: all)
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

OUT = Path("out/bench")


def machine() -> dict:
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return info


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(p.stem[len("bench_") :] for p in here.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    names = argv or discover()
    OUT.mkdir(parents=True, exist_ok=True)
    failed = []
    rows = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        started = time.monotonic()
        try:
            result = module.run()
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            failed.append(name)
            print(f"bench {name}: FAILED: {exc!r}", file=sys.stderr)
            continue
        result.setdefault("name", name)
        result["machine"] = machine()
        result["wall_s"] = round(time.monotonic() - started, 2)
        (OUT / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=True))
        for key, value in result.get("ratios", {}).items():
            rows.append((result["name"], key, value))
    width = max((len(f"{n}.{k}") for n, k, _ in rows), default=10)
    print(f"{'ratio (larger is better)':<{width}}  value")
    for name, key, value in rows:
        print(f"{name + '.' + key:<{width}}  {value:8.2f}")
    print(f"results in {OUT.resolve()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
