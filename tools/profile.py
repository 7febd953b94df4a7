#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The host side of `make profile` (tools/profile.sh).

  profile.py watch QEMU_PID TAP_LOG OUT
      Follow the guest's TAP log; at each "MARK begin|end T W BS" line, record
      the CPU time of QEMU's threads by kind (vCPU threads, the main loop that
      runs the 9P server's coroutines, the worker threads doing its file
      system calls) as "HOST begin|end T W BS kind ticks" lines in OUT.
      Stops when QEMU exits.

  profile.py report RAW_TAP_LOG ICOUNT_TAP_LOG HOST_FILE OUTDIR "MACHINE"
      Write OUTDIR/profile.md from the guest's RESULT, FPROF, IPROF and PERF
      lines (real-time boot and -icount boot) and the host's HOST lines.
"""
import os
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

TRANSPORTS = [("c", "C 9pnet_virtio"), ("zc0", "zc9p zerocopy=0"), ("zc1", "zc9p zerocopy=1")]
POINTS = [("write", 4096), ("read", 4096), ("write", 1048576), ("read", 1048576)]
KINDS = ("vcpu", "main", "worker", "other")


def thread_kind(comm):
    if "/TCG" in comm or "/KVM" in comm:
        return "vcpu"
    if comm.startswith("qemu-system"):
        return "main"
    if comm.startswith("worker"):
        return "worker"
    return "other"


def snapshot(pid):
    """CPU ticks (user + system) of QEMU's threads, summed by kind."""
    ticks = dict.fromkeys(KINDS, 0)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            comm = (task / "comm").read_text().strip()
        except OSError:
            continue  # a worker thread that just ended
        fields = stat[stat.rindex(")") + 2:].split()
        ticks[thread_kind(comm)] += int(fields[11]) + int(fields[12])
    return ticks


def watch(pid, tap, out):
    pos = 0
    buf = ""
    with open(out, "a") as fh:
        while os.path.exists(f"/proc/{pid}"):
            try:
                with open(tap, errors="replace") as t:
                    t.seek(pos)
                    data = t.read()
                    pos = t.tell()
            except OSError:
                data = ""
            buf += data
            *lines, buf = buf.split("\n")
            for line in lines:
                f = line.split()
                if f[:1] == ["MARK"] and len(f) == 5:
                    snap = snapshot(pid)
                    for kind in KINDS:
                        fh.write(f"HOST {' '.join(f[1:])} {kind} {snap[kind]}\n")
                    fh.flush()
            time.sleep(0.05)


