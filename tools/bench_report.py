#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn the guest's RESULT and FDRESULT lines (tests/guest/bench.sh) into
results/: CSVs of every point's median (bench.csv: virtio, bench-fd.csv: the fd
transports), the Markdown tables (bench.md) and, if matplotlib can be had, the
plots (bench.png, bench-cache.png, bench-fd.png).

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
MIB = 1048576.0
points = defaultdict(list)
vrep = defaultdict(dict)      # (transport, msize, workload, bs) -> {rep: MiB/s}
fdrep = defaultdict(dict)     # (module, trans, server, msize, workload, bs) -> {rep: MiB/s}
fdpoints = defaultdict(list)  # (module, trans, server, msize, workload, bs) -> runs
fdstats = defaultdict(list)   # same key -> (zc_requests, copy_requests, spliced_sends, frames_sent)
for line in Path(raw).read_text(errors="replace").splitlines():
    f = line.strip().split()
    if f[:1] == ["CLK_TCK"]:
        clk = int(f[1])
    if f[:1] == ["FDRESULT"] and len(f) == 13:
        m, tr, srv, msize, rep, wl, bs, nbytes, ops, ns, ticks, sticks = f[1:]
        fdpoints[(m, tr, srv, int(msize), wl, int(bs))].append(
            (int(nbytes), int(ops), int(ns), int(ticks), int(sticks)))
        if int(ns):
            fdrep[(m, tr, srv, int(msize), wl, int(bs))][rep] = int(nbytes) / MIB / (int(ns) / 1e9)
    if f[:1] == ["FDSTAT"] and len(f) == 12:
        m, tr, srv, msize, rep, wl, bs = f[1:8]
        fdstats[(m, tr, srv, int(msize), wl, int(bs))].append(tuple(int(x) for x in f[8:]))
    if f[:1] != ["RESULT"] or len(f) != 10:
        continue
    t, msize, rep, wl, bs, nbytes, ops, ns, ticks = f[1:]
    points[(t, int(msize), wl, int(bs))].append((int(nbytes), int(ops), int(ns), int(ticks)))
    if int(ns):
        vrep[(t, int(msize), wl, int(bs))][rep] = int(nbytes) / MIB / (int(ns) / 1e9)


def rep_ratio(reps, key, ckey):
    """zc9p / C throughput: the median over the repetitions of each one's own ratio
    (the transports of one repetition ran minutes apart at most, so a change of
    load on the host between repetitions cancels out)."""
    a, c = reps.get(key, {}), reps.get(ckey, {})
    r = [a[k] / c[k] for k in a if k in c and c[k]]
    return statistics.median(r) if r else None

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
        "vs_c": (round(rep_ratio(vrep, (t, msize, wl, bs), ("c", msize, wl, bs)), 3)
                 if t in ("zc0", "zc1") and rep_ratio(vrep, (t, msize, wl, bs), ("c", msize, wl, bs)) else ""),
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
         "ratios are zc9p / C 9pnet_virtio throughput, the median of each repetition's own ratio.", ""]
for msize in (512000, 131072) if rows else ():
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
                return f"{r['vs_c']:.2f}" if r and r["vs_c"] != "" else "-"
            lines.append(f"| {size(bs)} | {cell(c)} | {cell(z0)} | {cell(z1)} | "
                         f"{ratio(z0)} | {ratio(z1)} | {vf['mib_s'] if vf else '-'} | {tm['mib_s'] if tm else '-'} |")
        lines.append("")

# zc9p alone past mainline's msize cap, beside virtio-fs.
LARGE = sorted({k[1] for k in by if k[0] == "zc1" and k[1] > 512000})
for wl in ("write", "read") if LARGE else ():
    lines.append(f"**{wl}, zc9p zerocopy=1 past mainline's msize cap** (MiB/s; C 9pnet_virtio stops at 512000)")
    lines.append("")
    cols = [f"zc9p msize {m}" for m in [512000] + LARGE]
    lines.append("| I/O size | C 9pnet_virtio, 512000 | " + " | ".join(cols) + f" | virtio-fs | zc9p {LARGE[-1]} / virtio-fs |")
    lines.append("| ---: |" + " ---: |" * (len(cols) + 3))
    for bs in sorted({k[3] for k in by if k[0] == "zc1" and k[1] in LARGE and k[2] == wl}):
        c = by.get(("c", 512000, wl, bs))
        zs = [by.get(("zc1", m, wl, bs)) for m in [512000] + LARGE]
        vf = by.get(("virtiofs", 0, wl, bs))
        top = zs[-1]
        vs = f"{top['mib_s'] / vf['mib_s']:.2f}" if top and vf and vf["mib_s"] else "-"
        cells = " | ".join(f"{z['mib_s']:.4g}" if z else "-" for z in zs)
        lines.append(f"| {size(bs)} | {c['mib_s']:.4g} | {cells} | {vf['mib_s'] if vf else '-'} | {vs} |"
                     if c else f"| {size(bs)} | - | {cells} | {vf['mib_s'] if vf else '-'} | {vs} |")
    lines.append("")

