# SPDX-License-Identifier: MIT
# tests/nss/diff_scenarios.sh: issue 25's scenarios, sourced by
# test_differential.sh once its own comparison is done (every mode: the
# module with or without the shared table, the nscd socket under either
# hosts line). Each side, dns and codns, makes the same calls:
#   etc-hosts   a Debian hosts file ("::1 localhost ip6-localhost ..."):
#               answers equal, and codnsd never asks its own nscd socket
#               (its getaddrinfo() sorted two addresses and asked nscd for
#               the interface timestamp: a 5 s stall of its loop);
#   split       A only as split.sub.test, AAAA only as split.test: each
#               family's answer is the one of its own search;
#   queries     nameserver queries of one call in a fresh process, on a
#               cold cache and again, for a name that does not exist and
#               one found on the second search domain;
#   dead        the same, every nameserver dead, and the first one dead.
# A count may differ only as documented in codnsd(8) (NSCD PROTOCOL,
# Differences from NSS) and listed in KNOWN_Q. Latencies are printed.

# A nameserver that never answers (127.0.0.2:53): its queries are logged
# as dnsmasq logs them, so one grep counts both.
python3 -u -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.2", 53))
while True:
    d, a = s.recvfrom(4096)
    i, labels = 12, []
    while i < len(d) and d[i]:
        labels.append(d[i + 1:i + 1 + d[i]].decode(errors="replace"))
        i += 1 + d[i]
    t = int.from_bytes(d[i + 1:i + 3], "big")
    print("query[%s] %s from %s" % ({1: "A", 28: "AAAA"}.get(t, t),
                                    ".".join(labels), a[0]))
' >"$tmp/blackhole.log" 2>&1 &
pids="$pids $!"

# queries NAME: queries so far for NAME and NAME with a search domain.
queries() {
	cat "$tmp/dnsmasq.log" "$tmp/blackhole.log" 2>/dev/null |
	    grep -ciE "query\[[A-Z0-9]+\] $1(\.[a-z0-9.]*)? from"
}

# count_calls PHASE "NAME..." "CALL...": each call of each name twice in
# fresh processes ("first" on a flushed cache, then "repeat"), on both
# sides; the query counts go to $tmp/PHASE.{dns,codns}, the latencies to
# $tmp/PHASE.{dns,codns}.time.
count_calls() {
	local phase=$1 names=$2 calls=$3 s n c r b t0 t1
	for s in dns codns; do
		: >"$tmp/$phase.$s"
		: >"$tmp/$phase.$s.time"
		side "$s"
		for n in $names; do
			for c in $calls; do
				ctl flush >/dev/null 2>&1
				for r in first repeat; do
					b=$(queries "$n")
					t0=$(date +%s.%N)
					python3 "$probe" call "$c" "$n" \
					    >>"$tmp/$phase.$s.out" 2>&1
					t1=$(date +%s.%N)
					echo "queries-$r $c $n: $(($(queries "$n") - b))" \
					    >>"$tmp/$phase.$s"
					echo "$r $c $n $t0 $t1" >>"$tmp/$phase.$s.time"
				done
			done
		done
	done
	paste "$tmp/$phase.dns.time" "$tmp/$phase.codns.time" |
	    awk -v p="$phase" '{ printf "NOTE: %s: %s %s %s: dns %.1f s, codns %.1f s\n",
		p, $1, $2, $3, $5 - $4, $10 - $9 }'
}

