/* codnsd/listen.h: the TCP lookup listener for clients on the node. */
#ifndef CODNSD_LISTEN_H
#define CODNSD_LISTEN_H

#include <stddef.h>

struct codnsd;
struct listen;

#define LISTEN_CLIENTS_MAX 1024
#define LISTEN_PIPELINE_MAX 64 /* requests in flight per connection */
#define LISTEN_IDLE_SEC 10.0

/* Bind every `listen` address of the config; NULL (logged) on failure. */
struct listen *listen_new(struct codnsd *);
void listen_free(struct listen *);
void listen_flush(struct listen *);
size_t listen_clients(const struct listen *);
/* "127.0.0.1:7053,..." */
const char *listen_addresses(const struct listen *);

#endif
