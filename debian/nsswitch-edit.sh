# SPDX-License-Identifier: MIT
# debian/nsswitch-edit.sh: add codns to, or take it out of, the hosts: line
# of an nsswitch.conf. POSIX sh functions, no other state.
#
# The libnss-codns maintainer scripts carry a copy of this file: debian/rules
# puts it in place of their "#NSSWITCH_EDIT#" line. They cannot run a file
# of the package instead, because postrm runs after dpkg removed the
# package's files. tests/pkg/test_nsswitch.sh sources this file and runs the
# same functions on copies of real nsswitch.conf files.
#
# nsswitch_edit add FILE
#	On the first hosts: line that does not yet name codns, put
#	"codns [!UNAVAIL=return] " right before the first "dns" entry: after
#	files and after whatever an admin or another package put ahead of dns
#	(myhostname, mdns4_minimal [NOTFOUND=return], resolve [!UNAVAIL=return]).
#	A line with no dns entry is left alone, with a notice: where codns
#	belongs there is the admin's call.
# nsswitch_edit remove FILE
#	Take every codns entry (with its [...] actions) out of that line, and
#	the blanks that came with it, so that add then remove gives back the
#	file byte for byte.
#
# Only the first hosts: line is read or changed; every other line, and the
# rest of that line, stays as it was. A missing FILE is left missing (glibc
# then uses its built-in default). The file is replaced by rename, with the
# mode and owner of the old one; a symbolic link keeps pointing where it did.

# The awk program. It defines no awk functions and has no two opening
# brackets in a row: checkbashisms, which lintian runs on the maintainer
# scripts, would take either for bash.
nsswitch_edit_awk() {
	cat <<'EOF'
# Print every line as it is, but the first hosts: line.
done || !/^[ \t]*hosts[ \t]*:/ {
	print
	next
}
{
	done = 1
	# A "#" starts a comment anywhere on the line (as glibc reads it).
	c = index($0, "#")
	body = c ? substr($0, 1, c - 1) : $0
	tail = c ? substr($0, c) : ""
	colon = index(body, ":")
	head = substr(body, 1, colon)
	svc = substr(body, colon + 1)
}
op == "add" && match(svc, /(^|[ \t])codns([ \t[]|$)/) {
	print
	next
}
op == "add" && !match(svc, /(^|[ \t])dns([ \t[]|$)/) {
	print "nsswitch.conf: no dns entry on the hosts: line; add" \
	    " \"codns [!UNAVAIL=return]\" by hand" > "/dev/stderr"
	print
	next
}
op == "add" {
	pos = RSTART
	if (substr(svc, pos, 1) ~ /[ \t]/)
		pos++
	print head substr(svc, 1, pos - 1) "codns [!UNAVAIL=return] " \
	    substr(svc, pos) tail
	next
}
{
	while (match(svc, /(^|[ \t]+)codns([ \t]*\[([^]])*\])*([ \t]+|$)/)) {
		m = substr(svc, RSTART, RLENGTH)
		post = substr(svc, RSTART + RLENGTH)
		lead = m
		sub(/[^ \t].*$/, "", lead)
		trail = m
		sub(/^.*[^ \t]/, "", trail)
		# Entries follow: keep the blanks before codns. It was last:
		# keep the blanks after it (those before it came with it).
		svc = substr(svc, 1, RSTART - 1) (post != "" ? lead : trail) post
	}
	print head svc tail
}
EOF
}

nsswitch_edit() {
	_ne_op=$1
	_ne_file=$2
	case $_ne_op in
	add | remove) ;;
	*)
		echo "nsswitch_edit: unknown operation $_ne_op" >&2
		return 2
		;;
	esac
	[ -e "$_ne_file" ] || return 0
	_ne_file=$(readlink -f -- "$_ne_file") || return 1
	_ne_tmp="$_ne_file.codns-new"
	# cp -p first, so that the new file has the old mode and owner.
	cp -p -- "$_ne_file" "$_ne_tmp" || return 1
	if ! awk -v op="$_ne_op" "$(nsswitch_edit_awk)" "$_ne_file" \
	    >"$_ne_tmp"; then
		rm -f -- "$_ne_tmp"
		return 1
	fi
	# awk ends every line with a newline; a file that had none at its
	# end gets none.
	if [ -s "$_ne_file" ] && [ -n "$(tail -c 1 -- "$_ne_file")" ]; then
		if ! { head -c -1 -- "$_ne_tmp" >"$_ne_tmp.1" &&
		    cat -- "$_ne_tmp.1" >"$_ne_tmp"; }; then
			rm -f -- "$_ne_tmp" "$_ne_tmp.1"
			return 1
		fi
		rm -f -- "$_ne_tmp.1"
	fi
	if cmp -s -- "$_ne_file" "$_ne_tmp"; then
		rm -f -- "$_ne_tmp"
		return 0
	fi
	mv -f -- "$_ne_tmp" "$_ne_file"
}