# What a mount without msize= gets: 9P's default on C, zc9p_virtio's default_msize.
def nomsize_table(c_t, z_t, vf_t, workloads, what):
    """C and zc9p mounted without msize= (points named *-nomsize, their msize the
    negotiated one) beside virtio-fs."""
    ms = lambda t: min((k[1] for k in by if k[0] == t), default=None)
    mc, mz = ms(c_t), ms(z_t)
    if not mz:
        return
    lines.append(f"**mount without msize=, {what}** (MiB/s; what a mount that asks for nothing "
                 f"negotiates: C 9pnet_virtio {mc} (9P's default), zc9p zerocopy=1 {mz} "
                 f"(its `default_msize`); virtio-fs out of the box; ratios are medians of each "
                 f"repetition's own ratio)")
    lines.append("")
    lines.append(f"| workload | I/O size | C, {mc} | zc9p, {mz} | virtio-fs | zc9p / C | "
                 f"zc9p / virtio-fs | C / virtio-fs |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    v = lambda r: f"{r['mib_s']:.4g}" if r else "-"
    rt = lambda x: f"{x:.2f}" if x else "-"
    for wl, name in workloads:
        for bs in sorted({k[3] for k in by if k[0] == z_t and k[2] == wl}):
            c, z, vf = by.get((c_t, mc, wl, bs)), by.get((z_t, mz, wl, bs)), by.get((vf_t, 0, wl, bs))
            rz = rep_ratio(vrep, (z_t, mz, wl, bs), (c_t, mc, wl, bs))
            rv = rep_ratio(vrep, (z_t, mz, wl, bs), (vf_t, 0, wl, bs))
            rcv = rep_ratio(vrep, (c_t, mc, wl, bs), (vf_t, 0, wl, bs))
            lines.append(f"| {name} | {size(bs)} | {v(c)} | {v(z)} | {v(vf)} | {rt(rz)} | {rt(rv)} | {rt(rcv)} |")
    lines.append("")

nomsize_table("c-nomsize", "zc1-nomsize", "virtiofs", (("write", "write"), ("read", "read")), "cache=none")
nomsize_table("c-loose-nomsize", "zc1-loose-nomsize", "virtiofs-loose",
              (("wfsync", "write + fsync"), ("coldread", "cold read"), ("warmread", "warm read")),
              "cache=loose (virtio-fs: cache=always), a 32 MiB file")

# Cached mounts: cache=loose on C and zc9p beside virtio-fs with cache=always.
CACHE_WL = (("wfsync", "write + fsync"), ("coldread", "cold read"), ("warmread", "warm read"))
CACHE_ZC = sorted({k[1] for k in by if k[0] == "zc1-loose"})
if any(k[0].endswith("-loose") for k in by):
    lines.append("**cache=loose: a 32 MiB file written and fsync()ed, read cold (guest caches dropped), "
                 "read again warm** (MiB/s; virtio-fs is virtiofsd with cache=always; "
                 "ratios are medians of each repetition's own ratio)")
    lines.append("")
    cols = [f"zc9p msize {m}" for m in CACHE_ZC]
    top = CACHE_ZC[-1] if CACHE_ZC else None
    lines.append("| workload | I/O size | C 9pnet_virtio, 512000 | " + " | ".join(cols) +
                 f" | virtio-fs | zc9p 512000 / C | zc9p {top} / virtio-fs |")
    lines.append("| --- | ---: |" + " ---: |" * (len(cols) + 4))
    for wl, name in CACHE_WL:
        for bs in sorted({k[3] for k in by if k[0].endswith("-loose") and k[2] == wl}):
            c = by.get(("c-loose", 512000, wl, bs))
            zs = [by.get(("zc1-loose", m, wl, bs)) for m in CACHE_ZC]
            vf = by.get(("virtiofs-loose", 0, wl, bs))
            r_c = rep_ratio(vrep, ("zc1-loose", 512000, wl, bs), ("c-loose", 512000, wl, bs))
            r_v = rep_ratio(vrep, ("zc1-loose", top, wl, bs), ("virtiofs-loose", 0, wl, bs))
            v = lambda r: f"{r['mib_s']:.4g}" if r else "-"
            rt = lambda x: f"{x:.2f}" if x else "-"
            lines.append(f"| {name} | {size(bs)} | {v(c)} | " + " | ".join(v(z) for z in zs) +
                         f" | {v(vf)} | {rt(r_c)} | {rt(r_v)} |")
    lines.append("")

# The fd transports: C 9pnet_fd vs zc9p_fd zerocopy=0/1 over 9P servers in the guest.
FD_MODS = ("c", "zc0", "zc1")
FD_CONFIGS = sorted({k[1:4] for k in fdpoints},
                    key=lambda c: (c[1] != "diod", {"tcp": 0, "unix": 1, "vsock": 2}.get(c[0], 3), c[2]))
fdrows = []
for key, runs in sorted(fdpoints.items()):
    m, tr, srv, msize, wl, bs = key
    mibs = [b / MIB / (ns / 1e9) for b, o, ns, tk, st in runs if ns]
    opss = [o / (ns / 1e9) for b, o, ns, tk, st in runs if ns]
    cpu = [1000 * (tk / clk) / (b / MIB) for b, o, ns, tk, st in runs if b]
    srvcpu = [1000 * (st / clk) / (b / MIB) for b, o, ns, tk, st in runs if b]
    st = fdstats.get(key, [])
    def per_op(i):
        # zc9p's counters per I/O call (median over the repetitions).
        v = [s_[i] / o for s_, (b, o, ns, tk, x) in zip(st, runs) if o]
        return round(statistics.median(v), 3) if v else ""
    fdrows.append({
        "module": m, "transport": tr, "server": srv, "msize": msize, "workload": wl, "bs": bs,
        "reps": len(runs),
        "mib_s": float(f"{statistics.median(mibs):.4g}") if mibs else 0,
        "ops_s": round(statistics.median(opss), 1) if opss else 0,
        "cpu_ms_per_mib": float(f"{statistics.median(cpu):.4g}") if cpu else "",
        "server_cpu_ms_per_mib": float(f"{statistics.median(srvcpu):.4g}") if srvcpu else "",
        "zc_requests_per_call": per_op(0), "copy_requests_per_call": per_op(1),
        "spliced_sends_per_call": per_op(2), "frames_per_call": per_op(3),
    })
    rr = rep_ratio(fdrep, key, ("c",) + key[1:]) if m != "c" else None
    fdrows[-1]["vs_c"] = round(rr, 3) if rr else ""
fdby = {(r["module"], r["transport"], r["server"], r["msize"], r["workload"], r["bs"]): r for r in fdrows}
if fdrows:
    with open(outdir / "bench-fd.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(fdrows[0].keys()))
        w.writeheader()
        w.writerows(fdrows)

def fdcell(r):
    if not r:
        return "-"
    return f"{r['mib_s']:.4g} ({r['ops_s']:.0f}/s; {r['cpu_ms_per_mib']:.3g}, {r['server_cpu_ms_per_mib']:.3g})"

def fdratio(r, c):
    return f"{r['vs_c']:.2f}" if r and r["vs_c"] != "" else "-"

if fdrows:
    lines += ["## fd transports: trans=tcp, trans=unix and trans=vsock", "",
              "C `9pnet_fd` against zc9p's `zc9p_fd` with `zerocopy=0` and `zerocopy=1`, "
              "loaded in turn in the same boot (repetitions interleaved), `cache=none` mounts of 9P "
              "servers running in the guest and exporting a folder on its tmpfs: diod (msize at most "
              "65536) over tcp to 127.0.0.1 and over a unix socket, the same unix socket's diod over "
              "vsock (CID 1, vsock's loopback, through socat's VSOCK-LISTEN; zc9p only: mainline has "
              "no vsock transport), unpfs over tcp at the msize given. "
              "Each cell is MiB/s (ops/s; guest CPU ms per MiB, of which the server's ms per MiB): "
              "the server runs in the guest, so the guest's CPU includes it. "
              "Ratios are zc9p / C throughput, the median of each repetition's own ratio.", ""]
    if not any(c[1] == "unpfs" for c in FD_CONFIGS):
        lines += ["unpfs was not in the guest: no unpfs rows.", ""]
    for wl in ("write", "read", "rand4k"):
        lines.append(f"**fd {wl if wl != 'rand4k' else '4 KiB random reads, 4 threads'}**")
        lines.append("")
        lines.append("| transport | server | msize | I/O size | C 9pnet_fd | zc9p zerocopy=0 | zc9p zerocopy=1 | zc0/C | zc1/C |")
        lines.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for tr, srv, msize in FD_CONFIGS:
            for bs in sorted({k[5] for k in fdby if k[1:5] == (tr, srv, msize, wl)}):
                c, z0, z1 = (fdby.get((m, tr, srv, msize, wl, bs)) for m in FD_MODS)
                lines.append(f"| {tr} | {srv} | {msize} | {size(bs)} | {fdcell(c)} | {fdcell(z0)} | "
                             f"{fdcell(z1)} | {fdratio(z0, c)} | {fdratio(z1, c)} |")
        lines.append("")
    # The summary the README quotes.
    lines += ["**fd summary** (MiB/s and guest CPU ms per MiB, server included)", "",
              "| transport, server, msize | I/O size | | C MiB/s | zc0 MiB/s | zc1 MiB/s | zc1 / C | C CPU ms/MiB | zc1 CPU ms/MiB |",
              "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for tr, srv, msize in FD_CONFIGS:
        for bs in (4096, 65536, 1048576):
            for wl in ("write", "read"):
                c, z0, z1 = (fdby.get((m, tr, srv, msize, wl, bs)) for m in FD_MODS)
                if not (c or z1):
                    continue
                v = lambda r, k: (f"{r[k]:.4g}" if r and r[k] != "" else "-")
                lines.append(f"| {tr}, {srv}, {msize} | {size(bs)} | {wl} | {v(c, 'mib_s')} | {v(z0, 'mib_s')} | "
                             f"{v(z1, 'mib_s')} | {fdratio(z1, c)} | {v(c, 'cpu_ms_per_mib')} | {v(z1, 'cpu_ms_per_mib')} |")
    lines.append("")
    # vsock beside unix: the same diod, reached directly or through socat over vsock.
    vs = [c for c in FD_CONFIGS if c[0] == "vsock"]
    if vs:
        lines += ["**vsock** (zc9p only; the same diod as the unix rows, reached through socat over "
                  "vsock's loopback: one more process and socket pair per byte, so vsock / unix is what "
                  "that path costs, not the transport alone; guest CPU ms per MiB, server and socat "
                  "included)", "",
                  "| server, msize | I/O size | | vsock zc0 MiB/s | vsock zc1 MiB/s | unix zc1 MiB/s | "
                  "vsock zc1 / unix zc1 | vsock zc1 CPU ms/MiB | unix zc1 CPU ms/MiB | vsock zc1 spliced sends per call |",
                  "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for tr, srv, msize in vs:
            for bs in sorted({k[5] for k in fdby if k[1:4] == (tr, srv, msize) and k[4] != "rand4k"}):
                for wl in ("write", "read"):
                    z0, z1 = (fdby.get((m, tr, srv, msize, wl, bs)) for m in ("zc0", "zc1"))
                    u1 = fdby.get(("zc1", "unix", srv, msize, wl, bs))
                    rr = rep_ratio(fdrep, ("zc1", tr, srv, msize, wl, bs), ("zc1", "unix", srv, msize, wl, bs))
                    v = lambda r, k: (f"{r[k]:.4g}" if r and r[k] != "" else "-")
                    lines.append(f"| {srv}, {msize} | {size(bs)} | {wl} | {v(z0, 'mib_s')} | {v(z1, 'mib_s')} | "
                                 f"{v(u1, 'mib_s')} | {f'{rr:.2f}' if rr else '-'} | {v(z1, 'cpu_ms_per_mib')} | "
                                 f"{v(u1, 'cpu_ms_per_mib')} | {v(z1, 'spliced_sends_per_call')} |")
        lines.append("")
    lines += ["**zc9p_fd's counters per I/O call** (zerocopy=1: zero-copy requests, copy requests, "
              "sends whose payload pages the socket took by reference; medians)", "",
              "| transport, server, msize | I/O size | write: zc / copy / spliced | read: zc / copy / spliced |",
              "| --- | ---: | --- | --- |"]
    for tr, srv, msize in FD_CONFIGS:
        for bs in sorted({k[5] for k in fdby if k[1:4] == (tr, srv, msize) and k[4] != "rand4k"}):
            cells = []
            for wl in ("write", "read"):
                r = fdby.get(("zc1", tr, srv, msize, wl, bs))
                cells.append(f"{r['zc_requests_per_call']} / {r['copy_requests_per_call']} / "
                             f"{r['spliced_sends_per_call']}" if r and r["zc_requests_per_call"] != "" else "-")
            lines.append(f"| {tr}, {srv}, {msize} | {size(bs)} | {cells[0]} | {cells[1]} |")
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
def log_axes(ax, title, legend_size=None):
    """Log-log axes of MiB/s against I/O size, as every plot here has them."""
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("I/O size (bytes)")
    ax.set_ylabel("MiB/s")
    ax.set_title(title, fontsize=legend_size and 9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=legend_size)

fig, axes = plt.subplots(1, 2, figsize=(12, 4.5)) if rows else (None, ())
names = {"c": "C 9pnet_virtio", "zc0": "zc9p zerocopy=0", "zc1": "zc9p zerocopy=1",
         "virtiofs": "virtio-fs (cache=none)", "tmpfs": "guest tmpfs"}
for ax, wl in zip(axes, ("write", "read")):
    for t, msize in (("c", 512000), ("zc0", 512000), ("zc1", 512000), ("virtiofs", 0), ("tmpfs", 0)):
        pts = sorted((k[3], v["mib_s"]) for k, v in by.items() if k[0] == t and k[1] == msize and k[2] == wl)
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=names[t])
    log_axes(ax, f"sequential {wl}, cache=none, msize 512000")
if rows:
    fig.suptitle(f"zc9p vs 9pnet_virtio ({machine.split(';')[0]})", fontsize=9)
    fig.tight_layout()
    fig.savefig(outdir / "bench.png", dpi=100)

if CACHE_ZC:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    series = [("c-loose", 512000, "C 9pnet_virtio, 512000")] + \
             [("zc1-loose", m, f"zc9p zerocopy=1, {m}") for m in CACHE_ZC] + \
             [("virtiofs-loose", 0, "virtio-fs (cache=always)")]
    for ax, (wl, name) in zip(axes, CACHE_WL):
        for t, msize, label in series:
            pts = sorted((k[3], v["mib_s"]) for k, v in by.items() if k[:3] == (t, msize, wl) and v["mib_s"])
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        log_axes(ax, f"{name}, cache=loose, 32 MiB file", 7)
    fig.suptitle(f"cached mounts ({machine.split(';')[0]})", fontsize=9)
    fig.tight_layout()
    fig.savefig(outdir / "bench-cache.png", dpi=100)

if FD_CONFIGS:
    fig, axes = plt.subplots(2, len(FD_CONFIGS), figsize=(4 * len(FD_CONFIGS), 7.5), squeeze=False)
    fdnames = {"c": "C 9pnet_fd", "zc0": "zc9p_fd zerocopy=0", "zc1": "zc9p_fd zerocopy=1"}
    for row, wl in enumerate(("write", "read")):
        for col, (tr, srv, msize) in enumerate(FD_CONFIGS):
            ax = axes[row][col]
            for m in FD_MODS:
                pts = sorted((k[5], v["mib_s"]) for k, v in fdby.items()
                             if k[:5] == (m, tr, srv, msize, wl) and v["mib_s"])
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=fdnames[m])
            log_axes(ax, f"{wl}, trans={tr}, {srv}, msize {msize}", 7)
    fig.suptitle(f"zc9p_fd vs 9pnet_fd, cache=none ({machine.split(';')[0]})", fontsize=9)
    fig.tight_layout()
    fig.savefig(outdir / "bench-fd.png", dpi=100)
