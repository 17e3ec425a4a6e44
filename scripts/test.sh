#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/test.sh: install dependencies, build, run every test (unit,
# fuzz replay, NSS, integration, valgrind), then the unit and integration
# tests again in a second build under ASan+UBSan (build-asan), and print
# one summary line: "N passed, N failed, N skipped". Exits non-zero on any failure. A check
# that could not run here (a test program exiting 77, a "SKIP:" line of a
# shell test, a skipped cmocka test) is skipped, never passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
# Logs stay in this tree: several checkouts may run the suite at once.
setup_log=$(mktemp /tmp/codns-setup.XXXXXX)
trap 'rm -f "$setup_log"' EXIT
sh scripts/setup-deps.sh >"$setup_log" 2>&1 || {
	cat "$setup_log"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}
if ! sh scripts/build.sh; then
	echo "build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
cd build
# Results of tests that no longer exist must not be counted.
find . \( -name '*.trs' -o -name 'test-suite.log' \) -delete
# Logs stay in the build tree: several trees may be tested at once.
make -j"$(nproc)" check >check.out 2>&1
check_rc=$?
grep -E "^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP):" check.out
# count_results: add the checks of the tests run in the current build
# directory to passed/failed/skipped. Count the checks inside each test
# program, not just the programs: the shell tests end with "N passed, N
# failed[, N skipped]", cmocka prints [ PASSED ], [ FAILED ] and
# [ SKIPPED ] counts; anything else counts once by its result.
passed=0
failed=0
skipped=0
cmocka_sum() {
	sed -n "s/^\[  $1 *\] \([0-9]*\) test.*/\1/p" "$2" |
		awk '{s += $1} END {print s + 0}'
}
count_results() {
	local trs log res p f s line
	for trs in $(find . -name '*.trs' | sort); do
		log=${trs%.trs}.log
		res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
		p=0 f=0 s=0
		if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" |
			tail -n 1) && [ -n "$line" ]; then
			p=$(echo "$line" | cut -d' ' -f1)
			f=$(echo "$line" | cut -d' ' -f3 | tr -d ,)
			s=$(echo "$line" | sed -n 's/.*, \([0-9]*\) skipped.*/\1/p')
			s=${s:-0}
		elif grep -q '^\[  PASSED  \]' "$log"; then
			p=$(cmocka_sum PASSED "$log")
			f=$(cmocka_sum FAILED "$log")
			s=$(cmocka_sum SKIPPED "$log")
		elif [ "$res" = PASS ]; then
			p=1
		elif [ "$res" = SKIP ]; then
			s=1
		fi
		if [ "$res" != PASS ] && [ "$res" != SKIP ] && [ "$f" -eq 0 ]; then
			f=1
		fi
		if [ "$res" != PASS ] && [ "$res" != SKIP ]; then
			echo "--- $log"
			# The failed checks first: the tail may not hold them.
			grep -E '^(FAIL|not ok)' "$log" | head -n 20
			echo "--- (last 40 lines)"
			tail -n 40 "$log"
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
	done
}
count_results
if [ "$check_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	tail -n 40 check.out
	failed=1
fi

# The ASan+UBSan pass: a second build with the sanitizers everywhere runs
# the unit and integration tests again, halting on the first report (the
# fuzz replays already ran under the sanitizers above). Every report goes
# to a file of build-asan/sanitizer/, and any such file fails the pass.
# Left out: valgrind (it cannot run an ASan binary), the NSS and packaging
# tests, because an ASan-built libnss_codns.so.2 cannot be dlopen()ed by
# the uninstrumented programs (getent, python3) they run; the module's
# reply handling is fuzzed under ASan by tests/fuzz/run_nssreply.sh.
# CODNS_SKIP_ASAN=1 skips the pass.
cd "$top"
asan_rc=0
if [ "${CODNS_SKIP_ASAN:-}" = "" ]; then
	san="-fsanitize=address,undefined -fno-sanitize-recover=all"
	mkdir -p build-asan
	cd build-asan
	rm -rf sanitizer
	mkdir sanitizer
	if { [ -f Makefile ] || ../configure --sysconfdir=/etc \
		--localstatedir=/var --runstatedir=/run \
		CFLAGS="$san -fno-omit-frame-pointer -g -O1" \
		LDFLAGS="$san" >configure.out 2>&1; } &&
		make -j"$(nproc)" >build.out 2>&1; then
		asan_tests=$(make -s print-tests | tr ' ' '\n' |
			grep -v -e '^tests/nss/' -e '^tests/fuzz/' \
				-e '^tests/pkg/' -e 'test_valgrind' | tr '\n' ' ')
		find . -name '*.trs' -delete
		ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:log_path=$PWD/sanitizer/asan" \
			UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$PWD/sanitizer/ubsan" \
			make -j"$(nproc)" check TESTS="$asan_tests" \
			>check.out 2>&1
		asan_rc=$?
		grep -E "^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP):" check.out |
			sed 's/^\([A-Z]*\):/\1 (asan):/'
		count_results
		for r in sanitizer/*; do
			[ -e "$r" ] || continue
			echo "--- sanitizer report $r"
			head -n 40 "$r"
			failed=$((failed + 1))
			asan_rc=1
		done
		if [ "$asan_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
			tail -n 40 check.out
			failed=1
		fi
	else
		echo "ASan build failed"
		tail -n 40 build.out
		failed=$((failed + 1))
		asan_rc=1
	fi
	cd "$top"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$check_rc" -eq 0 ] && [ "$asan_rc" -eq 0 ]
