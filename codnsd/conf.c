/* SPDX-License-Identifier: MIT */
/* codnsd/conf.c: codnsd.conf and peers file parsing, with built-in defaults. */
#include "conf.h"

#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addr.h"

#define LINE_MAX_LEN 1024 /* bytes of one line, without its newline */
#define WORDS_MAX 4	  /* enough to see "key value public extra" */
#define UPSTREAM_PORT 53

#define SEC 1000u
#define MIN (60u * SEC)
#define HOUR (60u * MIN)
#define DAY (24u * HOUR)

enum ktype {
	K_DUR,	    /* duration kept in milliseconds */
	K_TTL,	    /* duration kept in whole seconds */
	K_COUNT,    /* decimal integer */
	K_ADDR,	    /* one address */
	K_LISTEN,   /* repeatable, loopback unless "public" */
	K_UPSTREAM, /* repeatable */
	K_DNSLISTEN, /* repeatable, loopback unless "public", port 53 */
	K_PATH,	    /* file name */
	K_STR,	    /* user name */
	K_BOOL,	    /* yes or no, kept as an int */
	K_DNSNAME   /* repeatable DNS name (peers-dns) */
};

struct key {
	const char *name;
	enum ktype type;
	size_t off;
	size_t size; /* of the member; for strings, the longest value + 1 */
	uint32_t min, max; /* milliseconds for K_DUR and K_TTL */
};

#define F(m) offsetof(struct conf, m), sizeof(((struct conf *)0)->m)
#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/*
 * Bounds keep values away from the absurd (a 0 ms heartbeat floods the
 * peers, a 0 s timeout fails every lookup) without second-guessing a
 * deliberate choice. Negative caching stays within a day as RFC 2308
 * section 5 advises; positive TTLs within a week.
 */
