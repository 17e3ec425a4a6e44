/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctl.c: the control socket that codnsctl talks to. */
#include "ctl.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "codnsd.h"
#include "ctlparse.h"
#include "dnsstub.h"
#include "listen.h"
#include "log.h"
#include "lookup.h"
#include "nscd.h"
#include "peernet.h"
#include "peernetio.h"
#include "peersdns.h"
#include "report.h"
#include "stats.h"
#include "stream.h"
#include "upstream.h"
#include "usock.h"

#define CTL_TOP_DEFAULT 20

/*
 * One control connection. The protocol (codnsctl.8): one request line,
 * one reply, then the daemon closes. So a client is first reading (input
 * bounded by CTL_LINE_MAX, deadline CTL_READ_SEC), then writing its reply
 * from a buffer as the socket takes it (deadline CTL_WRITE_SEC): neither a
 * silent nor a slow client ever holds the loop.
 */
struct ctl_client {
	struct ctl *ctl;
	int fd;
	uid_t uid;
	gid_t gid;
	int have_cred;
	ev_io rio;
	ev_io wio;
	ev_timer timer;
	char in[CTL_LINE_MAX];
	size_t inlen;
	struct report_buf out;
	size_t outoff;
	LIST_ENTRY(ctl_client) entry;
};

struct ctl {
	struct codnsd *d;
	ctl_reload_fn reload; /* main's, by ctl_on_reload() */
	void *reload_arg;
	ctl_handover_fn handover; /* main's, by ctl_on_handover() */
	void *handover_arg;
	struct usock sock;
	ev_io io;
	LIST_HEAD(, ctl_client) clients;
	size_t nclients;
};

static void
ctl_client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;
	struct ev_loop *loop = ctl->d->loop;

	LIST_REMOVE(c, entry);
	ctl->nclients--;
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->timer);
	close(c->fd);
	report_buf_free(&c->out);
	free(c);
}

/* --- status --- */

