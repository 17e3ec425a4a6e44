/* SPDX-License-Identifier: MIT */
/* codnsd/main.c: codnsd start-up, signals, reload and shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cachefile.h"
#include "clock.h"
#include "codnsd.h"
#include "clock.h"
#include "conf.h"
#include "ctl.h"
#include "ctlio.h"
#include "dnsstub.h"
#include "handover.h"
#include "listen.h"
#include "log.h"
#include "lookup.h"
#include "lookupio.h"
#include "nscd.h"
#include "notify.h"
#include "peernetio.h"
#include "shm.h"
#include "stats.h"
#include "upstream.h"

/* SIGTERM answers what is in flight for this long at most. */
#define CODNSD_DRAIN_S 1.0
#define CODNSD_DRAIN_TICK_S 0.005

static void
usage(void)
{
	fprintf(stderr, "usage: codnsd [-f] [-d] [-R] [-c FILE] [-t] [-V]\n");
	exit(1);
}

/* Peers' queries are served by the lookup module, never escalated. */
static void *
serve_peer(void *ctx, const struct proto_request *req, peernet_answer_cb *cb,
    void *arg, struct proto_answer *now)
{
	struct codnsd *d = ctx;

	return lookup_start(d->lookup, req, LOOKUP_F_PEER, cb, arg, now);
}

static void
unserve_peer(void *handle)
{
	lookup_cancel(handle);
}

/* Open the peer transport of config c if its peers file exists, and wire
 * it up; the caller puts *out in d->peernet and calls peers_wired(). */
static int
peers_open(struct codnsd *d, const struct conf *c, struct peernet **out,
    char *err, size_t errlen)
{
	if (peernet_open(d, c, out, err, errlen) == -1)
		return -1;
	if (*out != NULL)
		peernet_set_server(*out, serve_peer, unserve_peer, d);
	return 0;
}

/* Nameserver probes keep the health figures that heartbeats carry true:
 * after 5 s of silence, or a steady heartbeat interval if shorter (no
 * heartbeat would carry a fresher figure). */
static void
peers_wired(struct codnsd *d)
{
	uint32_t idle = d->conf.heartbeat_steady_ms < 5000 ?
	    d->conf.heartbeat_steady_ms : 5000;

	upstream_probe_idle(d->upstream, d->peernet != NULL ? idle : 0);
}

static void
cache_limits_of(const struct conf *c, struct cache_limits *l)
{
	l->min_ttl_s = c->cache_min_ttl_s;
	l->max_ttl_s = c->cache_max_ttl_s;
	l->negative_ttl_s = c->negative_ttl_s;
	l->stale_s = c->serve_stale_s;
	l->prefetch = c->prefetch;
}

/* A file of codnsd's next to the lookup socket (or, with "lookup-socket
 * none", the control socket), in the directory only codnsd may write. */
static int
run_path_of(const struct conf *c, const char *name, char *out, size_t len)
{
	const char *sock = c->lookup_socket[0] != '\0' ? c->lookup_socket :
							 c->control_socket;
	const char *slash = strrchr(sock, '/');
	int dirlen = slash == NULL ? 1 : (int)(slash - sock);

	if (slash == sock)
		dirlen = 0;
	return snprintf(out, len, "%.*s/%s", dirlen,
	    slash == NULL ? "." : sock, name) >= (int)len ? -1 : 0;
}

/* The shared answer table lives in the directory whose owner the NSS
 * module trusts and where it looks (nss_codns(8)). */
static int
shm_path_of(const struct conf *c, char *out, size_t len)
{
	return run_path_of(c, "answers.shm", out, len);
}

/* The cache file (cache-file); -1 when there is none. */
static int
cache_file_of(const struct conf *c, char *out, size_t len)
{
	if (strcmp(c->cache_file, "none") == 0)
		return -1;
	if (c->cache_file[0] != '\0')
		return snprintf(out, len, "%s", c->cache_file) >= (int)len ?
		    -1 : 0;
	return run_path_of(c, "cache.dump", out, len);
}

