/*
 * RDS (Query protocol): DB instances with their tags in one listing
 * (DescribeDBInstances carries TagList), every page by Marker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "awsxml.h"
#include "errbuf.h"
#include "http.h"
#include "inventory.h"
#include "services.h"
#include "xmalloc.h"

#define RDS_VERSION	"2014-10-31"
#define RDS_MAX_RECORDS	100	/* RDS's documented page maximum */

static int	rds_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);

static void
rds_page(struct collect *c, struct collect_region *r, const char *marker)
{
	char *params, *enc = NULL;

	if (marker != NULL)
		enc = collect_urlencode(marker);
	params = xprintf("MaxRecords=%d%s%s", RDS_MAX_RECORDS,
	    enc != NULL ? "&Marker=" : "", enc != NULL ? enc : "");
	collect_query(c, r, "rds", "DescribeDBInstances", RDS_VERSION, params,
	    0, rds_done, marker, NULL);
	free(params);
	free(enc);
}

static int
rds_instance(struct collect *c, struct collect_region *r,
    const struct awsxml_node *n, struct errbuf *err)
{
	const char *id = awsxml_text(n, "DBInstanceIdentifier");
	const char *arn = awsxml_text(n, "DBInstanceArn");
	struct inventory_resource *res;
	char *made = NULL;
	int rc;

	if (id == NULL || *id == '\0')
		return err_set(err, "malformed answer: a DBInstance without "
		    "DBInstanceIdentifier");
	/* Answers from before DBInstanceArn existed: AWS's own spelling. */
	if (arn == NULL || *arn == '\0')
		arn = made = xprintf("arn:aws:rds:%s:%s:db:%s",
		    collect_region_name(r), collect_account_id(c), id);
	rc = inventory_get(collect_region_inventory(r), INVENTORY_ENUMERATOR,
	    "rds:db", arn, id, &res, err);
	free(made);
	if (rc == -1 || inventory_set_state(res, awsxml_text(n,
	    "DBInstanceStatus"), err) == -1 || inventory_set_created(res,
	    awsxml_text(n, "InstanceCreateTime"), err) == -1)
		return -1;
	return collect_xml_tags(res, awsxml_find(n, "TagList"), "Tag", "Key",
	    "Value", err);
}

static int
rds_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct collect_region *r = collect_call_region(call);
	const struct awsxml_node *result, *n;
	struct awsxml_node *root;
	const char *marker;
	int rc = 0;

	if ((root = collect_parse_xml(resp, "DescribeDBInstancesResponse",
	    err)) == NULL)
		return -1;
	if ((result = awsxml_find(root, "DescribeDBInstancesResult")) == NULL)
		rc = err_set(err, "malformed answer: no "
		    "<DescribeDBInstancesResult>");
	for (n = awsxml_first(awsxml_find(result, "DBInstances"),
	    "DBInstance"); rc == 0 && n != NULL; n = awsxml_next(n))
		rc = rds_instance(c, r, n, err);
	marker = awsxml_text(result, "Marker");
	if (rc == 0 && (rc = collect_next_token("DescribeDBInstances",
	    collect_call_key(call), marker, err)) == 1) {
		rds_page(c, r, marker);
		rc = 0;
	}
	awsxml_free(root);
	return rc;
}

int
svc_rds_start(struct collect *c, struct collect_region *r, struct errbuf *err)
{
	(void)err;
	rds_page(c, r, NULL);
	return 0;
}
