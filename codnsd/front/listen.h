/* SPDX-License-Identifier: MIT */
/* codnsd/front/listen.h: the lookup listeners (UNIX socket and TCP) for clients. */
#ifndef CODNSD_LISTEN_H
#define CODNSD_LISTEN_H

#include <stddef.h>

struct codnsd;
struct listen;

#define LISTEN_PIPELINE_MAX 64 /* requests in flight per connection */
#define LISTEN_IDLE_SEC 10.0
#define LISTEN_FRAME_SEC 2.0   /* from a frame's first byte to its last */

/* Bind the lookup-socket and every `listen` address of the config; NULL
 * (logged) on failure. Caps come from max-clients and
 * max-clients-per-user (codnsd.conf.5). */
struct listen *listen_new(struct codnsd *);
void listen_free(struct listen *);
void listen_flush(struct listen *);
/* Stop accepting connections (on: draining before a stop or a
 * handover), or start again (off). */
void listen_pause(struct listen *, int on);
size_t listen_clients(const struct listen *);
/* "127.0.0.1:7053,..." */
const char *listen_addresses(const struct listen *);
/* The lookup-socket's path, "" when there is none. */
const char *listen_socket_path(const struct listen *);

#endif
