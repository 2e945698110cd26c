/*
 * EC2 (Query protocol, EC2's XML): the account's regions with their opt-in
 * status (DescribeRegions), and instances and volumes with their tags
 * (DescribeInstances, DescribeVolumes), every page. Terminated instances
 * and deleted volumes are marked gone (services.c).
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

#define EC2_VERSION	"2016-11-15"

/*
 * One row per listed type. Instances sit one level deeper, in the
 * instancesSet of each reservation.
 */
struct ec2_list {
	const char	*type;
	const char	*action;
	const char	*root;		/* the answer's document element */
	int		 max_results;	/* EC2's documented page maximum */
	const char	*set;		/* list under root */
	const char	*inner;		/* list inside each item, or NULL */
	const char	*id;
	const char	*state;
	const char	*created;
	const char	*arn_kind;	/* arn:aws:ec2:R:A:<kind>/<id> */
};

static const struct ec2_list ec2_lists[] = {
	{ "ec2:instance", "DescribeInstances", "DescribeInstancesResponse",
	  1000, "reservationSet", "instancesSet", "instanceId",
	  "instanceState/name", "launchTime", "instance" },
	{ "ec2:volume", "DescribeVolumes", "DescribeVolumesResponse",
	  500, "volumeSet", NULL, "volumeId", "status", "createTime",
	  "volume" },
};

#define NLISTS	(sizeof(ec2_lists) / sizeof(ec2_lists[0]))

static int	ec2_page_done(struct collect *, struct collect_call *,
		    const struct http_response *, struct errbuf *);

static void
ec2_page(struct collect *c, struct collect_region *r,
    const struct ec2_list *l, const char *token)
{
	char *params, *enc = NULL;

	if (token != NULL)
		enc = collect_urlencode(token);
	params = xprintf("MaxResults=%d%s%s", l->max_results,
	    enc != NULL ? "&NextToken=" : "", enc != NULL ? enc : "");
	collect_query(c, r, "ec2", l->action, EC2_VERSION, params, 0,
	    ec2_page_done, token, l->type);
	free(params);
	free(enc);
}

static int
ec2_item(struct collect *c, struct inventory *inv, const char *region,
    const struct ec2_list *l, const struct awsxml_node *n,
    struct errbuf *err)
{
	struct inventory_resource *res;
	const char *id = awsxml_text(n, l->id), *state;
	char *arn;
	int rc;

	if (id == NULL || *id == '\0')
		return err_set(err, "malformed answer: an item without %s",
		    l->id);
	state = awsxml_text(n, l->state);
	arn = xprintf("arn:aws:ec2:%s:%s:%s/%s", region, collect_account_id(c),
	    l->arn_kind, id);
	rc = inventory_get(inv, INVENTORY_ENUMERATOR, l->type, arn, id, &res,
	    err);
	free(arn);
	if (rc == -1 || inventory_set_state(res, state, err) == -1 ||
	    inventory_set_created(res, awsxml_text(n, l->created), err) == -1)
		return -1;
	if (services_gone_state(l->type, state))
		inventory_set_gone(res);
	return collect_xml_tags(res, awsxml_find(n, "tagSet"), "item", "key",
	    "value", err);
}

static int
ec2_items(struct collect *c, struct collect_region *r,
    const struct ec2_list *l, const struct awsxml_node *root,
    struct errbuf *err)
{
	const struct awsxml_node *set = awsxml_find(root, l->set), *n, *in;
	struct inventory *inv = collect_region_inventory(r);
	const char *region = collect_region_name(r);

	if (set == NULL)
		return err_set(err, "malformed answer: no <%s>", l->set);
	for (n = awsxml_first(set, "item"); n != NULL; n = awsxml_next(n)) {
		if (l->inner == NULL) {
			if (ec2_item(c, inv, region, l, n, err) == -1)
				return -1;
			continue;
		}
		for (in = awsxml_first(awsxml_find(n, l->inner), "item");
		    in != NULL; in = awsxml_next(in))
			if (ec2_item(c, inv, region, l, in, err) == -1)
				return -1;
	}
	return 0;
}

static int
ec2_page_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	struct collect_region *r = collect_call_region(call);
	const struct ec2_list *l = NULL;
	struct awsxml_node *root;
	const char *token;
	size_t i;
	int rc;

	for (i = 0; i < NLISTS; i++)
		if (strcmp(ec2_lists[i].type, collect_call_key2(call)) == 0)
			l = &ec2_lists[i];
	if (l == NULL)
		return err_set(err, "no EC2 list for %s", collect_call_key2(call));
	if ((root = collect_parse_xml(resp, l->root, err)) == NULL)
		return -1;
	if ((rc = ec2_items(c, r, l, root, err)) == 0) {
		token = awsxml_text(root, "nextToken");
		if ((rc = collect_next_token(l->action, collect_call_key(call),
		    token, err)) == 1) {
			ec2_page(c, r, l, token);
			rc = 0;
		}
	}
	awsxml_free(root);
	return rc;
}

int
svc_ec2_start(struct collect *c, struct collect_region *r, struct errbuf *err)
{
	size_t i;

	(void)err;
	for (i = 0; i < NLISTS; i++)
		if (collect_wants_type(c, ec2_lists[i].type))
			ec2_page(c, r, &ec2_lists[i], NULL);
	return 0;
}

/* --- regions --- */

/* A region name becomes a host label: only what AWS uses may pass. */
static int
ec2_region_name_ok(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 32 && s[0] != '-' && s[len - 1] != '-' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

static int
ec2_regions_done(struct collect *c, struct collect_call *call,
    const struct http_response *resp, struct errbuf *err)
{
	const struct awsxml_node *info, *n;
	struct awsxml_node *root;
	const char *name;
	int rc = 0;

	(void)call;
	if ((root = collect_parse_xml(resp, "DescribeRegionsResponse",
	    err)) == NULL)
		return -1;
	if ((info = awsxml_find(root, "regionInfo")) == NULL)
		rc = err_set(err, "malformed answer: no <regionInfo>");
	for (n = awsxml_first(info, "item"); rc == 0 && n != NULL;
	    n = awsxml_next(n)) {
		name = awsxml_text(n, "regionName");
		if (name == NULL || !ec2_region_name_ok(name))
			rc = err_set(err, "malformed answer: a region without "
			    "a valid regionName");
		else
			collect_region_offer(c, name, awsxml_text(n,
			    "optInStatus"));
	}
	awsxml_free(root);
	return rc == 0 ? collect_regions_listed(c, err) : -1;
}

int
svc_ec2_regions(struct collect *c, struct errbuf *err)
{
	(void)err;
	collect_query(c, NULL, "ec2", "DescribeRegions", EC2_VERSION,
	    "AllRegions=true", COLLECT_FATAL | COLLECT_BLOCKING,
	    ec2_regions_done, NULL, NULL);
	return 0;
}
