/*
 * Replies in each AWS wire format. Handlers write the success body between
 * reply_xml_begin/end or hand a JSON object to reply_json; every error goes
 * through reply_error, which picks the service's own error shape.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "emulator.h"
#include "xmalloc.h"

#define XML_PROLOG	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static enum emu_proto
reply_proto(const struct emu_req *req)
{
	return req->svc != NULL ? req->svc->proto : EMU_PROTO_QUERY;
}

static void
reply_error_query(struct emu_req *req, const char *code, const char *msg)
{
	struct evbuffer *b = req->out;

	evbuffer_add_printf(b, XML_PROLOG "<ErrorResponse xmlns=\"%s\">",
	    req->svc != NULL ? req->svc->xmlns : "");
	xml_open(b, "Error");
	xml_text(b, "Type", req->status >= 500 ? "Receiver" : "Sender");
	xml_text(b, "Code", code);
	xml_text(b, "Message", msg);
	xml_close(b, "Error");
	xml_text(b, "RequestId", req->reqid);
	xml_close(b, "ErrorResponse");
	req->content_type = "text/xml";
}

static void
reply_error_ec2(struct emu_req *req, const char *code, const char *msg)
{
	struct evbuffer *b = req->out;

	evbuffer_add_printf(b, XML_PROLOG "<Response><Errors><Error>");
	xml_text(b, "Code", code);
	xml_text(b, "Message", msg);
	evbuffer_add_printf(b, "</Error></Errors>");
	xml_text(b, "RequestID", req->reqid);
	xml_close(b, "Response");
	req->content_type = "text/xml;charset=UTF-8";
}

static void
reply_error_json(struct emu_req *req, const char *code, const char *msg)
{
	reply_json(req, json_pack("{s:s, s:s}", "__type", code, "message", msg));
	req->content_type = req->svc->content_type;
}

/* REST-JSON names the error in x-amzn-ErrorType (added when sending). */
static void
reply_error_rest_json(struct emu_req *req, const char *code, const char *msg)
{
	reply_json(req, json_pack("{s:s, s:s}", "Type",
	    req->status >= 500 ? "Service" : "User", "message", msg));
	(void)code;
	req->content_type = "application/json";
}

static void
reply_error_s3(struct emu_req *req, const char *code, const char *msg)
{
	struct evbuffer *b = req->out;

	evbuffer_add_printf(b, XML_PROLOG "<Error>");
	xml_text(b, "Code", code);
	xml_text(b, "Message", msg);
	xml_text(b, "RequestId", req->reqid);
	xml_text(b, "HostId", req->reqid);
	xml_close(b, "Error");
	req->content_type = "application/xml";
}

static void (*const reply_error_writers[])(struct emu_req *, const char *,
    const char *) = {
	[EMU_PROTO_QUERY] = reply_error_query,
	[EMU_PROTO_EC2] = reply_error_ec2,
	[EMU_PROTO_JSON] = reply_error_json,
	[EMU_PROTO_REST_JSON] = reply_error_rest_json,
	[EMU_PROTO_REST_XML] = reply_error_s3,
};

void
reply_error(struct emu_req *req, int status, const char *code,
    const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	evbuffer_drain(req->out, evbuffer_get_length(req->out));
	req->status = status;
	snprintf(req->errcode, sizeof(req->errcode), "%s", code);
	reply_error_writers[reply_proto(req)](req, code, msg);
}

void
reply_xml_begin(struct emu_req *req)
{
	evbuffer_add_printf(req->out, XML_PROLOG "<%sResponse xmlns=\"%s\">",
	    req->op->name, req->svc->xmlns);
	if (req->svc->proto == EMU_PROTO_EC2)
		xml_text(req->out, "requestId", req->reqid);
	else
		evbuffer_add_printf(req->out, "<%sResult>", req->op->name);
}

void
reply_xml_end(struct emu_req *req)
{
	if (req->svc->proto != EMU_PROTO_EC2) {
		evbuffer_add_printf(req->out, "</%sResult>", req->op->name);
		xml_open(req->out, "ResponseMetadata");
		xml_text(req->out, "RequestId", req->reqid);
		xml_close(req->out, "ResponseMetadata");
	}
	evbuffer_add_printf(req->out, "</%sResponse>", req->op->name);
	req->status = 200;
	req->content_type = req->svc->proto == EMU_PROTO_EC2 ?
	    "text/xml;charset=UTF-8" : "text/xml";
}

struct reply_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/*
 * jansson hands over a few bytes at a time; collecting them in one buffer
 * and adding that to the evbuffer once is twice as fast as an evbuffer_add
 * per token.
 */
static int
reply_json_chunk(const char *data, size_t len, void *arg)
{
	struct reply_buf *b = arg;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = xreallocarray(b->p, b->cap, 1);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

void
reply_json(struct emu_req *req, json_t *obj)
{
	struct reply_buf b = { NULL, 0, 0 };

	if (obj == NULL)
		obj = json_object();	/* a json_pack bug: stay valid */
	json_dump_callback(obj, reply_json_chunk, &b, JSON_COMPACT);
	json_decref(obj);
	evbuffer_add(req->out, b.p, b.len);
	free(b.p);
	if (req->errcode[0] == '\0')
		req->status = 200;
	req->content_type = req->svc != NULL && req->svc->content_type != NULL ?
	    req->svc->content_type : "application/json";
}

void
reply_raw(struct emu_req *req, int status, const char *content_type)
{
	req->status = status;
	req->content_type = content_type;
}
