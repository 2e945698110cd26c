/*
 * The AWS emulator's internal contract: the fixture model, the service and
 * operation table rows, the per-request context, the reply helpers in each
 * AWS wire format, pagination, faults and stats. Adding a service is one
 * svc-<name>.c with an operation table plus one row in services.c.
 */
#ifndef EMULATOR_H
#define EMULATOR_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "queue-compat.h"

struct errbuf;
struct pool;
struct stats;

/* ---- fixture model (fixture*.c); strings live in the fixture's pool ---- */

enum emu_region_status {
	EMU_REGION_ENABLED,		/* no opt-in needed */
	EMU_REGION_OPTED_IN,
	EMU_REGION_NOT_OPTED_IN
};

enum emu_org_status {
	EMU_ORG_ACTIVE,
	EMU_ORG_SUSPENDED,
	EMU_ORG_NONE			/* not a member of the organization */
};

struct emu_tag {
	const char	*key;
	const char	*value;
};

struct emu_account;

struct emu_resource {
	const char		*type;		/* "ec2:instance", "s3:bucket" */
	const char		*id;		/* "i-0abc...", bucket name */
	const char		*arn;
	const char		*region;	/* a bucket's own region */
	const char		*state;		/* "running"; "" when not given */
	const struct emu_tag	*tags;
	size_t			 ntags;
	int			 ever_tagged;	/* visible to the Tagging API */
	time_t			 created;
	double			 daily_cost;	/* USD per day; 0: none */
	json_t			*attrs;		/* service-specific extras or NULL */
	struct emu_account	*account;
	char			*tagging_json;	/* svc-tagging.c's cached mapping */
};

struct emu_region {
	const char		*name;
	enum emu_region_status	 status;
	struct emu_resource	*res;		/* contiguous slice of fx->resources */
	size_t			 nres;
};

struct emu_role {
	const char		*name;
	const char		*path;		/* "/" or "/a/b/" */
	const char		*arn;
	const char		*role_id;	/* "AROA..." */
	const char *const	*trust;		/* account ids or principal ARNs */
	size_t			 ntrust;
	const char		*external_id;	/* NULL: not required */
	int			 max_session;	/* seconds, 3600..43200 */
	struct emu_account	*account;
};

struct emu_account {
	const char		*id;		/* 12 digits */
	const char		*alias;		/* "" when none */
	const char		*name;
	const char		*email;
	enum emu_org_status	 org_status;
	int			 management;
	int			 ce_resource_data;	/* CE resource-level data */
	const char		*access_key_id;	/* base credentials, or NULL */
	const char		*secret_access_key;
	const char		*user;		/* IAM user of the base key; "root" */
	struct emu_region	*regions;
	size_t			 nregions;
	struct emu_role		*roles;
	size_t			 nroles;
	int			 inflight;	/* requests being served now */
	int			 scan_inflight;	/* of them, not STS */
};

struct emu_cost {
	const char		*account;
	const char		*service;	/* "Amazon Elastic Compute Cloud - Compute" */
	const char		*resource_id;	/* NULL when not per resource */
	const char		*region;	/* NULL when not given */
	long			 day;		/* days since 1970-01-01 (UTC) */
	double			 amount;	/* USD */
	const struct emu_tag	*tags;		/* cost allocation tags */
	size_t			 ntags;
};

struct emu_tag_policy {
	const char		*id;
	const char		*name;
	json_t			*content;	/* the policy document */
	const char *const	*targets;	/* root, OU or account ids */
	size_t			 ntargets;
};

struct emu_web_identity {
	const char		*token;
	const char		*subject;
	const char		*provider;
	const char		*audience;
	const char *const	*roles;		/* role ARNs it may assume */
	size_t			 nroles;
};

enum fault_kind {
	FAULT_LATENCY,
	FAULT_THROTTLE,
	FAULT_HTTP_5XX,
	FAULT_ACCESS_DENIED,
	FAULT_HANG,
	FAULT_MALFORMED_BODY,
	FAULT_TRUNCATED_BODY,
	FAULT_EXPIRED_TOKEN
};

/* One rule; a NULL match field matches anything. */
struct emu_fault {
	char			*account;
	char			*region;
	char			*service;
	char			*operation;
	enum fault_kind		 kind;
	long			 remaining;	/* matching calls left; -1: unlimited */
	int			 ms;		/* latency */
	int			 jitter_ms;	/* latency: plus 0..jitter_ms */
	int			 status;	/* http_5xx */
	TAILQ_ENTRY(emu_fault)	 entry;
};
TAILQ_HEAD(emu_faults, emu_fault);

