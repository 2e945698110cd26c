/*
 * RDS (Query protocol, 2014-10-31): DescribeDBInstances over the caller's
 * account in the request's region, with TagList, MaxRecords 20..100 and
 * Marker pages, a DBInstanceIdentifier (identifier or ARN) that must exist,
 * and the db-instance-id, dbi-resource-id and engine filters.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "emulator.h"
#include "errbuf.h"

#define RDS_MAX_FILTERS	10
#define RDS_MAX_VALUES	100

struct rds_field {
	const char	*name;
	int		(*match)(const struct emu_resource *, const char *);
};

struct rds_filter {
	const struct rds_field	*field;
	const char		*values[RDS_MAX_VALUES];
	size_t			 nvalues;
};

struct rds_query {
	struct rds_filter	 f[RDS_MAX_FILTERS];
	size_t			 n;
};

static const char *
rds_attr(const struct emu_resource *r, const char *key, const char *def)
{
	const char *v = json_string_value(json_object_get(r->attrs, key));

	return v != NULL ? v : def;
}

/* GiB; 20 is the smallest gp3 volume RDS offers. */
static long long
rds_storage(const struct emu_resource *r)
{
	json_t *v = json_object_get(r->attrs, "allocated_storage");

	return json_is_integer(v) ? json_integer_value(v) : 20;
}

static void
rds_resource_id(const struct emu_resource *r, char *out, size_t outsz)
{
	/* "db-" and 26 characters of [A-Z2-7], stable per instance. */
	ids_derive("db-", r->arn, 26, out, outsz);
}

/* DB identifiers are case-insensitive; an ARN names the instance too. */
static int
rds_match_id(const struct emu_resource *r, const char *v)
{
	return strcasecmp(r->id, v) == 0 || strcmp(r->arn, v) == 0;
}

static int
rds_match_resource_id(const struct emu_resource *r, const char *v)
{
	char id[40];

	rds_resource_id(r, id, sizeof(id));
	return strcmp(id, v) == 0;
}

static int
rds_match_engine(const struct emu_resource *r, const char *v)
{
	return strcmp(rds_attr(r, "engine", "postgres"), v) == 0;
}

static const struct rds_field rds_fields[] = {
	{ "db-instance-id", rds_match_id },
	{ "dbi-resource-id", rds_match_resource_id },
	{ "engine", rds_match_engine },
};

static const struct rds_field *
rds_field(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(rds_fields) / sizeof(rds_fields[0]); i++)
		if (strcmp(rds_fields[i].name, name) == 0)
			return &rds_fields[i];
	return NULL;
}

/* Filters.Filter.N.Name and Filters.Filter.N.Values.Value.M. */
static int
rds_parse_filters(struct emu_req *req, struct rds_query *q, struct errbuf *err)
{
	struct rds_filter *f;
	const char *name, *v;
	char key[128];
	int n, m;

	memset(q, 0, sizeof(*q));
	for (n = 1;; n++) {
		snprintf(key, sizeof(key), "Filters.Filter.%d.Name", n);
		if ((name = request_param(req, key)) == NULL)
			break;
		if (q->n == RDS_MAX_FILTERS)
			return err_set(err, "At most %d filters are allowed",
			    RDS_MAX_FILTERS);
		f = &q->f[q->n++];
		if ((f->field = rds_field(name)) == NULL)
			return err_set(err, "Unrecognized filter name: %s", name);
		for (m = 1; f->nvalues < RDS_MAX_VALUES; m++) {
			snprintf(key, sizeof(key), "Filters.Filter.%d.Values."
			    "Value.%d", n, m);
			if ((v = request_param(req, key)) == NULL)
				break;
			f->values[f->nvalues++] = v;
		}
	}
	return 0;
}

static int
rds_match(const struct emu_resource *r, const struct rds_query *q)
{
	size_t i, j;

	if (strcmp(r->type, "rds:db") != 0)
		return 0;
	for (i = 0; i < q->n; i++) {
		for (j = 0; j < q->f[i].nvalues; j++)
			if (q->f[i].field->match(r, q->f[i].values[j]))
				break;
		if (j == q->f[i].nvalues)
			return 0;
	}
	return 1;
}

static void
rds_tags(struct evbuffer *b, const struct emu_resource *r)
{
	size_t i;

	xml_open(b, "TagList");
	for (i = 0; i < r->ntags; i++) {
		xml_open(b, "Tag");
		xml_text(b, "Key", r->tags[i].key);
		xml_text(b, "Value", r->tags[i].value);
		xml_close(b, "Tag");
	}
	xml_close(b, "TagList");
}

