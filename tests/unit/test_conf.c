/* SPDX-License-Identifier: MIT */
/* tests/unit/test_conf.c: codnsd.conf and peers file parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"

static char dir[] = "/tmp/test_conf.XXXXXX";
static char path[128];
static char err[CONF_ERR_MAX * 4];

/* Write len bytes of text to the test file and return its path. */
static const char *
put_n(const char *text, size_t len)
{
	FILE *f;

	snprintf(path, sizeof(path), "%s/codnsd.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static const char *
put(const char *text)
{
	return put_n(text, strlen(text));
}

static int
setup(void **state)
{
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	snprintf(path, sizeof(path), "%s/codnsd.conf", dir);
	unlink(path);
	return rmdir(dir);
}

static const char *
fmt(const struct conf_addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return addr_format((const struct sockaddr *)&a->ss, buf[i],
	    sizeof(buf[i]));
}

/* Load text over the defaults; the result is in *c. */
static int
load(const char *text, struct conf *c)
{
	conf_defaults(c);
	return conf_load(c, put(text), 0, err, sizeof(err));
}

static void
test_defaults(void **state)
{
	struct conf c;

	memset(&c, 0xa5, sizeof(c));
	conf_defaults(&c);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(fmt(&c.listen[0]), "127.0.0.1:7053");
	assert_int_equal(c.nupstream, 0);
	assert_int_equal(c.upstream_timeout_ms, 0);
	assert_int_equal(c.lookup_timeout_ms, 0);
	assert_string_equal(c.resolv_conf, "/etc/resolv.conf");
	assert_string_equal(fmt(&c.peer_listen), "0.0.0.0:7053");
	assert_string_equal(c.peers_file, CONF_DEFAULT_PEERS);
	assert_string_equal(c.peer_key_file, "");
	assert_int_equal(c.neighbors, 10);
	assert_int_equal(c.neighbor_rtt_max_ms, 90);
	assert_int_equal(c.heartbeat_discovery_ms, 1000);
	assert_int_equal(c.heartbeat_steady_ms, 30000);
	assert_int_equal(c.initial_delay_max_ms, 200);
	assert_int_equal(c.peers_per_lookup, 3);
	assert_int_equal(c.peer_queue_max, 256);
	assert_int_equal(c.cache_size, 10000);
	assert_int_equal(c.cache_min_ttl_s, 0);
	assert_int_equal(c.cache_max_ttl_s, 3600);
	/* As unbound's cache-max-negative-ttl: the SOA decides (issue 23). */
	assert_int_equal(c.negative_ttl_s, 3600);
	assert_string_equal(c.control_socket, CONF_DEFAULT_CONTROL);
	assert_string_equal(c.lookup_socket, CONF_DEFAULT_LOOKUP);
	assert_int_equal(c.max_clients, 1024);
	assert_int_equal(c.max_clients_per_user, 256);
	assert_string_equal(c.control_group, "");
	assert_string_equal(c.user, "");
	assert_string_equal(c.pidfile, "");
	assert_string_equal(c.cache_file, "");
	assert_int_equal(c.shared_cache, 1);
}

static void
test_shared_cache(void **state)
{
	struct conf c;

	assert_int_equal(load("shared-cache no\n", &c), 0);
	assert_int_equal(c.shared_cache, 0);
	assert_int_equal(load("shared-cache yes\n", &c), 0);
	assert_int_equal(c.shared_cache, 1);
	assert_int_equal(load("cache-size 5\nshared-cache maybe\n", &c), -1);
	assert_non_null(strstr(err, "codnsd.conf:2: shared-cache: 'maybe' is "
				    "neither yes nor no"));
	assert_int_equal(load("shared-cache\n", &c), -1);
	assert_non_null(strstr(err, ":1: shared-cache: missing value"));
}

/* The transport keys of issue 8: the lookup socket, "none" for either
 * transport, the client caps and control-group. */
static void
test_transport_keys(void **state)
{
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(load("lookup-socket /tmp/x/l.sock\n"
			      "max-clients 64\nmax-clients-per-user 8\n"
			      "control-group adm\n", &c), 0);
	assert_string_equal(c.lookup_socket, "/tmp/x/l.sock");
	assert_int_equal(c.max_clients, 64);
	assert_int_equal(c.max_clients_per_user, 8);
	assert_string_equal(c.control_group, "adm");
	conf_defaults(&c);
	assert_int_equal(load("lookup-socket none\nlisten none\n", &c), 0);
	assert_string_equal(c.lookup_socket, "");
	assert_int_equal(c.nlisten, 0);
	/* nscd-socket: off by default, a path, or none. */
	conf_defaults(&c);
	assert_string_equal(c.nscd_socket, "");
	assert_int_equal(load("nscd-socket /var/run/nscd/socket\n", &c), 0);
	assert_string_equal(c.nscd_socket, "/var/run/nscd/socket");
	assert_int_equal(load("nscd-socket none\n", &c), 0);
	assert_string_equal(c.nscd_socket, "");
	/* "none" here does not touch the lookup socket. */
	assert_true(c.lookup_socket[0] != '\0');
}

static void
test_duration(void **state)
{
	static const struct {
		const char *s;
		int ok;
		uint32_t ms;
	} t[] = {
		{ "0", 1, 0 },
		{ "2", 1, 2000 },
		{ "2s", 1, 2000 },
		{ "250ms", 1, 250 },
		{ "0ms", 1, 0 },
		{ "1m", 1, 60000 },
		{ "90m", 1, 5400000 },
		{ "1h", 1, 3600000 },
		{ "1193h", 1, 4294800000u },
		{ "4294967295ms", 1, 4294967295u },
		{ "4294967296ms", 0, 0 },
		{ "1194h", 0, 0 },
		{ "4294968s", 0, 0 },
		{ "99999999999999999999", 0, 0 },
		{ "", 0, 0 },
		{ "s", 0, 0 },
		{ "ms", 0, 0 },
		{ "-1s", 0, 0 },
		{ "+1s", 0, 0 },
		{ " 1s", 0, 0 },
		{ "1s ", 0, 0 },
		{ "1 s", 0, 0 },
		{ "1.5s", 0, 0 },
		{ "1d", 0, 0 },
		{ "1S", 0, 0 },
		{ "1sec", 0, 0 },
		{ "1mss", 0, 0 },
		{ "0x10", 0, 0 },
	};
	size_t i;
	uint32_t ms;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms = 12345;
		if (t[i].ok) {
			assert_int_equal(conf_parse_duration(t[i].s, &ms), 0);
			assert_int_equal(ms, t[i].ms);
		} else {
			assert_int_equal(conf_parse_duration(t[i].s, &ms), -1);
			assert_int_equal(ms, 12345);
		}
	}
}

static void
test_every_key(void **state)
{
	struct conf c;

	assert_int_equal(load(
	    "listen 127.0.0.2:5300\n"
	    "upstream 192.0.2.1\n"
	    "upstream-timeout 1500ms\n"
	    "lookup-timeout 1m\n"
	    "peer-listen 10.1.2.3:7100\n"
	    "peers-file /srv/codns/peers\n"
	    "peer-key-file /srv/codns/key\n"
	    "neighbors 64\n"
	    "neighbor-rtt-max 40ms\n"
	    "heartbeat-discovery 500ms\n"
	    "heartbeat-steady 2m\n"
	    "initial-delay-max 0\n"
	    "peers-per-lookup 16\n"
	    "peer-queue-max 65536\n"
	    "cache-size 0\n"
	    "cache-min-ttl 5s\n"
	    "cache-max-ttl 2h\n"
	    "negative-ttl 1m\n"
	    "control-socket /tmp/x/ctl.sock\n"
	    "user codns\n"
	    "pidfile /run/codnsd.pid\n"
	    "cache-file /var/cache/codnsd.dump\n"
	    "resolv-conf /srv/resolv.conf\n", &c), 0);
	assert_string_equal(err, "");
	assert_string_equal(c.resolv_conf, "/srv/resolv.conf");
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(fmt(&c.listen[0]), "127.0.0.2:5300");
	assert_int_equal(c.nupstream, 1);
	assert_string_equal(fmt(&c.upstream[0]), "192.0.2.1:53");
	assert_int_equal(c.upstream_timeout_ms, 1500);
	assert_int_equal(c.lookup_timeout_ms, 60000);
	assert_string_equal(fmt(&c.peer_listen), "10.1.2.3:7100");
	assert_string_equal(c.peers_file, "/srv/codns/peers");
	assert_string_equal(c.peer_key_file, "/srv/codns/key");
	assert_int_equal(c.neighbors, 64);
	assert_int_equal(c.neighbor_rtt_max_ms, 40);
	assert_int_equal(c.heartbeat_discovery_ms, 500);
	assert_int_equal(c.heartbeat_steady_ms, 120000);
	assert_int_equal(c.initial_delay_max_ms, 0);
	assert_int_equal(c.peers_per_lookup, 16);
	assert_int_equal(c.peer_queue_max, 65536);
	assert_int_equal(c.cache_size, 0);
	assert_int_equal(c.cache_min_ttl_s, 5);
	assert_int_equal(c.cache_max_ttl_s, 7200);
	assert_int_equal(c.negative_ttl_s, 60);
	assert_string_equal(c.control_socket, "/tmp/x/ctl.sock");
	assert_string_equal(c.user, "codns");
	assert_string_equal(c.pidfile, "/run/codnsd.pid");
	assert_string_equal(c.cache_file, "/var/cache/codnsd.dump");
}

static void
test_syntax(void **state)
{
	struct conf c;

	assert_int_equal(load(
	    "# a whole-line comment\n"
	    "\n"
	    "   \t\n"
	    "  neighbors\t 7   # trailing comment\n"
	    "\tcache-size 5#no space before the hash\n"
	    "    # indented comment\n"
	    "negative-ttl 10\r\n"
	    "upstream [2001:db8::1]:5353", &c), 0);
	assert_int_equal(c.neighbors, 7);
	assert_int_equal(c.cache_size, 5);
	assert_int_equal(c.negative_ttl_s, 10);
	assert_int_equal(c.nupstream, 1);
	assert_string_equal(fmt(&c.upstream[0]), "[2001:db8::1]:5353");
	/* Untouched keys keep their defaults. */
	assert_int_equal(c.peers_per_lookup, 3);
	assert_int_equal(c.nlisten, 1);

	assert_int_equal(load("", &c), 0);
	assert_int_equal(c.neighbors, 10);
}

static void
test_repeatable(void **state)
{
	struct conf c;

	assert_int_equal(load(
	    "listen 127.0.0.1:5301\n"
	    "upstream 192.0.2.1\n"
	    "listen [::1]\n"
	    "upstream 192.0.2.2:5353\n"
	    "listen 10.0.0.1:7053 public\n"
	    "listen 0.0.0.0:8000 public # all addresses\n", &c), 0);
	assert_int_equal(c.nlisten, 4);
	assert_string_equal(fmt(&c.listen[0]), "127.0.0.1:5301");
	assert_string_equal(fmt(&c.listen[1]), "[::1]:7053");
	assert_string_equal(fmt(&c.listen[2]), "10.0.0.1:7053");
	assert_string_equal(fmt(&c.listen[3]), "0.0.0.0:8000");
	assert_int_equal(c.nupstream, 2);
	assert_string_equal(fmt(&c.upstream[0]), "192.0.2.1:53");
	assert_string_equal(fmt(&c.upstream[1]), "192.0.2.2:5353");

	/* The default listener is replaced, even by the same address. */
	assert_int_equal(load("listen 127.0.0.1\n", &c), 0);
	assert_int_equal(c.nlisten, 1);
	assert_string_equal(fmt(&c.listen[0]), "127.0.0.1:7053");

	/* Other loopback forms need no "public". */
	assert_int_equal(load("listen 127.8.9.10\nlisten [::ffff:127.0.0.1]\n",
	    &c), 0);
	assert_int_equal(c.nlisten, 2);

	/* Exactly CONF_LISTEN_MAX and CONF_UPSTREAM_MAX fit. */
	{
		char text[1024];
		size_t i, len = 0;

		for (i = 0; i < CONF_LISTEN_MAX; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "listen 127.0.0.1:%zu\n", 6000 + i);
		for (i = 0; i < CONF_UPSTREAM_MAX; i++)
			len += (size_t)snprintf(text + len, sizeof(text) - len,
			    "upstream 192.0.2.%zu\n", i + 1);
		assert_int_equal(load(text, &c), 0);
		assert_int_equal(c.nlisten, CONF_LISTEN_MAX);
		assert_int_equal(c.nupstream, CONF_UPSTREAM_MAX);
		assert_string_equal(fmt(&c.listen[CONF_LISTEN_MAX - 1]),
		    "127.0.0.1:6007");
	}
}

/* An error expected on a given line, with a piece of its message. */
static void
expect_error(const char *text, unsigned line, const char *what)
{
	struct conf c, before;
	char prefix[PATH_MAX + 32];

	conf_defaults(&c);
	c.neighbors = 42; /* not a default: load must not reset anything */
	before = c;
	assert_int_equal(conf_load(&c, put(text), 1, err, sizeof(err)), -1);
	assert_memory_equal(&c, &before, sizeof(c));
	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, what) == NULL)
		fail_msg("for \"%s\": got \"%s\", want \"%s...%s\"", text, err,
		    prefix, what);
	/* One error, one line. */
	assert_null(strchr(err, '\n'));
}