struct emu_fixture {
	struct pool		*pool;
	struct emu_account	*accounts;
	size_t			 naccounts;
	struct emu_resource	*resources;
	size_t			 nresources;
	struct emu_resource	**by_arn;	/* sorted by ARN */
	struct emu_cost		*costs;
	size_t			 ncosts;
	const char		*org_id;
	struct emu_tag_policy	*policies;
	size_t			 npolicies;
	struct emu_web_identity	*web_ids;
	size_t			 nweb_ids;
	struct emu_faults	 faults;
	unsigned		 short_page_every;	/* 0: never */
	unsigned		 empty_page_every;	/* 0: never */
};

struct emu_fixture *fixture_load(const char *path, struct errbuf *);
void	fixture_free(struct emu_fixture *);
struct emu_account *fixture_account(const struct emu_fixture *,
	    const char *id);
struct emu_region *fixture_region(const struct emu_account *,
	    const char *name);
int	fixture_region_enabled(const struct emu_account *, const char *name);
struct emu_resource *fixture_by_arn(const struct emu_fixture *,
	    const char *arn);
struct emu_role *fixture_role_by_arn(const struct emu_fixture *,
	    const char *arn);

/* ---- services (services.c, svc-*.c) ---- */

enum emu_proto {
	EMU_PROTO_QUERY,	/* STS, IAM, RDS: <ErrorResponse> errors */
	EMU_PROTO_EC2,		/* Query input, <Response><Errors> errors */
	EMU_PROTO_JSON,		/* JSON 1.0/1.1 with X-Amz-Target */
	EMU_PROTO_REST_JSON,	/* Lambda */
	EMU_PROTO_REST_XML	/* S3 */
};

#define EMU_OP_UNSIGNED	0x1	/* AWS accepts it without a signature */

struct emu_req;

struct emu_op {
	const char	*name;
	int		 flags;
	void		(*handler)(struct emu_req *);
};

struct emu_service {
	const char		*name;		/* stats and fault rules */
	const char		*signing_name;	/* credential scope service */
	enum emu_proto		 proto;
	const char		*version;	/* Query Version parameter */
	const char		*xmlns;		/* XML response namespace */
	const char		*target_prefix;	/* JSON X-Amz-Target prefix */
	const char		*content_type;	/* JSON content type */
	const char		*throttle_code;
	const char		*region_disabled_code;	/* NULL: protocol default */
	int			 global;	/* signed for us-east-1 only */
	const struct emu_op	*ops;		/* ends with a NULL name */
	/* REST protocols: method and path to an operation, or NULL (no reply). */
	const struct emu_op	*(*route)(struct emu_req *);
};

/* The rows, in services.c; the list ends with a NULL name. */
extern const struct emu_service services_table[];

/* Operation tables, one per svc-<name>.c. */
extern const struct emu_op svc_sts_ops[];
extern const struct emu_op svc_tagging_ops[];
extern const struct emu_op svc_ec2_ops[];
extern const struct emu_op svc_lambda_ops[];
const struct emu_op *svc_lambda_route(struct emu_req *);
extern const struct emu_op svc_ecs_ops[];
extern const struct emu_op svc_organizations_ops[];
extern const struct emu_op svc_ce_ops[];
extern const struct emu_op svc_s3_ops[];
extern const struct emu_op svc_iam_ops[];
extern const struct emu_op svc_rds_ops[];
/* S3's REST route: method, path and sub-resource to an operation. */
const struct emu_op *svc_s3_route(struct emu_req *);

const struct emu_op *services_op(const struct emu_service *,
	    const char *name);
/* Sets req->svc, or replies with an error and returns -1. */
int	services_detect(struct emu_req *);
/*
 * Sets req->op. AWS authenticates before it rejects an unknown operation:
 * with reply 0 this only looks; with reply 1 it sends the error and, for
 * JSON protocols, parses the body into req->json (-1 if it replied).
 */
int	services_operation(struct emu_req *, int reply);

/* ---- server and request context ---- */

struct emu_session;

struct emu_server {
	struct event_base	*base;
	struct evhttp		*http;
	struct emu_fixture	*fx;
	void			*sessions;	/* tsearch root, session.c */
	struct stats		*stats;
	int			 verbose;
	long			 credential_lifetime;	/* 0: as requested */
	uint64_t		 rng;		/* jitter, ids */
	TAILQ_HEAD(, emu_req)	 deferred;	/* latency and hang */
};