/* Keep the cache for the next codnsd (at a stop, before a handover). */
static void
codnsd_cache_save(struct codnsd *d)
{
	char path[PATH_MAX];
	double t0 = ev_time();
	long n;

	if (d->cache_saved || cache_file_of(&d->conf, path, sizeof(path)) == -1)
		return;
	d->cache_saved = 1;
	if ((n = cachefile_write(d->cache, path, clock_loop_ms(d->loop),
		 d->conf.serve_stale_s, upstream_resolver_id(d->upstream))) >=
	    0)
		log_info("cache: %ld entries written to %s in %.3f s", n, path,
		    ev_time() - t0);
}

static void
codnsd_cache_load(struct codnsd *d)
{
	char path[PATH_MAX];
	double t0 = ev_time();
	long n;

	if (cache_file_of(&d->conf, path, sizeof(path)) == -1)
		return;
	if ((n = cachefile_read(d->cache, path, clock_loop_ms(d->loop),
		 upstream_resolver_id(d->upstream))) > 0)
		log_info("cache: %ld entries read from %s in %.3f s", n, path,
		    ev_time() - t0);
}

/* Start, resize or stop publishing answers, after the configuration. A
 * failure leaves lookups working through the socket. */
static void
codnsd_shm_apply(struct codnsd *d)
{
	char path[PATH_MAX], err[PATH_MAX + 128];
	struct shm *s;

	if (shm_path_of(&d->conf, path, sizeof(path)) == -1) {
		log_warnx("shared cache: path too long");
		return;
	}
	if (!d->conf.shared_cache || d->conf.cache_size == 0) {
		cache_set_shm(d->cache, NULL, 0);
		if (d->shm != NULL)
			shm_free(d->shm);
		else
			shm_retire(path);
		d->shm = NULL;
		return;
	}
	if (d->shm != NULL && shm_entries(d->shm) == d->conf.cache_size &&
	    strcmp(shm_path(d->shm), path) == 0)
		return;
	if ((s = shm_new(path, d->conf.cache_size, d->shm, err,
		 sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return;
	}
	d->shm = s;
	shm_beat(s, shmtab_now_ms(), d->conf.resolv_conf);
	cache_set_shm(d->cache, s, clock_loop_ms(d->loop));
	log_info("shared cache %s for %u entries", path, d->conf.cache_size);
}

/* The shared table's heartbeat: readers leave a table whose daemon has
 * stopped beating (dead or hung) at once (shmtab.h). */
static void
shm_beat_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct codnsd *d = w->data;

	(void)loop;
	(void)revents;
	shm_beat(d->shm, shmtab_now_ms(), d->conf.resolv_conf);
}

/* -t: check the config and the peers file, report every error. */
static int
check_config(const char *path, int missing_ok)
{
	struct conf c;
	struct conf_addr *peers = NULL;
	size_t npeers = 0;
	char err[4096];
	int rc = 0;

	conf_defaults(&c);
	if (conf_load(&c, path, missing_ok, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (conf_load_peers(c.peers_file, &peers, &npeers, err,
		sizeof(err)) == -1 &&
	    errno != ENOENT) {
		fprintf(stderr, "%s\n", err);
		rc = 1;
	}
	free(peers);
	if (rc == 0)
		printf("%s: configuration ok\n", path);
	return rc;
}

/* Other nameservers or another search list: answers cached from the old
 * ones may differ from what the new ones say (glibc has no cache to keep). */
static void
codnsd_resolver_changed(void *arg)
{
	struct codnsd *d = arg;

	cache_flush(d->cache, NULL);
	dnsstub_flush(d->dnsstub, NULL); /* the responses kept, too */
	nscd_flush(d->nscd, NULL);
	cache_set_dot_blind(d->cache, !upstream_searches(d->upstream));
}

/*
 * A reload applies whole or not at all. Every new part is first built
 * beside the running one, with no effect on the daemon; only when every
 * part was built are they all committed, by steps that cannot fail. A
 * bad peers file or key file thus leaves the config, the upstreams and
 * resolv.conf settings, the cache capacity and the key exactly as they
 * were. To add a part: a member here, a build step in reload_build(), a
 * commit step in reload_commit() and its release in reload_discard().
 */
struct reload {
	struct conf conf;		  /* the new config */
	struct upstream_staged *upstream; /* new upstream set, resolv.conf */
	struct peernet_staged *peers;	  /* new peers list, key, settings */
	struct peernet *peernet;	  /* peer side opened by this reload */
};

/* Sockets stay as bound at start: listen, lookup-socket, nscd-socket,
 * dns-listen, peer-listen, control-socket and user need a restart
 * (codnsd.8). */
static void
reload_keep_bound(const struct conf *old, struct conf *c)
{
	memcpy(c->listen, old->listen, sizeof(c->listen));
	c->nlisten = old->nlisten;
	c->peer_listen = old->peer_listen;
	memcpy(c->control_socket, old->control_socket,
	    sizeof(c->control_socket));
	memcpy(c->lookup_socket, old->lookup_socket,
	    sizeof(c->lookup_socket));
	memcpy(c->nscd_socket, old->nscd_socket, sizeof(c->nscd_socket));
	memcpy(c->dns_listen, old->dns_listen, sizeof(c->dns_listen));
	c->ndns_listen = old->ndns_listen;
	memcpy(c->user, old->user, sizeof(c->user));
	memcpy(c->pidfile, old->pidfile, sizeof(c->pidfile));
}

static int
reload_build(struct codnsd *d, struct reload *r, char *err, size_t errlen)
{
	/* 1. the config file */
	conf_defaults(&r->conf);
	if (conf_load(&r->conf, d->conf_path, d->conf_missing_ok, err,
		errlen) == -1)
		return -1;
	reload_keep_bound(&d->conf, &r->conf);
	/* 2. the upstream set and resolv.conf */
	if (upstream_prepare(d->upstream, &r->conf, &r->upstream) == -1) {
		snprintf(err, errlen, "cannot apply the new upstreams");
		return -1;
	}
	/* 3. the peers file, key file and peer settings */
	if (d->peernet != NULL)
		return peernet_prepare(d->peernet, &r->conf, &r->peers, err,
		    errlen);
	/* Last, as it opens a socket: a peers file that appeared. */
	return peers_open(d, &r->conf, &r->peernet, err, errlen);
}

static int
reload_commit(struct codnsd *d, struct reload *r, char *err, size_t errlen)
{
	struct cache_limits lim;
	struct lookup_conf lc;

	/* The only step that can fail (out of memory) goes first, and
	 * changes nothing when it does. */
	if (r->peers != NULL && peernet_commit(d->peernet, r->peers) == -1) {
		snprintf(err, errlen, "out of memory for the new peers list");
		return -1;
	}
	r->peers = NULL;
	d->conf = r->conf;
	if (upstream_commit(d->upstream, r->upstream, &d->conf) == 1)
		codnsd_resolver_changed(d);
	r->upstream = NULL;
	cache_limits_of(&d->conf, &lim);
	cache_configure(d->cache, d->conf.cache_size, &lim);
	lookupio_conf(&d->conf, &lc);
	lookup_configure(d->lookup, &lc);
	codnsd_shm_apply(d); /* a failure leaves lookups on the socket */
	nscd_configure(d->nscd);
	if (r->peernet != NULL) {
		d->peernet = r->peernet;
		peers_wired(d);
	}
	r->peernet = NULL;
	return 0;
}

static void
reload_discard(struct reload *r)
{
	upstream_discard(r->upstream);
	peernet_staged_free(r->peers);
	peernet_free(r->peernet);
}

/* SIGHUP, and `codnsctl reload` (ctl_env.reload). */
static int
codnsd_reload(void *arg, char *err, size_t errlen)
{
	struct codnsd *d = arg;
	struct reload *r;
	int rc = -1;

	/* On the heap: a config holds several paths of PATH_MAX. */
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (reload_build(d, r, err, errlen) == 0 &&
	    reload_commit(d, r, err, errlen) == 0)
		rc = 0;
	reload_discard(r);
	free(r);
	return rc;
}

/* READY=1 with what a "systemctl status" reader wants to know. */
static void
codnsd_ready(struct codnsd *d)
{
	notify_send("READY=1\nMAINPID=%ld\nSTATUS=serving on %s%s%s",
	    (long)getpid(), listen_addresses(d->listen),
	    d->dnsstub != NULL && dnsstub_addresses(d->dnsstub)[0] != '\0' ?
		", DNS on " : "",
	    d->dnsstub != NULL ? dnsstub_addresses(d->dnsstub) : "");
}

static void
sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct codnsd *d = w->data;
	char err[4096];
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
		(unsigned long long)ts.tv_nsec / 1000);
	if (codnsd_reload(d, err, sizeof(err)) == -1) {
		log_warnx("reload failed, keeping the old configuration:\n%s",
		    err);
		notify_send("READY=1\nSTATUS=reload failed, old "
			    "configuration kept");
	} else {
		log_info("configuration reloaded");
		codnsd_ready(d);
	}
}

/* The end of a drain: what is still in flight hears "unavailable", so
 * that NSS falls through to dns ([!UNAVAIL=return] makes try-again, that
 * is EAI_AGAIN, final). */
static void
codnsd_stop(struct codnsd *d)
{
	ev_timer_stop(d->loop, &d->drain);
	lookup_fail_all(d->lookup, CODNS_UNAVAIL);
	listen_flush(d->listen);
	/* After a handover the new codnsd has read it already. */
	if (!handover_given())
		codnsd_cache_save(d);
	ev_break(d->loop, EVBREAK_ALL);
}

static int
codnsd_idle(const struct codnsd *d)
{
	return lookup_inflight(d->lookup) == 0 &&
	    (d->dnsstub == NULL || !dnsstub_busy(d->dnsstub));
}

static void
drain_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct codnsd *d = t->data;

	if (codnsd_idle(d) || ev_now(loop) >= d->drain_end)
		codnsd_stop(d);
}

