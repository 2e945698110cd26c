/*
 * The job queue: one job per account, each a state machine QUEUED ->
 * CREDENTIALS -> RUNNING -> DONE. At most max_workers jobs hold a slot at
 * once, from need_credentials until their worker has exited and been
 * reaped; done() may come after the next job was given the freed slot. A
 * running job owns one tagwarden-worker process, an evtimer that SIGKILLs
 * it at the timeout, and the peer that reads its frames. A job is final
 * only when both the worker's last frame (or EOF) and its exit status are
 * in. While no job waits for a slot, the running workers share the freed
 * slots' requests in flight (LIMITS, common/proto.h).
 */
#ifndef JOBS_H
#define JOBS_H

#include <jansson.h>

struct aws_creds;
struct event_base;
struct job;
struct job_queue;

enum job_status {
	JOB_STATUS_OK,		/* ACCOUNT_DONE received, worker exited 0 */
	JOB_STATUS_FAILED,	/* ERROR frame, crash, protocol violation, AssumeRole */
	JOB_STATUS_TIMEOUT,	/* killed at the timeout */
	JOB_STATUS_CANCELLED	/* killed by job_queue_cancel / shutdown */
};

struct job_callbacks {
	/*
	 * A slot is free for this job: obtain its credentials (asynchronously
	 * if need be) and answer with job_start() or job_fail().
	 */
	void	(*need_credentials)(struct job *, void *arg);
	/* Worker frames, already shape-checked by the peer. */
	void	(*resource_batch)(struct job *, const json_t *body, void *arg);
	void	(*region_done)(struct job *, const json_t *body, void *arg);
	void	(*progress)(struct job *, const json_t *body, void *arg);
	/* The worker's credentials near expiry: answer with job_refresh(). */
	void	(*credentials_request)(struct job *, void *arg);
	/*
	 * Final. error is NULL for JOB_STATUS_OK and a sentence otherwise
	 * ("scan timed out after 120 s", "worker crashed (signal 11)",
	 * "worker killed by the sandbox (forbidden syscall)", "worker broke
	 * the protocol: RESOURCE_BATCH before HELLO", "worker exited with
	 * status 3", "scan cancelled", the worker's ERROR message). final is
	 * the ACCOUNT_DONE body for OK, the ERROR body ({message, aws_code})
	 * when the worker itself reported the failure, else NULL. The job is
	 * freed after this returns; forget every pointer to it here.
	 */
	void	(*done)(struct job *, enum job_status, const char *error,
		    const json_t *final, void *arg);
};

/*
 * Every callback is called from the event loop, never from inside a job_*
 * call, so a callback may call any job_* function except job_queue_free.
 * A worker that dies before its first frame (exec failure, missing
 * library, crash at start) marks the queue broken: no further worker is
 * started and every job still waiting fails with "not started: <why>; no
 * further workers are started" (no retry loop).
 */

struct job_queue_opts {
	int		 max_workers;	/* MAX_CONCURRENT_ACCOUNTS */
	int		 timeout_s;	/* ACCOUNT_SCAN_TIMEOUT_SECONDS */
	const char	*worker_path;	/* tagwarden-worker executable (copied) */
	/*
	 * Minimal environment, NULL-terminated: spawn_env() in
	 * supervisor/spawn-worker.h builds it. Borrowed: keep it until the queue is
	 * freed.
	 */
	char *const	*worker_env;
};

struct job_queue *job_queue_new(struct event_base *,
	    const struct job_queue_opts *, const struct job_callbacks *,
	    void *arg);
/*
 * Kills and reaps every live worker (blocking, shutdown only), calls done()
 * with JOB_STATUS_CANCELLED for every job not yet finished, then frees.
 */
void	job_queue_free(struct job_queue *);

/*
 * Queue a scan of account_id. job_body is the JOB frame body (stolen).
 * The job starts when a slot is free, by calling need_credentials.
 */
struct job *job_submit(struct job_queue *, const char *account_id,
	    json_t *job_body, void *job_arg);
/*
 * Spawn the worker and hand it JOB then CREDENTIALS (copied, then wiped).
 * The timeout runs from here. Ignored unless the job is waiting for
 * credentials (it may have been cancelled meanwhile).
 */
void	job_start(struct job *, const struct aws_creds *);
/*
 * Fail a job with this error: before it has a worker (e.g. AssumeRole
 * refused), or while it runs (e.g. a credentials refresh failed), in which
 * case the worker is killed first.
 */
void	job_fail(struct job *, const char *error);
/*
 * Answer a CREDENTIALS_REQUEST with CREDENTIALS_REFRESHED. Repeated
 * requests reach credentials_request() once until this is called.
 */
void	job_refresh(struct job *, const struct aws_creds *);
/* Kill this job's worker (or drop it from the queue): JOB_STATUS_CANCELLED. */
void	job_cancel(struct job *);
void	job_queue_cancel_all(struct job_queue *);

const char *job_account_id(const struct job *);
void	*job_arg(const struct job *);
int	 job_queue_idle(const struct job_queue *);	/* nothing queued or live */
/* Highest number of jobs past QUEUED at once (for tests and benchmarks). */
int	 job_queue_peak(const struct job_queue *);
/* Why no worker starts any more, or NULL (see above). */
const char *job_queue_broken(const struct job_queue *);

#endif
