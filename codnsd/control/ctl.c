/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctl.c: the control socket that codnsctl talks to. */
#include "ctl.h"

#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctlexec.h"
#include "ctlparse.h"
#include "log.h"
#include "report.h"
#include "stats.h"
#include "stream.h"
#include "usock.h"

/*
 * One control connection. The protocol (codnsctl.8): one request line,
 * one reply, then the daemon closes. So a client is first reading (input
 * bounded by CTL_LINE_MAX, deadline CTL_READ_SEC), then writing its reply
 * from a buffer as the socket takes it (deadline CTL_WRITE_SEC): neither a
 * silent nor a slow client ever holds the loop.
 */
struct ctl_client {
	struct ctl *ctl;
	struct ctl_peer peer; /* its fd and credentials */
	ev_io rio;
	ev_io wio;
	ev_timer timer;
	char in[CTL_LINE_MAX];
	size_t inlen;
	struct report_buf out;
	size_t outoff;
	LIST_ENTRY(ctl_client) entry;
};

struct ctl {
	struct ctl_env env;
	struct usock sock;
	ev_io io;
	LIST_HEAD(, ctl_client) clients;
	size_t nclients;
};

static void
ctl_client_free(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;
	struct ev_loop *loop = ctl->env.loop;

	LIST_REMOVE(c, entry);
	ctl->nclients--;
	ev_io_stop(loop, &c->rio);
	ev_io_stop(loop, &c->wio);
	ev_timer_stop(loop, &c->timer);
	close(c->peer.fd);
	report_buf_free(&c->out);
	free(c);
}

static void
ctl_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = w->data;
	ssize_t n;

	/* Whole reply sent, or the client gone: done either way. */
	if ((n = stream_write(c->peer.fd, c->out.p + c->outoff,
		 c->out.len - c->outoff)) == -1 ||
	    (c->outoff += (size_t)n) == c->out.len)
		ctl_client_free(c);
}

/* Queue the reply and switch from reading to writing. */
static void
ctl_reply(struct ctl_client *c, const char *err, const struct report_buf *body)
{
	struct ev_loop *loop = c->ctl->env.loop;

	ev_io_stop(loop, &c->rio);
	if (err != NULL)
		report_printf(&c->out, "error %s\n", err);
	else if (body->err)
		report_printf(&c->out, "error out of memory\n");
	else
		report_printf(&c->out, "ok\n%.*s", (int)body->len,
		    body->p ? body->p : "");
	if (c->out.err) {
		ctl_client_free(c);
		return;
	}
	ev_timer_stop(loop, &c->timer);
	ev_timer_set(&c->timer, CTL_WRITE_SEC, 0.);
	ev_timer_start(loop, &c->timer);
	ev_io_start(loop, &c->wio);
}

static void
ctl_bad(struct ctl_client *c, const char *err)
{
	stats_count(c->ctl->env.stats, STATS_CTL_BAD_REQUEST);
	log_debug("control: %s", err);
	ctl_reply(c, err, NULL);
}

static void
ctl_request(struct ctl_client *c, char *line)
{
	struct report_buf body;
	struct ctl_req r;
	char err[CTL_ERR_MAX];

	memset(&body, 0, sizeof(body));
	if (ctl_parse(line, &r, err) == -1) {
		ctl_bad(c, err);
		return;
	}
	if (ctl_exec(&c->ctl->env, &c->peer, c->ctl->nclients, &r, &body,
		err) == -1)
		ctl_reply(c, err, NULL);
	else
		ctl_reply(c, NULL, &body);
	report_buf_free(&body);
}

static void
ctl_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct ctl_client *c = w->data;
	char *nl;
	ssize_t n;

	n = recv(c->peer.fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1 || (n == 0 && c->inlen == 0)) {
		ctl_client_free(c);
		return;
	}
	if (n == 0) {
		/* Shut down mid-line: the request is not whole. */
		ctl_bad(c, "incomplete request");
		return;
	}
	c->inlen += (size_t)n;
	if ((nl = memchr(c->in, '\n', c->inlen)) != NULL) {
		/* Bytes after the line are ignored: one request each. */
		*nl = '\0';
		if (memchr(c->in, '\0', (size_t)(nl - c->in)) != NULL)
			ctl_bad(c, "bad request");
		else
			ctl_request(c, c->in);
	} else if (c->inlen == sizeof(c->in))
		ctl_bad(c, "request too long");
}

