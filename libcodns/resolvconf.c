/* SPDX-License-Identifier: MIT */
/* libcodns/resolvconf.c: what glibc's resolver takes from resolv.conf. */
#include "resolvconf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* glibc's limits: RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY. */
#define RC_NDOTS_MAX 15
#define RC_TIMEOUT_MAX 30
#define RC_ATTEMPTS_MAX 5
#define RC_FILE_MAX (1024 * 1024) /* bytes of resolv.conf read at all */

static void
resolvconf_defaults(struct resolvconf *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->ndots = 1;
	rc->timeout_s = 5;
	rc->attempts = 2;
}

static void
resolvconf_add_server(struct resolvconf *rc, const char *text)
{
	struct addrinfo hints, *res = NULL;
	struct conf_addr *a;

	if (rc->nservers >= RESOLVCONF_NS_MAX)
		return;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	/* Numeric only, %scope included, as glibc accepts them. */
	if (getaddrinfo(text, "53", &hints, &res) != 0 || res == NULL)
		return;
	if (res->ai_addrlen <= sizeof(rc->servers[0].ss)) {
		a = &rc->servers[rc->nservers++];
		memset(a, 0, sizeof(*a));
		memcpy(&a->ss, res->ai_addr, res->ai_addrlen);
		a->len = res->ai_addrlen;
	}
	freeaddrinfo(res);
}

/* "search a b c" and "domain a" both replace the list: the last wins. */
static void
resolvconf_set_search(struct resolvconf *rc, char *list, int one)
{
	char *tok, *save = NULL;
	size_t len;

	rc->nsearch = 0;
	for (tok = strtok_r(list, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		len = strlen(tok);
		if (len > 1 && tok[len - 1] == '.')
			tok[--len] = '\0';
		if (rc->nsearch < RESOLVCONF_SEARCH_MAX && len > 0 &&
		    len <= PROTO_NAME_MAX && proto_name_valid(tok))
			snprintf(rc->search[rc->nsearch++],
			    sizeof(rc->search[0]), "%s", tok);
		if (one)
			break;
	}
}

static uint32_t
resolvconf_option_value(const char *v, uint32_t max)
{
	unsigned long n = strtoul(v, NULL, 10);

	return n > max ? max : (uint32_t)n;
}

static void
resolvconf_options(struct resolvconf *rc, char *list)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(list, " \t\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(tok, "ndots:", 6) == 0)
			rc->ndots = resolvconf_option_value(tok + 6,
			    RC_NDOTS_MAX);
		else if (strncmp(tok, "timeout:", 8) == 0) {
			rc->timeout_s = resolvconf_option_value(tok + 8,
			    RC_TIMEOUT_MAX);
			if (rc->timeout_s == 0)
				rc->timeout_s = 1;
		} else if (strncmp(tok, "attempts:", 9) == 0) {
			rc->attempts = resolvconf_option_value(tok + 9,
			    RC_ATTEMPTS_MAX);
			if (rc->attempts == 0)
				rc->attempts = 1;
		} else if (strcmp(tok, "rotate") == 0)
			rc->rotate = 1;
	}
}

/* glibc's keyword match: the word, then a blank. */
static char *
resolvconf_keyword(char *line, const char *kw)
{
	size_t n = strlen(kw);

	if (strncmp(line, kw, n) != 0 || (line[n] != ' ' && line[n] != '\t'))
		return NULL;
	return line + n;
}

/* With no search or domain line, glibc searches the host name's domain. */
static void
resolvconf_host_domain(struct resolvconf *rc)
{
	char host[256], *dot;

	if (gethostname(host, sizeof(host) - 1) != 0)
		return;
	host[sizeof(host) - 1] = '\0';
	if ((dot = strchr(host, '.')) != NULL && dot[1] != '\0')
		resolvconf_set_search(rc, dot + 1, 1);
}

/*
 * Open resolv.conf without blocking and only as a regular file of sane
 * size: a FIFO would block open() (the daemon's loop, or every process
 * that resolves through the module), and a device would never end.
 */
static FILE *
resolvconf_open(const char *path)
{
	struct stat st;
	FILE *f;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)) ==
	    -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > RC_FILE_MAX) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if ((f = fdopen(fd, "r")) == NULL)
		close(fd);
	return f;
}

