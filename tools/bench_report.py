#!/usr/bin/env python3
"""Turn the guest's RESULT lines (tests/guest/bench.sh) into results/: a CSV of
every point's median, a Markdown table and, if matplotlib can be had, a plot.

usage: bench_report.py RAW_TAP_LOG OUTDIR "MACHINE DESCRIPTION"
"""
import csv
import statistics
import sys
from collections import defaultdict
from pathlib import Path

raw, outdir, machine = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
outdir.mkdir(parents=True, exist_ok=True)
clk = 100
points = defaultdict(list)
for line in Path(raw).read_text(errors="replace").splitlines():
    f = line.strip().split()
    if f[:1] == ["CLK_TCK"]:
        clk = int(f[1])
    if f[:1] != ["RESULT"] or len(f) != 10:
        continue
    t, msize, rep, wl, bs, nbytes, ops, ns, ticks = f[1:]
    points[(t, int(msize), wl, int(bs))].append((int(nbytes), int(ops), int(ns), int(ticks)))

MIB = 1048576.0
rows = []
for (t, msize, wl, bs), runs in sorted(points.items()):
    mibs = [b / MIB / (ns / 1e9) for b, o, ns, tk in runs if ns]
    opss = [o / (ns / 1e9) for b, o, ns, tk in runs if ns]
    cpu = [(tk / clk) / (b / MIB) for b, o, ns, tk in runs if b]
    rows.append({
        "transport": t, "msize": msize, "workload": wl, "bs": bs,
        "reps": len(runs),
        "mib_s": float(f"{statistics.median(mibs):.4g}") if mibs else 0,
        "ops_s": round(statistics.median(opss), 1) if opss else 0,
        "cpu_s_per_mib": round(statistics.median(cpu), 4) if cpu else "",
    })
by = {(r["transport"], r["msize"], r["workload"], r["bs"]): r for r in rows}

with open(outdir / "bench.csv", "w", newline="") as fh:
    w = csv.DictWriter(fh, fieldnames=list(rows[0].keys()) if rows else ["transport"])
    w.writeheader()
    w.writerows(rows)

def fmt(v):
    return f"{v:.2f}" if isinstance(v, float) else str(v)

def size(bs):
    return f"{bs // 1048576} MiB" if bs >= 1048576 else f"{bs // 1024} KiB" if bs >= 1024 else f"{bs} B"

lines = [f"Measured on {machine}. Guest under TCG, `cache=none`, 9p2000.L; "
         "median of the repetitions; each cell is MiB/s (ops/s, guest CPU seconds per MiB); "
         "ratios are zc9p / C 9pnet_virtio throughput.", ""]
for msize in (512000, 131072):
    for wl in ("write", "read", "rand4k"):
        lines.append(f"**{wl}, msize {msize}**")
        lines.append("")
        lines.append("| I/O size | C 9pnet_virtio | zc9p zerocopy=0 | zc9p zerocopy=1 | zc0/C | zc1/C | virtio-fs MiB/s | tmpfs MiB/s |")
        lines.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        sizes = sorted({k[3] for k in by if k[1] == msize and k[2] == wl})
        for bs in sizes:
            c, z0, z1 = (by.get((t, msize, wl, bs)) for t in ("c", "zc0", "zc1"))
            tm = by.get(("tmpfs", 0, wl, bs))
            vf = by.get(("virtiofs", 0, wl, bs))
            def cell(r):
                return f"{r['mib_s']:.4g} ({r['ops_s']:.0f}/s, {r['cpu_s_per_mib']})" if r else "-"
            def ratio(r):
                return f"{r['mib_s'] / c['mib_s']:.2f}" if r and c and c["mib_s"] else "-"
            lines.append(f"| {size(bs)} | {cell(c)} | {cell(z0)} | {cell(z1)} | "
                         f"{ratio(z0)} | {ratio(z1)} | {vf['mib_s'] if vf else '-'} | {tm['mib_s'] if tm else '-'} |")
        lines.append("")
(outdir / "bench.md").write_text("\n".join(lines) + "\n")
print("\n".join(lines))

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib not available: no plot", file=sys.stderr)
    sys.exit(0)
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
names = {"c": "C 9pnet_virtio", "zc0": "zc9p zerocopy=0", "zc1": "zc9p zerocopy=1",
         "virtiofs": "virtio-fs (cache=none)", "tmpfs": "guest tmpfs"}
for ax, wl in zip(axes, ("write", "read")):
    for t, msize in (("c", 512000), ("zc0", 512000), ("zc1", 512000), ("virtiofs", 0), ("tmpfs", 0)):
        pts = sorted((k[3], v["mib_s"]) for k, v in by.items() if k[0] == t and k[1] == msize and k[2] == wl)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=names[t])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("I/O size (bytes)")
    ax.set_ylabel("MiB/s")
    ax.set_title(f"sequential {wl}, cache=none, msize 512000")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
fig.suptitle(f"zc9p vs 9pnet_virtio ({machine})", fontsize=9)
fig.tight_layout()
fig.savefig(outdir / "bench.png", dpi=100)