static double
hit_rate(const struct cache_stats *cs)
{
	uint64_t n = cs->hits + cs->misses;

	return n ? 100.0 * (double)cs->hits / (double)n : 0.0;
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
status_upstreams(struct report *r, const struct upstream_health *uh,
    uint64_t now)
{
	report_open(r, "upstreams");
	report_text(r, "%-14s ", "upstreams");
	report_csv(r, "servers", "%s\n", uh->servers, "(none)");
	report_text(r, "%-14s ", "  health");
	report_uint(r, "mean_ms", "mean %llu ms", uh->mean_ms);
	report_uint(r, "fail_permille", NULL, uh->fail_permille);
	report_text(r, ", failing %.1f %%", uh->fail_permille / 10.0);
	report_uint(r, "queries", ", %llu queries",
	    (unsigned long long)uh->queries);
	report_uint(r, "failures", ", %llu failed",
	    (unsigned long long)uh->failures);
	if (uh->last_ms != 0 && now >= uh->last_ms)
		report_real(r, "last_ago_s", "%.3f", ", last %.1f s ago\n",
		    (double)(now - uh->last_ms) / 1000.0);
	else
		report_null(r, "last_ago_s", ", none yet\n");
	report_close(r);
}

/* The neighbour set against our nameserver set (issue 15): peers behind
 * the same nameserver fail with it. */
static void
status_membership(struct report *r, const struct codnsd *d)
{
	struct peernet_nbr nb;
	char nsid[17];
	int all_shared;

	peernet_neighbours(d->peernet, &nb);
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
status_peers_dns(struct report *r, const struct codnsd *d)
{
	struct peersdns_info info[CONF_PEERS_DNS_MAX];
	size_t i, n = peernetio_dns_sources(d->peernet, info,
	    CONF_PEERS_DNS_MAX);

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
status_race(struct report *r, const struct codnsd *d)
{
	const char *reason = NULL;
	unsigned l16, p16, l32, p32;
	uint32_t delay;

	if (d->peernet == NULL) {
		report_bool(r, "peers_configured", 0, NULL);
		report_text(r, "%-14s ", "initial delay");
		report_null(r, "initial_delay_ms", "n/a\n");
		report_null(r, "initial_delay_reason", NULL);
		report_text(r, "%-14s ", "peers");
		report_null(r, "windows", "none configured\n");
		return;
	}
	delay = lookup_delay_ms(d->lookup, &reason);
	lookup_windows(d->lookup, &l16, &p16, &l32, &p32);
	report_bool(r, "peers_configured", 1, NULL);
	report_text(r, "%-14s ", "initial delay");
	report_uint(r, "initial_delay_ms", "%llu ms", delay);
	report_str(r, "initial_delay_reason", " (%s)\n", reason ? reason : "");
	report_open(r, "windows");
	report_text(r, "%-14s ", "wins");
	report_open(r, "last16");
	report_uint(r, "local", "last 16: local %llu", l16);
	report_uint(r, "peer", ", peer %llu; ", p16);
	report_close(r);
	report_open(r, "last32");
	report_uint(r, "local", "last 32: local %llu", l32);
	report_uint(r, "peer", ", peer %llu\n", p32);
	report_close(r);
	report_close(r);
	status_membership(r, d);
	status_peers_dns(r, d);
}

/* The nscd protocol's table (codnsd.8, NSCD PROTOCOL), when served. */
static void
status_nscd(struct report *r, const struct codnsd *d)
{
	size_t entries, bytes;
	uint64_t published, cleared;

	if (d->nscd == NULL)
		return;
	nscd_table_info(d->nscd, &entries, &bytes, &published, &cleared);
	report_open(r, "nscd");
	report_text(r, "%-14s ", "nscd");
	report_str(r, "socket", "%s, ", d->conf.nscd_socket);
	report_uint(r, "clients", "%llu clients, ",
	    (unsigned long long)nscd_clients(d->nscd));
	report_uint(r, "entries", "table %llu entries", entries);
	report_uint(r, "bytes", " in %llu bytes", bytes);
	report_uint(r, "published", ", %llu published", published);
	report_uint(r, "rebuilt", ", %llu rebuilt\n", cleared);
	report_close(r);
}

static void
status_render(struct ctl *ctl, struct report_buf *b, int json)
{
	struct codnsd *d = ctl->d;
	const struct cache_stats *cs = cache_stats(d->cache);
	struct report r;

	report_init(&r, b, json);
	report_open(&r, NULL);
	report_text(&r, "%-14s ", "version");
	report_str(&r, "version", "codnsd %s", PACKAGE_VERSION);
	report_uint(&r, "pid", ", pid %llu\n", (unsigned long long)getpid());
	put_uptime(&r, ev_now(d->loop) - d->started);
	report_text(&r, "%-14s ", "listeners");
	report_csv(&r, "listeners", "%s\n", listen_addresses(d->listen), "");
	status_upstreams(&r, upstream_health(d->upstream),
	    clock_loop_ms(d->loop));
	status_race(&r, d);
	report_open(&r, "cache");
	report_text(&r, "%-14s ", "cache");
	report_uint(&r, "entries", "%llu", cache_count(d->cache));
	report_uint(&r, "capacity", " / %llu entries", cache_capacity(d->cache));
	report_uint(&r, "hits", NULL, (unsigned long long)cs->hits);
	report_uint(&r, "misses", NULL, (unsigned long long)cs->misses);
	report_uint(&r, "evictions", NULL, (unsigned long long)cs->evictions);
	report_real(&r, "hit_rate_percent", "%.1f", ", hit rate %.1f %% ",
	    hit_rate(cs));
	report_text(&r, "(%llu hits, %llu misses)\n",
	    (unsigned long long)cs->hits, (unsigned long long)cs->misses);
	report_text(&r, "%-14s ", "");
	report_uint(&r, "responses_kept", "%llu responses kept by question\n",
	    (unsigned long long)dnsstub_cache_count(d->dnsstub));
	report_close(&r);
	report_text(&r, "%-14s ", "lookups");
	report_uint(&r, "lookups", "%llu answered",
	    (unsigned long long)stats_lookups(d->stats));
	report_uint(&r, "inflight", ", %llu in flight\n",
	    lookup_inflight(d->lookup));
	report_open(&r, "clients");
	report_text(&r, "%-14s ", "clients");
	report_uint(&r, "lookup", "%llu lookup", listen_clients(d->listen));
	report_uint(&r, "control", ", %llu control\n", ctl->nclients);
	report_close(&r);
	status_nscd(&r, d);
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

static void
peers_render(struct ctl *ctl, struct report_buf *b, int json)
{
	struct peernet_row *rows = NULL;
	struct report r;
	size_t i, n = 0;

	report_init(&r, b, json);
	report_open(&r, NULL);
	if (ctl->d->peernet == NULL) {
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
	n = peernet_rows(ctl->d->peernet, rows, CONF_PEERS_MAX);
	report_bool(&r, "configured", 1, NULL);
	report_text(&r,
	    "%-28s %-10s %9s %9s %8s %-9s %10s %8s %8s %8s %5s %s\n",
	    "ADDRESS", "STATE", "RTT", "NS-TIME", "NS-FAIL", "NS-SET",
	    "HEARTBEAT", "SENT", "WON", "FAILED", "RANK", "SOURCE");
	report_open_list(&r, "peers");
	for (i = 0; i < n; i++) {
		rows[i].addr[sizeof(rows[i].addr) - 1] = '\0';
		peer_row(&r, &rows[i],
		    upstream_health(ctl->d->upstream)->nsset_id);
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
metrics_peers_dns(struct report_buf *b, const struct codnsd *d)
{
	struct peersdns_info in[CONF_PEERS_DNS_MAX];
	size_t i, n = peernetio_dns_sources(d->peernet, in,
	    CONF_PEERS_DNS_MAX);
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
	    (double)peernet_dns_cut(d->peernet));
}

static void
metrics_render(struct ctl *ctl, struct report_buf *b)
{
	struct codnsd *d = ctl->d;
	const struct upstream_health *uh = upstream_health(d->upstream);
	const struct cache_stats *cs = cache_stats(d->cache);
	unsigned w[4];
	const char *reason;

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
		    ev_now(d->loop) - d->started },
		{ "cache_entries", "gauge", "Answers in the cache.",
		    (double)cache_count(d->cache) },
		{ "cache_capacity", "gauge", "cache-size.",
		    (double)cache_capacity(d->cache) },
		{ "cache_responses_kept", "gauge",
		    "Responses kept by question (name, type).",
		    (double)dnsstub_cache_count(d->dnsstub) },
		{ "cache_hits_total", "counter", "Cache lookups that hit.",
		    (double)cs->hits },
		{ "cache_misses_total", "counter", "Cache lookups that missed.",
		    (double)cs->misses },
		{ "cache_evictions_total", "counter",
		    "Entries evicted because the cache was full.",
		    (double)cs->evictions },
		{ "lookups_in_flight", "gauge", "Resolutions in progress.",
		    (double)lookup_inflight(d->lookup) },
		{ "lookup_clients", "gauge", "Open lookup connections.",
		    (double)listen_clients(d->listen) },
		{ "control_clients", "gauge", "Open control connections.",
		    (double)ctl->nclients },
		{ "upstream_queries_total", "counter",
		    "Queries to the local nameservers.", (double)uh->queries },
		{ "upstream_failures_total", "counter",
		    "Failed queries to the local nameservers.",
		    (double)uh->failures },
		{ "upstream_response_seconds", "gauge",
		    "Smoothed local nameserver response time.",
		    uh->mean_ms / 1000.0 },
		{ "upstream_failure_ratio", "gauge",
		    "Smoothed share of failed local nameserver queries.",
		    uh->fail_permille / 1000.0 },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		gauge(b, m[i].name, m[i].type, m[i].help, m[i].v);
	if (d->peernet != NULL) {
		gauge(b, "initial_delay_seconds", "gauge",
		    "Current delay before the first peer query.",
		    lookup_delay_ms(d->lookup, &reason) / 1000.0);
		lookup_windows(d->lookup, &w[0], &w[1], &w[2], &w[3]);
		report_printf(b,
		    "# HELP codns_recent_wins Who answered among the last "
		    "16 and 32 lookups.\n"
		    "# TYPE codns_recent_wins gauge\n"
		    "codns_recent_wins{window=\"16\",winner=\"local\"} %u\n"
		    "codns_recent_wins{window=\"16\",winner=\"peer\"} %u\n"
		    "codns_recent_wins{window=\"32\",winner=\"local\"} %u\n"
		    "codns_recent_wins{window=\"32\",winner=\"peer\"} %u\n",
		    w[0], w[1], w[2], w[3]);
		metrics_peers_dns(b, d);
	}
	stats_render_metrics(d->stats, b);
}

/* --- commands --- */

static int
ctl_privileged(const struct ctl_client *c)
{
	return c->have_cred && (c->uid == 0 || c->uid == c->ctl->d->uid);
}

/*
 * May this client see the names other users looked up (`top`)? Root, the
 * daemon's uid, and members of control-group: the client's primary gid
 * (SO_PEERCRED) or its user in the group's member list. The group is
 * looked up at each request, a rare one, so that /etc/group edits apply
 * without a reload.
 */
static int
ctl_may_see_names(const struct ctl_client *c)
{
	const char *name = c->ctl->d->conf.control_group;
	struct group *gr;
	struct passwd *pw;
	char **m;

	if (ctl_privileged(c))
		return 1;
	if (!c->have_cred || name[0] == '\0' || (gr = getgrnam(name)) == NULL)
		return 0;
	if (c->gid == gr->gr_gid)
		return 1;
	for (m = gr->gr_mem; m != NULL && *m != NULL; m++)
		if ((pw = getpwnam(*m)) != NULL && pw->pw_uid == c->uid)
			return 1;
	return 0;
}

static int
ctl_refuse(const struct ctl_client *c, const char *cmd, char *err)
{
	log_info("control: %s refused to uid %ld", cmd,
	    c->have_cred ? (long)c->uid : -1L);
	snprintf(err, CTL_ERR_MAX, "permission denied");
	return -1;
}

static int
cmd_flush(struct ctl_client *c, const struct ctl_req *r,
    struct report_buf *b, char *err)
{
	size_t n;

	if (r->argc > 2) {
		snprintf(err, CTL_ERR_MAX, "usage: flush [NAME]");
		return -1;
	}
	if (r->argc == 2 && !proto_name_valid(r->argv[1])) {
		snprintf(err, CTL_ERR_MAX, "invalid name");
		return -1;
	}
	n = cache_flush(c->ctl->d->cache, r->argc == 2 ? r->argv[1] : NULL);
	nscd_flush(c->ctl->d->nscd, r->argc == 2 ? r->argv[1] : NULL);
	n += dnsstub_flush(c->ctl->d->dnsstub, r->argc == 2 ? r->argv[1] : NULL);
	log_info("control: flushed %zu cache entries%s%s", n,
	    r->argc == 2 ? " of " : "", r->argc == 2 ? r->argv[1] : "");
	if (r->json)
		report_printf(b, "{\"flushed\":%zu}\n", n);
	else
		report_printf(b, "flushed %zu entries\n", n);
	return 0;
}

static int
cmd_reload(struct ctl_client *c, const struct ctl_req *r,
    struct report_buf *b, char *err)
{
	char why[4096];
	size_t i, n;

	if (r->argc != 1) {
		snprintf(err, CTL_ERR_MAX, "usage: reload");
		return -1;
	}
	if (c->ctl->reload == NULL) {
		snprintf(err, CTL_ERR_MAX, "reload is not available");
		return -1;
	}
	if (c->ctl->reload(c->ctl->reload_arg, why, sizeof(why)) == -1) {
		/* The reply's error is one line: join the config errors. */
		n = strlen(why);
		while (n > 0 && why[n - 1] == '\n')
			why[--n] = '\0';
		for (i = 0; i < n; i++)
			if (why[i] == '\n')
				why[i] = ';';
		log_warnx("reload failed, keeping the old configuration: %s",
		    why);
		snprintf(err, CTL_ERR_MAX, "reload failed: %s", why);
		return -1;
	}
	log_info("configuration reloaded (control socket)");
	report_printf(b, r->json ? "{\"reloaded\":true}\n" : "reloaded\n");
	return 0;
}

static int
cmd_top(struct ctl_client *c, const struct ctl_req *r, struct report_buf *b,
    char *err)
{
	unsigned long n = CTL_TOP_DEFAULT;
	char *end;

	if (r->argc > 2) {
		snprintf(err, CTL_ERR_MAX, "usage: top [N]");
		return -1;
	}
	if (r->argc == 2) {
		errno = 0;
		n = strtoul(r->argv[1], &end, 10);
		if (errno || *end != '\0' || n < 1 || n > STATS_TOP_MAX) {
			snprintf(err, CTL_ERR_MAX, "top: N must be 1..%d",
			    STATS_TOP_MAX);
			return -1;
		}
	}
	stats_render_top(c->ctl->d->stats, b, r->json, n);
	return 0;
}

/* codnsd -R: main sends the sockets (and "ok") on the connection. */
static int
cmd_handover(struct ctl_client *c, const struct ctl_req *r, char *err)
{
	if (r->argc != 1) {
		snprintf(err, CTL_ERR_MAX, "usage: handover");
		return -1;
	}
	if (c->ctl->handover == NULL) {
		snprintf(err, CTL_ERR_MAX, "handover is not available");
		return -1;
	}
	return c->ctl->handover(c->ctl->handover_arg, c->fd, err, CTL_ERR_MAX);
}

/* Run one request; 0 with the body in b, or -1 with a one-line error. */
static int
ctl_dispatch(struct ctl_client *c, const struct ctl_req *r,
    struct report_buf *b, char *err)
{
	const char *cmd = r->argv[0];
	struct ctl *ctl = c->ctl;

	if (strcmp(cmd, "flush") == 0 || strcmp(cmd, "reload") == 0) {
		if (!ctl_privileged(c))
			return ctl_refuse(c, cmd, err);
		return cmd[0] == 'f' ? cmd_flush(c, r, b, err) :
				       cmd_reload(c, r, b, err);
	}
	if (strcmp(cmd, "handover") == 0) {
		if (!ctl_privileged(c))
			return ctl_refuse(c, cmd, err);
		return cmd_handover(c, r, err);
	}
	if (strcmp(cmd, "top") == 0) {
		if (!ctl_may_see_names(c))
			return ctl_refuse(c, cmd, err);
		return cmd_top(c, r, b, err);
	}
	if (r->argc != 1) {
		snprintf(err, CTL_ERR_MAX, "%s takes no arguments", cmd);
		return -1;
	}
	if (strcmp(cmd, "status") == 0)
		status_render(ctl, b, r->json);
	else if (strcmp(cmd, "peers") == 0)
		peers_render(ctl, b, r->json);
	else if (strcmp(cmd, "stats") == 0)
		stats_render(ctl->d->stats, b, r->json);
	else if (strcmp(cmd, "metrics") == 0)
		metrics_render(ctl, b);
	else {
		snprintf(err, CTL_ERR_MAX, "unknown command %.64s", cmd);
		return -1;
	}
	return 0;
}

/* --- connection handling --- */

static void
ctl_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = w->data;
	ssize_t n;

	/* Whole reply sent, or the client gone: done either way. */
	if ((n = stream_write(c->fd, c->out.p + c->outoff,
		 c->out.len - c->outoff)) == -1 ||
	    (c->outoff += (size_t)n) == c->out.len)
		ctl_client_free(c);
}

/* Queue the reply and switch from reading to writing. */
static void
ctl_reply(struct ctl_client *c, const char *err, const struct report_buf *body)
{
	struct ev_loop *loop = c->ctl->d->loop;

	ev_io_stop(loop, &c->rio);
	if (err != NULL)
		report_printf(&c->out, "error %s\n", err);
	else if (body->err)
		report_printf(&c->out, "error out of memory\n");
	else
		report_printf(&c->out, "ok\n%.*s", (int)body->len,
		    body->p ? body->p : "");
	if (c->out.err) {
		ctl_client_free(c);
		return;
	}
	ev_timer_stop(loop, &c->timer);
	ev_timer_set(&c->timer, CTL_WRITE_SEC, 0.);
	ev_timer_start(loop, &c->timer);
	ev_io_start(loop, &c->wio);
}

static void
ctl_bad(struct ctl_client *c, const char *err)
{
	stats_count(c->ctl->d->stats, STATS_CTL_BAD_REQUEST);
	log_debug("control: %s", err);
	ctl_reply(c, err, NULL);
}

static void
ctl_request(struct ctl_client *c, char *line)
{
	struct report_buf body;
	struct ctl_req r;
	char err[CTL_ERR_MAX];

	memset(&body, 0, sizeof(body));
	if (ctl_parse(line, &r, err) == -1) {
		ctl_bad(c, err);
		return;
	}
	if (ctl_dispatch(c, &r, &body, err) == -1)
		ctl_reply(c, err, NULL);
	else
		ctl_reply(c, NULL, &body);
	report_buf_free(&body);
}

static void
ctl_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = w->data;
	char *nl;
	ssize_t n;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1 || (n == 0 && c->inlen == 0)) {
		ctl_client_free(c);
		return;
	}
	if (n == 0) {
		/* Shut down mid-line: the request is not whole. */
		ctl_bad(c, "incomplete request");
		return;
	}
	c->inlen += (size_t)n;
	if ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		/* Bytes after the line are ignored: one request each. */
		*nl = '\0';
		if (memchr(c->in, '\0', (size_t)(nl - c->in)) != NULL)
			ctl_bad(c, "bad request");
		else
			ctl_request(c, c->in);
	} else if (c->inlen == sizeof(c->in))
		ctl_bad(c, "request too long");
}

static void
ctl_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_client *c = t->data;
	static const char msg[] = "error timeout\n";

	if (ev_is_active(&c->rio)) {
		stats_count(c->ctl->d->stats, STATS_CTL_BAD_REQUEST);
		/* Best effort: the client may not be reading either. */
		(void)send(c->fd, msg, sizeof(msg) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	ctl_client_free(c);
}

/*
 * A new client gets a slot unless its uid already holds
 * CTL_CLIENTS_PER_UID, and the last CTL_CLIENTS_RESERVE slots go only to
 * uids that hold at most one (the one a client just closed and the loop
 * has not reaped): one local user sending half lines cannot lock the
 * operator out (each line also has a deadline, CTL_READ_SEC, that bytes
 * do not extend). Root and the daemon's uid, who could stop the daemon
 * anyway, have no cap but the table's size.
 */
static int
ctl_admit(const struct ctl *ctl, uid_t uid)
{
	const struct ctl_client *c;
	size_t same = 0;

	if (ctl->nclients >= CTL_CLIENTS_MAX)
		return 0;
	if (uid == 0 || uid == ctl->d->uid)
		return 1;
	LIST_FOREACH(c, &ctl->clients, entry)
		if (c->have_cred && c->uid == uid)
			same++;
	if (same >= CTL_CLIENTS_PER_UID)
		return 0;
	return ctl->nclients < CTL_CLIENTS_MAX - CTL_CLIENTS_RESERVE ||
	    same < 2;
}

static void
ctl_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static const char busy[] = "error too many clients\n";
	struct ctl *ctl = w->data;
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	fd = accept4(ctl->sock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		cred.uid = (uid_t)-1;
	if (!ctl_admit(ctl, cred.uid) || (c = calloc(1, sizeof(*c))) == NULL) {
		stats_count(ctl->d->stats, STATS_CTL_REFUSED);
		(void)send(fd, busy, sizeof(busy) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	if (cred.uid != (uid_t)-1) {
		c->uid = cred.uid;
		c->gid = cred.gid;
		c->have_cred = 1;
	}
	ev_io_init(&c->rio, ctl_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, ctl_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, ctl_timer_cb, CTL_READ_SEC, 0.);
	c->rio.data = c->wio.data = c->timer.data = c;
	LIST_INSERT_HEAD(&ctl->clients, c, entry);
	ctl->nclients++;
	ev_io_start(loop, &c->rio);
	ev_timer_start(loop, &c->timer);
}

struct ctl *
ctl_new(struct codnsd *d)
{
	struct ctl *ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return NULL;
	ctl->d = d;
	/* Anyone may connect: the commands that need more check
	 * SO_PEERCRED. */
	if (usock_listen(&ctl->sock, d->conf.control_socket, d->conf.user,
		CTL_SOCKET_MODE, "control") == -1) {
		ctl_free(ctl);
		return NULL;
	}
	ev_io_init(&ctl->io, ctl_accept_cb, ctl->sock.fd, EV_READ);
	ctl->io.data = ctl;
	ev_io_start(d->loop, &ctl->io);
	return ctl;
}

void
ctl_on_reload(struct ctl *ctl, ctl_reload_fn fn, void *arg)
{
	ctl->reload = fn;
	ctl->reload_arg = arg;
}

void
ctl_on_handover(struct ctl *ctl, ctl_handover_fn fn, void *arg)
{
	ctl->handover = fn;
	ctl->handover_arg = arg;
}

void
ctl_pause(struct ctl *ctl, int on)
{
	if (on)
		ev_io_stop(ctl->d->loop, &ctl->io);
	else
		ev_io_start(ctl->d->loop, &ctl->io);
}

void
ctl_free(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (!LIST_EMPTY(&ctl->clients))
		ctl_client_free(LIST_FIRST(&ctl->clients));
	ev_io_stop(ctl->d->loop, &ctl->io);
	usock_close(&ctl->sock);
	free(ctl);
}

size_t
ctl_clients(const struct ctl *ctl)
{
	return ctl->nclients;
}
