/* SPDX-License-Identifier: MIT */
/* codnsd/front/hostsfile.c: the hosts file, read as glibc's files module
 * reads it, for the nscd protocol. */
#include "hostsfile.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "codns.h"

struct hostsfile_line {
	uint8_t family; /* CODNS_AF_* */
	uint8_t a[16];
	char *names[1 + PROTO_ALIASES_MAX]; /* the canonical name first */
	size_t nnames;
	int matched; /* the name asked is one of them, beyond the cap too */
};

static int hostsfile_multi; /* host.conf's "multi on", read once as glibc does */

void
hostsfile_read_conf(void)
{
	char line[256], *k, *v;
	FILE *f;

	hostsfile_multi = 0;
	if ((f = fopen("/etc/host.conf", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		k = strtok(line, " \t\r\n,");
		v = k != NULL ? strtok(NULL, " \t\r\n,") : NULL;
		if (k != NULL && v != NULL && strcasecmp(k, "multi") == 0)
			hostsfile_multi = strcasecmp(v, "on") == 0;
	}
	fclose(f);
}

/*
 * One line read for family af (AF_UNSPEC: the line's own), glibc's
 * rules: for AF_INET an IPv6 line counts if it is v4-mapped or ::1 (then
 * 127.0.0.1); for AF_INET6 an IPv4 line does not. name: whether the
 * line names it (case aside); NULL: no match asked. 0: no such line.
 */
static int
hostsfile_parse_line(char *line, int af, const char *name,
    struct hostsfile_line *h)
{
	static const char sep[] = " \t\r\n\f\v";
	struct in6_addr a6;
	struct in_addr a4;
	char *tok, *save = NULL;

	line[strcspn(line, "#")] = '\0';
	if ((tok = strtok_r(line, sep, &save)) == NULL)
		return 0;
	memset(h, 0, sizeof(*h));
	if (af != AF_INET6 && inet_pton(AF_INET, tok, &a4) == 1) {
		h->family = CODNS_AF_INET;
		memcpy(h->a, &a4, 4);
	} else if (inet_pton(AF_INET6, tok, &a6) == 1) {
		if (af == AF_INET && IN6_IS_ADDR_V4MAPPED(&a6)) {
			h->family = CODNS_AF_INET;
			memcpy(h->a, a6.s6_addr + 12, 4);
		} else if (af == AF_INET && IN6_IS_ADDR_LOOPBACK(&a6)) {
			h->family = CODNS_AF_INET;
			a4.s_addr = htonl(INADDR_LOOPBACK);
			memcpy(h->a, &a4, 4);
		} else if (af == AF_INET)
			return 0;
		else {
			h->family = CODNS_AF_INET6;
			memcpy(h->a, &a6, 16);
		}
	} else
		return 0;
	while ((tok = strtok_r(NULL, sep, &save)) != NULL) {
		if (name != NULL && strcasecmp(tok, name) == 0)
			h->matched = 1;
		if (h->nnames < sizeof(h->names) / sizeof(h->names[0]) &&
		    strlen(tok) <= PROTO_NAME_MAX)
			h->names[h->nnames++] = tok;
	}
	return h->nnames > 0;
}

static void
hostsfile_alias(struct proto_answer *a, const char *name)
{
	if (a->naliases < PROTO_ALIASES_MAX)
		snprintf(a->aliases[a->naliases++], sizeof(a->aliases[0]), "%s",
		    name);
}

static void
hostsfile_addr(struct proto_answer *a, const struct hostsfile_line *h)
{
	if (a->naddrs >= PROTO_ADDRS_MAX)
		return;
	a->addrs[a->naddrs].family = h->family;
	memcpy(a->addrs[a->naddrs].a, h->a, sizeof(h->a));
	a->naddrs++;
}

/*
 * name in the hosts file for af: AF_INET or AF_INET6 as
 * gethostbyname3_r (the first line naming it; with multi, every other
 * such line adds its address, its aliases and its own name when that
 * differs), AF_UNSPEC as gethostbyname4_r (getaddrinfo's: every line,
 * with multi, each in its own family; the first line's name). 1: found.
 */
int
hostsfile_byname(const char *path, const char *name, int af,
    struct proto_answer *a)
{
	struct hostsfile_line h;
	char *line = NULL;
	size_t cap = 0, i;
	FILE *f;

	memset(a, 0, sizeof(*a));
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (getline(&line, &cap, f) != -1) {
		if (!hostsfile_parse_line(line, af, name, &h) || !h.matched)
			continue;
		if (a->naddrs == 0)
			snprintf(a->cname, sizeof(a->cname), "%s", h.names[0]);
		for (i = 1; af != AF_UNSPEC && i < h.nnames; i++)
			hostsfile_alias(a, h.names[i]);
		if (a->naddrs > 0 && af != AF_UNSPEC &&
		    strcmp(a->cname, h.names[0]) != 0)
			hostsfile_alias(a, h.names[0]);
		hostsfile_addr(a, &h);
		if (!hostsfile_multi)
			break;
	}
	free(line);
	fclose(f);
	a->status = CODNS_FOUND;
	return a->naddrs > 0;
}

/* The first line holding addr (len 4: AF_INET, 16: AF_INET6), as
 * gethostbyaddr_r (glibc 2.36 maps no IPv4 line for a v4-mapped address).
 * 1: found. */
int
hostsfile_byaddr(const char *path, const uint8_t *addr, size_t len,
    struct proto_answer *a)
{
	struct hostsfile_line h;
	char *line = NULL;
	size_t cap = 0, i;
	FILE *f;
	int found = 0;

	memset(a, 0, sizeof(*a));
	if ((f = fopen(path, "re")) == NULL)
		return 0;
	while (!found && getline(&line, &cap, f) != -1) {
		if (!hostsfile_parse_line(line, len == 4 ? AF_INET : AF_INET6,
			NULL, &h) || memcmp(h.a, addr, len) != 0)
			continue;
		snprintf(a->cname, sizeof(a->cname), "%s", h.names[0]);
		for (i = 1; i < h.nnames; i++)
			hostsfile_alias(a, h.names[i]);
		hostsfile_addr(a, &h);
		found = 1;
	}
	free(line);
	fclose(f);
	a->status = CODNS_FOUND;
	return found;
}

/* Whether the client's filter of a GETAI answer u for family fam gives
 * what glibc's per-family lookup p gives: the same addresses in the same
 * order, and the same canonical name. */
int
hostsfile_same(const struct proto_answer *u, uint8_t fam,
    const struct proto_answer *p)
{
	size_t i, j = 0;

	for (i = 0; i < u->naddrs; i++) {
		if (u->addrs[i].family != fam)
			continue;
		if (j >= p->naddrs ||
		    memcmp(&u->addrs[i], &p->addrs[j], sizeof(p->addrs[j])) != 0)
			return 0;
		j++;
	}
	return j == p->naddrs && (j == 0 || strcmp(u->cname, p->cname) == 0);
}

