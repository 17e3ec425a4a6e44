/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlio.c: ctl_env on the daemon's modules, read through d. */
#include "ctlio.h"

#include "cache.h"
#include "clock.h"
#include "codnsd.h"
#include "dnsstub.h"
#include "listen.h"
#include "lookup.h"
#include "nscd.h"
#include "peernet.h"
#include "peernetio.h"
#include "upstream.h"

static uid_t
ctlio_uid(void *ctx)
{
	const struct codnsd *d = ctx;

	return d->uid;
}

static const char *
ctlio_group(void *ctx)
{
	const struct codnsd *d = ctx;

	return d->conf.control_group;
}

static void
ctlio_upstream(const struct codnsd *d, struct ctl_figures *f)
{
	const struct upstream_health *uh = upstream_health(d->upstream);
	uint64_t now = clock_loop_ms(d->loop);

	f->ns_servers = uh->servers;
	f->ns_mean_ms = uh->mean_ms;
	f->ns_fail_permille = uh->fail_permille;
	f->ns_queries = uh->queries;
	f->ns_failures = uh->failures;
	f->ns_set_id = uh->nsset_id;
	f->ns_last_ago_s = uh->last_ms != 0 && now >= uh->last_ms ?
	    (double)(now - uh->last_ms) / 1000.0 : -1;
}

static void
ctlio_figures(void *ctx, struct ctl_figures *f)
{
	const struct codnsd *d = ctx;
	const struct cache_stats *cs = cache_stats(d->cache);

	f->uptime_s = ev_now(d->loop) - d->started;
	f->listeners = listen_addresses(d->listen);
	f->lookup_clients = listen_clients(d->listen);
	f->inflight = lookup_inflight(d->lookup);
	ctlio_upstream(d, f);
	f->cache_entries = cache_count(d->cache);
	f->cache_capacity = cache_capacity(d->cache);
	f->responses_kept = dnsstub_cache_count(d->dnsstub);
	f->cache_hits = cs->hits;
	f->cache_misses = cs->misses;
	f->cache_evictions = cs->evictions;
	if ((f->peers_on = d->peernet != NULL)) {
		f->delay_ms = lookup_delay_ms(d->lookup, &f->delay_reason);
		lookup_windows(d->lookup, &f->wins[0], &f->wins[1],
		    &f->wins[2], &f->wins[3]);
	}
	if ((f->nscd_on = d->nscd != NULL)) {
		f->nscd_socket = d->conf.nscd_socket;
		f->nscd_clients = nscd_clients(d->nscd);
		nscd_table_info(d->nscd, &f->nscd_entries, &f->nscd_bytes,
		    &f->nscd_published, &f->nscd_rebuilt);
	}
}

static size_t
ctlio_peer_rows(void *ctx, struct peernet_row *rows, size_t max)
{
	const struct codnsd *d = ctx;

	return peernet_rows(d->peernet, rows, max);
}

static void
ctlio_neighbours(void *ctx, struct peernet_nbr *nb)
{
	const struct codnsd *d = ctx;

	peernet_neighbours(d->peernet, nb);
}

static size_t
ctlio_peers_dns(void *ctx, struct peersdns_info *info, size_t max)
{
	const struct codnsd *d = ctx;

	return peernetio_dns_sources(d->peernet, info, max);
}

static uint64_t
ctlio_peers_dns_cut(void *ctx)
{
	const struct codnsd *d = ctx;

	return peernet_dns_cut(d->peernet);
}

/* The answer cache, glibc's nscd table and the stub's forwarded answers. */
static size_t
ctlio_flush(void *ctx, const char *name)
{
	struct codnsd *d = ctx;
	size_t n;

	n = cache_flush(d->cache, name);
	nscd_flush(d->nscd, name);
	n += dnsstub_flush(d->dnsstub, name);
	return n;
}

void
ctlio_env(struct codnsd *d, struct ctl_env *env)
{
	*env = (struct ctl_env){ .loop = d->loop, .stats = d->stats, .ctx = d,
		.daemon_uid = ctlio_uid, .control_group = ctlio_group,
		.figures = ctlio_figures, .peer_rows = ctlio_peer_rows,
		.neighbours = ctlio_neighbours, .peers_dns = ctlio_peers_dns,
		.peers_dns_cut = ctlio_peers_dns_cut, .flush = ctlio_flush };
}
