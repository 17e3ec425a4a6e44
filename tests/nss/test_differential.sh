#!/bin/bash
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

top=${abs_top_builddir:-${BUILDDIR:-$(pwd)}}
src=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
module_dir=$top/.libs
codnsd=$top/codnsd/codnsd
dnsmasq=${DNSMASQ:-/usr/sbin/dnsmasq}
probe=$src/tests/nss/diff_probe.py

if [ -z "${CODNS_IN_NS:-}" ]; then
	for f in "$codnsd" "$dnsmasq" "$module_dir/libnss_codns.so.2" "$probe"; do
		if [ ! -e "$f" ]; then
			echo "test_differential: SKIP: $f missing"
			exit 77
		fi
	done
	if ! command -v getent >/dev/null || ! command -v python3 >/dev/null ||
	    ! unshare -mn true 2>/dev/null; then
		echo "test_differential: SKIP: needs getent, python3, unshare -mn"
		exit 77
	fi
	CODNS_IN_NS=1 exec unshare -mn "$BASH" "$0" "$@"
fi

pass=0
fail=0
pids=
tmp=$(mktemp -d /tmp/nss-diff.XXXXXX)

cleanup() {
	local p
	for p in $pids; do
		kill -CONT "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() {
	local desc=$1
	shift
	if "$@"; then
		pass=$((pass + 1))
		echo "PASS: $desc"
	else
		fail=$((fail + 1))
		echo "FAIL: $desc"
	fi
}

wait_tcp() {
	local i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	echo "test_differential: nothing listens on $1:$2" >&2
	return 1
}

ip link set lo up || exit 99
# getent ahosts* ask with AI_ADDRCONFIG, which ignores loopback addresses.
ip addr add 192.0.2.200/32 dev lo || exit 99
ip addr add 2001:db8::200/128 dev lo nodad || exit 99

printf '127.0.0.1 localhost\n' >"$tmp/hosts"
printf 'hosts: files dns\n' >"$tmp/nsswitch.conf"
: >"$tmp/resolv.conf"
for f in nsswitch.conf hosts resolv.conf; do
	mount --bind "$tmp/$f" "/etc/$f" || exit 99
done
if [ -d /var/run/nscd ]; then
	mkdir "$tmp/nscd" && mount --bind "$tmp/nscd" /var/run/nscd
fi

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

"$dnsmasq" --no-daemon --no-resolv --no-hosts --port=53 \
    --listen-address=127.0.0.1 --bind-interfaces --user=root --pid-file= \
    --log-queries --log-facility=- "${zone[@]}" >"$tmp/dnsmasq.log" 2>&1 &
pids="$pids $!"
wait_tcp 127.0.0.1 53 || exit 99

cat >"$tmp/codnsd.conf" <<EOF
listen 127.0.0.1:7053
control-socket $tmp/control.sock
peers-file $tmp/no-peers
EOF
codnsd_pid=
start_codnsd() {
	if [ -n "$codnsd_pid" ]; then
		kill -TERM "$codnsd_pid"
		wait "$codnsd_pid" 2>/dev/null
	fi
	"$codnsd" -f -c "$tmp/codnsd.conf" >>"$tmp/codnsd.log" 2>&1 &
	codnsd_pid=$!
	pids="$pids $codnsd_pid"
	wait_tcp 127.0.0.1 7053
}

export LD_LIBRARY_PATH="$module_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CODNS_LOOKUP_ADDRESS=127.0.0.1:7053
unset CODNS_TIMEOUT_MS LOCALDOMAIN RES_OPTIONS HOSTALIASES

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

# compare PHASE: probe every name and address under dns, then codns.
compare() {
	local phase=$1 names=$2 addrs=$3 key line want got
	printf 'hosts: files dns\n' >"$tmp/nsswitch.conf"
	{ python3 "$probe" name $names; python3 "$probe" addr $addrs; } \
	    >"$tmp/$phase.dns" 2>&1
	printf 'hosts: files codns\n' >"$tmp/nsswitch.conf"
	{ python3 "$probe" name $names; python3 "$probe" addr $addrs; } \
	    >"$tmp/$phase.codns" 2>&1
	check "$phase: same number of probe lines" \
	    test "$(wc -l <"$tmp/$phase.dns")" = "$(wc -l <"$tmp/$phase.codns")"
	while IFS= read -r line; do
		key=${line%%: *}
		want=${line#*: }
		got=$(grep -F -m1 -- "$key: " "$tmp/$phase.codns")
		got=${got#*: }
		if [ -n "${KNOWN[$key]+x}" ]; then
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
printf 'hosts: files dns\n' >"$tmp/nsswitch.conf"
n_dns=$(getent ahostsv4 huge.test | awk '{print $1}' | sort -u | wc -l)
printf 'hosts: files codns\n' >"$tmp/nsswitch.conf"
n_codns=$(getent ahostsv4 huge.test | awk '{print $1}' | sort -u | wc -l)
check "300 addresses: dns gives $n_dns, codns its cap ($n_codns)" \
    test "$n_dns" = 300 -a "$n_codns" = 255
stats=$("$top/codnsd/codnsctl" -c "$tmp/codnsd.conf" stats 2>&1)
check "the cut answer is counted (answers_truncated)" \
    eval 'printf "%s\n" "$stats" | grep -Eq "answers_truncated[^0-9]*[1-9]"'

echo "$pass passed, $fail failed"
if [ "$fail" -ne 0 ]; then
	tail -n 20 "$tmp/codnsd.log"
fi
[ "$fail" -eq 0 ]
