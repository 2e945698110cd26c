/*
 * The supervisor <-> worker protocol: one header for both ends. A frame is
 * {uint32 type; uint32 len} in network byte order, then len bytes of UTF-8
 * JSON (one object). Each type's body has an exact shape, checked by
 * proto_decode(): required keys present and typed, unknown keys rejected.
 *
 * Bodies (nullable members marked "|null"):
 *
 * supervisor -> worker
 *   JOB            {proto:int, job_id:str, account_id:str(12 digits),
 *                   home_region:str, regions:[str]|null (null: every enabled
 *                   region), resource_types:[str] (non-empty), policy:str
 *                   (the policy file text), max_batch:int,
 *                   refresh_margin_s:int}
 *   CREDENTIALS    {access_key_id:str, secret_access_key:str,
 *                   session_token:str|null, expiration:int (0: none)}
 *   CREDENTIALS_REFRESHED   same shape as CREDENTIALS
 *   CANCEL         {}
 *   LIMITS         {max_inflight:int} (PROTO_INFLIGHT..PROTO_MAX_INFLIGHT)
 *
 * worker -> supervisor
 *   HELLO          {proto:int, pid:int, sandbox:str}
 *   PROGRESS       {regions_done:int, regions_total:int, resources:int}
 *   RESOURCE_BATCH {resources:[resource]} with resource a row (an array
 *                  of values in this order, enum proto_resource):
 *                  [resource_arn:str, resource_id:str, resource_type:str,
 *                   region:str, tags:{str:str}|null (null: unreadable),
 *                   tags_error:str|null, created_at:str|null,
 *                   state:str|null, in_scope:bool, compliant:bool,
 *                   violations:[violation]]
 *                  and violation a row too (enum proto_violation):
 *                  [tag_name:str, violation_type:str, severity:str,
 *                   current_value:str|null, allowed_values:[str]|null,
 *                   message:str]
 *                  Rows, not objects: resources are most of what a scan
 *                  sends, and the supervisor decodes a row in half the
 *                  time of an object (no hash table, no key to check).
 *   REGION_DONE    {region:str, status:"ok"|"failed"|"skipped",
 *                   error:str|null, aws_code:str|null, resources:int}
 *   CREDENTIALS_REQUEST {}
 *   LOG            {level:"DEBUG"|"INFO"|"WARNING"|"ERROR", message:str}
 *   ACCOUNT_DONE   {account_alias:str|null, resources:int, compliant:int,
 *                   violations:int, requests:int}
 *   ERROR          {message:str, aws_code:str|null}
 *
 * Order: the supervisor sends JOB then CREDENTIALS, each exactly once, then
 * LIMITS whenever the worker's share of requests in flight changes
 * (PROTO_INFLIGHT until the first); the worker answers HELLO first, then
 * any of PROGRESS, RESOURCE_BATCH, REGION_DONE, LOG, CREDENTIALS_REQUEST,
 * and ends with exactly one ACCOUNT_DONE or ERROR. ERROR may also come
 * before HELLO (a JOB the worker refuses, a sandbox that cannot be set
 * up). Anything else is a protocol violation that kills the worker and
 * fails its account with the violation named.
 *
 * Bounds checked by proto_decode (a larger value is a violation): strings
 * are valid UTF-8 without NUL; counts are integers in 0..INT_MAX; ids and
 * names at most 64-128 bytes, ARNs 2048, tag keys 512 and values 1024,
 * messages PROTO_MAX_MESSAGE (LOG: PROTO_MAX_LOG), the policy
 * PROTO_MAX_POLICY; 1..PROTO_MAX_BATCH resources per batch, at most 256
 * violations per resource, 1024 tags, 256 allowed values, 64 regions and
 * 64 resource types. The exact numbers are the tables in proto.c.
 */
#ifndef PROTO_H
#define PROTO_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct errbuf;

/* Bump when a body shape or the meaning of a type changes. */
#define PROTO_VERSION		3
#define PROTO_HEADER_SIZE	8
/* Checked before allocating: a larger frame is a protocol violation. */
#define PROTO_MAX_FRAME		(4U * 1024 * 1024)
/* A worker LOG message is cut to this many bytes before it is sent. */
#define PROTO_MAX_LOG		1024
/* ERROR, REGION_DONE and violation messages, tags_error. */
#define PROTO_MAX_MESSAGE	4096
/* Resources in one RESOURCE_BATCH; JOB's max_batch is 1..this. */
#define PROTO_MAX_BATCH		1000
/*
 * A worker's HTTP requests in flight: PROTO_INFLIGHT each (enough to
 * overlap the latency of many regions, few enough for AWS's per-account
 * rates) until LIMITS says otherwise. The supervisor shares a budget of
 * MAX_CONCURRENT_ACCOUNTS times that (supervisor/jobs.c); LIMITS never asks
 * for more than PROTO_MAX_INFLIGHT.
 */