# perf symbols into the layers of a request; the first pattern that matches wins.
BUCKETS = [
    ("waiting (idle CPU)", r"^(default_idle|pv_native_safe_halt|arch_cpu_idle|do_idle|cpu_idle|"
     r"acpi_idle|native_safe_halt|cpuidle|intel_idle|mwait_idle|poll_idle)"),
    ("user space", r"^\[unknown\]$|^USER$"),
    ("virtqueue notify (device emulated in the vCPU)", r"^(vp_notify|iowrite16|virtqueue_notify)"),
    ("transport: zc9p", r"zc9p"),
    ("transport: 9pnet_virtio", r"^(p9_virtio_|req_done|p9_get_mapped_pages|pack_sg_list|init_sg)"),
    ("virtio ring", r"^(virtqueue_|vring_|detach_buf|vp_interrupt|vp_vring_interrupt|virtqueue)"),
    ("9P client", r"^(p9_|p9pdu_|p9dirent|pdu_)"),
    ("netfs + v9fs", r"^(netfs_|v9fs_|fid_|__fscache|folio_queue)"),
    ("copies", r"(memcpy|memmove|copy_user|copy_to_user|copy_from_user|_copy_to_iter|"
     r"_copy_from_iter|copy_page|rep_movs|memset|clear_user|clear_page)"),
    ("iov_iter and page refs", r"^(iov_iter|__iov_iter|iter_|iov_|get_page|put_page|folio_|"
     r"pin_user|unpin_user|gup_|__get_user_pages|follow_page|bvec)"),
    ("memory allocation", r"^(kmem_cache|kmalloc|__kmalloc|kfree|__slab|slab_|___slab|__kmem|"
     r"mempool|idr_|radix_tree|xa_|__alloc_pages|alloc_pages|free_unref|__free_pages|"
     r"get_page_from_freelist|rmqueue|alloc_slab|kvmalloc|kvfree|memcg)"),
    ("scheduler and wakeups", r"^(schedule|__schedule|try_to_wake_up|__wake_up|wake_up|"
     r"finish_task_switch|enqueue_|dequeue_|pick_next|update_curr|update_load|"
     r"prepare_to_wait|finish_wait|ttwu_|select_task_rq|psi_|sched_|__switch_to|"
     r"switch_mm|context_switch|autoremove_wake|default_wake|set_next_entity|"
     r"put_prev|check_preempt|resched|native_sched_clock|sched_clock)"),
    ("interrupts and timers", r"^(__sysvec|sysvec_|asm_sysvec|handle_|irq_|__irq|"
     r"do_IRQ|common_interrupt|asm_common_interrupt|hrtimer_|tick_|__hrtimer|"
     r"ktime_|clockevents|lapic_|native_apic|apic_|x2apic|__do_softirq|handle_softirq|"
     r"irq_exit|note_gp|rcu_)"),
    ("syscall entry and VFS", r"^(entry_SYSCALL|do_syscall|syscall_|__x64_sys|ksys_|vfs_|"
     r"rw_verify_area|__fdget|fdget|fput|security_|fsnotify|__fsnotify|"
     r"file_update_time|inode_|generic_write_checks|touch_atime|kiocb|"
     r"x64_sys_call|__rcu_read|rcu_read|clear_bhb|srso|__x86_return|"
     r"entry_|exit_to_user|arch_exit)"),
]


def bucket(dso, sym):
    if dso.startswith("[unknown]") or not dso.startswith("[") and sym.startswith("0x"):
        return "user space"
    if not dso.startswith("["):
        return "user space"
    for name, pat in BUCKETS:
        if re.search(pat, sym):
            return name
    return "other kernel"


def parse(raw):
    """The guest's lines, every round added to the same points."""
    g = {"clk": 100, "rounds": 1, "result": defaultdict(lambda: [0, 0, 0, 0]),
         "fprof": defaultdict(dict), "perf": defaultdict(list), "notes": []}
    if not raw or not Path(raw).exists():
        return g
    for line in Path(raw).read_text(errors="replace").splitlines():
        f = line.split()
        if f[:1] == ["CLK_TCK"]:
            g["clk"] = int(f[1])
        elif f[:1] == ["ROUNDS"]:
            g["rounds"] = int(f[1])
        elif f[:1] == ["RESULT"] and len(f) == 8:
            acc = g["result"][(f[1], f[2], int(f[3]))]
            for i, v in enumerate(f[4:]):
                acc[i] += int(v)
        elif f[:1] in (["FPROF"], ["IPROF"]) and len(f) == 7:
            t, wl, bs, fn, hits, us = f[1:]
            d = g["fprof"][(t, wl, int(bs))]
            old = d.get(fn, (0, 0.0))
            d[fn] = (old[0] + int(hits), old[1] + float(us))
        elif f[:1] == ["PERF"] and len(f) >= 6:
            t, wl, bs, pct, dso = f[1:6]
            g["perf"][(t, wl, int(bs))].append((float(pct), dso, " ".join(f[6:]) or "?"))
        elif line.startswith("#"):
            g["notes"].append(line)
    # perf percentages: the mean over the rounds, per symbol.
    for key, samples in g["perf"].items():
        merged = defaultdict(float)
        for pct, dso, sym in samples:
            merged[(dso, sym)] += pct / g["rounds"]
        g["perf"][key] = [(pct, dso, sym) for (dso, sym), pct in merged.items()]
    return g


def size(bs):
    return f"{bs // 1048576} MiB" if bs >= 1048576 else f"{bs // 1024} KiB"


