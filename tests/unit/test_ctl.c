/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ctl.c: control commands and reports on a fake ctl_env. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>

#include <cmocka.h>

#include "ctl.h"
#include "ctlexec.h"
#include "ctlparse.h"
#include "ctlreport.h"
#include "peernet.h"
#include "peersdns.h"
#include "report.h"
#include "stats.h"

#define DAEMON_UID 999
#define STRANGER 12345 /* a uid and gid that no passwd entry has */

/* Fixed figures, and what the commands asked of the env. */
struct fake {
	uid_t uid;
	const char *group;
	struct ctl_figures f;
	struct peernet_row rows[3];
	size_t nrows;
	struct peernet_nbr nb;
	struct peersdns_info dns[2];
	size_t ndns;
	uint64_t cut;
	int flushes;
	char flushed[64]; /* the name of the last flush, "*" for all */
	int reloads;
	const char *reload_err; /* NULL: the reload succeeds */
	int handovers;
	int handover_fd;
};

static uid_t
fake_uid(void *ctx)
{
	return ((struct fake *)ctx)->uid;
}

static const char *
fake_group(void *ctx)
{
	return ((struct fake *)ctx)->group;
}

static void
fake_figures(void *ctx, struct ctl_figures *f)
{
	*f = ((struct fake *)ctx)->f;
}

/* The peer side is asked only when it runs: n items of size to out. */
static size_t
fake_copy(const struct fake *fk, void *out, const void *in, size_t n,
    size_t size, size_t max)
{
	assert_true(fk->f.peers_on);
	assert_true(max >= n);
	memcpy(out, in, n * size);
	return n;
}

static size_t
fake_rows(void *ctx, struct peernet_row *rows, size_t max)
{
	struct fake *fk = ctx;

	return fake_copy(fk, rows, fk->rows, fk->nrows, sizeof(*rows), max);
}

static void
fake_neighbours(void *ctx, struct peernet_nbr *nb)
{
	struct fake *fk = ctx;

	assert_true(fk->f.peers_on);
	*nb = fk->nb;
}

static size_t
fake_peers_dns(void *ctx, struct peersdns_info *info, size_t max)
{
	struct fake *fk = ctx;

	return fake_copy(fk, info, fk->dns, fk->ndns, sizeof(*info), max);
}

static uint64_t
fake_cut(void *ctx)
{
	struct fake *fk = ctx;

	assert_true(fk->f.peers_on);
	return fk->cut;
}

static size_t
fake_flush(void *ctx, const char *name)
{
	struct fake *fk = ctx;

	fk->flushes++;
	snprintf(fk->flushed, sizeof(fk->flushed), "%s",
	    name != NULL ? name : "*");
	return name != NULL ? 2 : 42;
}

static int
fake_reload(void *ctx, char *err, size_t errlen)
{
	struct fake *fk = ctx;

	fk->reloads++;
	if (fk->reload_err == NULL)
		return 0;
	snprintf(err, errlen, "%s", fk->reload_err);
	return -1;
}

static int
fake_handover(void *ctx, int fd, char *err, size_t errlen)
{
	struct fake *fk = ctx;

	fk->handovers++;
	fk->handover_fd = fd;
	return 0;
}

/* The state of a daemon with peers (one of them from a peers-dns name),
 * nscd served, and figures that make every line differ. */
