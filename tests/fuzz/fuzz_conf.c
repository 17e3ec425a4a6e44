/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_conf.c: fuzz target for the codnsd.conf and peers parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* A config that parsed keeps every list and string within its bounds. */
static void
check_conf(const struct conf *c)
{
	if (c->nlisten > CONF_LISTEN_MAX || c->nupstream > CONF_UPSTREAM_MAX ||
	    !terminated(c->peers_file, sizeof(c->peers_file)) ||
	    !terminated(c->peer_key_file, sizeof(c->peer_key_file)) ||
	    !terminated(c->control_socket, sizeof(c->control_socket)) ||
	    !terminated(c->user, sizeof(c->user)) ||
	    !terminated(c->pidfile, sizeof(c->pidfile)) ||
	    !terminated(c->resolv_conf, sizeof(c->resolv_conf)) ||
	    c->cache_min_ttl_s > c->cache_max_ttl_s)
		abort();
}

/*
 * The first byte picks the parser (even: codnsd.conf, odd: peers file);
 * the rest is the file's text, in a buffer of exactly its size.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct conf c, before;
	struct conf_addr *peers = NULL;
	char err[CONF_ERR_MAX * 2];
	size_t n = 0, i, j;
	int rc;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		conf_defaults(&c);
		before = c;
		rc = conf_parse(&c, "fuzz", (const char *)data + 1, size - 1,
		    err, sizeof(err));
		if (!terminated(err, sizeof(err)))
			abort();
		if (rc == 0)
			check_conf(&c);
		else if (memcmp(&c, &before, sizeof(c)) != 0)
			abort(); /* *c is only changed on success */
		return 0;
	}
	rc = conf_parse_peers("fuzz", (const char *)data + 1, size - 1, &peers,
	    &n, err, sizeof(err));
	if (!terminated(err, sizeof(err)))
		abort();
	if (rc == 0) {
		if (n > CONF_PEERS_MAX || (n > 0) != (peers != NULL))
			abort();
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (addr_equal(
				    (const struct sockaddr *)&peers[i].ss,
				    (const struct sockaddr *)&peers[j].ss))
					abort();
	}
	free(peers);
	return 0;
}
