#!/bin/bash
# SPDX-License-Identifier: MIT
# tests/integration/test_ctl_report.sh: codnsctl status, stats, top, peers
# and metrics, as text and JSON, count exactly the lookups made.
. "$(dirname "$0")/ctl_lib.sh"

# --- drive a known set of lookups -------------------------------------------

ok "A from the nameserver" L A found local www.test.example -4 www.test.example
ok "A again from the cache" L A found cache www.test.example -4 www.test.example
ok "AAAA" L AAAA found local www.test.example -6 www.test.example
# Another entry, whose questions (A and AAAA) were both answered just
# now and kept: its walk asks nobody, a cache hit by source, though the
# lookup store (status' cache hits) had no entry for it.
ok "both families, from the kept responses" L ANY found cache www.test.example www.test.example
KEPT_WALKS=1
ok "PTR" L PTR found local 192.0.2.10 -x 192.0.2.10
ok "PTR again from the cache" L PTR found cache 192.0.2.10 -x 192.0.2.10
ok "NXDOMAIN" L ANY notfound local nx.test.example nx.test.example
ok "NODATA" L A nodata local v6.test.example -4 v6.test.example
ok "A to flush later" L A found local flushme.test.example -4 flushme.test.example
ok "and again from the cache" L A found cache flushme.test.example -4 flushme.test.example

expect_json() {
	local t
	t="{\"n\": $N, \"type\": {"
	for k in "${!E_TYPE[@]}"; do t="$t\"$k\": ${E_TYPE[$k]},"; done
	t="${t%,}}, \"result\": {"
	for k in "${!E_RESULT[@]}"; do t="$t\"$k\": ${E_RESULT[$k]},"; done
	t="${t%,}}, \"source\": {"
	for k in "${!E_SOURCE[@]}"; do t="$t\"$k\": ${E_SOURCE[$k]},"; done
	t="${t%,}}, \"names\": {"
	for k in "${!E_NAME[@]}"; do t="$t\"$k\": ${E_NAME[$k]},"; done
	echo "${t%,}}, \"kept_walks\": $KEPT_WALKS}"
}
EXPECT=$(expect_json)
export EXPECT

# --- status, stats, top as text and JSON -------------------------------------

json_ok() {
	ctl a --json "$1" >"$T_DIR/$1.json" &&
		python3 -m json.tool "$T_DIR/$1.json" >/dev/null
}
for c in status stats top peers; do
	ok "$c --json is valid JSON" json_ok "$c"
done

check_py() {
	python3 - "$@" <<'PY'
import json, os, sys
e = json.loads(os.environ["EXPECT"])
what = sys.argv[1]
d = json.load(open(sys.argv[2]))
def same(a, b, label):
    if a != b:
        print("  %s: %r, wanted %r" % (label, a, b), file=sys.stderr)
        sys.exit(1)
if what == "stats":
    same(d["lookups"], e["n"], "lookups")
    same(d["by_type"], e["type"], "by_type")
    same(d["by_result"], e["result"], "by_result")
    same(d["by_source"], dict({"stale": 0}, **e["source"]), "by_source")
    same(d["latency"]["end_to_end"]["count"], e["n"], "end-to-end count")
    same(d["latency"]["local"]["count"], e["source"]["local"], "local count")
    same(d["latency"]["peer"]["count"], 0, "peer count")
    same(sum(d["local_by_result"].values()), e["source"]["local"],
         "local answers")
    lat = d["latency"]["end_to_end"]
    if not (lat["p50_us"] <= lat["p90_us"] <= lat["p99_us"]
            <= lat["p99.9_us"] <= lat["max_us"]):
        print("  quantiles out of order: %r" % lat, file=sys.stderr)
        sys.exit(1)
elif what == "top":
    same(d["lookups"], e["n"], "lookups")
    same({x["name"]: x["count"] for x in d["names"]}, e["names"], "names")
    same([x["error"] for x in d["names"]], [0] * len(e["names"]), "errors")
    counts = [x["count"] for x in d["names"]]
    same(counts, sorted(counts, reverse=True), "order")
    same(d["types"], e["type"], "types")
    same(len(d["hours"]), 24, "hours")
    same(d["hours"][0]["lookups"] + d["hours"][1]["lookups"], e["n"],
         "lookups this hour")
elif what == "status":
    same(d["lookups"], e["n"], "lookups")
    hits = e["source"]["cache"] - e["kept_walks"]
    same(d["cache"]["hits"], hits, "cache hits")
    same(d["cache"]["misses"], e["n"] - hits, "misses")
    same(d["cache"]["capacity"], int(sys.argv[3]), "capacity")
    same(d["peers_configured"], False, "peers configured")
    same(d["listeners"], [os.environ["LISTEN_a"]], "listeners")
    same(d["upstreams"]["servers"], ["127.0.0.1:" + os.environ["NSPORT"]],
         "upstreams")
    same(d["inflight"], 0, "in flight")
elif what == "peers":
    same(d, {"configured": False, "peers": []}, "peers")
PY
}
export LISTEN_a NSPORT
ok "stats counts exactly the lookups made" check_py stats "$T_DIR/stats.json"
ok "top names, types and this hour" check_py top "$T_DIR/top.json"
ok "status: cache, listeners, upstreams" check_py status \
	"$T_DIR/status.json" 10000
ok "peers: none configured" check_py peers "$T_DIR/peers.json"