/* The stub listener and serve-stale keys (issue 12). */
static void
test_dns_listen(void **state)
{
	struct conf c;

	conf_defaults(&c);
	assert_int_equal(c.ndns_listen, 0);
	assert_int_equal(c.serve_stale_s, 86400);
	assert_int_equal(c.stale_answer_timeout_ms, 1800);
	assert_int_equal(load(
	    "dns-listen 127.0.0.53\n"
	    "dns-listen [::1]:5300\n"
	    "dns-listen 172.17.0.1 public\n"
	    "serve-stale 0\n"
	    "stale-answer-timeout 0\n", &c), 0);
	assert_int_equal(c.ndns_listen, 3);
	assert_string_equal(fmt(&c.dns_listen[0]), "127.0.0.53:53");
	assert_string_equal(fmt(&c.dns_listen[1]), "[::1]:5300");
	assert_string_equal(fmt(&c.dns_listen[2]), "172.17.0.1:53");
	assert_int_equal(c.serve_stale_s, 0);
	assert_int_equal(c.stale_answer_timeout_ms, 0);
	assert_int_equal(load("dns-listen 10.0.0.1\n", &c), -1);
	assert_non_null(strstr(err, ":1: dns-listen: 10.0.0.1 is not a loopback"));
	assert_int_equal(load("dns-listen 127.0.0.53\ndns-listen 127.0.0.53\n",
	    &c), -1);
	assert_non_null(strstr(err, ":2: dns-listen: 127.0.0.53:53 is listed twice"));
	assert_int_equal(load("serve-stale 1500ms\n", &c), -1);
	assert_non_null(strstr(err, ":1: serve-stale: 1500ms is not a whole"));
	assert_int_equal(load("serve-stale 8d\n", &c), -1);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *what;
	} t[] = {
		{ "cache-size 1\nfrobnicate 1\n", 2,
		    "unknown key 'frobnicate'" },
		{ "Neighbors 3\n", 1, "unknown key" },
		{ "# c\n\nneighbors\n", 3, "neighbors: missing value" },
		{ "neighbors # 4\n", 1, "missing value" },
		{ "neighbors 4 5\n", 1, "unexpected '5'" },
		{ "user a b\n", 1, "unexpected 'b'" },
		{ "upstream 192.0.2.1 public\n", 1, "unexpected 'public'" },
		{ "listen 127.0.0.1 public x\n", 1, "unexpected 'public'" },
		{ "listen 127.0.0.1 private\n", 1, "unexpected 'private'" },
		{ "\n\nupstream-timeout soon\n", 3, "bad duration 'soon'" },
		{ "lookup-timeout -1s\n", 1, "bad duration" },
		{ "lookup-timeout 5d\n", 1, "unknown unit 'd'" },
		{ "neighbor-rtt-max 90us\n", 1, "unknown unit 'us'" },
		{ "upstream-timeout 0\n", 1, "out of range (1ms to 1h)" },
		{ "lookup-timeout 61m\n", 1, "out of range" },
		{ "lookup-timeout 3600001ms\n", 1, "out of range" },
		{ "upstream-timeout 99999999999h\n", 1, "out of range" },
		{ "heartbeat-discovery 10ms\n", 1, "out of range" },
		{ "heartbeat-steady 500ms\n", 1, "out of range" },
		{ "initial-delay-max 2m\n", 1, "out of range" },
		{ "negative-ttl 2000m\n", 1, "out of range" },
		{ "cache-max-ttl 1500ms\n", 1, "whole number of seconds" },
		{ "neighbors 0\n", 1, "from 1 to 64" },
		{ "max-clients 8\n", 1, "from 16 to 65536" },
		{ "max-clients-per-user 0\n", 1, "from 1 to 65536" },
		{ "max-clients 100\nmax-clients-per-user 200\n", 2,
		    "greater than max-clients" },
		{ "listen none\nlisten 127.0.0.1\n", 2, "after 'listen none'" },
		{ "listen 127.0.0.1\nlisten none\n", 2, "cannot follow" },
		{ "neighbors 65\n", 1, "from 1 to 64" },
		{ "neighbors -1\n", 1, "from 1 to 64" },
		{ "neighbors 1x\n", 1, "'1x' is not an integer" },
		{ "neighbors 0x10\n", 1, "not an integer" },
		{ "peers-per-lookup 0\n", 1, "from 1 to 16" },
		{ "peers-per-lookup 17\n", 1, "from 1 to 16" },
		{ "peer-queue-max 65537\n", 1, "from 1 to 65536" },
		{ "cache-size 10000001\n", 1, "from 0 to 10000000" },
		{ "cache-size 99999999999999999999\n", 1, "not an integer" },
		{ "listen localhost\n", 1, "bad address 'localhost'" },
		{ "listen 127.0.0.1:0\n", 1, "bad address" },
		{ "listen 127.0.0.1:65536\n", 1, "bad address" },
		{ "upstream 192.0.2.300\n", 1, "bad address" },
		{ "upstream 0.0.0.0\n", 1, "not a usable address" },
		{ "peer-listen ::1:7053:x\n", 1, "bad address" },
		{ "peer-listen [::1\n", 1, "bad address" },
		{ "listen 10.0.0.1:7053\n", 1, "not a loopback address" },
		{ "listen 0.0.0.0\n", 1, "not a loopback address" },
		{ "listen 127.0.0.1\nlisten [::]\n", 2, "not a loopback" },
		{ "listen 127.0.0.1\nlisten 127.0.0.1:7053\n", 2,
		    "listed twice" },
		{ "upstream 192.0.2.1\nupstream 192.0.2.1:53\n", 2,
		    "listed twice" },
		{ "neighbors 3\n# x\nneighbors 4\n", 3,
		    "already set on line 1" },
		{ "cache-min-ttl 2h\n", 1, "greater than cache-max-ttl" },
		{ "cache-max-ttl 10s\n\ncache-min-ttl 11s\n", 3,
		    "cache-min-ttl (11s) is greater than cache-max-ttl (10s)" },
		{ "cache-min-ttl 30s\ncache-max-ttl 20s\n", 2,
		    "greater than" },
		{ "user abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
		  "abcdefghijklm\n", 1, "user: value is too long" },
		{ "\ncontrol-socket /tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n", 2, "too long" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		expect_error(t[i].text, t[i].line, t[i].what);
}

static void
test_too_many(void **state)
{
	char text[2048];
	size_t i, len = 0;

	for (i = 0; i < CONF_LISTEN_MAX + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "listen 127.0.0.1:%zu\n", 6000 + i);
	expect_error(text, CONF_LISTEN_MAX + 1, "too many addresses");

	len = (size_t)snprintf(text, sizeof(text), "# upstreams\n");
	for (i = 0; i < CONF_UPSTREAM_MAX + 1; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "upstream 192.0.2.%zu\n", i + 1);
	expect_error(text, CONF_UPSTREAM_MAX + 2, "upstream: too many");
}

static void
test_long_line(void **state)
{
	char text[4096];
	struct conf c;

	/* Exactly 1024 bytes is still a line. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "neighbors 9", 11);
	text[1023] = '#';
	strcpy(text + 1024, "\ncache-size 8\n");
	assert_int_equal(load(text, &c), 0);
	assert_int_equal(c.neighbors, 9);
	assert_int_equal(c.cache_size, 8);

	/* One more is an error, and the next line keeps its number. */
	memset(text, ' ', sizeof(text));
	memcpy(text, "# first\nneighbors 9", 19);
	text[8 + 1024] = '#';
	strcpy(text + 8 + 1025, "\ncache-size 8\n");
	expect_error(text, 2, "line longer than 1024 bytes");

	memcpy(text + 8 + 1025, "\nbogus 1\n", 10);
	assert_int_equal(load(text, &c), -1);
	snprintf(text, sizeof(text), "%s:2: line longer than 1024 bytes\n"
	    "%s:3: unknown key 'bogus'", path, path);
	assert_string_equal(err, text);

	/* A NUL byte would hide the rest of its line from the parser. */
	assert_int_equal(conf_load(&c, put_n("neighbors 3\nneighbors\0 4\n",
	    24), 0, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s:2: line contains a NUL byte", path);
	assert_string_equal(err, text);

	/* Also at the end of a file without a newline. */
	memset(text, '#', 3000);
	text[3000] = '\0';
	expect_error(text, 1, "line longer");
}

static void
test_all_errors(void **state)
{
	struct conf c;
	char want[2048];
	char small[64];

	assert_int_equal(load(
	    "neighbors 99\n"
	    "cache-size 12\n"
	    "bogus\n"
	    "listen 192.0.2.1\n"
	    "negative-ttl 1y\n", &c), -1);
	snprintf(want, sizeof(want),
	    "%s:1: neighbors: '99' is not an integer from 1 to 64\n"
	    "%s:3: unknown key 'bogus'\n"
	    "%s:4: listen: 192.0.2.1 is not a loopback address (add the "
	    "word 'public' to allow it)\n"
	    "%s:5: negative-ttl: unknown unit 'y' in '1y' (use ms, s, m "
	    "or h)", path, path, path, path);
	assert_string_equal(err, want);

	/* A message that does not fit is dropped whole, never cut. */
	conf_defaults(&c);
	memset(small, 'x', sizeof(small));
	assert_int_equal(conf_load(&c, put("bogus\n"), 0, small,
	    sizeof(small)), -1);
	assert_true(strlen(small) < sizeof(small));
	assert_true(small[0] == '\0' || strstr(small, "bogus") != NULL);
	assert_int_equal(conf_load(&c, path, 0, NULL, 0), -1);
	assert_int_equal(c.neighbors, 10);
}

static void
test_missing(void **state)
{
	struct conf c, before;
	char missing[PATH_MAX];

	snprintf(missing, sizeof(missing), "%s/nonexistent.conf", dir);
	conf_defaults(&c);
	c.cache_size = 77;
	before = c;
	strcpy(err, "stale");
	assert_int_equal(conf_load(&c, missing, 1, err, sizeof(err)), 0);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_string_equal(err, "");

	assert_int_equal(conf_load(&c, missing, 0, err, sizeof(err)), -1);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_non_null(strstr(err, missing));
	assert_non_null(strstr(err, strerror(ENOENT)));

	/* Only ENOENT is forgiven: a directory is an error. */
	assert_int_equal(conf_load(&c, dir, 1, err, sizeof(err)), -1);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_non_null(strstr(err, dir));

	/* A path through a regular file fails with ENOTDIR, not ENOENT. */
	put("");
	snprintf(missing, sizeof(missing), "%s/codnsd.conf/x", dir);
	assert_int_equal(conf_load(&c, missing, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, strerror(ENOTDIR)));
}

static void
test_load_over(void **state)
{
	struct conf c;

	/* A second file applies over the first one's result. */
	assert_int_equal(load("neighbors 5\nupstream 192.0.2.9\n", &c), 0);
	assert_int_equal(conf_load(&c, put("cache-size 3\n"), 0, err,
	    sizeof(err)), 0);
	assert_int_equal(c.neighbors, 5);
	assert_int_equal(c.cache_size, 3);
	assert_int_equal(c.nupstream, 1);
	/* and its first upstream line replaces the list again. */
	assert_int_equal(conf_load(&c, put("upstream 192.0.2.10\n"), 0, err,
	    sizeof(err)), 0);
	assert_int_equal(c.nupstream, 1);
	assert_string_equal(fmt(&c.upstream[0]), "192.0.2.10:53");
}

/* Peers file. */

static int
peers(const char *text, struct conf_addr **out, size_t *n)
{
	*out = NULL;
	*n = 12345;
	return conf_load_peers(put(text), out, n, err, sizeof(err));
}

static void
test_peers_good(void **state)
{
	struct conf_addr *p;
	size_t n;

	assert_int_equal(peers(
	    "# cluster\n"
	    "\n"
	    "10.0.0.1\n"
	    "  10.0.0.2:7100   # other port\n"
	    "[2001:db8::5]\n"
	    "2001:db8::6\n"
	    "[2001:db8::7]:9\n"
	    "10.0.0.1:7054\n"
	    "127.0.0.1:7053", &p, &n), 0);
	assert_int_equal(n, 7);
	assert_non_null(p);
	assert_string_equal(fmt(&p[0]), "10.0.0.1:7053");
	assert_string_equal(fmt(&p[1]), "10.0.0.2:7100");
	assert_string_equal(fmt(&p[2]), "[2001:db8::5]:7053");
	assert_string_equal(fmt(&p[3]), "[2001:db8::6]:7053");
	assert_string_equal(fmt(&p[4]), "[2001:db8::7]:9");
	assert_string_equal(fmt(&p[5]), "10.0.0.1:7054");
	assert_string_equal(fmt(&p[6]), "127.0.0.1:7053");
	assert_int_equal(p[0].len, sizeof(struct sockaddr_in));
	assert_int_equal(p[2].len, sizeof(struct sockaddr_in6));
	free(p);

	assert_int_equal(peers("# nobody yet\n\n", &p, &n), 0);
	assert_int_equal(n, 0);
	free(p);
}

static void
expect_peers_error(const char *text, unsigned line, const char *what)
{
	struct conf_addr *p;
	size_t n;
	char prefix[PATH_MAX + 32];

	assert_int_equal(peers(text, &p, &n), -1);
	assert_null(p);
	assert_int_equal(n, 12345);
	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    strstr(err, what) == NULL)
		fail_msg("for \"%s\": got \"%s\", want \"%s...%s\"", text, err,
		    prefix, what);
}

static void
test_peers_bad(void **state)
{
	static char many[CONF_PEERS_MAX * 20 + 64];
	char last[32];
	struct conf_addr *p;
	size_t i, len = 0, n;
	char missing[PATH_MAX];

	expect_peers_error("10.0.0.1\nnode2.example\n", 2,
	    "bad peer address 'node2.example'");
	expect_peers_error("10.0.0.1:0\n", 1, "bad peer address");
	expect_peers_error("0.0.0.0\n", 1, "bad peer address");
	expect_peers_error("[::]:7053\n", 1, "bad peer address");
	expect_peers_error("10.0.0.1 10.0.0.2\n", 1, "unexpected '10.0.0.2'");
	expect_peers_error("10.0.0.1\n# again\n10.0.0.1:7053\n", 3,
	    "peer 10.0.0.1:7053 is already listed on line 1");
	expect_peers_error("[2001:db8::1]\n2001:db8::1\n", 2,
	    "already listed");

	for (i = 0; i < CONF_PEERS_MAX + 1; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
		    "10.%zu.%zu.1\n", i / 256, i % 256);
	expect_peers_error(many, CONF_PEERS_MAX + 1, "too many peers");
	/* Exactly CONF_PEERS_MAX is fine (issue 15: at least 4096). */
	assert_true(CONF_PEERS_MAX >= 4096);
	snprintf(last, sizeof(last), "10.%d.%d.1\n", CONF_PEERS_MAX / 256,
	    CONF_PEERS_MAX % 256);
	many[len - strlen(last)] = '\0';
	assert_int_equal(peers(many, &p, &n), 0);
	assert_int_equal(n, CONF_PEERS_MAX);
	snprintf(last, sizeof(last), "10.%d.%d.1:7053",
	    (CONF_PEERS_MAX - 1) / 256, (CONF_PEERS_MAX - 1) % 256);
	assert_string_equal(fmt(&p[CONF_PEERS_MAX - 1]), last);
	free(p);

	/* A missing file is ENOENT without a message. */
	snprintf(missing, sizeof(missing), "%s/no-peers", dir);
	strcpy(err, "stale");
	p = NULL;
	errno = 0;
	assert_int_equal(conf_load_peers(missing, &p, &n, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "");
	assert_null(p);

	/* Other open errors carry one. */
	errno = 0;
	assert_int_equal(conf_load_peers(dir, &p, &n, err, sizeof(err)), -1);
	assert_int_not_equal(errno, ENOENT);
	assert_non_null(strstr(err, dir));
}

/*
 * Files that are not regular or never end are refused at once with the
 * reason, by both loaders (before: /dev/zero spun forever, a FIFO blocked
 * in open()).
 */
static void
test_odd_files(void **state)
{
	struct conf c;
	struct conf_addr *p = NULL;
	char fifo[PATH_MAX], link[PATH_MAX];
	size_t n, i, len = 0;
	char *big;

	conf_defaults(&c);
	assert_int_equal(conf_load(&c, "/dev/zero", 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/dev/zero: not a regular file (a "
	    "character device)"));
	assert_int_equal(conf_load_peers("/dev/zero", &p, &n, err,
	    sizeof(err)), -1);
	assert_int_not_equal(errno, ENOENT);
	assert_non_null(strstr(err, "not a regular file"));

	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(conf_load(&c, fifo, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file (a FIFO)"));
	assert_int_equal(conf_load_peers(fifo, &p, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file (a FIFO)"));
	unlink(fifo);

	/* A symlink to a regular file is fine; to a device it is not. */
	snprintf(link, sizeof(link), "%s/link", dir);
	assert_int_equal(symlink(put("10.0.0.1\n"), link), 0);
	assert_int_equal(conf_load_peers(link, &p, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	free(p);
	unlink(link);
	assert_int_equal(symlink("/dev/zero", link), 0);
	assert_int_equal(conf_load_peers(link, &p, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(link);

	/* Byte caps: one byte over is refused, the cap itself is not. */
	big = malloc(CONF_PEERS_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '#', CONF_PEERS_FILE_MAX + 1);
	for (i = 1023; i < CONF_FILE_MAX; i += 1024)
		big[i] = '\n';
	assert_int_equal(conf_load(&c, put_n(big, CONF_FILE_MAX + 1), 0, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 1048576 bytes"));
	assert_int_equal(conf_load(&c, put_n(big, CONF_FILE_MAX), 0, err,
	    sizeof(err)), 0);
	assert_int_equal(conf_load_peers(put_n(big, CONF_PEERS_FILE_MAX + 1),
	    &p, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 4194304 bytes"));

	/* Line caps: the parse stops at the first line over. */
	for (i = 0; i < CONF_PEERS_LINES_MAX + 1; i++)
		big[len++] = '\n';
	assert_int_equal(conf_parse_peers("many", big, len, &p, &n, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "many:65537: more than 65536 lines");
	assert_int_equal(conf_parse_peers("many", big, len - 1, &p, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_int_equal(conf_parse(&c, "conf", big, CONF_LINES_MAX + 1, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 16384 lines"));
	free(big);
}

/* peers-dns: repeatable DNS names, checked, a final dot dropped. */
static void
test_peers_dns(void **state)
{
	struct conf c;

	(void)state;
	conf_defaults(&c);
	assert_int_equal(c.npeers_dns, 0);
	assert_int_equal(load("peers-dns codns.kube-system.svc.cluster.local.\n"
			      "peers-dns _codns._udp.consul\n",
			     &c),
	    0);
	assert_int_equal(c.npeers_dns, 2);
	assert_string_equal(c.peers_dns[0],
	    "codns.kube-system.svc.cluster.local");
	assert_string_equal(c.peers_dns[1], "_codns._udp.consul");
	assert_int_equal(load("peers-dns bad..name\n", &c), -1);
	assert_non_null(strstr(err, ":1: peers-dns: 'bad..name' is not a DNS "
				    "name"));
	assert_int_equal(load("peers-dns a.test\npeers-dns A.TEST.\n", &c),
	    -1);
	assert_non_null(strstr(err, ":2: peers-dns: A.TEST. is listed twice"));
	assert_int_equal(load("peers-dns a;rm.test\n", &c), -1);
	assert_int_equal(load("peers-dns 1.t\npeers-dns 2.t\npeers-dns 3.t\n"
			      "peers-dns 4.t\npeers-dns 5.t\npeers-dns 6.t\n"
			      "peers-dns 7.t\npeers-dns 8.t\npeers-dns 9.t\n",
			     &c),
	    -1);
	assert_non_null(strstr(err, ":9: peers-dns: too many names"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_shared_cache),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_repeatable),
		cmocka_unit_test(test_dns_listen),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_load_over),
		cmocka_unit_test(test_peers_good),
		cmocka_unit_test(test_peers_bad),
		cmocka_unit_test(test_transport_keys),
		cmocka_unit_test(test_odd_files),
		cmocka_unit_test(test_peers_dns),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
