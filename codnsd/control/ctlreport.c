/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlreport.c: codnsctl status, peers and metrics. */
#include "ctlreport.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "peernet.h"
#include "peersdns.h"
#include "report.h"
#include "stats.h"

/* The figures of a request, asked once: they stay as they are while the
 * report is written (the loop does not run). */
static void
figures(const struct ctl_env *env, struct ctl_figures *f)
{
	memset(f, 0, sizeof(*f));
	f->ns_last_ago_s = -1;
	env->figures(env->ctx, f);
	if (f->listeners == NULL)
		f->listeners = "";
	if (f->ns_servers == NULL)
		f->ns_servers = "";
	if (f->nscd_socket == NULL)
		f->nscd_socket = "";
}

/* --- status --- */

static double
hit_rate(const struct ctl_figures *f)
{
	uint64_t n = f->cache_hits + f->cache_misses;

	return n ? 100.0 * (double)f->cache_hits / (double)n : 0.0;
}

static void
put_uptime(struct report *r, double secs)
{
	unsigned long s = secs > 0 ? (unsigned long)secs : 0;

	report_real(r, "uptime_s", "%.0f", NULL, secs);
	report_text(r, "%-14s ", "uptime");
	if (s >= 86400)
		report_text(r, "%lud ", s / 86400);
	report_text(r, "%02lu:%02lu:%02lu\n", s / 3600 % 24, s / 60 % 60,
	    s % 60);
}

static void
status_upstreams(struct report *r, const struct ctl_figures *f)
{
	report_open(r, "upstreams");
	report_text(r, "%-14s ", "upstreams");
	report_csv(r, "servers", "%s\n", f->ns_servers, "(none)");
	report_text(r, "%-14s ", "  health");
	report_uint(r, "mean_ms", "mean %llu ms", f->ns_mean_ms);
	report_uint(r, "fail_permille", NULL, f->ns_fail_permille);
	report_text(r, ", failing %.1f %%", f->ns_fail_permille / 10.0);
	report_uint(r, "queries", ", %llu queries",
	    (unsigned long long)f->ns_queries);
	report_uint(r, "failures", ", %llu failed",
	    (unsigned long long)f->ns_failures);
	if (f->ns_last_ago_s >= 0)
		report_real(r, "last_ago_s", "%.3f", ", last %.1f s ago\n",
		    f->ns_last_ago_s);
	else
		report_null(r, "last_ago_s", ", none yet\n");
	report_close(r);
}

/* The neighbour set against our nameserver set (issue 15): peers behind
 * the same nameserver fail with it. */
static void
status_membership(struct report *r, const struct ctl_env *env)
{
	struct peernet_nbr nb;
	char nsid[17];
	int all_shared;

	memset(&nb, 0, sizeof(nb));
	env->neighbours(env->ctx, &nb);
	all_shared = nb.neighbours > 0 && nb.shared == nb.neighbours;
	snprintf(nsid, sizeof(nsid), "%016llx",
	    (unsigned long long)nb.self_nsid);
	report_open(r, "membership");
	report_text(r, "%-14s ", "neighbours");
	report_str(r, "mode", NULL, nb.mode);
	report_str(r, "ns_set_id", NULL, nsid);
	report_uint(r, "neighbours", "%llu", nb.neighbours);
	report_text(r, " (%s), ", nb.mode);
	report_uint(r, "neighbours_sharing_ns_set",
	    "%llu on our nameserver set", nb.shared);
	report_text(r, " %08llx", (unsigned long long)(nb.self_nsid >> 32));
	report_bool(r, "all_neighbours_share_ns_set", all_shared,
	    !all_shared ? "\n" : nb.other_sets == 0 ?
	    ": all share ours, no live peer has another\n" :
	    ": all share ours\n");
	report_uint(r, "live_peers_other_ns_set", NULL, nb.other_sets);
	report_text(r, "%-14s ", "heartbeats");
	report_uint(r, "tracked", "%llu tracked, ", nb.tracked);
	report_uint(r, "swept", "%llu swept", nb.swept);
	report_real(r, "sweep_period_s", "%.1f", " every %.0f s\n",
	    nb.sweep_period_ms / 1000.0);
	if (nb.full_after_s < 0)
		report_null(r, "full_set_after_s", NULL);
	else
		report_real(r, "full_set_after_s", "%.3f", NULL,
		    nb.full_after_s);
	report_close(r);
}

