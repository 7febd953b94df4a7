#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A diod on the host for the guest's trans=tcp mount through QEMU's user
# networking (tools/run-vm.sh with ZC9P_NET=1: the guest's 10.0.2.2 is the
# host's 127.0.0.1).
#   host-diod.sh start EXPORT STATEDIR   serve EXPORT on 127.0.0.1 on a free port;
#                                        prints the port once diod listens
#                                        (pid and log in STATEDIR)
#   host-diod.sh stop STATEDIR           stop it (nothing to do if it is not running)
set -euo pipefail

listening() { # PORT: something listens on 127.0.0.1:PORT
	grep -qi "^ *[0-9]*: 0100007F:$(printf %04X "$1") [0-9A-F]*:0000 0A" /proc/net/tcp
}

case "${1:-}" in
start)
	export_dir=$2 state=$3
	mkdir -p "$state"
	[ -x /usr/sbin/diod ] || { echo "host-diod: no /usr/sbin/diod (tools/setup.sh installs it)" >&2; exit 1; }
	# A port the kernel just handed out is free (another program could take it
	# before diod does: then diod fails and so does this).
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	/usr/sbin/diod -f -n -N -c /dev/null -L stderr -e "$export_dir" -l "127.0.0.1:$port" \
		</dev/null >"$state/diod.log" 2>&1 &
	echo $! >"$state/diod.pid"
	for _ in $(seq 100); do
		if listening "$port"; then
			echo "$port"
			exit 0
		fi
		kill -0 "$(cat "$state/diod.pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "host-diod: diod does not listen on 127.0.0.1:$port:" >&2
	cat "$state/diod.log" >&2
	kill "$(cat "$state/diod.pid")" 2>/dev/null || true
	rm -f "$state/diod.pid"
	exit 1
	;;
stop)
	state=$2
	[ -e "$state/diod.pid" ] || exit 0
	pid=$(cat "$state/diod.pid")
	rm -f "$state/diod.pid"
	kill "$pid" 2>/dev/null || exit 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	;;
*)
	echo "usage: $0 start EXPORT STATEDIR | stop STATEDIR" >&2
	exit 2
	;;
esac
