/* SPDX-License-Identifier: MIT */
/* codnsctl/codnsctl.c: codnsctl, the operator's view of a running codnsd. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "codns.h"
#include "conf.h"
#include "ctlcmd.h"

#define CTL_LOOKUP_TIMEOUT_MS 10000

static void
usage(void)
{
	fprintf(stderr,
	    "usage: codnsctl [-c FILE] [-s SOCKET] [--json] COMMAND\n"
	    "commands:\n"
	    "  status | peers | stats | top | metrics\n"
	    "  flush [NAME] | reload\n"
	    "  lookup [-a ADDRESS] [-4|-6] NAME | lookup [-a ADDRESS] -x ADDRESS\n");
	exit(2);
}

static void
print_lookup_json(const struct codns_result *r, const char *q)
{
	char a[INET6_ADDRSTRLEN];
	uint8_t raw[16];
	size_t i;
	int fam;

	printf("{\"query\":\"%s\",\"status\":\"%s\",\"name\":\"%s\","
	       "\"ttl\":%u,\"source\":\"%s\",\"peer\":\"%s\","
	       "\"latency_us\":%u,\"aliases\":[",
	    q, codns_status_str(codns_result_status(r)), codns_result_name(r),
	    codns_result_ttl(r), codns_source_str(codns_result_source(r)),
	    codns_result_peer(r), codns_result_latency_us(r));
	for (i = 0; i < codns_result_naliases(r); i++)
		printf("%s\"%s\"", i ? "," : "", codns_result_alias(r, i));
	printf("],\"addresses\":[");
	for (i = 0; i < codns_result_naddrs(r); i++) {
		fam = codns_result_addr(r, i, raw);
		inet_ntop(fam == CODNS_AF_INET ? AF_INET : AF_INET6, raw, a,
		    sizeof(a));
		printf("%s\"%s\"", i ? "," : "", a);
	}
	printf("]}\n");
}

static void
print_lookup(const struct codns_result *r, const char *q)
{
	char a[INET6_ADDRSTRLEN];
	uint8_t raw[16];
	size_t i;
	int fam;

	printf("%s: %s\n", q, codns_status_str(codns_result_status(r)));
	if (codns_result_name(r)[0] != '\0')
		printf("  name     %s\n", codns_result_name(r));
	for (i = 0; i < codns_result_naliases(r); i++)
		printf("  alias    %s\n", codns_result_alias(r, i));
	for (i = 0; i < codns_result_naddrs(r); i++) {
		fam = codns_result_addr(r, i, raw);
		inet_ntop(fam == CODNS_AF_INET ? AF_INET : AF_INET6, raw, a,
		    sizeof(a));
		printf("  address  %s\n", a);
	}
	printf("  ttl      %us\n", codns_result_ttl(r));
	if (codns_result_source(r) == CODNS_SRC_PEER)
		printf("  source   peer %s\n", codns_result_peer(r));
	else
		printf("  source   %s\n", codns_source_str(codns_result_source(r)));
	printf("  latency  %.3f ms\n", codns_result_latency_us(r) / 1000.0);
}

/* lookup [-a ADDRESS] [-4|-6] NAME | lookup -x ADDRESS: 0 found, 1 not
 * found or no data, 2 error, try again or unreachable. address is the
 * lookup-socket (or the TCP listener when that is "none"); -a picks
 * another socket path or HOST:PORT. */
static int
cmd_lookup(const char *address, int json, int argc, char *argv[])
{
	struct codns_client *c;
	struct codns_result *r;
	int family = CODNS_AF_UNSPEC, reverse = 0, rc, ch;
	uint8_t raw[16];
	const char *q;

	optind = 1;
	while ((ch = getopt(argc, argv, "+46xa:")) != -1) {
		switch (ch) {
		case 'a':
			address = optarg;
			break;
		case '4':
			family = CODNS_AF_INET;
			break;
		case '6':
			family = CODNS_AF_INET6;
			break;
		case 'x':
			reverse = 1;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	q = argv[optind];
	if (reverse) {
		if (inet_pton(AF_INET, q, raw) == 1)
			family = CODNS_AF_INET;
		else if (inet_pton(AF_INET6, q, raw) == 1)
			family = CODNS_AF_INET6;
		else {
			fprintf(stderr, "codnsctl: %s: not an address\n", q);
			return 2;
		}
	}
	if (address == NULL) {
		fprintf(stderr, "codnsctl: lookup-socket and listen are both "
		    "none: use -a ADDRESS\n");
		return 2;
	}
	if (codns_client_open(&c, address, CTL_LOOKUP_TIMEOUT_MS) == -1) {
		fprintf(stderr, "codnsctl: cannot reach codnsd at %s: %s\n",
		    address, errno == EPERM ? "not trusted: neither root nor "
		    "the owner of a directory only it may write serves it "
		    "(nss_codns(8))" : strerror(errno));
		return 2;
	}
	rc = reverse ? codns_lookup_addr(c, family, raw, &r) :
		       codns_lookup(c, q, family, &r);
	if (rc == -1) {
		fprintf(stderr, "codnsctl: lookup %s: %s\n", q,
		    errno == EINVAL ? "invalid name" : strerror(errno));
		codns_client_close(c);
		return 2;
	}
	if (json)
		print_lookup_json(r, q);
	else
		print_lookup(r, q);
	switch (codns_result_status(r)) {
	case CODNS_FOUND:
		rc = 0;
		break;
	case CODNS_NOTFOUND:
	case CODNS_NODATA:
		rc = 1;
		break;
	default:
		rc = 2;
	}
	codns_result_free(r);
	codns_client_close(c);
	return rc;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf conf;
	const char *path = CONF_DEFAULT_FILE, *sock = NULL;
	char err[4096], lookup_addr[ADDR_STRLEN];
	int ch, json = 0, missing_ok = 1;

	while ((ch = getopt_long(argc, argv, "+c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			missing_ok = 0;
			break;
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	conf_defaults(&conf);
	if (conf_load(&conf, path, missing_ok, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s", err);
		return 2;
	}
	if (sock == NULL)
		sock = conf.control_socket;
	if (strcmp(argv[0], "lookup") == 0) {
		if (conf.lookup_socket[0] != '\0')
			return cmd_lookup(conf.lookup_socket, json, argc, argv);
		if (conf.nlisten == 0)
			return cmd_lookup(NULL, json, argc, argv);
		addr_format((const struct sockaddr *)&conf.listen[0].ss,
		    lookup_addr, sizeof(lookup_addr));
		return cmd_lookup(lookup_addr, json, argc, argv);
	}
	return ctlcmd_run(sock, json, argc, argv);
}
