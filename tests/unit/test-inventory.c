/*
 * inventory: the merge of Tagging API and enumerator sightings by ARN, the
 * choice of tags, dropping gone and stale resources, the counts, and the
 * batches bounded by count and bytes.
 *
 * The policy below requires Owner (any value) on ec2:instance and
 * lambda:function and Env (prod or dev) on ec2:instance only; expected
 * verdicts follow docs/policy.md by hand: a missing key is
 * missing_required_tag, a value outside allowed_values is invalid_value,
 * keys compare ignoring ASCII case (case_sensitivity defaults to false).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "errbuf.h"
#include "inventory.h"
#include "policy.h"
#include "proto.h"

static const char policy_text[] =
    "{\"required_tags\": ["
    " {\"name\": \"Owner\", \"applies_to\": [\"ec2:instance\","
    "  \"lambda:function\"]},"
    " {\"name\": \"Env\", \"allowed_values\": [\"prod\", \"dev\"],"
    "  \"applies_to\": [\"ec2:instance\"]}]}";

struct sink {
	json_t	*resources;	/* every resource sent, in order */
	size_t	 batches;
	size_t	 sizes[64];	/* resources per batch */
	size_t	 bytes[64];	/* compact JSON per batch body */
};

/*
 * A row (common/proto.h) as an object keyed by its value names, so the
 * checks below read resource["tags"] rather than position 4.
 */
static json_t *
row_object(const json_t *row, size_t n, const char *(*name)(size_t))
{
	json_t *o = json_object();
	size_t i;

	assert_true(json_is_array(row));
	assert_int_equal(json_array_size(row), n);
	for (i = 0; i < n; i++)
		json_object_set(o, name(i), json_array_get(row, i));
	return o;
}

static json_t *
resource_object(const json_t *row)
{
	json_t *o = row_object(row, PROTO_RES_NFIELDS, proto_resource_name);
	json_t *list = json_array();
	const json_t *v;
	size_t i;

	json_array_foreach(json_array_get(row, PROTO_RES_VIOLATIONS), i, v)
		json_array_append_new(list, row_object(v, PROTO_VIOL_NFIELDS,
		    proto_violation_name));
	json_object_set_new(o, "violations", list);
	return o;
}

static int
sink_send(void *arg, const char *text, size_t len, struct errbuf *err)
{
	struct sink *s = arg;
	json_t *body, *list, *v;
	char *again;
	size_t i;

	(void)err;
	assert_true(s->batches < 64);
	assert_int_equal(strlen(text), len);
	body = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(body);
	/* The text is what jansson's compact dump of its own parse gives. */
	again = json_dumps(body, JSON_COMPACT);
	assert_non_null(again);
	assert_string_equal(again, text);
	free(again);
	list = json_object_get(body, "resources");
	assert_int_equal(json_object_size(body), 1);
	assert_true(json_is_array(list));
	s->sizes[s->batches] = json_array_size(list);
	s->bytes[s->batches] = len;
	s->batches++;
	json_array_foreach(list, i, v)
		json_array_append_new(s->resources, resource_object(v));
	json_decref(body);
	return 0;
}

static int
only_instances(const char *type)
{
	return strcmp(type, "ec2:instance") == 0;
}

struct fixture {
	struct policy		*policy;
	struct inventory	*inv;
	struct sink		 sink;
	struct inventory_emit	 emit;
	struct inventory_totals	 tot;
	struct errbuf		 err;
};

static int
setup(void **state)
{
	struct policy_errors perr = { NULL, 0 };
	struct fixture *f;

	f = calloc(1, sizeof(*f));
	assert_int_equal(policy_load_buffer(policy_text, strlen(policy_text),
	    &f->policy, &perr), 0);
	policy_errors_free(&perr);
	f->inv = inventory_new();
	f->sink.resources = json_array();
	f->emit.policy = f->policy;
	f->emit.region = "eu-west-1";
	f->emit.max_batch = 100;
	f->emit.max_bytes = 4 * 1024 * 1024;
	f->emit.enumerated = only_instances;
	f->emit.send = sink_send;
	f->emit.arg = &f->sink;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	inventory_free(f->inv);
	policy_free(f->policy);
	json_decref(f->sink.resources);
	free(f);
	return 0;
}

