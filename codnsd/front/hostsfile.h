/* SPDX-License-Identifier: MIT */
/* codnsd/front/hostsfile.h: the hosts file, read as glibc's files module
 * reads it, for the nscd protocol. */
#ifndef CODNSD_HOSTSFILE_H
#define CODNSD_HOSTSFILE_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/*
 * Read as glibc's files module reads it (files-hosts.c in glibc 2.36), and
 * never through glibc itself: its getaddrinfo() sorts two or more
 * addresses by RFC 6724, which asks nscd for the interface timestamp
 * (__check_pf), and nscd at /var/run/nscd/socket may be codnsd's own
 * loop: a 5 s stall for every process (issue 25).
 */

/* host.conf's "multi on", read once, as glibc does. */
void hostsfile_read_conf(void);
/*
 * name in the hosts file at path for af: AF_INET or AF_INET6 as
 * gethostbyname3_r (the first line naming it; with multi, every other
 * such line adds its address, its aliases and its own name when that
 * differs), AF_UNSPEC as gethostbyname4_r (getaddrinfo's: every line,
 * with multi, each in its own family; the first line's name). 1: found.
 */
int hostsfile_byname(const char *path, const char *name, int af,
    struct proto_answer *a);
/* The first line holding addr (len 4: AF_INET, 16: AF_INET6), as
 * gethostbyaddr_r (glibc 2.36 maps no IPv4 line for a v4-mapped
 * address). 1: found. */
int hostsfile_byaddr(const char *path, const uint8_t *addr, size_t len,
    struct proto_answer *a);
/* Whether the client's filter of a GETAI answer u for family fam gives
 * what glibc's per-family lookup p gives: the same addresses in the same
 * order, and the same canonical name. */
int hostsfile_same(const struct proto_answer *u, uint8_t fam,
    const struct proto_answer *p);

#endif