/* Stop taking work (on), or take it again (off); what is queued on the
 * sockets waits there for the next codnsd (socket activation, or codnsd
 * -R). */
static void
codnsd_pause(struct codnsd *d, int on)
{
	listen_pause(d->listen, on);
	if (d->dnsstub != NULL)
		dnsstub_pause(d->dnsstub, on);
	nscd_pause(d->nscd, on);
	ctl_pause(d->ctl, on);
}

/* Answer what is in flight for at most CODNSD_DRAIN_S, then stop. */
static void
codnsd_drain(struct codnsd *d)
{
	if (d->draining)
		return;
	d->draining = 1;
	notify_send("STOPPING=1\nSTATUS=draining %zu lookups",
	    lookup_inflight(d->lookup));
	codnsd_pause(d, 1);
	d->drain_end = ev_now(d->loop) + CODNSD_DRAIN_S;
	ev_timer_init(&d->drain, drain_cb, 0., CODNSD_DRAIN_TICK_S);
	d->drain.data = d;
	ev_timer_start(d->loop, &d->drain);
}

/*
 * The new codnsd says "ready" once it serves on the sockets it was given:
 * only then does this one stop taking work and drain, so that someone
 * always reads the sockets. If it goes away before, this one goes on.
 */
static void
successor_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct codnsd *d = w->data;
	char buf[16];
	ssize_t n;

	n = recv(w->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	ev_io_stop(loop, w);
	close(w->fd);
	if (n > 0 && memmem(buf, (size_t)n, "ready", 5) != NULL) {
		log_info("replaced: draining %zu lookups",
		    lookup_inflight(d->lookup));
		codnsd_drain(d);
		return;
	}
	log_warnx("the new codnsd went away before it was ready: serving on");
	handover_cancel();
	d->cache_saved = 0;
}

