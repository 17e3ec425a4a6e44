#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/pkg/test_nsswitch.sh: the nsswitch.conf editing of the libnss-codns
# maintainer scripts (debian/nsswitch-edit.sh), on copies of real-world
# files in tests/pkg/nsswitch/. For each FILE.conf: "add" gives exactly
# FILE.conf.added, a second "add" changes nothing, and "remove" gives back
# FILE.conf byte for byte (FILE.conf.removed where the original already
# named codns). Only temporary files are edited, never /etc/nsswitch.conf.
. "$(dirname "$0")/../integration/lib.sh"

edit_sh="$srcdir/debian/nsswitch-edit.sh"
fixtures="$srcdir/tests/pkg/nsswitch"
if [ ! -f "$edit_sh" ]; then
	# The release tarball carries no debian/ directory.
	echo "SKIP: no debian/nsswitch-edit.sh in $srcdir"
	exit 77
fi

# edit OP FILE: run the function the maintainer scripts run.
edit() {
	sh -c '. "$1"; nsswitch_edit "$2" "$3"' sh "$edit_sh" "$1" "$2" \
		2>>"$T_DIR/stderr"
}

# same A B: byte-for-byte equal, with a diff on failure.
same() {
	cmp -s "$1" "$2" && return 0
	diff -u "$1" "$2" | head -n 20
	return 1
}

# count_codns FILE: codns entries on the first hosts: line.
count_codns() {
	grep -m1 -E '^[[:space:]]*hosts[[:space:]]*:' "$1" | sed 's/#.*//' |
		grep -o -E '(^|[[:space:]])codns([[:space:][]|$)' | wc -l
}

for orig in "$fixtures"/*.conf; do
	name=$(basename "$orig" .conf)
	f="$T_DIR/$name.conf"
	cp "$orig" "$f"
	ok "$name: add gives $name.conf.added" \
		eval 'edit add "$f" && same "$orig.added" "$f"'
	if grep -q -E '^[[:space:]]*hosts[[:space:]]*:[^#]*[[:space:]]dns' \
		"$orig"; then
		ok "$name: exactly one codns entry after add" \
			test "$(count_codns "$f")" -eq 1
	fi
	cp "$f" "$T_DIR/once"
	ok "$name: a second add changes nothing" \
		eval 'edit add "$f" && same "$T_DIR/once" "$f"'
	want=$orig
	[ -f "$orig.removed" ] && want=$orig.removed
	ok "$name: remove gives back $(basename "$want")" \
		eval 'edit remove "$f" && same "$want" "$f"'
	ok "$name: a second remove changes nothing" \
		eval 'edit remove "$f" && same "$want" "$f"'
	ok "$name: no temporary file left" \
		test -z "$(find "$T_DIR" -name '*.codns-new*')"
done

# Every line but the first hosts: line stays, even those that name dns.
cp "$fixtures/odd.conf" "$T_DIR/odd2"
edit add "$T_DIR/odd2"
ok "add changes one line, the first hosts: line" eval '
	[ "$(diff "$fixtures/odd.conf" "$T_DIR/odd2" | grep -c "^[<>]")" = 2 ] &&
	diff "$fixtures/odd.conf" "$T_DIR/odd2" | grep -q "^>   hosts :"'

ok "no dns entry: the line is left alone, with a notice" \
	grep -q 'no dns entry' "$T_DIR/stderr"

# A symbolic link stays a link and its target is edited; mode is kept.
mkdir "$T_DIR/etc"
cp "$fixtures/debian-default.conf" "$T_DIR/etc/real.conf"
chmod 0640 "$T_DIR/etc/real.conf"
ln -s real.conf "$T_DIR/etc/nsswitch.conf"
edit add "$T_DIR/etc/nsswitch.conf"
ok "a symbolic link stays a link" test -L "$T_DIR/etc/nsswitch.conf"
ok "its target gets the entry" \
	same "$fixtures/debian-default.conf.added" "$T_DIR/etc/real.conf"
ok "the mode is kept" \
	test "$(stat -c %a "$T_DIR/etc/real.conf")" = 640

ok "a missing file stays missing" eval '
	edit add "$T_DIR/none.conf" && edit remove "$T_DIR/none.conf" &&
	[ ! -e "$T_DIR/none.conf" ]'
ok "an unknown operation is refused" eval '! edit frobnicate "$f"'

finish