/* Each peers-dns name: its last good list, when, and its last error. */
static void
status_peers_dns(struct report *r, const struct ctl_env *env)
{
	struct peersdns_info info[CONF_PEERS_DNS_MAX];
	size_t i, n = env->peers_dns(env->ctx, info, CONF_PEERS_DNS_MAX);

	report_open_list(r, "peers_dns");
	for (i = 0; i < n; i++) {
		report_open(r, NULL);
		report_text(r, "%-14s ", "peers-dns");
		report_str(r, "name", "%s", info[i].name);
		report_str(r, "kind", " (%s): ", info[i].srv ? "SRV" :
		    "A/AAAA");
		report_uint(r, "peers", "%llu peers", info[i].count);
		if (info[i].last_refresh_ago_s < 0)
			report_null(r, "last_refresh_ago_s",
			    ", never resolved");
		else
			report_real(r, "last_refresh_ago_s", "%.3f",
			    ", resolved %.1f s ago",
			    info[i].last_refresh_ago_s);
		report_real(r, "next_refresh_in_s", "%.3f", ", next in %.1f s",
		    info[i].next_refresh_in_s);
		report_uint(r, "refreshes", NULL, info[i].refreshes);
		report_uint(r, "failures", NULL, info[i].failures);
		report_uint(r, "malformed", NULL, info[i].malformed);
		report_uint(r, "cut", NULL, info[i].cut);
		if (info[i].last_error[0] == '\0')
			report_null(r, "last_error", "\n");
		else
			report_str(r, "last_error", "; last error: %s "
			    "(keeping the last good list)\n",
			    info[i].last_error);
		report_close(r);
	}
	report_close_list(r);
}

static void
status_race(struct report *r, const struct ctl_env *env,
    const struct ctl_figures *f)
{
	if (!f->peers_on) {
		report_bool(r, "peers_configured", 0, NULL);
		report_text(r, "%-14s ", "initial delay");
		report_null(r, "initial_delay_ms", "n/a\n");
		report_null(r, "initial_delay_reason", NULL);
		report_text(r, "%-14s ", "peers");
		report_null(r, "windows", "none configured\n");
		return;
	}
	report_bool(r, "peers_configured", 1, NULL);
	report_text(r, "%-14s ", "initial delay");
	report_uint(r, "initial_delay_ms", "%llu ms", f->delay_ms);
	report_str(r, "initial_delay_reason", " (%s)\n",
	    f->delay_reason ? f->delay_reason : "");
	report_open(r, "windows");
	report_text(r, "%-14s ", "wins");
	report_open(r, "last16");
	report_uint(r, "local", "last 16: local %llu", f->wins[0]);
	report_uint(r, "peer", ", peer %llu; ", f->wins[1]);
	report_close(r);
	report_open(r, "last32");
	report_uint(r, "local", "last 32: local %llu", f->wins[2]);
	report_uint(r, "peer", ", peer %llu\n", f->wins[3]);
	report_close(r);
	report_close(r);
	status_membership(r, env);
	status_peers_dns(r, env);
}