static void
fake_init(struct fake *fk, int peers)
{
	memset(fk, 0, sizeof(*fk));
	fk->uid = DAEMON_UID;
	fk->group = "";
	fk->f = (struct ctl_figures){
		.uptime_s = 90061, /* 1 d 01:01:01 */
		.listeners = "127.0.0.1:5354,[::1]:5354",
		.lookup_clients = 4,
		.inflight = 3,
		.ns_servers = "127.0.0.1:53,127.0.0.2:53",
		.ns_mean_ms = 12,
		.ns_fail_permille = 25,
		.ns_queries = 1000,
		.ns_failures = 25,
		.ns_set_id = 0xabcdef0123456789ULL,
		.ns_last_ago_s = 2.5,
		.cache_entries = 7,
		.cache_capacity = 100,
		.cache_hits = 3,
		.cache_misses = 1,
		.cache_evictions = 6,
		.peers_on = peers,
		.delay_ms = 150,
		.delay_reason = "adaptive",
		.wins = { 11, 5, 20, 12 },
		.nscd_on = peers,
		.nscd_socket = "/run/nscd/socket",
		.nscd_clients = 1,
		.nscd_entries = 9,
		.nscd_bytes = 4096,
		.nscd_published = 10,
		.nscd_rebuilt = 1,
	};
	snprintf(fk->rows[0].addr, sizeof(fk->rows[0].addr), "10.0.0.1:5355");
	snprintf(fk->rows[0].source, sizeof(fk->rows[0].source), "file");
	fk->rows[0].state = "neighbour";
	fk->rows[0].rtt_ms = 3;
	fk->rows[0].ns_ms = 14;
	fk->rows[0].ns_fail_permille = 5;
	fk->rows[0].ns_set_id = 0xabcdef0123456789ULL; /* ours */
	fk->rows[0].last_heartbeat_ago_s = 1.25;
	fk->rows[0].sent = 8;
	fk->rows[0].won = 6;
	fk->rows[0].failed = 1;
	fk->rows[0].rank = 1;
	snprintf(fk->rows[1].addr, sizeof(fk->rows[1].addr), "10.0.0.2:5355");
	snprintf(fk->rows[1].source, sizeof(fk->rows[1].source),
	    "dns peers.example");
	fk->rows[1].state = "probing";
	fk->rows[1].ns_set_id = 0x1111222233334444ULL; /* another set */
	fk->rows[1].last_heartbeat_ago_s = -1;
	fk->rows[1].rank = -1;
	fk->nrows = 2;
	fk->nb = (struct peernet_nbr){ .mode = "steady",
		.self_nsid = 0xabcdef0123456789ULL, .neighbours = 1,
		.shared = 1, .other_sets = 1, .tracked = 2, .swept = 0,
		.sweep_period_ms = 30000, .full_after_s = 4.5 };
	fk->dns[0] = (struct peersdns_info){ .name = "peers.example",
		.srv = 1, .count = 3, .last_refresh_ago_s = 12.5,
		.next_refresh_in_s = 47.5, .refreshes = 4, .failures = 2,
		.malformed = 1, .cut = 0 };
	snprintf(fk->dns[0].last_error, sizeof(fk->dns[0].last_error),
	    "SERVFAIL");
	fk->dns[1] = (struct peersdns_info){ .name = "more.example",
		.count = 0, .last_refresh_ago_s = -1, .next_refresh_in_s = 5 };
	fk->ndns = 2;
	fk->cut = 5;
}

/* What each test gets: the fake with peers, its env, real counters. */
struct fix {
	struct fake fk;
	struct ctl_env env;
};

static int
fix_setup(void **state)
{
	struct fix *x;

	if ((x = calloc(1, sizeof(*x))) == NULL)
		return -1;
	fake_init(&x->fk, 1);
	x->env = (struct ctl_env){ .stats = stats_new(), .ctx = &x->fk,
		.daemon_uid = fake_uid, .control_group = fake_group,
		.figures = fake_figures, .peer_rows = fake_rows,
		.neighbours = fake_neighbours, .peers_dns = fake_peers_dns,
		.peers_dns_cut = fake_cut, .flush = fake_flush,
		.reload = fake_reload, .handover = fake_handover };
	*state = x;
	return x->env.stats == NULL ? -1 : 0;
}

static int
fix_teardown(void **state)
{
	struct fix *x = *state;

	stats_free(x->env.stats);
	free(x);
	return 0;
}

/* --- a JSON validity check (RFC 8259's grammar, no more) --- */

static int json_value(const char **p, int depth);

