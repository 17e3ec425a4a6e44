#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/pkg/test_k8s.sh: contrib/kubernetes/codns.yaml parses, its
# codnsd.conf passes "codnsd -t", and every port, path and address the
# manifests repeat is the config's (k8s_check.py). A copy with one value
# changed must fail the check, so the check can see drift. No cluster
# here: nothing is applied anywhere.
. "$(dirname "$0")/../integration/lib.sh"

yaml_file="$srcdir/contrib/kubernetes/codns.yaml"
check="$srcdir/tests/pkg/k8s_check.py"
if ! python3 -c 'import yaml' 2>/dev/null; then
	skip "python3-yaml is not installed"
	finish
	exit
fi

ok "manifests agree with their codnsd.conf" \
	python3 "$check" --conf-out "$T_DIR/codnsd.conf" "$yaml_file"
ok "the ConfigMap's codnsd.conf passes codnsd -t" \
	"$CODNSD" -t -c "$T_DIR/codnsd.conf"
# The same file with a broken peers-dns name is refused: -t reads it.
sed 's/^\( *peers-dns\) _codns/\1 _co;dns/' "$T_DIR/codnsd.conf" \
	>"$T_DIR/bad.conf"
ok "codnsd -t refuses a bad peers-dns name" \
	eval '! "$CODNSD" -t -c "$T_DIR/bad.conf" 2>"$T_DIR/bad.err" &&
	grep -q "peers-dns" "$T_DIR/bad.err"'

# drifted NAME SED: the check must fail on a copy edited by SED.
drifted() {
	sed "$2" "$yaml_file" >"$T_DIR/drift.yaml"
	! cmp -s "$yaml_file" "$T_DIR/drift.yaml" &&
		! python3 "$check" "$T_DIR/drift.yaml" >"$T_DIR/drift.out" &&
		grep -q '^FAIL' "$T_DIR/drift.out"
}
ok "drift: Service port" drifted port 's/^      port: 7053/      port: 7054/'
ok "drift: stub address in the config" drifted stub \
	's/dns-listen 169.254.20.10:53/dns-listen 169.254.20.11:53/'
ok "drift: control socket of the probes" drifted ctl \
	'0,/\/run\/codnsd\/control.sock", "status"/s//\/run\/control.sock", "status"/'
ok "drift: run directory mount" drifted run \
	's/mountPath: \/run\/codnsd/mountPath: \/run\/codns/'
ok "drift: SRV name" drifted srv 's/name: codns-peers/name: codns-nodes/'

# The container's command, run here twice as two pods of a rolling
# upgrade would run it: the second takes the sockets from the first (-R),
# the first's shell stays up (so no kubelet restart would take them back)
# and exits 0 on SIGTERM; the second serves throughout.
python3 -c "
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d['kind'] == 'DaemonSet':
        c = d['spec']['template']['spec']['containers'][0]
        print(c['command'][2])" "$yaml_file" >"$T_DIR/pod.sh"
NSPORT=$(free_port 127.0.0.1)
LPORT=$(free_port 127.0.0.1)
echo "address=/test.example/192.0.2.9" >"$T_DIR/ns.zone"
start_dnsmasq ns 127.0.0.1 "$NSPORT" || exit 1
printf '%s\n' "listen 127.0.0.1:$LPORT" "upstream 127.0.0.1:$NSPORT" \
	"lookup-socket $T_DIR/lookup.sock" \
	"control-socket $T_DIR/control.sock" >"$T_DIR/pod.conf"
sed -e "s|/usr/sbin/codnsd|$CODNSD|" \
	-e "s|/etc/codns/codnsd.conf|$T_DIR/pod.conf|" \
	"$T_DIR/pod.sh" >"$T_DIR/pod1.sh"
lookup_ok() {
	"$CODNSCTL" -c "$T_DIR/pod.conf" lookup "$1" | grep -q 192.0.2.9
}
gone() { # PID: it exits within 10 s
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
codnsd_of() { pgrep -P "$1" -f "$CODNSD"; }
sh "$T_DIR/pod1.sh" >"$T_DIR/pod1.log" 2>&1 &
POD1=$!
T_PIDS="$T_PIDS $POD1"
wait_tcp 127.0.0.1 "$LPORT" || cat "$T_DIR/pod1.log" >&2
ok "the first pod serves" lookup_ok a.test.example
old=$(codnsd_of "$POD1")
sh "$T_DIR/pod1.sh" >"$T_DIR/pod2.log" 2>&1 &
POD2=$!
T_PIDS="$T_PIDS $POD2"
ok "the first pod's codnsd hands over and exits" gone "$old"
ok "the first pod's shell stays up" kill -0 "$POD1"
ok "the second pod serves" lookup_ok b.test.example
ok "the second pod's codnsd is the server" eval 'codnsd_of "$POD2" >/dev/null'
sleeper=$(pgrep -P "$POD1" -x sleep)
kill -TERM "$POD1"
ok "the first pod stops with exit 0 on SIGTERM" wait "$POD1"
ok "and leaves no process behind" eval '[ -n "$sleeper" ] && gone "$sleeper"'

ok "the second pod still serves" lookup_ok c.test.example
new=$(codnsd_of "$POD2")
kill -TERM "$POD2"
ok "SIGTERM reaches the second pod's codnsd" gone "$new"
finish