/* The nscd protocol's table (codnsd.8, NSCD PROTOCOL), when served. */
static void
status_nscd(struct report *r, const struct ctl_figures *f)
{
	if (!f->nscd_on)
		return;
	report_open(r, "nscd");
	report_text(r, "%-14s ", "nscd");
	report_str(r, "socket", "%s, ", f->nscd_socket);
	report_uint(r, "clients", "%llu clients, ",
	    (unsigned long long)f->nscd_clients);
	report_uint(r, "entries", "table %llu entries", f->nscd_entries);
	report_uint(r, "bytes", " in %llu bytes", f->nscd_bytes);
	report_uint(r, "published", ", %llu published", f->nscd_published);
	report_uint(r, "rebuilt", ", %llu rebuilt\n", f->nscd_rebuilt);
	report_close(r);
}

void
ctlreport_status(const struct ctl_env *env, size_t clients,
    struct report_buf *b, int json)
{
	struct ctl_figures f;
	struct report r;

	figures(env, &f);
	report_init(&r, b, json);
	report_open(&r, NULL);
	report_text(&r, "%-14s ", "version");
	report_str(&r, "version", "codnsd %s", PACKAGE_VERSION);
	report_uint(&r, "pid", ", pid %llu\n", (unsigned long long)getpid());
	put_uptime(&r, f.uptime_s);
	report_text(&r, "%-14s ", "listeners");
	report_csv(&r, "listeners", "%s\n", f.listeners, "");
	status_upstreams(&r, &f);
	status_race(&r, env, &f);
	report_open(&r, "cache");
	report_text(&r, "%-14s ", "cache");
	report_uint(&r, "entries", "%llu", f.cache_entries);
	report_uint(&r, "capacity", " / %llu entries", f.cache_capacity);
	report_uint(&r, "hits", NULL, (unsigned long long)f.cache_hits);
	report_uint(&r, "misses", NULL, (unsigned long long)f.cache_misses);
	report_uint(&r, "evictions", NULL,
	    (unsigned long long)f.cache_evictions);
	report_real(&r, "hit_rate_percent", "%.1f", ", hit rate %.1f %% ",
	    hit_rate(&f));
	report_text(&r, "(%llu hits, %llu misses)\n",
	    (unsigned long long)f.cache_hits,
	    (unsigned long long)f.cache_misses);
	report_text(&r, "%-14s ", "");
	report_uint(&r, "responses_kept", "%llu responses kept by question\n",
	    (unsigned long long)f.responses_kept);
	report_close(&r);
	report_text(&r, "%-14s ", "lookups");
	report_uint(&r, "lookups", "%llu answered",
	    (unsigned long long)stats_lookups(env->stats));
	report_uint(&r, "inflight", ", %llu in flight\n", f.inflight);
	report_open(&r, "clients");
	report_text(&r, "%-14s ", "clients");
	report_uint(&r, "lookup", "%llu lookup", f.lookup_clients);
	report_uint(&r, "control", ", %llu control\n", clients);
	report_close(&r);
	status_nscd(&r, &f);
	report_close(&r);
}

/* --- peers --- */

static void
peer_row(struct report *r, const struct peernet_row *p, uint64_t self_nsid)
{
	char nsid[17];

	report_open(r, NULL);
	report_str(r, "address", "%-28s", p->addr);
	report_str(r, "state", " %-10s", p->state ? p->state : "?");
	report_uint(r, "rtt_ms", " %6llu ms", p->rtt_ms);
	report_uint(r, "ns_ms", " %6llu ms", p->ns_ms);
	report_uint(r, "ns_fail_permille", NULL, p->ns_fail_permille);
	report_text(r, " %6.1f %% ", p->ns_fail_permille / 10.0);
	snprintf(nsid, sizeof(nsid), "%016llx",
	    (unsigned long long)p->ns_set_id);
	report_str(r, "ns_set_id", NULL, nsid);
	report_bool(r, "ns_set_shared",
	    p->ns_set_id != 0 && p->ns_set_id == self_nsid, NULL);
	report_bool(r, "tracked", p->tracked, NULL);
	report_uint(r, "query_misses", NULL, p->query_misses);
	/* The first 8 hex digits name the set; '=' marks ours. */
	if (p->ns_set_id == 0)
		report_text(r, "%-9s ", "-");
	else
		report_text(r, "%08llx%c ",
		    (unsigned long long)(p->ns_set_id >> 32),
		    p->ns_set_id == self_nsid ? '=' : ' ');
	if (p->last_heartbeat_ago_s < 0)
		report_null(r, "last_heartbeat_ago_s", "     never");
	else
		report_real(r, "last_heartbeat_ago_s", "%.3f", "%8.1f s",
		    p->last_heartbeat_ago_s);
	report_uint(r, "sent", " %8llu", (unsigned long long)p->sent);
	report_uint(r, "won", " %8llu", (unsigned long long)p->won);
	report_uint(r, "failed", " %8llu ", (unsigned long long)p->failed);
	if (p->rank < 0)
		report_null(r, "rank", "    -");
	else
		report_uint(r, "rank", "%5llu", (unsigned long long)p->rank);
	report_str(r, "source", " %s\n", p->source);
	report_close(r);
}

