#!/bin/bash
# scripts/test.sh: install dependencies, build, run every test (unit,
# fuzz replay, NSS, integration, valgrind) and print one summary line:
# "N passed, N failed". Exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/setup-deps.sh >/tmp/codns-setup.log 2>&1 || {
	cat /tmp/codns-setup.log
	echo "0 passed, 1 failed"
	exit 1
}
if ! sh scripts/build.sh; then
	echo "build failed"
	echo "0 passed, 1 failed"
	exit 1
fi
cd build
make -j"$(nproc)" check >/tmp/codns-check.out 2>&1
check_rc=$?
grep -E "^(PASS|FAIL|XFAIL|XPASS|ERROR|SKIP):" /tmp/codns-check.out
# Count the checks inside each test program, not just the programs: the
# shell tests end with "N passed, N failed", cmocka prints [ PASSED ] and
# [ FAILED ] counts; anything else counts once by its result.
passed=0
failed=0
for trs in $(find . -name '*.trs' | sort); do
	log=${trs%.trs}.log
	res=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	p=0 f=0
	if line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1) &&
		[ -n "$line" ]; then
		p=$(echo "$line" | cut -d' ' -f1)
		f=$(echo "$line" | cut -d' ' -f3)
	elif grep -q '^\[  PASSED  \]' "$log"; then
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" |
			awk '{s += $1} END {print s + 0}')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" |
			awk '{s += $1} END {print s + 0}')
	elif [ "$res" = PASS ] || [ "$res" = SKIP ]; then
		p=1
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
done
if [ "$check_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	tail -n 40 /tmp/codns-check.out
	failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$check_rc" -eq 0 ]
