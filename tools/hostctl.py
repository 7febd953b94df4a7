#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Host side of the zc9p guest control channel (started by tools/run-vm.sh).

The guest writes request lines to its third serial port (/dev/ttyS2), which
QEMU connects to a unix socket; this program reads them there, acts on them
through QEMU's QMP socket and answers on the same serial line.

Requests are lines "ID COMMAND ARGS..."; each gets exactly one answer line,
"ID ok [DETAIL]" or "ID error DETAIL". Commands:

  ping            answers "ID ok pong"
  device_del N    unplugs share N's virtio-9p-pci device (QMP id zc9pdevN) and
                  answers ok only once QEMU has reported DEVICE_DELETED for it
                  and query-pci no longer lists it (up to --unplug-timeout s)
  device_add N    plugs share N's device back in with exactly the properties
                  of its original -device argument; ok when QMP accepts it
  trace EVENT SINCE [FIELD...]
                  counts QEMU's trace lines of EVENT (tools/run-vm.sh,
                  ZC9P_TRACE) after the first SINCE of them, and the largest
                  sum of the named integer fields among those: "ok N MAX"
                  (the guest passes 0 first, to learn where a window starts)

Lines that are not of that form (a stray '\\r', line noise, our own answers
echoed back by a guest tty that still echoes) are logged and ignored. Every
request, QMP message and QMP event goes to the log. Exits when QEMU closes
either socket.

usage: hostctl.py --qmp SOCK --control SOCK --log FILE [--trace FILE] [--device N DEVICE_ARG]...

Standard library only.
"""

import argparse
import json
import re
import select
import signal
import socket
import sys
import threading
import time

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]{0,79}$")
COMMAND_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1, encoding="utf-8", errors="replace")
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def __call__(self, fmt, *args):
        msg = fmt % args if args else fmt
        stamp = time.strftime("%H:%M:%S")
        with self.lock:
            self.f.write("%s +%8.3f %s\n" % (stamp, time.monotonic() - self.t0, msg))


class QMPError(Exception):
    pass


def connect_unix(path, deadline, log, what):
    """Connect to a unix socket, retrying until QEMU has created it."""
    last = None
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            log("connected to %s socket %s", what, path)
            return s
        except OSError as e:
            s.close()
            last = e
        if time.monotonic() >= deadline:
            raise OSError("cannot connect to %s socket %s: %s" % (what, path, last))
        time.sleep(0.1)


class QMP:
    """A QMP client: commands from the main thread, a reader thread sorting
    what QEMU sends into command returns (matched by "id") and events."""

    MAX_EVENTS = 1000

    def __init__(self, sock, log, greeting_timeout):
        self.sock = sock
        self.log = log
        self.cond = threading.Condition()
        self.send_lock = threading.Lock()
        self.returns = {}
        self.events = []  # (sequence number, message), the newest MAX_EVENTS
        self.event_seq = 0
        self.closed = False
        self.next_id = 0
        self.rfile = sock.makefile("rb")
        sock.settimeout(greeting_timeout)
        try:
            greeting = self.rfile.readline()
        except OSError as e:
            raise OSError("no QMP greeting within %ss: %s" % (greeting_timeout, e))
        if not greeting:
            raise OSError("QMP socket closed before the greeting")
        self.log("qmp <- %s", greeting.decode("utf-8", "replace").rstrip())
        sock.settimeout(None)
        threading.Thread(target=self._reader, name="qmp-reader", daemon=True).start()

    def _reader(self):
        try:
            for raw in self.rfile:
                text = raw.decode("utf-8", "replace").strip()
                if not text:
                    continue
                try:
                    msg = json.loads(text)
                except ValueError:
                    self.log("qmp <- (unparsable) %s", text)
                    continue
                with self.cond:
                    if "event" in msg:
                        self.log("qmp event <- %s", text)
                        self.event_seq += 1
                        self.events.append((self.event_seq, msg))
                        del self.events[: -self.MAX_EVENTS]
                    elif "id" in msg:
                        self.log("qmp <- %s", text)
                        self.returns[msg["id"]] = msg
                    else:
                        self.log("qmp <- (unmatched) %s", text)
                    self.cond.notify_all()
        except OSError as e:
            self.log("qmp read error: %s", e)
        finally:
            with self.cond:
                self.closed = True
                self.cond.notify_all()
            self.log("qmp socket closed")

    def command(self, name, arguments=None, timeout=30.0):
        """Run a QMP command; its "return" value, or QMPError."""
        with self.cond:
            self.next_id += 1
            cid = "hostctl-%d" % self.next_id
        msg = {"execute": name, "id": cid}
        if arguments is not None:
            msg["arguments"] = arguments
        text = json.dumps(msg)
        self.log("qmp -> %s", text)
        try:
            with self.send_lock:
                self.sock.sendall(text.encode() + b"\n")
        except OSError as e:
            raise QMPError("QMP send failed: %s" % e)
        deadline = time.monotonic() + timeout
        with self.cond:
            while cid not in self.returns:
                left = deadline - time.monotonic()
                if self.closed:
                    raise QMPError("QMP connection closed (QEMU exited?)")
                if left <= 0:
                    raise QMPError("no QMP reply to %s within %gs" % (name, timeout))
                self.cond.wait(left)
            resp = self.returns.pop(cid)
        if "error" in resp:
            err = resp["error"]
            raise QMPError("%s: %s" % (err.get("class", "Error"), err.get("desc", err)))
        return resp.get("return")

    def event_mark(self):
        with self.cond:
            return self.event_seq

    def wait_event(self, pred, after, timeout):
        """Wait for an event numbered above `after` that satisfies pred."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for seq, ev in self.events:
                    if seq > after and pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if self.closed or left <= 0:
                    return None
                self.cond.wait(left)


