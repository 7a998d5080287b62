"""The issue's targets, measured vs goal, for docs/benchmarks.md (see bench/report.py).

The reasons behind each verdict are written by people in bench/analysis.md, one
``<!-- reason KEY: text -->`` line per target, and picked up here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).parent
RESULTS = BENCH / "results"
ANALYSIS = BENCH / "analysis.md"
NAMES = ("unified_client_view", "portfolio_list", "overdue_invoices")
CG, PEER = "clientgraph", "postgraphile"
NOT_MEASURED = "not yet measured"
Found = tuple[dict[str, Any], str] | None


def row(result: dict[str, Any], name: str, connections: int, target: str) -> dict[str, Any]:
    for row in result["summary"]:
        if (row["workload"], row["concurrency"], row["target"]) == (name, connections, target):
            return dict(row)
    return {}


def ratio(result: dict[str, Any], name: str, connections: int) -> float | None:
    cg, peer = row(result, name, connections, CG), row(result, name, connections, PEER)
    if not cg or not peer or not peer["rps"]:
        return None
    return float(cg["rps"]) / float(peer["rps"])


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("**MET**" if ok else "**MISSED**")


def render(results: dict[str, tuple[dict[str, Any], str] | None]) -> str:
    reasons = _reasons()
    large = results.get("L")
    small = results.get("S")
    rows: list[tuple[str, str, str, bool | None, str]] = []
    if large:
        r, name = large
        cg_ratio = ratio(r, "unified_client_view", 16)
        cg = row(r, "unified_client_view", 16, CG)
        peer = row(r, "unified_client_view", 16, PEER)
        rows.append((
            "unified client view, L, c=16: throughput vs PostGraphile",
            "≥ 0.5×",
            f"{cg_ratio:.3f}× ({cg.get('rps')} vs {peer.get('rps')} req/s)"
            if cg_ratio is not None else "n/a",
            None if cg_ratio is None else cg_ratio >= 0.5,
            reasons.get("throughput", ""),
        ))  # fmt: skip
        p99 = cg.get("p99_ms")
        errors = cg.get("errors", 0)
        rows.append((
            "unified client view, L, c=16: p99 latency",
            "≤ 100 ms",
            f"{p99} ms" + (f" ({errors} requests timed out at 2 s)" if errors else ""),
            None if p99 is None else (p99 <= 100 and not errors),
            reasons.get("p99", ""),
        ))  # fmt: skip
        seed = _seed_seconds("L")
        rows.append((
            "seeding L (10,000 accounts)", "< 10 min",
            f"{seed[0]:.0f} s ({seed[1]})" if seed else NOT_MEASURED,
            None if not seed else seed[0] < 600, reasons.get("seed", ""),
        ))  # fmt: skip
        mem = r["peak_memory_mb"][CG]
        rows.append((
            "gateway peak memory, L", "< 300 MB", f"{mem} MB (VmHWM, {name})",
            mem < 300, reasons.get("memory", ""),
        ))  # fmt: skip
    if large and small:
        same = all(
            small[0]["workloads"][n][CG]["statements_per_request"]
            == large[0]["workloads"][n][CG]["statements_per_request"]
            for n in NAMES
        )
        counts = ", ".join(
            f"{n} {small[0]['workloads'][n][CG]['statements_per_request']}/"
            f"{large[0]['workloads'][n][CG]['statements_per_request']}"
            for n in NAMES
        )
        rows.append((
            "SQL statements per request the same at S and L", "equal",
            f"S/L: {counts}", same, reasons.get("statements", ""),
        ))  # fmt: skip
    rows += [_ingest(results, reasons), _mutations(results, reasons)]
    lines = [
        "## Targets (issue 6)",
        "",
        "| target | goal | measured | verdict | why, and what it would take |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {_verdict(d)} | {e} |" for a, b, c, d, e in rows]
    return "\n".join(lines) + "\n"


def _hook(
    results: dict[str, tuple[dict[str, Any], str] | None], key: str
) -> tuple[dict[str, Any], str] | None:
    """The newest measurement of a hook workload: from the L run if it has one, else S."""
    for scale in ("L", "S"):
        found = results.get(scale)
        if found and found[0].get(key) and "error" not in found[0][key]:
            return found[0][key], found[1]
    return None


def _ingest(results: dict[str, Any], reasons: dict[str, str]) -> tuple[Any, ...]:
    name = "sync ingest (workload 4)"
    found = _hook(results, "sync_ingest")
    if not found:
        return (name, "≥ 5,000 records/s", NOT_MEASURED, None, reasons.get("ingest", ""))
    m, file = found
    measured = (
        f"{m['records_per_s']:,.0f} records/s ({sum(m['rows'].values()):,} Salesforce records "
        f"in {m['seconds']} s, {file})"
    )
    return (name, "≥ 5,000 records/s", measured, m["records_per_s"] >= 5000,
            reasons.get("ingest", ""))  # fmt: skip


def _mutations(results: dict[str, Any], reasons: dict[str, str]) -> tuple[Any, ...]:
    name = "mutation acceptance at 100/s (workload 5)"
    found = _hook(results, "mutations")
    if not found:
        return (name, "p99 < 25 ms", NOT_MEASURED, None, reasons.get("mutations", ""))
    m, file = found
    accepted = m["outcomes"].get("Command", 0)
    measured = (
        f"p99 {m['p99_ms']} ms, p50 {m['p50_ms']} ms ({accepted}/{m['requests']} accepted, "
        f"open loop, {file})"
    )
    ok = m["p99_ms"] < 25 and accepted == m["requests"]
    return (name, "p99 < 25 ms", measured, ok, reasons.get("mutations", ""))


def _reasons() -> dict[str, str]:
    """One line per target from bench/analysis.md's `<!-- reason KEY: text -->` comments."""
    out = {}
    if ANALYSIS.exists():
        for line in ANALYSIS.read_text().splitlines():
            if line.startswith("<!-- reason ") and line.endswith("-->"):
                key, _, text = line.removeprefix("<!-- reason ").removesuffix("-->").partition(":")
                out[key.strip()] = text.strip()
    return out


def _seed_seconds(scale: str) -> tuple[float, str] | None:
    for path in sorted(RESULTS.glob(f"{scale}-*.json"), reverse=True):
        result = json.loads(path.read_text())
        if result.get("seed_seconds"):
            load = (result.get("seeding") or {}).get("load_average_at_start")
            note = path.name + (f"; 1-minute load at start {load[0]:.2f}" if load else "")
            return float(result["seed_seconds"]), note
    return None
