/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_reload.c: a reload staged, then applied whole. */
#include "upstream_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "conf.h"

/* What a new configuration changes, built beside the running resolver. */
struct upstream_staged {
	struct upstream_chan *chan; /* NULL: the resolver stays as it is */
	struct upstream_chan *probe; /* with chan */
	int answers_change; /* other nameservers or search rules */
	struct resolvconf rc;
	struct stat rc_st;
	char rc_path[PATH_MAX];
	uint32_t lookup_timeout_ms;
};

int
upstream_prepare(struct upstream *up, const struct conf *c,
    struct upstream_staged **out)
{
	struct upstream_staged *s;
	size_t i;

	if ((*out = s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	/* A reload re-reads resolv.conf whether it looks changed or not. */
	snprintf(s->rc_path, sizeof(s->rc_path), "%s", c->resolv_conf);
	upstream_rc_read(s->rc_path, &s->rc, &s->rc_st);
	s->lookup_timeout_ms = c->lookup_timeout_ms;
	for (i = 0; i < c->nupstream && i < up->nservers; i++)
		if (!addr_equal((const struct sockaddr *)&up->servers[i].ss,
			(const struct sockaddr *)&c->upstream[i].ss))
			break;
	/* Only other nameservers or search rules can change answers: a new
	 * timeout alone keeps the cache (and its stale entries). */
	s->answers_change = !(up->nservers == c->nupstream &&
	    i == c->nupstream && resolvconf_equal(&s->rc, &up->rc));
	if (up->timeout_ms == c->upstream_timeout_ms && !s->answers_change)
		return 0;
	if ((s->chan = upstream_chan_new(up, c, &s->rc, 0)) == NULL ||
	    (s->probe = upstream_chan_new(up, c, &s->rc,
		 ARES_FLAG_NOCHECKRESP)) == NULL) {
		upstream_chan_free(s->chan);
		free(s);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
upstream_commit(struct upstream *up, struct upstream_staged *s,
    const struct conf *c)
{
	int changed;

	if (s == NULL)
		return 0;
	memcpy(up->rc_path, s->rc_path, sizeof(up->rc_path));
	filewatch_retarget(&up->rc_watch, up->rc_path);
	up->rc_st = s->rc_st;
	up->lookup_timeout_ms = s->lookup_timeout_ms;
	if (s->chan != NULL) {
		up->rc = s->rc;
		upstream_install(up, s->chan, s->probe, c);
	}
	changed = s->chan != NULL && s->answers_change;
	free(s);
	return changed;
}

void
upstream_discard(struct upstream_staged *s)
{
	if (s == NULL)
		return;
	upstream_chan_free(s->chan);
	upstream_chan_free(s->probe);
	free(s);
}

int
upstream_configure(struct upstream *up, const struct conf *c)
{
	struct upstream_staged *s;

	if (upstream_prepare(up, c, &s) == -1)
		return -1;
	return upstream_commit(up, s, c);
}