static void
json_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int
json_string(const char **p)
{
	const char *s = *p;
	int i;

	if (*s++ != '"')
		return -1;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			return -1; /* the end too: NUL */
		if (*s != '\\')
			continue;
		s++;
		if (*s == 'u') {
			for (i = 1; i <= 4; i++)
				if (strchr("0123456789abcdefABCDEF", s[i]) ==
					NULL || s[i] == '\0')
					return -1;
			s += 4;
		} else if (*s == '\0' || strchr("\"\\/bfnrt", *s) == NULL)
			return -1;
	}
	*p = s + 1;
	return 0;
}

static int
json_number(const char **p)
{
	const char *s = *p;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return -1;
	if (*s == '.') {
		if (*++s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return -1;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	*p = s;
	return 0;
}

/* An object (close '}') or an array (close ']'), after its opener. */
static int
json_members(const char **p, char close, int depth)
{
	json_ws(p);
	if (**p == close) {
		(*p)++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			json_ws(p);
			if (json_string(p) == -1)
				return -1;
			json_ws(p);
			if (*(*p)++ != ':')
				return -1;
		}
		if (json_value(p, depth + 1) == -1)
			return -1;
		json_ws(p);
		if (**p == close) {
			(*p)++;
			return 0;
		}
		if (*(*p)++ != ',')
			return -1;
	}
}

static int
json_value(const char **p, int depth)
{
	static const char *const words[] = { "true", "false", "null" };
	size_t i;

	if (depth > 32)
		return -1;
	json_ws(p);
	if (**p == '{' || **p == '[') {
		char close = **p == '{' ? '}' : ']';

		(*p)++;
		return json_members(p, close, depth);
	}
	if (**p == '"')
		return json_string(p);
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strncmp(*p, words[i], strlen(words[i])) == 0) {
			*p += strlen(words[i]);
			return 0;
		}
	return json_number(p);
}

/* One JSON document, then at most white space. */
static int
json_valid(const char *s)
{
	if (json_value(&s, 0) == -1)
		return 0;
	json_ws(&s);
	return *s == '\0';
}

static void
test_json_check_itself(void **state)
{
	(void)state;
	assert_true(json_valid(
	    "{\"a\":[1,-2.5e3,true,null,\"x\\n\\u00e9\"]}\n"));
	assert_true(json_valid("[]"));
	assert_false(json_valid("{\"a\":1,}"));
	assert_false(json_valid("{\"a\" 1}"));
	assert_false(json_valid("[1 2]"));
	assert_false(json_valid("{\"a\":01}"));
	assert_false(json_valid("{\"a\":\"tab\there\"}"));
	assert_false(json_valid("{\"a\":1}}"));
	assert_false(json_valid("{\"a\":nan}"));
	assert_false(json_valid("[\"\\x\"]"));
}

/* --- running requests --- */

struct run {
	int rc;
	char err[CTL_ERR_MAX];
	struct report_buf b;
};

/* Run line for a client with (have_cred, uid, gid) on fd 7. */
static void
run(const struct ctl_env *env, const char *line, int have_cred, uid_t uid,
    gid_t gid, struct run *out)
{
	struct ctl_peer p = { .fd = 7, .have_cred = have_cred, .uid = uid,
		.gid = gid };
	struct ctl_req r;
	char buf[CTL_LINE_MAX];

	memset(out, 0, sizeof(*out));
	snprintf(buf, sizeof(buf), "%s", line);
	assert_int_equal(ctl_parse(buf, &r, out->err), 0);
	out->rc = ctl_exec(env, &p, 2, &r, &out->b, out->err);
	/* A body is text: it holds no NUL before its end. */
	if (out->rc == 0) {
		report_printf(&out->b, "%s", "");
		assert_false(out->b.err);
		assert_non_null(out->b.p);
		assert_int_equal(strlen(out->b.p), out->b.len);
	}
}

static void
run_free(struct run *r)
{
	report_buf_free(&r->b);
}

/* A request that must succeed (from root: every command may run); json:
 * its reply must be one JSON document. */
