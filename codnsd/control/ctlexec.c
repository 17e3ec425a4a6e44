/* SPDX-License-Identifier: MIT */
/* codnsd/control/ctlexec.c: a control request: who may, and what it does. */
#include "ctlexec.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlreport.h"
#include "log.h"
#include "proto.h"
#include "report.h"
#include "stats.h"

#define CTL_TOP_DEFAULT 20

int
ctl_admin(const struct ctl_env *env, uid_t uid)
{
	return uid == 0 || uid == env->daemon_uid(env->ctx);
}

static int
ctl_privileged(const struct ctl_env *env, const struct ctl_peer *p)
{
	return p->have_cred && ctl_admin(env, p->uid);
}

/*
 * May this client see the names other users looked up (`top`)? Root, the
 * daemon's uid, and members of control-group: the client's primary gid
 * (SO_PEERCRED) or its user in the group's member list. The group is
 * looked up at each request, a rare one, so that /etc/group edits apply
 * without a reload.
 */
static int
ctl_may_see_names(const struct ctl_env *env, const struct ctl_peer *p)
{
	const char *name = env->control_group(env->ctx);
	struct group *gr;
	struct passwd *pw;
	char **m;

	if (ctl_privileged(env, p))
		return 1;
	if (!p->have_cred || name == NULL || name[0] == '\0' ||
	    (gr = getgrnam(name)) == NULL)
		return 0;
	if (p->gid == gr->gr_gid)
		return 1;
	for (m = gr->gr_mem; m != NULL && *m != NULL; m++)
		if ((pw = getpwnam(*m)) != NULL && pw->pw_uid == p->uid)
			return 1;
	return 0;
}

static int
ctl_refuse(const struct ctl_peer *p, const char *cmd, char *err)
{
	log_info("control: %s refused to uid %ld", cmd,
	    p->have_cred ? (long)p->uid : -1L);
	snprintf(err, CTL_ERR_MAX, "permission denied");
	return -1;
}

static int
cmd_flush(const struct ctl_env *env, const struct ctl_req *r,
    struct report_buf *b, char *err)
{
	const char *name = r->argc == 2 ? r->argv[1] : NULL;
	size_t n;

	if (r->argc > 2) {
		snprintf(err, CTL_ERR_MAX, "usage: flush [NAME]");
		return -1;
	}
	if (name != NULL && !proto_name_valid(name)) {
		snprintf(err, CTL_ERR_MAX, "invalid name");
		return -1;
	}
	n = env->flush(env->ctx, name);
	log_info("control: flushed %zu cache entries%s%s", n,
	    name != NULL ? " of " : "", name != NULL ? name : "");
	if (r->json)
		report_printf(b, "{\"flushed\":%zu}\n", n);
	else
		report_printf(b, "flushed %zu entries\n", n);
	return 0;
}

static int
cmd_reload(const struct ctl_env *env, const struct ctl_req *r,
    struct report_buf *b, char *err)
{
	char why[4096];
	size_t i, n;

	if (r->argc != 1) {
		snprintf(err, CTL_ERR_MAX, "usage: reload");
		return -1;
	}
	if (env->reload == NULL) {
		snprintf(err, CTL_ERR_MAX, "reload is not available");
		return -1;
	}
	why[0] = '\0';
	if (env->reload(env->ctx, why, sizeof(why)) == -1) {
		/* The reply's error is one line: join the config errors. */
		n = strnlen(why, sizeof(why) - 1);
		why[n] = '\0';
		while (n > 0 && why[n - 1] == '\n')
			why[--n] = '\0';
		for (i = 0; i < n; i++)
			if (why[i] == '\n')
				why[i] = ';';
		log_warnx("reload failed, keeping the old configuration: %s",
		    why);
		snprintf(err, CTL_ERR_MAX, "reload failed: %s", why);
		return -1;
	}
	log_info("configuration reloaded (control socket)");
	report_printf(b, r->json ? "{\"reloaded\":true}\n" : "reloaded\n");
	return 0;
}

static int
cmd_top(const struct ctl_env *env, const struct ctl_req *r,
    struct report_buf *b, char *err)
{
	unsigned long n = CTL_TOP_DEFAULT;
	char *end;

	if (r->argc > 2) {
		snprintf(err, CTL_ERR_MAX, "usage: top [N]");
		return -1;
	}
	if (r->argc == 2) {
		errno = 0;
		n = strtoul(r->argv[1], &end, 10);
		if (errno || *end != '\0' || n < 1 || n > STATS_TOP_MAX) {
			snprintf(err, CTL_ERR_MAX, "top: N must be 1..%d",
			    STATS_TOP_MAX);
			return -1;
		}
	}
	stats_render_top(env->stats, b, r->json, n);
	return 0;
}

/* codnsd -R: main sends the sockets (and "ok") on the connection. */
static int
cmd_handover(const struct ctl_env *env, const struct ctl_peer *p,
    const struct ctl_req *r, char *err)
{
	if (r->argc != 1) {
		snprintf(err, CTL_ERR_MAX, "usage: handover");
		return -1;
	}
	if (env->handover == NULL) {
		snprintf(err, CTL_ERR_MAX, "handover is not available");
		return -1;
	}
	return env->handover(env->ctx, p->fd, err, CTL_ERR_MAX);
}

int
ctl_exec(const struct ctl_env *env, const struct ctl_peer *p, size_t clients,
    const struct ctl_req *r, struct report_buf *b, char *err)
{
	const char *cmd = r->argv[0];

	if (strcmp(cmd, "flush") == 0 || strcmp(cmd, "reload") == 0) {
		if (!ctl_privileged(env, p))
			return ctl_refuse(p, cmd, err);
		return cmd[0] == 'f' ? cmd_flush(env, r, b, err) :
				       cmd_reload(env, r, b, err);
	}
	if (strcmp(cmd, "handover") == 0) {
		if (!ctl_privileged(env, p))
			return ctl_refuse(p, cmd, err);
		return cmd_handover(env, p, r, err);
	}
	if (strcmp(cmd, "top") == 0) {
		if (!ctl_may_see_names(env, p))
			return ctl_refuse(p, cmd, err);
		return cmd_top(env, r, b, err);
	}
	if (r->argc != 1) {
		snprintf(err, CTL_ERR_MAX, "%s takes no arguments", cmd);
		return -1;
	}
	if (strcmp(cmd, "status") == 0)
		ctlreport_status(env, clients, b, r->json);
	else if (strcmp(cmd, "peers") == 0)
		ctlreport_peers(env, b, r->json);
	else if (strcmp(cmd, "stats") == 0)
		stats_render(env->stats, b, r->json);
	else if (strcmp(cmd, "metrics") == 0)
		ctlreport_metrics(env, clients, b);
	else {
		snprintf(err, CTL_ERR_MAX, "unknown command %.64s", cmd);
		return -1;
	}
	return 0;
}