struct emu_req {
	struct emu_server		*srv;
	struct evhttp_request		*http;
	struct evhttp_connection	*evcon;
	char				 reqid[40];
	struct timespec			 started;
	const char			*method;	/* "GET", "POST", ... */
	char				*path;		/* raw, as sent */
	char				*query;		/* raw without '?', or NULL */
	char				*body;		/* NUL-terminated copy */
	size_t				 body_len;
	struct evkeyvalq		 params;	/* Query/form or URL query */
	json_t				*json;		/* JSON protocols: the body */
	const struct emu_service	*svc;
	const struct emu_op		*op;
	/* Set by authentication. */
	struct emu_account		*account;	/* caller's account */
	const struct emu_session	*session;	/* NULL: base credentials */
	char				 region[32];	/* credential scope region */
	/* The reply being built. */
	int				 status;
	char				 errcode[64];	/* "" on success */
	struct evbuffer			*out;
	const char			*content_type;
	/* Faults and deferral. */
	enum fault_kind			 post_fault;	/* body faults after the handler */
	int				 has_post_fault;
	int				 counted_inflight;
	size_t				 declared_len;	/* truncated_body */
	size_t				 truncate_to;
	struct event			*timer;		/* latency */
	struct event			*watch;		/* client left while parked */
	TAILQ_ENTRY(emu_req)		 entry;
};

struct emu_req *request_new(struct emu_server *, struct evhttp_request *);
void	request_free(struct emu_req *);
/* URL query and form body into req->params; -1 when malformed. */
int	request_parse_params(struct emu_req *);
const char *request_header(struct emu_req *, const char *name);
/* Query/form or URL query parameter, or NULL. */
const char *request_param(struct emu_req *, const char *name);
/* "<prefix>.<n>" (n from 1), the AWS Query list form, or NULL. */
const char *request_param_n(struct emu_req *, const char *prefix, int n);
/* Parse an integer parameter; absent gives def. -1 with err on a bad value. */
int	request_param_int(struct emu_req *, const char *name, long long min,
	    long long max, long long def, long long *out, struct errbuf *);
/* "true"/"false" parameter; absent gives 0. */
int	request_param_bool(struct emu_req *, const char *name);

void	dispatch_cb(struct evhttp_request *, void *);
/* Send the reply built in req (after the handler or a fault) and free req. */
void	dispatch_finish(struct emu_req *);
void	dispatch_free_deferred(struct emu_server *);

/* ---- authentication (auth.c, autherr.c, session.c) ---- */

enum autherr_kind {
	AUTHERR_MISSING,	/* no Authorization */
	AUTHERR_INCOMPLETE,	/* malformed Authorization or headers */
	AUTHERR_UNKNOWN_KEY,
	AUTHERR_BAD_SIGNATURE,
	AUTHERR_EXPIRED_TOKEN,
	AUTHERR_SKEW,		/* X-Amz-Date more than 15 minutes off */
	AUTHERR_REGION_DISABLED,
	AUTHERR_BAD_TOKEN	/* session token absent or wrong */
};

/* The parts of "Authorization: AWS4-HMAC-SHA256 Credential=..., ...". */
struct auth_header {
	char	access_key_id[129];
	char	date[9];		/* scope date, YYYYMMDD */
	char	region[32];
	char	service[64];
	char	signed_headers[1024];	/* "content-type;host;x-amz-date" */
	char	signature[65];
};

/* -1 with *why (an AWS-style sentence) when the header is malformed. */
int	auth_parse(const char *authorization, struct auth_header *,
	    const char **why);
/* Verify SigV4; 0 sets req->account/session/region, -1 has replied. */
int	auth_verify(struct emu_req *);
/* Reply the service's own error for an authentication failure. */
void	autherr_reply(struct emu_req *, enum autherr_kind, const char *detail);

struct emu_session {
	char			*access_key_id;
	char			*secret_access_key;
	char			*session_token;
	char			*arn;		/* assumed-role ARN */
	char			*user_id;	/* "AROA...:session" */
	const struct emu_role	*role;
	struct emu_account	*account;
	time_t			 expiration;
	int			 chained;	/* issued to a session's caller */
};

const struct emu_session *session_issue(struct emu_server *,
	    const struct emu_role *, const char *session_name, time_t expiration,
	    int chained);
const struct emu_session *session_find(struct emu_server *,
	    const char *access_key_id);
void	session_free_all(struct emu_server *);

/* The caller's principal ARN and user id (base user or assumed role). */
void	session_principal_arn(const struct emu_req *, char *out, size_t outsz);
void	session_user_id(const struct emu_req *, char *out, size_t outsz);

/* ---- identifiers (ids.c) ---- */

/* prefix + n chars of [A-Z2-7] derived from seed (stable) or random. */
void	ids_derive(const char *prefix, const char *seed, size_t n, char *out,
	    size_t outsz);