def parse_device_arg(arg):
    """A -device argument ("driver,key=value,...", ",," escaping a comma) as
    the argument dict of QMP device_add (values as strings, as QEMU's own
    command line passes them)."""
    parts, cur, i = [], [], 0
    while i < len(arg):
        c = arg[i]
        if c == ",":
            if arg[i + 1 : i + 2] == ",":
                cur.append(",")
                i += 2
                continue
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    props = {}
    for n, p in enumerate(parts):
        if not p:
            continue
        if "=" in p:
            k, v = p.split("=", 1)
        elif n == 0:
            k, v = "driver", p
        else:
            k, v = p, "on"
        props[k] = v
    if "driver" not in props:
        raise ValueError("no driver in device argument %r" % arg)
    return props


def pci_devices(qmp):
    """qdev ids of every device query-pci lists (bridges' buses too)."""
    ids = set()

    def walk(devices):
        for d in devices:
            if d.get("qdev_id"):
                ids.add(d["qdev_id"])
            bus = d.get("pci_bridge", {}).get("bus")
            if bus:
                walk(bus.get("devices", []))

    for bus in qmp.command("query-pci"):
        walk(bus.get("devices", []))
    return ids


def trace_fields(line, event):
    """The "name value" pairs of a trace line of EVENT, or None if it is
    another event's. The log backend writes "[PID@SEC.USEC:]EVENT name value
    name value ..."."""
    words = line.split()
    if not words:
        return None
    head = words[0].rsplit(":", 1)[-1]
    if head != event:
        return None
    rest = words[1:]
    return dict(zip(rest[0::2], rest[1::2]))


