/*
 * IAM (Query protocol, 2010-05-08, global: signed for us-east-1 only, which
 * the services row enforces): ListAccountAliases, the caller's account's
 * alias as a one-element list, or an empty list when it has none.
 */
#include <stdio.h>

#include <event2/buffer.h>

#include "emulator.h"
#include "errbuf.h"

#define IAM_VALIDATION	"1 validation error detected: "

/*
 * An account has at most one alias, so there is never a second page and
 * never a Marker to accept: any Marker is not one IAM issued.
 */
static void
iam_list_account_aliases(struct emu_req *req)
{
	const char *marker = request_param(req, "Marker");
	struct errbuf err;
	long long max;

	if (request_param_int(req, "MaxItems", 1, 1000, 100, &max,
	    &err) == -1) {
		reply_error(req, 400, "ValidationError", IAM_VALIDATION "Value "
		    "'%s' at 'maxItems' failed to satisfy constraint: Member "
		    "must have value between 1 and 1000",
		    request_param(req, "MaxItems"));
		return;
	}
	if (marker != NULL) {
		reply_error(req, 400, "ValidationError", "Invalid Marker: '%s' "
		    "is not a marker this operation returned", marker);
		return;
	}
	reply_xml_begin(req);
	xml_open(req->out, "AccountAliases");
	if (req->account->alias[0] != '\0')
		xml_text(req->out, "member", req->account->alias);
	xml_close(req->out, "AccountAliases");
	xml_text(req->out, "IsTruncated", "false");
	reply_xml_end(req);
}

const struct emu_op svc_iam_ops[] = {
	{ "ListAccountAliases", 0, iam_list_account_aliases },
	{ NULL, 0, NULL },
};
