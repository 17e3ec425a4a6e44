# SPDX-License-Identifier: MIT
# tests/integration/ctl_lib.sh: what the test_ctl_*.sh scripts share: a
# dnsmasq with a small zone, codnsd "a" with its control socket in
# $T_DIR/run, and L, which makes one lookup and tallies what the daemon
# should then report.
. "$(dirname "$0")/lib.sh"

NSPORT=$(free_port)
LPORT=$(free_port)
LISTEN_a=127.0.0.1:$LPORT
SOCK=$T_DIR/run/a.sock

cat >"$T_DIR/ns.zone" <<EOF
host-record=ping.test.example,192.0.2.1
host-record=www.test.example,192.0.2.10,2001:db8::10
host-record=v6.test.example,2001:db8::11
host-record=flushme.test.example,192.0.2.20
EOF
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1

write_conf() {
	cat >"$T_DIR/a.codnsd.conf" <<EOF
listen $LISTEN_a
upstream 127.0.0.1:$NSPORT
control-socket $SOCK
peers-file $T_DIR/no-peers
EOF
}
write_conf
start_codnsd a || exit 1

declare -A E_TYPE=([A]=0 [AAAA]=0 [ANY]=0 [PTR]=0)
declare -A E_RESULT=([found]=0 [notfound]=0 [nodata]=0 [tryagain]=0 [unavail]=0)
declare -A E_SOURCE=([none]=0 [cache]=0 [local]=0 [peer]=0)
declare -A E_NAME=()
N=0

# L TYPE RESULT SOURCE NAME LOOKUP-ARGS...: one lookup through codnsctl,
# which must come back with RESULT from SOURCE; tallies what the daemon
# should then report.
L() {
	local type=$1 result=$2 source=$3 name=$4 out want
	shift 4
	out=$(ctl a lookup "$@" 2>&1)
	case $result in
	found) want=": found" ;;
	notfound) want=": not found" ;;
	nodata) want=": no data" ;;
	esac
	if ! grep -q -- "$want\$" <<<"$out" ||
		! grep -q -- "source   $source\$" <<<"$out"; then
		echo "  lookup $*: wanted $result from $source, got:" >&2
		sed 's/^/    /' <<<"$out" >&2
		return 1
	fi
	E_TYPE[$type]=$((E_TYPE[$type] + 1))
	E_RESULT[$result]=$((E_RESULT[$result] + 1))
	E_SOURCE[$source]=$((E_SOURCE[$source] + 1))
	E_NAME[$name]=$((${E_NAME[$name]:-0} + 1))
	N=$((N + 1))
}

text_has() {
	local out
	out=$(ctl a "$1" 2>&1)
	shift
	for p in "$@"; do
		grep -qE -- "$p" <<<"$out" || {
			echo "  missing /$p/ in:" >&2
			sed 's/^/    /' <<<"$out" >&2
			return 1
		}
	done
}