static const struct key keys[] = {
	{ "listen", K_LISTEN, F(listen), 0, 0 },
	{ "upstream", K_UPSTREAM, F(upstream), 0, 0 },
	{ "upstream-timeout", K_DUR, F(upstream_timeout_ms), 1, HOUR },
	{ "lookup-timeout", K_DUR, F(lookup_timeout_ms), 1, HOUR },
	{ "resolv-conf", K_PATH, F(resolv_conf), 0, 0 },
	{ "peer-listen", K_ADDR, F(peer_listen), 0, 0 },
	{ "peers-file", K_PATH, F(peers_file), 0, 0 },
	{ "peer-key-file", K_PATH, F(peer_key_file), 0, 0 },
	{ "peers-dns", K_DNSNAME, F(peers_dns), 0, 0 },
	{ "neighbors", K_COUNT, F(neighbors), 1, 64 },
	{ "neighbor-rtt-max", K_DUR, F(neighbor_rtt_max_ms), 1, 60 * SEC },
	{ "heartbeat-discovery", K_DUR, F(heartbeat_discovery_ms), 100, HOUR },
	{ "heartbeat-steady", K_DUR, F(heartbeat_steady_ms), 1 * SEC, HOUR },
	{ "initial-delay-max", K_DUR, F(initial_delay_max_ms), 0, 60 * SEC },
	{ "peers-per-lookup", K_COUNT, F(peers_per_lookup), 1, 16 },
	{ "peer-queue-max", K_COUNT, F(peer_queue_max), 1, 65536 },
	{ "cache-size", K_COUNT, F(cache_size), 0, 10000000 },
	{ "cache-min-ttl", K_TTL, F(cache_min_ttl_s), 0, 7 * DAY },
	{ "cache-max-ttl", K_TTL, F(cache_max_ttl_s), 0, 7 * DAY },
	{ "negative-ttl", K_TTL, F(negative_ttl_s), 0, DAY },
	{ "control-socket", K_PATH, offsetof(struct conf, control_socket),
	    SUN_PATH_SIZE, 0, 0 },
	{ "lookup-socket", K_PATH, offsetof(struct conf, lookup_socket),
	    SUN_PATH_SIZE, 0, 0 },
	{ "nscd-socket", K_PATH, offsetof(struct conf, nscd_socket),
	    SUN_PATH_SIZE, 0, 0 },
	{ "max-clients", K_COUNT, F(max_clients), 16, 65536 },
	{ "max-clients-per-user", K_COUNT, F(max_clients_per_user), 1, 65536 },
	{ "control-group", K_STR, F(control_group), 0, 0 },
	{ "user", K_STR, F(user), 0, 0 },
	{ "pidfile", K_PATH, F(pidfile), 0, 0 },
	{ "cache-file", K_PATH, F(cache_file), 0, 0 },
	{ "shared-cache", K_BOOL, F(shared_cache), 0, 0 },
	{ "prefetch", K_BOOL, F(prefetch), 0, 0 },
	{ "dns-listen", K_DNSLISTEN, F(dns_listen), 0, 0 },
	/* RFC 8767 section 5 suggests 1 to 3 days of stale data. */
	{ "serve-stale", K_TTL, F(serve_stale_s), 0, 7 * DAY },
	{ "stale-answer-timeout", K_DUR, F(stale_answer_timeout_ms), 0, HOUR },
	/* The stub's response rate limit per source prefix (dnsstub.c). */
	{ "ratelimit", K_COUNT, F(ratelimit), 0, 1000000 },
	{ "ratelimit-slip", K_COUNT, F(ratelimit_slip), 0, 100 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Where the errors of one file go: "path:line: message", one per line. */
struct errs {
	const char *path;
	char *buf;
	size_t len;
	size_t used;
	int count;
};

/* State of one conf_load pass. */
struct parse {
	struct conf *c;
	struct errs *e;
	unsigned seen[NKEYS]; /* line of each key's first occurrence, or 0 */
	unsigned none_listen; /* line of "listen none", or 0 */
};

static void errs_add(struct errs *, unsigned, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
errs_init(struct errs *e, const char *path, char *buf, size_t len)
{
	e->path = path;
	e->buf = buf;
	e->len = buf != NULL ? len : 0;
	e->used = 0;
	e->count = 0;
	if (e->len > 0)
		e->buf[0] = '\0';
}

/* A message that does not fit whole is dropped; the count still goes up. */
static void
errs_add(struct errs *e, unsigned line, const char *fmt, ...)
{
	char msg[LINE_MAX_LEN + 256], full[sizeof(msg) + PATH_MAX + 32];
	va_list ap;
	int n;

	e->count++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		n = snprintf(full, sizeof(full), "%s%s:%u: %s",
		    e->used > 0 ? "\n" : "", e->path, line, msg);
	else
		n = snprintf(full, sizeof(full), "%s%s: %s",
		    e->used > 0 ? "\n" : "", e->path, msg);
	if (n < 0 || (size_t)n >= e->len - e->used)
		return;
	memcpy(e->buf + e->used, full, (size_t)n + 1);
	e->used += (size_t)n;
}

static void
set_addr(struct conf_addr *a, const char *s, uint16_t port)
{
	/* Only for built-in constants, which are known to parse. */
	if (addr_parse(s, port, &a->ss, &a->len) == -1)
		abort();
}

void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	set_addr(&c->listen[0], "127.0.0.1", CONF_DEFAULT_PORT);
	c->nlisten = 1;
	c->nupstream = 0;
	/* 0: follow resolv.conf's timeout and attempts (codnsd.conf.5). */
	c->upstream_timeout_ms = 0;
	c->lookup_timeout_ms = 0;
	snprintf(c->resolv_conf, sizeof(c->resolv_conf), "%s",
	    CONF_DEFAULT_RESOLV);
	set_addr(&c->peer_listen, "0.0.0.0", CONF_DEFAULT_PORT);
	snprintf(c->peers_file, sizeof(c->peers_file), "%s",
	    CONF_DEFAULT_PEERS);
	c->neighbors = 10;
	c->neighbor_rtt_max_ms = 90;
	c->heartbeat_discovery_ms = 1 * SEC;
	c->heartbeat_steady_ms = 30 * SEC;
	c->initial_delay_max_ms = 200;
	c->peers_per_lookup = 3;
	c->peer_queue_max = 256;
	c->cache_size = 10000;
	c->cache_min_ttl_s = 0;
	c->cache_max_ttl_s = 3600;
	c->negative_ttl_s = 3600;
	snprintf(c->control_socket, sizeof(c->control_socket), "%s",
	    CONF_DEFAULT_CONTROL);
	c->shared_cache = 1;
	c->prefetch = 1;
	snprintf(c->lookup_socket, sizeof(c->lookup_socket), "%s",
	    CONF_DEFAULT_LOOKUP);
	c->max_clients = 1024;
	c->max_clients_per_user = 256;
	c->serve_stale_s = 24 * 3600;
	c->stale_answer_timeout_ms = 1800;
	c->ratelimit = CONF_RATELIMIT_AUTO;
	c->ratelimit_slip = 2;
}

int
conf_parse_duration(const char *s, uint32_t *ms)
{
	uint64_t v = 0, mult;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	if (*s == '\0' || strcmp(s, "s") == 0)
		mult = SEC;
	else if (strcmp(s, "ms") == 0)
		mult = 1;
	else if (strcmp(s, "m") == 0)
		mult = MIN;
	else if (strcmp(s, "h") == 0)
		mult = HOUR;
	else
		return -1;
	if (v * mult > UINT32_MAX)
		return -1;
	*ms = (uint32_t)(v * mult);
	return 0;
}

/* The largest unit that shows ms exactly, for messages. */
static const char *
fmt_dur(uint32_t ms, char *out, size_t len)
{
	if (ms != 0 && ms % HOUR == 0)
		snprintf(out, len, "%uh", ms / HOUR);
	else if (ms != 0 && ms % MIN == 0)
		snprintf(out, len, "%um", ms / MIN);
	else if (ms % SEC == 0)
		snprintf(out, len, "%us", ms / SEC);
	else
		snprintf(out, len, "%ums", ms);
	return out;
}

static int
parse_count(const char *s, uint32_t *v)
{
	uint64_t n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
		if (n > UINT32_MAX)
			return -1;
	}
	*v = (uint32_t)n;
	return 0;
}

static int
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;
		const uint8_t *b = sin6->sin6_addr.s6_addr;

		return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && b[12] == 127);
	}
	return 0;
}

