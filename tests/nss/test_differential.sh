#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_differential.sh: codns answers what glibc's dns module does.
#
# Runs itself again inside new mount and network namespaces (unshare -mn),
# bind-mounts its own nsswitch.conf, hosts (minimal: "127.0.0.1 localhost"
# only, as in small containers) and resolv.conf over /etc, and starts one
# dnsmasq on 127.0.0.1:53 serving a zone this script writes, and codnsd
# with no "upstream" lines, so both read the same resolv.conf. Every name
# and address then goes through diff_probe.py twice, under
#   hosts: files dns      and      hosts: files codns
# and the two outputs must be identical line by line, except the lines
# listed in KNOWN below, each a documented difference (nss_codns(8),
# DIFFERENCES FROM NSS_DNS) whose codns side must still be what we expect.
set -u

ns_name=test_differential
. "$(dirname "$0")/ns_lib.sh"
src=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
probe=$src/tests/nss/diff_probe.py

ns_require "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" "$probe" \
    -- getent python3
ns_enter "$@"
ns_begin nss-diff
ns_loopback v6
ns_etc $'hosts: files dns\n' $'127.0.0.1 localhost\n' ''

# --- the zone ---------------------------------------------------------------
l63a=$(printf 'a%.0s' $(seq 63))
l63b=$(printf 'b%.0s' $(seq 63))
l63c=$(printf 'c%.0s' $(seq 63))
l56d=$(printf 'd%.0s' $(seq 56))
long="$l63a.$l63b.$l63c.$l56d.test" # 253 characters
zone=(
	--local=/#/
	--host-record=dual.test,192.0.2.10,2001:db8::10
	--host-record=v4only.test,192.0.2.11
	--host-record=v6only.test,2001:db8::11
	--host-record=MixedCase.test,192.0.2.13
	--host-record="$long",192.0.2.14
	--txt-record=txtonly.test,nodata
	--cname=dangle.test,nowhere.test
	--ptr-record=12.2.0.192.in-addr.arpa,first.test
	--ptr-record=12.2.0.192.in-addr.arpa,second.test
	--host-record=short.sub.test,192.0.2.20
	--host-record=x.y.sub.test,192.0.2.21
	--host-record=m.x,192.0.2.22
	--host-record=m.x.sub.test,192.0.2.23
	--host-record=dual.other.test,192.0.2.24
	# issue 25 (diff_scenarios.sh): A only under the first search
	# domain, AAAA only under the second; a name found second, with a
	# TTL as in real zones (the nscd side may then publish it).
	--host-record=split.sub.test,10.0.1.7
	--host-record=split.test,fd00:10::7
	--host-record=two.test,10.0.2.2,60
	--addn-hosts="$tmp/many.hosts"
)
: >"$tmp/many.hosts"
for i in $(seq 1 40); do
	echo "198.51.100.$i many.test" >>"$tmp/many.hosts"
done
for i in $(seq 1 20); do
	echo "2001:db8::1:$i many.test" >>"$tmp/many.hosts"
done
# Over the protocol's 255 addresses: cut and counted (nss_codns(8), LIMITS).
for i in $(seq 0 299); do
	echo "203.0.$((113 + i / 250)).$((1 + i % 250)) huge.test" \
	    >>"$tmp/many.hosts"
done
# CNAME chains of 1 to 10 links: cK-0 -> cK-1 -> ... -> chainK.test.
chains=
for k in $(seq 1 10); do
	zone+=(--host-record="chain$k.test,192.0.2.$((100 + k)),2001:db8::$((100 + k))")
	for j in $(seq 0 $((k - 1))); do
		if [ "$j" -eq $((k - 1)) ]; then
			target=chain$k.test
		else
			target=c$k-$((j + 1)).test
		fi
		zone+=(--cname="c$k-$j.test,$target")
	done
	chains="$chains c$k-0.test"
done

ns_dnsmasq 53 dnsmasq "${zone[@]}" || exit 99