static struct inventory_resource *
add(struct fixture *f, enum inventory_source src, const char *type,
    const char *arn, const char *id)
{
	struct inventory_resource *r = NULL;

	assert_int_equal(inventory_get(f->inv, src, type, arn, id, &r,
	    &f->err), 0);
	assert_non_null(r);
	return r;
}

static void
tag(struct inventory_resource *r, enum inventory_source src, const char *k,
    const char *v)
{
	struct errbuf err;

	assert_int_equal(inventory_tag(r, src, k, v, &err), 0);
}

static void
emit(struct fixture *f)
{
	assert_int_equal(inventory_emit(f->inv, &f->emit, &f->tot, &f->err), 0);
}

static json_t *
sent(struct fixture *f, size_t i)
{
	json_t *r = json_array_get(f->sink.resources, i);

	assert_non_null(r);
	return r;
}

/* Seen by both sources: one resource, the enumerator's tags win. */
static void
test_inventory_merge_by_arn(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *a, *b;
	const char *arn = "arn:aws:ec2:eu-west-1:111122223333:instance/i-1";

	a = add(f, INVENTORY_TAGGING, "ec2:instance", arn, "i-1");
	tag(a, INVENTORY_TAGGING, "Owner", "old@example.com");
	inventory_tags_read(a, INVENTORY_TAGGING);
	b = add(f, INVENTORY_ENUMERATOR, "ec2:instance", arn, "i-1");
	assert_ptr_equal(a, b);
	tag(b, INVENTORY_ENUMERATOR, "owner", "new@example.com");
	tag(b, INVENTORY_ENUMERATOR, "Env", "prod");
	inventory_tags_read(b, INVENTORY_ENUMERATOR);
	assert_int_equal(inventory_count(f->inv), 1);
	emit(f);
	assert_int_equal(json_array_size(f->sink.resources), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    sent(f, 0), "tags"), "owner")), "new@example.com");
	assert_null(json_object_get(json_object_get(sent(f, 0), "tags"),
	    "Owner"));
	/* "owner" satisfies Owner (ASCII case folded), Env is allowed. */
	assert_true(json_is_true(json_object_get(sent(f, 0), "compliant")));
	assert_int_equal(f->tot.sent, 1);
	assert_int_equal(f->tot.counted, 1);
	assert_int_equal(f->tot.compliant, 1);
	assert_int_equal(f->tot.violations, 0);
}

/* The enumerator's read failed: the Tagging API's tags are used. */
static void
test_inventory_tagging_fallback(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	const char *arn = "arn:aws:ec2:eu-west-1:111122223333:instance/i-2";
	json_t *v;

	r = add(f, INVENTORY_ENUMERATOR, "ec2:instance", arn, "i-2");
	inventory_tags_failed(r, "AccessDenied: no");
	r = add(f, INVENTORY_TAGGING, "ec2:instance", arn, "i-2");
	tag(r, INVENTORY_TAGGING, "Env", "staging");
	inventory_tags_read(r, INVENTORY_TAGGING);
	emit(f);
	assert_true(json_is_null(json_object_get(sent(f, 0), "tags_error")));
	/* Owner missing, Env not allowed: two violations, in policy order. */
	v = json_object_get(sent(f, 0), "violations");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(v, 0), "violation_type")), "missing_required_tag");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(v, 1), "violation_type")), "invalid_value");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(v, 1), "current_value")), "staging");
	assert_int_equal(f->tot.counted, 1);
	assert_int_equal(f->tot.compliant, 0);
	assert_int_equal(f->tot.violations, 2);
}

