#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/nss/test_ptr_hostile.sh: hostile PTR answers, codns against glibc's
# dns module (issue 20 item 6).
#
# In its own mount and network namespaces, resolv.conf names first unbound
# serving PTR names with shell metacharacters, a dot or a NUL inside a
# label, and a leading dash (local-data), then craftns.py sending PTR
# records owned by another name, names behind a bad compression pointer or
# running past their record. Every address goes through diff_probe.py under
# "hosts: files dns" and "hosts: files codns"; codns must never give a name
# that glibc refuses, and gives the same name where glibc gives one, but
# for the documented difference (nss_codns(8)): a PTR name that runs past
# its record, which glibc reads on into the rest of the message.
set -u

ns_name=test_ptr_hostile
. "$(dirname "$0")/ns_lib.sh"
src=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
probe=$src/tests/nss/diff_probe.py
unbound=${UNBOUND:-/usr/sbin/unbound}

ns_require "$codnsd" "$unbound" "$module_dir/libnss_codns.so.2" "$probe" \
    -- getent python3
ns_enter "$@"
ns_begin nss-ptr
ns_loopback
ns_etc $'hosts: files dns\n' $'127.0.0.1 localhost\n' $'nameserver 127.0.0.1\n'

cat >"$tmp/unbound.conf" <<CONF
server:
	interface: 127.0.0.1
	port: 53
	do-daemonize: no
	use-syslog: no
	logfile: "$tmp/unbound.log"
	username: ""
	chroot: ""
	directory: "$tmp"
	pidfile: ""
	do-ip6: no
CONF
cat "$src/tests/integration/hostile_ptr.unbound" >>"$tmp/unbound.conf"
printf 'remote-control:\n\tcontrol-enable: no\n' >>"$tmp/unbound.conf"
"$unbound" -d -c "$tmp/unbound.conf" >"$tmp/unbound.out" 2>&1 &
pids="$pids $!"
wait_tcp 127.0.0.1 53 || exit 99
python3 "$src/tests/integration/craftns.py" 127.0.0.3 53 "$tmp/craft.log" \
    600 &
pids="$pids $!"

ns_module "$tmp/lookup.sock" CODNS_TIMEOUT_MS LOCALDOMAIN RES_OPTIONS \
    HOSTALIASES

# compare PHASE ADDRESS...: diff_probe.py under dns, then under codns.
codnsd_pid=
compare() {
	local phase=$1 line key want got
	shift
	if [ -n "$codnsd_pid" ]; then
		kill -TERM "$codnsd_pid"
		wait "$codnsd_pid" 2>/dev/null
	fi
	ns_conf "lookup-socket $tmp/lookup.sock"
	ns_codnsd || exit 99
	printf 'hosts: files dns\n' >"$tmp/nsswitch.conf"
	python3 "$probe" addr "$@" >"$tmp/$phase.dns" 2>&1
	printf 'hosts: files codns\n' >"$tmp/nsswitch.conf"
	python3 "$probe" addr "$@" >"$tmp/$phase.codns" 2>&1
	while IFS= read -r line; do
		key=${line%%: *}
		want=${line#*: }
		got=$(grep -F -m1 -- "$key: " "$tmp/$phase.codns")
		got=${got#*: }
		echo "note: $phase: $key: glibc: $want; codns: $got"
		case "$key|$want" in
		*" 192.0.2.3|"*)
			check "$phase: $key: documented: glibc gives good.test, codns none" \
			    eval '! grep -q "\.test" <<<"$got" && grep -q good <<<"$want"' ;;
		*"|"*.test*)
			check "$phase: $key: the name glibc gives" \
			    test "$got" = "$want" ;;
		*)
			check "$phase: $key: no name, as glibc" \
			    eval '! grep -q "\.test" <<<"$got"' ;;
		esac
	done <"$tmp/$phase.dns"
}

compare unbound 192.0.2.7 192.0.2.8 192.0.2.9 192.0.2.10 192.0.2.11 \
    192.0.2.12
printf 'nameserver 127.0.0.3\n' >"$tmp/resolv.conf"
compare crafted 192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.4 192.0.2.5 192.0.2.6
ns_finish "$tmp/codnsd.log"
