/*
 * EC2 (Query input, 2016-11-15, EC2's own XML): DescribeRegions with opt-in
 * status, DescribeInstances and DescribeVolumes with MaxResults/NextToken,
 * id lists and filters. Each instance is shown in a reservation of its
 * own; terminated instances are listed, as AWS does for a while.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "ec2.h"
#include "errbuf.h"

struct ec2_kind {
	const char			*type;		/* fixture type */
	const char			*id_param;	/* "InstanceId" */
	const char			*notfound_code;
	const char			*notfound_what;
	const char			*set;		/* list element */
	long long			 max_results;
	const struct ec2_filter_field	*fields;
	void				(*item)(struct emu_req *,
					    const struct emu_resource *);
};

static const char *
ec2_attr(const struct emu_resource *r, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(r->attrs, key));

	return v != NULL ? v : def;
}

static const char *
ec2_zone(const struct emu_resource *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ec2_attr(r, "availability_zone", ""));
	if (buf[0] == '\0')
		snprintf(buf, len, "%sa", r->region);
	return buf;
}

static const char *
ec2_state(const struct emu_resource *r, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return r->state;
}

static const char *
ec2_id(const struct emu_resource *r, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return r->id;
}

static const char *
ec2_instance_type(const struct emu_resource *r, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return ec2_attr(r, "instance_type", "t3.micro");
}

static const char *
ec2_volume_type(const struct emu_resource *r, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	return ec2_attr(r, "volume_type", "gp3");
}

static long long
ec2_volume_size(const struct emu_resource *r)
{
	json_t *v = json_object_get(r->attrs, "size");

	return json_is_integer(v) ? json_integer_value(v) : 8;
}

static const struct ec2_filter_field ec2_instance_fields[] = {
	{ "instance-state-name", ec2_state },
	{ "instance-id", ec2_id },
	{ "instance-type", ec2_instance_type },
	{ "availability-zone", ec2_zone },
	{ NULL, NULL },
};

static const struct ec2_filter_field ec2_volume_fields[] = {
	{ "status", ec2_state },
	{ "volume-id", ec2_id },
	{ "volume-type", ec2_volume_type },
	{ "availability-zone", ec2_zone },
	{ NULL, NULL },
};

/* EC2's documented instance state codes. */
static int
ec2_state_code(const char *state)
{
	static const struct {
		const char	*name;
		int		 code;
	} codes[] = {
		{ "pending", 0 }, { "running", 16 }, { "shutting-down", 32 },
		{ "terminated", 48 }, { "stopping", 64 }, { "stopped", 80 },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].name, state) == 0)
			return codes[i].code;
	return 16;
}

static void
ec2_instance_item(struct emu_req *req, const struct emu_resource *r)
{
	struct evbuffer *b = req->out;
	char buf[64], when[32], rid[32], ami[32];

	ids_derive_hex("r-0", r->id, 16, rid, sizeof(rid));
	ids_derive_hex("ami-0", ec2_instance_type(r, NULL, 0), 16, ami,
	    sizeof(ami));
	isotime_format(r->created, 1, when);
	xml_open(b, "item");
	xml_text(b, "reservationId", rid);
	xml_text(b, "ownerId", r->account->id);
	evbuffer_add_printf(b, "<groupSet/><instancesSet><item>");
	xml_text(b, "instanceId", r->id);
	xml_text(b, "imageId", ami);
	evbuffer_add_printf(b, "<instanceState><code>%d</code>",
	    ec2_state_code(r->state));
	xml_text(b, "name", r->state);
	xml_close(b, "instanceState");
	xml_text(b, "instanceType", ec2_instance_type(r, NULL, 0));
	xml_text(b, "launchTime", when);
	xml_open(b, "placement");
	xml_text(b, "availabilityZone", ec2_zone(r, buf, sizeof(buf)));
	xml_text(b, "tenancy", "default");
	xml_close(b, "placement");
	xml_text(b, "architecture", "x86_64");
	xml_text(b, "rootDeviceType", "ebs");
	ec2_filter_tagset(b, r);
	evbuffer_add_printf(b, "</item></instancesSet>");
	xml_close(b, "item");
}

