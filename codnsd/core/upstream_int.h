/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_int.h: what the upstream modules share. */
#ifndef CODNSD_UPSTREAM_INT_H
#define CODNSD_UPSTREAM_INT_H

#include <ares.h>
#include <limits.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include "filewatch.h"
#include "namehash.h"
#include "resolvconf.h"
#include "upstream.h"

/* The as-is name and every search domain (resolvconf_candidates()). */
#define UPSTREAM_CANDS_MAX (RESOLVCONF_SEARCH_MAX + 1)

#define UPSTREAM_ASK_BUCKETS 64 /* questions in flight, per channel */

/* A c-ares channel with its watchers. A reload makes a new one; the old
 * one drains its queries and is destroyed when none remain. */
struct upstream_chan {
	struct upstream *up;
	ares_channel ch;
	ev_timer timer;
	LIST_HEAD(, upstream_sock) socks;
	unsigned pending;
	LIST_ENTRY(upstream_chan) entry; /* draining list */
	/* The search walks' questions on the wire (upstream_search.c). */
	LIST_HEAD(, upstream_ask) asks[UPSTREAM_ASK_BUCKETS];
};

struct upstream_sock {
	struct upstream_chan *chan;
	ev_io io;
	ares_socket_t fd;
	LIST_ENTRY(upstream_sock) entry;
};

/* One question (A or AAAA) of a search-list name, asked with
 * ares_query(); its status is c-ares' (ARES_ENODATA also for an answer
 * without a usable address). */
struct upstream_part {
	struct upstream_query *q;
	uint16_t qtype;
	int status;
	LIST_ENTRY(upstream_part) asked; /* on its upstream_ask's list */
};

/* One question on the wire: every part of every walk on the channel that
 * needs it while it is in flight waits for this one response. */
struct upstream_ask {
	struct upstream_chan *chan;
	LIST_ENTRY(upstream_ask) entry; /* chan->asks */
	uint32_t hash;
	uint16_t qtype;
	char name[PROTO_NAME_MAX + 1]; /* as the first walk had it */
	LIST_HEAD(, upstream_part) parts;
};

struct upstream_query {
	struct upstream_chan *chan;
	upstream_cb *cb;
	upstream_raw_cb *raw_cb; /* upstream_send_raw() */
	void *arg;
	uint64_t start_ms;
	uint64_t start_us;
	int starting; /* inside upstream_resolve() */
	struct proto_answer early; /* answered before it returned */
	ev_timer defer;
	struct proto_request req;
	/* res_search()'s walk through the search list (forward only). */
	char cands[UPSTREAM_CANDS_MAX][PROTO_NAME_MAX + 1];
	uint8_t ncands, cand;
	int as_is_first;
	int first_status; /* status of the as-is name tried first, or -1 */
	int got_nodata, got_servfail;
	int refused; /* the last status was c-ares' own refusal */
	int truncated;
	/* The name being asked: one part per type, their answers gathered
	 * in acc until the last part is in. */
	struct upstream_part parts[2];
	uint8_t nparts, waiting;
	uint32_t acc_ttl; /* least TTL of the records used */
	struct proto_answer acc;
	/* Least negative TTL of the SOAs seen on the walk (RFC 2308
	 * section 5); UPSTREAM_NEG_TTL_NONE while none came. */
	uint32_t neg_ttl;
	int offline; /* the walk was answered from kept responses only */
	unsigned gen; /* upstream_ask_name() calls */
};

struct upstream {
	struct ev_loop *loop;
	struct upstream_chan *cur;
	LIST_HEAD(, upstream_chan) draining;
	struct upstream_chan *probe_chan; /* ARES_FLAG_NOCHECKRESP: every rcode */
	uint32_t probe_idle_ms; /* probe after this much silence */
	ev_idle reaper;
	ev_timer probe;
	struct upstream_health health;
	uint32_t timeout_ms;
	size_t nservers;
	struct conf_addr servers[CONF_UPSTREAM_MAX];
	/* resolv.conf: search list and options always, nameservers when
	 * there are no "upstream" lines; re-read when it changes. */
	struct resolvconf rc;
	char rc_path[PATH_MAX];
	struct stat rc_st;
	struct filewatch rc_watch;
	uint32_t lookup_timeout_ms; /* 0: from resolv.conf */
	struct stats *stats;
	upstream_change_cb *change_cb;
	void *change_arg;
	upstream_keep_cb *keep_cb;
	upstream_find_cb *find_cb;
	void *keep_arg;
	struct namehash_key ask_key; /* questions in flight: clients' names */
};

/*
 * What a c-ares result says about the nameservers (issue 15). Any reply
 * proves them alive; a lookup whose name went unresolved (SERVFAIL, a
 * refusal, a bad reply), silence and an unreachable port count against
 * them; a probe asks a name that no server serves, so any reply at all is
 * alive. Our own refusals say nothing: a bad name, a cancelled or
 * destroyed query, no memory, and anything answered before the query was
 * sent (c-ares answers some names, .onion or localhost, itself).
 */
enum upstream_verdict {
	UPSTREAM_UNCOUNTED,
	UPSTREAM_ALIVE,
	UPSTREAM_FAILED,
};

/* upstream_chan.c: a c-ares channel on the loop. flags: ares_options'. */
struct upstream_chan *upstream_chan_new(struct upstream *,
    const struct conf *, const struct resolvconf *, int flags);
void upstream_chan_free(struct upstream_chan *);
/* Follow ares_timeout() after c-ares was given work. */
void upstream_chan_arm(struct upstream_chan *);

/* upstream.c: resolv.conf as it is now, and its stat; a new channel and
 * probe channel in place, the old ones draining. */
void upstream_rc_read(const char *path, struct resolvconf *, struct stat *);
void upstream_install(struct upstream *, struct upstream_chan *,
    struct upstream_chan *probe, const struct conf *);

/* upstream_health.c */
enum upstream_verdict upstream_verdict(int status, int asked, int probe);
void upstream_account(struct upstream *, uint64_t start,
    enum upstream_verdict);
void upstream_probe_timer_cb(struct ev_loop *, ev_timer *, int);

/* upstream_query.c: a query's life, and what c-ares statuses mean. */
int upstream_refused(int status);
uint8_t upstream_status(int status);
void upstream_query_free(struct upstream_query *);
/* The answer to the caller (never before upstream_resolve() returned);
 * ares_status feeds the health figures. */
void upstream_finish(struct upstream_query *, struct proto_answer *,
    int ares_status);

/*
 * A response of the search walk or a reverse lookup, flattened
 * (dnsmsg_response_flatten()) into a buffer of this module's that the
 * next call overwrites; given to the keep callback. 0, or -1 when it is
 * malformed.
 */
int upstream_flatten(struct upstream *, const char *name, uint16_t qtype,
    const uint8_t *msg, size_t len, const uint8_t **flat, size_t *flatlen,
    uint8_t *rcode);

/* A response's SOA, if any, taken into q->neg_ttl (RFC 2308 section 5:
 * the negative TTL is the least of the SOA's TTL and MINIMUM). */
void upstream_soa_seen(struct upstream_query *, const uint8_t *flat,
    size_t len, const struct upstream_kept *);
/* A kept record's TTL now: its age taken off, capped by what is left
 * (kept NULL: a response just received, the TTL as it is). */
uint32_t upstream_kept_ttl(const struct upstream_kept *, uint32_t ttl);

/* upstream_search.c: forward lookups, res_search()'s walk. */
void upstream_search_start(struct upstream_query *);

/* upstream_ptr.c: reverse lookups. */
void upstream_ptr_start(struct upstream_query *);

#endif