static void
run_ok(const struct ctl_env *env, const char *line, struct run *out)
{
	run(env, line, 1, 0, 0, out);
	if (out->rc != 0)
		fail_msg("%s: %s", line, out->err);
	if (strncmp(line, "json ", 5) == 0 && !json_valid(out->b.p))
		fail_msg("%s: not JSON:\n%s", line, out->b.p);
}

/* The line of text that holds needle, as a string of its own. */
static const char *
line_of(const char *text, const char *needle, char *line, size_t len)
{
	const char *at = strstr(text, needle), *start, *end;

	if (at == NULL)
		return NULL;
	for (start = at; start > text && start[-1] != '\n'; start--)
		;
	end = strchr(at, '\n');
	if (end == NULL)
		end = at + strlen(at);
	snprintf(line, len, "%.*s", (int)(end - start), start);
	return line;
}

/* The reply to line (run_ok()) holds (has) or lacks (!has) each of the
 * strings that follow, up to NULL. */
static void
reply_check(const struct ctl_env *env, const char *line, int has, ...)
{
	struct run r;
	const char *needle;
	va_list ap;

	run_ok(env, line, &r);
	va_start(ap, has);
	while ((needle = va_arg(ap, const char *)) != NULL)
		if ((strstr(r.b.p, needle) != NULL) != has)
			fail_msg("%s \"%s\" in:\n%s",
			    has ? "missing" : "unexpected", needle, r.b.p);
	va_end(ap);
	run_free(&r);
}
/* The whole reply to line (run_ok()) is want. */
static void
reply_is(const struct ctl_env *env, const char *line, const char *want)
{
	struct run r;

	run_ok(env, line, &r);
	assert_string_equal(r.b.p, want);
	run_free(&r);
}

static void
assert_has(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("missing \"%s\" in:\n%s", needle, text);
}

#define reply_has(env, line, ...) reply_check(env, line, 1, __VA_ARGS__, NULL)
#define reply_lacks(env, line, ...) \
	reply_check(env, line, 0, __VA_ARGS__, NULL)

/* --- status --- */

static void
test_status_text(void **state)
{
	struct fix *x = *state;

	reply_has(&x->env, "status",
	    "version        codnsd " PACKAGE_VERSION ", pid ",
	    "\nuptime         1d 01:01:01\n",
	    "\nlisteners      127.0.0.1:5354,[::1]:5354\n",
	    "\nupstreams      127.0.0.1:53,127.0.0.2:53\n  health       mean "
	    "12 ms, failing 2.5 %, 1000 queries, 25 failed, last 2.5 s ago\n",
	    "\ninitial delay  150 ms (adaptive)\nwins           last 16: "
	    "local 11, peer 5; last 32: local 20, peer 12\n",
	    "\nneighbours     1 (steady), 1 on our nameserver set abcdef01: "
	    "all share ours\n",
	    "\nheartbeats     2 tracked, 0 swept every 30 s\n",
	    /* Each peers-dns name with its last error, or none. */
	    "\npeers-dns      peers.example (SRV): 3 peers, resolved 12.5 s "
	    "ago, next in 47.5 s; last error: SERVFAIL (keeping the last "
	    "good list)\n",
	    "\npeers-dns      more.example (A/AAAA): 0 peers, never "
	    "resolved, next in 5.0 s\n",
	    "\ncache          7 / 100 entries, hit rate 75.0 % (3 hits, 1 "
	    "misses)\n",
	    "\nlookups        0 answered, 3 in flight\n",
	    "\nclients        4 lookup, 2 control\n",
	    "\nnscd           /run/nscd/socket, 1 clients, table 9 entries in "
	    "4096 bytes, 10 published, 1 rebuilt\n");
}