static int
is_unspecified(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)ss;

		return sin->sin_addr.s_addr == htonl(INADDR_ANY);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)ss;

		return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
	}
	return 0;
}

static int
valid_unit(const char *u)
{
	return *u == '\0' || strcmp(u, "ms") == 0 || strcmp(u, "s") == 0 ||
	    strcmp(u, "m") == 0 || strcmp(u, "h") == 0;
}

static int
set_dur(struct parse *p, unsigned line, const struct key *k, const char *v)
{
	char lo[32], hi[32];
	uint32_t ms = UINT32_MAX;
	size_t digits = strspn(v, "0123456789");

	if (conf_parse_duration(v, &ms) == -1) {
		if (digits == 0) {
			errs_add(p->e, line, "%s: bad duration '%s' (a number "
			    "with ms, s, m or h)", k->name, v);
			return -1;
		}
		if (!valid_unit(v + digits)) {
			errs_add(p->e, line, "%s: unknown unit '%s' in '%s' "
			    "(use ms, s, m or h)", k->name, v + digits, v);
			return -1;
		}
		/* Only overflow is left: too large for any key. */
	}
	if (ms < k->min || ms > k->max) {
		errs_add(p->e, line, "%s: %s is out of range (%s to %s)",
		    k->name, v, fmt_dur(k->min, lo, sizeof(lo)),
		    fmt_dur(k->max, hi, sizeof(hi)));
		return -1;
	}
	if (k->type == K_TTL) {
		/* DNS TTLs are whole seconds (RFC 1035 section 3.2.1). */
		if (ms % SEC != 0) {
			errs_add(p->e, line,
			    "%s: %s is not a whole number of seconds", k->name,
			    v);
			return -1;
		}
		*(uint32_t *)(void *)((char *)p->c + k->off) = ms / SEC;
	} else
		*(uint32_t *)(void *)((char *)p->c + k->off) = ms;
	return 0;
}

