/*
 * EC2's Filter.N.Name / Filter.N.Value.M: parsed once per request, then
 * matched per resource with EC2's * and ? wildcards (fnmatch). Tag filters
 * ("tag:KEY", "tag-key") work on every resource type; other names come
 * from the calling operation's field table.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "ec2.h"

static const struct ec2_filter_field *
ec2_filter_field(const struct ec2_filter_field *fields, const char *name)
{
	for (; fields->name != NULL; fields++)
		if (strcmp(fields->name, name) == 0)
			return fields;
	return NULL;
}

int
ec2_filter_parse(struct emu_req *req, const struct ec2_filter_field *fields,
    struct ec2_filters *fs)
{
	struct ec2_filter *f;
	char prefix[64];
	const char *name;
	int i, j;

	fs->n = 0;
	for (i = 1; i <= EC2_MAX_FILTERS; i++) {
		snprintf(prefix, sizeof(prefix), "Filter.%d.Name", i);
		if ((name = request_param(req, prefix)) == NULL)
			break;
		if (strncmp(name, "tag:", 4) != 0 && strcmp(name, "tag-key") != 0 &&
		    ec2_filter_field(fields, name) == NULL) {
			reply_error(req, 400, "InvalidParameterValue", "The "
			    "filter '%s' is invalid", name);
			return -1;
		}
		f = &fs->f[fs->n++];
		f->name = name;
		f->nvalues = 0;
		snprintf(prefix, sizeof(prefix), "Filter.%d.Value", i);
		for (j = 1; j <= EC2_MAX_VALUES &&
		    (f->values[f->nvalues] = request_param_n(req, prefix, j)) !=
		    NULL; j++)
			f->nvalues++;
	}
	return 0;
}

static int
ec2_filter_any(const struct ec2_filter *f, const char *value)
{
	size_t i;

	for (i = 0; value != NULL && i < f->nvalues; i++)
		if (fnmatch(f->values[i], value, 0) == 0)
			return 1;
	return 0;
}

static int
ec2_filter_one(const struct ec2_filter *f,
    const struct ec2_filter_field *fields, const struct emu_resource *r)
{
	char buf[256];
	size_t i;

	if (strncmp(f->name, "tag:", 4) == 0) {
		for (i = 0; i < r->ntags; i++)
			if (strcmp(r->tags[i].key, f->name + 4) == 0)
				return ec2_filter_any(f, r->tags[i].value);
		return 0;
	}
	if (strcmp(f->name, "tag-key") == 0) {
		for (i = 0; i < r->ntags; i++)
			if (ec2_filter_any(f, r->tags[i].key))
				return 1;
		return 0;
	}
	return ec2_filter_any(f, ec2_filter_field(fields, f->name)->get(r, buf,
	    sizeof(buf)));
}

int
ec2_filter_match(const struct ec2_filters *fs,
    const struct ec2_filter_field *fields, const struct emu_resource *r)
{
	size_t i;

	for (i = 0; i < fs->n; i++)
		if (!ec2_filter_one(&fs->f[i], fields, r))
			return 0;
	return 1;
}

void
ec2_filter_tagset(struct evbuffer *b, const struct emu_resource *r)
{
	size_t i;

	if (r->ntags == 0)
		return;
	xml_open(b, "tagSet");
	for (i = 0; i < r->ntags; i++) {
		xml_open(b, "item");
		xml_text(b, "key", r->tags[i].key);
		xml_text(b, "value", r->tags[i].value);
		xml_close(b, "item");
	}
	xml_close(b, "tagSet");
}