/* Nobody could read the tags: reported, in scope, never counted. */
static void
test_inventory_unknown_tags(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	json_t *o;

	r = add(f, INVENTORY_ENUMERATOR, "ec2:instance",
	    "arn:aws:ec2:eu-west-1:111122223333:instance/i-3", "i-3");
	inventory_tags_failed(r, "AccessDenied: User: x is not authorized");
	emit(f);
	o = sent(f, 0);
	assert_true(json_is_null(json_object_get(o, "tags")));
	assert_string_equal(json_string_value(json_object_get(o, "tags_error")),
	    "AccessDenied: User: x is not authorized");
	assert_true(json_is_true(json_object_get(o, "in_scope")));
	assert_true(json_is_false(json_object_get(o, "compliant")));
	assert_int_equal(json_array_size(json_object_get(o, "violations")), 0);
	assert_int_equal(f->tot.sent, 1);
	assert_int_equal(f->tot.counted, 0);
	assert_int_equal(f->tot.violations, 0);
}

/* A Lambda function as the two sources see it, by name. */
static struct inventory_resource *
function(struct fixture *f, enum inventory_source src, const char *name)
{
	char arn[128];

	snprintf(arn, sizeof(arn),
	    "arn:aws:lambda:eu-west-1:111122223333:function:%s", name);
	return add(f, src, "lambda:function", arn, name);
}

static const char *
owner_of(json_t *o)
{
	return json_string_value(json_object_get(json_object_get(o, "tags"),
	    "Owner"));
}

/*
 * The Tagging API listing was read to the end: a function it did not show
 * has no tags ({}, so Owner is missing), even one whose own read failed;
 * one it showed has the tags it showed.
 */
static void
test_inventory_listed_means_untagged(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	json_t *o, *v;

	function(f, INVENTORY_ENUMERATOR, "never-tagged");
	r = function(f, INVENTORY_ENUMERATOR, "tagged");
	r = function(f, INVENTORY_TAGGING, "tagged");
	tag(r, INVENTORY_TAGGING, "Owner", "ann@example.com");
	inventory_tags_read(r, INVENTORY_TAGGING);
	r = function(f, INVENTORY_ENUMERATOR, "read-failed");
	inventory_tags_failed(r, "AccessDenied: no");
	inventory_tagging_listed(f->inv, NULL);
	emit(f);
	assert_int_equal(json_array_size(f->sink.resources), 3);
	o = sent(f, 0);
	assert_true(json_is_object(json_object_get(o, "tags")));
	assert_int_equal(json_object_size(json_object_get(o, "tags")), 0);
	assert_true(json_is_null(json_object_get(o, "tags_error")));
	assert_true(json_is_false(json_object_get(o, "compliant")));
	v = json_object_get(o, "violations");
	assert_int_equal(json_array_size(v), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(v, 0), "violation_type")), "missing_required_tag");
	assert_string_equal(owner_of(sent(f, 1)), "ann@example.com");
	assert_true(json_is_true(json_object_get(sent(f, 1), "compliant")));
	assert_int_equal(json_object_size(json_object_get(sent(f, 2),
	    "tags")), 0);
	assert_int_equal(f->tot.counted, 3);
	assert_int_equal(f->tot.compliant, 1);
	assert_int_equal(f->tot.violations, 2);
}

/*
 * The listing was refused after a first page: what that page showed
 * stands; the rest are unknown with the refusal as the reason, unless
 * their own read failed, whose reason comes first.
 */
static void
test_inventory_listing_refused(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	const char *why = "AccessDeniedException: not authorized to perform: "
	    "tag:GetResources";
	json_t *o;

	r = function(f, INVENTORY_TAGGING, "on-page-one");
	tag(r, INVENTORY_TAGGING, "Owner", "bo@example.com");
	inventory_tags_read(r, INVENTORY_TAGGING);
	function(f, INVENTORY_ENUMERATOR, "on-page-one");
	function(f, INVENTORY_ENUMERATOR, "unseen");
	r = function(f, INVENTORY_ENUMERATOR, "read-failed");
	inventory_tags_failed(r, "DescribeClusters: ACCESS_DENIED");
	inventory_tagging_listed(f->inv, why);
	emit(f);
	assert_int_equal(json_array_size(f->sink.resources), 3);
	assert_string_equal(owner_of(sent(f, 0)), "bo@example.com");
	o = sent(f, 1);
	assert_true(json_is_null(json_object_get(o, "tags")));
	assert_string_equal(json_string_value(json_object_get(o, "tags_error")),
	    why);
	assert_true(json_is_true(json_object_get(o, "in_scope")));
	assert_int_equal(json_array_size(json_object_get(o, "violations")), 0);
	assert_string_equal(json_string_value(json_object_get(sent(f, 2),
	    "tags_error")), "DescribeClusters: ACCESS_DENIED");
	assert_int_equal(f->tot.sent, 3);
	assert_int_equal(f->tot.counted, 1);
	assert_int_equal(f->tot.compliant, 1);
}