int
resolvconf_load(const char *path, struct resolvconf *rc)
{
	FILE *f;
	char line[1024], *v, *p;
	int saw_search = 0, rv = 0, lines;

	resolvconf_defaults(rc);
	if ((f = resolvconf_open(path)) == NULL)
		rv = errno == ENOENT ? 0 : -1;
	for (lines = 0; f != NULL && lines < 10000 &&
	     fgets(line, sizeof(line), f) != NULL;
	     lines++) {
		if (line[0] == '#' || line[0] == ';')
			continue;
		if ((v = resolvconf_keyword(line, "nameserver")) != NULL) {
			while (*v == ' ' || *v == '\t')
				v++;
			for (p = v; *p != '\0' && !isspace((unsigned char)*p);
			     p++)
				;
			*p = '\0';
			resolvconf_add_server(rc, v);
		} else if ((v = resolvconf_keyword(line, "domain")) != NULL) {
			resolvconf_set_search(rc, v, 1);
			saw_search = 1;
		} else if ((v = resolvconf_keyword(line, "search")) != NULL) {
			resolvconf_set_search(rc, v, 0);
			saw_search = 1;
		} else if ((v = resolvconf_keyword(line, "options")) != NULL)
			resolvconf_options(rc, v);
	}
	if (f != NULL)
		fclose(f);
	if (!saw_search)
		resolvconf_host_domain(rc);
	if (rc->nservers == 0)
		resolvconf_add_server(rc, "127.0.0.1");
	return rv;
}

int
resolvconf_equal(const struct resolvconf *a, const struct resolvconf *b)
{
	size_t i;

	if (a->nservers != b->nservers || a->nsearch != b->nsearch ||
	    a->ndots != b->ndots || a->timeout_s != b->timeout_s ||
	    a->attempts != b->attempts || a->rotate != b->rotate)
		return 0;
	for (i = 0; i < a->nservers; i++)
		if (a->servers[i].len != b->servers[i].len ||
		    memcmp(&a->servers[i].ss, &b->servers[i].ss,
			a->servers[i].len) != 0)
			return 0;
	for (i = 0; i < a->nsearch; i++)
		if (strcmp(a->search[i], b->search[i]) != 0)
			return 0;
	return 1;
}

uint32_t
resolvconf_wait_ms(const struct resolvconf *rc, uint32_t per_try_ms,
    size_t nservers)
{
	uint64_t t0 = per_try_ms ? per_try_ms : rc->timeout_s * 1000ULL;
	uint64_t total = 0, t;
	size_t i, n = nservers > 0 ? nservers : 1;

	/* res_send.c: seconds = retrans << ns; if (ns > 0) seconds /= n. */
	for (i = 0; i < n && i < 16; i++) {
		t = t0 << i;
		if (i > 0)
			t /= n;
		total += t > 0 ? t : 1;
	}
	total *= rc->attempts > 0 ? rc->attempts : 1;
	return total > 3600000 ? 3600000 : (uint32_t)total;
}

size_t
resolvconf_walk_max(size_t nsearch, const char *name)
{
	size_t len;

	if (name == NULL || (len = strlen(name)) == 0 || name[len - 1] == '.')
		return 1;
	return nsearch + 1;
}

uint32_t
resolvconf_walk_wait_ms(const struct resolvconf *rc, uint32_t per_try_ms,
    size_t nservers, const char *name)
{
	uint64_t total = (uint64_t)resolvconf_wait_ms(rc, per_try_ms, nservers) *
	    resolvconf_walk_max(nservers > 1 ? rc->nsearch : 0, name);

	return total > 3600000 ? 3600000 : (uint32_t)total;
}

static size_t
resolvconf_dots(const char *name, int *trailing)
{
	size_t n = 0, len = strlen(name);
	const char *p;

	for (p = name; *p != '\0'; p++)
		if (*p == '.')
			n++;
	*trailing = len > 0 && name[len - 1] == '.';
	return n;
}

static size_t
resolvconf_push(char out[][PROTO_NAME_MAX + 1], size_t n, size_t max,
    const char *name, const char *domain)
{
	int len;

	if (n >= max)
		return n;
	if (domain == NULL)
		len = snprintf(out[n], PROTO_NAME_MAX + 1, "%s", name);
	else
		len = snprintf(out[n], PROTO_NAME_MAX + 1, "%s.%s", name,
		    domain);
	/* Too long with the domain: glibc skips it too. */
	if (len < 0 || len > PROTO_NAME_MAX)
		return n;
	return n + 1;
}

size_t
resolvconf_candidates(const struct resolvconf *rc, const char *name,
    char out[][PROTO_NAME_MAX + 1], size_t max, int *as_is_first)
{
	char bare[PROTO_QNAME_MAX + 1];
	int trailing;
	size_t dots = resolvconf_dots(name, &trailing), n = 0, i;

	snprintf(bare, sizeof(bare), "%s", name);
	*as_is_first = 0;
	if (trailing) {
		/* Absolute: that name only (res_search's trailing_dot). */
		bare[strlen(bare) - 1] = '\0';
		*as_is_first = 1;
		return resolvconf_push(out, 0, max, bare, NULL);
	}
	if (dots >= rc->ndots) {
		n = resolvconf_push(out, n, max, bare, NULL);
		*as_is_first = n == 1;
	}
	for (i = 0; i < rc->nsearch; i++)
		n = resolvconf_push(out, n, max, bare, rc->search[i]);
	if (dots < rc->ndots)
		n = resolvconf_push(out, n, max, bare, NULL);
	return n;
}