#define PROTO_INFLIGHT		16
#define PROTO_MAX_INFLIGHT	64
/* The policy text carried in JOB (policy.h's POLICY_MAX_FILE). */
#define PROTO_MAX_POLICY	(1024 * 1024)

/* A RESOURCE_BATCH resource row: the index of each value. */
enum proto_resource {
	PROTO_RES_ARN,
	PROTO_RES_ID,
	PROTO_RES_TYPE,
	PROTO_RES_REGION,
	PROTO_RES_TAGS,
	PROTO_RES_TAGS_ERROR,
	PROTO_RES_CREATED_AT,
	PROTO_RES_STATE,
	PROTO_RES_IN_SCOPE,
	PROTO_RES_COMPLIANT,
	PROTO_RES_VIOLATIONS,
	PROTO_RES_NFIELDS
};

/* A violation row of a resource. */
enum proto_violation {
	PROTO_VIOL_TAG_NAME,
	PROTO_VIOL_TYPE,
	PROTO_VIOL_SEVERITY,
	PROTO_VIOL_CURRENT_VALUE,
	PROTO_VIOL_ALLOWED_VALUES,
	PROTO_VIOL_MESSAGE,
	PROTO_VIOL_NFIELDS
};

enum msg_type {
	/* supervisor -> worker */
	MSG_JOB = 100,
	MSG_CREDENTIALS = 101,
	MSG_CREDENTIALS_REFRESHED = 102,
	MSG_CANCEL = 103,
	MSG_LIMITS = 104,
	/* worker -> supervisor */
	MSG_HELLO = 200,
	MSG_PROGRESS = 201,
	MSG_RESOURCE_BATCH = 202,
	MSG_REGION_DONE = 203,
	MSG_CREDENTIALS_REQUEST = 204,
	MSG_LOG = 205,
	MSG_ACCOUNT_DONE = 206,
	MSG_ERROR = 207
};

/* "JOB", "RESOURCE_BATCH", ...; "unknown" for a number not in the enum. */
const char *msg_type_name(uint32_t type);

/*
 * Build header + compact JSON body in one new buffer (caller frees; wipe it
 * first when it holds credentials). A body over PROTO_MAX_FRAME is an error.
 */
int	proto_encode(enum msg_type, const json_t *body, unsigned char **frame,
	    size_t *framelen, struct errbuf *);
/* Read the header; an unknown type or len > PROTO_MAX_FRAME is an error. */
int	proto_header(const unsigned char hdr[PROTO_HEADER_SIZE],
	    uint32_t *type, uint32_t *len, struct errbuf *);
/*
 * Parse and shape-check a body for its type. Returns a new reference, or
 * NULL with err naming the violation, e.g. `RESOURCE_BATCH: resources[3].tags:
 * expected an object of strings or null`.
 */
json_t	*proto_decode(uint32_t type, const unsigned char *body, size_t len,
	    struct errbuf *);

/*
 * Blocking I/O for the worker end (and tests): whole frames or an error.
 * EINTR and short reads/writes are retried; end of file, even between
 * frames, is an error ("channel closed by the peer"), and in mid-frame says
 * so. proto_read wipes its raw buffer before freeing it (credentials).
 */
int	proto_write(int fd, enum msg_type, const json_t *body, struct errbuf *);
/*
 * A body already encoded as compact JSON, framed and written the same way
 * (the worker's RESOURCE_BATCH, dumped resource by resource). The caller
 * vouches for the text: it holds no secret, so the frame is not wiped.
 */
int	proto_write_text(int fd, enum msg_type, const char *body, size_t len,
	    struct errbuf *);
int	proto_read(int fd, uint32_t *type, json_t **body, struct errbuf *);

/*
 * The names of the row values ("resource_arn", ...), as the objects that
 * show them to users (MCP answers, the history's columns) name them.
 */
/* By index: enum proto_resource, enum proto_violation. */
const char *proto_resource_name(size_t index);
const char *proto_violation_name(size_t index);
/* A row value as a string, or NULL (null, or not a string). */
const char *proto_row_str(const json_t *row, size_t index);

/* Overwrite every string inside a decoded body (credentials) before decref. */
void	proto_wipe(json_t *);

#endif
