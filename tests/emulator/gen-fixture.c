/*
 * gen-fixture: writes a large, deterministic emulator fixture from a seed.
 * Output is streamed with stdio (no JSON tree), so 200,000 resources take
 * well under a second. Tags are compliant, invalid or missing against the
 * shipped policy's tag names (Owner, Environment, Application, CostCenter);
 * see tests/emulator/README.md for the exact mix.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emulator.h"
#include "strnum.h"

#define GEN_FIRST_ACCOUNT	100000000000ULL
#define GEN_ROLE		"FinOpsTagComplianceReadOnly"
#define GEN_EPOCH		1640995200	/* 2022-01-01T00:00:00Z */
#define GEN_SPAN		(3 * 365 * 86400)
#define NROWS(t)		(sizeof(t) / sizeof((t)[0]))

struct gen {
	long		 accounts;
	long		 regions;
	long long	 resources;
	double		 untagged;
	double		 invalid;
	uint64_t	 seed;
	uint64_t	 rng;
	uint64_t	 serial;	/* unique ids */
	FILE		*out;
};

struct gen_type {
	const char	*type;
	int		 weight;	/* percent */
	const char	*id_prefix;
	double		 cost_min;
	double		 cost_max;	/* USD per day */
};

static const struct gen_type gen_types[] = {
	{ "ec2:instance", 30, "i-0", 0.5, 50 },
	{ "ec2:volume", 30, "vol-0", 0.1, 5 },
	{ "s3:bucket", 8, NULL, 0.01, 20 },
	{ "rds:db", 7, "db-", 2, 80 },
	{ "lambda:function", 15, "fn-", 0, 3 },
	{ "ecs:cluster", 10, "cluster-", 0, 10 },
};

static const char *const gen_people[] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
	"ivan", "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil",
};
static const char *const gen_envs[] = {
	"production", "staging", "development", "test",
};
static const char *const gen_bad_envs[] = {
	"prod", "Production", "dev", "qa", "PROD",
};
static const char *const gen_apps[] = {
	"billing", "checkout-api", "data-lake", "auth-service", "web-frontend",
	"search", "etl-jobs", "reporting", "ml-training", "inventory",
};
static const char *const gen_bad_apps[] = {
	"Billing", "checkout_api", "Data Lake", "AUTH", "web.frontend",
};

static uint64_t
gen_next(struct gen *g)
{
	return ids_next(&g->rng);
}

static double
gen_unit(struct gen *g)
{
	return (double)(gen_next(g) >> 11) / 9007199254740992.0;	/* 2^53 */
}

#define PICK(g, t)	((t)[gen_next(g) % NROWS(t)])

static void __attribute__((noreturn))
gen_usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "gen-fixture: %s\n", why);
	fprintf(stderr, "usage: gen-fixture --accounts N --regions R "
	    "--resources M --untagged-fraction F --invalid-fraction F "
	    "--seed S [--out FILE]\n");
	exit(2);
}

static double
gen_fraction(const char *s, const char *name)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || end == s || !(v >= 0 && v <= 1)) {
		fprintf(stderr, "gen-fixture: %s=%s: expected a number 0..1\n",
		    name, s);
		exit(2);
	}
	return v;
}

static long long
gen_int(const char *s, const char *name, long long min, long long max)
{
	const char *errstr;
	long long v;

	v = strnum(s, min, max, &errstr);
	if (errstr != NULL) {
		fprintf(stderr, "gen-fixture: %s=%s is %s; expected %lld..%lld\n",
		    name, s, errstr, min, max);
		exit(2);
	}
	return v;
}

static void
gen_output(struct gen *g, const char *out)
{
	if (g->untagged + g->invalid > 1)
		gen_usage("--untagged-fraction plus --invalid-fraction must be "
		    "at most 1");
	g->out = stdout;
	if (out != NULL && (g->out = fopen(out, "w")) == NULL) {
		fprintf(stderr, "gen-fixture: %s: %s\n", out, strerror(errno));
		exit(1);
	}
	g->rng = g->seed;
}

