/*
 * The job queue: one state machine per account (QUEUED -> CREDENTIALS ->
 * RUNNING -> FINISHED), a concurrency cap, the timeout that SIGKILLs, the
 * SIGCHLD reaper, and the verdict once both the worker's channel and its
 * exit status are in. Callbacks run only from the event loop (the pump
 * event), never from inside a job_* call, so callers may re-enter freely.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "creds.h"
#include "errbuf.h"
#include "jobs.h"
#include "log.h"
#include "peer.h"
#include "proto.h"
#include "queue-compat.h"
#include "spawn-worker.h"
#include "xmalloc.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum job_state {
	JOB_QUEUED,
	JOB_CREDENTIALS,	/* has a slot, waiting for job_start */
	JOB_RUNNING,		/* worker alive or not yet reaped */
	JOB_FINISHED		/* verdict known, done() pending */
};

/* Why the supervisor killed the worker; decides the verdict first. */
enum job_kill {
	KILL_NONE,
	KILL_TIMEOUT,
	KILL_CANCEL,
	KILL_FAIL,		/* job_fail on a running job */
	KILL_VIOLATION,		/* it broke the protocol */
	KILL_EOF		/* it closed its channel without a last frame */
};

struct job {
	TAILQ_ENTRY(job)	 entry;
	struct job_queue	*q;
	enum job_state		 state;
	int			 counted;	/* holds a slot */
	char			 account_id[32];
	json_t			*body;		/* JOB frame body */
	void			*arg;

	pid_t			 pid;
	struct peer		*peer;
	struct event		*timer;
	int			 got_frame;	/* the worker did start */
	int			 closed;	/* channel EOF or violation */
	int			 exited;
	int			 wstatus;
	int			 refreshing;	/* request passed to the caller */
	int			 inflight;	/* its share (LIMITS) */
	enum job_kill		 kill;
	uint32_t		 final_type;	/* 0 or ACCOUNT_DONE / ERROR */
	json_t			*final;

	enum job_status		 status;	/* the verdict, once FINISHED */
	char			*error;
};

TAILQ_HEAD(job_list, job);

struct job_queue {
	LIST_ENTRY(job_queue)	 entry;		/* in all_queues */
	struct event_base	*base;
	struct job_queue_opts	 opts;
	char			*worker_path;
	struct job_callbacks	 cb;
	void			*arg;
	struct job_list		 jobs;
	struct event		*sigchld;
	struct event		*pump;
	int			 live;
	int			 peak;
	char			*broken;	/* why no worker starts any more */
	int			 said_sandbox;
};

static void	job_check_final(struct job *);

/*
 * Every queue of the process: waitpid(-1) in one queue's SIGCHLD handler
 * reaps the children of all, so each status goes to the queue that owns it.
 */
static LIST_HEAD(, job_queue) all_queues = LIST_HEAD_INITIALIZER(all_queues);

static void
pump_schedule(struct job_queue *q)
{
	event_active(q->pump, EV_TIMEOUT, 0);
}

static void
job_finish(struct job *j, enum job_status status, const char *error)
{
	j->state = JOB_FINISHED;
	j->status = status;
	free(j->error);
	j->error = error != NULL ? xstrdup(error) : NULL;
	if (j->counted) {
		j->counted = 0;
		j->q->live--;
	}
	pump_schedule(j->q);
}

/* SIGKILL once, and never after the pid was reaped (it may be reused). */
static void
job_kill(struct job *j, enum job_kill why, const char *error)
{
	if (j->kill != KILL_NONE && j->kill != KILL_EOF)
		return;
	j->kill = why;
	if (error != NULL) {
		free(j->error);
		j->error = xstrdup(error);
	}
	if (!j->exited && kill(j->pid, SIGKILL) == -1 && errno != ESRCH)
		log_warn("kill worker %s (pid %ld)", j->account_id,
		    (long)j->pid);
}

/* ---- verdict ---- */

/* "exited with status 3", "crashed (signal 11)": what the process did. */
static void
exit_reason(const struct job *j, char *buf, size_t len)
{
	int sig;

	if (WIFSIGNALED(j->wstatus)) {
		sig = WTERMSIG(j->wstatus);
		if (sig == SIGSYS)
			snprintf(buf, len, "killed by the sandbox (forbidden "
			    "syscall)");
		else
			snprintf(buf, len, "crashed (signal %d)", sig);
	} else if (WEXITSTATUS(j->wstatus) != 0)
		snprintf(buf, len, "exited with status %d",
		    WEXITSTATUS(j->wstatus));
	else
		snprintf(buf, len, "exited without ACCOUNT_DONE or ERROR");
}

