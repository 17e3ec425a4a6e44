/* SPDX-License-Identifier: MIT */
/* tests/nss/libc_calls.c: prints what each libc resolver call answers. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * usage: libc_calls NAME | libc_calls -x ADDRESS
 * One line per call, "call: name aliases=a,b addrs=x,y" or "call: error",
 * for run_real.sh to compare with the zone it served. Exit 0 even when a
 * call fails: the script checks the lines.
 */

static void
print_hostent(const char *call, const struct hostent *he, int herr)
{
	char text[INET6_ADDRSTRLEN];
	size_t i;

	if (he == NULL) {
		printf("%s: error %d\n", call, herr);
		return;
	}
	printf("%s: %s aliases=", call, he->h_name);
	for (i = 0; he->h_aliases[i] != NULL; i++)
		printf("%s%s", i ? "," : "", he->h_aliases[i]);
	printf(" addrs=");
	for (i = 0; he->h_addr_list[i] != NULL; i++) {
		inet_ntop(he->h_addrtype, he->h_addr_list[i], text,
		    sizeof(text));
		printf("%s%s", i ? "," : "", text);
	}
	printf("\n");
}

static void
print_gai(const char *call, const char *name, int family)
{
	struct addrinfo hints, *res, *ai;
	char text[INET6_ADDRSTRLEN];
	const void *a;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if ((rc = getaddrinfo(name, NULL, &hints, &res)) != 0) {
		printf("%s: error %s\n", call, gai_strerror(rc));
		return;
	}
	printf("%s: %s addrs=", call, res->ai_canonname);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			a = &((struct sockaddr_in *)ai->ai_addr)->sin_addr;
		else
			a = &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		inet_ntop(ai->ai_family, a, text, sizeof(text));
		printf("%s%s", ai == res ? "" : ",", text);
	}
	printf("\n");
	freeaddrinfo(res);
}

static void
forward(const char *name)
{
	struct hostent he, *hp;
	char buf[8192];
	int herr = 0;

	print_gai("getaddrinfo", name, AF_UNSPEC);
	print_gai("getaddrinfo4", name, AF_INET);
	print_gai("getaddrinfo6", name, AF_INET6);
	hp = gethostbyname(name);
	print_hostent("gethostbyname", hp, h_errno);
	hp = gethostbyname2(name, AF_INET6);
	print_hostent("gethostbyname2", hp, h_errno);
	if (gethostbyname_r(name, &he, buf, sizeof(buf), &hp, &herr) != 0)
		hp = NULL;
	print_hostent("gethostbyname_r", hp, herr);
}

static int
reverse(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct hostent *hp;
	char host[NI_MAXHOST];
	socklen_t len;
	int rc;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		len = sizeof(*sin);
		hp = gethostbyaddr(&sin->sin_addr, 4, AF_INET);
	} else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		len = sizeof(*sin6);
		hp = gethostbyaddr(&sin6->sin6_addr, 16, AF_INET6);
	} else
		return -1;
	print_hostent("gethostbyaddr", hp, h_errno);
	rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), NULL,
	    0, NI_NAMEREQD);
	if (rc != 0)
		printf("getnameinfo: error %s\n", gai_strerror(rc));
	else
		printf("getnameinfo: %s\n", host);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 2 && argv[1][0] != '-') {
		forward(argv[1]);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "-x") == 0 && reverse(argv[2]) == 0)
		return 0;
	fprintf(stderr, "usage: libc_calls NAME | libc_calls -x ADDRESS\n");
	return 2;
}