static void
gen_options(int argc, char **argv, struct gen *g)
{
	static const struct option longopts[] = {
		{ "accounts", required_argument, NULL, 'a' },
		{ "regions", required_argument, NULL, 'r' },
		{ "resources", required_argument, NULL, 'm' },
		{ "untagged-fraction", required_argument, NULL, 'u' },
		{ "invalid-fraction", required_argument, NULL, 'i' },
		{ "seed", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *out = NULL;
	int ch;

	memset(g, 0, sizeof(*g));
	g->accounts = 10;
	g->regions = 3;
	g->resources = 1000;	/* defaults, documented in README.md */
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			g->accounts = (long)gen_int(optarg, "--accounts", 1,
			    100000);
			break;
		case 'r':
			g->regions = (long)gen_int(optarg, "--regions", 1,
			    (long long)regions_nstandard);
			break;
		case 'm':
			g->resources = gen_int(optarg, "--resources", 0,
			    100000000);
			break;
		case 'u':
			g->untagged = gen_fraction(optarg, "--untagged-fraction");
			break;
		case 'i':
			g->invalid = gen_fraction(optarg, "--invalid-fraction");
			break;
		case 's':
			g->seed = (uint64_t)gen_int(optarg, "--seed", 0,
			    INT64_MAX);
			break;
		case 'o':
			out = optarg;
			break;
		default:
			gen_usage(NULL);
		}
	}
	if (optind != argc)
		gen_usage("unexpected arguments");
	gen_output(g, out);
}

/* 12 digits: --accounts is at most 100000, far below the 13th digit. */
static void
gen_account_id(long a, char out[13])
{
	unsigned long long id = GEN_FIRST_ACCOUNT + (unsigned long long)a + 1;

	snprintf(out, 13, "%012llu", id % 1000000000000ULL);
}

/* Compliant with the shipped policy: Owner, Environment, Application. */
static void
gen_tags_valid(struct gen *g)
{
	fprintf(g->out, "\"tags\":{\"Owner\":\"%s@example.com\","
	    "\"Environment\":\"%s\",\"Application\":\"%s\"", PICK(g, gen_people),
	    PICK(g, gen_envs), PICK(g, gen_apps));
	if (gen_next(g) % 2 == 0)
		fprintf(g->out, ",\"CostCenter\":\"CC-%04u\"",
		    (unsigned)(gen_next(g) % 10000));
	fprintf(g->out, "}");
}

/* One violation each: a missing key, a bad value, or a wrongly cased key. */
static void
gen_tags_invalid(struct gen *g)
{
	const char *who = PICK(g, gen_people), *env = PICK(g, gen_envs);
	const char *app = PICK(g, gen_apps);

	switch (gen_next(g) % 5) {
	case 0:
		fprintf(g->out, "\"tags\":{\"Environment\":\"%s\","
		    "\"Application\":\"%s\"}", env, app);
		break;
	case 1:
		fprintf(g->out, "\"tags\":{\"Owner\":\"%s\",\"Environment\":"
		    "\"%s\",\"Application\":\"%s\"}", who, env, app);
		break;
	case 2:
		fprintf(g->out, "\"tags\":{\"Owner\":\"%s@example.com\","
		    "\"Environment\":\"%s\",\"Application\":\"%s\"}", who,
		    PICK(g, gen_bad_envs), app);
		break;
	case 3:
		fprintf(g->out, "\"tags\":{\"Owner\":\"%s@example.com\","
		    "\"Environment\":\"%s\",\"Application\":\"%s\"}", who, env,
		    PICK(g, gen_bad_apps));
		break;
	default:
		fprintf(g->out, "\"tags\":{\"owner\":\"%s@example.com\","
		    "\"environment\":\"%s\",\"Application\":\"%s\"}", who, env,
		    app);
	}
}

