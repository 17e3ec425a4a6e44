#!/bin/sh
# SPDX-License-Identifier: MIT
# scripts/fuzz.sh [SECONDS]: build every fuzz target with libFuzzer (clang,
# ASan + UBSan) and run each for SECONDS (default 60) on a copy of its seed
# corpus; print the executions and findings per target. Findings (crash,
# leak, timeout, out-of-memory inputs) are kept in build-fuzz/TARGET/.
# Exits 1 if any target found something. Needs clang (apt-get install clang).
set -eu
secs=${1:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
out=${FUZZ_DIR:-$top/build-fuzz}
cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || {
	echo "fuzz.sh: $cc not found (apt-get install clang)" >&2
	exit 2
}
[ -f "$top/build/config.h" ] || sh "$top/scripts/build.sh" >/dev/null
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
-include $top/build/config.h -I$top/libcodns -I$top/codnsd -I$top/peers
-I$top/nss_codns"
codns="libcodns/buf.c libcodns/proto.c libcodns/addr.c"

# target: its harness and the code it fuzzes; the corpus directory has the
# harness's name without fuzz_.
sources() {
	case $1 in
	proto) echo "tests/fuzz/fuzz_proto.c $codns" ;;
	peerproto) echo "tests/fuzz/fuzz_peerproto.c libcodns/peerproto.c $codns" ;;
	ctl) echo "tests/fuzz/fuzz_ctl.c codnsd/control/ctlparse.c" ;;
	conf) echo "tests/fuzz/fuzz_conf.c codnsd/conf.c $codns" ;;
	nss) echo "tests/fuzz/fuzz_nss.c nss_codns/nss_codns.c" \
		"nss_codns/nss_shm.c libcodns/shmtab.c libcodns/resolvconf.c" \
		"libcodns/client.c $codns" ;;
	dnsmsg) echo "tests/fuzz/fuzz_dnsmsg.c libcodns/dnsmsg.c $codns" ;;
	stubresp) echo "tests/fuzz/fuzz_stubresp.c libcodns/dnsmsg.c $codns" ;;
	esac
}

total=0
for t in proto peerproto ctl conf nss dnsmsg stubresp; do
	dir=$out/$t
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	# shellcheck disable=SC2046,SC2086
	(cd "$top" && $cc $flags -o "$dir/fuzz_$t" $(sources $t) -lsodium) ||
		{ echo "$t: build failed"; total=$((total + 1)); continue; }
	cp "$top/tests/fuzz/corpus/$t/"* "$dir/corpus/"
	"$dir/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$dir/" -rss_limit_mb=2048 -timeout=10 \
		"$dir/corpus" >"$dir/log" 2>&1 || true
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" |
		tail -n 1)
	found=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 \
		-name 'leak-*' -o -maxdepth 1 -name 'timeout-*' -o \
		-maxdepth 1 -name 'oom-*' | wc -l)
	corpus=$(find "$dir/corpus" -type f | wc -l)
	echo "$t: ${execs:-0} executions in ${secs}s, corpus $corpus inputs," \
		"$found findings"
	[ "$found" -eq 0 ] || {
		grep -m 5 -E 'ERROR|runtime error' "$dir/log" | sed 's/^/  /'
		total=$((total + found))
	}
done
echo "fuzz.sh: $total findings"
[ "$total" -eq 0 ]