static void
test_status_json(void **state)
{
	struct fix *x = *state;

	reply_has(&x->env, "json status", "\"uptime_s\":90061",
	    "\"listeners\":[\"127.0.0.1:5354\",\"[::1]:5354\"]",
	    "\"last_ago_s\":2.500", "\"initial_delay_ms\":150",
	    "\"ns_set_id\":\"abcdef0123456789\"",
	    "\"name\":\"peers.example\",\"kind\":\"SRV\"",
	    "\"last_error\":\"SERVFAIL\"", "\"last_refresh_ago_s\":null",
	    "\"last_error\":null", "\"full_set_after_s\":4.500",
	    "\"control\":2", "\"socket\":\"/run/nscd/socket\"");
	/* A name's error with quotes and a backslash stays one string. */
	snprintf(x->fk.dns[0].last_error, sizeof(x->fk.dns[0].last_error),
	    "bad \"reply\" \\ here");
	reply_has(&x->env, "json status",
	    "\"last_error\":\"bad \\\"reply\\\" \\\\ here\"");
}

/* Without a peer side nothing asks it (the fakes fail the test), and
 * without nscd the line and the key are absent. */
static void
test_status_without_peers(void **state)
{
	struct fix *x = *state;

	fake_init(&x->fk, 0);
	x->fk.f.ns_last_ago_s = -1;
	reply_has(&x->env, "status",
	    "\ninitial delay  n/a\npeers          none configured\n",
	    ", 25 failed, none yet\n");
	reply_lacks(&x->env, "status", "peers-dns", "\nnscd ");
	reply_has(&x->env, "json status", "\"peers_configured\":false",
	    "\"windows\":null", "\"last_ago_s\":null");
	reply_lacks(&x->env, "json status", "\"nscd\"", "\"peers_dns\"");
}

/* --- peers --- */

static void
test_peers_text(void **state)
{
	struct fix *x = *state;
	struct ctl_env *env = &x->env;
	struct run r;
	char head[256], row[256];
	size_t col;

	run_ok(env, "peers", &r);
	assert_non_null(line_of(r.b.p, "ADDRESS", head, sizeof(head)));
	assert_ptr_equal(strstr(r.b.p, "ADDRESS"), r.b.p);
	col = (size_t)(strstr(head, "SOURCE") - head);
	assert_int_equal(strlen(head), col + strlen("SOURCE"));
	/* Every row's source under the SOURCE column. */
	assert_non_null(line_of(r.b.p, "10.0.0.1:5355", row, sizeof(row)));
	assert_string_equal(row + col, "file");
	assert_has(row, " neighbour ");
	assert_has(row, "abcdef01= "); /* our nameserver set */
	assert_has(row, "     1.2 s        8        6        1     1 ");
	assert_non_null(line_of(r.b.p, "10.0.0.2:5355", row, sizeof(row)));
	assert_string_equal(row + col, "dns peers.example");
	assert_has(row, "11112222  ");
	assert_has(row, "     never");
	assert_has(row, "    - dns");
	run_free(&r);
}

static void
test_peers_json(void **state)
{
	struct fix *x = *state;

	reply_has(&x->env, "json peers",
	    "{\"configured\":true,\"peers\":[{\"address\":\"10.0.0.1:5355\"",
	    "\"ns_set_shared\":true", "\"ns_set_shared\":false",
	    "\"last_heartbeat_ago_s\":1.250",
	    "\"last_heartbeat_ago_s\":null", "\"rank\":null",
	    "\"source\":\"file\"", "\"source\":\"dns peers.example\"");
	fake_init(&x->fk, 0);
	reply_is(&x->env, "json peers",
	    "{\"configured\":false,\"peers\":[]}\n");
	reply_is(&x->env, "peers", "peers: none configured\n");
}

/* --- metrics --- */

/* Every line is a comment or "codns_NAME[{labels}] VALUE". */
static void
assert_prometheus(const char *text)
{
	char line[512];
	const char *p = text, *nl, *sp;

	for (; *p != '\0'; p = nl + 1) {
		assert_non_null(nl = strchr(p, '\n'));
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		if (strncmp(line, "# HELP codns_", 13) == 0 ||
		    strncmp(line, "# TYPE codns_", 13) == 0)
			continue;
		if (strncmp(line, "codns_", 6) != 0 ||
		    (sp = strrchr(line, ' ')) == NULL ||
		    strspn(sp + 1, "0123456789.") != strlen(sp + 1) ||
		    sp[1] == '\0')
			fail_msg("not a metric line: \"%s\"", line);
	}
}