static void
ec2_volume_item(struct emu_req *req, const struct emu_resource *r)
{
	struct evbuffer *b = req->out;
	char buf[64], when[32];

	isotime_format(r->created, 1, when);
	xml_open(b, "item");
	xml_text(b, "volumeId", r->id);
	xml_textf(b, "size", "%lld", ec2_volume_size(r));
	xml_text(b, "snapshotId", "");
	xml_text(b, "availabilityZone", ec2_zone(r, buf, sizeof(buf)));
	xml_text(b, "status", r->state);
	xml_text(b, "createTime", when);
	evbuffer_add_printf(b, "<attachmentSet/>");
	ec2_filter_tagset(b, r);
	xml_text(b, "volumeType", ec2_volume_type(r, NULL, 0));
	xml_text(b, "encrypted", "false");
	xml_text(b, "multiAttachEnabled", "false");
	xml_close(b, "item");
}

static const struct ec2_kind ec2_instances = {
	"ec2:instance", "InstanceId", "InvalidInstanceID.NotFound",
	"instance ID", "reservationSet", 1000,
	ec2_instance_fields, ec2_instance_item
};

static const struct ec2_kind ec2_volumes = {
	"ec2:volume", "VolumeId", "InvalidVolume.NotFound",
	"volume", "volumeSet", 500,
	ec2_volume_fields, ec2_volume_item
};

static const struct emu_resource *
ec2_find(const struct emu_region *reg, const char *type, const char *id)
{
	size_t i;

	for (i = 0; reg != NULL && i < reg->nres; i++)
		if (strcmp(reg->res[i].id, id) == 0 &&
		    strcmp(reg->res[i].type, type) == 0)
			return &reg->res[i];
	return NULL;
}

/* InstanceId.N / VolumeId.N: all must exist, then the filters apply. */
static int
ec2_by_ids(struct emu_req *req, const struct ec2_kind *k,
    const struct emu_region *reg, const struct ec2_filters *fs)
{
	const struct emu_resource *r;
	const char *id;
	int n;

	for (n = 1; (id = request_param_n(req, k->id_param, n)) != NULL; n++)
		if (ec2_find(reg, k->type, id) == NULL) {
			reply_error(req, 400, k->notfound_code, "The %s '%s' "
			    "does not exist", k->notfound_what, id);
			return -1;
		}
	reply_xml_begin(req);
	xml_open(req->out, k->set);
	for (n = 1; (id = request_param_n(req, k->id_param, n)) != NULL; n++)
		if ((r = ec2_find(reg, k->type, id)) != NULL &&
		    ec2_filter_match(fs, k->fields, r))
			k->item(req, r);
	xml_close(req->out, k->set);
	reply_xml_end(req);
	return 0;
}

static void
ec2_page(struct emu_req *req, const struct ec2_kind *k,
    const struct emu_region *reg, const struct ec2_filters *fs, size_t size)
{
	size_t i, total = reg != NULL ? reg->nres : 0;
	struct errbuf err;
	char token[512];
	struct page pg;

	if (page_start(req, request_param(req, "NextToken"), size, &pg,
	    &err) == -1) {
		reply_error(req, 400, "InvalidParameterValue", "Invalid value "
		    "for NextToken: %s", err.msg);
		return;
	}
	reply_xml_begin(req);
	xml_open(req->out, k->set);
	for (i = pg.resume; i < total && pg.taken < pg.limit; i++)
		if (strcmp(reg->res[i].type, k->type) == 0 &&
		    ec2_filter_match(fs, k->fields, &reg->res[i])) {
			k->item(req, &reg->res[i]);
			pg.taken++;
		}
	xml_close(req->out, k->set);
	page_finish(req, &pg, i, total, token, sizeof(token));
	if (token[0] != '\0')
		xml_text(req->out, "nextToken", token);
	reply_xml_end(req);
}

