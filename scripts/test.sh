#!/bin/bash
# scripts/test.sh: install dependencies, build, run every test (unit,
# fuzz replay, NSS, integration, valgrind) and print one summary line:
# "N passed, N failed, N skipped". Exits non-zero on any failure. A check
# that could not run here (a test program exiting 77, a "SKIP:" line of a
# shell test, a skipped cmocka test) is skipped, never passed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/setup-deps.sh >/tmp/codns-setup.log 2>&1 || {
	cat /tmp/codns-setup.log
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}
if ! sh scripts/build.sh; then
	echo "build failed"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
cd build
make -j"$(nproc)" check >/tmp/codns-check.out 2>&1
check_rc=$?
grep -E "^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP):" /tmp/codns-check.out
# Count the checks inside each test program, not just the programs: the
# shell tests end with "N passed, N failed[, N skipped]", cmocka prints
# [ PASSED ], [ FAILED ] and [ SKIPPED ] counts; anything else counts once
# by its result.
passed=0
failed=0
skipped=0
cmocka_sum() {
	sed -n "s/^\[  $1 *\] \([0-9]*\) test.*/\1/p" "$2" |
		awk '{s += $1} END {print s + 0}'
}
for trs in $(find . -name '*.trs' | sort); do
	log=${trs%.trs}.log
	res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	p=0 f=0 s=0
	if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1) &&
		[ -n "$line" ]; then
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
		tail -n 40 "$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
done
if [ "$check_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	tail -n 40 /tmp/codns-check.out
	failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$check_rc" -eq 0 ]
