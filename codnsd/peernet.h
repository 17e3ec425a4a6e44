/* codnsd/peernet.h: the peer side of the daemon, as ctl.c sees it. */
#ifndef CODNSD_PEERNET_H
#define CODNSD_PEERNET_H

#include <stddef.h>
#include <stdint.h>

struct peernet;

/* One listed peer, for codnsctl peers. */
struct peernet_row {
	char addr[64];
	const char *state; /* probing, candidate, neighbour, down */
	uint32_t rtt_ms;
	uint32_t ns_ms;
	uint32_t ns_fail_permille;
	double last_heartbeat_ago_s; /* -1 never */
	uint64_t sent, won, failed;
	int rank; /* -1 none */
};

/* Fill up to max rows; returns how many were written. */
size_t peernet_rows(const struct peernet *, struct peernet_row *out,
    size_t max);
/* The current initial delay before the first peer query, and why. */
uint32_t peernet_delay_ms(const struct peernet *, const char **reason);
/* Local and peer wins over the last 16 and 32 lookups (CoDNS paper). */
void peernet_windows(const struct peernet *, unsigned *local16,
    unsigned *peer16, unsigned *local32, unsigned *peer32);

#endif