void	ids_derive_hex(const char *prefix, const char *seed, size_t n,
	    char *out, size_t outsz);
void	ids_random(const char *prefix, size_t n, char *out, size_t outsz);
/* Random base64 text of about n characters (secrets, session tokens). */
char	*ids_secret(size_t n);
void	ids_request_id(struct emu_server *, char out[40]);
uint64_t ids_next(uint64_t *state);	/* splitmix64 */

/* ---- replies (reply.c, xml.c) ---- */

/*
 * An error in the service's own wire format: Query <ErrorResponse>, EC2
 * <Response><Errors>, JSON __type, REST-JSON x-amzn-ErrorType, S3 <Error>.
 */
void	reply_error(struct emu_req *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Query: <OpResponse xmlns><OpResult>; EC2: <OpResponse xmlns><requestId>. */
void	reply_xml_begin(struct emu_req *);
void	reply_xml_end(struct emu_req *);
/* JSON protocols: the body is the object (reference stolen). */
void	reply_json(struct emu_req *, json_t *);
/* Any other body already written to req->out. */
void	reply_raw(struct emu_req *, int status, const char *content_type);

void	xml_open(struct evbuffer *, const char *name);
void	xml_close(struct evbuffer *, const char *name);
/* <name>escaped text</name> */
void	xml_text(struct evbuffer *, const char *name, const char *text);
void	xml_textf(struct evbuffer *, const char *name, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	xml_escaped(struct evbuffer *, const char *text);

/* ---- time (isotime.c) ---- */

/* ISO 8601 UTC, "2024-05-01T12:00:00Z", or "...:00.000Z" with millis. */
void	isotime_format(time_t, int millis, char out[32]);
/* "2024-05-01T12:00:00Z" (optional ".sss"); -1 when not that shape. */
int	isotime_parse(const char *, time_t *);
/* "2024-05-01" to days since 1970-01-01; -1 when not that shape. */
int	isotime_parse_day(const char *, long *);
/* X-Amz-Date "20240501T120000Z"; -1 when not that shape. */
int	isotime_parse_amz(const char *, time_t *);

/* ---- pagination (page.c) ---- */

/*
 * Handlers scan their (unfiltered) list from resume, take at most limit
 * matches and call page_finish with the index where they stopped. Tokens
 * are opaque, bound to operation, account and region. Like AWS, some pages
 * come back short or empty with a token (fixture "pagination" settings).
 */
struct page {
	size_t		resume;		/* raw index to continue from */
	unsigned	pageno;
	size_t		limit;		/* matches to take on this page */
	size_t		taken;
};

int	page_start(struct emu_req *, const char *token, size_t page_size,
	    struct page *, struct errbuf *);
/* Writes the next token to out, or "" when the list is exhausted. */
void	page_finish(struct emu_req *, const struct page *, size_t next,
	    size_t total, char *out, size_t outsz);

/* ---- faults (fault.c) ---- */

int	fault_parse(const json_t *, struct emu_fault **, struct errbuf *);
/* Rules from a JSON list appended to faults; -1 with err names the entry. */
int	fault_parse_list(const json_t *, struct emu_faults *, const char *where,
	    struct errbuf *);
void	fault_free(struct emu_fault *);
void	fault_free_all(struct emu_faults *);
/* Latency to add to this request in ms (0: none). */
int	fault_latency(struct emu_req *);
#define FAULT_NONE	0	/* go on with the handler */
#define FAULT_REPLIED	1	/* an error reply is in req */
#define FAULT_HUNG	2	/* never answer */
/* Apply the first matching non-latency rule; FAULT_* above. */
int	fault_apply(struct emu_req *);
/* Body faults after the handler built its reply. */
void	fault_mangle(struct emu_req *);
const char *fault_kind_name(enum fault_kind);

/* ---- stats (stats.c) and control endpoints (control.c) ---- */

struct stats *stats_new(void);
void	stats_free(struct stats *);
void	stats_call(struct stats *, const char *service, const char *op);
void	stats_account(struct stats *, const char *account, const char *service,
	    const char *op);
void	stats_error(struct stats *, const char *code);
void	stats_fault(struct stats *, const char *kind);
/* sts: an STS request (credentials for a scan, not the scan itself). */
void	stats_inflight(struct stats *, struct emu_account *, int delta,
	    int sts);
json_t	*stats_json(const struct stats *);

/* 1 when the request was a /_emulator/ control request (answered). */
int	control_handle(struct emu_server *, struct evhttp_request *);

/* ---- regions (regions.c) ---- */

extern const char *const regions_standard[];
extern const size_t regions_nstandard;
int	regions_valid_name(const char *);

#endif
