/* SPDX-License-Identifier: MIT */
/* tests/nss/stress.c: many threads resolving through nss_codns at once. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <nss.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * usage: stress [-t THREADS] [-n CALLS] -m MODULE
 *        stress [-t THREADS] [-n CALLS] -g NAME ADDRESS...
 * -m dlopen()s the module and calls its entry points against fakesrv's
 * canned answers (run_nss.sh); -g calls getaddrinfo(NAME) through the
 * real nsswitch.conf and wants exactly the given addresses (run_real.sh).
 * Every answer is checked; exit 1 on the first wrong one.
 */

#define ADDRS_MAX 32

static struct {
	int threads;
	int calls;
	nss_gethostbyname4_r *n4;
	nss_gethostbyname2_r *n2;
	nss_gethostbyaddr_r *a1;
	const char *name;
	int naddrs;
	struct {
		int af;
		unsigned char a[16];
	} addrs[ADDRS_MAX];
} cfg = { .threads = 8, .calls = 2000 };

static int
fail(const char *what, int i)
{
	fprintf(stderr, "stress: call %d: %s\n", i, what);
	return -1;
}

static int
want(int af, const void *got, const char *text)
{
	unsigned char a[16];

	inet_pton(af, text, a);
	return memcmp(got, a, af == AF_INET ? 4 : 16) == 0;
}

/* One round of the canned answers of fake_zone.h. */
static int
module_round(int i, char *buf, size_t len)
{
	struct gaih_addrtuple *pat = NULL;
	struct hostent he;
	unsigned char a4[4];
	int err, herr;
	int32_t ttl;

	switch (i % 4) {
	case 0:
		if (cfg.n4("both.test", &pat, buf, len, &err, &herr, &ttl) !=
			NSS_STATUS_SUCCESS ||
		    pat->family != AF_INET ||
		    !want(AF_INET, pat->addr, "192.0.2.20") ||
		    pat->next == NULL || pat->next->family != AF_INET6 ||
		    !want(AF_INET6, pat->next->addr, "2001:db8::20") ||
		    pat->next->next != NULL || ttl != 120)
			return fail("both.test", i);
		break;
	case 1:
		if (cfg.n2("found4.test", AF_INET, &he, buf, len, &err,
			&herr) != NSS_STATUS_SUCCESS ||
		    strcmp(he.h_name, "canon4.test") != 0 ||
		    !want(AF_INET, he.h_addr_list[0], "192.0.2.10") ||
		    !want(AF_INET, he.h_addr_list[1], "192.0.2.11") ||
		    he.h_addr_list[2] != NULL)
			return fail("found4.test", i);
		break;
	case 2:
		if (cfg.n2("nx.test", AF_INET6, &he, buf, len, &err, &herr) !=
			NSS_STATUS_NOTFOUND ||
		    herr != HOST_NOT_FOUND)
			return fail("nx.test", i);
		break;
	default:
		inet_pton(AF_INET, "192.0.2.1", a4);
		if (cfg.a1(a4, 4, AF_INET, &he, buf, len, &err, &herr) !=
			NSS_STATUS_SUCCESS ||
		    strcmp(he.h_name, "host1.test") != 0)
			return fail("reverse 192.0.2.1", i);
		break;
	}
	return 0;
}

/* getaddrinfo() must give each wanted address, and nothing else. */
static int
gai_round(int i)
{
	struct addrinfo hints, *res = NULL, *ai;
	int seen[ADDRS_MAX] = { 0 }, k, n = 0, rc;
	const void *a;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(cfg.name, NULL, &hints, &res)) != 0) {
		fprintf(stderr, "stress: %s: %s\n", cfg.name, gai_strerror(rc));
		return fail("getaddrinfo", i);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next, n++) {
		if (ai->ai_family == AF_INET)
			a = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else
			a = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		for (k = 0; k < cfg.naddrs; k++)
			if (cfg.addrs[k].af == ai->ai_family &&
			    memcmp(cfg.addrs[k].a, a,
				ai->ai_family == AF_INET ? 4 : 16) == 0)
				break;
		if (k == cfg.naddrs) {
			freeaddrinfo(res);
			return fail("unexpected address", i);
		}
		seen[k] = 1;
	}
	freeaddrinfo(res);
	for (k = 0; k < cfg.naddrs; k++)
		if (!seen[k])
			return fail("address missing", i);
	return n == cfg.naddrs ? 0 : fail("duplicate address", i);
}

static void *
worker(void *arg)
{
	char *buf;
	size_t len = 2048;
	int i, rc = 0;

	(void)arg;
	if ((buf = malloc(len)) == NULL)
		return (void *)1;
	for (i = 0; i < cfg.calls && rc == 0; i++)
		rc = cfg.name != NULL ? gai_round(i) :
		    module_round(i, buf, len);
	free(buf);
	return rc == 0 ? NULL : (void *)1;
}

static int
load_module(const char *path)
{
	void *dl;

	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "stress: %s\n", dlerror());
		return -1;
	}
	cfg.n4 = (nss_gethostbyname4_r *)dlsym(dl,
	    "_nss_codns_gethostbyname4_r");
	cfg.n2 = (nss_gethostbyname2_r *)dlsym(dl,
	    "_nss_codns_gethostbyname2_r");
	cfg.a1 = (nss_gethostbyaddr_r *)dlsym(dl, "_nss_codns_gethostbyaddr_r");
	return cfg.n4 && cfg.n2 && cfg.a1 ? 0 : -1;
}

static int
parse_addrs(char **argv, int argc)
{
	int i;

	if (argc < 1 || argc > ADDRS_MAX)
		return -1;
	for (i = 0; i < argc; i++) {
		cfg.addrs[i].af = strchr(argv[i], ':') ? AF_INET6 : AF_INET;
		if (inet_pton(cfg.addrs[i].af, argv[i], cfg.addrs[i].a) != 1)
			return -1;
	}
	cfg.naddrs = argc;
	return 0;
}

int
main(int argc, char **argv)
{
	pthread_t tids[64];
	const char *module = NULL;
	void *ret;
	int ch, i, bad = 0;

	while ((ch = getopt(argc, argv, "t:n:m:g:")) != -1) {
		switch (ch) {
		case 't':
			cfg.threads = atoi(optarg);
			break;
		case 'n':
			cfg.calls = atoi(optarg);
			break;
		case 'm':
			module = optarg;
			break;
		case 'g':
			cfg.name = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (cfg.threads < 1 || cfg.threads > 64 || cfg.calls < 1 ||
	    (module == NULL) == (cfg.name == NULL))
		goto usage;
	if (module != NULL && load_module(module) == -1)
		return 1;
	if (cfg.name != NULL && parse_addrs(argv + optind, argc - optind) == -1)
		goto usage;
	for (i = 0; i < cfg.threads; i++)
		if (pthread_create(&tids[i], NULL, worker, NULL) != 0)
			return 1;
	for (i = 0; i < cfg.threads; i++) {
		pthread_join(tids[i], &ret);
		bad += ret != NULL;
	}
	printf("stress: %d threads x %d calls, %d failed\n", cfg.threads,
	    cfg.calls, bad);
	return bad == 0 ? 0 : 1;
usage:
	fprintf(stderr, "usage: stress [-t threads] [-n calls] -m module\n"
	    "       stress [-t threads] [-n calls] -g name addr...\n");
	return 2;
}
