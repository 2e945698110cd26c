/*
 * One region's resources, merged by ARN (an open-addressing hash, so a
 * second source finds the resource in constant time and never adds it
 * twice), then evaluated against the policy and streamed in batches bounded
 * by count and by bytes, freeing each resource once it is in a batch.
 *
 * Decisions (worker/tagwarden-worker.8 and the oracle repeat them):
 * - A resource is reported once, whichever sources saw it. It is dropped
 *   when its enumerator lists it in a gone state (terminated instance), and
 *   when only the Tagging API shows it although an enumerator lists its
 *   type: the Tagging API lags behind deletions, the enumerator does not.
 * - Tags come from the enumerator's read when it succeeded, else from the
 *   Tagging API. A resource neither read has no tags when the region's
 *   Tagging API listing was read to the end (it shows every resource that
 *   has or had tags, so Lambda functions and S3 buckets get their tags
 *   from it alone); otherwise its tags are unknown (tags null, tags_error
 *   set): such a resource is reported but neither counted nor compliant,
 *   and has no violations.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "awsjson.h"
#include "errbuf.h"
#include "inventory.h"
#include "policy.h"
#include "proto.h"
#include "xmalloc.h"

#define INVENTORY_NSOURCES	2
#define INVENTORY_MIN_SLOTS	64
/* {"resources":[]} around a batch. */
#define INVENTORY_BATCH_OVERHEAD	16

struct inventory_tag {
	char	*key;
	char	*value;
};

struct inventory_tags {
	struct inventory_tag	*v;
	size_t			 n;
	int			 read;	/* that source's read succeeded */
};

struct inventory_resource {
	char			*arn;
	char			*type;
	char			*id;
	char			*state;
	char			*created;
	char			*tags_error;
	struct inventory_tags	 tags[INVENTORY_NSOURCES];
	unsigned		 seen;	/* bit per enum inventory_source */
	int			 gone;
};

struct inventory {
	struct inventory_resource	**v;	/* in the order first seen */
	size_t				  n;
	size_t				  cap;
	struct inventory_resource	**slots; /* hash by ARN */
	size_t				  nslots; /* a power of two */
	int				  listed; /* Tagging API read to the end */
	char				 *listing_error; /* its refusal */
};

/* The tags of a resource absent from a complete Tagging API listing. */
static const struct inventory_tags inventory_no_tags = { NULL, 0, 1 };

struct inventory *
inventory_new(void)
{
	struct inventory *inv;

	inv = xcalloc(1, sizeof(*inv));
	inv->nslots = INVENTORY_MIN_SLOTS;
	inv->slots = xcalloc(inv->nslots, sizeof(*inv->slots));
	return inv;
}

static void
inventory_resource_free(struct inventory_resource *r)
{
	size_t s, i;

	if (r == NULL)
		return;
	for (s = 0; s < INVENTORY_NSOURCES; s++) {
		for (i = 0; i < r->tags[s].n; i++) {
			free(r->tags[s].v[i].key);
			free(r->tags[s].v[i].value);
		}
		free(r->tags[s].v);
	}
	free(r->arn);
	free(r->type);
	free(r->id);
	free(r->state);
	free(r->created);
	free(r->tags_error);
	free(r);
}

void
inventory_free(struct inventory *inv)
{
	size_t i;

	if (inv == NULL)
		return;
	for (i = 0; i < inv->n; i++)
		inventory_resource_free(inv->v[i]);
	free(inv->v);
	free(inv->slots);
	free(inv->listing_error);
	free(inv);
}

size_t
inventory_count(const struct inventory *inv)
{
	return inv->n;
}

