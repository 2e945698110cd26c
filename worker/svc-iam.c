/*
 * IAM (Query protocol, global): the account alias for ACCOUNT_DONE, once
 * per account. An account has at most one alias; none is null. A refused
 * call is only logged: the alias is a label, not part of the result.
 */
#include <stddef.h>

#include "awsxml.h"
#include "errbuf.h"
#include "http.h"
#include "services.h"

#define IAM_VERSION	"2010-05-08"

static int
iam_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct awsxml_node *root;

	(void)call;
	if ((root = collect_parse_xml(resp, "ListAccountAliasesResponse",
	    err)) == NULL)
		return -1;
	collect_set_alias(c, awsxml_text(root,
	    "ListAccountAliasesResult/AccountAliases/member"));
	awsxml_free(root);
	return 0;
}

int
svc_iam_start(struct collect *c, struct collect_region *r, struct errbuf *err)
{
	(void)r;
	(void)err;
	collect_query(c, NULL, "iam", "ListAccountAliases", IAM_VERSION, NULL,
	    0, iam_done, NULL, NULL);
	return 0;
}
