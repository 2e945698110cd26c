/*
 * Acting on fault rules at request time. Count-limited rules are consumed
 * by the calls they hit and removed when spent. Each action answers the
 * way the service itself would, with the service's own codes.
 */
#include <string.h>

#include <event2/buffer.h>

#include "emulator.h"
#include "xmalloc.h"

static int
fault_matches(const struct emu_fault *f, const struct emu_req *req)
{
	if (f->account != NULL && (req->account == NULL ||
	    strcmp(f->account, req->account->id) != 0))
		return 0;
	if (f->region != NULL && strcmp(f->region, req->region) != 0)
		return 0;
	if (f->service != NULL && strcmp(f->service, req->svc->name) != 0)
		return 0;
	return f->operation == NULL || strcmp(f->operation, req->op->name) == 0;
}

/* Count one use; a spent rule leaves the list. */
static void
fault_consume(struct emu_req *req, struct emu_fault *f)
{
	stats_fault(req->srv->stats, fault_kind_name(f->kind));
	if (f->remaining > 0 && --f->remaining == 0) {
		TAILQ_REMOVE(&req->srv->fx->faults, f, entry);
		fault_free(f);
	}
}

int
fault_latency(struct emu_req *req)
{
	struct emu_fault *f;
	int ms;

	TAILQ_FOREACH(f, &req->srv->fx->faults, entry) {
		if (f->kind != FAULT_LATENCY || !fault_matches(f, req))
			continue;
		ms = f->ms;
		if (f->jitter_ms > 0)
			ms += (int)(ids_next(&req->srv->rng) %
			    (uint64_t)(f->jitter_ms + 1));
		fault_consume(req, f);
		return ms;
	}
	return 0;
}

static int
fault_throttle(struct emu_req *req, const struct emu_fault *f)
{
	(void)f;
	if (req->svc->proto == EMU_PROTO_EC2)
		reply_error(req, 503, req->svc->throttle_code,
		    "Request limit exceeded.");
	else if (req->svc->proto == EMU_PROTO_REST_XML)
		reply_error(req, 503, req->svc->throttle_code,	/* S3 SlowDown */
		    "Please reduce your request rate.");
	else if (req->svc->proto == EMU_PROTO_REST_JSON)
		reply_error(req, 429, req->svc->throttle_code,	/* Lambda */
		    "Rate Exceeded.");
	else
		reply_error(req, 400, req->svc->throttle_code, "Rate exceeded");
	return FAULT_REPLIED;
}

static int
fault_5xx(struct emu_req *req, const struct emu_fault *f)
{
	const char *code;

	if (f->status == 503)
		code = req->svc->proto == EMU_PROTO_EC2 ? "Unavailable" :
		    "ServiceUnavailable";
	else if (req->svc->proto == EMU_PROTO_EC2 ||
	    req->svc->proto == EMU_PROTO_REST_XML)
		code = "InternalError";
	else
		code = "InternalFailure";
	reply_error(req, f->status, code, "We encountered an internal error. "
	    "Please try again.");
	return FAULT_REPLIED;
}

static int
fault_denied(struct emu_req *req, const struct emu_fault *f)
{
	char arn[512];

	(void)f;
	session_principal_arn(req, arn, sizeof(arn));
	switch (req->svc->proto) {
	case EMU_PROTO_EC2:
		reply_error(req, 403, "UnauthorizedOperation", "You are not "
		    "authorized to perform this operation. User: %s is not "
		    "authorized to perform: ec2:%s", arn, req->op->name);
		break;
	case EMU_PROTO_JSON:
	case EMU_PROTO_REST_JSON:
		reply_error(req, 400, "AccessDeniedException", "User: %s is not "
		    "authorized to perform: %s:%s", arn,
		    req->svc->signing_name, req->op->name);
		break;
	default:
		reply_error(req, 403, "AccessDenied", "User: %s is not "
		    "authorized to perform: %s:%s", arn,
		    req->svc->signing_name, req->op->name);
	}
	return FAULT_REPLIED;
}

static int
fault_expired(struct emu_req *req, const struct emu_fault *f)
{
	(void)f;
	autherr_reply(req, AUTHERR_EXPIRED_TOKEN, NULL);
	return FAULT_REPLIED;
}

static int
fault_hang(struct emu_req *req, const struct emu_fault *f)
{
	(void)req;
	(void)f;
	return FAULT_HUNG;
}

/* Damaging the body happens after the handler wrote it. */
static int
fault_later(struct emu_req *req, const struct emu_fault *f)
{
	req->post_fault = f->kind;
	req->has_post_fault = 1;
	return FAULT_NONE;
}

static const struct {
	enum fault_kind	 kind;
	int		(*act)(struct emu_req *, const struct emu_fault *);
} fault_actions[] = {
	{ FAULT_THROTTLE, fault_throttle },
	{ FAULT_HTTP_5XX, fault_5xx },
	{ FAULT_ACCESS_DENIED, fault_denied },
	{ FAULT_EXPIRED_TOKEN, fault_expired },
	{ FAULT_HANG, fault_hang },
	{ FAULT_MALFORMED_BODY, fault_later },
	{ FAULT_TRUNCATED_BODY, fault_later },
};

int
fault_apply(struct emu_req *req)
{
	struct emu_fault *f;
	size_t i;
	int rc;

	TAILQ_FOREACH(f, &req->srv->fx->faults, entry) {
		if (f->kind == FAULT_LATENCY || !fault_matches(f, req))
			continue;
		for (i = 0; i < sizeof(fault_actions) /
		    sizeof(fault_actions[0]); i++)
			if (fault_actions[i].kind == f->kind)
				break;
		rc = fault_actions[i].act(req, f);
		fault_consume(req, f);
		return rc;
	}
	return FAULT_NONE;
}

/* A body the client's parser must reject, in the protocol's own syntax. */
static void
fault_malformed(struct emu_req *req)
{
	static const char xml[] = "<?xml version=\"1.0\"?>\n<Broken><unclosed>";
	static const char json[] = "{\"broken\": [1, 2";
	int is_json = req->svc->proto == EMU_PROTO_JSON ||
	    req->svc->proto == EMU_PROTO_REST_JSON;

	evbuffer_drain(req->out, evbuffer_get_length(req->out));
	if (is_json)
		evbuffer_add(req->out, json, sizeof(json) - 1);
	else
		evbuffer_add(req->out, xml, sizeof(xml) - 1);
}

/* Announce the whole length, send half, then close the connection. */
static void
fault_truncated(struct emu_req *req)
{
	size_t len = evbuffer_get_length(req->out);

	req->declared_len = len;
	evbuffer_drain(req->out, 0);
	req->truncate_to = len / 2;
}

void
fault_mangle(struct emu_req *req)
{
	if (!req->has_post_fault || req->errcode[0] != '\0')
		return;
	if (req->post_fault == FAULT_MALFORMED_BODY)
		fault_malformed(req);
	else
		fault_truncated(req);
}