# The bracketing functions, outermost first, and what they stand for.
BRACKETS = [
    ("vfs_read", "the whole `read()` (VFS, netfs, v9fs, 9P client, transport)"),
    ("vfs_write", "the whole `write()`"),
    ("p9_client_zc_rpc", "9P client request, zero-copy (prepare, transport, wait, parse)"),
    ("p9_client_rpc", "9P client request, copy path"),
    ("io_schedule", "sleeping for the reply"),
    ("virtqueue_kick", "notifying the device"),
    ("vring_interrupt", "the completion interrupt (transport callback inside)"),
]


def bracket_section(fprof, title, text, per_call, unit):
    """A report section: TITLE, TEXT, then bracket_table for every point
    (nothing when the run profiled no function)."""
    if not fprof:
        return []
    out = [f"## {title}", "", text, ""]
    for wl, bs in POINTS:
        out += bracket_table(fprof, wl, bs, per_call, unit)
    return out


def bracket_table(fprof, wl, bs, per_call, unit):
    """Rows of calls per syscall and `unit` per call of each bracketing function."""
    have = [t for t, _ in TRANSPORTS if (t, wl, bs) in fprof]
    if not have:
        return []
    top = "vfs_read" if wl == "read" else "vfs_write"
    rows = [f"**{size(bs)} {wl}**", "",
            "| function | what it covers | " + " | ".join(
                f"{n}: calls/op, {unit}" for t, n in TRANSPORTS if t in have) + " |",
            "| --- | --- | " + " | ".join("---:" for _ in have) + " |"]
    for fn, what in BRACKETS:
        cells = []
        for t in have:
            d = fprof[(t, wl, bs)]
            ops = d.get(top, (0, 0))[0] or 1
            hits, us = d.get(fn, (0, 0.0))
            cells.append(f"{hits / ops:.2f} × {per_call(us / hits)}" if hits >= ops / 2 else "–")
        if any(c != "–" for c in cells):
            rows.append(f"| `{fn}` | {what} | " + " | ".join(cells) + " |")
    return rows + [""]


