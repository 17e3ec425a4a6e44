#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# tests/pkg/k8s_check.py: checks contrib/kubernetes/codns.yaml against the
# codnsd.conf its ConfigMap carries: every address, port and path that
# the manifests repeat must be the config's. Prints one "ok"/"FAIL" line
# per check and exits 1 when any failed. --conf-out FILE writes the
# ConfigMap's codnsd.conf with the placeholders filled, for "codnsd -t".
import ipaddress
import os
import sys

import yaml

SAMPLE = {"__CLUSTER_DNS__": "10.96.0.10", "__IMAGE__": "codns:test"}


def conf_of(text):
    """codnsd.conf as a dict of key -> list of value word lists."""
    keys = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].split()
        if line:
            keys.setdefault(line[0], []).append(line[1:])
    return keys


def host_port(word, default):
    if word.startswith("["):
        host, _, port = word[1:].partition("]")
        port = port.lstrip(":")
    elif word.count(":") == 1:
        host, port = word.split(":")
    else:
        host, port = word, ""
    return host, int(port) if port else default


class Checker:
    def __init__(self):
        self.failed = 0

    def check(self, what, cond, detail=""):
        print("%s: %s%s" % ("ok" if cond else "FAIL", what,
                            "" if cond else " (%s)" % (detail,)))
        if not cond:
            self.failed += 1


def main():
    args = sys.argv[1:]
    conf_out = None
    if args[:1] == ["--conf-out"]:
        conf_out, args = args[1], args[2:]
    with open(args[0]) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    c = Checker()
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind in ("ServiceAccount", "Service", "ConfigMap", "DaemonSet"):
        c.check("one %s" % kind, len(by_kind.get(kind, [])) == 1)
    if c.failed:
        return 1
    svc, cm, ds = (by_kind[k][0] for k in ("Service", "ConfigMap",
                                           "DaemonSet"))
    sa = by_kind["ServiceAccount"][0]
    ns = {d["metadata"].get("namespace") for d in docs}
    c.check("one namespace for all", len(ns) == 1, ns)
    ns = ns.pop()

    text = cm["data"]["codnsd.conf"]
    filled = text
    for k, v in SAMPLE.items():
        filled = filled.replace(k, v)
    if conf_out:
        with open(conf_out, "w") as f:
            f.write(filled)
    conf = conf_of(filled)

    spec = ds["spec"]["template"]["spec"]
    main_c = [x for x in spec["containers"] if x["name"] == "codnsd"]
    c.check("a codnsd container", len(main_c) == 1)
    main_c = main_c[0]
    init = spec.get("initContainers", [])

    # Labels: the DaemonSet's selector, its pods and the Service agree.
    labels = ds["spec"]["template"]["metadata"]["labels"]
    c.check("DaemonSet selector matches its pods",
            all(labels.get(k) == v for k, v in
                ds["spec"]["selector"]["matchLabels"].items()))
    c.check("Service selector matches the pods",
            all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()))
    c.check("pods use the ServiceAccount",
            spec.get("serviceAccountName") == sa["metadata"]["name"])
    c.check("hostNetwork", spec.get("hostNetwork") is True)
    c.check("headless Service", svc["spec"].get("clusterIP") == "None")

    # The stub address: config, init container, ports.
    stub = [host_port(w[0], 53) for w in conf.get("dns-listen", [])]
    c.check("one dns-listen", len(stub) == 1, stub)
    stub_ip, stub_port = stub[0]
    c.check("stub on a link-local address",
            ipaddress.ip_address(stub_ip).is_link_local, stub_ip)
    script = "\n".join(" ".join(x.get("command", []) + x.get("args", []))
                       for x in init)
    c.check("init container adds the stub address",
            "%s/32" % stub_ip in script)
    other_ips = {w for w in script.replace("/", " ").split()
                 if w.count(".") == 3 and w[0].isdigit()}
    c.check("init container names no other address",
            other_ips == {stub_ip}, other_ips)
    c.check("NOTRACK for the stub's port",
            "--dport %d" % stub_port in script and
            "--sport %d" % stub_port in script)
    ports = {(p["name"], p["protocol"]): p for p in main_c["ports"]}
    for proto in ("UDP", "TCP"):
        p = [x for x in main_c["ports"] if x["protocol"] == proto and
             x["containerPort"] == stub_port]
        c.check("container port %d/%s" % (stub_port, proto), len(p) == 1)

    # The peer port: config, Service, container.
    pl = conf.get("peer-listen", [["0.0.0.0"]])[0][0]
    _, peer_port = host_port(pl, 7053)
    sp = svc["spec"]["ports"]
    c.check("one Service port", len(sp) == 1)
    sp = sp[0]
    c.check("Service port is peer-listen's",
            sp["port"] == peer_port and sp.get("targetPort") == peer_port
            and sp["protocol"] == "UDP", (sp, peer_port))
    cp = ports.get((sp["name"], "UDP"))
    c.check("container port %s is peer-listen's" % sp["name"],
            cp is not None and cp["containerPort"] == peer_port and
            cp.get("hostPort", peer_port) == peer_port)
    srv = "_%s._udp.%s.%s.svc.cluster.local" % (sp["name"],
                                                  svc["metadata"]["name"], ns)
    pd = [w[0].rstrip(".") for w in conf.get("peers-dns", [])]
    c.check("peers-dns is the Service's SRV name", pd == [srv], (pd, srv))

    # Paths: the config file, the run directory, the probes.
    # The codnsd command line, also inside a shell script.
    words = " ".join(main_c["command"] + main_c.get("args", [])).split()
    c.check("the container runs /usr/sbin/codnsd",
            "/usr/sbin/codnsd" in words)
    cmd = words[words.index("/usr/sbin/codnsd"):] \
        if "/usr/sbin/codnsd" in words else []
    cfg = cmd[cmd.index("-c") + 1] if "-c" in cmd else ""
    c.check("codnsd replaces a running codnsd (-R) in the foreground",
            "-R" in cmd and "-f" in cmd)
    mounts = {m["name"]: m for m in main_c["volumeMounts"]}
    vols = {v["name"]: v for v in spec["volumes"]}
    cfg_vol = [n for n, v in vols.items() if "configMap" in v]
    c.check("config volume", len(cfg_vol) == 1)
    cv = vols[cfg_vol[0]]
    c.check("config volume is the ConfigMap",
            cv["configMap"]["name"] == cm["metadata"]["name"])
    item = [i["path"] for i in cv["configMap"].get("items", [])
            if i["key"] == "codnsd.conf"]
    c.check("codnsd -c is the mounted codnsd.conf",
            item and cfg == os.path.join(mounts[cfg_vol[0]]["mountPath"],
                                         item[0]), cfg)
    run = [n for n, v in vols.items() if "hostPath" in v]
    c.check("one hostPath volume", len(run) == 1)
    run_dir = mounts[run[0]]["mountPath"]
    c.check("hostPath is mounted at the same path",
            vols[run[0]]["hostPath"]["path"] == run_dir)
    for key in ("control-socket", "lookup-socket"):
        path = conf.get(key, [[""]])[0][0]
        c.check("%s is in the shared run directory" % key,
                os.path.dirname(path) == run_dir, path)
    ctl = conf["control-socket"][0][0]
    for probe in ("readinessProbe", "livenessProbe"):
        pc = main_c[probe]["exec"]["command"]
        c.check("%s asks the control socket" % probe,
                "-s" in pc and pc[pc.index("-s") + 1] == ctl, pc)
    images = {x["image"] for x in spec["containers"] + init}
    c.check("one image", len(images) == 1, images)
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
