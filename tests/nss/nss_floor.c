/* SPDX-License-Identifier: MIT */
/* tests/nss/nss_floor.c: the cheapest possible hosts module, for
 * scripts/bench_nss.sh.
 *
 * It answers every name with 192.0.2.51 and does nothing else: no
 * lookup, no system call, no lock. getaddrinfo() through it ("hosts:
 * floor") costs what glibc's getaddrinfo and nsswitch machinery cost
 * around any module, which is the least any NSS module, nss_codns
 * included, can cost per call. Built by bench_nss.sh, never installed.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

enum nss_status _nss_floor_gethostbyname4_r(const char *, struct gaih_addrtuple **,
    char *, size_t, int *, int *, int32_t *);

enum nss_status
_nss_floor_gethostbyname4_r(const char *name, struct gaih_addrtuple **pat,
    char *buf, size_t buflen, int *errnop, int *herrnop, int32_t *ttlp)
{
	static const uint8_t addr[4] = { 192, 0, 2, 51 };
	size_t len = strlen(name) + 1;
	struct gaih_addrtuple *t;

	if (buflen < sizeof(*t) + len) {
		*errnop = ERANGE;
		*herrnop = NETDB_INTERNAL;
		return NSS_STATUS_TRYAGAIN;
	}
	t = (struct gaih_addrtuple *)(void *)buf;
	memset(t, 0, sizeof(*t));
	memcpy(buf + sizeof(*t), name, len);
	t->name = buf + sizeof(*t);
	t->family = AF_INET;
	memcpy(t->addr, addr, sizeof(addr));
	*pat = t;
	if (ttlp != NULL)
		*ttlp = 300;
	return NSS_STATUS_SUCCESS;
}
