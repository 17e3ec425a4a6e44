#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/nss/run_nss.sh: test_nss and the threaded stress test against fakesrv.
#
# Starts two fakesrv on loopback (one answering, one hung), points the
# module at them through CODNS_LOOKUP_ADDRESS and runs test_nss, then
# stress.c (8 threads x 2000 calls) under valgrind when it is installed.
# CODNS_STRESS_CALLS changes the count per thread.
set -eu

top=${abs_top_builddir:-$(pwd)}
module=$top/.libs/libnss_codns.so.2
bin=$top/tests/nss
tmp=$(mktemp -d)
pids=

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for f in "$module" "$bin/fakesrv" "$bin/test_nss" "$bin/stress"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "run_nss: $f not built" >&2
		exit 99
	fi
done

# Start a fakesrv with the given flags; its port goes into $port.
start_fakesrv() {
	out=$tmp/port.$#.$$
	"$bin/fakesrv" -t 600 "$@" >"$out" &
	pids="$pids $!"
	i=0
	while [ ! -s "$out" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "run_nss: fakesrv did not start" >&2
			exit 99
		fi
		sleep 0.05
	done
	port=$(head -n 1 "$out")
}

start_fakesrv
live=$port
start_fakesrv -H
hung=$port

export NSS_CODNS_MODULE="$module"
export CODNS_LOOKUP_ADDRESS="127.0.0.1:$live"
export CODNS_HANG_ADDRESS="127.0.0.1:$hung"
unset CODNS_TIMEOUT_MS

"$bin/test_nss"

calls=${CODNS_STRESS_CALLS:-2000}
if command -v valgrind >/dev/null 2>&1; then
	valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite \
	    "$bin/stress" -t 8 -n "$calls" -m "$module"
else
	"$bin/stress" -t 8 -n "$calls" -m "$module"
fi
