"""``make mutation``: mutmut over the modules that carry the guarantees, counts per module.

The modules and the tests that may kill their mutants are configured in ``pyproject.toml``
(``[tool.mutmut]``); mutmut runs, for each mutant, only the tests of that selection that
reached the mutated function. A run of every module takes long on a small machine, so
modules can be named (``make mutation MODULES="sync_jobs.apply sync_jobs.reconcile"``);
results accumulate in ``mutants/`` and the table counts what has been checked so far.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = Path(sys.executable).with_name("mutmut")
# mutmut's names: <module>.x_<function>__mutmut_<n> or <module>.xǁ<Class>ǁ<method>__mutmut_<n>
NAME = re.compile(r"^\s*(?P<module>[\w.]+?)\.x[_ǁ]\S*__mutmut_\d+: (?P<status>.+)$")
STATUSES = ("killed", "survived", "timeout", "no tests", "suspicious", "not checked")


def guarded_modules(pyproject: Path = Path("pyproject.toml")) -> list[str]:
    """The dotted names of the files ``[tool.mutmut] only_mutate`` lists."""
    config = tomllib.loads(pyproject.read_text())["tool"]["mutmut"]
    return [p.removesuffix(".py").replace("/", ".") for p in config["only_mutate"]]


def counts(output: str) -> dict[str, Counter[str]]:
    """``mutmut results --all true`` → {module: Counter(status)}."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for line in output.splitlines():
        if match := NAME.match(line):
            table[match["module"]][match["status"].strip()] += 1
    return dict(table)


def render(table: dict[str, Counter[str]]) -> str:
    rows = ["| module | " + " | ".join(STATUSES) + " |", "|---" * (len(STATUSES) + 1) + "|"]
    for module in sorted(table):
        cells = " | ".join(str(table[module][s]) for s in STATUSES)
        rows.append(f"| `{module}` | {cells} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("modules", nargs="*", help="dotted module names (default: all)")
    parser.add_argument("--children", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args()
    modules = args.modules or guarded_modules()
    run = [str(MUTMUT), "run", "--max-children", str(args.children)]
    subprocess.run([*run, *(f"{m}.*" for m in modules)], check=False)
    results = [str(MUTMUT), "results", "--all", "true"]
    listed = subprocess.run(results, check=True, capture_output=True, text=True).stdout
    print(render(counts(listed)))
    print("\nsurvivors: .venv/bin/mutmut results; one of them: .venv/bin/mutmut show <name>")


if __name__ == "__main__":
    main()