/*
 * codnsd -R, through the control socket: write the cache file and send
 * every listening socket on fd; both daemons serve the same sockets until
 * the new one is ready (successor_cb()).
 */
static int
codnsd_handover(void *arg, int fd, char *err, size_t errlen)
{
	struct codnsd *d = arg;

	int wfd;

	if (d->draining || ev_is_active(&d->successor)) {
		snprintf(err, errlen, "already stopping");
		return -1;
	}
	codnsd_cache_save(d);
	if ((wfd = dup(fd)) == -1 || handover_send(fd) == -1) {
		snprintf(err, errlen, "cannot send the sockets: %s",
		    strerror(errno));
		if (wfd != -1)
			close(wfd);
		d->cache_saved = 0;
		return -1;
	}
	/* ctl closes its fd after its reply; this one waits for "ready". */
	ev_io_init(&d->successor, successor_cb, wfd, EV_READ);
	d->successor.data = d;
	ev_io_start(d->loop, &d->successor);
	return 0;
}

/* SIGTERM/SIGINT: drain; a second one stops at once. */
static void
sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct codnsd *d = w->data;

	if (d->draining) {
		log_info("stopping now");
		codnsd_stop(d);
		return;
	}
	log_info("shutting down: %zu lookups in flight",
	    lookup_inflight(d->lookup));
	codnsd_drain(d);
}

