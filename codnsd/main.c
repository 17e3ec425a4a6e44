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
#include <unistd.h>

#include "cache.h"
#include "codnsd.h"
#include "conf.h"
#include "ctl.h"
#include "dnsstub.h"
#include "listen.h"
#include "log.h"
#include "lookup.h"
#include "peernet.h"
#include "stats.h"
#include "upstream.h"

static void
usage(void)
{
	fprintf(stderr, "usage: codnsd [-f] [-d] [-c FILE] [-t] [-V]\n");
	exit(1);
}

static void
cache_limits_of(const struct conf *c, struct cache_limits *l)
{
	l->min_ttl_s = c->cache_min_ttl_s;
	l->max_ttl_s = c->cache_max_ttl_s;
	l->negative_ttl_s = c->negative_ttl_s;
	l->stale_s = c->serve_stale_s;
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
		fprintf(stderr, "%s", err);
		return 1;
	}
	if (conf_load_peers(c.peers_file, &peers, &npeers, err,
		sizeof(err)) == -1 &&
	    errno != ENOENT) {
		fprintf(stderr, "%s", err);
		rc = 1;
	}
	free(peers);
	if (rc == 0)
		printf("%s: configuration ok\n", path);
	return rc;
}

int
codnsd_reload(struct codnsd *d, char *err, size_t errlen)
{
	struct conf c;
	struct cache_limits lim;

	conf_defaults(&c);
	if (conf_load(&c, d->conf_path, d->conf_missing_ok, err, errlen) ==
	    -1)
		return -1;
	/* Sockets stay as bound at start: listen, peer-listen,
	 * dns-listen, control-socket and user need a restart
	 * (codnsd.8). */
	memcpy(c.listen, d->conf.listen, sizeof(c.listen));
	c.nlisten = d->conf.nlisten;
	memcpy(c.dns_listen, d->conf.dns_listen, sizeof(c.dns_listen));
	c.ndns_listen = d->conf.ndns_listen;
	c.peer_listen = d->conf.peer_listen;
	memcpy(c.control_socket, d->conf.control_socket,
	    sizeof(c.control_socket));
	memcpy(c.user, d->conf.user, sizeof(c.user));
	memcpy(c.pidfile, d->conf.pidfile, sizeof(c.pidfile));
	if (upstream_configure(d->upstream, &c) == -1) {
		snprintf(err, errlen, "cannot apply the new upstreams\n");
		return -1;
	}
	d->conf = c;
	cache_limits_of(&c, &lim);
	cache_configure(d->cache, c.cache_size, &lim);
	if (d->peernet != NULL)
		return peernet_reload(d->peernet, err, errlen);
	if (peernet_open(d, &d->peernet, err, errlen) == -1)
		return -1;
	return 0;
}

static void
sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct codnsd *d = w->data;
	char err[4096];

	if (codnsd_reload(d, err, sizeof(err)) == -1)
		log_warnx("reload failed, keeping the old configuration:\n%s",
		    err);
	else
		log_info("configuration reloaded");
}

static void
sigterm_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct codnsd *d = w->data;

	log_info("shutting down");
	/* Clients waiting on a lookup hear try-again rather than silence. */
	lookup_fail_all(d->lookup);
	listen_flush(d->listen);
	ev_break(loop, EVBREAK_ALL);
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

static void
drop_privileges(struct codnsd *d)
{
	struct passwd *pw;

	d->uid = geteuid();
	if (d->conf.user[0] == '\0')
		return;
	if ((pw = getpwnam(d->conf.user)) == NULL)
		fatalx("unknown user %s", d->conf.user);
	if (setgroups(1, &pw->pw_gid) == -1 || setgid(pw->pw_gid) == -1 ||
	    setuid(pw->pw_uid) == -1)
		fatal("cannot drop privileges to %s", d->conf.user);
	d->uid = pw->pw_uid;
}

static void
setup(struct codnsd *d)
{
	struct cache_limits lim;
	char err[1024];

	cache_limits_of(&d->conf, &lim);
	if ((d->stats = stats_new()) == NULL ||
	    (d->cache = cache_new(d->conf.cache_size, &lim)) == NULL ||
	    (d->lookup = lookup_new(d)) == NULL)
		fatal("out of memory");
	if ((d->upstream = upstream_new(d->loop, &d->conf)) == NULL)
		fatalx("cannot set up the upstream resolver");
	if ((d->listen = listen_new(d)) == NULL)
		fatalx("cannot listen for lookups");
	if ((d->dnsstub = dnsstub_new(d)) == NULL)
		fatalx("cannot listen for DNS queries");
	if (peernet_open(d, &d->peernet, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((d->ctl = ctl_new(d)) == NULL)
		fatalx("cannot open the control socket");
	ev_signal_init(&d->sigterm, sigterm_cb, SIGTERM);
	ev_signal_init(&d->sigint, sigterm_cb, SIGINT);
	ev_signal_init(&d->sighup, sighup_cb, SIGHUP);
	d->sigterm.data = d->sigint.data = d->sighup.data = d;
	ev_signal_start(d->loop, &d->sigterm);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sighup);
}

static void
teardown(struct codnsd *d)
{
	ctl_free(d->ctl); /* unlinks the control socket */
	listen_free(d->listen);
	dnsstub_free(d->dnsstub);
	peernet_free(d->peernet);
	lookup_free(d->lookup);
	upstream_free(d->upstream);
	cache_free(d->cache);
	stats_free(d->stats);
	if (d->conf.pidfile[0] != '\0')
		unlink(d->conf.pidfile);
	ev_loop_destroy(d->loop);
}

int
main(int argc, char *argv[])
{
	struct codnsd d;
	char err[4096];
	int ch, foreground = 0, check = 0;

	memset(&d, 0, sizeof(d));
	d.conf_path = CONF_DEFAULT_FILE;
	d.conf_missing_ok = 1;
	while ((ch = getopt(argc, argv, "fdc:tV")) != -1) {
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
		fprintf(stderr, "%s", err);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((d.loop = ev_default_loop(EVFLAG_AUTO)) == NULL)
		fatalx("cannot start the event loop");
	d.started = ev_time();
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
	ev_run(d.loop, 0);
	teardown(&d);
	return 0;
}
