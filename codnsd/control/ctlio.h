/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlio.h: ctl_env on the daemon's modules, read through d. */
#ifndef CODNSD_CTLIO_H
#define CODNSD_CTLIO_H

#include "ctl.h"

struct codnsd;

/*
 * Fill env with d's loop and stats, and providers that read d's modules
 * at each request (peernet may come and go at a reload, the config and
 * the daemon's uid change). reload and handover are left NULL: main sets
 * its own.
 */
void ctlio_env(struct codnsd *d, struct ctl_env *env);

#endif