static void
rds_instance(struct emu_req *req, const struct emu_resource *r)
{
	struct evbuffer *b = req->out;
	char when[32], rid[40];
	const char *v;

	isotime_format(r->created, 1, when);
	rds_resource_id(r, rid, sizeof(rid));
	xml_open(b, "DBInstance");
	xml_text(b, "DBInstanceIdentifier", r->id);
	xml_text(b, "DBInstanceClass", rds_attr(r, "instance_class",
	    "db.t3.micro"));
	xml_text(b, "Engine", rds_attr(r, "engine", "postgres"));
	xml_text(b, "DBInstanceStatus", r->state);
	xml_textf(b, "AllocatedStorage", "%lld", rds_storage(r));
	xml_text(b, "InstanceCreateTime", when);
	if ((v = rds_attr(r, "availability_zone", NULL)) != NULL)
		xml_text(b, "AvailabilityZone", v);
	else
		xml_textf(b, "AvailabilityZone", "%sa", r->region);
	xml_text(b, "MultiAZ", "false");
	if ((v = rds_attr(r, "engine_version", NULL)) != NULL)
		xml_text(b, "EngineVersion", v);
	xml_text(b, "StorageType", "gp3");
	xml_text(b, "DbiResourceId", rid);
	xml_text(b, "DBInstanceArn", r->arn);
	rds_tags(b, r);
	xml_close(b, "DBInstance");
}

/* DBInstanceIdentifier: that one instance of the region, or the error. */
static void
rds_one(struct emu_req *req, const struct emu_region *reg, const char *id,
    const struct rds_query *q)
{
	const struct emu_resource *found = NULL;
	size_t i;

	for (i = 0; reg != NULL && i < reg->nres && found == NULL; i++)
		if (strcmp(reg->res[i].type, "rds:db") == 0 &&
		    rds_match_id(&reg->res[i], id))
			found = &reg->res[i];
	if (found == NULL) {
		reply_error(req, 404, "DBInstanceNotFound", "DBInstance %s not "
		    "found.", id);
		return;
	}
	reply_xml_begin(req);
	xml_open(req->out, "DBInstances");
	if (rds_match(found, q))
		rds_instance(req, found);
	xml_close(req->out, "DBInstances");
	reply_xml_end(req);
}

static void
rds_page(struct emu_req *req, const struct emu_region *reg,
    const struct rds_query *q, size_t size)
{
	size_t i, total = reg != NULL ? reg->nres : 0;
	struct errbuf err;
	char marker[512];
	struct page pg;

	if (page_start(req, request_param(req, "Marker"), size, &pg,
	    &err) == -1) {
		reply_error(req, 400, "InvalidParameterValue", "Invalid Marker: "
		    "%s", err.msg);
		return;
	}
	reply_xml_begin(req);
	xml_open(req->out, "DBInstances");
	for (i = pg.resume; i < total && pg.taken < pg.limit; i++)
		if (rds_match(&reg->res[i], q)) {
			rds_instance(req, &reg->res[i]);
			pg.taken++;
		}
	xml_close(req->out, "DBInstances");
	page_finish(req, &pg, i, total, marker, sizeof(marker));
	if (marker[0] != '\0')
		xml_text(req->out, "Marker", marker);
	reply_xml_end(req);
}

static void
rds_describe_db_instances(struct emu_req *req)
{
	const char *id = request_param(req, "DBInstanceIdentifier");
	struct rds_query q;
	struct errbuf err;
	long long max;

	if (request_param_int(req, "MaxRecords", 20, 100, 100, &max,
	    &err) == -1) {
		reply_error(req, 400, "InvalidParameterValue", "Invalid value "
		    "%s for MaxRecords. Must be between 20 and 100",
		    request_param(req, "MaxRecords"));
		return;
	}
	if (rds_parse_filters(req, &q, &err) == -1) {
		reply_error(req, 400, "InvalidParameterValue", "%s", err.msg);
		return;
	}
	if (id != NULL)
		rds_one(req, fixture_region(req->account, req->region), id, &q);
	else
		rds_page(req, fixture_region(req->account, req->region), &q,
		    (size_t)max);
}

const struct emu_op svc_rds_ops[] = {
	{ "DescribeDBInstances", 0, rds_describe_db_instances },
	{ NULL, 0, NULL },
};