static int
exited_clean(const struct job *j)
{
	return WIFEXITED(j->wstatus) && WEXITSTATUS(j->wstatus) == 0;
}

/* A worker that died before any frame is the installation's fault. */
static void
job_broken(struct job *j, const char *reason)
{
	struct job_queue *q = j->q;
	char *msg;

	msg = xprintf("worker %s %s before its first frame", q->worker_path,
	    reason);
	if (q->broken == NULL) {
		q->broken = xstrdup(msg);
		log_warnx("%s; no further workers are started", msg);
	}
	job_finish(j, JOB_STATUS_FAILED, msg);
	free(msg);
}

static void
job_verdict_exit(struct job *j)
{
	char reason[128], msg[160];

	if (j->final_type == MSG_ERROR) {
		job_finish(j, JOB_STATUS_FAILED, json_string_value(
		    json_object_get(j->final, "message")));
		return;
	}
	if (j->kill == KILL_EOF && WIFSIGNALED(j->wstatus) &&
	    WTERMSIG(j->wstatus) == SIGKILL) {
		job_finish(j, JOB_STATUS_FAILED, "worker closed its channel "
		    "without ACCOUNT_DONE or ERROR");
		return;
	}
	if (j->final_type == MSG_ACCOUNT_DONE && exited_clean(j)) {
		job_finish(j, JOB_STATUS_OK, NULL);
		return;
	}
	exit_reason(j, reason, sizeof(reason));
	if (!j->got_frame) {
		job_broken(j, reason);
		return;
	}
	snprintf(msg, sizeof(msg), "worker %s", reason);
	job_finish(j, JOB_STATUS_FAILED, msg);
}

static void
job_verdict(struct job *j)
{
	char msg[64];
	char *error = j->error;

	j->error = NULL;
	switch (j->kill) {
	case KILL_TIMEOUT:
		snprintf(msg, sizeof(msg), "scan timed out after %d s",
		    j->q->opts.timeout_s);
		job_finish(j, JOB_STATUS_TIMEOUT, msg);
		break;
	case KILL_CANCEL:
		job_finish(j, JOB_STATUS_CANCELLED, "scan cancelled");
		break;
	case KILL_FAIL:
	case KILL_VIOLATION:
		job_finish(j, JOB_STATUS_FAILED, error);
		break;
	default:
		job_verdict_exit(j);
		break;
	}
	free(error);
}

static void
job_check_final(struct job *j)
{
	if (j->state != JOB_RUNNING || !j->closed || !j->exited)
		return;
	if (j->timer != NULL)
		evtimer_del(j->timer);
	job_verdict(j);
}

/* ---- the worker's frames (peer_ops) ---- */

struct frame_row {
	uint32_t	 type;
	void		(*handle)(struct job *, const json_t *);
};

static void
on_batch(struct job *j, const json_t *body)
{
	if (j->q->cb.resource_batch != NULL)
		j->q->cb.resource_batch(j, body, j->q->arg);
}

static void
on_region(struct job *j, const json_t *body)
{
	if (j->q->cb.region_done != NULL)
		j->q->cb.region_done(j, body, j->q->arg);
}

static void
on_progress(struct job *j, const json_t *body)
{
	if (j->q->cb.progress != NULL)
		j->q->cb.progress(j, body, j->q->arg);
}

/* One request at a time reaches the caller; repeats wait for the answer. */
static void
on_request(struct job *j, const json_t *body)
{
	(void)body;
	if (j->refreshing || j->q->cb.credentials_request == NULL)
		return;
	j->refreshing = 1;
	j->q->cb.credentials_request(j, j->q->arg);
}

static const struct frame_row frame_rows[] = {
	{ MSG_RESOURCE_BATCH, on_batch },
	{ MSG_REGION_DONE, on_region },
	{ MSG_PROGRESS, on_progress },
	{ MSG_CREDENTIALS_REQUEST, on_request },
};

static void
job_on_frame(void *arg, uint32_t type, const json_t *body)
{
	struct job *j = arg;
	size_t i;

	j->got_frame = 1;
	if (j->kill != KILL_NONE)
		return;		/* being killed: its frames no longer count */
	for (i = 0; i < nitems(frame_rows); i++) {
		if (frame_rows[i].type == type)
			frame_rows[i].handle(j, body);
	}
}