/* FNV-1a, 64 bits. */
static uint64_t
inventory_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* The slot holding arn, or the empty slot where it would go. */
static size_t
inventory_slot(const struct inventory *inv, const char *arn)
{
	size_t mask = inv->nslots - 1, i = inventory_hash(arn) & mask;

	while (inv->slots[i] != NULL && strcmp(inv->slots[i]->arn, arn) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Kept at most half full, so probes stay short. */
static void
inventory_grow(struct inventory *inv)
{
	size_t i;

	if (2 * (inv->n + 1) <= inv->nslots)
		return;
	free(inv->slots);
	inv->nslots *= 2;
	inv->slots = xcalloc(inv->nslots, sizeof(*inv->slots));
	for (i = 0; i < inv->n; i++)
		inv->slots[inventory_slot(inv, inv->v[i]->arn)] = inv->v[i];
}

static int
inventory_check(const char *what, const char *s, size_t max,
    struct errbuf *err)
{
	size_t len;

	if (s == NULL || *s == '\0')
		return err_set(err, "malformed answer: a resource without %s",
		    what);
	if ((len = strlen(s)) > max)
		return err_set(err, "malformed answer: a resource %s of %zu "
		    "bytes (at most %zu expected)", what, len, max);
	return 0;
}

int
inventory_get(struct inventory *inv, enum inventory_source src,
    const char *type, const char *arn, const char *id,
    struct inventory_resource **out, struct errbuf *err)
{
	struct inventory_resource *r;
	size_t slot;

	if (inventory_check("ARN", arn, INVENTORY_MAX_ARN, err) == -1 ||
	    inventory_check("id", id, INVENTORY_MAX_ID, err) == -1 ||
	    inventory_check("type", type, INVENTORY_MAX_FIELD, err) == -1)
		return -1;
	slot = inventory_slot(inv, arn);
	if ((r = inv->slots[slot]) == NULL) {
		if (inv->n == INVENTORY_MAX_RESOURCES)
			return err_set(err, "more than %d resources in one "
			    "region: refusing the rest", INVENTORY_MAX_RESOURCES);
		inventory_grow(inv);
		slot = inventory_slot(inv, arn);
		r = xcalloc(1, sizeof(*r));
		r->arn = xstrdup(arn);
		r->type = xstrdup(type);
		r->id = xstrdup(id);
		inv->slots[slot] = r;
		if (inv->n == inv->cap) {
			inv->cap = inv->cap == 0 ? 64 : inv->cap * 2;
			inv->v = xreallocarray(inv->v, inv->cap,
			    sizeof(*inv->v));
		}
		inv->v[inv->n++] = r;
	} else if (src == INVENTORY_ENUMERATOR) {
		/* The service's own id wins over one cut from the ARN. */
		free(r->id);
		r->id = xstrdup(id);
	}
	r->seen |= 1U << src;
	*out = r;
	return 0;
}

static int
inventory_set_field(char **field, const char *what, const char *s,
    struct errbuf *err)
{
	free(*field);
	*field = NULL;
	if (s == NULL || *s == '\0')
		return 0;
	if (strlen(s) > INVENTORY_MAX_FIELD)
		return err_set(err, "malformed answer: a resource %s of %zu "
		    "bytes (at most %d expected)", what, strlen(s),
		    INVENTORY_MAX_FIELD);
	*field = xstrdup(s);
	return 0;
}

int
inventory_set_state(struct inventory_resource *r, const char *s,
    struct errbuf *err)
{
	return inventory_set_field(&r->state, "state", s, err);
}

int
inventory_set_created(struct inventory_resource *r, const char *s,
    struct errbuf *err)
{
	return inventory_set_field(&r->created, "creation time", s, err);
}

void
inventory_set_gone(struct inventory_resource *r)
{
	r->gone = 1;
}

void
inventory_tags_read(struct inventory_resource *r, enum inventory_source src)
{
	r->tags[src].read = 1;
}

int
inventory_has_tags(const struct inventory_resource *r,
    enum inventory_source src)
{
	return r->tags[src].read;
}

int
inventory_tag(struct inventory_resource *r, enum inventory_source src,
    const char *key, const char *value, struct errbuf *err)
{
	struct inventory_tags *t = &r->tags[src];
	size_t i;

	if (key == NULL || *key == '\0' || strlen(key) > INVENTORY_MAX_KEY)
		return err_set(err, "malformed answer: %s has a tag key that "
		    "is empty or longer than %d bytes", r->arn,
		    INVENTORY_MAX_KEY);
	if (value == NULL || strlen(value) > INVENTORY_MAX_VALUE)
		return err_set(err, "malformed answer: %s has a tag value "
		    "that is missing or longer than %d bytes", r->arn,
		    INVENTORY_MAX_VALUE);
	if (t->n == INVENTORY_MAX_TAGS)
		return err_set(err, "malformed answer: %s has more than %d "
		    "tags", r->arn, INVENTORY_MAX_TAGS);
	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].key, key) == 0)
			return err_set(err, "malformed answer: %s lists a tag "
			    "key twice", r->arn);
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	t->v[t->n].key = xstrdup(key);
	t->v[t->n].value = xstrdup(value);
	t->n++;
	return 0;
}

void
inventory_tags_failed(struct inventory_resource *r, const char *why)
{
	free(r->tags_error);
	r->tags_error = xstrdup(why);
}

void
inventory_tagging_listed(struct inventory *inv, const char *why)
{
	free(inv->listing_error);
	inv->listing_error = why != NULL ? xstrdup(why) : NULL;
	inv->listed = why == NULL;
}

/* --- evaluation and batches --- */

static int
inventory_keep(const struct inventory_resource *r,
    const struct inventory_emit *e)
{
	if (r->gone)
		return 0;
	return !(r->seen == 1U << INVENTORY_TAGGING && e->enumerated != NULL &&
	    e->enumerated(r->type));
}

