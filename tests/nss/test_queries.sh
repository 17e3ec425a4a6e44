#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_queries.sh: upstream queries per lookup, pod-like.
#
# Issue 23: a Kubernetes pod's resolv.conf (3 search domains, ndots:5)
# turns one getaddrinfo into up to 8 queries. This counts what the
# nameserver sees for one lookup of an external name (www.example.test)
# and of a cluster name (kubernetes.default) through
#   (a) glibc's dns module straight to the nameserver: the reference,
#       measured here, not written in;
#   (b) glibc's dns module through codnsd's stub, cold and warm;
#   (c) glibc through nss_codns to codnsd, cold and warm;
# and asserts that codnsd costs no more than glibc cold, and nothing warm;
# then that a question is asked once whoever needs it (d), even by two
# lookups in flight at once (f).
# It runs in its own mount and network namespaces (tests/nss/ns_lib.sh):
# glibc only talks to port 53, and /etc/resolv.conf is bind-mounted.
set -u

ns_name=test_queries
. "$(dirname "$0")/ns_lib.sh"

ns_require "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" \
    -- getent dig
ns_enter "$@"
ns_begin codns-queries
ns_loopback v6
search='default.svc.cluster.local svc.cluster.local cluster.local'
pod_resolv() {
	printf 'nameserver %s\nsearch %s\noptions ndots:5\n' "$1" "$search"
}
ns_etc $'hosts: dns\n' $'127.0.0.1 localhost\n' "$(pod_resolv 127.0.0.1)"

# dnsmasq authoritative for both zones, so that every negative answer
# carries its zone's SOA (RFC 2308): dnsmasq's SOA has auth-ttl (60 s)
# for its TTL and MINIMUM, so negative answers may be kept 60 s.
NS=127.0.0.1
"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=53 \
    --listen-address=$NS --bind-dynamic --user=root --pid-file= \
    --auth-server=ns.cluster.local,$NS --auth-zone=cluster.local \
    --auth-zone=example.test --auth-ttl=60 \
    --auth-soa=1,hostmaster.cluster.local,1200,120,604800 \
    --host-record=kubernetes.default.svc.cluster.local,10.96.0.1 \
    --host-record=www.example.test,192.0.2.80 \
    --log-queries --log-facility=- >"$tmp/ns.log" 2>&1 &
ns_pid=$!
pids="$pids $ns_pid"
wait_tcp $NS 53 || exit 99