static int
set_count(struct parse *p, unsigned line, const struct key *k, const char *v)
{
	uint32_t n;

	if (parse_count(v, &n) == -1 || n < k->min || n > k->max) {
		errs_add(p->e, line,
		    "%s: '%s' is not an integer from %u to %u", k->name, v,
		    k->min, k->max);
		return -1;
	}
	*(uint32_t *)(void *)((char *)p->c + k->off) = n;
	return 0;
}

static int
set_string(struct parse *p, unsigned line, const struct key *k, const char *v)
{
	if (strlen(v) >= k->size) {
		errs_add(p->e, line,
		    "%s: value is too long (at most %zu bytes)", k->name,
		    k->size - 1);
		return -1;
	}
	memcpy((char *)p->c + k->off, v, strlen(v) + 1);
	return 0;
}

static int
set_bool(struct parse *p, unsigned line, const struct key *k, const char *v)
{
	int *b = (int *)(void *)((char *)p->c + k->off);

	if (strcmp(v, "yes") == 0)
		*b = 1;
	else if (strcmp(v, "no") == 0)
		*b = 0;
	else {
		errs_add(p->e, line, "%s: '%s' is neither yes nor no", k->name,
		    v);
		return -1;
	}
	return 0;
}

/*
 * listen and upstream: the first line in the file replaces the built-in
 * list, later lines append. A repeated address would fail at bind (listen)
 * or only skew the retry order (upstream); either way it is a typo.
 */
static int
add_addr(struct parse *p, unsigned line, const struct key *k, const char *v,
    int public)
{
	struct conf_addr a, *list;
	size_t *n, max, i;
	uint16_t port;
	char buf[ADDR_STRLEN];

	if (k->type == K_LISTEN) {
		list = p->c->listen;
		n = &p->c->nlisten;
		max = CONF_LISTEN_MAX;
		port = CONF_DEFAULT_PORT;
	} else if (k->type == K_DNSLISTEN) {
		list = p->c->dns_listen;
		n = &p->c->ndns_listen;
		max = CONF_LISTEN_MAX;
		port = CONF_DNS_PORT;
	} else {
		list = p->c->upstream;
		n = &p->c->nupstream;
		max = CONF_UPSTREAM_MAX;
		port = UPSTREAM_PORT;
	}
	if (addr_parse(v, port, &a.ss, &a.len) == -1) {
		errs_add(p->e, line, "%s: bad address '%s' (numeric "
		    "IPv4[:PORT] or [IPv6]:PORT)", k->name, v);
		return -1;
	}
	if (k->type != K_UPSTREAM && !public && !is_loopback(&a.ss)) {
		errs_add(p->e, line, "%s: %s is not a loopback address "
		    "(add the word 'public' to allow it)", k->name, v);
		return -1;
	}
	if (k->type == K_UPSTREAM && is_unspecified(&a.ss)) {
		errs_add(p->e, line, "upstream: %s is not a usable address", v);
		return -1;
	}
	if (k->type == K_LISTEN && p->none_listen != 0) {
		errs_add(p->e, line, "listen: an address after 'listen none' "
		    "on line %u", p->none_listen);
		return -1;
	}
	if (p->seen[k - keys] == 0)
		*n = 0;
	for (i = 0; i < *n; i++) {
		if (addr_equal((struct sockaddr *)&list[i].ss,
		    (struct sockaddr *)&a.ss)) {
			errs_add(p->e, line, "%s: %s is listed twice", k->name,
			    addr_format((struct sockaddr *)&a.ss, buf,
			    sizeof(buf)));
			return -1;
		}
	}
	if (*n >= max) {
		errs_add(p->e, line, "%s: too many addresses (at most %zu)",
		    k->name, max);
		return -1;
	}
	list[(*n)++] = a;
	return 0;
}

/*
 * "listen none" and "lookup-socket none" turn a lookup transport off. A
 * "none" among listen addresses is a contradiction, so it must stand
 * alone.
 */
static int
set_none(struct parse *p, unsigned line, const struct key *k)
{
	if (k->type == K_LISTEN) {
		if (p->seen[k - keys] != 0) {
			errs_add(p->e, line, "listen: 'none' cannot follow "
			    "the addresses on line %u", p->seen[k - keys]);
			return -1;
		}
		p->c->nlisten = 0;
		p->none_listen = line;
		return 0;
	}
	if (k->off == offsetof(struct conf, nscd_socket))
		p->c->nscd_socket[0] = '\0';
	else
		p->c->lookup_socket[0] = '\0';
	return 0;
}

