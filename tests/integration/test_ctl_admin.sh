#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_ctl_admin.sh: codnsctl flush and reload, who may
# use them, and codnsctl's exit statuses.
. "$(dirname "$0")/ctl_lib.sh"

ok "A from the nameserver" L A found local www.test.example -4 www.test.example
ok "A again from the cache" L A found cache www.test.example -4 www.test.example
ok "A to flush later" L A found local flushme.test.example -4 flushme.test.example
ok "and again from the cache" L A found cache flushme.test.example -4 flushme.test.example

# --- flush --------------------------------------------------------------------

flush_name() {
	local before after out
	before=$(queries ns flushme.test.example A)
	out=$(ctl a flush flushme.test.example) || return 1
	grep -qE "^flushed [1-9][0-9]* entries\$" <<<"$out" || {
		echo "  flush said: $out" >&2
		return 1
	}
	L A found local flushme.test.example -4 flushme.test.example || return 1
	after=$(queries ns flushme.test.example A)
	[ "$after" -eq $((before + 1)) ] || {
		echo "  dnsmasq saw $before then $after queries" >&2
		return 1
	}
}
ok "flush NAME: the next lookup goes to the nameserver" flush_name
ok "flush NAME leaves other names cached" L A found cache www.test.example \
	-4 www.test.example
invalid_flush() {
	local rc=0 err
	err=$(ctl a flush bad..name 2>&1) || rc=$?
	[ "$rc" -eq 1 ] && [ "$err" = "codnsctl: invalid name" ]
}
ok "flush of an invalid name is refused (exit 1)" invalid_flush

# --- reload -------------------------------------------------------------------

capacity() {
	"$CODNSCTL" -s "$SOCK" --json status | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["cache"]["capacity"])'
}
reload_ok() {
	echo "cache-size 1234" >>"$T_DIR/a.codnsd.conf"
	ctl a reload >/dev/null && [ "$(capacity)" = 1234 ]
}
reload_bad() {
	local rc=0 err
	echo "no-such-key 1" >>"$T_DIR/a.codnsd.conf"
	err=$("$CODNSCTL" -s "$SOCK" reload 2>&1) || rc=$?
	[ "$rc" -eq 1 ] &&
		grep -q "reload failed: .*a.codnsd.conf:$(wc -l <"$T_DIR/a.codnsd.conf")" <<<"$err" &&
		[ "$(capacity)" = 1234 ]
}
ok "reload picks up a new cache-size" reload_ok
ok "a bad config is refused and the old one kept" reload_bad
write_conf

# --- permissions --------------------------------------------------------------

ok "socket directory is 0755" test "$(stat -c %a "$T_DIR/run")" = 755
ok "socket is 0666" test "$(stat -c %a "$SOCK")" = 666

as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$CODNSCTL" \
		-s "$SOCK" "$@"
}
if [ "$(id -u)" = 0 ] && chmod 711 "$T_DIR" &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		test -x "$CODNSCTL"; then
	refused() {
		local rc=0 err
		err=$(as_nobody "$@" 2>&1 >/dev/null) || rc=$?
		[ "$rc" -eq 1 ] && [ "$err" = "codnsctl: permission denied" ]
	}
	entries() {
		ctl a --json status | python3 -c \
			'import json,sys; print(json.load(sys.stdin)["cache"]["entries"])'
	}
	before=$(entries)
	ok "flush as another user is refused" refused flush
	ok "flush NAME as another user is refused" refused flush www.test.example
	ok "reload as another user is refused" refused reload
	ok "the refused flush flushed nothing" test "$(entries)" = "$before"
	ok "status works for another user" eval 'as_nobody status | grep -q "^lookups "'
	ok "metrics work for another user" eval 'as_nobody metrics | grep -q "^codns_lookups_total "'
else
	skip "uid checks: not root, or nobody cannot reach codnsctl (setpriv)"
fi

ok "an unreachable socket is exit 2" eval \
	'"$CODNSCTL" -s "$T_DIR/nothing.sock" status 2>/dev/null; [ $? -eq 2 ]'
ok "an unknown command is exit 1" eval \
	'"$CODNSCTL" -s "$SOCK" frobnicate 2>/dev/null; [ $? -eq 1 ]'

finish