static void
daemonize(void)
{
	int fd;

	switch (fork()) {
	case -1:
		fatal("fork");
	case 0:
		break;
	default:
		_exit(0);
	}
	if (setsid() == -1)
		fatal("setsid");
	if (chdir("/") == -1)
		fatal("chdir");
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
}

static void
write_pidfile(const char *path)
{
	FILE *f;

	if (*path == '\0')
		return;
	if ((f = fopen(path, "w")) == NULL)
		fatal("pidfile %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
}

/*
 * After every socket is bound and every file the start needs is read:
 * supplementary groups first (they need the privilege being dropped), then
 * the group, then the user, all three of real, effective and saved ids.
 * Then prove it: a process that can get root back has not dropped it.
 */
static void
drop_privileges(struct codnsd *d)
{
	struct passwd *pw;
	gid_t gid;
	uid_t uid;

	d->uid = geteuid();
	if (d->conf.user[0] == '\0')
		return;
	/* Started unprivileged (the unit's DynamicUser=): nothing to drop,
	 * and a "user" kept in an old conffile must not stop the start. */
	if (d->uid != 0) {
		log_warnx("not started as root: \"user %s\" ignored, running "
		    "as uid %ld", d->conf.user, (long)d->uid);
		return;
	}
	if ((pw = getpwnam(d->conf.user)) == NULL)
		fatalx("unknown user %s", d->conf.user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		fatal("cannot drop privileges to %s", d->conf.user);
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		fatalx("privileges of %s not fully taken", d->conf.user);
	if (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1 ||
	    (gid != 0 && setgid(0) != -1)))
		fatalx("could regain root after dropping to %s", d->conf.user);
	d->uid = uid;
	log_info("running as %s (uid %ld, gid %ld)", d->conf.user, (long)uid,
	    (long)gid);
}

/* Listening sockets from systemd, or from the codnsd that -R replaces;
 * the listeners bound in setup() take them (handover.h). */
static void
take_sockets(struct codnsd *d, int replace)
{
	char err[PATH_MAX + 128];
	int rc;

	if (handover_from_env() == -1)
		fatalx("cannot take the sockets of socket activation");
	if (!replace)
		return;
	if ((rc = handover_request(d->conf.control_socket, err,
		 sizeof(err))) == -1)
		fatalx("%s", err);
	if (rc == 0)
		log_info("replace: no codnsd answers on %s, starting anew",
		    d->conf.control_socket);
}

static void
setup(struct codnsd *d)
{
	struct cache_limits lim;
	struct ctl_env cenv;
	char err[1024];

	cache_limits_of(&d->conf, &lim);
	if ((d->stats = stats_new()) == NULL ||
	    (d->cache = cache_new(d->conf.cache_size, &lim)) == NULL ||
	    (d->lookup = lookupio_new(d)) == NULL)
		fatal("out of memory");
	if ((d->upstream = upstream_new(d->loop, &d->conf)) == NULL)
		fatalx("cannot set up the upstream resolver");
	upstream_set_stats(d->upstream, d->stats);
	upstream_on_change(d->upstream, codnsd_resolver_changed, d);
	cache_set_dot_blind(d->cache, !upstream_searches(d->upstream));
	codnsd_cache_load(d); /* after the setting above, which flushes */
	if ((d->listen = listen_new(d)) == NULL)
		fatalx("cannot listen for lookups");
	if ((d->dnsstub = dnsstub_new(d)) == NULL)
		fatalx("cannot listen for DNS queries");
	if (d->conf.nscd_socket[0] != '\0' && (d->nscd = nscd_new(d)) == NULL)
		fatalx("cannot serve the nscd protocol");
	if (peers_open(d, &d->conf, &d->peernet, err, sizeof(err)) == -1)
		fatalx("%s", err);
	peers_wired(d);
	ctlio_env(d, &cenv);
	cenv.reload = codnsd_reload;
	cenv.handover = codnsd_handover;
	if ((d->ctl = ctl_new(&cenv, d->conf.control_socket,
		 d->conf.user)) == NULL)
		fatalx("cannot open the control socket");
	handover_close_unused();
	codnsd_shm_apply(d);
	ev_signal_init(&d->sigterm, sigterm_cb, SIGTERM);
	ev_signal_init(&d->sigint, sigterm_cb, SIGINT);
	ev_signal_init(&d->sighup, sighup_cb, SIGHUP);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
	ev_timer_init(&d->shm_beat, shm_beat_cb, SHMTAB_BEAT_MS / 1000.,
	    SHMTAB_BEAT_MS / 1000.);
	d->shm_beat.data = d;
	ev_timer_start(d->loop, &d->shm_beat);
}

/* Each destructor unregisters what points into its object, so the order
 * is free (peernet goes before lookup, the order that once broke). */
static void
teardown(struct codnsd *d)
{
	/* First: readers must stop trusting answers nobody will flush. */
	cache_set_shm(d->cache, NULL, 0);
	shm_free(d->shm);
	nscd_free(d->nscd); /* its clients fall back to NSS */
	d->nscd = NULL;
	ctl_free(d->ctl); /* unlinks the control socket */
	listen_free(d->listen);
	dnsstub_free(d->dnsstub);
	d->dnsstub = NULL;
	/* lookupio follows these through d: each is cleared as it goes. */
	peernet_free(d->peernet);
	d->peernet = NULL;
	lookup_free(d->lookup);
	upstream_free(d->upstream);
	d->upstream = NULL;
	cache_free(d->cache);
	d->cache = NULL;
	stats_free(d->stats);
	d->stats = NULL;
	/* After a handover the pidfile names the new codnsd. */
	if (d->conf.pidfile[0] != '\0' && !handover_given())
		unlink(d->conf.pidfile);
	ev_loop_destroy(d->loop);
}

int
main(int argc, char *argv[])
{
	struct codnsd d;
	char err[4096];
	int ch, foreground = 0, check = 0, replace = 0;

	memset(&d, 0, sizeof(d));
	d.conf_path = CONF_DEFAULT_FILE;
	d.conf_missing_ok = 1;
	while ((ch = getopt(argc, argv, "fdc:tRV")) != -1) {
		switch (ch) {
		case 'f':
			foreground = 1;
			break;
		case 'd':
			d.debug = foreground = 1;
			break;
		case 'c':
			d.conf_path = optarg;
			d.conf_missing_ok = 0;
			break;
		case 't':
			check = 1;
			break;
		case 'R':
			replace = 1;
			break;
		case 'V':
			printf("codnsd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check)
		return check_config(d.conf_path, d.conf_missing_ok);

	log_init(d.debug, 1);
	conf_defaults(&d.conf);
	if (conf_load(&d.conf, d.conf_path, d.conf_missing_ok, err,
		sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((d.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot start the event loop");
	d.started = ev_now(d.loop);
	notify_init(d.loop);
	take_sockets(&d, replace);
	setup(&d);
	if (!foreground) {
		daemonize();
		log_init(d.debug, 0);
		ev_loop_fork(d.loop);
	}
	write_pidfile(d.conf.pidfile);
	drop_privileges(&d);
	log_info("codnsd %s ready on %s", PACKAGE_VERSION,
	    listen_addresses(d.listen));
	handover_ready(); /* the codnsd replaced may drain now */
	codnsd_ready(&d);
	ev_run(d.loop, 0);
	notify_close();
	teardown(&d);
	return 0;
}