/* A host name as RFC 1123 section 2.1 writes them, or a service name
 * with "_" labels (RFC 2782); a final dot is allowed and dropped. */
static int
valid_dnsname(const char *v)
{
	size_t len = strlen(v), label = 0, i;

	if (len > 0 && v[len - 1] == '.')
		len--;
	if (len == 0 || len > CONF_DNSNAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (v[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum((unsigned char)v[i]) || v[i] == '-' ||
		    v[i] == '_') {
			if (++label > 63)
				return 0;
		} else
			return 0;
	}
	return label > 0;
}

/* peers-dns: repeatable; the first line replaces the (empty) default. */
static int
add_dnsname(struct parse *p, unsigned line, const struct key *k,
    const char *v)
{
	size_t i, len = strlen(v);

	if (!valid_dnsname(v)) {
		errs_add(p->e, line, "%s: '%s' is not a DNS name", k->name, v);
		return -1;
	}
	if (v[len - 1] == '.')
		len--;
	for (i = 0; i < p->c->npeers_dns; i++)
		if (strncasecmp(p->c->peers_dns[i], v, len) == 0 &&
		    p->c->peers_dns[i][len] == '\0') {
			errs_add(p->e, line, "%s: %s is listed twice", k->name,
			    v);
			return -1;
		}
	if (p->c->npeers_dns >= CONF_PEERS_DNS_MAX) {
		errs_add(p->e, line, "%s: too many names (at most %d)",
		    k->name, CONF_PEERS_DNS_MAX);
		return -1;
	}
	memcpy(p->c->peers_dns[p->c->npeers_dns], v, len);
	p->c->peers_dns[p->c->npeers_dns++][len] = '\0';
	return 0;
}

static int
set_value(struct parse *p, unsigned line, const struct key *k, char **w,
    int nw)
{
	struct conf_addr *a;

	if ((k->type == K_LISTEN || k->type == K_DNSLISTEN) && nw == 3 &&
	    strcmp(w[2], "public") == 0)
		return add_addr(p, line, k, w[1], 1);
	if (nw == 2 && strcmp(w[1], "none") == 0 &&
	    (k->type == K_LISTEN ||
		k->off == offsetof(struct conf, lookup_socket) ||
		k->off == offsetof(struct conf, nscd_socket)))
		return set_none(p, line, k);
	if (nw > 2) {
		errs_add(p->e, line, "%s: unexpected '%s' after the value",
		    k->name, w[2]);
		return -1;
	}
	switch (k->type) {
	case K_DUR:
	case K_TTL:
		return set_dur(p, line, k, w[1]);
	case K_COUNT:
		return set_count(p, line, k, w[1]);
	case K_LISTEN:
	case K_UPSTREAM:
	case K_DNSLISTEN:
		return add_addr(p, line, k, w[1], 0);
	case K_ADDR:
		a = (struct conf_addr *)(void *)((char *)p->c + k->off);
		if (addr_parse(w[1], CONF_DEFAULT_PORT, &a->ss, &a->len) ==
		    -1) {
			errs_add(p->e, line, "%s: bad address '%s' (numeric "
			    "IPv4[:PORT] or [IPv6]:PORT)", k->name, w[1]);
			return -1;
		}
		return 0;
	case K_PATH:
	case K_STR:
		return set_string(p, line, k, w[1]);
	case K_BOOL:
		return set_bool(p, line, k, w[1]);
	case K_DNSNAME:
		return add_dnsname(p, line, k, w[1]);
	}
	return -1;
}

/*
 * Cut the comment and split on blanks. Returns the number of words (at
 * most WORDS_MAX are kept; the count goes on so extra words are seen).
 */
static int
split(char *s, char **w)
{
	int n = 0;
	char *hash;

	if ((hash = strchr(s, '#')) != NULL)
		*hash = '\0';
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		if (n < WORDS_MAX)
			w[n] = s;
		n++;
		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return n;
}

static const char *
file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a file";
}

