/*
 * The table of emulated services, one row each, and telling which service
 * and operation a request is for the way AWS does: the credential scope's
 * service, then X-Amz-Target (JSON), the Action parameter (Query) or the
 * method and path (REST). A new service is a row here plus svc-<name>.c.
 */
#include <stdio.h>
#include <string.h>

#include "emulator.h"

const struct emu_service services_table[] = {
	{
		.name = "sts", .signing_name = "sts", .proto = EMU_PROTO_QUERY,
		.version = "2011-06-15",
		.xmlns = "https://sts.amazonaws.com/doc/2011-06-15/",
		.throttle_code = "Throttling",
		.region_disabled_code = "RegionDisabledException",
		.ops = svc_sts_ops,
	},
	{
		.name = "tagging", .signing_name = "tagging",
		.proto = EMU_PROTO_JSON,
		.target_prefix = "ResourceGroupsTaggingAPI_20170126",
		.content_type = "application/x-amz-json-1.1",
		.throttle_code = "ThrottledException",
		.ops = svc_tagging_ops,
	},
	{
		.name = "ec2", .signing_name = "ec2", .proto = EMU_PROTO_EC2,
		.version = "2016-11-15",
		.xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/",
		.throttle_code = "RequestLimitExceeded",
		.ops = svc_ec2_ops,
	},
	{
		.name = "lambda", .signing_name = "lambda",
		.proto = EMU_PROTO_REST_JSON,
		.content_type = "application/json",
		.throttle_code = "TooManyRequestsException",
		.ops = svc_lambda_ops, .route = svc_lambda_route,
	},
	{
		.name = "ecs", .signing_name = "ecs", .proto = EMU_PROTO_JSON,
		.target_prefix = "AmazonEC2ContainerServiceV20141113",
		.content_type = "application/x-amz-json-1.1",
		.throttle_code = "ThrottlingException",
		.ops = svc_ecs_ops,
	},
	{
		.name = "organizations", .signing_name = "organizations",
		.proto = EMU_PROTO_JSON,
		.target_prefix = "AWSOrganizationsV20161128",
		.content_type = "application/x-amz-json-1.1",
		.throttle_code = "TooManyRequestsException", .global = 1,
		.ops = svc_organizations_ops,
	},
	{
		.name = "ce", .signing_name = "ce", .proto = EMU_PROTO_JSON,
		.target_prefix = "AWSInsightsIndexService",
		.content_type = "application/x-amz-json-1.1",
		.throttle_code = "LimitExceededException", .global = 1,
		.ops = svc_ce_ops,
	},
	{
		.name = "s3", .signing_name = "s3", .proto = EMU_PROTO_REST_XML,
		.xmlns = "http://s3.amazonaws.com/doc/2006-03-01/",
		.throttle_code = "SlowDown",
		.ops = svc_s3_ops, .route = svc_s3_route,
	},
	{
		.name = "iam", .signing_name = "iam", .proto = EMU_PROTO_QUERY,
		.version = "2010-05-08",
		.xmlns = "https://iam.amazonaws.com/doc/2010-05-08/",
		.throttle_code = "Throttling", .global = 1,
		.ops = svc_iam_ops,
	},
	{
		.name = "rds", .signing_name = "rds", .proto = EMU_PROTO_QUERY,
		.version = "2014-10-31",
		.xmlns = "http://rds.amazonaws.com/doc/2014-10-31/",
		.throttle_code = "Throttling",
		.ops = svc_rds_ops,
	},
	{ .name = NULL },
};

const struct emu_op *
services_op(const struct emu_service *svc, const char *name)
{
	const struct emu_op *op;

	for (op = svc->ops; name != NULL && op->name != NULL; op++)
		if (strcmp(op->name, name) == 0)
			return op;
	return NULL;
}