static void
ctl_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct ctl_client *c = t->data;
	static const char msg[] = "error timeout\n";

	if (ev_is_active(&c->rio)) {
		stats_count(c->ctl->env.stats, STATS_CTL_BAD_REQUEST);
		/* Best effort: the client may not be reading either. */
		(void)send(c->peer.fd, msg, sizeof(msg) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	ctl_client_free(c);
}

/*
 * A new client gets a slot unless its uid already holds
 * CTL_CLIENTS_PER_UID, and the last CTL_CLIENTS_RESERVE slots go only to
 * uids that hold at most one (the one a client just closed and the loop
 * has not reaped): one local user sending half lines cannot lock the
 * operator out (each line also has a deadline, CTL_READ_SEC, that bytes
 * do not extend). Root and the daemon's uid, who could stop the daemon
 * anyway, have no cap but the table's size.
 */
static int
ctl_admit(const struct ctl *ctl, uid_t uid)
{
	const struct ctl_client *c;
	size_t same = 0;

	if (ctl->nclients >= CTL_CLIENTS_MAX)
		return 0;
	if (ctl_admin(&ctl->env, uid))
		return 1;
	LIST_FOREACH(c, &ctl->clients, entry)
		if (c->peer.have_cred && c->peer.uid == uid)
			same++;
	if (same >= CTL_CLIENTS_PER_UID)
		return 0;
	return ctl->nclients < CTL_CLIENTS_MAX - CTL_CLIENTS_RESERVE ||
	    same < 2;
}

static void
ctl_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	static const char busy[] = "error too many clients\n";
	struct ctl *ctl = w->data;
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd;

	fd = accept4(ctl->sock.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn("control accept");
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		cred.uid = (uid_t)-1;
	if (!ctl_admit(ctl, cred.uid) || (c = calloc(1, sizeof(*c))) == NULL) {
		stats_count(ctl->env.stats, STATS_CTL_REFUSED);
		(void)send(fd, busy, sizeof(busy) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
		return;
	}
	c->ctl = ctl;
	c->peer.fd = fd;
	if (cred.uid != (uid_t)-1) {
		c->peer.uid = cred.uid;
		c->peer.gid = cred.gid;
		c->peer.have_cred = 1;
	}
	ev_io_init(&c->rio, ctl_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, ctl_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->timer, ctl_timer_cb, CTL_READ_SEC, 0.);
	c->rio.data = c->wio.data = c->timer.data = c;
	LIST_INSERT_HEAD(&ctl->clients, c, entry);
	ctl->nclients++;
	ev_io_start(loop, &c->rio);
	ev_timer_start(loop, &c->timer);
}

struct ctl *
ctl_new(const struct ctl_env *env, const char *path, const char *user)
{
	struct ctl *ctl;

	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return NULL;
	ctl->env = *env;
	/* Anyone may connect: the commands that need more check
	 * SO_PEERCRED. */
	if (usock_listen(&ctl->sock, path, user, CTL_SOCKET_MODE,
		"control") == -1) {
		ctl_free(ctl);
		return NULL;
	}
	ev_io_init(&ctl->io, ctl_accept_cb, ctl->sock.fd, EV_READ);
	ctl->io.data = ctl;
	ev_io_start(ctl->env.loop, &ctl->io);
	return ctl;
}

void
ctl_pause(struct ctl *ctl, int on)
{
	if (on)
		ev_io_stop(ctl->env.loop, &ctl->io);
	else
		ev_io_start(ctl->env.loop, &ctl->io);
}

void
ctl_free(struct ctl *ctl)
{
	if (ctl == NULL)
		return;
	while (!LIST_EMPTY(&ctl->clients))
		ctl_client_free(LIST_FIRST(&ctl->clients));
	ev_io_stop(ctl->env.loop, &ctl->io);
	usock_close(&ctl->sock);
	free(ctl);
}

size_t
ctl_clients(const struct ctl *ctl)
{
	return ctl->nclients;
}