/*
 * Read a whole file into memory, refusing what is not a regular file or
 * is larger than max bytes. O_NONBLOCK because a FIFO would block open()
 * until a writer appears, with the event loop stuck behind it; O_NOCTTY
 * because a terminal must not become ours. fstat() after open() checks
 * what was opened, so a symlink is fine as long as its target is a
 * regular file, and a swap between a check and the open cannot sneak a
 * device in. /dev/zero and friends never end, so the size is capped both
 * by st_size and by what read() returns. Returns 0 with a malloc'd,
 * NUL-terminated copy in *out; -1 with errno set (ENOENT is left for the
 * caller to judge) and, except for ENOENT, a message in e.
 */
static int
read_file(struct errs *e, const char *path, size_t max, char **out,
    size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t used = 0;
	ssize_t n;
	int fd, saved = 0;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) ==
	    -1) {
		saved = errno;
		if (saved != ENOENT)
			errs_add(e, 0, "%s", strerror(saved));
		goto fail;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		errs_add(e, 0, "%s", strerror(saved));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		saved = EINVAL;
		errs_add(e, 0, "not a regular file (%s)", file_kind(st.st_mode));
		goto fail;
	}
	if ((uintmax_t)st.st_size > max) {
		saved = EFBIG;
		errs_add(e, 0, "larger than %zu bytes", max);
		goto fail;
	}
	if ((buf = malloc(max + 2)) == NULL) {
		saved = errno;
		errs_add(e, 0, "%s", strerror(saved));
		goto fail;
	}
	/* One byte more than allowed tells a file that grew since fstat. */
	while (used <= max) {
		n = read(fd, buf + used, max + 1 - used);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			errs_add(e, 0, "read error: %s", strerror(saved));
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max) {
		saved = EFBIG;
		errs_add(e, 0, "larger than %zu bytes", max);
		goto fail;
	}
	buf[used] = '\0';
	close(fd);
	*out = buf;
	*len = used;
	return 0;
fail:
	free(buf);
	if (fd != -1)
		close(fd);
	errno = saved;
	return -1;
}

int
conf_read_file(const char *path, size_t max, char **text, size_t *len,
    char *err, size_t errlen)
{
	struct errs e;

	errs_init(&e, path, err, errlen);
	return read_file(&e, path, max, text, len);
}

/*
 * Cut the next line out of text (len bytes, from *pos) into buf
 * (LINE_MAX_LEN + 1 bytes), without its newline. Returns 1 for a line, 0
 * at the end of the text, -1 for an overlong line (whose rest is skipped)
 * and -3 for a NUL byte.
 */
static int
next_line(const char *text, size_t len, size_t *pos, char *buf)
{
	const char *p = text + *pos, *nl;
	size_t left = len - *pos, n;

	if (left == 0)
		return 0;
	nl = memchr(p, '\n', left);
	n = nl != NULL ? (size_t)(nl - p) : left;
	*pos += nl != NULL ? n + 1 : n;
	if (n > LINE_MAX_LEN) {
		memcpy(buf, p, LINE_MAX_LEN);
		buf[LINE_MAX_LEN] = '\0';
		return -1;
	}
	memcpy(buf, p, n);
	buf[n] = '\0';
	return memchr(p, '\0', n) != NULL ? -3 : 1;
}

/* Errors of next_line() as messages; 0 when the line is to be parsed. */
static int
line_error(struct errs *e, unsigned line, int r)
{
	switch (r) {
	case -1:
		errs_add(e, line, "line longer than %d bytes", LINE_MAX_LEN);
		return -1;
	case -3:
		errs_add(e, line, "line contains a NUL byte");
		return -1;
	}
	return 0;
}

/* A line past the cap ends the parse: what follows is not read at all. */
static int
too_many_lines(struct errs *e, unsigned line, unsigned max)
{
	if (line <= max)
		return 0;
	errs_add(e, line, "more than %u lines", max);
	return 1;
}

/* Hand every line of text, up to max lines, to fn; next_line()'s errors
 * and the line cap go to e. */
