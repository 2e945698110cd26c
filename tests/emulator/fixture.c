/*
 * Loads and validates a fixture file (format: tests/emulator/README.md)
 * into the in-memory model of emulator.h, and answers lookups on it. The
 * JSON tree is dropped after loading; resources are indexed per account and
 * region (contiguous slices) and by ARN (a sorted array).
 *
 * jansson allocates the parsed tree from a bump pool while loading: a
 * 200,000-resource fixture is millions of small objects, and dropping the
 * pool at once halves the peak memory and the load time compared with
 * malloc and json_decref. The few subtrees kept (attributes, policy
 * documents) are deep-copied to the normal allocator before the pool goes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fixture.h"
#include "xmalloc.h"

static const char *const fixture_keys[] = {
	"description", "version", "accounts", "organization", "costs",
	"web_identities", "faults", "pagination", NULL
};

static struct pool *fixture_json_pool;	/* jansson's, during a load only */

static void *
fixture_json_malloc(size_t n)
{
	return pool_alloc(fixture_json_pool, n);
}

static void
fixture_json_free(void *p)
{
	(void)p;	/* the pool is dropped whole */
}

/* Move the kept subtrees out of the pool, then drop it. */
static void
fixture_json_done(struct emu_fixture *fx)
{
	size_t i;

	json_set_alloc_funcs(malloc, free);
	for (i = 0; i < fx->nresources; i++)
		if (fx->resources[i].attrs != NULL)
			fx->resources[i].attrs =
			    json_deep_copy(fx->resources[i].attrs);
	for (i = 0; i < fx->npolicies; i++)
		if (fx->policies[i].content != NULL)
			fx->policies[i].content =
			    json_deep_copy(fx->policies[i].content);
	pool_free(fixture_json_pool);
	fixture_json_pool = NULL;
}

/* json_load_file reads a byte at a time; whole buffers are 3x faster. */
static size_t
fixture_read(void *buf, size_t len, void *arg)
{
	size_t n = fread(buf, 1, len, arg);

	return n == 0 && ferror((FILE *)arg) ? (size_t)-1 : n;
}

static json_t *
fixture_json(const char *path, struct errbuf *err)
{
	json_error_t jerr;
	json_t *root;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		err_set(err, "%s; expected a readable fixture file",
		    strerror(errno));
		return NULL;
	}
	root = json_load_callback(fixture_read, f, JSON_REJECT_DUPLICATES,
	    &jerr);
	fclose(f);
	if (root == NULL)
		err_set(err, "line %d column %d: %s; expected a JSON fixture",
		    jerr.line, jerr.column, jerr.text);
	return root;
}

static int
fixture_arn_cmp(const void *a, const void *b)
{
	const struct emu_resource *const *ra = a, *const *rb = b;

	return strcmp((*ra)->arn, (*rb)->arn);
}

static int
fixture_index(struct emu_fixture *fx, struct errbuf *err)
{
	size_t i;

	fx->by_arn = xreallocarray(NULL, fx->nresources + 1,
	    sizeof(*fx->by_arn));
	for (i = 0; i < fx->nresources; i++)
		fx->by_arn[i] = &fx->resources[i];
	qsort(fx->by_arn, fx->nresources, sizeof(*fx->by_arn),
	    fixture_arn_cmp);
	for (i = 1; i < fx->nresources; i++)
		if (strcmp(fx->by_arn[i - 1]->arn, fx->by_arn[i]->arn) == 0)
			return err_set(err, "resource ARN %s appears twice "
			    "(accounts %s and %s); expected unique ids per "
			    "account and type", fx->by_arn[i]->arn,
			    fx->by_arn[i - 1]->account->id,
			    fx->by_arn[i]->account->id);
	return 0;
}

/* Account ids and access keys are unique; at most one management account. */
static int
fixture_unique(const struct emu_fixture *fx, size_t n, struct errbuf *err)
{
	const struct emu_account *a = &fx->accounts[n], *b;
	size_t i;

	for (i = 0; i < n; i++) {
		b = &fx->accounts[i];
		if (strcmp(a->id, b->id) == 0)
			return err_set(err, "accounts[%zu].id: \"%s\": already "
			    "used by accounts[%zu]; expected unique ids", n,
			    a->id, i);
		if (a->management && b->management)
			return err_set(err, "accounts[%zu].management: true, "
			    "but accounts[%zu] is the management account; "
			    "expected at most one", n, i);
		if (a->access_key_id != NULL && b->access_key_id != NULL &&
		    strcmp(a->access_key_id, b->access_key_id) == 0)
			return err_set(err, "accounts[%zu].credentials."
			    "access_key_id: already used by accounts[%zu]; "
			    "expected unique keys", n, i);
	}
	return 0;
}

static int
fixture_accounts(struct emu_fixture *fx, const json_t *list,
    struct errbuf *err)
{
	char path[FX_PATH];
	size_t i, next = 0;
	json_t *v;

