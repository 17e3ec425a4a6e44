/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peerlist.c: the listed peers: the peers file read into
 * entries sorted by id, found by id or address. */
#include "peerlist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "hrw.h"

uint64_t
peerlist_id(const struct sockaddr *sa)
{
	char s[ADDR_STRLEN];

	addr_format(sa, s, sizeof(s));
	return hrw_peer_id(s, strlen(s));
}

static int
peerlist_cmp(const void *a, const void *b)
{
	const struct peerlist_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
peerlist_is(const struct sockaddr *sa, const struct conf_addr *set,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr_equal((const struct sockaddr *)&set[i].ss, sa))
			return 1;
	return 0;
}

/* Put a into *e unless it is this node; 1 when it was put. One peers
 * file or registry serves the whole cluster: skip ourselves. */
static int
peerlist_put(struct peerlist_entry *e, const struct conf_addr *a,
    uint16_t src, const struct conf_addr *listen,
    const struct conf_addr *self, size_t nself)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;

	if (peerlist_is(sa, listen, 1) || peerlist_is(sa, self, nself))
		return 0;
	e->addr = *a;
	e->id = peerlist_id(sa);
	e->src = src;
	addr_format(sa, e->name, sizeof(e->name));
	return 1;
}

int
peerlist_read(const char *path, const struct peerlist_more *more,
    const struct conf_addr *listen, const struct conf_addr *self,
    size_t nself, struct peerlist_entry **list, uint64_t **ids, size_t *n,
    size_t *cut, char *err, size_t errlen)
{
	struct conf_addr *addrs = NULL;
	struct peerlist_entry *l;
	uint64_t *id;
	size_t na = 0, nm = more != NULL ? more->n : 0, i, j, nfile;

	*cut = 0;
	if (conf_load_peers(path, &addrs, &na, err, errlen) == -1) {
		if (errno != ENOENT || more == NULL || !more->file_optional) {
			if (errno == ENOENT)
				snprintf(err, errlen, "%s: %s", path,
				    strerror(ENOENT));
			return -1;
		}
		na = 0; /* peers-dns alone */
	}
	l = calloc(na + nm ? na + nm : 1, sizeof(*l));
	id = calloc(na + nm ? na + nm : 1, sizeof(*id));
	if (l == NULL || id == NULL) {
		free(addrs);
		free(l);
		free(id);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = j = 0; i < na; i++)
		j += peerlist_put(&l[j], &addrs[i], PEERLIST_SRC_FILE, listen,
		    self, nself);
	free(addrs);
	/* Sorted by id: peerlist_by_id() is a binary search; the file's
	 * entries are sorted first so that the others can be checked
	 * against them. */
	qsort(l, j, sizeof(*l), peerlist_cmp);
	nfile = j;
	for (i = 0; i < nm; i++) {
		if (peerlist_by_addr(l, nfile,
			(const struct sockaddr *)&more->addrs[i].ss) != NULL)
			continue;
		if (j >= CONF_PEERS_MAX) {
			(*cut)++;
			continue;
		}
		j += peerlist_put(&l[j], &more->addrs[i], more->src[i], listen,
		    self, nself);
	}
	qsort(l, j, sizeof(*l), peerlist_cmp);
	for (i = 0; i < j; i++)
		id[i] = l[i].id;
	*list = l;
	*ids = id;
	*n = j;
	return 0;
}

struct peerlist_entry *
peerlist_by_id(const struct peerlist_entry *list, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (list[mid].id == id) {
			while (mid > 0 && list[mid - 1].id == id)
				mid--;
			return (struct peerlist_entry *)&list[mid];
		}
		if (list[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct peerlist_entry *
peerlist_by_addr(const struct peerlist_entry *list, size_t n,
    const struct sockaddr *sa)
{
	const struct peerlist_entry *p = peerlist_by_id(list, n,
	    peerlist_id(sa));

	/* Equal ids of different addresses (a hash collision) sit side by
	 * side. */
	for (; p != NULL && p < list + n; p++) {
		if (addr_equal((const struct sockaddr *)&p->addr.ss, sa))
			return (struct peerlist_entry *)p;
		if (p + 1 < list + n && p[1].id != p->id)
			break;
	}
	return NULL;
}