/* Untagged: half never tagged (invisible to GetResources), half cleared. */
static void
gen_tags(struct gen *g)
{
	double u = gen_unit(g);

	if (u < g->untagged) {
		if (gen_next(g) % 2 == 0)
			fprintf(g->out, "\"ever_tagged\":false");
		else
			fprintf(g->out, "\"tags\":{},\"ever_tagged\":true");
	} else if (u < g->untagged + g->invalid)
		gen_tags_invalid(g);
	else
		gen_tags_valid(g);
}

static const struct gen_type *
gen_type(struct gen *g)
{
	int roll = (int)(gen_next(g) % 100), sum = 0;
	size_t i;

	for (i = 0; i < NROWS(gen_types) - 1; i++) {
		sum += gen_types[i].weight;
		if (roll < sum)
			break;
	}
	return &gen_types[i];
}

static const char *
gen_state(struct gen *g, const char *type)
{
	unsigned roll = (unsigned)(gen_next(g) % 100);

	if (strcmp(type, "ec2:instance") == 0)
		return roll < 70 ? "running" : roll < 90 ? "stopped" :
		    "terminated";
	if (strcmp(type, "ec2:volume") == 0)
		return roll < 75 ? "in-use" : "available";
	return NULL;
}

/* Distinct for distinct serials: splitmix64 is a bijection of its state. */
static uint64_t
gen_unique(struct gen *g)
{
	uint64_t state = g->seed + ++g->serial * 0x9e3779b97f4a7c15ULL;

	return ids_next(&state);
}

static void
gen_id(struct gen *g, const struct gen_type *t, const char *acct, char *out,
    size_t outsz)
{
	uint64_t u = gen_unique(g);
	const char *app = PICK(g, gen_apps);

	if (strcmp(t->type, "s3:bucket") == 0)
		snprintf(out, outsz, "tw-%s-%s-%" PRIu64, acct, app, g->serial);
	else if (strncmp(t->type, "ec2:", 4) == 0)
		snprintf(out, outsz, "%s%016" PRIx64, t->id_prefix, u);
	else
		snprintf(out, outsz, "%s%s-%" PRIu64, t->id_prefix, app,
		    g->serial);
}

static void
gen_resource(struct gen *g, const char *acct, int first)
{
	const struct gen_type *t = gen_type(g);
	const char *state = gen_state(g, t->type);
	char id[128], created[32];

	gen_id(g, t, acct, id, sizeof(id));
	isotime_format(GEN_EPOCH + (time_t)(gen_next(g) % GEN_SPAN), 0,
	    created);
	fprintf(g->out, "%s\n{\"type\":\"%s\",\"id\":\"%s\",", first ? "" : ",",
	    t->type, id);
	if (state != NULL)
		fprintf(g->out, "\"state\":\"%s\",", state);
	fprintf(g->out, "\"created\":\"%s\",\"daily_cost\":%.2f,", created,
	    t->cost_min + gen_unit(g) * (t->cost_max - t->cost_min));
	gen_tags(g);
	fprintf(g->out, "}");
}

static void
gen_resources(struct gen *g, long a, const char *acct)
{
	long long cells = (long long)g->accounts * g->regions;
	long long base = g->resources / cells, extra = g->resources % cells;
	long long n, i;
	long r;

	fprintf(g->out, ",\"resources\":{");
	for (r = 0; r < g->regions; r++) {
		n = base + ((long long)a * g->regions + r < extra ? 1 : 0);
		fprintf(g->out, "%s\"%s\":[", r > 0 ? ",\n" : "",
		    regions_standard[r]);
		for (i = 0; i < n; i++)
			gen_resource(g, acct, i == 0);
		fprintf(g->out, "]");
	}
	fprintf(g->out, "}");
}

