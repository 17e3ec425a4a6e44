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
finish