class Server:
    def __init__(self, qmp, ctl, log, devices, unplug_timeout, trace=None):
        self.qmp = qmp
        self.ctl = ctl
        self.log = log
        self.devices = devices  # share number (str) -> (qdev id, device_add args)
        self.unplug_timeout = unplug_timeout
        self.trace = trace  # QEMU's trace log, if it writes one

    def reply(self, rid, status, detail=""):
        line = "%s %s%s" % (rid, status, " " + detail if detail else "")
        line = line.replace("\r", " ").replace("\n", " ")
        self.log("reply -> %s", line)
        try:
            self.ctl.sendall(line.encode() + b"\n")
        except OSError as e:
            self.log("cannot send the reply: %s", e)

    def share(self, args, cmd):
        if len(args) != 1:
            raise QMPError("usage: %s N" % cmd)
        if args[0] not in self.devices:
            raise QMPError("no share %s (shares: %s)" % (args[0], " ".join(sorted(self.devices)) or "none"))
        return self.devices[args[0]]

    def do_ping(self, args):
        return "pong"

    def do_device_del(self, args):
        qid, _ = self.share(args, "device_del")
        t0 = time.monotonic()
        mark = self.qmp.event_mark()
        self.qmp.command("device_del", {"id": qid})

        def deleted(ev):
            return ev.get("event") == "DEVICE_DELETED" and ev.get("data", {}).get("device") == qid

        deadline = t0 + self.unplug_timeout
        ev = self.qmp.wait_event(deleted, mark, self.unplug_timeout)
        # DEVICE_DELETED is the answer; query-pci confirms it (and covers an
        # event we might have missed).
        while True:
            present = qid in pci_devices(self.qmp)
            if not present:
                break
            if time.monotonic() >= deadline or self.qmp.closed:
                raise QMPError(
                    "%s still present after %.0f s%s: the guest did not eject it "
                    "(guest kernel without ACPI PCI hotplug, CONFIG_HOTPLUG_PCI_ACPI? "
                    "device busy? see the console log)"
                    % (qid, time.monotonic() - t0, "" if ev else ", no DEVICE_DELETED event"))
            time.sleep(0.5)
        return "%s deleted in %.1fs" % (qid, time.monotonic() - t0)

    def do_device_add(self, args):
        qid, props = self.share(args, "device_add")
        t0 = time.monotonic()
        self.qmp.command("device_add", dict(props))
        return "%s added in %.1fs" % (qid, time.monotonic() - t0)

    def do_trace(self, args):
        if len(args) < 2 or not args[1].isdigit():
            raise QMPError("usage: trace EVENT SINCE [FIELD...]")
        if not self.trace:
            raise QMPError("QEMU writes no trace log (run-vm.sh: ZC9P_TRACE)")
        event, since, fields = args[0], int(args[1]), args[2:]
        n = 0
        top = 0
        try:
            with open(self.trace, errors="replace") as f:
                for line in f:
                    kv = trace_fields(line, event)
                    if kv is None:
                        continue
                    n += 1
                    if n <= since:
                        continue
                    try:
                        top = max(top, sum(int(kv[k], 0) for k in fields))
                    except (KeyError, ValueError):
                        raise QMPError("trace line without integer fields %s: %r" % (fields, line.strip()))
        except OSError as e:
            raise QMPError("cannot read %s: %s" % (self.trace, e))
        return "%d %d" % (max(n - since, 0), top)

    def handle(self, line):
        words = line.split()
        if len(words) < 2 or not ID_RE.match(words[0]) or not COMMAND_RE.match(words[1]):
            self.log("ignored line %r", line)
            return
        rid, cmd, args = words[0], words[1], words[2:]
        if cmd in ("ok", "error"):
            self.log("ignored line %r (an answer echoed back?)", line)
            return
        self.log("request <- %r", line)
        fn = getattr(self, "do_" + cmd, None)
        if fn is None:
            self.reply(rid, "error", "unknown command '%s' (commands: ping device_del device_add trace)" % cmd)
            return
        try:
            detail = fn(args)
        except QMPError as e:
            self.reply(rid, "error", str(e))
        except Exception as e:  # never leave the guest without an answer
            self.log("internal error: %r", e)
            self.reply(rid, "error", "internal error: %s" % e)
        else:
            self.reply(rid, "ok", detail)

    def run(self):
        buf = b""
        while not self.qmp.closed:
            r, _, _ = select.select([self.ctl], [], [], 1.0)
            if not r:
                continue
            try:
                data = self.ctl.recv(4096)
            except OSError as e:
                self.log("control socket read error: %s", e)
                return
            if not data:
                self.log("control socket closed")
                return
            buf += data
            while True:
                nl = buf.find(b"\n")
                if nl < 0:
                    break
                raw, buf = buf[:nl], buf[nl + 1 :]
                line = raw.decode("utf-8", "replace").replace("\r", "").replace("\0", "").strip()
                if line:
                    self.handle(line)
            if len(buf) > 65536:  # no newline in sight: noise
                self.log("dropped %d bytes without a newline", len(buf))
                buf = b""
        self.log("QEMU has gone")


def main():
    ap = argparse.ArgumentParser(description="zc9p host control channel (QMP hot-plug for guest tests)")
    ap.add_argument("--qmp", required=True, help="QEMU's QMP unix socket")
    ap.add_argument("--control", required=True, help="unix socket of the guest's control serial port")
    ap.add_argument("--log", required=True, help="log file (appended to)")
    ap.add_argument("--device", nargs=2, action="append", default=[], metavar=("N", "DEVICE_ARG"),
                    help="share N's -device argument (repeat per share)")
    ap.add_argument("--trace", help="QEMU's trace log, for the trace command")
    ap.add_argument("--connect-timeout", type=float, default=10.0)
    ap.add_argument("--unplug-timeout", type=float, default=60.0)
    opts = ap.parse_args()

    log = Log(opts.log)
    log("hostctl starting: qmp %s, control %s", opts.qmp, opts.control)

    def terminated(signum, frame):
        log("terminated by signal %d", signum)
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    devices = {}
    for n, arg in opts.device:
        props = parse_device_arg(arg)
        qid = props.get("id")
        if not qid:
            sys.exit("hostctl: share %s's device has no id: %s" % (n, arg))
        devices[n] = (qid, props)
        log("share %s: %s -> device_add %s", n, qid, json.dumps(props))

    deadline = time.monotonic() + opts.connect_timeout
    try:
        qsock = connect_unix(opts.qmp, deadline, log, "QMP")
        qmp = QMP(qsock, log, greeting_timeout=30.0)
        qmp.command("qmp_capabilities")
        ctl = connect_unix(opts.control, max(deadline, time.monotonic() + 2.0), log, "control")
    except (OSError, QMPError) as e:
        log("giving up: %s", e)
        print("hostctl: %s" % e, file=sys.stderr)
        return 1
    log("ready")
    Server(qmp, ctl, log, devices, opts.unplug_timeout, opts.trace).run()
    log("exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