void
ctlreport_peers(const struct ctl_env *env, struct report_buf *b, int json)
{
	struct peernet_row *rows = NULL;
	struct ctl_figures f;
	struct report r;
	size_t i, n = 0;

	figures(env, &f);
	report_init(&r, b, json);
	report_open(&r, NULL);
	if (!f.peers_on) {
		report_bool(&r, "configured", 0, "peers: none configured\n");
		report_open_list(&r, "peers");
		report_close_list(&r);
		report_close(&r);
		return;
	}
	if ((rows = calloc(CONF_PEERS_MAX, sizeof(*rows))) == NULL) {
		b->err = 1;
		return;
	}
	n = env->peer_rows(env->ctx, rows, CONF_PEERS_MAX);
	report_bool(&r, "configured", 1, NULL);
	report_text(&r,
	    "%-28s %-10s %9s %9s %8s %-9s %10s %8s %8s %8s %5s %s\n",
	    "ADDRESS", "STATE", "RTT", "NS-TIME", "NS-FAIL", "NS-SET",
	    "HEARTBEAT", "SENT", "WON", "FAILED", "RANK", "SOURCE");
	report_open_list(&r, "peers");
	for (i = 0; i < n; i++) {
		rows[i].addr[sizeof(rows[i].addr) - 1] = '\0';
		peer_row(&r, &rows[i], f.ns_set_id);
	}
	report_close_list(&r);
	report_close(&r);
	free(rows);
}

/* --- metrics --- */

static void
gauge(struct report_buf *b, const char *name, const char *type,
    const char *help, double v)
{
	stats_metric_head(b, name, type, help);
	if (v == (double)(uint64_t)v)
		report_printf(b, "codns_%s %llu\n", name,
		    (unsigned long long)v);
	else
		report_printf(b, "codns_%s %.6f\n", name, v);
}

/* Per peers-dns name, labelled by it (a name has no quote or backslash:
 * conf.c allows letters, digits, '-', '_' and dots only). */
static void
metrics_peers_dns(struct report_buf *b, const struct ctl_env *env)
{
	struct peersdns_info in[CONF_PEERS_DNS_MAX];
	size_t i, n = env->peers_dns(env->ctx, in, CONF_PEERS_DNS_MAX);
	const struct {
		const char *name, *type, *help;
		size_t off; /* of a uint64_t in peersdns_info, or -1 */
	} m[] = {
		{ "peers_dns_peers", "gauge",
		    "Peers in the name's last good list.", (size_t)-1 },
		{ "peers_dns_refreshes_total", "counter",
		    "Resolutions of the name.",
		    offsetof(struct peersdns_info, refreshes) },
		{ "peers_dns_failures_total", "counter",
		    "Resolutions that failed or came back empty (the last "
		    "good list was kept).",
		    offsetof(struct peersdns_info, failures) },
		{ "peers_dns_malformed_total", "counter",
		    "Records that could not be used.",
		    offsetof(struct peersdns_info, malformed) },
		{ "peers_dns_cut_total", "counter",
		    "Addresses left out beyond 4096 peers.",
		    offsetof(struct peersdns_info, cut) },
	};
	size_t k;

	if (n == 0)
		return;
	for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		stats_metric_head(b, m[k].name, m[k].type, m[k].help);
		for (i = 0; i < n; i++)
			report_printf(b, "codns_%s{name=\"%s\"} %llu\n",
			    m[k].name, in[i].name,
			    (unsigned long long)(m[k].off == (size_t)-1 ?
				    in[i].count :
				    *(const uint64_t *)(const void *)((
					  const char *)&in[i] + m[k].off)));
	}
	gauge(b, "peers_dns_cut_union_total", "counter",
	    "peers-dns addresses left out beyond the 4096-peer list.",
	    (double)env->peers_dns_cut(env->ctx));
}