static const struct inventory_tags *
inventory_pick_tags(const struct inventory *inv,
    const struct inventory_resource *r)
{
	if (r->tags[INVENTORY_ENUMERATOR].read)
		return &r->tags[INVENTORY_ENUMERATOR];
	if (r->tags[INVENTORY_TAGGING].read)
		return &r->tags[INVENTORY_TAGGING];
	if (inv->listed)
		return &inventory_no_tags;
	return NULL;
}

/* Why the tags are unknown: the resource's own failed read comes first. */
static const char *
inventory_tags_why(const struct inventory *inv,
    const struct inventory_resource *r)
{
	if (r->tags_error != NULL)
		return r->tags_error;
	if (inv->listing_error != NULL)
		return inv->listing_error;
	return "tags were not read";
}

static json_t *
inventory_tags_json(const struct inventory_tags *t)
{
	json_t *o, *v;
	size_t i;

	if ((o = json_object()) == NULL)
		return NULL;
	for (i = 0; i < t->n; i++) {
		if ((v = json_string(t->v[i].value)) == NULL ||
		    json_object_set_new(o, t->v[i].key, v) == -1) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *
inventory_violations_json(const struct policy_violations *pv)
{
	json_t *a, *v;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < pv->count; i++) {
		if ((v = policy_violation_row(&pv->v[i])) == NULL ||
		    json_array_append_new(a, v) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * The verdict for tags that were read. Out of scope: nothing counted.
 * Tags unknown (NULL): in scope if the policy covers the type, never
 * counted or compliant.
 */
static enum policy_verdict
inventory_evaluate(const struct inventory_resource *r,
    const struct inventory_tags *t, const struct inventory_emit *e,
    struct policy_violations *pv)
{
	struct policy_tag *pt;
	enum policy_verdict verdict;
	size_t i;

	pv->v = NULL;
	pv->count = 0;
	if (t == NULL)
		return policy_applies(e->policy, r->type) ?
		    POLICY_NONCOMPLIANT : POLICY_OUT_OF_SCOPE;
	pt = xcalloc(t->n + 1, sizeof(*pt));
	for (i = 0; i < t->n; i++) {
		pt[i].key = t->v[i].key;
		pt[i].value = t->v[i].value;
	}
	verdict = policy_evaluate(e->policy, r->type, pt, t->n, pv);
	free(pt);
	return verdict;
}

static void
inventory_count_verdict(struct inventory_totals *tot, enum policy_verdict v,
    const struct inventory_tags *t, const struct policy_violations *pv)
{
	tot->sent++;
	if (t == NULL || v == POLICY_OUT_OF_SCOPE)
		return;
	tot->counted++;
	if (v == POLICY_COMPLIANT)
		tot->compliant++;
	tot->violations += (long long)pv->count;
}

static json_t *
inventory_string_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/*
 * The resource row (common/proto.h), built value by value rather than
 * with json_pack, whose format parsing cost more than the row itself.
 * tags and viol are borrowed; a NULL value (text that is not UTF-8) fails.
 */
static json_t *
inventory_fields_json(const struct inventory *inv,
    const struct inventory_resource *r, const struct inventory_emit *e,
    const struct inventory_tags *t, enum policy_verdict verdict,
    json_t *tags, json_t *viol)
{
	json_t *v[PROTO_RES_NFIELDS];

	v[PROTO_RES_ARN] = json_string(r->arn);
	v[PROTO_RES_ID] = json_string(r->id);
	v[PROTO_RES_TYPE] = json_string(r->type);
	v[PROTO_RES_REGION] = json_string(e->region);
	v[PROTO_RES_TAGS] = json_incref(t != NULL ? tags : json_null());
	v[PROTO_RES_TAGS_ERROR] = t != NULL ? json_null() :
	    json_string(inventory_tags_why(inv, r));
	v[PROTO_RES_CREATED_AT] = inventory_string_or_null(r->created);
	v[PROTO_RES_STATE] = inventory_string_or_null(r->state);
	v[PROTO_RES_IN_SCOPE] = json_boolean(verdict != POLICY_OUT_OF_SCOPE);
	v[PROTO_RES_COMPLIANT] = json_boolean(t != NULL &&
	    verdict == POLICY_COMPLIANT);
	v[PROTO_RES_VIOLATIONS] = json_incref(viol);
	return awsjson_row(v, PROTO_RES_NFIELDS);
}

static json_t *
inventory_resource_json(const struct inventory *inv,
    const struct inventory_resource *r, const struct inventory_emit *e,
    struct inventory_totals *tot, struct errbuf *err)
{
	const struct inventory_tags *t = inventory_pick_tags(inv, r);
	struct policy_violations pv;
	enum policy_verdict v;
	json_t *tags = NULL, *viol, *o;

	v = inventory_evaluate(r, t, e, &pv);
	viol = inventory_violations_json(&pv);
	if (t != NULL)
		tags = inventory_tags_json(t);
	o = inventory_fields_json(inv, r, e, t, v, tags, viol);
	json_decref(tags);
	json_decref(viol);
	if (o == NULL) {
		policy_violations_free(&pv);
		err_set(err, "cannot report %s: a field is not valid UTF-8",
		    r->arn);
		return NULL;
	}
	inventory_count_verdict(tot, v, t, &pv);
	policy_violations_free(&pv);
	return o;
}

/*
 * A batch is kept as the text of its body, {"resources":[...]}: each
 * resource is dumped once, into the scratch buffer, and copied in. The
 * frame used to be a JSON array dumped three times over (once to size
 * each resource, twice by proto_encode), the worker's largest CPU cost.
 * Compact jansson output of the array is these texts joined by commas, so
 * the bytes sent are the same.
 */
#define INVENTORY_BATCH_OPEN	"{\"resources\":["
#define INVENTORY_BATCH_CLOSE	"]}"

struct inventory_text {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

struct inventory_batch {
	struct inventory_text	 body;
	struct inventory_text	 item;	/* one resource, reused */
	size_t			 count;
	size_t			 bytes;	/* as sized before: 16 + (item + 1)s */
};

static void
inventory_text_add(struct inventory_text *t, const char *p, size_t len)
{
	if (t->len + len + 1 > t->cap) {
		t->cap = t->cap == 0 ? 4096 : t->cap;
		while (t->len + len + 1 > t->cap)
			t->cap *= 2;
		t->buf = xreallocarray(t->buf, t->cap, 1);
	}
	memcpy(t->buf + t->len, p, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

static int
inventory_text_dump(const char *p, size_t len, void *arg)
{
	inventory_text_add(arg, p, len);
	return 0;
}

static void
inventory_batch_reset(struct inventory_batch *b)
{
	b->body.len = 0;
	inventory_text_add(&b->body, INVENTORY_BATCH_OPEN,
	    sizeof(INVENTORY_BATCH_OPEN) - 1);
	b->count = 0;
	b->bytes = INVENTORY_BATCH_OVERHEAD;
}

static int
inventory_flush(struct inventory_batch *b, const struct inventory_emit *e,
    struct errbuf *err)
{
	int rc;

	if (b->count == 0)
		return 0;
	inventory_text_add(&b->body, INVENTORY_BATCH_CLOSE,
	    sizeof(INVENTORY_BATCH_CLOSE) - 1);
	rc = e->send(e->arg, b->body.buf, b->body.len, err);
	inventory_batch_reset(b);
	return rc;
}

static int
inventory_add_batch(struct inventory_batch *b, json_t *o,
    const struct inventory_emit *e, const char *arn, struct errbuf *err)
{
	size_t size;
	int rc;

	b->item.len = 0;
	rc = json_dump_callback(o, inventory_text_dump, &b->item,
	    JSON_COMPACT);
	json_decref(o);
	size = rc == 0 ? b->item.len : 0;
	if (size == 0 || size + INVENTORY_BATCH_OVERHEAD > e->max_bytes)
		return err_set(err, "cannot report %s: its JSON would be %zu "
		    "bytes, more than a frame holds", arn, size);
	if (b->bytes + size + 1 > e->max_bytes &&
	    inventory_flush(b, e, err) == -1)
		return -1;
	if (b->count > 0)
		inventory_text_add(&b->body, ",", 1);
	inventory_text_add(&b->body, b->item.buf, size);
	b->count++;
	b->bytes += size + 1;
	if (b->count >= e->max_batch)
		return inventory_flush(b, e, err);
	return 0;
}

int
inventory_emit(struct inventory *inv, const struct inventory_emit *e,
    struct inventory_totals *tot, struct errbuf *err)
{
	struct inventory_batch b;
	struct inventory_resource *r;
	json_t *o;
	size_t i;
	int rc = 0;

	memset(&b, 0, sizeof(b));
	inventory_batch_reset(&b);
	/* Lookups end here: the slots would point at freed resources. */
	memset(inv->slots, 0, inv->nslots * sizeof(*inv->slots));
	for (i = 0; i < inv->n && rc == 0; i++) {
		r = inv->v[i];
		inv->v[i] = NULL;
		if (inventory_keep(r, e)) {
			if ((o = inventory_resource_json(inv, r, e, tot,
			    err)) == NULL)
				rc = -1;
			else
				rc = inventory_add_batch(&b, o, e, r->arn, err);
		}
		inventory_resource_free(r);
	}
	if (rc == 0)
		rc = inventory_flush(&b, e, err);
	free(b.body.buf);
	free(b.item.buf);
	return rc;
}
