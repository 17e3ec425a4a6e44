#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_availability.sh: codns alone answers what glibc's dns module
# alone answers while the nameserver stalls.
#
# In its own mount and network namespaces (as run_real.sh), with the
# default resolv.conf options (timeout 5 s, 2 attempts) and one dnsmasq on
# 127.0.0.1:53, the nameserver is SIGSTOPped for 4 s while lookups of fresh
# names start, first under "hosts: dns", then under "hosts: codns" (codnsd
# without upstream lines, no peers). glibc waits out the stop and answers;
# so must the module and codnsd: their waits follow resolv.conf too.
# Outcomes are counted; nothing here asserts a duration.
set -u

ns_name=test_availability
. "$(dirname "$0")/ns_lib.sh"
stop_s=${CODNS_STOP_S:-4}
nlookups=3

ns_require "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" -- getent
ns_enter "$@"
ns_begin nss-avail
ns_loopback
ns_etc $'hosts: dns\n' $'127.0.0.1 localhost\n' $'nameserver 127.0.0.1\n'

zone=()
for side in dns codns; do
	for i in $(seq 1 $nlookups); do
		zone+=(--host-record="$side$i.test,192.0.2.$i")
	done
done
ns_dnsmasq 53 dnsmasq --local=/#/ "${zone[@]}" || exit 99
dnsmasq_pid=$ns_pid

ns_conf "lookup-socket $tmp/lookup.sock"
ns_codnsd || exit 99

ns_module "$tmp/lookup.sock" CODNS_TIMEOUT_MS RES_OPTIONS LOCALDOMAIN

# stalled SIDE: stop the nameserver, start the lookups of SIDE's names,
# continue it after stop_s seconds; prints how many lookups answered.
stalled() {
	local side=$1 i p lpids= n=0
	printf 'hosts: %s\n' "$side" >"$tmp/nsswitch.conf"
	kill -STOP "$dnsmasq_pid"
	for i in $(seq 1 $nlookups); do
		getent ahostsv4 "$side$i.test" >"$tmp/$side$i.out" 2>&1 &
		lpids="$lpids $!"
	done
	sleep "$stop_s"
	kill -CONT "$dnsmasq_pid"
	for p in $lpids; do
		wait "$p"
	done
	for i in $(seq 1 $nlookups); do
		grep -q "^192\.0\.2\.$i " "$tmp/$side$i.out" && n=$((n + 1))
	done
	echo "$n"
}

dns=$(stalled dns)
echo "hosts: dns   answered $dns of $nlookups"
check "glibc's dns module waits out a ${stop_s} s stop" test "$dns" -eq $nlookups
codns=$(stalled codns)
echo "hosts: codns answered $codns of $nlookups"
check "codns answers every lookup glibc answered" test "$codns" -ge "$dns"

ns_finish