static void
job_on_hello(void *arg, const json_t *body)
{
	struct job *j = arg;
	const char *sandbox;

	j->got_frame = 1;
	sandbox = json_string_value(json_object_get(body, "sandbox"));
	/* Said once per queue; every worker's line is at DEBUG. */
	if (!j->q->said_sandbox) {
		j->q->said_sandbox = 1;
		log_info("workers run sandboxed: %s", sandbox);
	}
	log_debug("worker %s: pid %ld started, sandbox: %s", j->account_id,
	    (long)j->pid, sandbox);
}

static void
job_on_final(void *arg, uint32_t type, const json_t *body)
{
	struct job *j = arg;

	j->got_frame = 1;
	j->final_type = type;
	json_decref(j->final);
	j->final = json_incref((json_t *)body);
}

static void
job_on_closed(void *arg, const char *violation)
{
	struct job *j = arg;
	char *msg;

	j->closed = 1;
	if (violation != NULL) {
		msg = xprintf("worker broke the protocol: %s", violation);
		log_warnx("worker %s: %s", j->account_id, msg);
		job_kill(j, KILL_VIOLATION, msg);
		free(msg);
	} else if (j->final_type == 0 && !j->exited)
		job_kill(j, KILL_EOF, NULL);
	job_check_final(j);
}

static const struct peer_ops job_peer_ops = {
	job_on_frame, job_on_hello, job_on_final, job_on_closed
};

/* ---- events ---- */

static void
job_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd;
	(void)what;
	log_warnx("worker %s: scan timed out after %d s, killing pid %ld",
	    j->account_id, j->q->opts.timeout_s, (long)j->pid);
	job_kill(j, KILL_TIMEOUT, NULL);
}

static struct job *
job_by_pid(pid_t pid)
{
	struct job_queue *q;
	struct job *j;

	LIST_FOREACH(q, &all_queues, entry) {
		TAILQ_FOREACH(j, &q->jobs, entry) {
			if (j->state == JOB_RUNNING && !j->exited &&
			    j->pid == pid)
				return j;
		}
	}
	return NULL;
}

static void
queue_sigchld(evutil_socket_t sig, short what, void *arg)
{
	struct job *j;
	pid_t pid;
	int status;

	(void)sig;
	(void)what;
	(void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0 ||
	    (pid == -1 && errno == EINTR)) {
		if (pid <= 0 || (j = job_by_pid(pid)) == NULL)
			continue;
		j->exited = 1;
		j->wstatus = status;
		job_check_final(j);
	}
}

static void
job_free(struct job *j)
{
	if (j->timer != NULL)
		event_free(j->timer);
	peer_free(j->peer);
	json_decref(j->body);
	json_decref(j->final);
	free(j->error);
	free(j);
}

static void
job_deliver(struct job *j)
{
	struct job_queue *q = j->q;
	const json_t *final = NULL;

	TAILQ_REMOVE(&q->jobs, j, entry);
	if (j->status == JOB_STATUS_OK ||
	    (j->status == JOB_STATUS_FAILED && j->final_type == MSG_ERROR &&
	    j->kill == KILL_NONE))
		final = j->final;
	log_debug("worker %s: done%s%s", j->account_id,
	    j->error != NULL ? ": " : "", j->error != NULL ? j->error : "");
	q->cb.done(j, j->status, j->error, final, q->arg);
	job_free(j);
}

static void
queue_not_started(struct job_queue *q, struct job *j)
{
	char *msg;

	msg = xprintf("not started: %s; no further workers are started",
	    q->broken);
	job_finish(j, JOB_STATUS_FAILED, msg);
	free(msg);
}

/* Give each free slot to the next queued job; how many were given. */
static int
queue_fill(struct job_queue *q)
{
	struct job *j;
	int started = 0;

	TAILQ_FOREACH(j, &q->jobs, entry) {
		if (q->live >= q->opts.max_workers || q->broken != NULL)
			break;
		if (j->state != JOB_QUEUED)
			continue;
		j->state = JOB_CREDENTIALS;
		j->counted = 1;
		if (++q->live > q->peak)
			q->peak = q->live;
		q->cb.need_credentials(j, q->arg);
		started++;
	}
	return started;
}

/*
 * The budget is max_workers x PROTO_INFLIGHT requests in flight, shared by
 * the jobs holding a slot. While accounts wait, every slot is held and
 * each worker has PROTO_INFLIGHT; once none waits, the slots that free up
 * go to the workers still running (the last accounts, often the largest,
 * would otherwise finish alone on a sixteenth of the budget), at most
 * PROTO_MAX_INFLIGHT each. Within one scan shares only grow then. Jobs
 * submitted later (another scan of the MCP server) shrink them again as
 * they start; a worker reaches its smaller share as its requests in flight
 * end, so until then the budget can be exceeded by what it had above it.
 */
