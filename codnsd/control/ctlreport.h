/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlreport.h: codnsctl status, peers and metrics. */
#ifndef CODNSD_CTLREPORT_H
#define CODNSD_CTLREPORT_H

#include <stddef.h>

#include "ctl.h"

struct report_buf;

/* clients: the control connections open now. Out of memory sets b->err. */
void ctlreport_status(const struct ctl_env *, size_t clients,
    struct report_buf *b, int json);
void ctlreport_peers(const struct ctl_env *, struct report_buf *b, int json);
/* The Prometheus text format (codnsctl.8, METRICS). */
void ctlreport_metrics(const struct ctl_env *, size_t clients,
    struct report_buf *b);

#endif
