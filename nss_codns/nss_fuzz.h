/* SPDX-License-Identifier: MIT */
/* nss_codns/nss_fuzz.h: the module's reply handling, for the fuzz harness. */
#ifndef NSS_CODNS_NSS_FUZZ_H
#define NSS_CODNS_NSS_FUZZ_H

#include <netdb.h>
#include <nss.h>
#include <stddef.h>
#include <stdint.h>

struct codns_result;

/*
 * What an entry point does once codnsd answered FOUND with r: lay the
 * answer out in the caller's buffer as gaih tuples (gethostbyname4_r) or
 * as a hostent of family af for a forward lookup of name or, with name
 * NULL, a reverse lookup of addr. Same status, errno and h_errno
 * convention as the entry points. Internal: not exported by the module.
 */
enum nss_status nss_codns_fuzz_tuples(const struct codns_result *r,
    const char *name, struct gaih_addrtuple **pat, char *buf, size_t buflen,
    int *errnop, int *h_errnop, int32_t *ttlp);
enum nss_status nss_codns_fuzz_hostent(const struct codns_result *r,
    const char *name, const void *addr, int af, struct hostent *he,
    char *buf, size_t buflen, int *errnop, int *h_errnop, int32_t *ttlp,
    char **canonp);

#endif