static void
parse_lines(struct errs *e, const char *text, size_t len, unsigned max,
    void (*fn)(void *arg, unsigned line, char *s), void *arg)
{
	char line[LINE_MAX_LEN + 1];
	unsigned lineno = 0;
	size_t pos = 0;
	int r;

	while ((r = next_line(text, len, &pos, line)) != 0) {
		if (too_many_lines(e, ++lineno, max))
			break;
		if (line_error(e, lineno, r) == 0)
			fn(arg, lineno, line);
	}
}

/*
 * Read path (at most max bytes): 0 and its text (the caller frees it), or
 * -1 with errno and the reason in err; a missing file (ENOENT) is said in
 * err only when report_missing.
 */
static int
load_text(const char *path, size_t max, int report_missing, char **text,
    size_t *len, char *err, size_t errlen)
{
	struct errs e;

	errs_init(&e, path, err, errlen);
	if (read_file(&e, path, max, text, len) == 0)
		return 0;
	if (errno == ENOENT && report_missing)
		errs_add(&e, 0, "%s", strerror(ENOENT));
	return -1;
}

static void
parse_line(void *arg, unsigned line, char *s)
{
	struct parse *p = arg;
	char *w[WORDS_MAX];
	const struct key *k = NULL;
	size_t i;
	int nw;

	if ((nw = split(s, w)) == 0)
		return;
	for (i = 0; i < NKEYS; i++)
		if (strcmp(w[0], keys[i].name) == 0)
			k = &keys[i];
	if (k == NULL) {
		errs_add(p->e, line, "unknown key '%s'", w[0]);
		return;
	}
	if (nw < 2) {
		errs_add(p->e, line, "%s: missing value", k->name);
		return;
	}
	/* Repeating a single-valued key would silently drop the first. */
	if (k->type != K_LISTEN && k->type != K_UPSTREAM &&
	    k->type != K_DNSLISTEN && k->type != K_DNSNAME &&
	    p->seen[k - keys] != 0) {
		errs_add(p->e, line, "%s: already set on line %u", k->name,
		    p->seen[k - keys]);
		return;
	}
	if (set_value(p, line, k, w, nw) == 0 && p->seen[k - keys] == 0)
		p->seen[k - keys] = line;
}

static size_t
key_index(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	return i;
}

/* Checks that need the whole file. */
static void
parse_finish(struct parse *p)
{
	unsigned lmin = p->seen[key_index("cache-min-ttl")];
	unsigned lmax = p->seen[key_index("cache-max-ttl")];

	unsigned lper = p->seen[key_index("max-clients-per-user")];

	if (p->c->max_clients_per_user > p->c->max_clients)
		errs_add(p->e, lper ? lper : p->seen[key_index("max-clients")],
		    "max-clients-per-user (%u) is greater than max-clients "
		    "(%u)", p->c->max_clients_per_user, p->c->max_clients);
	if (p->c->cache_min_ttl_s > p->c->cache_max_ttl_s)
		errs_add(p->e, lmin > lmax ? lmin : lmax,
		    "cache-min-ttl (%us) is greater than cache-max-ttl (%us)",
		    p->c->cache_min_ttl_s, p->c->cache_max_ttl_s);
}

int
conf_parse(struct conf *c, const char *name, const char *text, size_t len,
    char *err, size_t errlen)
{
	struct errs e;
	struct parse p;
	struct conf *copy;

	errs_init(&e, name, err, errlen);
	if ((copy = malloc(sizeof(*copy))) == NULL) {
		errs_add(&e, 0, "%s", strerror(errno));
		return -1;
	}
	*copy = *c;
	memset(&p, 0, sizeof(p));
	p.c = copy;
	p.e = &e;
	parse_lines(&e, text, len, CONF_LINES_MAX, parse_line, &p);
	if (e.count == 0)
		parse_finish(&p);
	if (e.count == 0)
		*c = *copy;
	free(copy);
	return e.count == 0 ? 0 : -1;
}

int
conf_load(struct conf *c, const char *path, int missing_ok, char *err,
    size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (load_text(path, CONF_FILE_MAX, !missing_ok, &text, &len, err,
		errlen) == -1)
		return missing_ok && errno == ENOENT ? 0 : -1;
	rc = conf_parse(c, path, text, len, err, errlen);
	free(text);
	return rc;
}