	if (fxjson_is_array(list, "accounts", err) == -1)
		return -1;
	if (json_array_size(list) == 0)
		return err_set(err, "accounts: []: expected at least one "
		    "account");
	json_array_foreach(list, i, v)
		fx->nresources += fixture_account_count_resources(v);
	fx->resources = xcalloc(fx->nresources + 1, sizeof(*fx->resources));
	fx->accounts = xcalloc(json_array_size(list), sizeof(*fx->accounts));
	json_array_foreach(list, i, v) {
		fxjson_path(path, sizeof(path), "accounts[%zu]", i);
		fx->naccounts = i + 1;
		if (fixture_account_load(fx, &fx->accounts[i], v, path,
		    err) == -1 || fixture_resources_load(fx, &fx->accounts[i],
		    json_object_get(v, "resources"), &next, path, err) == -1 ||
		    fixture_unique(fx, i, err) == -1)
			return -1;
	}
	return 0;
}

static int
fixture_parse(struct emu_fixture *fx, const json_t *root, struct errbuf *err)
{
	long long version;

	if (fxjson_is_object(root, "(top level)", err) == -1 ||
	    fxjson_keys(root, fixture_keys, "(top level)", err) == -1 ||
	    fxjson_int(root, "version", 1, 1, 1, "(top level)", &version,
	    err) == -1)
		return -1;
	if (json_object_get(root, "accounts") == NULL)
		return err_set(err, "accounts: missing; expected a list of "
		    "accounts");
	if (fixture_accounts(fx, json_object_get(root, "accounts"), err) == -1 ||
	    fixture_extra_load(fx, root, err) == -1)
		return -1;
	return fixture_index(fx, err);
}

struct emu_fixture *
fixture_load(const char *path, struct errbuf *err)
{
	struct emu_fixture *fx;
	json_t *root;
	int rc;

	fx = xcalloc(1, sizeof(*fx));
	fx->pool = pool_new();
	TAILQ_INIT(&fx->faults);
	fixture_json_pool = pool_new();
	json_set_alloc_funcs(fixture_json_malloc, fixture_json_free);
	if ((root = fixture_json(path, err)) == NULL)
		rc = -1;
	else
		rc = fixture_parse(fx, root, err);
	fixture_json_done(fx);
	if (rc == -1) {
		err_prefix(err, "%s", path);
		fixture_free(fx);
		return NULL;
	}
	return fx;
}

void
fixture_free(struct emu_fixture *fx)
{
	size_t i;

	if (fx == NULL)
		return;
	for (i = 0; i < fx->nresources; i++) {
		json_decref(fx->resources[i].attrs);
		free(fx->resources[i].tagging_json);
	}
	for (i = 0; i < fx->npolicies; i++)
		json_decref(fx->policies[i].content);
	fault_free_all(&fx->faults);
	free(fx->by_arn);
	free(fx->resources);
	free(fx->accounts);
	free(fx->costs);
	free(fx->policies);
	free(fx->web_ids);
	pool_free(fx->pool);
	free(fx);
}

struct emu_account *
fixture_account(const struct emu_fixture *fx, const char *id)
{
	size_t i;

	for (i = 0; i < fx->naccounts; i++)
		if (strcmp(fx->accounts[i].id, id) == 0)
			return &fx->accounts[i];
	return NULL;
}

struct emu_region *
fixture_region(const struct emu_account *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nregions; i++)
		if (strcmp(a->regions[i].name, name) == 0)
			return &a->regions[i];
	return NULL;
}

/* A region the account does not list at all is not enabled either. */
int
fixture_region_enabled(const struct emu_account *a, const char *name)
{
	const struct emu_region *r = fixture_region(a, name);

	return r != NULL && r->status != EMU_REGION_NOT_OPTED_IN;
}

struct emu_resource *
fixture_by_arn(const struct emu_fixture *fx, const char *arn)
{
	struct emu_resource key, *kp = &key, **found;

	key.arn = arn;
	found = bsearch(&kp, fx->by_arn, fx->nresources, sizeof(*fx->by_arn),
	    fixture_arn_cmp);
	return found == NULL ? NULL : *found;
}

/* "arn:aws:iam::123456789012:role/..." names its account at offset 13. */
struct emu_role *
fixture_role_by_arn(const struct emu_fixture *fx, const char *arn)
{
	struct emu_account *a;
	char id[13];
	size_t i;

	if (strncmp(arn, "arn:aws:iam::", 13) != 0 || strlen(arn) < 26 ||
	    arn[25] != ':')
		return NULL;
	memcpy(id, arn + 13, 12);
	id[12] = '\0';
	if ((a = fixture_account(fx, id)) == NULL)
		return NULL;
	for (i = 0; i < a->nroles; i++)
		if (strcmp(a->roles[i].arn, arn) == 0)
			return &a->roles[i];
	return NULL;
}
