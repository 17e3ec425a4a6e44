#!/bin/bash
# SPDX-License-Identifier: MIT
# scripts/bench_wan.sh: codns over real distances (issue 21). Builds an
# emulated WAN (scripts/wan_lib.sh: one network namespace per node, a
# dnsmasq per site, a user-space router delaying packets by measured
# city-to-city RTTs from tests/data/wan_rtt.csv), checks it with ping,
# starts every codnsd at once and measures, printing per node:
#   - the RTT error against the truth after the simultaneous start;
#   - chosen neighbours against the RTT-optimal set, neighbour changes a
#     minute, heartbeats a second (counted at the router), RSS;
#   - rescue latency p50/p90/p99 against the nearest healthy peer's RTT,
#     and which site answered, with one site's nameserver stopped;
#   - a site's nameserver and half its nodes stopped, then resumed: rescue,
#     heartbeat peaks while they are down, how soon they are taken back;
#   - an isolated site (nearest peer beyond neighbor-rtt-max) whose
#     nameserver is stopped: how many lookups are answered.
# Then it draws doc/bench-wan-*.png with gnuplot and prints the issue's
# targets with "met" or "NOT met". A benchmark: it measures, never asserts.
#
# usage: scripts/bench_wan.sh [--quick] [--sites "City:N,..."]
#     [--matrix CSV] [--converge S] [--steady S] [--rescue S] [--partial S]
#     [--after S] [--isolated S] [--rescue-site C] [--partial-site C]
#     [--isolated-site C] [--jitter PERMILLE] [--loss PPM] [--out DIR]
#     [--start-burst SECONDS:EXTRA_US] [--keep]
# A duration of 0 skips that scenario (--rescue 0 --partial 0 --isolated 0:
# the start and the steady state alone).
# Defaults: 10 sites x 4 nodes, 120/120/60/60+120/60 s (about 10 minutes),
# pictures into doc/. --quick: 6 sites x 2 nodes, about 3 minutes, pictures
# into build/bench-wan/. --start-burst congests the first SECONDS of the
# simultaneous start (every packet waits up to EXTRA_US more, uniformly).
# Run as root from a built tree (scripts/build.sh); BUILDDIR=DIR measures
# the codnsd of another build tree.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
BUILDDIR=${BUILDDIR:-$top/build}
SITES="Dallas:4,Toronto:4,Washington:4,Montreal:4,London:4,Frankfurt:4,Madrid:4,Osaka:4,Tokyo:4,Sydney:4"
CONVERGE=120 STEADY=120 RESCUE=60 PARTIAL=60 AFTER=120 ISOLATED=60
RESCUE_SITE=Toronto PARTIAL_SITE=London ISOLATED_SITE=Sydney
OUT=$top/doc KEEP=""
WAN_JITTER=20 WAN_LOSS_PPM=1000
while [ $# -gt 0 ]; do
	case $1 in
	--quick)
		SITES="Toronto:2,Montreal:2,Washington:2,London:2,Frankfurt:2,Sydney:2"
		CONVERGE=30 STEADY=30 RESCUE=15 PARTIAL=20 AFTER=30 ISOLATED=15
		OUT=$BUILDDIR/bench-wan ;;
	--sites) SITES=$2; shift ;;
	--matrix) WAN_MATRIX=$2; shift ;;
	--converge) CONVERGE=$2; shift ;;
	--steady) STEADY=$2; shift ;;
	--rescue) RESCUE=$2; shift ;;
	--partial) PARTIAL=$2; shift ;;
	--after) AFTER=$2; shift ;;
	--isolated) ISOLATED=$2; shift ;;
	--rescue-site) RESCUE_SITE=$2; shift ;;
	--partial-site) PARTIAL_SITE=$2; shift ;;
	--isolated-site) ISOLATED_SITE=$2; shift ;;
	--jitter) WAN_JITTER=$2; shift ;;
	--loss) WAN_LOSS_PPM=$2; shift ;;
	--start-burst) WAN_START_BURST=$2; shift ;;
	--out) OUT=$2; shift ;;
	--keep) KEEP=1 ;;
	*) sed -n 20,32p "$0" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$BUILDDIR/codnsd/codnsd" ] || { echo "build first: sh scripts/build.sh" >&2; exit 1; }
make -C "$BUILDDIR" -s scripts/wan_router >/dev/null 2>&1 ||
	[ -x "$BUILDDIR/scripts/wan_router" ] || { echo "cannot build scripts/wan_router" >&2; exit 1; }
command -v gnuplot >/dev/null || echo "no gnuplot (scripts/setup-deps.sh): no pictures" >&2

WAN_TOP=$top WAN_BUILD=$BUILDDIR WAN_SITES=$SITES
WAN_DIR=$(mktemp -d /tmp/codns-bench-wan.XXXXXX)
# shellcheck source=scripts/wan_lib.sh
. "$top/scripts/wan_lib.sh"
bench_cleanup() {
	wan_down
	if [ -n "$KEEP" ]; then echo "kept $WAN_DIR"; else rm -rf "$WAN_DIR"; fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

why=$(wan_can_run) || { echo "bench_wan: $why" >&2; exit 1; }
renice -n 10 $$ >/dev/null 2>&1
py() { python3 "$WAN_PY" "$@"; }

echo "codns WAN bench, $(date -u '+%Y-%m-%d %H:%M UTC'), scripts at $(git -C \
	"$top" rev-parse --short HEAD 2>/dev/null || echo '?'), sites $SITES"
echo "codnsd: $BUILDDIR/codnsd/codnsd, $("$BUILDDIR/codnsd/codnsd" -V 2>&1 | head -n 1)"
echo "matrix $WAN_MATRIX, jitter ${WAN_JITTER} permille of the one-way delay" \
	"(exponential), loss $WAN_LOSS_PPM ppm"
wan_plan || exit 1
wan_up || exit 1
if ! wan_ping_check 5; then
	echo "bench_wan: the emulated WAN is wrong; not measuring" >&2
	exit 1
fi
wan_start_nodes || exit 1
# A scenario given 0 seconds is skipped.
[ "$CONVERGE" = 0 ] || py converge "$WAN_DIR" --secs "$CONVERGE" --every 2
[ "$STEADY" = 0 ] || py steady "$WAN_DIR" --secs "$STEADY" --every 2
[ "$RESCUE" = 0 ] || py rescue "$WAN_DIR" --site "$RESCUE_SITE" --secs "$RESCUE"
[ "$PARTIAL" = 0 ] ||
	py partial "$WAN_DIR" --site "$PARTIAL_SITE" --secs "$PARTIAL" --after "$AFTER"
[ "$ISOLATED" = 0 ] || py isolated "$WAN_DIR" --site "$ISOLATED_SITE" --secs "$ISOLATED"
py targets "$WAN_DIR"
py plots "$WAN_DIR"
if command -v gnuplot >/dev/null; then
	mkdir -p "$OUT"
	gnuplot -e "dir='$WAN_DIR'; out='$OUT'; sites='$(cat "$WAN_DIR/sites.txt")'; nsites=$(awk -F, '{print NF}' "$WAN_DIR/sites.txt")" \
		"$top/scripts/bench_wan.gp" &&
		echo "pictures: $OUT/bench-wan-cdf.png $OUT/bench-wan-neighbours.png" \
			"$OUT/bench-wan-rtt.png"
fi