# CODNS_DIFF_NSCD=1 (test_differential_nscd.sh): on the codns side, codnsd
# also serves glibc's nscd protocol (nscd-socket), which glibc asks before
# nsswitch.conf; the socket is moved aside while the dns side runs. /run is
# a private tmpfs here, so /var/run/nscd is this test's own.
# CODNS_DIFF_NSCD=dns (test_differential_nscd_dns.sh): the same, with
# "hosts: files dns" on the codns side too: what NSS gets is glibc's.
# CODNS_DIFF_SHM=no (test_differential_noshm.sh): shared-cache no.
nscd_mode=${CODNS_DIFF_NSCD:-}
codns_line='hosts: files codns'
[ "$nscd_mode" = dns ] && codns_line='hosts: files dns'
mode=module${CODNS_DIFF_SHM:+-shm-$CODNS_DIFF_SHM}
[ -n "$nscd_mode" ] && mode="nscd, $codns_line"
echo "$ns_name: mode: $mode"
conf_lines=("lookup-socket $tmp/lookup.sock")
[ -n "${CODNS_DIFF_SHM:-}" ] && conf_lines+=("shared-cache $CODNS_DIFF_SHM")
if [ -n "$nscd_mode" ]; then
	mount -t tmpfs tmpfs /run && mkdir -p /run/nscd || exit 99
	conf_lines+=("nscd-socket /var/run/nscd/socket")
fi
ns_conf "${conf_lines[@]}"
# nscd_side on|off: whether glibc finds codnsd's nscd socket.
nscd_side() {
	[ -n "$nscd_mode" ] || return 0
	if [ "$1" = on ]; then
		mv /run/nscd/socket.off /run/nscd/socket 2>/dev/null
	else
		mv /run/nscd/socket /run/nscd/socket.off 2>/dev/null
	fi
	return 0
}
codnsd_pid=
start_codnsd() {
	if [ -n "$codnsd_pid" ]; then
		kill -TERM "$codnsd_pid"
		wait "$codnsd_pid" 2>/dev/null
	fi
	ns_codnsd
}

ns_module "$tmp/lookup.sock" CODNS_TIMEOUT_MS LOCALDOMAIN RES_OPTIONS \
    HOSTALIASES

# The documented differences (nss_codns(8), DIFFERENCES FROM NSS_DNS), one
# by one: "probe key" -> what codns answers there instead.
declare -A KNOWN=(
	# A CNAME to a name with no address (dangling): glibc's hostent calls
	# say NO_RECOVERY, an unrecoverable server failure, and getaddrinfo
	# EAI_NONAME, no such name; codns says NO_DATA / EAI_NODATA, the name
	# exists and has no address, as for any other name without one.
	["getaddrinfo-unspec dangle.test"]="error EAI_NODATA"
	["getaddrinfo-inet dangle.test"]="error EAI_NODATA"
	["getaddrinfo-inet6 dangle.test"]="error EAI_NODATA"
	["gethostbyname2-inet dangle.test"]="h_errno 4"
	["gethostbyname2-inet6 dangle.test"]="h_errno 4"
	# A v4-mapped address: glibc's dns module answers an AF_INET hostent
	# to an AF_INET6 question (Python then refuses it: EAFNOSUPPORT);
	# codns keeps the family and the address that were asked.
	["getent-hosts ::ffff:192.0.2.10"]="rc=0 ::ffff:192.0.2.10 dual.test"
	["gethostbyaddr ::ffff:192.0.2.10"]="dual.test aliases= addrs=::ffff:192.0.2.10"
)

# side dns|codns: the configuration glibc finds for that side.
side() {
	if [ "$1" = dns ]; then
		printf 'hosts: files dns\n' >"$tmp/nsswitch.conf"
		nscd_side off
	else
		printf '%s\n' "$codns_line" >"$tmp/nsswitch.conf"
		nscd_side on
	fi
}

# compare PHASE: probe every name and address under dns, then codns.
compare() {
	local phase=$1 names=$2 addrs=$3 n
	side dns
	{ python3 "$probe" name $names; python3 "$probe" addr $addrs; } \
	    >"$tmp/$phase.dns" 2>&1
	side codns
	if [ -n "$nscd_mode" ]; then
		# One process per name: after a lookup glibc leaves to NSS it
		# skips nscd for its next 100, and the probes would test NSS.
		for n in $names; do
			python3 "$probe" name "$n"
		done >"$tmp/$phase.codns" 2>&1
		for n in $addrs; do
			python3 "$probe" addr "$n"
		done >>"$tmp/$phase.codns" 2>&1
	else
		{ python3 "$probe" name $names; python3 "$probe" addr $addrs; } \
		    >"$tmp/$phase.codns" 2>&1
	fi
	compare_check "$phase"
}