/*
 * Gone resources and Tagging-API-only resources of enumerated types are
 * dropped; a Tagging-API-only resource of another type is kept, and out of
 * scope (the policy covers only ec2:instance).
 */
static void
test_inventory_drops_gone_and_stale(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;

	r = add(f, INVENTORY_ENUMERATOR, "ec2:instance",
	    "arn:aws:ec2:eu-west-1:111122223333:instance/i-dead", "i-dead");
	inventory_set_gone(r);
	inventory_tags_read(r, INVENTORY_ENUMERATOR);
	r = add(f, INVENTORY_TAGGING, "ec2:instance",
	    "arn:aws:ec2:eu-west-1:111122223333:instance/i-ghost", "i-ghost");
	inventory_tags_read(r, INVENTORY_TAGGING);
	r = add(f, INVENTORY_TAGGING, "dynamodb:table",
	    "arn:aws:dynamodb:eu-west-1:111122223333:table/t", "t");
	inventory_tags_read(r, INVENTORY_TAGGING);
	emit(f);
	assert_int_equal(json_array_size(f->sink.resources), 1);
	assert_string_equal(json_string_value(json_object_get(sent(f, 0),
	    "resource_type")), "dynamodb:table");
	assert_true(json_is_false(json_object_get(sent(f, 0), "in_scope")));
	assert_int_equal(f->tot.sent, 1);
	assert_int_equal(f->tot.counted, 0);
}

/* 250 resources, 100 per batch: 100, 100, 50, in the order first seen. */
static void
test_inventory_batches_by_count(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	char arn[128], id[32];
	int i;

	for (i = 0; i < 250; i++) {
		snprintf(id, sizeof(id), "i-%04d", i);
		snprintf(arn, sizeof(arn), "arn:aws:ec2:eu-west-1:"
		    "111122223333:instance/%s", id);
		r = add(f, INVENTORY_ENUMERATOR, "ec2:instance", arn, id);
		inventory_tags_read(r, INVENTORY_ENUMERATOR);
	}
	emit(f);
	assert_int_equal(f->sink.batches, 3);
	assert_int_equal(f->sink.sizes[0], 100);
	assert_int_equal(f->sink.sizes[1], 100);
	assert_int_equal(f->sink.sizes[2], 50);
	assert_string_equal(json_string_value(json_object_get(sent(f, 249),
	    "resource_id")), "i-0249");
	/* No tags: both required tags missing on each. */
	assert_int_equal(f->tot.violations, 500);
	assert_int_equal(f->tot.compliant, 0);
}

/* A byte bound smaller than ten resources splits the batch earlier. */
static void
test_inventory_batches_by_bytes(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	char arn[128], id[32];
	size_t i, total = 0;

	for (i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "vol-%02zu", i);
		snprintf(arn, sizeof(arn), "arn:aws:ec2:eu-west-1:"
		    "111122223333:volume/%s", id);
		r = add(f, INVENTORY_ENUMERATOR, "ec2:volume", arn, id);
		tag(r, INVENTORY_ENUMERATOR, "Note", "0123456789abcdef");
		inventory_tags_read(r, INVENTORY_ENUMERATOR);
	}
	f->emit.max_bytes = 1000;
	emit(f);
	assert_true(f->sink.batches > 1);
	for (i = 0; i < f->sink.batches; i++) {
		assert_true(f->sink.bytes[i] <= 1000);
		total += f->sink.sizes[i];
	}
	assert_int_equal(total, 10);
}