static int
queue_share(const struct job_queue *q)
{
	int share;

	if (q->live <= 0)
		return PROTO_INFLIGHT;
	share = q->opts.max_workers * PROTO_INFLIGHT / q->live;
	if (share > PROTO_MAX_INFLIGHT)
		return PROTO_MAX_INFLIGHT;
	return share < PROTO_INFLIGHT ? PROTO_INFLIGHT : share;
}

/* Send LIMITS to each running worker whose share changed. */
static void
queue_share_out(struct job_queue *q)
{
	struct errbuf err;
	struct job *j;
	json_t *body;
	int share = queue_share(q);

	TAILQ_FOREACH(j, &q->jobs, entry) {
		if (j->state != JOB_RUNNING || j->inflight == share ||
		    j->closed || j->kill != KILL_NONE || j->final_type != 0)
			continue;
		j->inflight = share;
		if ((body = json_pack("{s:i}", "max_inflight", share)) == NULL)
			fatalx("json_pack failed");
		if (peer_send(j->peer, MSG_LIMITS, body, &err) == -1)
			log_warnx("worker %s: %s", j->account_id, err.msg);
		json_decref(body);
	}
}

/*
 * Refuse queued jobs if broken, fill free slots, deliver finished jobs.
 * Delivering stores an account's results, which takes a while for a big
 * one; when slots were just filled it waits for the next round of the
 * loop, behind the credential replies that start the new workers.
 */
static void
queue_pump(evutil_socket_t fd, short what, void *arg)
{
	struct job_queue *q = arg;
	struct job *j, *next;
	int started;

	(void)fd;
	(void)what;
	TAILQ_FOREACH(j, &q->jobs, entry) {
		if (j->state == JOB_QUEUED && q->broken != NULL)
			queue_not_started(q, j);
	}
	started = queue_fill(q);
	queue_share_out(q);
	if (started > 0) {
		pump_schedule(q);
		return;
	}
	TAILQ_FOREACH_SAFE(j, &q->jobs, entry, next) {
		if (j->state == JOB_FINISHED)
			job_deliver(j);
	}
}

/* ---- public ---- */