static void
test_metrics(void **state)
{
	struct fix *x = *state;
	struct run r;

	run_ok(&x->env, "metrics", &r);
	assert_prometheus(r.b.p);
	run_free(&r);
	reply_has(&x->env, "metrics",
	    "codns_build_info{version=\"" PACKAGE_VERSION "\"} 1\n",
	    "\ncodns_uptime_seconds 90061\n", "\ncodns_cache_hits_total 3\n",
	    "\ncodns_control_clients 2\n", "\ncodns_lookup_clients 4\n",
	    "\ncodns_upstream_response_seconds 0.012000\n",
	    "\ncodns_upstream_failure_ratio 0.025000\n",
	    "\ncodns_initial_delay_seconds 0.150000\n",
	    "\ncodns_recent_wins{window=\"32\",winner=\"peer\"} 12\n",
	    "# TYPE codns_peers_dns_failures_total counter\n"
	    "codns_peers_dns_failures_total{name=\"peers.example\"} 2\n"
	    "codns_peers_dns_failures_total{name=\"more.example\"} 0\n",
	    "\ncodns_peers_dns_peers{name=\"peers.example\"} 3\n",
	    "\ncodns_peers_dns_cut_union_total 5\n",
	    /* stats's own part follows. */
	    "\n# TYPE codns_lookups_total counter\n");
	fake_init(&x->fk, 0);
	run_ok(&x->env, "metrics", &r);
	assert_prometheus(r.b.p);
	run_free(&r);
	reply_lacks(&x->env, "metrics", "initial_delay", "peers_dns",
	    "recent_wins");
}

/* --- who may --- */

static void
expect_refused(const struct ctl_env *env, const char *line, int have_cred,
    uid_t uid, gid_t gid)
{
	struct run r;

	run(env, line, have_cred, uid, gid, &r);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, "permission denied");
	run_free(&r);
}

static void
expect_allowed(const struct ctl_env *env, const char *line, int have_cred,
    uid_t uid, gid_t gid)
{
	struct run r;

	run(env, line, have_cred, uid, gid, &r);
	if (r.rc != 0)
		fail_msg("%s refused to uid %ld: %s", line, (long)uid, r.err);
	run_free(&r);
}

/* flush, reload and handover: root and the daemon's uid only; nothing
 * runs for anyone else. */
static void
test_admin_commands(void **state)
{
	static const char *const cmds[] = { "flush", "reload", "handover" };
	struct fix *x = *state;
	struct ctl_env *env = &x->env;
	struct fake *fk = &x->fk;
	size_t i;

	for (i = 0; i < 3; i++) {
		expect_refused(env, cmds[i], 1, STRANGER, STRANGER);
		expect_refused(env, cmds[i], 1, STRANGER, 0); /* gid 0 */
		expect_refused(env, cmds[i], 0, 0, 0); /* no SO_PEERCRED */
		expect_refused(env, cmds[i], 1, DAEMON_UID + 1, DAEMON_UID);
	}
	assert_int_equal(fk->flushes + fk->reloads + fk->handovers, 0);
	for (i = 0; i < 3; i++) {
		expect_allowed(env, cmds[i], 1, 0, STRANGER);
		expect_allowed(env, cmds[i], 1, DAEMON_UID, STRANGER);
	}
	assert_int_equal(fk->flushes, 2);
	assert_int_equal(fk->reloads, 2);
	assert_int_equal(fk->handovers, 2);
	assert_int_equal(fk->handover_fd, 7);
	assert_true(ctl_admin(env, 0));
	assert_true(ctl_admin(env, DAEMON_UID));
	assert_false(ctl_admin(env, STRANGER));
	/* The daemon's uid is asked each time (it changes when privileges
	 * are dropped after the socket is bound). */
	fk->uid = STRANGER;
	assert_true(ctl_admin(env, STRANGER));
	expect_allowed(env, "flush", 1, STRANGER, STRANGER);
	expect_refused(env, "flush", 1, DAEMON_UID, DAEMON_UID);
}