# queries_for COMMAND...: in $count, how many queries the nameserver
# logged while COMMAND ran. A marker name asked last closes the count once
# its line is in the log (at most 5 s).
marker=0
seen=0
queries_for() {
	local total
	"$@" >/dev/null 2>&1
	marker=$((marker + 1))
	dig +time=2 +tries=1 @$NS "marker$marker.example.test" >/dev/null
	for _ in $(seq 1 100); do
		grep -q "marker$marker\.example\.test" "$tmp/ns.log" && break
		sleep 0.05
	done
	total=$(awk -v m="marker$marker.example.test" '
		/ (query|auth)\[/ { n++ }
		index($0, m) { exit }
		END { print n + 0 }' "$tmp/ns.log")
	count=$((total - seen - 1))
	seen=$total
}

look() {
	getent ahosts "$1"
}

# cold_warm WHO PATH NAME: the queries of a cold and a warm lookup of
# NAME through PATH (look's, as set up now): cold no more than glibc's
# alone, warm none.
cold_warm() {
	queries_for look "$3"
	cold=$count
	queries_for look "$3"
	warm=$count
	echo "$ns_name: $2, $3: cold $cold, warm $warm"
	check "$1, $3 cold: $cold queries, glibc alone ${want[$3]}" \
	    test "$cold" -le "${want[$3]}"
	check "$1, $3 warm: $warm queries" test "$warm" -eq 0
}

declare -A want
# (a) glibc's dns module, straight to the nameserver.
for name in www.example.test kubernetes.default; do
	queries_for look $name
	want[$name]=$count
	echo "$ns_name: glibc dns -> nameserver, $name: ${want[$name]}"
done
check "glibc asks 8 names for www.example.test (issue 23)" \
    test "${want[www.example.test]}" -eq 8
check "glibc asks 4 names for kubernetes.default (issue 23)" \
    test "${want[kubernetes.default]}" -eq 4

# codnsd with the same pod resolv.conf (for its own search walk), its
# stub on 127.0.0.53:53 and its lookup socket for nss_codns.
pod_resolv $NS >"$tmp/pod.resolv.conf"
# negative-ttl is long: the SOA's 60 s must be what limits negatives.
ns_conf "resolv-conf $tmp/pod.resolv.conf" "dns-listen 127.0.0.53:53" \
    "lookup-socket $tmp/lookup.sock" "shared-cache no" "negative-ttl 1h"
ns_codnsd || exit 99

# (b) glibc's dns module through the stub.
pod_resolv 127.0.0.53 >"$tmp/resolv.conf"
for name in www.example.test kubernetes.default; do
	cold_warm stub "glibc dns -> stub" $name
done

# (c) nss_codns, after a flush, so that the stub's answers do not count.
ctl flush >/dev/null || check "codnsctl flush" false
ns_module "$tmp/lookup.sock"
printf 'hosts: codns\n' >"$tmp/nsswitch.conf"
pod_resolv $NS >"$tmp/resolv.conf"
for name in www.example.test kubernetes.default; do
	cold_warm nss_codns "nss_codns -> codnsd" $name
	out=$(look $name)
	check "nss_codns answers $name" has "$out" '^(192\.0\.2\.80|10\.96\.0\.1) '
done

# (d) One question, one query, whoever asks it: once nss_codns has looked
# the name up, a lookup of one family (another request) and glibc through
# the stub (other requests again: absolute names, one family each) find
# every question's response kept, and ask the nameserver nothing.
ctl flush >/dev/null || check "codnsctl flush" false
queries_for look www.example.test
check "nss_codns after a flush: $count queries, glibc alone ${want[www.example.test]}" \
    test "$count" -le "${want[www.example.test]}"
queries_for getent ahostsv4 www.example.test
check "nss_codns, IPv4 only, after either family: $count queries" \
    test "$count" -eq 0
# Another request again (the name as absolute): its walk finds every
# response kept and asks nobody, so it is a cache hit (source cache, as
# the stats count it), not an answer of the nameserver.
queries_for eval 'ctl lookup -4 www.example.test. >"$tmp/kept.out"'
check "lookup of the absolute name after either family: $count queries" \
    test "$count" -eq 0
check "a walk answered from kept responses is a cache hit" \
    grep -Eq '^ *source +cache' "$tmp/kept.out"
printf 'hosts: dns\n' >"$tmp/nsswitch.conf"
pod_resolv 127.0.0.53 >"$tmp/resolv.conf"
queries_for look www.example.test
check "glibc dns -> stub after nss_codns: $count queries" test "$count" -eq 0
kept=$(counter questions_answered_kept)
check "questions answered from kept responses counted (${kept:-none})" \
    test "${kept:-0}" -ge 8

# Negative answers on the lookup path live for the SOA's negative TTL
# (RFC 2308 section 5), not negative-ttl: both a cold one and the cached.
for i in 1 2; do
	out=$(ctl lookup -4 nx.example.test.)
	ttl=$(printf '%s\n' "$out" | awk '$1 == "ttl" { print $2 + 0 }')
	check "lookup path, NXDOMAIN $i: TTL ${ttl:-none} from the SOA (60 s)" \
	    test "${ttl:-9999}" -le 60 -a "${ttl:-0}" -gt 0
	out=$(ctl lookup -6 www.example.test.)
	ttl=$(printf '%s\n' "$out" | awk '$1 == "ttl" { print $2 + 0 }')
	check "lookup path, NODATA $i: TTL ${ttl:-none} from the SOA (60 s)" \
	    test "${ttl:-9999}" -le 60 -a "${ttl:-0}" -gt 0
done

# (f) Two lookups in flight at once share their questions: one of either
# family and one of IPv4 only of a cold name, both made while the
# nameserver is stopped (so that neither finds the other's responses
# kept), cost the queries of the first alone, not 8 + 4.
in_flight_pair() {
	local a b
	kill -STOP "$ns_pid"
	ctl lookup www.example.test >/dev/null 2>&1 &
	a=$!
	ctl lookup -4 www.example.test >/dev/null 2>&1 &
	b=$!
	sleep 0.5
	kill -CONT "$ns_pid"
	wait "$a" "$b"
}
ctl flush >/dev/null || check "codnsctl flush" false
queries_for true # the count starts here
queries_for in_flight_pair
check "two lookups in flight at once: $count queries, glibc alone ${want[www.example.test]}" \
    test "$count" -le "${want[www.example.test]}"
joined=$(counter questions_joined)
check "questions joined in flight counted (${joined:-none})" \
    test "${joined:-0}" -ge 1

# (e) The cache kept across a restart is for the same resolver only: a
# search list changed meanwhile (here ndots) means its answers to relative
# names may be wrong, so the next codnsd does not read it.
printf 'hosts: codns\n' >"$tmp/nsswitch.conf"
queries_for look kubernetes.default
kill -TERM "$codnsd_pid"
wait "$codnsd_pid" 2>/dev/null
printf 'nameserver %s\nsearch %s\noptions ndots:1\n' $NS "$search" \
    >"$tmp/pod.resolv.conf"
ns_codnsd || exit 99
check "a cache file of another resolver is not read" \
    grep -q "written for another resolver" "$tmp/codnsd.log"
queries_for look kubernetes.default
check "kubernetes.default asked again under ndots:1 ($count queries)" \
    test "$count" -gt 0

ns_finish "$tmp/ns.log" "$tmp/codnsd.log"