static void
ec2_describe(struct emu_req *req, const struct ec2_kind *k)
{
	const struct emu_region *reg = fixture_region(req->account,
	    req->region);
	struct ec2_filters fs;
	struct errbuf err;
	long long max;

	if (ec2_filter_parse(req, k->fields, &fs) == -1)
		return;
	if (request_param_int(req, "MaxResults", 5, k->max_results, 0, &max,
	    &err) == -1) {
		reply_error(req, 400, "InvalidParameterValue", "Value ( %s ) for "
		    "parameter maxResults is invalid. Expecting a value between "
		    "5 and %lld.", request_param(req, "MaxResults"),
		    k->max_results);
		return;
	}
	if (request_param_n(req, k->id_param, 1) != NULL) {
		if (max != 0)
			reply_error(req, 400, "InvalidParameterCombination",
			    "The parameter %sSet cannot be used with the "
			    "parameter maxResults", k->id_param);
		else
			ec2_by_ids(req, k, reg, &fs);
		return;
	}
	/* Without MaxResults EC2 answers everything in one page. */
	ec2_page(req, k, reg, &fs, max != 0 ? (size_t)max : SIZE_MAX);
}

static void
ec2_describe_instances(struct emu_req *req)
{
	ec2_describe(req, &ec2_instances);
}

static void
ec2_describe_volumes(struct emu_req *req)
{
	ec2_describe(req, &ec2_volumes);
}

static const char *const ec2_opt_in[] = {
	[EMU_REGION_ENABLED] = "opt-in-not-required",
	[EMU_REGION_OPTED_IN] = "opted-in",
	[EMU_REGION_NOT_OPTED_IN] = "not-opted-in",
};

/* RegionName.N, AllRegions and the region filters. */
static int
ec2_region_wanted(struct emu_req *req, const struct emu_region *reg,
    const struct ec2_filters *fs, int all)
{
	char endpoint[64];
	const char *name;
	size_t i;
	int n, listed = 0;

	for (n = 1; (name = request_param_n(req, "RegionName", n)) != NULL; n++)
		listed |= strcmp(name, reg->name) == 0 ? 1 : 2;
	if (listed == 2 || (listed == 0 && !all &&
	    reg->status == EMU_REGION_NOT_OPTED_IN))
		return 0;
	snprintf(endpoint, sizeof(endpoint), "ec2.%s.amazonaws.com", reg->name);
	for (i = 0; i < fs->n; i++) {
		name = strcmp(fs->f[i].name, "region-name") == 0 ? reg->name :
		    strcmp(fs->f[i].name, "endpoint") == 0 ? endpoint :
		    ec2_opt_in[reg->status];
		for (n = 0; n < (int)fs->f[i].nvalues; n++)
			if (strcmp(fs->f[i].values[n], name) == 0)
				break;
		if (n == (int)fs->f[i].nvalues)
			return 0;
	}
	return 1;
}

static void
ec2_describe_regions(struct emu_req *req)
{
	static const struct ec2_filter_field fields[] = {
		{ "region-name", NULL }, { "endpoint", NULL },
		{ "opt-in-status", NULL }, { NULL, NULL },
	};
	const struct emu_account *a = req->account;
	struct ec2_filters fs;
	size_t i;
	int all = request_param_bool(req, "AllRegions");

	if (ec2_filter_parse(req, fields, &fs) == -1)
		return;
	reply_xml_begin(req);
	xml_open(req->out, "regionInfo");
	for (i = 0; i < a->nregions; i++) {
		if (!ec2_region_wanted(req, &a->regions[i], &fs, all))
			continue;
		xml_open(req->out, "item");
		xml_text(req->out, "regionName", a->regions[i].name);
		xml_textf(req->out, "regionEndpoint", "ec2.%s.amazonaws.com",
		    a->regions[i].name);
		xml_text(req->out, "optInStatus", ec2_opt_in[a->regions[i].status]);
		xml_close(req->out, "item");
	}
	xml_close(req->out, "regionInfo");
	reply_xml_end(req);
}

const struct emu_op svc_ec2_ops[] = {
	{ "DescribeRegions", 0, ec2_describe_regions },
	{ "DescribeInstances", 0, ec2_describe_instances },
	{ "DescribeVolumes", 0, ec2_describe_volumes },
	{ NULL, 0, NULL },
};
