"""Printing a verify report: the per-node table, the verdict, and JSON.

    format_report(report, all_rows=False) -> str      the table and the first divergence
    to_json(report) -> str                             {"first_divergence": ..., "nodes": [...]}
"""
from __future__ import annotations

import json

from .explain import explain_divergence

HEAD = (f"{'#':>4} {'op':<18} {'node':<30} {'shape':<16}  {'accumulated':^35} | {'local':^35}\n"
        f"{'':>4} {'':<18} {'':<30} {'':<16}  "
        + "{:>9} {:>9} {:>7} {:>8} | {:>9} {:>9} {:>7} {:>8}".format(
            "max_abs", "max_rel", "ulp", "cos", "max_abs", "max_rel", "ulp", "cos"))


def _num(v, width, fmt=".2e") -> str:
    if v is None:
        return f"{'-':>{width}}"
    if isinstance(v, int):
        return f"{v:>{width}}" if v < 10 ** (width - 1) else f"{float(v):>{width}.1e}"
    return f"{v:>{width}{fmt}}"


def _metrics(m) -> str:
    if not m:
        return f"{'n/a':>9} {'':>9} {'':>7} {'':>8}"
    cos = m["cosine"]
    return (f"{_num(m['max_abs'], 9)} {_num(m['max_rel'], 9)} {_num(m['max_ulp'], 7)} "
            f"{_num(cos, 8, '.6f') if cos is not None else _num(None, 8)}")


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def format_table(report, all_rows: bool = False) -> str:
    lines = [HEAD]
    hidden = 0
    first = report["first_divergence"]
    for row in report["nodes"]:
        bad = not all(m["ok"] for m in row["accumulated"].values()) or \
            not all(m["ok"] for m in row["local"].values())
        if row["op"] == "Constant" and not bad and not all_rows:
            hidden += 1
            continue
        for k, name in enumerate(row["outputs"]):
            acc, loc = row["accumulated"][name], row["local"].get(name)
            mark = ""
            if first and first["node"] == row["node"] and first["index"] == row["index"]:
                mark = "  <== first divergence"
            elif loc is not None and not loc["ok"]:
                mark = "  <- local error over tolerance"
            elif not acc["ok"]:
                mark = "  (inherited)"
            label = row["node"] if k == 0 else f"  .{name}"
            shape = "x".join(str(d) for d in acc["shape"]) or "scalar"
            lines.append(f"{row['index']:>4} {_short(row['op'] if k == 0 else '', 18):<18} "
                         f"{_short(label, 30):<30} {_short(shape, 16):<16}  {_metrics(acc)} | "
                         f"{_metrics(loc)}{mark}")
        if row["note"]:
            lines.append(f"{'':>5}note: {row['note']}")
    if hidden:
        lines.append(f"     ({hidden} Constant nodes that agree are not shown; --all shows them)")
    return "\n".join(lines)


def format_report(report, all_rows: bool = False) -> str:
    r = report
    out = [f"model      {r['model']}",
           f"against    {r['against']}",
           f"tinyinfer  {r['tinyinfer']}",
           f"inputs     {r['inputs']}: " + ", ".join(f"{k} {v}" for k, v in r["input_shapes"].items()),
           f"tolerance  |ours - theirs| <= atol + rtol * |theirs|, rtol={r['rtol']:g} atol={r['atol']:g}",
           f"compared   {r['compared']} tensors of {len(r['nodes'])} nodes"
           + (f"; {r['only_ours']} values only tinyinfer has" if r["only_ours"] else ""),
           "", format_table(r, all_rows), ""]
    for name, m in r["outputs"].items():
        out.append(f"output {name}: max abs {_num(m['max_abs'], 0)}  cosine "
                   f"{m['cosine'] if m['cosine'] is None else format(m['cosine'], '.7f')}  "
                   + ("within tolerance" if m["ok"] else "OUTSIDE tolerance"))
    first = r["first_divergence"]
    if first is None:
        out.append("verdict: agreement — every compared tensor is within tolerance.")
    else:
        out.append("")
        out.append(explain_divergence(r))
    s = r["seconds"]
    out.append(f"\ntime: tinyinfer {s['tinyinfer']:.2f} s, other side {s['other']:.2f} s, "
               f"verify in all {s['total']:.2f} s")
    return "\n".join(out)


def to_json(report) -> str:
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    explanation = explain_divergence(report) if report["first_divergence"] else None
    public["explanation"] = explanation
    return json.dumps(public, indent=1, default=str)