# count_check PHASE: the codns side asks the nameservers no more than the
# dns side does (less when its cache answers: a repeat, or Python's
# gethostbyname_ex(), which resolves the name twice), but for the
# documented extra queries of the nscd side in KNOWN_Q (key -> count).
count_check() {
	local phase=$1 key want got line
	while IFS= read -r line; do
		key=${line%%: *}
		want=${line#*: }
		got=$(grep -F -m1 -- "$key: " "$tmp/$phase.codns")
		got=${got#*: }
		if [ -n "${KNOWN_Q[$phase $key]+x}" ]; then
			check "$phase: $key: documented (dns: $want; codns: $got)" \
			    test "$got" = "${KNOWN_Q[$phase $key]}"
		else
			check "$phase: $key: $got queries, dns $want" \
			    test "${got:-x}" -le "$want"
		fi
	done <"$tmp/$phase.dns"
}

declare -A KNOWN_Q=()
if [ -n "$nscd_mode" ]; then
	# codnsd(8), NSCD PROTOCOL, "Differences from NSS", all on a cold
	# cache only (the repeats cost what glibc's cost):
	# - GETAI is one question for every family: A and AAAA for each name
	#   of the search walk, where glibc asks the family requested;
	KNOWN_Q["queries queries-first gai-inet-canon nowhere5"]=6
	KNOWN_Q["queries queries-first gai-inet6 nowhere5"]=6
	# - "two" (A only, found on the second search domain): that GETAI,
	#   and AAAA of "two." (the name the walk tries next): a search for
	#   AAAA alone must not end elsewhere;
	KNOWN_Q["queries queries-first gai-inet-canon two"]=5
	KNOWN_Q["queries queries-first gai-inet6 two"]=5
	KNOWN_Q["queries queries-first gai-unspec two"]=5
	# - a failure cannot be answered through nscd: codnsd's resolution,
	#   then NSS's (under "files codns" codnsd's own once more).
	KNOWN_Q["all-dead queries-first gethostbyname dead5.test"]=2
	KNOWN_Q["all-dead queries-first gai-unspec dead5.test"]=4
fi
if [ "$nscd_mode" = dns ]; then
	# - a negative GETHOSTBY* answer is left to NSS, and glibc's dns
	#   module asks again what codnsd just asked.
	KNOWN_Q["queries queries-first gethostbyname nowhere5"]=6
	KNOWN_Q["queries queries-first gai-inet nowhere5"]=6
	KNOWN_Q["first-dead queries-first gethostbyname nowhere5.test"]=4
fi

# --- etc-hosts (issue 25, items 3 and 6) -------------------------------------
# Lines of one name in both families, other spellings, aliases.
cat >"$tmp/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
10.9.0.1	multi.example m1	# a comment
10.9.0.2	Multi.Example m2
fd00:9::1	multi.example m6
::ffff:10.9.0.3	mapped.example
10.9.0.4	v4host.example v4alias
EOF
printf 'nameserver 127.0.0.1\noptions ndots:1\n' >"$tmp/resolv.conf"
start_codnsd || exit 99
compare etc-hosts "localhost ip6-localhost ip6-loopback LocalHost
multi.example m1 m2 m6 mapped.example v4host.example v4alias" \
    "127.0.0.1 ::1 10.9.0.1 10.9.0.2 fd00:9::1 10.9.0.3 ::ffff:10.9.0.4"
if [ -n "$nscd_mode" ]; then
	self=$(counter nscd_self_requests)
	check "etc-hosts: codnsd never asked its own nscd socket (${self:-?})" \
	    test "${self:-x}" = 0
fi
printf '127.0.0.1 localhost\n' >"$tmp/hosts"

# --- split (issue 25, item 2) -------------------------------------------------
printf 'nameserver 127.0.0.1\nsearch sub.test test\noptions ndots:1\n' \
    >"$tmp/resolv.conf"
start_codnsd || exit 99
compare split "split two Split split." ""

# --- queries (issue 25, item 5) ----------------------------------------------
count_calls queries "nowhere5 two" \
    "gethostbyname gai-inet gai-inet-canon gai-inet6 gai-unspec"
count_check queries

# --- dead nameservers (issue 25, item 5) --------------------------------------
printf 'nameserver 127.0.0.2\noptions attempts:1 timeout:1\n' \
    >"$tmp/resolv.conf"
start_codnsd || exit 99
count_calls all-dead "dead5.test" "gethostbyname gai-unspec"
count_check all-dead
printf 'nameserver 127.0.0.2\nnameserver 127.0.0.1\noptions attempts:1 timeout:1\n' \
    >"$tmp/resolv.conf"
start_codnsd || exit 99
count_calls first-dead "nowhere5.test" "gethostbyname gai-unspec"
count_check first-dead