struct job_queue *
job_queue_new(struct event_base *base, const struct job_queue_opts *opts,
    const struct job_callbacks *cb, void *arg)
{
	struct job_queue *q;

	if (opts->max_workers < 1 || opts->timeout_s < 1 ||
	    opts->worker_path == NULL || cb->need_credentials == NULL ||
	    cb->done == NULL)
		fatalx("job_queue_new: invalid options");
	/* A worker gone before we wrote to it must not kill us by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	q = xcalloc(1, sizeof(*q));
	q->base = base;
	q->opts = *opts;
	q->worker_path = xstrdup(opts->worker_path);
	q->opts.worker_path = q->worker_path;
	q->cb = *cb;
	q->arg = arg;
	TAILQ_INIT(&q->jobs);
	q->sigchld = evsignal_new(base, SIGCHLD, queue_sigchld, q);
	q->pump = event_new(base, -1, 0, queue_pump, q);
	if (q->sigchld == NULL || q->pump == NULL ||
	    evsignal_add(q->sigchld, NULL) == -1)
		fatalx("job_queue_new: cannot set up events");
	LIST_INSERT_HEAD(&all_queues, q, entry);
	return q;
}

/* Blocking, but only at shutdown: kill and reap so no zombie remains. */
static void
job_reap_now(struct job *j)
{
	int status;

	if (j->state != JOB_RUNNING || j->exited)
		return;
	kill(j->pid, SIGKILL);
	while (waitpid(j->pid, &status, 0) == -1 && errno == EINTR)
		;
	j->exited = 1;
	j->wstatus = status;
}

void
job_queue_free(struct job_queue *q)
{
	struct job *j;

	if (q == NULL)
		return;
	/* done() may submit or cancel: take the head until none is left. */
	while ((j = TAILQ_FIRST(&q->jobs)) != NULL) {
		job_reap_now(j);
		if (j->state != JOB_FINISHED)
			job_finish(j, JOB_STATUS_CANCELLED, "scan cancelled");
		job_deliver(j);
	}
	LIST_REMOVE(q, entry);
	event_free(q->sigchld);
	event_free(q->pump);
	free(q->worker_path);
	free(q->broken);
	free(q);
}

struct job *
job_submit(struct job_queue *q, const char *account_id, json_t *job_body,
    void *job_arg)
{
	struct job *j;

	j = xcalloc(1, sizeof(*j));
	j->q = q;
	j->state = JOB_QUEUED;
	snprintf(j->account_id, sizeof(j->account_id), "%s", account_id);
	j->body = job_body;
	j->arg = job_arg;
	TAILQ_INSERT_TAIL(&q->jobs, j, entry);
	pump_schedule(q);
	return j;
}

/* The CREDENTIALS body lives only until it is encoded, then is wiped. */
static int
job_send_creds(struct job *j, enum msg_type type, const struct aws_creds *c,
    struct errbuf *err)
{
	json_t *body;
	int rc;

	body = json_pack("{s:s, s:s, s:s?, s:I}", "access_key_id",
	    c->access_key_id, "secret_access_key", c->secret_access_key,
	    "session_token", c->session_token, "expiration",
	    (json_int_t)c->expiration);
	if (body == NULL)
		return err_set(err, "credentials cannot be encoded");
	rc = peer_send(j->peer, type, body, err);
	proto_wipe(body);
	json_decref(body);
	return rc;
}

static int
job_spawn(struct job *j, struct errbuf *err)
{
	struct job_queue *q = j->q;
	struct spawn_child sc;
	struct timeval tv;

	if (spawn_worker(q->worker_path, q->opts.worker_env, &sc, err) == -1)
		return -1;
	j->state = JOB_RUNNING;
	j->pid = sc.pid;
	j->peer = peer_new(q->base, sc.fd, sc.errfd, sc.pid, j->account_id,
	    &job_peer_ops, j);
	j->timer = evtimer_new(q->base, job_timeout, j);
	if (j->timer == NULL)
		fatalx("evtimer_new failed");
	tv.tv_sec = q->opts.timeout_s;
	tv.tv_usec = 0;
	evtimer_add(j->timer, &tv);
	return 0;
}

void
job_start(struct job *j, const struct aws_creds *creds)
{
	struct job_queue *q = j->q;
	struct errbuf err;

	if (j->state != JOB_CREDENTIALS) {
		log_warnx("worker %s: job_start on a job that is not waiting "
		    "for credentials; ignored", j->account_id);
		return;
	}
	if (q->broken != NULL) {
		queue_not_started(q, j);
		return;
	}
	if (job_spawn(j, &err) == -1) {
		if (q->broken == NULL)
			q->broken = xstrdup(err.msg);
		log_warnx("%s; no further workers are started", err.msg);
		job_finish(j, JOB_STATUS_FAILED, err.msg);
		return;
	}
	j->inflight = PROTO_INFLIGHT;
	if (peer_send(j->peer, MSG_JOB, j->body, &err) == -1 ||
	    job_send_creds(j, MSG_CREDENTIALS, creds, &err) == -1) {
		job_kill(j, KILL_FAIL, err.msg);
		return;
	}
	queue_share_out(q);
}

void
job_fail(struct job *j, const char *error)
{
	if (j->state == JOB_RUNNING)
		job_kill(j, KILL_FAIL, error);
	else if (j->state != JOB_FINISHED)
		job_finish(j, JOB_STATUS_FAILED, error);
}

void
job_refresh(struct job *j, const struct aws_creds *creds)
{
	struct errbuf err;

	if (j->state != JOB_RUNNING || j->closed || j->kill != KILL_NONE)
		return;
	j->refreshing = 0;
	if (job_send_creds(j, MSG_CREDENTIALS_REFRESHED, creds, &err) == -1)
		log_warnx("worker %s: %s", j->account_id, err.msg);
}

void
job_cancel(struct job *j)
{
	if (j->state == JOB_RUNNING)
		job_kill(j, KILL_CANCEL, NULL);
	else if (j->state != JOB_FINISHED)
		job_finish(j, JOB_STATUS_CANCELLED, "scan cancelled");
}

void
job_queue_cancel_all(struct job_queue *q)
{
	struct job *j;

	TAILQ_FOREACH(j, &q->jobs, entry)
		job_cancel(j);
}

const char *
job_account_id(const struct job *j)
{
	return j->account_id;
}

void *
job_arg(const struct job *j)
{
	return j->arg;
}

int
job_queue_idle(const struct job_queue *q)
{
	return TAILQ_EMPTY(&q->jobs);
}

int
job_queue_peak(const struct job_queue *q)
{
	return q->peak;
}

const char *
job_queue_broken(const struct job_queue *q)
{
	return q->broken;
}