static void
gen_regions(struct gen *g, long a)
{
	size_t i;

	fprintf(g->out, ",\"regions\":{");
	for (i = 0; i < regions_nstandard; i++)
		fprintf(g->out, "\"%s\":\"enabled\",", regions_standard[i]);
	fprintf(g->out, "\"af-south-1\":\"%s\",\"me-south-1\":\"not-opted-in\"}",
	    a % 4 == 1 ? "opted-in" : "not-opted-in");
}

/* Deterministic base credentials for the management account. */
static void
gen_credentials(struct gen *g)
{
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	uint64_t st = g->seed ^ 0x6372656473ULL;
	char akid[17], secret[41];
	int i;

	for (i = 0; i < 16; i++)
		akid[i] = upper[ids_next(&st) % 32];
	for (i = 0; i < 40; i++)
		secret[i] = b64[ids_next(&st) % 64];
	akid[16] = secret[40] = '\0';
	fprintf(g->out, ",\"management\":true,\"credentials\":{"
	    "\"access_key_id\":\"AKIA%s\",\"secret_access_key\":\"%s\","
	    "\"user\":\"finops-admin\"}", akid, secret);
}

static void
gen_account(struct gen *g, long a)
{
	char id[13], mgmt[13];

	gen_account_id(a, id);
	gen_account_id(0, mgmt);
	fprintf(g->out, "%s{\"id\":\"%s\",\"alias\":\"acct-%03ld\",\"name\":"
	    "\"Account %03ld\",\"email\":\"aws+%03ld@example.com\","
	    "\"org_status\":\"%s\"", a > 0 ? ",\n" : "", id, a, a, a,
	    a > 0 && a % 25 == 24 ? "SUSPENDED" : "ACTIVE");
	if (a == 0)
		gen_credentials(g);
	else
		fprintf(g->out, ",\"roles\":[{\"name\":\"" GEN_ROLE "\","
		    "\"trust\":[\"arn:aws:iam::%s:root\"]}]", mgmt);
	gen_regions(g, a);
	gen_resources(g, a, id);
	fprintf(g->out, "}");
}

/* The shipped policy's keys as an AWS Organizations tag policy. */
static void
gen_organization(struct gen *g)
{
	fprintf(g->out, "\"organization\":{\"id\":\"o-%010" PRIx64 "\","
	    "\"tag_policies\":[{\"id\":\"p-%08" PRIx64 "\",\"name\":"
	    "\"tagwarden-required-tags\",\"targets\":[\"root\"],\"content\":"
	    "{\"tags\":{"
	    "\"Owner\":{\"tag_key\":{\"@@assign\":\"Owner\"}},"
	    "\"Environment\":{\"tag_key\":{\"@@assign\":\"Environment\"},"
	    "\"tag_value\":{\"@@assign\":[\"production\",\"staging\","
	    "\"development\",\"test\"]}},"
	    "\"Application\":{\"tag_key\":{\"@@assign\":\"Application\"}},"
	    "\"CostCenter\":{\"tag_key\":{\"@@assign\":\"CostCenter\"}}"
	    "}}}]},\n", (uint64_t)(g->seed & 0xffffffffffULL),
	    (uint64_t)(g->seed & 0xffffffffULL));
}

int
main(int argc, char **argv)
{
	struct gen g;
	long a;

	gen_options(argc, argv, &g);
	setvbuf(g.out, NULL, _IOFBF, 1 << 20);
	fprintf(g.out, "{\"description\":\"gen-fixture --accounts %ld "
	    "--regions %ld --resources %lld --untagged-fraction %g "
	    "--invalid-fraction %g --seed %" PRIu64 "\",\"version\":1,\n",
	    g.accounts, g.regions, g.resources, g.untagged, g.invalid, g.seed);
	gen_organization(&g);
	fprintf(g.out, "\"accounts\":[\n");
	for (a = 0; a < g.accounts; a++)
		gen_account(&g, a);
	fprintf(g.out, "\n]}\n");
	if (fflush(g.out) != 0 || (g.out != stdout && fclose(g.out) != 0)) {
		perror("gen-fixture: write");
		return 1;
	}
	return 0;
}