/* Unsigned requests (or a malformed signature): by target or Action. */
static const struct emu_service *
services_guess(struct emu_req *req)
{
	const char *target = request_header(req, "X-Amz-Target");
	const char *action = request_param(req, "Action");
	const struct emu_service *svc;
	size_t n;

	for (svc = services_table; svc->name != NULL; svc++) {
		if (target != NULL && svc->target_prefix != NULL) {
			n = strlen(svc->target_prefix);
			if (strncmp(target, svc->target_prefix, n) == 0 &&
			    target[n] == '.')
				return svc;
		}
		if (target == NULL && action != NULL &&
		    (svc->proto == EMU_PROTO_QUERY ||
		    svc->proto == EMU_PROTO_EC2) && services_op(svc, action))
			return svc;
	}
	return NULL;
}

static const struct emu_service *
services_by_signing_name(const char *name)
{
	const struct emu_service *svc;

	for (svc = services_table; svc->name != NULL; svc++)
		if (strcmp(svc->signing_name, name) == 0)
			return svc;
	return NULL;
}

static const struct emu_op *
services_query_op(struct emu_req *req, int reply)
{
	const char *action = request_param(req, "Action");
	const char *version = request_param(req, "Version");
	const struct emu_op *op = services_op(req->svc, action);

	if (op != NULL && (version == NULL ||
	    strcmp(version, req->svc->version) == 0))
		return op;
	if (!reply)
		return NULL;
	if (action == NULL)
		reply_error(req, 400, "MissingAction", "The request must "
		    "contain the parameter Action.");
	else
		reply_error(req, 400, "InvalidAction", "Could not find "
		    "operation %s for version %s", action,
		    version != NULL ? version : "(none)");
	return NULL;
}

static const struct emu_op *
services_json_op(struct emu_req *req, int reply)
{
	const char *target = request_header(req, "X-Amz-Target");
	size_t n = strlen(req->svc->target_prefix);
	const struct emu_op *op = NULL;

	if (target != NULL && strncmp(target, req->svc->target_prefix,
	    n) == 0 && target[n] == '.')
		op = services_op(req->svc, target + n + 1);
	if (op == NULL && reply)
		reply_error(req, 400, "UnknownOperationException", "%s",
		    target != NULL ? target : "X-Amz-Target is missing");
	return op;
}

static const struct emu_op *
services_rest_op(struct emu_req *req, int reply)
{
	const struct emu_op *op = req->svc->route(req);

	if (op == NULL && reply)
		reply_error(req, 404, "UnknownOperationException", "No "
		    "operation of %s answers %s %s", req->svc->name,
		    req->method, req->path);
	return op;
}

static int
services_json_body(struct emu_req *req)
{
	json_error_t jerr;

	if (req->body_len == 0) {
		req->json = json_object();
		return 0;
	}
	req->json = json_loadb(req->body, req->body_len, 0, &jerr);
	if (json_is_object(req->json))
		return 0;
	reply_error(req, 400, "SerializationException", "Start of structure "
	    "or map found where not expected: %s", jerr.text);
	return -1;
}

int
services_detect(struct emu_req *req)
{
	const char *authz = request_header(req, "Authorization"), *why;
	struct auth_header h;

	if (authz != NULL && auth_parse(authz, &h, &why) == 0)
		req->svc = services_by_signing_name(h.service);
	if (req->svc == NULL)
		req->svc = services_guess(req);
	if (req->svc != NULL)
		return 0;
	reply_error(req, authz != NULL ? 400 : 403, authz != NULL ?
	    "UnknownService" : "MissingAuthenticationToken", "%s",
	    authz != NULL ? "The emulator serves no service by that signing "
	    "name." : "Request is missing Authentication Token");
	return -1;
}

int
services_operation(struct emu_req *req, int reply)
{
	if (req->svc->proto == EMU_PROTO_JSON)
		req->op = services_json_op(req, reply);
	else if (req->svc->route != NULL)
		req->op = services_rest_op(req, reply);
	else
		req->op = services_query_op(req, reply);
	if (req->op == NULL)
		return -1;
	if (reply && req->svc->proto == EMU_PROTO_JSON)
		return services_json_body(req);
	return 0;
}
