# TAP helpers for the guest tests (sourced). Results go to the second serial
# port, away from kernel messages; diagnostics are '# ' lines.
exec 3>/dev/ttyS1
tap_n=0

tap() { # STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2" >&3
	else
		echo "not ok $tap_n - $2" >&3
	fi
	echo "zc9p-test: $([ "$1" -eq 0 ] && echo ok || echo FAIL) $tap_n - $2" >/dev/kmsg
}

diag() { sed 's/^/# /' >&3; }

# check DESCRIPTION COMMAND...: a test that passes when COMMAND exits 0.
check() {
	desc=$1
	shift
	"$@" >/tmp/check.out 2>&1
	rc=$?
	[ $rc -eq 0 ] || diag </tmp/check.out
	tap $rc "$desc"
}

# expect DESCRIPTION WANT COMMAND...: passes when COMMAND prints exactly WANT.
expect() {
	desc=$1
	want=$2
	shift 2
	got=$("$@" 2>/tmp/check.err)
	if [ "$got" = "$want" ]; then
		tap 0 "$desc"
	else
		echo "want '$want', got '$got'" | diag
		diag </tmp/check.err
		tap 1 "$desc"
	fi
}

tap_plan_end() { echo "1..$tap_n" >&3; }
