# SPDX-License-Identifier: GPL-2.0
# The guests' results, for tools/run-tests.sh (sourced; bash). Both parsers
# call the caller's report STATUS DESCRIPTION once per result.
#
# kselftest_results PART TAPLOG QEMU_STATUS PROGRAM...: the output of the
# kernel's run_kselftest.sh running the guest's test programs of the zc9p
# collection (tests/guest/kselftest.sh; PROGRAM...: the names the host gave
# it, e.g. zc9p_msize.sh): each result a program printed, which the runner
# nests under "# ", is one result here; its diagnostics ("# # ...") are
# printed with one "# " taken off. Then one result per program: the runner
# reported it (not skipped, not timed out), its plan matches what it printed,
# and its exit status agrees with its results; and one for the guest: QEMU
# ended it normally.
kselftest_results() {
	local part=$1 log=$2 vmrc=$3 line prog='' nested=0 nbad=0 plan='' status seen=' '
	shift 3
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line =~ ^#\ selftests:\ zc9p:\ ([^ ]+)$ ]]; then
			[ -z "$prog" ] || ksft_program_result "$part" "$prog" "" "$nested" "$nbad" "$plan"
			prog=${BASH_REMATCH[1]} nested=0 nbad=0 plan=''
			seen="$seen$prog "
		elif [[ $line =~ ^#\ (ok|not\ ok)\ [0-9]+\ (.*)$ ]]; then
			nested=$((nested + 1))
			status=0
			[ "${BASH_REMATCH[1]}" = ok ] || { status=1; nbad=$((nbad + 1)); }
			report $status "guest $part: ${BASH_REMATCH[2]}"
		elif [[ $line =~ ^#\ 1\.\.([0-9]+) ]]; then
			plan=${BASH_REMATCH[1]}
		elif [[ $line == "# #"* ]]; then
			echo "${line#\# }"
		elif [[ $line =~ ^(ok|not\ ok)\ [0-9]+\ selftests:\ zc9p:\ .*$ ]]; then
			ksft_program_result "$part" "$prog" "$line" "$nested" "$nbad" "$plan"
			prog=''
		elif [[ $line == "#"* ]]; then
			echo "$line"
		fi
	done <"$log"
	[ -z "$prog" ] || ksft_program_result "$part" "$prog" "" "$nested" "$nbad" "$plan"
	for prog; do
		[[ $seen == *" $prog "* ]] ||
			report 1 "guest $part: $prog ran to completion (the runner never started it)"
	done
	report "$vmrc" "guest $part: the guest ran its programs and powered off (qemu exit $vmrc)"
}

# ksft_program_result PART PROGRAM TOPLINE NESTED NBAD PLAN: the result of one
# test program (kselftest_results).
ksft_program_result() {
	local part=$1 prog=$2 top=$3 nested=$4 nbad=$5 plan=$6 why=
	case "$top" in
	"") why="$why, the runner reported no result for it" ;;
	*"# SKIP"*) why="$why, skipped" ;;
	*"# TIMEOUT"*) why="$why, timed out" ;;
	"ok "*) [ "$nbad" -eq 0 ] || why="$why, exit status 0 despite $nbad failures" ;;
	*) [ "$nbad" -gt 0 ] || why="$why, failed ($top) with no failing result" ;;
	esac
	[ "$plan" = "$nested" ] || why="$why, plan 1..${plan:-?} but $nested results"
	echo "# $part: ${top:-$prog: no runner result}"
	report "$([ -z "$why" ]; echo $?)" \
		"guest $part: $prog ran to completion ($nested results${why:+; }${why#, })"
}

# kunit_results PART CONSOLELOG: the KUnit suites named zc9p_* in a guest's
# kernel log. They run at every load of their module, which the suite does
# many times: the cases of each suite's first run are one result each, and
# one more result per suite says that every run of it passed and finished.
# Adds the number of suites it found to KUNIT_SUITES.
KUNIT_SUITES=0
kunit_results() {
	local part=$1 kind status suite rest
	while read -r kind status suite rest; do
		case $kind in
		CASE) report "$status" "kunit, guest $part: $suite: $rest" ;;
		SUITE)
			KUNIT_SUITES=$((KUNIT_SUITES + 1))
			report "$status" "kunit, guest $part: $suite: $rest"
			;;
		esac
	done < <(sed 's/\r$//; s/^\[ *[0-9]*\.[0-9]*\] //' "$2" | awk '
		# A suite: "    # Subtest: NAME", its cases "    ok N CASE" at one
		# level of indentation (a parameterised case'"'"'s own results sit
		# deeper), its result "ok N NAME" at none.
		/^    # Subtest: / {
			name = substr($0, 16)
			if (suite != "") unfinished[suite]++
			suite = (name ~ /^zc9p_/) ? name : ""
			if (suite != "") { runs[suite]++; if (!(suite in seen)) { seen[suite] = 1; order[++nsuites] = suite } }
			next
		}
		suite == "" { next }
		/^    (not )?ok [0-9]+ / {
			if (runs[suite] > 1) next
			bad = ($0 ~ /^    not ok/)
			c = $0; sub(/^    (not )?ok [0-9]+ /, "", c)
			if (sub(/ # SKIP */, " (skipped: ", c)) c = c ")"
			print "CASE", bad, suite, c
			next
		}
		/^(not )?ok [0-9]+ / {
			n = $0; sub(/^(not )?ok [0-9]+ /, "", n); sub(/ # SKIP.*/, "", n)
			if (n != suite) next
			if ($0 ~ /^not ok/) failed[suite]++
			suite = ""
		}
		END {
			if (suite != "") unfinished[suite]++
			for (i = 1; i <= nsuites; i++) {
				s = order[i]
				f = failed[s] + unfinished[s]
				print "SUITE", (f > 0), s, "every run passed (" runs[s] " runs, " failed[s] + 0 " failed, " unfinished[s] + 0 " unfinished)"
			}
		}')
}

# kunit_modules MODULE.ko...: those of them that carry KUnit suites.
kunit_modules() {
	local ko
	for ko in "$@"; do
		# Not grep -q: under pipefail, readelf killed by the early exit's SIGPIPE
		# would fail the pipeline (about one call in sixteen).
		[ -e "$ko" ] && readelf -SW "$ko" 2>/dev/null | grep '\.kunit_test_suites' >/dev/null && basename "$ko"
	done
	return 0
}

# host_run DESCRIPTION COMMAND...: one result of a check the host makes of
# what a guest wrote; COMMAND's output goes out as diagnostics when it fails.
host_run() {
	local desc=$1 out
	shift
	out=$("$@" 2>&1) && { report 0 "host: $desc"; return; }
	printf '%s\n' "$out" | sed 's/^/# /'
	report 1 "host: $desc"
}

# host_verify DESCRIPTION PATH SIZE SEED: PATH holds exactly SIZE bytes of
# zc9p-check's stream SEED (the host's build of it: HOST_CHECK).
host_verify() {
	host_run "$1" "$HOST_CHECK" verify "$2" "$3" "$4"
}