/* top shows other users' names: root, the daemon's uid, control-group. */
static void
test_top_needs_group(void **state)
{
	struct fix *x = *state;
	struct ctl_env *env = &x->env;
	struct fake *fk = &x->fk;
	struct group *gr;
	char group[64];

	/* The group of gid 0, whose members the stranger is not. */
	assert_null(getpwuid(STRANGER));
	assert_non_null(gr = getgrgid(0));
	snprintf(group, sizeof(group), "%s", gr->gr_name);
	expect_refused(env, "top", 1, STRANGER, 0); /* no control-group */
	expect_refused(env, "top", 0, 0, 0);
	expect_allowed(env, "top", 1, 0, STRANGER);
	expect_allowed(env, "top 5", 1, DAEMON_UID, STRANGER);
	fk->group = group;
	expect_allowed(env, "top", 1, STRANGER, 0);
	expect_refused(env, "top", 1, STRANGER, STRANGER);
	expect_refused(env, "top", 0, STRANGER, 0); /* gid unknown */
	fk->group = "no-such-group-codns";
	expect_refused(env, "top", 1, STRANGER, 0);
	/* The reports are everyone's, credentials or not. */
	expect_allowed(env, "status", 0, 0, 0);
	expect_allowed(env, "peers", 1, STRANGER, STRANGER);
	expect_allowed(env, "stats", 0, 0, 0);
	expect_allowed(env, "metrics", 1, STRANGER, STRANGER);
}

/* --- the commands' replies and errors --- */

static void
expect_error(const struct ctl_env *env, const char *line, const char *err)
{
	struct run r;

	run(env, line, 1, 0, 0, &r);
	assert_int_equal(r.rc, -1);
	assert_string_equal(r.err, err);
	run_free(&r);
}

static void
test_command_replies(void **state)
{
	struct fix *x = *state;
	struct ctl_env *env = &x->env;
	struct fake *fk = &x->fk;

	reply_is(env, "flush", "flushed 42 entries\n");
	assert_string_equal(fk->flushed, "*");
	reply_is(env, "json flush www.example.com", "{\"flushed\":2}\n");
	assert_string_equal(fk->flushed, "www.example.com");
	reply_is(env, "reload", "reloaded\n");
	reply_is(env, "json reload", "{\"reloaded\":true}\n");
	reply_has(env, "json top 3", "{");
	reply_has(env, "json stats", "{");

	/* A failed reload's lines become one. */
	fk->reload_err = "line 3: bad key\nline 9: bad value\n\n";
	expect_error(env, "reload",
	    "reload failed: line 3: bad key;line 9: bad value");
	fk->reload_err = NULL;
	expect_error(env, "flush a b", "usage: flush [NAME]");
	expect_error(env, "flush bad..name", "invalid name");
	expect_error(env, "reload now", "usage: reload");
	expect_error(env, "handover x", "usage: handover");
	expect_error(env, "top 0", "top: N must be 1..256");
	expect_error(env, "top 257", "top: N must be 1..256");
	expect_error(env, "top 5x", "top: N must be 1..256");
	expect_error(env, "top 1 2", "usage: top [N]");
	expect_error(env, "status now", "status takes no arguments");
	expect_error(env, "metrics x", "metrics takes no arguments");
	expect_error(env, "frobnicate", "unknown command frobnicate");
	assert_int_equal(fk->flushes, 2);
	assert_int_equal(fk->reloads, 3);
	assert_int_equal(fk->handovers, 0);
	env->reload = NULL;
	env->handover = NULL;
	expect_error(env, "reload", "reload is not available");
	expect_error(env, "handover", "handover is not available");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_check_itself),
		cmocka_unit_test_setup_teardown(test_status_text,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_status_json,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_status_without_peers,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_peers_text,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_peers_json,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_metrics,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_admin_commands,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_top_needs_group,
		    fix_setup, fix_teardown),
		cmocka_unit_test_setup_teardown(test_command_replies,
		    fix_setup, fix_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