def report(raw, icount_raw, hostfile, outdir, machine):
    rt = parse(raw)
    ic = parse(icount_raw)
    clk, rounds, result = rt["clk"], rt["rounds"], rt["result"]
    # QEMU's threads: the sum of each round's end - begin.
    host = defaultdict(lambda: defaultdict(int))
    begun = {}
    if Path(hostfile).exists():
        for line in Path(hostfile).read_text().splitlines():
            f = line.split()
            if len(f) == 7:
                _, edge, t, wl, bs, kind, ticks = f
                key = (t, wl, int(bs))
                if edge == "begin":
                    begun[(key, kind)] = int(ticks)
                elif (key, kind) in begun:
                    host[key][kind] += int(ticks) - begun.pop((key, kind))
    hz = os.sysconf("SC_CLK_TCK")

    out = ["# Where the time goes", "",
           f"Measured by `make profile` on {machine}: the perf kernel "
           "(tools/kernel-perf.config: the test kernel without lockdep and the other "
           "debug checks, with a TSC clock), guest under TCG, `cache=none`, 9p2000.L, "
           "`msize=512000`, one process doing sequential I/O pinned to the guest's CPU; "
           f"{rounds} rounds with the transports in alternating order, summed. "
           "Per call means per `read()`/`write()` of the I/O size.", ""]
    out += ["## Per call: wall time, guest CPU, QEMU's threads", "",
            "Guest CPU is the guest's non-idle time (`/proc/stat`). QEMU's columns are "
            "host CPU time of its threads over the same run: the vCPU thread (guest "
            "code, and the device emulation done when the guest notifies the queue), "
            "the main loop (the 9P server's coroutines, completions) and the worker "
            "threads (the server's system calls). They include about 2 s of idle guest "
            "around each run.", "",
            "| workload | transport | calls/s | MiB/s | µs/call | guest CPU µs/call | "
            "QEMU vCPU µs | QEMU main loop µs | QEMU workers µs |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for wl, bs in POINTS:
        for t, tname in TRANSPORTS:
            r = result.get((t, wl, bs))
            if not r or not r[1]:
                continue
            nbytes, ops, ns, ticks = r
            h = host.get((t, wl, bs), {})
            cols = [f"{h[kind] / hz * 1e6 / ops:.1f}" if h else "" for kind in ("vcpu", "main", "worker")]
            out.append(f"| {size(bs)} {wl} | {tname} | {ops / (ns / 1e9):.0f} | "
                       f"{nbytes / 1048576 / (ns / 1e9):.1f} | {ns / 1e3 / ops:.1f} | "
                       f"{ticks / clk * 1e6 / ops:.1f} | " + " | ".join(cols) + " |")
    out.append("")

    out += bracket_section(
        ic["fprof"], "Guest instructions per call (QEMU `-icount`)",
        "A second boot runs QEMU with `-icount shift=0`, so the guest's clock "
        "advances one nanosecond per instruction executed: ftrace's function "
        "profiler, told to leave out the time a task sleeps, then counts the "
        "instructions each bracketing function executes, itself and its callees. "
        "The numbers repeat from run to run, unlike any wall-clock measurement "
        "under TCG. Each cell: calls per system call × instructions per call.",
        lambda us: f"{us * 1000:.0f}", "instructions")
    out += bracket_section(
        rt["fprof"], "Real time per call of the same functions",
        "The same bracketing functions under ftrace in real time (only these are "
        "traced, so every transport pays the same few hooks). `io_schedule` is "
        "the guest asleep while QEMU serves the request. Each cell: calls per "
        "system call × µs per call.",
        lambda us: f"{us:.1f}", "µs")

    perf = rt["perf"]
    if perf:
        out += ["## The guest's CPU by layer (perf, cpu-clock sampling)", "",
                "Share of the samples on the benchmark's CPU by layer of the request; "
                "\"waiting\" is the idle CPU while the host works on the request. "
                "Without a PMU under TCG, perf samples on a timer interrupt, which lands "
                "where interrupts are enabled again: time spent with interrupts off shows "
                "under the function that re-enables them (`_raw_spin_unlock_irqrestore`, "
                "`finish_task_switch`, `queue_work_on`). Symbols under 0.2% are left out.", ""]
        names = [b for b, _ in BUCKETS] + ["other kernel"]
        for wl, bs in POINTS:
            have = [t for t, _ in TRANSPORTS if (t, wl, bs) in perf]
            if not have:
                continue
            sums = {t: defaultdict(float) for t in have}
            for t in have:
                for pct, dso, sym in perf[(t, wl, bs)]:
                    sums[t][bucket(dso, sym)] += pct
            out += [f"**{size(bs)} {wl}**", "",
                    "| layer | " + " | ".join(n for t, n in TRANSPORTS if t in have) + " |",
                    "| --- | " + " | ".join("---:" for _ in have) + " |"]
            for b in names:
                if any(sums[t][b] >= 0.05 for t in have):
                    out.append(f"| {b} | " + " | ".join(f"{sums[t][b]:.1f}%" for t in have) + " |")
            out.append("")
            out += ["Top symbols: " + "; ".join(
                f"{dict(TRANSPORTS)[t]}: " + ", ".join(
                    f"`{sym}` {pct:.1f}%" for pct, dso, sym in sorted(perf[(t, wl, bs)], reverse=True)[:6])
                for t in have), ""]
    notes = rt["notes"] + ic["notes"]
    if notes:
        out += ["Notes from the guest:", ""] + [f"    {n}" for n in notes] + [""]
    Path(outdir).mkdir(parents=True, exist_ok=True)
    (Path(outdir) / "profile.md").write_text("\n".join(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["watch"] and len(sys.argv) == 5:
        watch(int(sys.argv[2]), sys.argv[3], sys.argv[4])
    elif sys.argv[1:2] == ["report"] and len(sys.argv) == 7:
        report(*sys.argv[2:])
    else:
        sys.exit(__doc__)