# compare_check PHASE: $tmp/PHASE.codns against $tmp/PHASE.dns, line by
# line, but for the documented differences (KNOWN).
compare_check() {
	local phase=$1 key line want got
	check "$phase: same number of probe lines" \
	    test "$(wc -l <"$tmp/$phase.dns")" = "$(wc -l <"$tmp/$phase.codns")"
	while IFS= read -r line; do
		key=${line%%: *}
		want=${line#*: }
		got=$(grep -F -m1 -- "$key: " "$tmp/$phase.codns")
		got=${got#*: }
		# glibc's nscd client: a getaddrinfo() whose family the name
		# lacks finds no address in the GETAI answer and says
		# EAI_NONAME, where NSS says EAI_NODATA (codnsd(8), NSCD
		# PROTOCOL). The one difference the nscd side adds.
		if [ -n "$nscd_mode" ] && [ "$want" = "error EAI_NODATA" ] &&
		    [ "$got" != "$want" ] && [[ $key == getaddrinfo-inet* ]]; then
			check "$phase: $key: nscd's EAI_NONAME for a missing family" \
			    test "$got" = "error EAI_NONAME"
			continue
		fi
		# Under "hosts: files dns" only the nscd side is codnsd's:
		# the module's differences are not there to find.
		if [ -n "${KNOWN[$key]+x}" ] &&
		    ! { [ "$nscd_mode" = dns ] && [ "$want" = "$got" ]; }; then
			if [ "$want" = "$got" ]; then
				echo "NOTE: $key: no longer differs ($got)"
			fi
			check "$phase: $key: documented difference (dns: $want; codns: $got)" \
			    test "$got" = "${KNOWN[$key]}"
			continue
		fi
		if [ "$want" = "$got" ]; then
			pass=$((pass + 1))
		else
			fail=$((fail + 1))
			echo "FAIL: $phase: $key"
			echo "    dns:   $want"
			echo "    codns: $got"
		fi
	done <"$tmp/$phase.dns"
	echo "$phase: $(wc -l <"$tmp/$phase.dns") probes compared"
}

names="dual.test v4only.test v6only.test many.test txtonly.test nx.test
dangle.test MixedCase.test mixedcase.test MIXEDCASE.TEST dual.test.
$long $long. localhost $chains"
addrs="192.0.2.10 2001:db8::10 192.0.2.12 192.0.2.14 192.0.2.99 2001:db8::99
::ffff:192.0.2.10 2001:db8::1:7"
search_names="short x.y m.x short. dual Short"

printf 'nameserver 127.0.0.1\noptions ndots:1\n' >"$tmp/resolv.conf"
start_codnsd || exit 99
compare plain "$names" "$addrs"

printf 'nameserver 127.0.0.1\nsearch sub.test other.test\noptions ndots:1\n' \
    >"$tmp/resolv.conf"
start_codnsd || exit 99
compare ndots1 "$search_names" ""

printf 'nameserver 127.0.0.1\nsearch sub.test other.test\noptions ndots:2\n' \
    >"$tmp/resolv.conf"
start_codnsd || exit 99
compare ndots2 "$search_names" ""

# The one cap left: more than 255 addresses are cut, and counted.
side dns
n_dns=$(getent ahostsv4 huge.test | awk '{print $1}' | sort -u | wc -l)
side codns
n_codns=$(getent ahostsv4 huge.test | awk '{print $1}' | sort -u | wc -l)
check "300 addresses: dns gives $n_dns, codns its cap ($n_codns)" \
    test "$n_dns" = 300 -a "$n_codns" = 255
stats=$("$top/codnsctl/codnsctl" -c "$tmp/codnsd.conf" stats 2>&1)
check "the cut answer is counted (answers_truncated)" \
    eval 'printf "%s\n" "$stats" | grep -Eq "answers_truncated[^0-9]*[1-9]"'

if [ -n "$nscd_mode" ]; then
	stats=$("$top/codnsctl/codnsctl" -c "$tmp/codnsd.conf" stats 2>&1)
	nreq=$(awk '$1 == "nscd_requests" { print $2 }' <<<"$stats")
	check "the codns side went through the nscd protocol ($nreq requests)" \
	    test "${nreq:-0}" -ge 20
fi

. "$ns_src/diff_scenarios.sh"
ns_finish "$tmp/codnsd.log"