void
ctlreport_metrics(const struct ctl_env *env, size_t clients,
    struct report_buf *b)
{
	struct ctl_figures f;

	figures(env, &f);
	report_printf(b,
	    "# HELP codns_build_info The running codnsd version.\n"
	    "# TYPE codns_build_info gauge\n"
	    "codns_build_info{version=\"%s\"} 1\n",
	    PACKAGE_VERSION);
	const struct {
		const char *name, *type, *help;
		double v;
	} m[] = {
		{ "uptime_seconds", "gauge", "Seconds since codnsd started.",
		    f.uptime_s },
		{ "cache_entries", "gauge", "Answers in the cache.",
		    (double)f.cache_entries },
		{ "cache_capacity", "gauge", "cache-size.",
		    (double)f.cache_capacity },
		{ "cache_responses_kept", "gauge",
		    "Responses kept by question (name, type).",
		    (double)f.responses_kept },
		{ "cache_hits_total", "counter", "Cache lookups that hit.",
		    (double)f.cache_hits },
		{ "cache_misses_total", "counter", "Cache lookups that missed.",
		    (double)f.cache_misses },
		{ "cache_evictions_total", "counter",
		    "Entries evicted because the cache was full.",
		    (double)f.cache_evictions },
		{ "lookups_in_flight", "gauge", "Resolutions in progress.",
		    (double)f.inflight },
		{ "lookup_clients", "gauge", "Open lookup connections.",
		    (double)f.lookup_clients },
		{ "control_clients", "gauge", "Open control connections.",
		    (double)clients },
		{ "upstream_queries_total", "counter",
		    "Queries to the local nameservers.", (double)f.ns_queries },
		{ "upstream_failures_total", "counter",
		    "Failed queries to the local nameservers.",
		    (double)f.ns_failures },
		{ "upstream_response_seconds", "gauge",
		    "Smoothed local nameserver response time.",
		    f.ns_mean_ms / 1000.0 },
		{ "upstream_failure_ratio", "gauge",
		    "Smoothed share of failed local nameserver queries.",
		    f.ns_fail_permille / 1000.0 },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		gauge(b, m[i].name, m[i].type, m[i].help, m[i].v);
	if (f.peers_on) {
		gauge(b, "initial_delay_seconds", "gauge",
		    "Current delay before the first peer query.",
		    f.delay_ms / 1000.0);
		report_printf(b,
		    "# HELP codns_recent_wins Who answered among the last "
		    "16 and 32 lookups.\n"
		    "# TYPE codns_recent_wins gauge\n"
		    "codns_recent_wins{window=\"16\",winner=\"local\"} %u\n"
		    "codns_recent_wins{window=\"16\",winner=\"peer\"} %u\n"
		    "codns_recent_wins{window=\"32\",winner=\"local\"} %u\n"
		    "codns_recent_wins{window=\"32\",winner=\"peer\"} %u\n",
		    f.wins[0], f.wins[1], f.wins[2], f.wins[3]);
		metrics_peers_dns(b, env);
	}
	stats_render_metrics(env->stats, b);
}
