#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The report of tools/msize-curve.sh, from its work folder:

  logs/tap.log           the guest's MOUNT and RESULT lines (tests/guest/msize-study.sh)
  logs/qemu-trace.log    QEMU's v9fs_version/write/read(+_return) events, timestamped
                         (-msg timestamp=on: "PID@SEC.USEC:EVENT name value ...")
  logs/host-syscalls.txt `perf trace` of QEMU's pwritev/preadv calls (if any)
  shares.txt             "zc9pN DIR FSTYPE" per share

Prints the curve (MiB/s, median and range over repetitions, per msize and
point; virtio-fs beside) and, per point, what the 9P server saw: requests
and their sizes, the host-side time of each (v9fs_write to v9fs_write_return,
v9fs_read to v9fs_read_return), and the time inside the host's system call.

usage: msize_curve_report.py WORKDIR
"""
import collections
import os
import re
import statistics
import sys

MiB = 1048576.0


def med_range(v):
    if not v:
        return "-"
    return "%.0f (%.0f-%.0f)" % (statistics.median(v), min(v), max(v))


def parse_tap(path):
    mounts = {}  # n -> (share, msize, cache)
    results = []  # (share, msize, rep, cache, op, bs, bytes, ns, mount n or None)
    last = None
    notes = []
    with open(path, errors="replace") as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "MOUNT":
                last = int(w[1])
                mounts[last] = (w[2], int(w[3]), w[4])
            elif w[0] == "RESULT" and len(w) >= 10:
                share, msize, rep, cache, op, bs, nbytes, ops, ns = w[1:10]
                results.append((share, int(msize), int(rep), cache, op, int(bs), int(nbytes),
                                int(ns), last if share != "vfs" else None))
            elif w[0] == "#":
                notes.append(line.rstrip())
    return mounts, results, notes


TRACE_RE = re.compile(r"^(\d+)@(\d+)\.(\d+):(v9fs_\w+) (.*)$")


def parse_trace(path):
    """Per mount (1, 2, ... in v9fs_version order): lists of requests
    (kind, size asked, size done, t0, t1) in the order they started."""
    segs = collections.defaultdict(list)
    n = 0
    pending = {}  # tag -> (kind, asked, t0, index in its segment)
    if not os.path.exists(path):
        return segs
    with open(path, errors="replace") as f:
        for line in f:
            m = TRACE_RE.match(line.strip())
            if not m:
                continue
            t = int(m.group(2)) + int(m.group(3)) / 1e6
            ev = m.group(4)
            w = m.group(5).split()
            kv = dict(zip(w[0::2], w[1::2]))
            if ev == "v9fs_version":
                n += 1
                pending.clear()
                continue
            tag = kv.get("tag")
            if ev == "v9fs_write":
                segs[n].append(["w", int(kv["count"]), None, t, None, int(kv["cnt"])])
                pending[tag] = segs[n][-1]
            elif ev == "v9fs_read":
                segs[n].append(["r", int(kv["max_count"]), None, t, None, 0])
                pending[tag] = segs[n][-1]
            elif ev in ("v9fs_write_return", "v9fs_read_return"):
                r = pending.pop(tag, None)
                if r is None:
                    continue
                r[2] = int(kv.get("total", kv.get("count", 0)))
                r[4] = t
    return segs


SYS_RE = re.compile(r"^\s*([\d.]+) \(\s*([\d.]+) ms\): \S+ (pwritev2?|preadv2?|pwrite64|pread64)\(.*\)\s+= (-?\d+)")


def parse_syscalls(path):
    calls = []  # (kind, ms, result)
    if not os.path.exists(path):
        return calls
    with open(path, errors="replace") as f:
        for line in f:
            m = SYS_RE.match(line)
            if m:
                kind = "w" if "write" in m.group(3) else "r"
                calls.append((kind, float(m.group(2)), int(m.group(4))))
    return calls


def attach_syscalls(segs, calls):
    """Pairs the host's system calls with the 9P requests, in order, per kind
    (QEMU's 9P server makes one pwritev/preadv per Twrite/Tread; the
    requests of a point do not overlap in this study). Returns how many
    pairs matched in size."""
    queues = {"w": [c for c in calls if c[0] == "w"], "r": [c for c in calls if c[0] == "r"]}
    pos = {"w": 0, "r": 0}
    ok = 0
    for n in sorted(segs):
        for req in segs[n]:
            k = req[0]
            q = queues[k]
            # Skip system calls that are not this request's (sizes differ).
            while pos[k] < len(q) and q[pos[k]][2] != req[2]:
                pos[k] += 1
            if pos[k] < len(q):
                req.append(q[pos[k]][1])
                pos[k] += 1
                ok += 1
    return ok


def max_overlap(reqs):
    """The most requests of a point in the server at once."""
    ev = sorted([(r[3], 1) for r in reqs] + [(r[4], -1) for r in reqs], key=lambda e: (e[0], e[1]))
    n = top = 0
    for _, d in ev:
        n += d
        top = max(top, n)
    return top


def size_hist(reqs):
    c = collections.Counter(r[2] if r[2] is not None else r[1] for r in reqs)
    return " ".join("%dx%d" % (n, s) for s, n in sorted(c.items(), key=lambda x: (-x[1], -x[0]))[:4])


def main():
    work = sys.argv[1]
    mounts, results, notes = parse_tap(os.path.join(work, "logs", "tap.log"))
    segs = parse_trace(os.path.join(work, "logs", "qemu-trace.log"))
    calls = parse_syscalls(os.path.join(work, "logs", "host-syscalls.txt"))
    matched = attach_syscalls(segs, calls) if calls else 0
    fstype = {}
    if os.path.exists(os.path.join(work, "shares.txt")):
        for line in open(os.path.join(work, "shares.txt")):
            w = line.split()
            fstype[w[0]] = w[2]
    fstype["vfs"] = "virtio-fs"

    for n in notes:
        if "clamped" in n or "failed" in n or "time" in n or "msize-study" in n:
            print(n)
    cols = [("none", "write", 1048576), ("none", "write", 4194304),
            ("none", "read", 1048576), ("none", "read", 4194304),
            ("loose", "wfsync", 1048576), ("loose", "wfsync", 4194304)]
    heads = ["w 1M", "w 4M", "r 1M", "r 4M", "loose w+fsync 1M", "loose w+fsync 4M"]
    data = collections.defaultdict(list)
    for share, msize, rep, cache, op, bs, nbytes, ns, mn in results:
        data[(share, msize, cache, op, bs)].append(nbytes / MiB / (ns / 1e9))
    rows = sorted({(s, m) for s, m, _, _, _ in data}, key=lambda x: (x[0] == "vfs", x[0], x[1]))
    print()
    print("MiB/s, median (min-max) over repetitions; cache=none w/r in 1 MiB and 4 MiB calls, "
          "cache=loose write+fsync of 32 MiB")
    print("| host fs | msize | " + " | ".join(heads) + " |")
    print("|---|---|" + "---|" * len(heads))
    for s, m in rows:
        cells = [med_range(data.get((s, m, c, o, b), [])) for c, o, b in cols]
        print("| %s (%s) | %s | %s |" % (fstype.get(s, "?"), s, m or "virtio-fs", " | ".join(cells)))

    # What the 9P server saw, per point, over all repetitions.
    print()
    print("QEMU's trace per point (all repetitions): 9P requests, their sizes, host time per "
          "request (trace: request to return), inside the system call (perf trace), and MiB/s "
          "within those")
    if calls:
        print("(%d host system calls paired with 9P requests of the same size)" % matched)
    print("| host fs | msize | point | requests per 32 MiB | sizes (count x bytes) | most iovecs | "
          "host ms per largest request (median) | its syscall ms (median) | MiB/s in request | MiB/s in syscall | "
          "most in flight |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    agg = collections.defaultdict(lambda: {"reqs": [], "bytes": 0})
    for share, msize, rep, cache, op, bs, nbytes, ns, mn in results:
        if mn is None or mn not in segs:
            continue
        kind = "r" if op == "read" else "w"
        reqs = [r for r in segs[mn] if r[0] == kind and r[4] is not None]
        a = agg[(share, msize, cache, op, bs)]
        a["reqs"] += reqs
        a["bytes"] += nbytes
    for key in sorted(agg, key=lambda k: (k[0], k[1], k[2], k[3], k[4])):
        share, msize, cache, op, bs = key
        a = agg[key]
        reqs = a["reqs"]
        if not reqs:
            continue
        done = sum(r[2] for r in reqs)
        host = [(r[4] - r[3]) * 1e3 for r in reqs]
        # The medians are those of the largest requests (a 4 MiB write at
        # msize 4182040 is one of 4182016 bytes and one of 12288).
        big = max(r[2] for r in reqs)
        host_big = [(r[4] - r[3]) * 1e3 for r in reqs if r[2] == big]
        sys_big = [r[6] for r in reqs if len(r) > 6 and r[2] == big]
        sysms = [r[6] for r in reqs if len(r) > 6]
        sysbytes = sum(r[2] for r in reqs if len(r) > 6)
        iov = max(r[5] for r in reqs) if kind_is_write(op) else "-"
        print("| %s | %d | %s %s %dK | %.1f | %s | %s | %.2f | %s | %.0f | %s | %d |" % (
            fstype.get(share, "?"), msize, cache, op, bs // 1024,
            len(reqs) * 32 * MiB / max(done, 1), size_hist(reqs), iov,
            statistics.median(host_big),
            "%.2f" % statistics.median(sys_big) if sys_big else "-",
            done / MiB / (sum(host) / 1e3) if sum(host) else 0,
            "%.0f" % (sysbytes / MiB / (sum(sysms) / 1e3)) if sysms and sum(sysms) else "-",
            max_overlap(reqs)))


def kind_is_write(op):
    return op != "read"


if __name__ == "__main__":
    main()