static void
test_inventory_rejects_malformed(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;
	char big[INVENTORY_MAX_VALUE + 2], key[32];
	int i;

	assert_int_equal(inventory_get(f->inv, INVENTORY_ENUMERATOR,
	    "ec2:instance", "", "i-1", &r, &f->err), -1);
	assert_string_equal(f->err.msg, "malformed answer: a resource "
	    "without ARN");
	r = add(f, INVENTORY_ENUMERATOR, "ec2:instance", "arn:x", "i-1");
	tag(r, INVENTORY_ENUMERATOR, "k", "v");
	assert_int_equal(inventory_tag(r, INVENTORY_ENUMERATOR, "k", "w",
	    &f->err), -1);
	assert_string_equal(f->err.msg, "malformed answer: arn:x lists a tag "
	    "key twice");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(inventory_tag(r, INVENTORY_ENUMERATOR, "big", big,
	    &f->err), -1);
	assert_int_equal(inventory_set_state(r, big, &f->err), -1);
	for (i = 1; i < INVENTORY_MAX_TAGS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		tag(r, INVENTORY_ENUMERATOR, key, "v");
	}
	assert_int_equal(inventory_tag(r, INVENTORY_ENUMERATOR, "one-more",
	    "v", &f->err), -1);
	assert_string_equal(f->err.msg, "malformed answer: arn:x has more "
	    "than 256 tags");
}

/* Many ARNs, each looked up again: the table grows and finds them all. */
static void
test_inventory_many_arns(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r[5000], *again;
	char arn[128];
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:r:1:volume/v-%d", i);
		r[i] = add(f, INVENTORY_ENUMERATOR, "ec2:volume", arn, "v");
	}
	for (i = 0; i < 5000; i++) {
		snprintf(arn, sizeof(arn), "arn:aws:ec2:r:1:volume/v-%d", i);
		again = add(f, INVENTORY_TAGGING, "ec2:volume", arn, "v");
		assert_ptr_equal(again, r[i]);
	}
	assert_int_equal(inventory_count(f->inv), 5000);
}

/*
 * Text that is not UTF-8 (0xff never occurs in UTF-8) cannot go into a
 * JSON frame: in a tag value or in the state, emit stops with an error
 * naming the resource, after sending the valid resource before it.
 */
static void
test_inventory_refuses_non_utf8(void **state)
{
	struct fixture *f = *state;
	struct inventory_resource *r;

	f->emit.max_batch = 1;
	r = add(f, INVENTORY_ENUMERATOR, "ec2:volume", "arn:v1", "vol-1");
	inventory_tags_read(r, INVENTORY_ENUMERATOR);
	r = add(f, INVENTORY_ENUMERATOR, "ec2:volume", "arn:v2", "vol-2");
	inventory_tags_read(r, INVENTORY_ENUMERATOR);
	tag(r, INVENTORY_ENUMERATOR, "Note", "a\xff");
	assert_int_equal(inventory_emit(f->inv, &f->emit, &f->tot, &f->err),
	    -1);
	assert_string_equal(f->err.msg, "cannot report arn:v2: a field is "
	    "not valid UTF-8");
	assert_int_equal(f->sink.batches, 1);
	assert_string_equal(json_string_value(json_object_get(sent(f, 0),
	    "resource_id")), "vol-1");

	inventory_free(f->inv);
	f->inv = inventory_new();
	r = add(f, INVENTORY_ENUMERATOR, "ec2:volume", "arn:v3", "vol-3");
	inventory_tags_read(r, INVENTORY_ENUMERATOR);
	assert_int_equal(inventory_set_state(r, "x\xff", &f->err), 0);
	assert_int_equal(inventory_emit(f->inv, &f->emit, &f->tot, &f->err),
	    -1);
	assert_string_equal(f->err.msg, "cannot report arn:v3: a field is "
	    "not valid UTF-8");
	assert_int_equal(f->sink.batches, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_inventory_merge_by_arn,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_tagging_fallback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_inventory_listed_means_untagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_listing_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_unknown_tags,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_inventory_drops_gone_and_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_batches_by_count,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_batches_by_bytes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_inventory_rejects_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inventory_many_arns,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_inventory_refuses_non_utf8, setup, teardown),
	};

	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