ok "status text" text_has status "^uptime " "^listeners +$LISTEN_a\$" \
	"^upstreams +127.0.0.1:$NSPORT\$" "^initial delay +n/a" \
	"^peers +none configured" \
	"^cache +[0-9]+ / 10000 entries, hit rate 30.0 %" \
	"^lookups +$N answered, 0 in flight"
ok "stats text" text_has stats "^lookups $N\$" \
	"^  PTR +${E_TYPE[PTR]}\$" "^  notfound +${E_RESULT[notfound]}\$" \
	"^  cache +${E_SOURCE[cache]}\$" \
	"^  end_to_end +$N( +[0-9.]+ ms){5}\$"
ok "top text" text_has top "^  www.test.example +${E_NAME[www.test.example]} +0\$" \
	"^  192.0.2.10 +2 +0\$"
ok "peers text" text_has peers "^peers: none configured\$"

# --- metrics: a strict Prometheus text format check ---------------------------

prom_check() {
	ctl a metrics >"$T_DIR/metrics.txt" || return 1
	python3 - "$T_DIR/metrics.txt" <<'PY'
import json, math, os, re, sys
e = json.loads(os.environ["EXPECT"])
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
SAMPLE = re.compile(r"^(%s)(\{(%s(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
families, order, samples = {}, [], {}
def fail(msg):
    print("  metrics: " + msg, file=sys.stderr)
    sys.exit(1)
def family_of(name):
    for suf in ("_bucket", "_sum", "_count"):
        base = name[: -len(suf)]
        if name.endswith(suf) and families.get(base, {}).get("type") == "histogram":
            return base
    return name
current = None
for n, line in enumerate(open(sys.argv[1]).read().split("\n"), 1):
    if line == "":
        continue
    if line.startswith("#"):
        m = re.match(r"^# (HELP|TYPE) (%s) (.+)$" % NAME, line)
        if not m:
            fail("line %d: bad comment %r" % (n, line))
        f = families.setdefault(m.group(2), {})
        key = m.group(1).lower()
        if key in f:
            fail("line %d: second %s for %s" % (n, m.group(1), m.group(2)))
        if key == "type":
            if m.group(3) not in ("counter", "gauge", "histogram", "summary", "untyped"):
                fail("line %d: bad type %s" % (n, m.group(3)))
            if m.group(2) in samples:
                fail("line %d: TYPE after samples" % n)
        f[key] = m.group(3)
        continue
    m = SAMPLE.match(line)
    if not m:
        fail("line %d: bad sample %r" % (n, line))
    name, labels, value = m.group(1), m.group(3) or "", m.group(4)
    try:
        v = float(value)
    except ValueError:
        fail("line %d: bad value %r" % (n, value))
    fam = family_of(name)
    if "type" not in families.get(fam, {}):
        fail("line %d: %s has no TYPE" % (n, fam))
    if fam != current:
        if fam in order:
            fail("line %d: family %s is not contiguous" % (n, fam))
        order.append(fam)
        current = fam
    if families[fam]["type"] == "counter":
        if not name.endswith("_total") or v < 0:
            fail("line %d: bad counter %s" % (n, line))
    key = (name, labels)
    if key in samples:
        fail("line %d: duplicate series %s" % (n, line))
    samples[key] = v
# Histograms: cumulative buckets in le order ending at +Inf = _count.
for fam, f in families.items():
    if f.get("type") != "histogram":
        continue
    series = {}
    for (name, labels), v in samples.items():
        if name == fam + "_bucket":
            ls = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            le = ls.pop("le")
            series.setdefault(tuple(sorted(ls.items())), []).append((float(le), v))
    for key, buckets in series.items():
        other = ",".join('%s="%s"' % kv for kv in key)
        buckets.sort()
        if buckets[-1][0] != math.inf:
            fail("%s%s: no +Inf bucket" % (fam, key))
        for a, b in zip(buckets, buckets[1:]):
            if b[1] < a[1]:
                fail("%s%s: buckets decrease" % (fam, key))
        if samples.get((fam + "_count", other)) != buckets[-1][1]:
            fail("%s%s: +Inf != _count" % (fam, key))
        if (fam + "_sum", other) not in samples:
            fail("%s%s: no _sum" % (fam, key))
def get(name, labels=""):
    if (name, labels) not in samples:
        fail("missing %s{%s}" % (name, labels))
    return samples[(name, labels)]
checks = [(get("codns_lookups_total"), e["n"], "lookups_total")]
for t, c in e["type"].items():
    checks.append((get("codns_lookups_by_type_total", 'type="%s"' % t), c, t))
for r, c in e["result"].items():
    checks.append((get("codns_lookups_by_result_total", 'result="%s"' % r), c, r))
for s, c in e["source"].items():
    checks.append((get("codns_lookups_by_source_total", 'source="%s"' % s), c, s))
checks.append((get("codns_lookup_duration_seconds_count", 'path="end_to_end"'), e["n"], "e2e count"))
checks.append((get("codns_lookup_duration_seconds_count", 'path="local"'), e["source"]["local"], "local count"))
checks.append((get("codns_cache_hits_total"), e["source"]["cache"] - e["kept_walks"], "cache hits"))
checks.append((get("codns_cache_capacity"), 10000, "capacity"))
for got, want, what in checks:
    if got != want:
        fail("%s is %r, wanted %r" % (what, got, want))
PY
}
ok "metrics parse as Prometheus text and count the lookups" prom_check

finish