/* The peers file being parsed. */
struct parse_peers {
	struct errs *e;
	struct conf_addr *list;
	size_t n, cap;
	unsigned *lines; /* the line of each entry of list */
};

/* Room for one more peer: the arrays double, up to CONF_PEERS_MAX (a
 * small file costs a small allocation, also to the fuzzer). */
static int
peers_grow(struct parse_peers *pp)
{
	struct conf_addr *list;
	unsigned *lines;
	size_t cap;

	if (pp->n < pp->cap)
		return 0;
	cap = pp->cap == 0 ? 16 : pp->cap * 2;
	if (cap > CONF_PEERS_MAX)
		cap = CONF_PEERS_MAX;
	if ((list = realloc(pp->list, cap * sizeof(*list))) == NULL)
		return -1;
	pp->list = list;
	if ((lines = realloc(pp->lines, cap * sizeof(*lines))) == NULL)
		return -1;
	pp->lines = lines;
	pp->cap = cap;
	return 0;
}

static void
parse_peer(void *arg, unsigned line, char *s)
{
	struct parse_peers *pp = arg;
	struct errs *e = pp->e;
	char *w[WORDS_MAX];
	struct conf_addr a;
	char buf[ADDR_STRLEN];
	size_t i;
	int nw;

	if ((nw = split(s, w)) == 0)
		return;
	if (nw > 1) {
		errs_add(e, line, "unexpected '%s' after the address", w[1]);
		return;
	}
	if (addr_parse(w[0], CONF_DEFAULT_PORT, &a.ss, &a.len) == -1 ||
	    is_unspecified(&a.ss)) {
		errs_add(e, line, "bad peer address '%s' (numeric "
		    "IPv4[:PORT] or [IPv6]:PORT)", w[0]);
		return;
	}
	for (i = 0; i < pp->n; i++) {
		if (addr_equal((struct sockaddr *)&pp->list[i].ss,
		    (struct sockaddr *)&a.ss)) {
			addr_format((struct sockaddr *)&a.ss, buf,
			    sizeof(buf));
			errs_add(e, line,
			    "peer %s is already listed on line %u", buf,
			    pp->lines[i]);
			return;
		}
	}
	if (pp->n >= CONF_PEERS_MAX) {
		errs_add(e, line, "too many peers (at most %d)",
		    CONF_PEERS_MAX);
		return;
	}
	if (peers_grow(pp) == -1) {
		errs_add(e, line, "%s", strerror(errno));
		return;
	}
	pp->lines[pp->n] = line;
	pp->list[pp->n++] = a;
}

int
conf_parse_peers(const char *name, const char *text, size_t len,
    struct conf_addr **out, size_t *n, char *err, size_t errlen)
{
	struct errs e;
	struct parse_peers pp;
	struct conf_addr *shrunk;

	errs_init(&e, name, err, errlen);
	memset(&pp, 0, sizeof(pp));
	pp.e = &e;
	parse_lines(&e, text, len, CONF_PEERS_LINES_MAX, parse_peer, &pp);
	if (e.count > 0)
		goto fail;
	free(pp.lines);
	if (pp.n == 0) {
		free(pp.list);
		pp.list = NULL;
	} else if ((shrunk = realloc(pp.list, pp.n * sizeof(*pp.list))) !=
	    NULL)
		pp.list = shrunk;
	*out = pp.list;
	*n = pp.n;
	return 0;
fail:
	free(pp.list);
	free(pp.lines);
	errno = EINVAL;
	return -1;
}

int
conf_load_peers(const char *path, struct conf_addr **out, size_t *n,
    char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	if (load_text(path, CONF_PEERS_FILE_MAX, 0, &text, &len, err,
		errlen) == -1) {
		if (errno != ENOENT)
			errno = EINVAL;
		return -1;
	}
	rc = conf_parse_peers(path, text, len, out, n, err, errlen);
	free(text);
	return rc;
}

int
conf_file_changed(const struct stat *a, const struct stat *b)
{
	return a->st_dev != b->st_dev || a->st_ino != b->st_ino ||
	    a->st_size != b->st_size ||
	    a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	    a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	    a->st_ctim.tv_sec != b->st_ctim.tv_sec ||
	    a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}
